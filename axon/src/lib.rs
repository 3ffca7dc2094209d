//! # axon
//!
//! A Bittensor axon (the miner's HTTP server) in Rust that speaks the Python protocol byte
//! for byte, so the Python `bittensor.Dendrite` of any validator calls it unchanged.
//!
//! This release holds the wire codec: declare a synapse with [`#[synapse]`](synapse) and
//! it reads and writes the exact headers, JSON and body hash of the Python class of the
//! same name and fields.
//!
//! ```
//! use axon::Synapse;
//!
//! /// Python: `class Echo(bt.Synapse): text: str; n: int; out: Optional[str] = None`
//! ///         `required_hash_fields = ("text", "n")`
//! #[axon::synapse]
//! pub struct Echo {
//!     #[hash]
//!     pub text: String,
//!     #[hash]
//!     pub n: i64,
//!     #[default]
//!     pub out: Option<String>,
//! }
//!
//! let mut echo = Echo::new("abc".into(), 2);
//! echo.out = Some(echo.text.chars().rev().collect());
//! assert_eq!(echo.dendrite.hotkey, None); // the common fields are plain fields
//! assert_eq!(echo.timeout, Some(12.0));
//! let body = String::from_utf8(echo.to_json().unwrap()).unwrap();
//! assert!(body.starts_with(r#"{"name":"Echo","timeout":12.0,"total_size":0,"#));
//! assert!(body.ends_with(r#""text":"abc","n":2,"out":"cba"}"#));
//! ```

extern crate self as axon;

pub mod wire;

pub use axon_macros::{model, synapse};
pub use wire::{BaseSynapse, PyStr, Synapse, TerminalInfo};

/// Support for the code `#[synapse]` and `#[model]` generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    use serde::de::{Deserialize, Deserializer, IgnoredAny};

    /// A required field: missing is an error even for `Option` (pydantic's rule).
    pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }

    /// `null` reads as the default (pydantic allows `None` for `Optional[TerminalInfo]`).
    pub fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(d: D) -> Result<T, D::Error> {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }

    /// `name` is always the route name, whatever the body says (pydantic's `set_name_type`).
    pub fn route_name<'de, D: Deserializer<'de>>(d: D, name: &str) -> Result<Option<String>, D::Error> {
        IgnoredAny::deserialize(d)?;
        Ok(Some(name.to_owned()))
    }

    pub fn default_timeout() -> Option<f64> {
        Some(12.0)
    }

    pub fn default_size() -> Option<i64> {
        Some(0)
    }

    pub fn default_body_hash() -> Option<String> {
        Some(String::new())
    }

    /// A model field as a `&dyn PyStr`, checked at the user's type.
    pub fn as_py_str<T: crate::PyStr>(v: &T) -> &dyn crate::PyStr {
        v
    }

    /// Writes a model as the dict `model_dump()` makes of it.
    pub fn write_model(out: &mut String, fields: &[(&str, &dyn crate::PyStr)]) {
        crate::wire::write_dict_entries(out, fields)
    }

    /// Checks, at the user's type, that a hashed field renders like Python's `str()`.
    pub fn hash_field<T: crate::PyStr + ?Sized>(h: &mut crate::wire::BodyHasher, v: &T) {
        h.field(v)
    }
}
