//! Reading synapse headers: a total, typed `from_headers()` (Python's
//! `parse_headers_to_inputs`).

use super::coerce;
use super::headers::{excerpt, HeaderError, HeaderLimits};
use super::input_obj::{base64_decode, InputObj, INPUT_OBJ};
use super::terminal::TerminalInfo;
use serde::de::DeserializeOwned;
use std::borrow::Cow;

const AXON: &str = "bt_header_axon_";
const DENDRITE: &str = "bt_header_dendrite_";

/// The synapse headers of a request, read but not yet tied to a synapse type: the common
/// fields, both terminals, and the raw `bt_header_input_obj_*` values (decoded on demand by
/// the synapse's fields). Other headers are ignored, as Python ignores them.
///
/// Like Python's `parse_headers_to_inputs`, a missing `timeout`, `header_size`,
/// `total_size` or `computed_body_hash` leaves that field `None`.
///
/// ```
/// use axon::wire::HeaderParts;
///
/// let parts = HeaderParts::from_pairs([
///     ("timeout", &b"12.0"[..]),
///     ("bt_header_dendrite_nonce", b"1700000000000000000"),
///     ("bt_header_input_obj_text", b"IiI="),
///     ("x-anything-else", b"ignored"),
/// ])
/// .unwrap();
/// assert_eq!(parts.timeout, Some(12.0));
/// assert_eq!(parts.dendrite.nonce, Some(1_700_000_000_000_000_000));
/// assert_eq!(parts.input::<String>("text").unwrap(), Some(String::new()));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeaderParts<'a> {
    /// `timeout`.
    pub timeout: Option<f64>,
    /// `header_size`.
    pub header_size: Option<i64>,
    /// `total_size`.
    pub total_size: Option<i64>,
    /// `computed_body_hash`.
    pub computed_body_hash: Option<String>,
    /// `bt_header_dendrite_*`.
    pub dendrite: TerminalInfo,
    /// `bt_header_axon_*`.
    pub axon: TerminalInfo,
    inputs: Vec<(&'a str, &'a str)>,
}

impl<'a> HeaderParts<'a> {
    /// Reads an [`http::HeaderMap`] with the default [`HeaderLimits`].
    pub fn from_map(map: &'a http::HeaderMap) -> Result<Self, HeaderError> {
        Self::from_map_with(map, &HeaderLimits::default())
    }

    /// Reads an [`http::HeaderMap`].
    pub fn from_map_with(
        map: &'a http::HeaderMap,
        limits: &HeaderLimits,
    ) -> Result<Self, HeaderError> {
        Self::from_pairs_with(map.iter().map(|(n, v)| (n.as_str(), v.as_bytes())), limits)
    }

    /// Reads `(name, value)` pairs with the default [`HeaderLimits`].
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Self, HeaderError> {
        Self::from_pairs_with(pairs, &HeaderLimits::default())
    }

