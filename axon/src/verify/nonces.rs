//! The replay store: the last nonce accepted per `hotkey:uuid`, bounded in memory.

use std::collections::HashMap;

/// Last accepted nonce per endpoint key. Entries whose nonce has fallen out of every
/// possible acceptance window are dropped: a forgotten key must present a fresh nonce
/// anyway, so forgetting it admits nothing that remembering it would refuse.
#[derive(Default)]
pub(crate) struct Nonces {
    last: HashMap<String, i64>,
    /// Size after the last sweep; the next sweep runs when the map has doubled.
    swept_len: usize,
}

impl Nonces {
    /// The last nonce accepted for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<i64> {
        self.last.get(key).copied()
    }

    /// Records `nonce` for `key`, then drops entries older than `oldest_useful` when the
    /// map has doubled since the last sweep (amortized O(1) per insert).
    pub(crate) fn insert(&mut self, key: String, nonce: i64, oldest_useful: i64) {
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
        for i in 0..100_000i64 {
            let now = i * 1_000_000;
            nonces.insert(format!("key{i}"), now, now - window);
            peak = peak.max(nonces.len());
        }
        assert!(peak <= 2 * 64_001, "peak {peak}");
        // Live keys are kept: the last 64 s of keys are all there.
        assert_eq!(nonces.get("key99999"), Some(99_999_000_000));
        assert_eq!(nonces.get("key36000"), Some(36_000_000_000));
        // A key older than the window may be forgotten.
        assert!(nonces.len() < 100_000);
    }
}
