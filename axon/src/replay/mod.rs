//! The replay store several axon processes share: every request accepted once, whichever
//! process receives it. Each process keeps its own in-memory store (`verify::nonces`) as
//! the first check; a [`ReplayStore`] on Redis (tested with Redis 7) is the second, so a request
//! captured on the wire and resent to another process behind the same address is refused
//! there too.
//!
//! The rule is the one of the in-memory store (a request's signed triple accepted once
//! within its window, in any order), which maps onto one atomic `SET key 1 NX PX ttl`: the
//! key is a digest of exactly what the signature covers, the same in every process. An
//! entry is written only after the signature verifies.
//!
//! A store that does not answer within its bound fails closed: the request is refused 503
//! (`axon_refusals_total{reason="replay_store"}`), never accepted unchecked; the client
//! reconnects by itself and the axon serves again once Redis is back.
//!
//! ```
//! use axon::replay::ReplayStore;
//!
//! let store = ReplayStore::redis("redis://127.0.0.1:6379/0").unwrap();
//! assert_eq!(store.to_string(), "redis://127.0.0.1:6379/0");
//! assert!(ReplayStore::redis("http://example.com").is_err());
//! ```

mod redis;
mod resp;

pub use redis::{RedisOptions, RedisStore};

use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A replay store shared between processes.
#[derive(Clone)]
pub struct ReplayStore(Arc<RedisStore>, OnFailure);

/// What a request meets when the shared store does not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Refused 503: nothing is served that was not checked against every process's
    /// requests (the default).
    #[default]
    Refuse,
    /// Served if the process's own store has not seen it: service goes on, but a request
    /// replayed to another process while the store is down is accepted there too.
    LocalOnly,
}

impl ReplayStore {
    /// A store on the Redis at `url` (`redis://[:password@]host:port[/db]`), with the
    /// default options (an answer within 250 ms). It connects on first use and after any
    /// failure, by itself.
    pub fn redis(url: &str) -> Result<ReplayStore, StoreError> {
        Self::redis_with(url, RedisOptions::default())
    }

    /// [`redis`](Self::redis) with `options`.
    pub fn redis_with(url: &str, options: RedisOptions) -> Result<ReplayStore, StoreError> {
        Ok(ReplayStore(
            Arc::new(RedisStore::new(url, options)?),
            OnFailure::Refuse,
        ))
    }

    /// What a request meets when the store does not answer ([`OnFailure::Refuse`] unless
    /// changed here).
    ///
    /// ```
    /// use axon::replay::{OnFailure, ReplayStore};
    /// let store = ReplayStore::redis("redis://127.0.0.1").unwrap().on_failure(OnFailure::LocalOnly);
    /// assert_eq!(store.failure_rule(), OnFailure::LocalOnly);
    /// ```
    pub fn on_failure(mut self, rule: OnFailure) -> Self {
        self.1 = rule;
        self
    }

    /// The rule set by [`on_failure`](Self::on_failure).
    pub fn failure_rule(&self) -> OnFailure {
        self.1
    }

    /// Records the request `key` for `retention`; `Ok(false)` when it was recorded already
    /// (a replay), an error when the store did not answer in time.
    pub async fn accept(&self, key: &ReplayKey, retention: Duration) -> Result<bool, StoreError> {
        self.0.set_once(&key.0, retention).await
    }

    /// Whether the last exchange with the store succeeded.
    pub fn is_up(&self) -> bool {
        self.0.is_up()
    }

    /// Requests refused because the store did not answer.
    pub fn failures(&self) -> u64 {
        self.0.failures()
    }
}

impl fmt::Display for ReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayStore({self})")
    }
}

/// The key of one request in a shared store: a digest of what its signature covers
/// (sender, the request's id — a synapse's uuid, Epistula's uuid, btauth/1's protocol — and
/// nonce), the same in every process.
///
/// ```
/// use axon::replay::ReplayKey;
/// let key = [7u8; 32];
/// let a = ReplayKey::new(&key, Some("u"), 7);
/// assert_eq!(a, ReplayKey::new(&key, Some("u"), 7));
/// assert_ne!(a, ReplayKey::new(&key, Some("u"), 8));
/// assert_ne!(a, ReplayKey::new(&[8u8; 32], Some("u"), 7));
/// assert_eq!(ReplayKey::new(&key, None, 7), ReplayKey::new(&key, Some("None"), 7));
/// assert!(a.as_str().starts_with("axon:replay:"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayKey(String);

impl ReplayKey {
    /// The key of request `nonce` from the sender whose public key is `sender` (its
    /// bytes, not one of the address's spellings) with id `id` (`None` as Python writes a
    /// missing uuid into the signed message).
    pub fn new(sender: &[u8; 32], id: Option<&str>, nonce: i64) -> Self {
        let mut hash = Sha256::new();
        hash.update(sender);
        // Length-prefixed, so no two ids share an encoding with what follows.
        let id = id.unwrap_or("None");
        hash.update((id.len() as u64).to_le_bytes());
        hash.update(id.as_bytes());
        hash.update(nonce.to_le_bytes());
        let digest = hash.finalize();
        ReplayKey(format!("axon:replay:{}", crate::wire::hex(&digest[..16])))
    }

    /// The Redis key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why the store could not say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The URL is not one this store reads.
    BadUrl(String),
    /// No connection (refused, reset, or backing off before the next try).
    Unreachable(String),
    /// No answer within the bound.
    Timeout(Duration),
    /// Redis answered with an error.
    Refused(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::BadUrl(m) => write!(f, "replay store URL: {m}"),
            StoreError::Unreachable(m) => write!(f, "replay store unreachable: {m}"),
            StoreError::Timeout(d) => {
                write!(f, "replay store did not answer within {} ms", d.as_millis())
            }
            StoreError::Refused(m) => write!(f, "replay store refused: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}
