//! Synapse headers: Python's `to_headers()` and a total, typed `from_headers()`.

use super::terminal::TerminalInfo;
use super::{coerce, BigInt};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::fmt;

/// Headers in the order Python's `Synapse.to_headers()` builds them.
///
/// ```
/// use axon::wire::Headers;
///
/// let mut h = Headers::default();
/// h.push("name", "Echo");
/// assert_eq!(h.get("NAME"), Some("Echo"));
/// let map = h.to_header_map().unwrap();
/// assert_eq!(map["name"], "Echo");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(Cow<'static, str>, String)>);

impl Headers {
    /// Appends a header. Names are usually constants, kept without a copy.
    pub fn push(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of `name` (compared case-insensitively, as HTTP does).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Converts to an [`http::HeaderMap`]. Fails, naming the header, when a value cannot be
    /// sent over HTTP (a control character such as a newline in a status message).
    pub fn to_header_map(&self) -> Result<http::HeaderMap, HeaderError> {
        let mut map = http::HeaderMap::with_capacity(self.0.len());
        for (name, value) in &self.0 {
            let header = || name.to_string();
            let n = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HeaderError::Unsendable { header: header() })?;
            let v = http::HeaderValue::from_str(value)
                .or_else(|_| http::HeaderValue::from_bytes(value.as_bytes()))
                .map_err(|_| HeaderError::Unsendable { header: header() })?;
            map.append(n, v);
        }
        Ok(map)
    }
}

/// The headers in order, by value.
///
/// ```
/// let mut h = axon::wire::Headers::default();
/// h.push("name", "Echo");
/// let pairs: Vec<_> = h.into_iter().collect();
/// assert_eq!(pairs, [("name".into(), "Echo".to_string())]);
/// ```
impl IntoIterator for Headers {
    type Item = (Cow<'static, str>, String);
    type IntoIter = std::vec::IntoIter<(Cow<'static, str>, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Why headers could not be read into a synapse. Every variant names the header.
///
/// ```
/// use axon::wire::{HeaderError, HeaderParts};
///
/// let err = HeaderParts::from_pairs([("timeout", &b"abc"[..])]).unwrap_err();
/// assert_eq!(err, HeaderError::NotAFloat { header: "timeout".into(), value: "abc".into() });
/// assert_eq!(err.to_string(), "header `timeout`: `abc` is not a number (Python's float() refuses it)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// A header the synapse needs is absent.
    Missing { header: String },
    /// A header that must appear once appears more than once.
    Duplicate { header: String },
    /// A header value is not UTF-8.
    NotUtf8 { header: String },
    /// A header value is longer than the limit.
    TooLong {
        header: String,
        len: usize,
        max: usize,
    },
    /// A header that holds an integer does not parse as Python's `int()` would (or does not fit
    /// 64 bits).
    NotAnInteger { header: String, value: String },
    /// A header that holds a float does not parse as Python's `float()` would.
    NotAFloat { header: String, value: String },
    /// A `bt_header_input_obj_*` value is not standard base64.
    NotBase64 { header: String },
    /// A `bt_header_input_obj_*` value is not JSON of the field's type.
    BadInputObj { header: String, reason: String },
    /// A value cannot be sent as an HTTP header (when writing).
    Unsendable { header: String },
}

impl HeaderError {
    /// The header the error is about.
    pub fn header(&self) -> &str {
        match self {
            HeaderError::Missing { header }
            | HeaderError::Duplicate { header }
            | HeaderError::NotUtf8 { header }
            | HeaderError::TooLong { header, .. }
            | HeaderError::NotAnInteger { header, .. }
            | HeaderError::NotAFloat { header, .. }
            | HeaderError::NotBase64 { header }
            | HeaderError::BadInputObj { header, .. }
            | HeaderError::Unsendable { header } => header,
        }
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Missing { header } => write!(f, "header `{header}` is missing"),
            HeaderError::Duplicate { header } => {
                write!(f, "header `{header}` appears more than once")
            }
            HeaderError::NotUtf8 { header } => write!(f, "header `{header}`: value is not UTF-8"),
            HeaderError::TooLong { header, len, max } => {
                write!(
                    f,
                    "header `{header}`: value is {len} bytes, more than the {max} allowed"
                )
            }
            HeaderError::NotAnInteger { header, value } => {
                write!(f, "header `{header}`: `{value}` is not a 64-bit integer (Python's int() in base 10)")
            }
            HeaderError::NotAFloat { header, value } => {
                write!(
                    f,
                    "header `{header}`: `{value}` is not a number (Python's float() refuses it)"
                )
            }
            HeaderError::NotBase64 { header } => {
                write!(f, "header `{header}`: value is not standard base64")
            }
            HeaderError::BadInputObj { header, reason } => {
                write!(
                    f,
                    "header `{header}`: not JSON of the field's type: {reason}"
                )
            }
            HeaderError::Unsendable { header } => {
                write!(
                    f,
                    "header `{header}`: name or value cannot be sent over HTTP"
                )
            }
        }
    }
}

impl std::error::Error for HeaderError {}

/// A short, printable excerpt of a header value for error messages.
pub(crate) fn excerpt(value: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = value
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Limits applied while reading headers.
///
/// ```
/// use axon::wire::{HeaderError, HeaderLimits, HeaderParts};
///
/// let limits = HeaderLimits { max_value_len: 4 };
/// let err = HeaderParts::from_pairs_with([("name", &b"Echo!"[..])], &limits).unwrap_err();
/// assert!(matches!(err, HeaderError::TooLong { len: 5, max: 4, .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderLimits {
    /// The longest value of a synapse header, in bytes (default 8 KiB).
    pub max_value_len: usize,
}

impl Default for HeaderLimits {
    fn default() -> Self {
        HeaderLimits {
            max_value_len: 8 * 1024,
        }
    }
}

const AXON: &str = "bt_header_axon_";
const DENDRITE: &str = "bt_header_dendrite_";
const INPUT_OBJ: &str = "bt_header_input_obj_";

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

/// What Python puts in the `bt_header_input_obj_{field}` header of a required field:
/// `json.dumps(type(value)())`, the JSON of an *empty* value of the field's type (the real
/// value travels in the body).
///
/// ```
/// use axon::wire::InputObj;
///
/// assert_eq!("hello".to_string().input_obj_json(), Some("\"\""));
/// assert_eq!(7i64.input_obj_json(), Some("0"));
/// assert_eq!(vec![1.5].input_obj_json(), Some("[]"));
/// assert_eq!(None::<String>.input_obj_json(), None); // Python sends no header for None
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a required synapse field: Python sends an empty `{Self}` in a `bt_header_input_obj_*` header",
    label = "no `bt_header_input_obj_*` placeholder for `{Self}`",
    note = "give the field a default with `#[default]` or `#[default(expr)]`, or implement `axon::wire::InputObj` for the type"
)]
pub trait InputObj {
    /// `json.dumps(type(self)())`, or `None` when the value is Python's `None` (no header).
    fn input_obj_json(&self) -> Option<&'static str>;

