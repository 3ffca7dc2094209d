//! Python's `str()` and `repr()`, reproduced for Rust values.
//!
//! The body hash of a synapse is computed over `str(value)` of each hashed field as
//! pydantic's `model_dump()` returns it, so a Rust value must render exactly like the
//! Python value it becomes: `0.1`, `1e-05`, `True`, `None`, `[1, 'a']`, `{'k': (1,)}`.

mod float;
mod nonprintable;

pub(crate) use float::{widen_f32, write_float, FloatStyle};

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

/// Renders a value as Python's `str()` and `repr()` would render the value it becomes in
/// Python (after pydantic's `model_dump()`).
///
/// `py_str` is what the body hash uses for a field; `py_repr` is what containers use for
/// their elements (strings are quoted there). Implement `py_repr`; override `py_str` only
/// when the two differ (as they do for strings).
///
/// Provided for strings, every integer type, [`BigInt`](crate::wire::BigInt), `f32`/`f64`,
/// `bool`, `Option` (`None`), `Vec`/slices/arrays (lists), tuples, `IndexMap` and
/// `serde_json::Map` (dicts, in insertion order), `serde_json::Value`, and structs marked
/// [`#[model]`](crate::model) (rendered as the dict `model_dump()` makes of them).
///
/// `HashMap` and `BTreeMap` are deliberately missing: Python dicts keep the order the JSON
/// body gave them, and a hash over any other order would not match the sender's.
///
/// ```
/// use axon::PyStr;
///
/// assert_eq!(0.1f64.to_py_str(), "0.1");
/// assert_eq!(1e-5f64.to_py_str(), "1e-05");
/// assert_eq!(vec![Some(1), None].to_py_str(), "[1, None]");
/// assert_eq!(("it's", 2.0).to_py_str(), r#"("it's", 2.0)"#);
///
/// // Your own type: render what Python would hold for it.
/// struct Celsius(f64);
/// impl PyStr for Celsius {
///     fn py_repr(&self, out: &mut String) {
///         self.0.py_repr(out)
///     }
/// }
/// assert_eq!(vec![Celsius(21.5)].to_py_str(), "[21.5]");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be rendered like Python's `str()`, so it cannot be hashed",
    label = "no Python `str()` rendering for `{Self}`",
    note = "hashed synapse fields need `axon::PyStr`: strings, integers, floats, bool, Option, Vec, tuples, `indexmap::IndexMap`, `serde_json::Value` and `#[axon::model]` structs",
    note = "`HashMap`/`BTreeMap` lose the order of the JSON body that Python hashes: use `indexmap::IndexMap`; for a type of your own, implement `axon::PyStr`"
)]
pub trait PyStr {
    /// Appends Python's `repr()` of the value (the form used inside containers).
    fn py_repr(&self, out: &mut String);

    /// Appends Python's `str()` of the value. Defaults to [`PyStr::py_repr`].
    fn py_str(&self, out: &mut String) {
        self.py_repr(out)
    }

    /// Python's `str()` of the value as a new `String`.
    ///
    /// ```
    /// use axon::PyStr;
    /// assert_eq!("don't".to_py_str(), "don't");
    /// assert_eq!(vec!["don't"].to_py_str(), r#"["don't"]"#);
    /// ```
    fn to_py_str(&self) -> String {
        let mut out = String::new();
        self.py_str(&mut out);
        out
    }

    /// The value's `str()` when it is already held as text (strings), so the body hash can
    /// read it in place instead of copying it. `None` for everything else.
    #[doc(hidden)]
    fn as_py_str(&self) -> Option<&str> {
        None
    }
}

