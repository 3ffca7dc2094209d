//! Integers beyond 128 bits, as Python's `int` carries them through JSON.

use super::pystr::PyStr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;
use std::str::FromStr;

/// The most digits Python 3.11 converts between `int` and text (`sys.get_int_max_str_digits()`);
/// Python's own `str()` of a longer int raises, so no Python peer can hash one.
pub const MAX_DIGITS: usize = 4300;

/// An integer of any size (up to Python's 4300-digit text limit), for fields Python types as
/// `int` whose values do not fit `i128`/`u128`.
///
/// It reads and writes the JSON number's digits verbatim, so it deserializes from
/// `serde_json` text (a synapse body), not from an already-parsed `serde_json::Value`.
///
/// ```
/// use axon::wire::BigInt;
/// use axon::PyStr;
///
/// let n: BigInt = serde_json::from_str("-340282366920938463463374607431768211457").unwrap();
/// assert_eq!(n.to_py_str(), "-340282366920938463463374607431768211457");
/// assert_eq!(serde_json::to_string(&n).unwrap(), "-340282366920938463463374607431768211457");
/// assert_eq!("007".parse::<BigInt>().unwrap().to_string(), "7");
/// assert!("1.5".parse::<BigInt>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BigInt(String);

/// The text is not a decimal integer of at most [`MAX_DIGITS`] digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BigIntError(String);

impl fmt::Display for BigIntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a decimal integer of at most {MAX_DIGITS} digits",
            self.0
        )
    }
}

impl std::error::Error for BigIntError {}

impl FromStr for BigInt {
    type Err = BigIntError;

    /// Parses `-?[0-9]+`, dropping leading zeros (`-0` is `0`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || BigIntError(super::headers::excerpt(s));
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let digits = digits.trim_start_matches('0');
        if digits.len() > MAX_DIGITS {
            return Err(err());
        }
        Ok(BigInt(match (negative, digits.is_empty()) {
            (_, true) => "0".to_owned(),
            (true, false) => format!("-{digits}"),
            (false, false) => digits.to_owned(),
        }))
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! from_int {
    ($($ty:ty),*) => {$(
        impl From<$ty> for BigInt {
            fn from(v: $ty) -> Self { BigInt(v.to_string()) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl PyStr for BigInt {
    fn py_repr(&self, out: &mut String) {
        out.push_str(&self.0)
    }
}

impl Serialize for BigInt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.0.clone()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for BigInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &RawValue = <&RawValue>::deserialize(d)?;
        raw.get().parse().map_err(serde::de::Error::custom)
    }
}
