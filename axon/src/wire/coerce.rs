//! Python's `int()` and `float()` on text, and the lax serde readers built on them.
//!
//! Pydantic runs `cast_int` / `cast_float` (`int(raw)`, `float(raw)`) before validating the
//! common synapse fields and every [`TerminalInfo`](crate::TerminalInfo) number, so those
//! accept `"8091"` from a header and `12` or `"12.0"` from a JSON body alike. These functions
//! reproduce that, limited to what fits an `i64` / `f64`.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Python's whitespace within ASCII (what `int()` and `float()` strip).
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

fn strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_py_space(c as u8))
}

/// Removes the underscores Python allows between digits; `None` when one is misplaced.
fn without_underscores(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !s.contains('_') {
        return Some(s.into());
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let before = i.checked_sub(1).map(|j| bytes[j].is_ascii_digit());
            let after = bytes.get(i + 1).map(u8::is_ascii_digit);
            if before != Some(true) || after != Some(true) {
                return None;
            }
        } else {
            out.push(b as char);
        }
    }
    Some(out.into())
}

/// Python's `int(text)` in base 10, when the result fits an `i64`.
///
/// ```
/// use axon::wire::coerce::py_int;
/// assert_eq!(py_int(" +1_000 "), Some(1000));
/// assert_eq!(py_int("-0"), Some(0));
/// assert_eq!(py_int("1.5"), None);
/// assert_eq!(py_int("0x10"), None);
/// assert_eq!(py_int("99999999999999999999"), None); // valid in Python, too big here
/// ```
pub fn py_int(text: &str) -> Option<i64> {
    let s = strip(text);
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let digits = without_underscores(digits)?;
    let magnitude: u64 = digits.parse().ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Python's `float(text)`.
///
/// ```
/// use axon::wire::coerce::py_float;
/// assert_eq!(py_float("12.0"), Some(12.0));
/// assert_eq!(py_float(" 1_0.5e1 "), Some(105.0));
/// assert_eq!(py_float("-Infinity"), Some(f64::NEG_INFINITY));
/// assert!(py_float("nan").unwrap().is_nan());
/// assert_eq!(py_float("abc"), None);
/// assert_eq!(py_float("1__0"), None);
/// ```
pub fn py_float(text: &str) -> Option<f64> {
    let s = strip(text);
    if s.is_empty() {
        return None;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return s.parse().ok();
    }
    // Rust's parser accepts exactly Python's finite forms once underscores are gone:
    // digits, '.', and an exponent, with an optional sign.
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    without_underscores(s)?.parse().ok()
}

/// Reads an optional integer the way pydantic's `cast_int` does: `null`, an int, a float
/// (truncated, like `int(12.7)`), a bool, or text that Python's `int()` takes.
///
/// Use it as `#[serde(deserialize_with = "axon::wire::coerce::opt_int")]`.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Port {
///     #[serde(deserialize_with = "axon::wire::coerce::opt_int")]
///     port: Option<i64>,
/// }
/// let p: Port = serde_json::from_str(r#"{"port": "8091"}"#).unwrap();
/// assert_eq!(p.port, Some(8091));
/// ```
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(LaxInt)
}

/// Reads an optional float the way pydantic's `cast_float` does: `null`, a number, a bool,
/// or text that Python's `float()` takes.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct T {
///     #[serde(deserialize_with = "axon::wire::coerce::opt_float")]
///     timeout: Option<f64>,
/// }
/// let t: T = serde_json::from_str(r#"{"timeout": "12"}"#).unwrap();
/// assert_eq!(t.timeout, Some(12.0));
/// ```
pub fn opt_float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(LaxFloat)
}

struct LaxInt;

impl<'de> Visitor<'de> for LaxInt {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null, an integer that fits 64 bits, or text Python's int() accepts")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(i64::from(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format!("integer {v} does not fit 64 bits")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        let t = v.trunc();
        if t.is_finite() && t >= i64::MIN as f64 && t < i64::MAX as f64 {
            Ok(Some(t as i64))
        } else {
            Err(E::custom(format!("cannot convert float {v} to an integer")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        py_int(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("invalid literal for int() with base 10: {v:?}")))
    }
}

struct LaxFloat;

impl<'de> Visitor<'de> for LaxFloat {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null, a number, or text Python's float() accepts")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(if v { 1.0 } else { 0.0 }))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        py_float(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("could not convert string to float: {v:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_follows_python_syntax() {
        for (text, want) in [
            ("0", Some(0)),
            ("  42\t", Some(42)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("1_000_000", Some(1_000_000)),
            ("_1", None),
            ("1_", None),
            ("", None),
            ("-", None),
            ("+-1", None),
            ("١", None),
            ("1e3", None),
        ] {
            assert_eq!(py_int(text), want, "int({text:?})");
        }
    }

    #[test]
    fn float_follows_python_syntax() {
        for (text, want) in [
            ("1", Some(1.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1E-3", Some(0.001)),
            ("+inf", Some(f64::INFINITY)),
            ("iNfInItY", Some(f64::INFINITY)),
            ("1_0", Some(10.0)),
            ("1._0", None),
            ("0x1p3", None),
            ("infinit", None),
            ("None", None),
        ] {
            assert_eq!(py_float(text), want, "float({text:?})");
        }
    }
}
