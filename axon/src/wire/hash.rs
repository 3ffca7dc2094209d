//! The body hash: Python's `Synapse.body_hash`.

use super::pystr::PyStr;
use sha3::{Digest, Sha3_256};

/// The body hash of a synapse with no hashed fields: `sha3_256("")`.
///
/// ```
/// assert_eq!(axon::wire::EMPTY_BODY_HASH, axon::wire::BodyHasher::new().finish());
/// ```
pub const EMPTY_BODY_HASH: &str =
    "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";

/// Computes `sha3_256_hex("".join(sha3_256_hex(str(v)) for v in hashed fields))`.
///
/// Feed it the hashed fields in `required_hash_fields` order; `#[synapse]` generates that.
///
/// ```
/// use axon::wire::BodyHasher;
///
/// // bittensor's own test vector: fields a=1, b=2, d=["foobar"], all hashed.
/// let mut h = BodyHasher::new();
/// h.field(&1);
/// h.field(&2);
/// h.field(&vec!["foobar"]);
/// assert_eq!(h.finish(), "ae06397d08f30f75c91395c59f05c62ac3b62b88250eb78b109213258e6ced0c");
/// ```
#[derive(Debug, Default)]
pub struct BodyHasher {
    outer: Sha3_256,
    text: String,
}

impl BodyHasher {
    /// A hasher with no fields yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one field: the hex SHA3-256 of its Python `str()`.
    pub fn field<T: PyStr + ?Sized>(&mut self, value: &T) {
        self.text.clear();
        value.py_str(&mut self.text);
        let digest = Sha3_256::digest(self.text.as_bytes());
        self.outer.update(hex(&digest).as_bytes());
    }

    /// The hex body hash.
    pub fn finish(self) -> String {
        hex(&self.outer.finalize())
    }
}

/// Lowercase hex, as Python's `hexdigest()`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}