    /// The value of a required field whose header is absent; `None` makes it an error.
    fn when_absent() -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

macro_rules! input_obj {
    ($json:literal: $($ty:ty),*) => {$(
        impl InputObj for $ty {
            fn input_obj_json(&self) -> Option<&'static str> { Some($json) }
        }
    )*};
}
input_obj!("\"\"": String, Box<str>);
input_obj!("0": i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, BigInt);
input_obj!("0.0": f32, f64);
input_obj!("false": bool);
input_obj!("{}": serde_json::Map<String, serde_json::Value>);

impl<T> InputObj for Vec<T> {
    fn input_obj_json(&self) -> Option<&'static str> {
        Some("[]")
    }
}

impl<T> InputObj for std::collections::VecDeque<T> {
    fn input_obj_json(&self) -> Option<&'static str> {
        Some("[]")
    }
}

impl<K, V, S> InputObj for indexmap::IndexMap<K, V, S> {
    fn input_obj_json(&self) -> Option<&'static str> {
        Some("{}")
    }
}

impl<T: InputObj> InputObj for Option<T> {
    fn input_obj_json(&self) -> Option<&'static str> {
        self.as_ref().and_then(T::input_obj_json)
    }
    fn when_absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: InputObj> InputObj for Box<T> {
    fn input_obj_json(&self) -> Option<&'static str> {
        (**self).input_obj_json()
    }
}

impl InputObj for serde_json::Value {
    fn input_obj_json(&self) -> Option<&'static str> {
        use serde_json::Value;
        match self {
            Value::Null => None,
            Value::Bool(_) => Some("false"),
            Value::Number(n) if n.is_f64() => Some("0.0"),
            Value::Number(_) => Some("0"),
            Value::String(_) => Some("\"\""),
            Value::Array(_) => Some("[]"),
            Value::Object(_) => Some("{}"),
        }
    }
}

// No tuples: the placeholder `[]` never parses back into a fixed-size tuple (pydantic's
// `tuple[int, str]` refuses it too), so a required tuple field could never be served. Give
// tuple fields a default.

/// Collects the `bt_header_input_obj_*` headers of a synapse's required fields.
#[derive(Debug)]
pub struct InputObjs<'h> {
    headers: &'h mut Headers,
}

impl<'h> InputObjs<'h> {
    pub(crate) fn new(headers: &'h mut Headers) -> Self {
        InputObjs { headers }
    }

    /// Adds the placeholder header of a required field (none when its value is `None`).
    pub fn field<T: InputObj + ?Sized>(&mut self, name: &str, value: &T) {
        if let Some(json) = value.input_obj_json() {
            self.headers
                .push(format!("{INPUT_OBJ}{name}"), base64_encode(json.as_bytes()));
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Python's `base64.b64encode`).
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Strict standard base64 with padding; `None` on anything else.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            let v = B64.iter().position(|&b| b == c)? as u32;
            n = (n << 6) | v;
        }
        n <<= 6 * pad as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_python_for_the_placeholders() {
        for (json, b64) in [
            ("\"\"", "IiI="),
            ("0", "MA=="),
            ("0.0", "MC4w"),
            ("false", "ZmFsc2U="),
            ("[]", "W10="),
            ("{}", "e30="),
        ] {
            assert_eq!(base64_encode(json.as_bytes()), b64);
            assert_eq!(base64_decode(b64).unwrap(), json.as_bytes());
        }
        assert_eq!(base64_decode("e30"), None);
        assert_eq!(base64_decode("e3=="), Some(vec![b'{']));
        assert_eq!(base64_decode("=e30"), None);
        assert_eq!(base64_decode("e30=e30="), None);
        assert_eq!(base64_decode("!!!!"), None);
    }

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
