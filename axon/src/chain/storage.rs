//! Storage keys: `twox128(pallet) ++ twox128(item) ++ hasher(key)...`.

use blake2::digest::{consts::U16, consts::U32, Digest};
use frame_metadata::v14::StorageHasher;
use std::hash::Hasher;
use twox_hash::XxHash64;

/// `twox128(pallet) ++ twox128(item)`.
pub fn prefix(pallet: &str, item: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend(twox(pallet.as_bytes(), 2));
    out.extend(twox(item.as_bytes(), 2));
    out
}

/// Substrate's `twox_64`, `twox_128`, `twox_256`: `n` xxHash64 rounds with seeds 0..n, each
/// little-endian.
fn twox(data: &[u8], n: u64) -> Vec<u8> {
    (0..n)
        .flat_map(|seed| {
            let mut h = XxHash64::with_seed(seed);
            h.write(data);
            h.finish().to_le_bytes()
        })
        .collect()
}

/// Substrate's `blake2_256`.
pub fn blake2_256(data: &[u8]) -> [u8; 32] {
    blake2::Blake2b::<U32>::digest(data).into()
}

fn blake2_128(data: &[u8]) -> [u8; 16] {
    blake2::Blake2b::<U16>::digest(data).into()
}

/// Appends the hashed key.
pub fn hash(hasher: &StorageHasher, key: &[u8], out: &mut Vec<u8>) {
    match hasher {
        StorageHasher::Blake2_128 => out.extend(blake2_128(key)),
        StorageHasher::Blake2_256 => out.extend(blake2_256(key)),
        StorageHasher::Blake2_128Concat => {
            out.extend(blake2_128(key));
            out.extend(key);
        }
        StorageHasher::Twox128 => out.extend(twox(key, 2)),
        StorageHasher::Twox256 => out.extend(twox(key, 4)),
        StorageHasher::Twox64Concat => {
            out.extend(twox(key, 1));
            out.extend(key);
        }
        StorageHasher::Identity => out.extend(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_prefix_of_system_account() {
        // `System.Account`'s prefix, as every Substrate explorer shows it.
        let hex: String = prefix("System", "Account")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9"
        );
    }
}
