//! The shared replay store's Redis client (feature `redis`), on the `redis` crate.
//!
//! - One node: one multiplexed connection that concurrent requests share (their commands
//!   pipelined), dialled on first use and again after it fails.
//! - A Cluster: the crate's cluster connection, which follows `MOVED` and `ASK` and finds a
//!   promoted replica after a failover. It is dialled on first use.
//! - A master that Redis Sentinel names: the sentinels are asked for it on first use, and
//!   again after its connection fails or its node turns replica (a failover).
//! - While the store is unreachable, requests are refused at once, without a dial, for a
//!   backoff that grows from 100 ms to 5 s; the first request after it dials again.
//! - TLS (`rediss://`) with rustls: the system's CAs, or a private one, and a client
//!   certificate if the server asks for one. ACL users and percent-encoded passwords come
//!   from the URL.
//! - Every connection may receive at most 64 KiB more than it has sent ([`connect`]): a
//!   server that sends more is cut off, so what Redis sends cannot grow the process.
//!
//! Every request waits at most the store's bound, off the I/O threads' critical path, and
//! at most `max_waiting` wait at once: beyond, they are refused at once.

mod connect;
mod settings;

use super::{StoreError, StoreErrorKind};
use connect::{Node, NodeConnection, Sentinels};
use redis::aio::MultiplexedConnection;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{ConnectionAddr, RedisError, ServerErrorKind, Value};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How the store talks to Redis.
///
/// ```
/// let mut options = axon::replay::RedisOptions::default();
/// options.cluster = true;
/// options.ca = Some("/etc/axon/redis-ca.pem".into());
/// options.sentinels = vec!["10.0.0.5:26379".into(), "10.0.0.6:26379".into()];
/// assert_eq!(options.timeout, std::time::Duration::from_millis(250));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedisOptions {
    /// The longest a request waits for the store's answer before it is refused 503
    /// (250 ms).
    pub timeout: Duration,
    /// The most requests waiting for the store at once; beyond, refused at once (65536).
    pub max_waiting: usize,
    /// The URL names one node of a Redis Cluster (`--axon.replay_store_cluster`): the
    /// client finds the others and follows the cluster's redirections.
    pub cluster: bool,
    /// The sentinels that name the master (`--axon.replay_store_sentinel`), each
    /// `host[:port]` (26379 by default) or `redis://[user:password@]host[:port]`
    /// (`rediss://` for TLS). With them, the URL's host is the master's name as the
    /// sentinels know it (`redis://:password@mymaster/0`); the URL's user, password,
    /// database and TLS are the master's.
    pub sentinels: Vec<String>,
    /// A PEM file of the CA that signs the server's certificate, for `rediss://`
    /// (`--axon.replay_store_ca`); the system's CAs otherwise.
    pub ca: Option<PathBuf>,
    /// A PEM certificate and its key, for a server that asks for a client certificate
    /// (`--axon.replay_store_cert`, `--axon.replay_store_key`).
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            timeout: Duration::from_millis(250),
            max_waiting: 65_536,
            cluster: false,
            sentinels: Vec::new(),
            ca: None,
            client_cert: None,
        }
    }
}

/// The first backoff after a failed dial, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Requests in a row unanswered within the bound after which a master's connection is
/// replaced.
const STALE_AFTER: u64 = 3;

/// How long a whole dial may take: the sentinels asked, the master's role checked, its
/// connection made; a Cluster's nodes found.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the commands go.
#[allow(clippy::large_enum_variant)] // one per store, which lives behind an `Arc`
enum Target {
    /// One master: where it is, and its connection once dialled, forgotten when it fails
    /// or its node turns replica, so that the next dial finds it again.
    Master(Arc<Master>, Slot<MultiplexedConnection>),
    /// A Cluster: its client, and the connection once dialled.
    Cluster(ClusterClient, Slot<ClusterConnection<NodeConnection>>),
}

/// Where the master is: at the URL's address, or where the sentinels say.
enum Master {
    At(Node),
    Named(Sentinels),
}

impl Master {
    async fn connect(&self) -> Result<MultiplexedConnection, StoreError> {
        match self {
            Master::At(node) => node.connect().await,
            Master::Named(sentinels) => sentinels.master().await,
        }
    }
}

/// A connection once dialled; locked for the length of a dial, so that one runs at a time.
type Slot<C> = Arc<tokio::sync::Mutex<Option<C>>>;