/// Appends Python's `repr()` of a string: the quote Python picks, its escapes, and non-ASCII
/// kept when Python considers it printable.
///
/// ```
/// let mut out = String::new();
/// axon::wire::repr_str("tab\there \u{a0}é", &mut out);
/// assert_eq!(out, r"'tab\there \xa0é'");
/// ```
pub fn repr_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.reserve(s.len() + 2);
    out.push(quote);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x7f => out.push(c),
            c if is_printable(c) => out.push(c),
            c => {
                let cp = c as u32;
                let _ = if cp <= 0xff {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xffff {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one non-ASCII character (see `scripts/gen_printable.py`).
fn is_printable(c: char) -> bool {
    let cp = c as u32;
    nonprintable::NONPRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

/// The Unicode version whose printable characters `repr` keeps unescaped (CPython 3.11's).
///
/// ```
/// assert_eq!(axon::wire::PY_UNICODE_VERSION, "14.0.0");
/// ```
pub const PY_UNICODE_VERSION: &str = nonprintable::UNICODE_VERSION;

impl PyStr for str {
    fn py_repr(&self, out: &mut String) {
        repr_str(self, out)
    }
    fn py_str(&self, out: &mut String) {
        out.push_str(self)
    }
    fn as_py_str(&self) -> Option<&str> {
        Some(self)
    }
}

macro_rules! delegate {
    ($($ty:ty),*) => {$(
        impl<T: PyStr + ?Sized> PyStr for $ty {
            fn py_repr(&self, out: &mut String) { (**self).py_repr(out) }
            fn py_str(&self, out: &mut String) { (**self).py_str(out) }
            fn as_py_str(&self) -> Option<&str> { (**self).as_py_str() }
        }
    )*};
}
delegate!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

impl PyStr for String {
    fn py_repr(&self, out: &mut String) {
        repr_str(self, out)
    }
    fn py_str(&self, out: &mut String) {
        out.push_str(self)
    }
    fn as_py_str(&self) -> Option<&str> {
        Some(self)
    }
}

impl PyStr for Cow<'_, str> {
    fn py_repr(&self, out: &mut String) {
        repr_str(self, out)
    }
    fn py_str(&self, out: &mut String) {
        out.push_str(self)
    }
    fn as_py_str(&self) -> Option<&str> {
        Some(self)
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl PyStr for $ty {
            fn py_repr(&self, out: &mut String) { let _ = write!(out, "{self}"); }
        }
    )*};
}
integers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl PyStr for f64 {
    fn py_repr(&self, out: &mut String) {
        write_float(out, *self, FloatStyle::Repr)
    }
}

impl PyStr for f32 {
    fn py_repr(&self, out: &mut String) {
        write_float(out, widen_f32(*self), FloatStyle::Repr)
    }
}

impl PyStr for bool {
    fn py_repr(&self, out: &mut String) {
        out.push_str(if *self { "True" } else { "False" })
    }
}

impl<T: PyStr> PyStr for Option<T> {
    fn py_repr(&self, out: &mut String) {
        match self {
            Some(v) => v.py_repr(out),
            None => out.push_str("None"),
        }
    }
    fn py_str(&self, out: &mut String) {
        match self {
            Some(v) => v.py_str(out),
            None => out.push_str("None"),
        }
    }
}

/// Appends a Python list of the items' reprs: `[a, b]`.
fn write_list<'a, T: PyStr + 'a>(items: impl IntoIterator<Item = &'a T>, out: &mut String) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.py_repr(out);
    }
    out.push(']');
}

impl<T: PyStr> PyStr for [T] {
    fn py_repr(&self, out: &mut String) {
        write_list(self, out)
    }
}

impl<T: PyStr, const N: usize> PyStr for [T; N] {
    fn py_repr(&self, out: &mut String) {
        write_list(self, out)
    }
}

impl<T: PyStr> PyStr for Vec<T> {
    fn py_repr(&self, out: &mut String) {
        write_list(self, out)
    }
}

impl<T: PyStr> PyStr for VecDeque<T> {
    fn py_repr(&self, out: &mut String) {
        write_list(self, out)
    }
}

/// Appends a Python dict of the entries' reprs: `{'k': v}`.
pub(crate) fn write_dict<'a, K, V>(
    entries: impl IntoIterator<Item = (&'a K, &'a V)>,
    out: &mut String,
) where
    K: PyStr + ?Sized + 'a,
    V: PyStr + ?Sized + 'a,
{
    out.push('{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        k.py_repr(out);
        out.push_str(": ");
        v.py_repr(out);
    }
    out.push('}');
}

