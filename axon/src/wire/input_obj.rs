//! The `bt_header_input_obj_*` placeholders Python sends for required fields.

use super::headers::Headers;
use super::BigInt;
use base64ct::{Base64, Encoding};

/// The header name prefix of a required field's placeholder.
pub(crate) const INPUT_OBJ: &str = "bt_header_input_obj_";

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

/// Standard base64 with padding (Python's `base64.b64encode`).
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// Strict standard base64 with padding, canonical (`None` on anything else): what
/// `base64.b64encode` writes. Python's lenient `b64decode` also takes non-zero padding bits
/// (`e3==`); this refuses them, as bittensor_wallet does.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    Base64::decode_vec(text).ok()
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
        assert_eq!(base64_decode("e3=="), None);
        assert_eq!(base64_decode("ew=="), Some(vec![b'{']));
        assert_eq!(base64_decode("=e30"), None);
        assert_eq!(base64_decode("e30=e30="), None);
        assert_eq!(base64_decode("!!!!"), None);
    }
}
