//! The replay store: every request accepted inside its window, remembered until no window
//! can hold it any more, bounded in memory.
//!
//! The rule (bittensor 11's own request authentication states it the same way: "(hotkey,
//! nonce) unseen, retained at least max age + skew"): a request's nonce must lie inside its
//! window, and the signed triple (dendrite hotkey, uuid as signed, nonce) must not have been
//! accepted before. It does not depend on arrival order, so a dendrite's concurrent calls
//! are all served however the network and the axon's threads reorder them.
//!
//! As strict on replays as Python's rule: a replay repeats the triple, so it is refused
//! while the triple is remembered, and by the window once it is forgotten. Python also
//! refuses a nonce lower than the last one it accepted, which refuses nothing but genuine
//! calls that arrived out of order.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// The accepted requests, each as a 64-bit keyed hash (the process's own random key) of
/// exactly what its signature covers, `{nonce}.{hotkey}.…{uuid}`, the hotkey as its public
/// key's bytes — so a uuid header left
/// out and one sent as `None`, which sign the same message, are one request — mapped to
/// its nonce for expiry. 16 bytes an entry, whatever the client sends. Two requests sharing
/// a hash (about one chance in 10^7 with a million remembered) refuse the second, never
/// admit a replay.
///
/// An entry is dropped once its nonce is at or below `oldest_useful` (now minus the widest
/// window any request may claim), and from then on the store refuses every nonce that
/// old whatever the clock says later: forgetting admits nothing.
#[derive(Default)]
pub(crate) struct Nonces {
    seen: HashMap<u64, i64>,
    /// Size after the last sweep; the next sweep runs when the map has doubled.
    swept_len: usize,
    /// Nonces at or below this have been forgotten and are refused as stale.
    floor: Option<i64>,
    keys: RandomState,
}

impl Nonces {
    /// The key of the request `nonce` of the sender whose public key is `sender` (its
    /// bytes: one key, however its address was spelled) with `uuid` (`None` as Python
    /// writes a missing one into the signed message).
    pub(crate) fn key(&self, sender: &[u8; 32], uuid: Option<&str>, nonce: i64) -> u64 {
        self.keys.hash_one((sender, uuid.unwrap_or("None"), nonce))
    }

    /// Whether the request `key` was accepted already.
    pub(crate) fn seen(&self, key: u64) -> bool {
        self.seen.contains_key(&key)
    }

    /// Whether `nonce` is so old that the store may have forgotten it.
    pub(crate) fn forgotten(&self, nonce: i64) -> bool {
        self.floor.is_some_and(|floor| nonce <= floor)
    }

    /// Records the request `key` with its `nonce`; false, recording nothing, when it is
    /// already there or too old to be remembered. When the map has doubled since the last
    /// sweep, drops entries at or below `oldest_useful` (amortized O(1) per insert).
    pub(crate) fn insert(&mut self, key: u64, nonce: i64, oldest_useful: i64) -> bool {
        if self.forgotten(nonce) || self.seen.insert(key, nonce).is_some() {
            return false;
        }
        if self.seen.len() > 2 * self.swept_len.max(512) {
            self.seen.retain(|_, n| *n > oldest_useful);
            self.swept_len = self.seen.len();
            self.floor = Some(self.floor.map_or(oldest_useful, |f| f.max(oldest_useful)));
        }
        true
    }

    /// How many requests are remembered.
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    /// The bytes the table holds: 16 per slot and one control byte.
    #[cfg(test)]
    fn table_bytes(&self) -> usize {
        self.seen.capacity() * (std::mem::size_of::<(u64, i64)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::Nonces;

    const HOTKEY: &[u8; 32] = &[7; 32];

    #[test]
    fn a_request_is_accepted_once_in_any_order() {
        let mut nonces = Nonces::default();
        let key = |n: &Nonces, nonce| n.key(HOTKEY, Some("u"), nonce);
        for nonce in [30, 10, 20] {
            assert!(nonces.insert(key(&nonces, nonce), nonce, 0), "{nonce}");
        }
        for nonce in [10, 20, 30] {
            assert!(nonces.seen(key(&nonces, nonce)));
            assert!(!nonces.insert(key(&nonces, nonce), nonce, 0), "{nonce}");
        }
        assert_eq!(nonces.len(), 3);
    }

    #[test]
    fn the_key_is_what_the_signature_covers() {
        let n = Nonces::default();
        // A missing uuid is signed as `None`: the same request.
        assert_eq!(n.key(HOTKEY, None, 7), n.key(HOTKEY, Some("None"), 7));
        assert_ne!(n.key(HOTKEY, Some("a"), 7), n.key(HOTKEY, Some("b"), 7));
        assert_ne!(n.key(HOTKEY, Some("a"), 7), n.key(HOTKEY, Some("a"), 8));
        assert_ne!(n.key(HOTKEY, Some("a"), 7), n.key(&[8; 32], Some("a"), 7));
    }

    #[test]
    fn forgotten_nonces_stay_refused_whatever_the_clock_says() {
        let mut nonces = Nonces::default();
        // Fill past the first sweep with nonces 0..1100; the sweep drops those <= 999.
        for nonce in 0..1100 {
            assert!(nonces.insert(nonces.key(HOTKEY, None, nonce), nonce, 999));
        }
        assert!(nonces.len() <= 1100 - 999 + 1, "{}", nonces.len());
        assert!(nonces.forgotten(5));
        // A forgotten request cannot come back, even with a clock set back before the sweep.
        assert!(!nonces.insert(nonces.key(HOTKEY, None, 5), 5, 0));
    }

    #[test]
    fn memory_stays_bounded_while_requests_age_out() {
        let mut nonces = Nonces::default();
        // 100k requests of one dendrite, one per millisecond; a nonce is useful for 64 s
        // (4 s + the 60 s timeout clamp), so at most ~64k can be live at once.
        let window = 64_000_000_000i64;
        let mut peak = 0;
        for i in 0..100_000i64 {
            let now = i * 1_000_000;
            assert!(nonces.insert(nonces.key(HOTKEY, Some("one"), now), now, now - window));
            peak = peak.max(nonces.len());
        }
        assert!(peak <= 2 * 64_001, "peak {peak}");
        // Live requests are kept: the last 64 s are all there.
        assert!(nonces.seen(nonces.key(HOTKEY, Some("one"), 99_999_000_000)));
        assert!(nonces.seen(nonces.key(HOTKEY, Some("one"), 36_000_000_000)));
        // A request older than the window may be forgotten.
        assert!(nonces.len() < 100_000);
    }

    #[test]
    fn a_million_requests_fit_in_a_bounded_table() {
        // 1M requests (a fresh dendrite uuid each) at 10,000 a second (100 s), each nonce
        // useful for 64 s: at most 640k are live at once, and the table never holds more
        // than twice that, at 17 bytes a slot.
        let mut nonces = Nonces::default();
        let window = 64_000_000_000i64;
        let (mut peak_len, mut peak_bytes) = (0, 0);
        for i in 0..1_000_000i64 {
            let now = i * 100_000;
            let key = nonces.key(HOTKEY, Some(&i.to_string()), now);
            assert!(nonces.insert(key, now, now - window));
            peak_len = peak_len.max(nonces.len());
            peak_bytes = peak_bytes.max(nonces.table_bytes());
        }
        assert!(peak_len <= 2 * 640_001, "peak {peak_len} keys");
        assert!(peak_bytes <= 48 << 20, "peak {peak_bytes} bytes");
    }
}
