//! Synapse headers as Python's `to_headers()` writes them, and the typed errors of reading
//! them ([`parts`](super::parts) reads them).

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