/// While the store is unreachable: when to try again, and why it failed.
#[derive(Default)]
struct Backoff {
    retry_at: Option<Instant>,
    delay: Duration,
    last_error: String,
}

impl Backoff {
    /// The refusal of a request that comes before the next try.
    fn wait(&self) -> Option<StoreError> {
        let at = self.retry_at.filter(|at| Instant::now() < *at)?;
        let wait = (at - Instant::now()).as_millis();
        Some(StoreError::new(
            StoreErrorKind::Unreachable,
            format!("{} (dialling again in {wait} ms)", self.last_error),
        ))
    }

    /// The store was unreachable: wait twice as long as last time (100 ms to 5 s).
    fn failed(&mut self, error: &StoreError) {
        self.delay = (self.delay * 2).clamp(BACKOFF.0, BACKOFF.1);
        self.retry_at = Some(Instant::now() + self.delay);
        self.last_error = error.detail().to_owned();
    }
}

/// The Redis side of a [`ReplayStore`](super::ReplayStore).
pub(crate) struct RedisStore {
    shown: String,
    target: Target,
    timeout: Duration,
    backoff: std::sync::Mutex<Backoff>,
    waiting: Semaphore,
    up: AtomicBool,
    /// Requests in a row whose answer did not come within the bound.
    timeouts_in_a_row: AtomicU64,
    failures: [AtomicU64; StoreErrorKind::ALL.len()],
    /// When the next failure may be logged (ms since `start`): at most one every 10 s.
    next_log_ms: AtomicU64,
    start: Instant,
}

impl RedisStore {
    pub(crate) fn new(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let settings = |m: String| StoreError::new(StoreErrorKind::Settings, m);
        let info = settings::url(url)?;
        let tls = matches!(info.addr(), ConnectionAddr::TcpTls { .. });
        let sentinels = settings::sentinels(&options.sentinels, tls)?;
        let any_tls = tls || sentinels.iter().any(settings::Sentinel::tls);
        if !any_tls && (options.ca.is_some() || options.client_cert.is_some()) {
            return Err(settings(
                "a CA or a client certificate is for TLS: write the URL as rediss://".into(),
            ));
        }
        let db = info.redis_settings().db();
        if options.cluster && !options.sentinels.is_empty() {
            return Err(settings(
                "a Cluster finds its own masters: give --axon.replay_store_cluster or --axon.replay_store_sentinel, not both".into(),
            ));
        }
        if options.cluster && db != 0 {
            return Err(settings(format!(
                "a Redis Cluster has only database 0: drop /{db} from the URL"
            )));
        }
        let shown = settings::shown(&info, options.cluster, &sentinels);
        let tls_config = match any_tls {
            true => Some(settings::tls(
                options.ca.as_deref(),
                options.client_cert.as_ref(),
            )?),
            false => None,
        };
        let node = Node {
            addr: info.addr().clone(),
            login: info.redis_settings().clone(),
            tls: tls_config.clone(),
        };
        let target = match options.cluster {
            false if sentinels.is_empty() => {
                Target::Master(Arc::new(Master::At(node)), Slot::default())
            }
            false => {
                let name = match info.addr() {
                    ConnectionAddr::Tcp(name, _) | ConnectionAddr::TcpTls { host: name, .. } => {
                        name.clone()
                    }
                    _ => String::new(),
                };
                let sentinels = Sentinels {
                    sentinels: sentinels
                        .iter()
                        .map(|s| s.node(tls_config.clone()))
                        .collect(),
                    name,
                    master: node,
                };
                Target::Master(Arc::new(Master::Named(sentinels)), Slot::default())
            }
            true => {
                if let Some(tls_config) = tls_config {
                    let source = (options.ca.clone(), options.client_cert.clone());
                    connect::set_cluster_tls(source, tls_config)?;
                }
                let client = ClusterClient::builder(vec![info])
                    .connection_timeout(CONNECT_TIMEOUT)
                    .min_retry_wait(BACKOFF.0.as_millis() as u64)
                    .max_retry_wait(BACKOFF.1.as_millis() as u64)
                    .build()
                    .map_err(|e| StoreError::caused(StoreErrorKind::Settings, e.to_string(), e))?;
                Target::Cluster(client, Slot::default())
            }
        };
        Ok(RedisStore {
            shown,
            target,
            timeout: options.timeout,
            backoff: std::sync::Mutex::default(),
            waiting: Semaphore::new(options.max_waiting.clamp(1, Semaphore::MAX_PERMITS)),
            up: AtomicBool::new(false),
            timeouts_in_a_row: AtomicU64::new(0),
            failures: Default::default(),
            next_log_ms: AtomicU64::new(0),
            start: Instant::now(),
        })
    }

