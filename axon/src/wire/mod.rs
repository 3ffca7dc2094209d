//! The wire codec: everything about how a synapse looks on the wire, and nothing about
//! serving it.
//!
//! A Python dendrite sends a synapse as HTTP headers plus a JSON body, and signs a hash of
//! selected fields computed over Python's `str()` of each. This module reproduces each
//! piece exactly:
//!
//! - [`PyStr`]: Python's `str()`/`repr()` of a value ([`repr_str`] for strings).
//! - [`BodyHasher`]: Python's `body_hash`.
//! - [`Headers`] / [`HeaderParts`]: `to_headers()` and a total `from_headers()` with typed
//!   [`HeaderError`]s; [`InputObj`] for the `bt_header_input_obj_*` placeholders.
//! - [`to_json`] / [`from_json`]: pydantic's `model_dump_json()` and validation.
//! - [`TerminalInfo`] and [`coerce`]: pydantic's int/float coercions.
//! - [`signing`]: the messages a dendrite and an axon sign.
//! - [`BigInt`]: integers beyond 128 bits.
//! - [`SynapseSchema`] and [`DynamicSynapse`]: synapse types declared at run time.

mod bigint;
pub mod coerce;
mod dynamic;
mod hash;
mod headers;
mod input_obj;
pub(crate) mod json;
mod parts;
mod pystr;
pub mod signing;
mod synapse;
mod terminal;

pub use bigint::{BigInt, BigIntError, MAX_DIGITS as BIGINT_MAX_DIGITS};
pub(crate) use dynamic::intern;
pub use dynamic::{
    DynamicSynapse, HashFn, SchemaBuilder, SchemaError, SynapseSchema, UnknownField,
};
pub(crate) use hash::{hex, HashMemo};
pub use hash::{BodyHasher, EMPTY_BODY_HASH};
pub(crate) use headers::excerpt;
pub use headers::{HeaderError, HeaderLimits, Headers};

pub use input_obj::{InputObj, InputObjs};
pub(crate) use json::nested_deeper_than;
pub(crate) use json::to_json_sized;
pub use json::{from_json, to_json, JsonError};
pub use parts::HeaderParts;
pub(crate) use pystr::write_dict_entries;
pub use pystr::{repr_str, PyStr, PY_UNICODE_VERSION};
pub use synapse::{BaseSynapse, Common, CommonMut, Synapse};
pub use terminal::TerminalInfo;

/// The bittensor version whose protocol this crate speaks, as Python's `version_as_int`
/// (10.5.0): the `version` of the axon's terminal and of its [`AxonInfo`](crate::AxonInfo).
pub const BITTENSOR_VERSION: i64 = 10_005_000;
