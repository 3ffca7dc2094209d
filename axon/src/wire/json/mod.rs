//! Synapse JSON: what pydantic's `model_dump_json()` writes and `model_validate` accepts.

mod write;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// Serializes like pydantic's `model_dump_json()`.
///
/// ```
/// assert_eq!(axon::wire::to_json(&(0.1f32, "é")).unwrap(), r#"[0.1,"é"]"#.as_bytes());
/// ```
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JsonError> {
    to_json_sized(value, 512)
}

/// [`to_json`] into a buffer of `capacity` bytes to start with, for a caller that can
/// guess the size (an answer is usually about as large as its request, or twice).
pub(crate) fn to_json_sized<T: Serialize + ?Sized>(
    value: &T,
    capacity: usize,
) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::with_capacity(capacity);
    write::write(&mut out, value).map_err(JsonError)?;
    Ok(out)
}

/// Parses JSON text (from `json.dumps` or `model_dump_json`) into `T`.
///
/// ```
/// let v: Vec<f64> = axon::wire::from_json(b"[1e-05, 1]").unwrap();
/// assert_eq!(v, [1e-5, 1.0]);
/// let err = axon::wire::from_json::<Vec<f64>>(b"[1,").unwrap_err();
/// assert_eq!(err.to_string(), "invalid synapse JSON: EOF while parsing a value at line 1 column 3");
/// ```
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    serde_json::from_slice(bytes).map_err(JsonError)
}

/// Whether the JSON text `bytes` nests arrays and objects deeper than `max` levels, found
/// by one scan of the bytes before any parsing, so a deeply nested body costs its length
/// and nothing more. Text that is not JSON is not judged here: the parser refuses it.
///
/// Strings are skipped with `memchr` to their closing quote (or next backslash), not byte
/// by byte: a body is mostly string, and the byte loop alone was a fifth of a 1 MB
/// request's CPU (issue 22).
pub fn nested_deeper_than(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' => i = after_string(bytes, i),
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The index just past the string whose contents start at `i` (past its closing quote;
/// the end of `bytes` when it has none). A backslash escapes the byte after it.
fn after_string(bytes: &[u8], mut i: usize) -> usize {
    loop {
        match memchr::memchr2(b'"', b'\\', bytes.get(i..).unwrap_or_default()) {
            None => return bytes.len(),
            Some(at) if bytes[i + at] == b'"' => return i + at + 1,
            Some(at) => i += at + 2,
        }
    }
}

/// A synapse body that does not parse (or a value that cannot be written as JSON).
#[derive(Debug)]
pub struct JsonError(pub(in crate::wire) serde_json::Error);

impl JsonError {
    /// The line and column of the error in the input (1-based), when parsing.
    pub fn position(&self) -> (usize, usize) {
        (self.0.line(), self.0.column())
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid synapse JSON: {}", self.0)
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{from_json, nested_deeper_than, to_json};

    #[test]
    fn floats_are_written_in_pydantics_layout() {
        let out = to_json(&vec![1e-5, 1e16, 2.0, f64::NAN]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[0.00001,1e+16,2.0,null]");
    }

    #[test]
    fn strings_do_not_count_as_nesting() {
        assert!(!nested_deeper_than(br#"{"a": [[1]], "b": "[[[["}"#, 3));
        assert!(nested_deeper_than(br#"{"a": [[[1]]]}"#, 3));
    }
    use crate::PyStr;

    #[test]
    fn floats_parse_correctly_rounded_as_python_does() {
        // Found by fuzzing: serde_json's default float parser may land one ULP off, and
        // the body hash, over Python's str() of the value, then no longer matches the one
        // the dendrite signed. Python 3: str(json.loads("1.7953862697246314e+308")) ==
        // "1.7953862697246313e+308" (serde_json's default gave ...315).
        let x: f64 = from_json(b"1.7953862697246314e+308").unwrap();
        assert_eq!(x.to_py_str(), "1.7953862697246313e+308");
        let x: f64 = from_json(b"2.2250738585072011e-308").unwrap();
        assert_eq!(x, "2.2250738585072011e-308".parse::<f64>().unwrap());
    }

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert!(!nested_deeper_than(b"", 0));
        assert!(!nested_deeper_than(b"1", 0));
        assert!(nested_deeper_than(b"[]", 0));
        assert!(!nested_deeper_than(b"[[],{},[{}]]", 3));
        assert!(!nested_deeper_than(b"[[],{},[{}]]", 3));
        assert!(nested_deeper_than(b"[[],{},[{[]}]]", 3));
        // Brackets inside strings, escaped quotes included, do not count.
        assert!(!nested_deeper_than(br#"["[[[", "\"[[[", "\\"]"#, 1));
        assert!(nested_deeper_than(br#"["\\", [[]]]"#, 2));
        // A string that never closes, or ends in a lone backslash, hides what follows.
        assert!(!nested_deeper_than(b"\"[[", 0));
        assert!(!nested_deeper_than(b"\"ab\\", 0));
        assert!(!nested_deeper_than(b"\"ab\\\"[[", 0));
        assert!(nested_deeper_than(b"\"ab\\\\\"[[", 1));
        // Depth is the greatest, not the total: siblings do not add up.
        let wide = "[".to_owned() + &"[],".repeat(1000) + "[]]";
        assert!(!nested_deeper_than(wide.as_bytes(), 2));
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(nested_deeper_than(deep.as_bytes(), 128));
    }
}
