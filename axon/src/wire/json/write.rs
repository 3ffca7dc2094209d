//! The JSON writer behind [`to_json`](super::to_json): the bytes `serde_json` writes,
//! compact, with pydantic's float layout (`0.00001`, `1e-6`, `1e+16`, `1.0`, non-finite
//! floats as `null`) and non-ASCII text unescaped, but with strings escaped a chunk at a
//! time.
//!
//! `serde_json` looks each byte of a string up in its escape table, one at a time: for
//! a 1 MB answer that loop was 13% of the request's CPU (issue 22's profile). Here a
//! string is scanned 32 bytes at a time (a fold the compiler turns into vector compares)
//! and copied in runs; the bytes written are the same, which the tests check against
//! `serde_json` for every shape of the serde data model.

use super::super::pystr::{widen_f32, write_float, FloatStyle};
use serde::ser::{self, Error as _, Serialize};

/// The error of a value that cannot be written (a map key that is not a string).
type Error = serde_json::Error;

/// The struct name by which `serde_json::value::RawValue` asks to be written verbatim
/// (`BigInt` uses it for integers past 128 bits).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Writes `value` as compact JSON at the end of `out`.
pub(crate) fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Writer { out })
}

/// The serializer: appends to one buffer.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// Whether `b` cannot appear in a JSON string as itself.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` as a JSON string: `"`, `\\`, and control characters escaped as `serde_json`
/// escapes them (short forms where JSON has one, else `\u00xx`), everything else as is.
fn write_str(out: &mut Vec<u8>, s: &str) {
    const CHUNK: usize = 32;
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = (i + CHUNK).min(bytes.len());
        let chunk = &bytes[i..end];
        if chunk
            .iter()
            .fold(false, |dirty, &b| dirty | needs_escape(b))
        {
            for (at, &b) in chunk.iter().enumerate() {
                if needs_escape(b) {
                    out.extend_from_slice(&bytes[run..i + at]);
                    write_escape(out, b);
                    run = i + at + 1;
                }
            }
        }
        i = end;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Appends the escape of one byte that [`needs_escape`].
fn write_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            let hex = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex[0], hex[1]]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// Appends a finite float in pydantic's layout; `null` for NaN and the infinities.
fn write_f64(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let mut text = String::with_capacity(24);
    write_float(&mut text, value, FloatStyle::Pydantic);
    out.extend_from_slice(text.as_bytes());
}

/// Appends an integer's digits.
fn write_int(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// `serialize_i8` to `serialize_u128`, each handing its value to `self.$write`.
macro_rules! integers {
    ($write:ident) => {
        integers!(@ $write, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
            serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
            serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    };
    (@ $write:ident, $($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.$write(v)
        }
    )*};
}

impl Writer<'_> {
    fn int(&mut self, value: impl itoa::Integer) -> Result<(), Error> {
        write_int(self.out, value);
        Ok(())
    }
}

