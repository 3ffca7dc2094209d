//! The replay store several axon processes share: every request accepted once, whichever
//! process receives it. Each process keeps its own in-memory store (`verify::nonces`) as
//! the first check; a [`ReplayStore`] on Redis (feature `redis`; tested with Redis 7: one
//! node, TLS, ACL users, a Cluster, Sentinel) is the second, so a request captured on the wire and
//! resent to another process behind the same address is refused there too.
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
//! # #[cfg(feature = "redis")] {
//! use axon::replay::ReplayStore;
//!
//! let store = ReplayStore::redis("rediss://miner:p%2Fss@10.0.0.7:6380/0").unwrap();
//! assert_eq!(store.to_string(), "rediss://miner:***@10.0.0.7:6380/0");
//! assert!(ReplayStore::redis("http://example.com").is_err());
//! # }
//! ```

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use redis::RedisOptions;

use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A replay store shared between processes.
#[derive(Clone)]
pub struct ReplayStore(Arc<Backend>, OnFailure);

#[cfg(feature = "redis")]
type Backend = redis::RedisStore;

/// Without the `redis` feature there is no store to make: the type stays, so the code
/// around it does not change, and no value of it exists.
#[cfg(not(feature = "redis"))]
enum Backend {}

#[cfg(not(feature = "redis"))]
impl Backend {
    async fn set_once(&self, _: &str, _: Duration) -> Result<bool, StoreError> {
        match *self {}
    }
    fn is_up(&self) -> bool {
        match *self {}
    }
    fn failures(&self, _: StoreErrorKind) -> u64 {
        match *self {}
    }
}

#[cfg(not(feature = "redis"))]
impl fmt::Display for Backend {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

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
    /// A store on the Redis at `url`, `redis://[user][:password@]host[:port][/db]`, or
    /// `rediss://..` for TLS; the user and password percent-encoded (`%2F` for `/`). With the
    /// default options: one node, the system's CAs for TLS, an answer within 250 ms. It
    /// connects on first use and after any failure, by itself.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str) -> Result<ReplayStore, StoreError> {
        Self::redis_with(url, RedisOptions::default())
    }

    /// [`redis`](Self::redis) with `options` (a private CA, a client certificate, a
    /// Cluster, the sentinels that name the master, the bounds).
    #[cfg(feature = "redis")]
    pub fn redis_with(url: &str, options: RedisOptions) -> Result<ReplayStore, StoreError> {
        Ok(ReplayStore(
            Arc::new(redis::RedisStore::new(url, options)?),
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

    /// Requests refused because the store did not answer, of every kind.
    pub fn failures(&self) -> u64 {
        StoreErrorKind::ALL
            .iter()
            .map(|kind| self.0.failures(*kind))
            .sum()
    }

    /// Requests refused because the store did not answer, for `kind`.
    pub fn failures_of(&self, kind: StoreErrorKind) -> u64 {
        self.0.failures(kind)
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

/// Why the store could not say: its kind, what happened, and the client's error as its
/// [`source`](std::error::Error::source) when there is one.
///
/// ```
/// use axon::replay::{StoreError, StoreErrorKind};
/// let e = StoreError::timeout(std::time::Duration::from_millis(250));
/// assert_eq!(e.kind(), StoreErrorKind::Timeout);
/// assert_eq!(e.to_string(), "replay store did not answer within 250 ms");
/// ```
#[derive(Clone, Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    detail: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The kinds of [`StoreError`], each a `reason` of `axon_replay_store_failures_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The settings cannot make a store: the URL, the CA file, a database with a Cluster.
    Settings,
    /// No connection: refused, reset, closed, TLS failed, or backing off before the next
    /// try.
    Unreachable,
    /// The server refused the user or the password.
    Auth,
    /// No answer within the bound.
    Timeout,
    /// Too many requests were waiting for it.
    Busy,
    /// It answered with an error (a read-only replica, out of memory, ..).
    Refused,
}

impl StoreErrorKind {
    /// Every kind, in the order `/metrics` lists them.
    pub const ALL: [StoreErrorKind; 6] = [
        StoreErrorKind::Settings,
        StoreErrorKind::Unreachable,
        StoreErrorKind::Auth,
        StoreErrorKind::Timeout,
        StoreErrorKind::Busy,
        StoreErrorKind::Refused,
    ];

    /// Its `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            StoreErrorKind::Settings => "settings",
            StoreErrorKind::Unreachable => "unreachable",
            StoreErrorKind::Auth => "auth",
            StoreErrorKind::Timeout => "timeout",
            StoreErrorKind::Busy => "busy",
            StoreErrorKind::Refused => "refused",
        }
    }
}

impl StoreError {
    /// An error of `kind`, saying `detail`.
    pub(crate) fn new(kind: StoreErrorKind, detail: impl Into<String>) -> Self {
        StoreError {
            kind,
            detail: detail.into(),
            source: None,
        }
    }

    /// The same, caused by `source`.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // only the client has causes
    pub(crate) fn caused(
        kind: StoreErrorKind,
        detail: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError {
            kind,
            detail: detail.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// No answer within `bound`.
    pub fn timeout(bound: Duration) -> Self {
        StoreError::new(StoreErrorKind::Timeout, format!("{} ms", bound.as_millis()))
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// What happened, without the kind's words.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = &self.detail;
        match self.kind {
            StoreErrorKind::Settings => write!(f, "replay store settings: {detail}"),
            StoreErrorKind::Unreachable => write!(f, "replay store unreachable: {detail}"),
            StoreErrorKind::Auth => write!(f, "replay store refused the credentials: {detail}"),
            StoreErrorKind::Timeout => write!(f, "replay store did not answer within {detail}"),
            StoreErrorKind::Busy => write!(f, "replay store busy: {detail}"),
            StoreErrorKind::Refused => write!(f, "replay store refused: {detail}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
