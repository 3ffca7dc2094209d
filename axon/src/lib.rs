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

/// Makes a struct a synapse: the Rust twin of a Python `bittensor.Synapse` subclass.
///
/// `#[synapse]` adds the common fields (`name`, `timeout`, `total_size`, `header_size`,
/// `dendrite`, `axon`, `computed_body_hash`) as plain public fields, derives serde so the JSON
/// is pydantic's, and implements [`Synapse`]: the route name, `to_headers`, `from_headers`,
/// `body_hash`, `to_json` and `from_json`. It also generates `new(required fields..)` and,
/// when no field is required, `Default`.
///
/// Mapping a Python class field by field:
///
/// | Python | Rust |
/// |---|---|
/// | `text: str` (no default: required) | `pub text: String` |
/// | `out: Optional[str] = None` | `#[default] pub out: Option<String>` |
/// | `k: int = 5` | `#[default(5)] pub k: i64` |
/// | `required_hash_fields = ("text", "n")` | `#[hash]` on `text` and `n` (in that order) |
/// | any other order | `#[synapse(hash_fields = ["n", "text"])]` |
/// | class name differs from the struct's | `#[synapse(name = "TextGen")]` |
/// | `dict[str, float]` | `indexmap::IndexMap<String, f64>` (Python keeps insertion order) |
/// | a nested `BaseModel` | a struct marked [`#[model]`](model) |
///
/// A required field (no default) gets a `bt_header_input_obj_*` header holding an empty value
/// of its type, as Python sends; its type must implement [`wire::InputObj`]. A hashed field's
/// type must implement [`PyStr`]. Enums, tuple structs, generics, `#[serde]` attributes and
/// fields named like a common field are refused at compile time with a message saying what
/// to write instead.
///
/// ```
/// use axon::Synapse;
///
/// #[axon::model]
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Context {
///     #[default]
///     pub lang: String,
/// }
///
/// #[axon::synapse(name = "TextGen", hash_fields = ["prompt", "max_tokens"])]
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct TextGenSynapse {
///     pub prompt: String,
///     #[default(64)]
///     pub max_tokens: u32,
///     #[default]
///     pub context: Context,
///     #[default]
///     pub completion: Option<String>,
/// }
///
/// let req = TextGenSynapse::new("Once upon".into());
/// assert_eq!(TextGenSynapse::NAME, "TextGen");
/// assert_eq!(TextGenSynapse::REQUIRED_FIELDS, ["prompt"]);
/// let headers = req.to_headers();
/// assert_eq!(headers.get("bt_header_input_obj_prompt"), Some("IiI="));
///
/// let map = headers.to_header_map().unwrap();
/// let from_headers = TextGenSynapse::from_headers(&map).unwrap();
/// assert_eq!(from_headers.prompt, ""); // the placeholder; the body carries the value
/// assert_eq!(from_headers.computed_body_hash.as_deref(), Some(req.body_hash().as_str()));
/// ```
pub use axon_macros::synapse;

/// Makes a struct a nested pydantic model, usable as a synapse field type.
///
/// Fields follow the same rules as [`#[synapse]`](synapse) (`#[default]`,
/// `#[default(expr)]`, required otherwise). The model implements [`PyStr`] as the dict that
/// `model_dump()` makes of it (`{'a': 1, 'b': 'x'}`, which is what Python hashes, not the
/// `a=1 b='x'` of `str(model)`), and [`wire::InputObj`] as `{}`.
///
/// ```
/// use axon::PyStr;
///
/// #[axon::model]
/// pub struct Inner {
///     #[default(1)]
///     pub a: i64,
///     #[default("x".into())]
///     pub b: String,
/// }
///
/// assert_eq!(Inner::default().to_py_str(), "{'a': 1, 'b': 'x'}");
/// ```
pub use axon_macros::model;
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
    pub fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
        d: D,
    ) -> Result<T, D::Error> {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }

    /// `name` is always the route name, whatever the body says (pydantic's `set_name_type`).
    pub fn route_name<'de, D: Deserializer<'de>>(
        d: D,
        name: &str,
    ) -> Result<Option<String>, D::Error> {
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