    /// Reads `(name, value)` pairs. Names are matched case-insensitively.
    pub fn from_pairs_with(
        pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        limits: &HeaderLimits,
    ) -> Result<Self, HeaderError> {
        let mut parts = HeaderParts::default();
        // Names from an `http::HeaderMap` are lowercase already: borrowed, not copied.
        let mut seen: Vec<Cow<'a, str>> = Vec::new();
        for (name, raw) in pairs {
            let Some(kind) = Kind::of(name) else { continue };
            let lower: Cow<'a, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(name.to_ascii_lowercase())
            } else {
                Cow::Borrowed(name)
            };
            if seen.contains(&lower) {
                return Err(HeaderError::Duplicate {
                    header: lower.into_owned(),
                });
            }
            if raw.len() > limits.max_value_len {
                return Err(HeaderError::TooLong {
                    header: lower.into_owned(),
                    len: raw.len(),
                    max: limits.max_value_len,
                });
            }
            let Ok(value) = std::str::from_utf8(raw) else {
                return Err(HeaderError::NotUtf8 {
                    header: lower.into_owned(),
                });
            };
            let int = |header: &str| {
                coerce::py_int(value).ok_or_else(|| HeaderError::NotAnInteger {
                    header: header.to_owned(),
                    value: excerpt(value),
                })
            };
            match kind {
                Kind::Timeout => {
                    parts.timeout =
                        Some(
                            coerce::py_float(value).ok_or_else(|| HeaderError::NotAFloat {
                                header: lower.to_string(),
                                value: excerpt(value),
                            })?,
                        )
                }
                Kind::HeaderSize => parts.header_size = Some(int(&lower)?),
                Kind::TotalSize => parts.total_size = Some(int(&lower)?),
                Kind::BodyHash => parts.computed_body_hash = Some(value.to_owned()),
                Kind::Axon => parts
                    .axon
                    .set_from_header(&lower[AXON.len()..], value, &lower)?,
                Kind::Dendrite => {
                    parts
                        .dendrite
                        .set_from_header(&lower[DENDRITE.len()..], value, &lower)?
                }
                // `name` is always the synapse's own (pydantic's `set_name_type`); only checked.
                Kind::Name => {}
                Kind::InputObj => parts.inputs.push((&name[INPUT_OBJ.len()..], value)),
            }
            seen.push(lower);
        }
        Ok(parts)
    }

    /// Decodes the `bt_header_input_obj_{field}` header into `T`, or `None` when absent.
    pub fn input<T: DeserializeOwned>(&self, field: &str) -> Result<Option<T>, HeaderError> {
        let Some(&(_, value)) = self
            .inputs
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(field))
        else {
            return Ok(None);
        };
        let header = || format!("{INPUT_OBJ}{field}");
        let json =
            base64_decode(value).ok_or_else(|| HeaderError::NotBase64 { header: header() })?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| HeaderError::BadInputObj {
                header: header(),
                reason: e.to_string(),
            })
    }

    /// Decodes the placeholder of a required field. Absent, it is an error, except for an
    /// `Option` field (Python sends no header for a `None` value; Python's own axon then
    /// answers 400, this one reads `None`).
    pub fn required<T: DeserializeOwned + InputObj>(&self, field: &str) -> Result<T, HeaderError> {
        match self.input(field)? {
            Some(v) => Ok(v),
            None => T::when_absent().ok_or_else(|| HeaderError::Missing {
                header: format!("{INPUT_OBJ}{field}"),
            }),
        }
    }
}

enum Kind {
    Name,
    Timeout,
    HeaderSize,
    TotalSize,
    BodyHash,
    Axon,
    Dendrite,
    InputObj,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        let starts = |prefix: &str| {
            name.len() >= prefix.len()
                && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        };
        let is = |exact: &str| name.eq_ignore_ascii_case(exact);
        Some(if is("name") {
            Kind::Name
        } else if is("timeout") {
            Kind::Timeout
        } else if is("header_size") {
            Kind::HeaderSize
        } else if is("total_size") {
            Kind::TotalSize
        } else if is("computed_body_hash") {
            Kind::BodyHash
        } else if starts(AXON) {
            Kind::Axon
        } else if starts(DENDRITE) {
            Kind::Dendrite
        } else if starts(INPUT_OBJ) {
            Kind::InputObj
        } else {
            return None;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicated_and_bad_headers_are_named() {
        let dup = HeaderParts::from_pairs([("Timeout", &b"1"[..]), ("timeout", b"2")]).unwrap_err();
        assert_eq!(
            dup,
            HeaderError::Duplicate {
                header: "timeout".into()
            }
        );
        let utf = HeaderParts::from_pairs([("bt_header_axon_ip", &[0xff][..])]).unwrap_err();
        assert_eq!(
            utf,
            HeaderError::NotUtf8 {
                header: "bt_header_axon_ip".into()
            }
        );
        let nonce =
            HeaderParts::from_pairs([("bt_header_dendrite_nonce", &b"99999999999999999999"[..])])
                .unwrap_err();
        assert_eq!(nonce.header(), "bt_header_dendrite_nonce");
        let ignored =
            HeaderParts::from_pairs([("bt_header_axon_colour", &b"x"[..]), ("other", &[0xff][..])]);
        assert!(ignored.is_ok());
    }
}
