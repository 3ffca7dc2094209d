//! The replay store: the last nonce accepted per `hotkey:uuid`, bounded in memory.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// Last accepted nonce per endpoint key. Entries whose nonce has fallen out of every
/// possible acceptance window are dropped: a forgotten key must present a fresh nonce
/// anyway, so forgetting it admits nothing that remembering it would refuse.
///
/// A key is a 64-bit keyed hash of the dendrite's hotkey and uuid (the process's own
/// random key), so an entry is 16 bytes whatever the client sends. Two endpoints sharing
/// a hash (about one chance in 10^7 with a million remembered) share one last nonce, the
/// higher of theirs: that can refuse a request, never admit a replay.
#[derive(Default)]
pub(crate) struct Nonces {
    last: HashMap<u64, i64>,
    /// Size after the last sweep; the next sweep runs when the map has doubled.
    swept_len: usize,
    keys: RandomState,
}

impl Nonces {
    /// The key of the endpoint `hotkey:uuid`.
    pub(crate) fn key(&self, hotkey: &str, uuid: Option<&str>) -> u64 {
        self.keys.hash_one((hotkey, uuid))
    }

    /// The last nonce accepted for `key`.
    pub(crate) fn get(&self, key: u64) -> Option<i64> {
        self.last.get(&key).copied()
    }

    /// Records `nonce` for `key`, then drops entries older than `oldest_useful` when the
    /// map has doubled since the last sweep (amortized O(1) per insert).
    pub(crate) fn insert(&mut self, key: u64, nonce: i64, oldest_useful: i64) {
        self.last.insert(key, nonce);
        if self.last.len() > 2 * self.swept_len.max(512) {
            self.last.retain(|_, n| *n > oldest_useful);
            self.swept_len = self.last.len();
        }
    }

    /// How many keys are remembered.
    pub(crate) fn len(&self) -> usize {
        self.last.len()
    }

    /// The bytes the table holds: 16 per slot and one control byte.
    #[cfg(test)]
    fn table_bytes(&self) -> usize {
        self.last.capacity() * (std::mem::size_of::<(u64, i64)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::Nonces;

    #[test]
    fn memory_stays_bounded_while_keys_age_out() {
        let mut nonces = Nonces::default();
        // 100k distinct dendrites, one request each, one per millisecond; a nonce is useful
        // for 64 s (4 s + the 60 s timeout clamp), so at most ~64k can be live at once.
        let window = 64_000_000_000i64;
        let mut peak = 0;
        let key = |nonces: &Nonces, i: i64| nonces.key("5Hotkey", Some(&format!("uuid-{i}")));
        for i in 0..100_000i64 {
            let now = i * 1_000_000;
            nonces.insert(key(&nonces, i), now, now - window);
            peak = peak.max(nonces.len());
        }
        assert!(peak <= 2 * 64_001, "peak {peak}");
        // Live keys are kept: the last 64 s of keys are all there.
        assert_eq!(nonces.get(key(&nonces, 99_999)), Some(99_999_000_000));
        assert_eq!(nonces.get(key(&nonces, 36_000)), Some(36_000_000_000));
        // A key older than the window may be forgotten.
        assert!(nonces.len() < 100_000);
    }

    #[test]
    fn a_million_dendrites_fit_in_a_bounded_table() {
        // 1M distinct dendrite uuids at 10,000 requests a second (100 s), each nonce useful
        // for 64 s: at most 640k are live at once, and the table never holds more than
        // twice that, at 17 bytes a slot.
        let mut nonces = Nonces::default();
        let window = 64_000_000_000i64;
        let (mut peak_len, mut peak_bytes) = (0, 0);
        for i in 0..1_000_000i64 {
            let now = i * 100_000;
            let key = nonces.key(
                "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
                Some(&i.to_string()),
            );
            nonces.insert(key, now, now - window);
            peak_len = peak_len.max(nonces.len());
            peak_bytes = peak_bytes.max(nonces.table_bytes());
        }
        assert!(peak_len <= 2 * 640_001, "peak {peak_len} keys");
        assert!(peak_bytes <= 48 << 20, "peak {peak_bytes} bytes");
        // Distinct endpoints stay distinct.
        assert_ne!(nonces.key("a:b", Some("c")), nonces.key("a", Some("b:c")));
        assert_ne!(nonces.key("a", None), nonces.key("a", Some("None")));
    }
}