/// Writes `{'name': repr, ...}` for a model's fields.
pub fn write_dict_entries(out: &mut String, fields: &[(&str, &dyn PyStr)]) {
    write_dict(fields.iter().map(|(k, v)| (k, *v)), out)
}

impl<K: PyStr, V: PyStr, S> PyStr for indexmap::IndexMap<K, V, S> {
    fn py_repr(&self, out: &mut String) {
        write_dict(self, out)
    }
}

impl PyStr for serde_json::Map<String, serde_json::Value> {
    fn py_repr(&self, out: &mut String) {
        write_dict(self, out)
    }
}

impl PyStr for serde_json::Value {
    fn py_repr(&self, out: &mut String) {
        use serde_json::Value;
        match self {
            Value::Null => out.push_str("None"),
            Value::Bool(b) => b.py_repr(out),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    i.py_repr(out)
                } else if let Some(u) = n.as_u64() {
                    u.py_repr(out)
                } else {
                    n.as_f64().unwrap_or(f64::NAN).py_repr(out)
                }
            }
            Value::String(s) => s.py_repr(out),
            Value::Array(items) => write_list(items, out),
            Value::Object(map) => write_dict(map, out),
        }
    }
    fn py_str(&self, out: &mut String) {
        match self {
            serde_json::Value::String(s) => out.push_str(s),
            other => other.py_repr(out),
        }
    }
}

macro_rules! tuples {
    ($( ($($name:ident : $idx:tt),+) )*) => {$(
        impl<$($name: PyStr),+> PyStr for ($($name,)+) {
            fn py_repr(&self, out: &mut String) {
                out.push('(');
                let mut _first = true;
                $(
                    if !_first { out.push_str(", "); }
                    _first = false;
                    self.$idx.py_repr(out);
                )+
                if tuples!(@one $($name)+) { out.push(','); }
                out.push(')');
            }
        }
    )*};
    (@one $a:ident) => { true };
    (@one $a:ident $($rest:ident)+) => { false };
}
tuples! {
    (A: 0)
    (A: 0, B: 1)
    (A: 0, B: 1, C: 2)
    (A: 0, B: 1, C: 2, D: 3)
    (A: 0, B: 1, C: 2, D: 3, E: 4)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6, H: 7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(s: &str) -> String {
        let mut out = String::new();
        repr_str(s, &mut out);
        out
    }

    #[test]
    fn string_repr_picks_quotes_like_python() {
        assert_eq!(repr("abc"), "'abc'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("both ' and \""), "'both \\' and \"'");
        assert_eq!(repr("back\\slash"), "'back\\\\slash'");
        assert_eq!(repr("\u{0}\u{1f}\u{7f}"), "'\\x00\\x1f\\x7f'");
        assert_eq!(
            repr("\u{200b}\u{3000}\u{10ffff}"),
            "'\\u200b\\u3000\\U0010ffff'"
        );
        assert_eq!(repr("é😀"), "'é😀'");
    }

    #[test]
    fn containers_nest_reprs() {
        let v: Vec<(i32,)> = vec![(1,)];
        assert_eq!(v.to_py_str(), "[(1,)]");
        assert_eq!(Vec::<i32>::new().to_py_str(), "[]");
        let mut m = indexmap::IndexMap::new();
        m.insert("z".to_string(), vec![1.5]);
        m.insert("a".to_string(), vec![]);
        assert_eq!(m.to_py_str(), "{'z': [1.5], 'a': []}");
        assert_eq!(Some("x").to_py_str(), "x");
        assert_eq!(vec![Some("x")].to_py_str(), "['x']");
    }

    #[test]
    fn json_values_render_as_their_python_objects() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"b": [1, 1.0, null, true, "s"], "a": {}}"#).unwrap();
        assert_eq!(v.to_py_str(), "{'b': [1, 1.0, None, True, 's'], 'a': {}}");
    }
}