    /// `SET key 1 NX PX retention`: true when set, false when the key was there.
    pub(crate) async fn set_once(
        &self,
        key: &str,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        let result = match self.waiting.try_acquire() {
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Busy,
                "too many requests are waiting for it",
            )),
            Ok(_permit) => match tokio::time::timeout(self.timeout, self.set(key, retention)).await
            {
                Ok(result) => result,
                Err(_) => {
                    self.timed_out();
                    Err(StoreError::timeout(self.timeout))
                }
            },
        };
        if result.is_ok() {
            self.timeouts_in_a_row.store(0, Ordering::Relaxed);
        }
        self.up.store(result.is_ok(), Ordering::Relaxed);
        if let Err(e) = &result {
            self.failed(e);
        }
        result
    }

    /// A request went unanswered within the bound. After [`STALE_AFTER`] in a row, the
    /// master's connection is forgotten, so the next request dials a new one: a connection
    /// cut without a reset (a network partition, a peer gone) would otherwise be kept until
    /// TCP gives up, many minutes later. (A Cluster's connections are its client's.)
    fn timed_out(&self) {
        let in_a_row = self.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if in_a_row < STALE_AFTER {
            return;
        }
        if let Target::Master(_, slot) = &self.target {
            // Locked: a dial is under way, and what it makes is new.
            if let Ok(mut connection) = slot.try_lock() {
                if connection.take().is_some() {
                    self.timeouts_in_a_row.store(0, Ordering::Relaxed);
                }
            }
        }
    }

    /// `SET` behind the backoff: refused at once while it runs, sent again once on a
    /// connection that turns out dead, and the backoff started again by an unreachable
    /// store.
    async fn set(&self, key: &str, retention: Duration) -> Result<bool, StoreError> {
        let backoff = || self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(refused) = backoff().wait() {
            return Err(refused);
        }
        let mut result = self.send(key, retention).await;
        if matches!(&result, Err(e) if e.kind() == StoreErrorKind::Unreachable) {
            // A connection that died while idle (Redis restarted, a proxy closed it) fails
            // its first command; the client dials again for the second, within the bound.
            result = self.send(key, retention).await;
        }
        match &result {
            Err(e) if e.kind() == StoreErrorKind::Unreachable => backoff().failed(e),
            Ok(_) => *backoff() = Backoff::default(),
            Err(_) => {}
        }
        result
    }

    async fn send(&self, key: &str, retention: Duration) -> Result<bool, StoreError> {
        let mut command = redis::cmd("SET");
        command
            .arg(key)
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(retention.as_millis().max(1) as u64);
        let reply: Result<Value, RedisError> = match &self.target {
            Target::Master(master, slot) => {
                let master = master.clone();
                let dial = || async move { master.connect().await };
                let mut connection = dialled(slot, dial).await?;
                let reply = command.query_async(&mut connection).await;
                let readonly = redis::ErrorKind::Server(ServerErrorKind::ReadOnly);
                match reply {
                    // The node is a replica now (a failover made it one), or the
                    // connection is gone: forget it, so the next dial finds the master.
                    Err(e) if e.kind() == readonly => {
                        *slot.lock().await = None;
                        let detail = format!("the master turned replica (a failover): {e}");
                        return Err(StoreError::caused(StoreErrorKind::Unreachable, detail, e));
                    }
                    Err(e) if e.is_io_error() || e.is_unrecoverable_error() => {
                        *slot.lock().await = None;
                        Err(e)
                    }
                    reply => reply,
                }
            }
            Target::Cluster(client, slot) => {
                let client = client.clone();
                let dial = || async move {
                    let connection = client.get_async_generic_connection::<NodeConnection>();
                    connection.await.map_err(failure)
                };
                let mut connection = dialled(slot, dial).await?;
                command.query_async(&mut connection).await
            }
        };
        match reply {
            Ok(Value::Okay) => Ok(true),
            Ok(Value::SimpleString(ok)) if ok == "OK" => Ok(true),
            Ok(Value::Nil) => Ok(false),
            Ok(other) => Err(StoreError::new(
                StoreErrorKind::Refused,
                format!("an unexpected reply to SET: {other:?}"),
            )),
            Err(e) => Err(failure(e)),
        }
    }

    /// Counts a failure and logs it, at most once every 10 s with the count since.
    fn failed(&self, error: &StoreError) {
        let index = StoreErrorKind::ALL
            .iter()
            .position(|k| *k == error.kind())
            .unwrap_or(0);
        self.failures[index].fetch_add(1, Ordering::Relaxed);
        let failures: u64 = self
            .failures
            .iter()
            .map(|f| f.load(Ordering::Relaxed))
            .sum();
        let now = self.start.elapsed().as_millis() as u64;
        let next = self.next_log_ms.load(Ordering::Relaxed);
        let claimed = now >= next
            && self
                .next_log_ms
                .compare_exchange(next, now + 10_000, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        if claimed {
            tracing::warn!(
                store = %self,
                failures,
                "{error}: requests are refused 503 until it answers (failures so far: {failures})"
            );
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub(crate) fn failures(&self, kind: StoreErrorKind) -> u64 {
        let index = StoreErrorKind::ALL.iter().position(|k| *k == kind);
        index.map_or(0, |i| self.failures[i].load(Ordering::Relaxed))
    }
}

impl fmt::Display for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The connection in `slot`, dialled now if there is none. The dial runs in a task of its
/// own, which holds the slot until it is done (at most [`DIAL_TIMEOUT`]): a request that
/// stops waiting does not cancel it, and requests that come meanwhile wait for it rather
/// than dial again.
async fn dialled<C, F, D>(slot: &Slot<C>, dial: D) -> Result<C, StoreError>
where
    C: Clone + Send + 'static,
    F: Future<Output = Result<C, StoreError>> + Send + 'static,
    D: FnOnce() -> F,
{
    let mut slot = slot.clone().lock_owned().await;
    if let Some(connection) = &*slot {
        return Ok(connection.clone());
    }
    let dial = dial();
    let task = tokio::spawn(async move {
        match tokio::time::timeout(DIAL_TIMEOUT, dial).await {
            Ok(Ok(connection)) => {
                *slot = Some(connection.clone());
                Ok(connection)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Unreachable,
                format!("no connection within {} s", DIAL_TIMEOUT.as_secs()),
            )),
        }
    });
    match task.await {
        Ok(result) => result,
        Err(e) => Err(StoreError::caused(
            StoreErrorKind::Unreachable,
            "the dial failed",
            e,
        )),
    }
}

/// The kind of a client error.
fn failure(e: RedisError) -> StoreError {
    let kind = match e.kind() {
        redis::ErrorKind::AuthenticationFailed => StoreErrorKind::Auth,
        _ if matches!(e.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM")) => StoreErrorKind::Auth,
        _ if e.is_timeout() => StoreErrorKind::Timeout,
        _ if e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || e.kind() == redis::ErrorKind::ClusterConnectionNotFound =>
        {
            StoreErrorKind::Unreachable
        }
        redis::ErrorKind::InvalidClientConfig => StoreErrorKind::Settings,
        _ => StoreErrorKind::Refused,
    };
    StoreError::caused(kind, e.to_string(), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(url: &str) -> Result<RedisStore, StoreError> {
        RedisStore::new(url, RedisOptions::default())
    }

    #[test]
    fn urls_are_read_and_shown_without_the_password() {
        let s = store("redis://:secret@10.0.0.7:6380/2").unwrap();
        assert_eq!(s.to_string(), "redis://:***@10.0.0.7:6380/2");
        // An ACL user, and a password with `/` and `:` percent-encoded.
        let s = store("rediss://miner:p%2Fss%3Aword@redis.example:6390/1").unwrap();
        assert_eq!(s.to_string(), "rediss://miner:***@redis.example:6390/1");
        assert_eq!(
            store("redis://localhost").unwrap().to_string(),
            "redis://localhost:6379/0"
        );
        assert_eq!(
            store("redis://[::1]:7000").unwrap().to_string(),
            "redis://[::1]:7000/0"
        );
        for bad in [
            "http://x",
            "redis://",
            "redis://h:port",
            "redis://h/zero",
            "127.0.0.1:6379",
        ] {
            let e = store(bad).err().unwrap();
            assert_eq!(e.kind(), StoreErrorKind::Settings, "{bad}");
            assert!(e.to_string().contains("redis://"), "{bad}: {e}");
        }
        let e = store("rediss://h/#insecure").err().unwrap();
        assert!(e.to_string().contains("--axon.replay_store_ca"), "{e}");
    }

    #[test]
    fn settings_are_checked_when_the_store_is_made() {
        let with = |url: &str, f: &dyn Fn(&mut RedisOptions)| {
            let mut options = RedisOptions::default();
            f(&mut options);
            RedisStore::new(url, options).err().map(|e| e.to_string())
        };
        let cluster = |o: &mut RedisOptions| o.cluster = true;
        let e = with("redis://h:7000/3", &cluster).unwrap();
        assert!(e.contains("only database 0: drop /3"), "{e}");
        assert_eq!(with("redis://h:7000/0", &cluster), None);
        let ca = |o: &mut RedisOptions| o.ca = Some("/nonexistent/ca.pem".into());
        let e = with("redis://h", &ca).unwrap();
        assert!(e.contains("write the URL as rediss://"), "{e}");
        let e = with("rediss://h", &ca).unwrap();
        assert!(e.contains("/nonexistent/ca.pem: cannot read it"), "{e}");
        let not_pem = std::env::temp_dir().join(format!("axon-ca-{}", std::process::id()));
        std::fs::write(&not_pem, "not a certificate").unwrap();
        let e = with("rediss://h", &|o| o.ca = Some(not_pem.clone())).unwrap();
        assert!(e.contains("no PEM certificate in it"), "{e}");
        std::fs::remove_file(&not_pem).unwrap();
    }

    #[test]
    fn sentinels_are_read_and_shown() {
        let with = |url: &str, sentinels: &[&str]| {
            let options = RedisOptions {
                sentinels: sentinels.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            };
            RedisStore::new(url, options).map(|s| s.to_string())
        };
        let named = ["10.0.0.5", "10.0.0.6:26380", "redis://[::1]"];
        assert_eq!(
            with("redis://:secret@MyMaster/2", &named).unwrap(),
            "redis://:***@MyMaster/2 (the master of sentinels 10.0.0.5:26379, 10.0.0.6:26380, [::1]:26379)"
        );
        // Sentinels with a password of their own, over TLS like the master.
        let tls = [
            "rediss://:s3cret@10.0.0.5",
            "rediss://:s3cret@10.0.0.6:26380",
        ];
        assert_eq!(
            with("rediss://miner:pw@replay/0", &tls).unwrap(),
            "rediss://miner:***@replay/0 (the master of sentinels 10.0.0.5:26379, 10.0.0.6:26380)"
        );
        let e = with("redis://m", &["redis://:a@h1", "redis://:b@h2"]).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Settings);
        assert!(e.to_string().contains("one user and password"), "{e}");
        for bad in ["http://h", "h:port", "redis://h/#insecure"] {
            let e = with("redis://m", &[bad]).unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("--axon.replay_store_sentinel {bad}")),
                "{e}"
            );
            assert!(e.to_string().contains("host[:port]"), "{e}");
        }
        let options = RedisOptions {
            cluster: true,
            sentinels: vec!["h".into()],
            ..Default::default()
        };
        let e = RedisStore::new("redis://m", options).err().unwrap();
        assert!(e.to_string().contains("not both"), "{e}");
    }

    #[tokio::test]
    async fn a_server_that_sends_without_end_is_cut_off() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Whatever it is asked, it announces a gigabyte and sends until the client leaves
        // (256 MiB at most: a client that took it all would fail this test).
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut asked = [0u8; 1024];
            let _ = socket.read(&mut asked).await.unwrap();
            socket.write_all(b"$1000000000\r\n").await.unwrap();
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0usize;
            while sent < 256 << 20 {
                if socket.write_all(&chunk).await.is_err() {
                    return (sent, true);
                }
                sent += chunk.len();
            }
            (sent, false)
        });
        let s = store(&format!("redis://127.0.0.1:{port}")).unwrap();
        let e = s.set_once("k", Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unreachable, "{e}");
        let (sent, cut_off) = server.await.unwrap();
        assert!(cut_off, "the client read all {sent} bytes");
        // What it took is the bound plus what the sockets' buffers held.
        assert!(sent < 32 << 20, "{sent} bytes sent before the cut");
    }

    #[tokio::test]
    async fn a_connection_that_stops_answering_is_replaced() {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // The first connection takes the commands and never answers, as a peer cut off
        // without a reset; the second answers each `+OK`.
        let accepted = Arc::new(AtomicU64::new(0));
        let count = accepted.clone();
        let server = tokio::spawn(async move {
            let (silent, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let (answering, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let (read, mut write) = answering.into_split();
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with('*') && write.write_all(b"+OK\r\n").await.is_err() {
                    break;
                }
            }
            drop(silent);
        });
        let options = RedisOptions {
            timeout: Duration::from_millis(100),
            ..Default::default()
        };
        let s = RedisStore::new(&format!("redis://127.0.0.1:{port}"), options).unwrap();
        for i in 0..STALE_AFTER {
            let e = s.set_once(&format!("k{i}"), Duration::from_secs(1)).await;
            assert_eq!(e.unwrap_err().kind(), StoreErrorKind::Timeout);
            assert!(
                accepted.load(Ordering::SeqCst) <= 1,
                "one connection until then"
            );
        }
        // Three in a row: the next request dials again, and is answered.
        assert!(s.set_once("k", Duration::from_secs(1)).await.unwrap());
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert!(s.is_up());
        server.abort();
    }

    /// A server on loopback that answers each command (its words) with `answer`.
    async fn fake(answer: impl Fn(&[String]) -> Vec<u8> + Send + Sync + 'static) -> u16 {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let answer = answer.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    // `*N`, then N times `$len` and the word.
                    while let Ok(Some(head)) = lines.next_line().await {
                        let n: usize = head.trim_start_matches('*').parse().unwrap();
                        let mut words = Vec::new();
                        for _ in 0..n {
                            let _len = lines.next_line().await.unwrap();
                            words.push(lines.next_line().await.unwrap().unwrap());
                        }
                        if write.write_all(&answer(&words)).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        port
    }

    /// A port nothing listens on.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn every_sentinel_is_asked_at_once() {
        // The master: a master by `ROLE`, and it takes every `SET`.
        let master = fake(|command| match command[0].as_str() {
            "ROLE" => b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n".to_vec(),
            _ => b"+OK\r\n".to_vec(),
        })
        .await;
        let names = move |command: &[String]| match command[0].as_str() {
            "SENTINEL" => {
                let port = master.to_string();
                format!("*2\r\n$9\r\n127.0.0.1\r\n${}\r\n{port}\r\n", port.len()).into_bytes()
            }
            _ => b"+OK\r\n".to_vec(),
        };
        let naming = fake(names).await;
        // A sentinel that takes the question and never answers.
        let silent = fake(|command| match command[0].as_str() {
            "SENTINEL" => Vec::new(),
            _ => b"+OK\r\n".to_vec(),
        })
        .await;
        let knows_none = fake(|_| b"*-1\r\n".to_vec()).await;
        let closed = closed_port();
        let store = |sentinels: &[u16]| {
            let options = RedisOptions {
                sentinels: sentinels.iter().map(|p| format!("127.0.0.1:{p}")).collect(),
                // Shorter than the whole dial's bound: a dial that waited for the silent
                // sentinel would leave this request unanswered.
                timeout: Duration::from_secs(4),
                ..Default::default()
            };
            RedisStore::new("redis://mymaster/0", options).unwrap()
        };
        // The silent sentinel and the closed port come first; the third names the master.
        let s = store(&[silent, closed, naming]);
        assert!(s.set_once("k", Duration::from_secs(1)).await.unwrap());
        assert!(s.is_up());
        // None names it: the error says what each said, in the order given.
        let s = store(&[closed, knows_none]);
        let e = s.set_once("k", Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unreachable, "{e}");
        let said =
            format!("no sentinel named the master mymaster: 127.0.0.1:{closed}: unreachable: ");
        assert!(e.to_string().contains(&said), "{e}");
        let said = format!("; 127.0.0.1:{knows_none}: unreachable: knows no master named mymaster");
        assert!(e.to_string().ends_with(&said), "{e}");
        assert!(std::error::Error::source(&e).is_some(), "{e}");
    }

    #[tokio::test]
    async fn nothing_listening_fails_closed_and_is_counted() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = store(&format!("redis://127.0.0.1:{port}")).unwrap();
        let e = s.set_once("k", Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Unreachable, "{e}");
        assert!(
            std::error::Error::source(&e).is_some(),
            "the client's error is kept"
        );
        // Backing off: refused at once, without a dial.
        let e = s.set_once("k", Duration::from_secs(1)).await.unwrap_err();
        assert!(e.to_string().contains("dialling again in"), "{e}");
        assert!(!s.is_up());
        assert_eq!(s.failures(StoreErrorKind::Unreachable), 2);
    }
}
