//! The messages a dendrite and an axon sign, written once.
//!
//! Python builds both with f-strings, so an absent field is the text `None` and a number is
//! its `str()`. Both are signed with sr25519 under Substrate's signing context
//! ([`CONTEXT`]); a signature travels as `0x` and 128 hex digits.
//!
//! ```
//! use axon::wire::signing;
//!
//! let request = signing::request_message(7, "5Dendrite", "5Axon", Some("u-1"), Some("ab12"));
//! assert_eq!(request, "7.5Dendrite.5Axon.u-1.ab12");
//! let response = signing::response_message(Some(9), Some("5Dendrite"), Some("5Axon"), None);
//! assert_eq!(response, "9.5Dendrite.5Axon.None");
//! ```

use std::fmt;

/// The signing context of Substrate (and so of Bittensor) sr25519 signatures.
pub const CONTEXT: &[u8] = b"substrate";

/// What a dendrite signs and an axon verifies, Python's
/// `f"{nonce}.{dendrite.hotkey}.{axon.hotkey}.{dendrite.uuid}.{computed_body_hash}"`.
///
/// The axon verifies it with its own hotkey as `axon_hotkey`, whatever the request says.
pub fn request_message(
    nonce: i64,
    dendrite_hotkey: &str,
    axon_hotkey: &str,
    dendrite_uuid: Option<&str>,
    computed_body_hash: Option<&str>,
) -> String {
    format!(
        "{nonce}.{dendrite_hotkey}.{axon_hotkey}.{}.{}",
        Py(&dendrite_uuid),
        Py(&computed_body_hash)
    )
}

/// What an axon signs in its answer, Python's
/// `f"{axon.nonce}.{dendrite.hotkey}.{axon.hotkey}.{axon.uuid}"`.
pub fn response_message(
    axon_nonce: Option<i64>,
    dendrite_hotkey: Option<&str>,
    axon_hotkey: Option<&str>,
    axon_uuid: Option<&str>,
) -> String {
    format!(
        "{}.{}.{}.{}",
        Py(&axon_nonce),
        Py(&dendrite_hotkey),
        Py(&axon_hotkey),
        Py(&axon_uuid)
    )
}

/// Python's `str()` of an optional value in an f-string: the value, or `None`.
///
/// ```
/// use axon::wire::signing::Py;
///
/// assert_eq!(Py(&Some(3)).to_string(), "3");
/// assert_eq!(Py(&None::<i64>).to_string(), "None");
/// ```
pub struct Py<'a, T>(pub &'a Option<T>);

impl<T: fmt::Display> fmt::Display for Py<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("None"),
        }
    }
}

/// `message` as bittensor's verifiers also accept it signed: wrapped in `<Bytes>` and
/// `</Bytes>` (what some wallets sign).
///
/// ```
/// assert_eq!(axon::wire::signing::bytes_wrapped(b"m"), b"<Bytes>m</Bytes>");
/// ```
pub fn bytes_wrapped(message: &[u8]) -> Vec<u8> {
    [b"<Bytes>", message, b"</Bytes>"].concat()
}
