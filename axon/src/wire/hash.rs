//! The body hash: Python's `Synapse.body_hash`.

use super::pystr::PyStr;
use keccak_asm::{Digest, Sha3_256};

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
    /// The rendering buffer for fields that are not held as text.
    text: String,
    memo: Memo,
}

/// What a hasher remembers of the fields it hashed.
#[derive(Debug, Default)]
enum Memo {
    /// Nothing (the usual case).
    #[default]
    Off,
    /// Keeps each field's `str()` and digest.
    Record(Vec<Field>),
    /// Reuses the digest of a field whose `str()` is the one recorded at the same index.
    Replay { fields: Vec<Field>, next: usize },
}

/// One hashed field: its Python `str()` and the hex SHA3-256 of it.
#[derive(Debug)]
struct Field {
    text: String,
    digest: [u8; 64],
}

/// The hashed fields of a request as [`BodyHasher`] rendered them, with their digests. A
/// handler usually returns its hashed fields unchanged (they are the question, not the
/// answer), so the answer's body hash can skip the SHA3 over every field whose `str()` is
/// still the same: comparing text is much cheaper than hashing it.
#[derive(Debug, Default)]
pub(crate) struct HashMemo {
    fields: Vec<Field>,
}

impl BodyHasher {
    /// A hasher with no fields yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A hasher that keeps what it hashed, for [`BodyHasher::finish_recorded`].
    pub(crate) fn recording() -> Self {
        BodyHasher {
            memo: Memo::Record(Vec::new()),
            ..Self::default()
        }
    }

    /// A hasher that reuses the digests of `memo` for fields whose `str()` is unchanged.
    pub(crate) fn replaying(memo: HashMemo) -> Self {
        BodyHasher {
            memo: Memo::Replay {
                fields: memo.fields,
                next: 0,
            },
            ..Self::default()
        }
    }

    /// Adds one field: the hex SHA3-256 of its Python `str()`.
    pub fn field<T: PyStr + ?Sized>(&mut self, value: &T) {
        let BodyHasher { outer, text, memo } = self;
        // Text fields are read in place; others are rendered into the reused buffer.
        let rendered = match value.as_py_str() {
            Some(s) => s,
            None => {
                text.clear();
                value.py_str(text);
                text.as_str()
            }
        };
        let digest = match memo {
            Memo::Off => hex_digest(rendered),
            Memo::Record(fields) => {
                let digest = hex_digest(rendered);
                fields.push(Field {
                    text: rendered.to_owned(),
                    digest,
                });
                digest
            }
            Memo::Replay { fields, next } => {
                let kept = fields.get(*next);
                *next += 1;
                match kept {
                    Some(kept) if kept.text == rendered => kept.digest,
                    _ => hex_digest(rendered),
                }
            }
        };
        outer.update(digest);
    }

    /// The hex body hash.
    pub fn finish(self) -> String {
        hex(&self.outer.finalize())
    }

    /// The hex body hash and, for a [`recording`](BodyHasher::recording) hasher, what it
    /// hashed.
    pub(crate) fn finish_recorded(self) -> (String, HashMemo) {
        let fields = match self.memo {
            Memo::Record(fields) => fields,
            Memo::Off | Memo::Replay { .. } => Vec::new(),
        };
        (hex(&self.outer.finalize()), HashMemo { fields })
    }
}

/// The hex SHA3-256 of `text`, as bytes.
fn hex_digest(text: &str) -> [u8; 64] {
    let digest = Sha3_256::digest(text.as_bytes());
    let mut out = [0u8; 64];
    // 32 bytes always fit 64 digits.
    let _ = hex::encode_to_slice(digest, &mut out);
    out
}

/// Lowercase hex, as Python's `hexdigest()`: the crate's one hex encoder.
pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes `fields` (a string and a list) with `hasher`.
    fn hash(mut hasher: BodyHasher, text: &str, list: &[i64]) -> BodyHasher {
        hasher.field(text);
        hasher.field(list);
        hasher
    }

    fn memo_of(text: &str, list: &[i64]) -> (String, HashMemo) {
        hash(BodyHasher::recording(), text, list).finish_recorded()
    }

    #[test]
    fn recording_does_not_change_the_hash() {
        let plain = hash(BodyHasher::new(), "hello", &[1, 2]).finish();
        let (recorded, memo) = memo_of("hello", &[1, 2]);
        assert_eq!(recorded, plain);
        assert_eq!(memo.fields.len(), 2);
        assert_eq!(memo.fields[1].text, "[1, 2]");
    }

    #[test]
    fn replaying_reuses_unchanged_fields_and_rehashes_changed_ones() {
        let (_, memo) = memo_of("hello", &[1, 2]);
        let same = hash(BodyHasher::replaying(memo), "hello", &[1, 2]).finish();
        assert_eq!(same, hash(BodyHasher::new(), "hello", &[1, 2]).finish());

        for (text, list) in [("hellO", &[1, 2][..]), ("hello", &[1, 3]), ("", &[])] {
            let (_, memo) = memo_of("hello", &[1, 2]);
            assert_eq!(
                hash(BodyHasher::replaying(memo), text, list).finish(),
                hash(BodyHasher::new(), text, list).finish(),
                "{text:?} {list:?}"
            );
        }
    }

    #[test]
    fn a_replay_with_more_fields_than_recorded_hashes_the_rest() {
        let (_, memo) = BodyHasher::recording().finish_recorded();
        let replayed = hash(BodyHasher::replaying(memo), "x", &[7]).finish();
        assert_eq!(replayed, hash(BodyHasher::new(), "x", &[7]).finish());
    }
}