impl<'a, 'b> ser::Serializer for &'a mut Writer<'b> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'b>;
    type SerializeTuple = Compound<'a, 'b>;
    type SerializeTupleStruct = Compound<'a, 'b>;
    type SerializeTupleVariant = Compound<'a, 'b>;
    type SerializeMap = Compound<'a, 'b>;
    type SerializeStruct = Compound<'a, 'b>;
    type SerializeStructVariant = Compound<'a, 'b>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(int);
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        write_f64(self.out, widen_f32(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write_f64(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.out.push(b'[');
        for (i, &b) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_int(self.out, b);
        }
        self.out.push(b']');
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a, 'b>, Error> {
        self.out.push(b'[');
        Ok(Compound::new(self, b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound::new(self, b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a, 'b>, Error> {
        self.out.push(b'{');
        Ok(Compound::new(self, b"}"))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'a, 'b>, Error> {
        if name == RAW_VALUE_TOKEN {
            return Ok(Compound {
                raw: true,
                ..Compound::new(self, b"")
            });
        }
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'b>, Error> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound::new(self, b"}}"))
    }
}

/// An array, object or struct being written: separators between its members, `close`
/// after the last. `raw` is a `RawValue`, whose one field is written verbatim.
struct Compound<'a, 'b> {
    writer: &'a mut Writer<'b>,
    first: bool,
    close: &'static [u8],
    raw: bool,
}

impl<'a, 'b> Compound<'a, 'b> {
    fn new(writer: &'a mut Writer<'b>, close: &'static [u8]) -> Self {
        Compound {
            writer,
            first: true,
            close,
            raw: false,
        }
    }

    /// The comma before every member but the first.
    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.writer.out.push(b',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.separate();
        value.serialize(&mut *self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        if self.raw {
            return value.serialize(Key {
                out: self.writer.out,
                verbatim: true,
            });
        }
        self.separate();
        write_str(self.writer.out, key);
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        self.writer.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// The array-like compounds: each member is an element.
macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self)
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.separate();
        key.serialize(Key {
            out: self.writer.out,
            verbatim: false,
        })?;
        self.writer.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), Error> {
        Compound::end(self)
    }
}

/// The struct-like compounds: each member is a named field.
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.field(key, value)
            }
            fn end(self) -> Result<(), Error> {
                Compound::end(self)
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

/// A map key: JSON keys are strings, so numbers, booleans and finite floats are written
/// quoted and anything else is an error, as `serde_json` does. `verbatim`, it is instead
/// the JSON text of a `RawValue`, written as it is.
struct Key<'a> {
    out: &'a mut Vec<u8>,
    verbatim: bool,
}

impl Key<'_> {
    fn quoted(self, text: &[u8]) -> Result<(), Error> {
        self.out.push(b'"');
        self.out.extend_from_slice(text);
        self.out.push(b'"');
        Ok(())
    }

    fn int(self, value: impl itoa::Integer) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(value).as_bytes())
    }

    fn float(self, value: f64) -> Result<(), Error> {
        if !value.is_finite() {
            return Err(Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.out.push(b'"');
        write_f64(self.out, value);
        self.out.push(b'"');
        Ok(())
    }
}

/// The error of a key that is not a string.
fn not_a_key() -> Error {
    Error::custom("key must be a string")
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.quoted(if v { b"true" } else { b"false" })
    }
    integers!(int);
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(widen_f32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        match self.verbatim {
            true => self.out.extend_from_slice(v.as_bytes()),
            false => write_str(self.out, v),
        }
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_key())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;
    use std::collections::BTreeMap;
    use std::io;

    /// `serde_json`'s compact writer with pydantic's floats: the writer this module
    /// replaced, and the reference its output is compared with.
    struct PydanticFormatter;

    impl serde_json::ser::Formatter for PydanticFormatter {
        fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
            let mut text = String::with_capacity(24);
            write_float(&mut text, value, FloatStyle::Pydantic);
            w.write_all(text.as_bytes())
        }

        fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
            self.write_f64(w, widen_f32(value))
        }
    }

    /// What `serde_json` writes with pydantic's float layout: the reference.
    fn reference<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, PydanticFormatter);
        match value.serialize(&mut ser) {
            Ok(()) => Ok(String::from_utf8(out).unwrap()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn ours<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
        let mut out = Vec::new();
        match write(&mut out, value) {
            Ok(()) => Ok(String::from_utf8(out).unwrap()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[track_caller]
    fn same<T: Serialize + ?Sized>(value: &T) {
        assert_eq!(ours(value), reference(value));
    }

    #[test]
    fn every_ascii_byte_is_escaped_as_serde_json_does_at_every_position() {
        for b in 0u8..=0x7f {
            let c = char::from(b);
            for len in [0, 1, 31, 32, 33, 63, 64, 65, 100] {
                for at in [0, len / 2, len] {
                    let mut s: String = "a".repeat(len);
                    s.insert(at, c);
                    s.push('é');
                    same(&s);
                    same(&c);
                }
            }
        }
        same("\u{2028}\u{7f}\u{0}\"\\\u{1f}ü😀");
    }

    /// Every shape of the serde data model, nested.
    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(i32),
        Tuple(u8, String),
        Struct { a: Option<f32>, b: Vec<Shape> },
    }

    #[derive(Serialize)]
    struct UnitStruct;

    #[derive(Serialize)]
    struct Newtype(String);

    #[derive(Serialize)]
    struct TupleStruct(i64, (), bool);

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum KeyVariant {
        First,
    }

    #[derive(Serialize)]
    struct Everything {
        bools: (bool, bool),
        ints: (i8, i16, i32, i64, i128, u8, u16, u32, u64, u128),
        extremes: (i64, u64, i128, u128),
        floats: Vec<f64>,
        singles: Vec<f32>,
        chars: Vec<char>,
        unit: (),
        unit_struct: UnitStruct,
        newtype: Newtype,
        tuple_struct: TupleStruct,
        shapes: Vec<Shape>,
        none: Option<String>,
        empty: (Vec<u8>, BTreeMap<String, u8>, Vec<Shape>),
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        #[serde(rename = "quote\"d")]
        renamed: u8,
        int_keys: BTreeMap<i32, u8>,
        bool_keys: BTreeMap<bool, u8>,
        char_keys: BTreeMap<char, u8>,
        variant_keys: BTreeMap<KeyVariant, u8>,
        raw: Box<serde_json::value::RawValue>,
        big: crate::wire::BigInt,
    }

    /// Raw bytes (what `serde_bytes` gives), which `serde_json` writes as an array.
    struct Bytes(&'static [u8]);

    impl Serialize for Bytes {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    /// A map with one key of type `K`.
    struct OneKey<K>(K);

    impl<K: Serialize> Serialize for OneKey<K> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use ser::SerializeMap;
            let mut map = s.serialize_map(Some(1))?;
            map.serialize_entry(&self.0, &1)?;
            map.end()
        }
    }

    #[test]
    fn every_shape_of_the_data_model_is_written_as_serde_json_writes_it() {
        let everything = Everything {
            bools: (true, false),
            ints: (-8, -16, -32, -64, -128, 8, 16, 32, 64, 128),
            extremes: (i64::MIN, u64::MAX, i128::MIN, u128::MAX),
            floats: vec![
                0.0,
                -0.0,
                1.0,
                0.1,
                1e-5,
                1e-6,
                1e16,
                1e15,
                -2.5e-300,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::MAX,
                f64::MIN_POSITIVE,
            ],
            singles: vec![0.1, 1e-7, 3.4e38, f32::NAN],
            chars: vec!['a', '"', '\n', '\u{0}', 'é', '😀'],
            unit: (),
            unit_struct: UnitStruct,
            newtype: Newtype("n\t".into()),
            tuple_struct: TupleStruct(-1, (), true),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(-3),
                Shape::Tuple(1, "x".into()),
                Shape::Struct {
                    a: Some(0.5),
                    b: vec![Shape::Unit, Shape::Newtype(0)],
                },
                Shape::Struct { a: None, b: vec![] },
            ],
            none: None,
            empty: (vec![], BTreeMap::new(), vec![]),
            skipped: None,
            renamed: 1,
            int_keys: [(-1, 1), (7, 2)].into(),
            bool_keys: [(true, 1), (false, 0)].into(),
            char_keys: [('"', 1), ('k', 2)].into(),
            variant_keys: [(KeyVariant::First, 1)].into(),
            raw: serde_json::value::RawValue::from_string("[1, {\"a\": 2}]".into()).unwrap(),
            big: "123456789012345678901234567890123456789012"
                .parse()
                .unwrap(),
        };
        same(&everything);
        same(&Bytes(&[]));
        same(&Bytes(&[0, 1, 255]));
        same(&OneKey(1.5f64));
        same(&OneKey(0.1f32));
        same(&OneKey(Newtype("k".into())));
        same(&OneKey(u128::MAX));
    }

    #[test]
    fn keys_that_are_not_strings_fail_with_serde_jsons_messages() {
        for (ours, reference) in [
            (ours(&OneKey(f64::NAN)), reference(&OneKey(f64::NAN))),
            (ours(&OneKey(vec![1])), reference(&OneKey(vec![1]))),
            (ours(&OneKey(())), reference(&OneKey(()))),
            (ours(&OneKey(None::<u8>)), reference(&OneKey(None::<u8>))),
            (
                ours(&OneKey(Shape::Newtype(1))),
                reference(&OneKey(Shape::Newtype(1))),
            ),
            (ours(&OneKey(Bytes(b"k"))), reference(&OneKey(Bytes(b"k")))),
        ] {
            assert!(ours.is_err(), "{ours:?}");
            assert_eq!(ours, reference);
        }
    }

    /// Any JSON value: the shapes a synapse's `serde_json::Value` field can hold.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,80}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in any::<String>(), ascii in "[\\x00-\\x7f]{0,200}") {
            prop_assert_eq!(ours(&s), reference(&s));
            prop_assert_eq!(ours(&ascii), reference(&ascii));
        }

        #[test]
        fn any_json_value_is_written_as_serde_json_writes_it(value in json_value()) {
            prop_assert_eq!(ours(&value), reference(&value));
        }
    }
}
