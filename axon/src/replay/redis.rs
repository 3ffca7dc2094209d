//! The Redis client of the shared replay store: one connection, owned by one task, which
//! writes every command waiting as one batch and matches the replies in order (pipelining:
//! concurrent requests share round trips). Callers wait at most the store's bound, so
//! nothing blocks an I/O thread while Redis is slow; a lost connection fails what was
//! waiting and is dialled again on the next request, backing off from 100 ms to 5 s.

use super::resp::{self, Reply};
use super::StoreError;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// How the store talks to Redis.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedisOptions {
    /// The longest a request waits for the store's answer before it is refused 503
    /// (250 ms).
    pub timeout: Duration,
    /// The most requests waiting for the store at once; beyond, refused at once (65536).
    pub max_waiting: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            timeout: Duration::from_millis(250),
            max_waiting: 65_536,
        }
    }
}

/// Where and how to connect.
#[derive(Clone)]
struct Target {
    address: String,
    password: Option<String>,
    db: Option<u32>,
}

/// The first backoff after a failed dial, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// A command waiting for its reply.
struct Job {
    command: Vec<u8>,
    reply: oneshot::Sender<Result<Reply, StoreError>>,
}

/// What the connection task and the callers share.
#[derive(Default)]
struct Health {
    up: AtomicBool,
    failures: AtomicU64,
    /// When the next failure may be logged (ms since `start`): at most one every 10 s.
    next_log_ms: AtomicU64,
}

/// The Redis side of a [`ReplayStore`](super::ReplayStore).
pub struct RedisStore {
    shown: String,
    target: Target,
    options: RedisOptions,
    jobs: OnceLock<mpsc::Sender<Job>>,
    health: Arc<Health>,
    start: Instant,
}

impl RedisStore {
    pub(crate) fn new(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let bad =
            |m: &str| StoreError::BadUrl(format!("{m}: write redis://[:password@]host:port[/db]"));
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| bad("not a redis:// URL"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (password, host) = match authority.rsplit_once('@') {
            Some((user, host)) => {
                let password = user.split_once(':').map_or(user, |(_, p)| p);
                (Some(password.to_owned()).filter(|p| !p.is_empty()), host)
            }
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let address = match host.rsplit_once(':') {
            Some((_, port)) if port.parse::<u16>().is_ok() => host.to_owned(),
            _ if host.ends_with(']') || !host.contains(':') => format!("{host}:6379"),
            _ => return Err(bad("a bad port")),
        };
        let db = match path {
            "" => None,
            db => Some(
                db.parse()
                    .map_err(|_| bad("a database that is not a number"))?,
            ),
        };
        let shown = match (&password, db) {
            (Some(_), Some(db)) => format!("redis://:***@{address}/{db}"),
            (Some(_), None) => format!("redis://:***@{address}"),
            (None, Some(db)) => format!("redis://{address}/{db}"),
            (None, None) => format!("redis://{address}"),
        };
        Ok(RedisStore {
            shown,
            target: Target {
                address,
                password,
                db,
            },
            options,
            jobs: OnceLock::new(),
            health: Arc::default(),
            start: Instant::now(),
        })
    }

    /// `SET key 1 NX PX retention`: true when set, false when the key was there.
    pub(crate) async fn set_once(
        &self,
        key: &str,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        let ms = retention.as_millis().max(1).to_string();
        let mut command = Vec::with_capacity(80);
        resp::command(
            &mut command,
            &[b"SET", key.as_bytes(), b"1", b"NX", b"PX", ms.as_bytes()],
        );
        let result = match self.exchange(command).await {
            Ok(Reply::Simple(ok)) if ok == "OK" => Ok(true),
            Ok(Reply::Bulk(None)) => Ok(false),
            Ok(Reply::Error(e)) => Err(StoreError::Refused(e)),
            Ok(other) => Err(StoreError::Refused(format!("unexpected reply {other:?}"))),
            Err(e) => Err(e),
        };
        self.health.up.store(result.is_ok(), Ordering::Relaxed);
        if let Err(e) = &result {
            self.failed(e);
        }
        result
    }

    /// Sends one command and waits for its reply, at most the store's bound.
    async fn exchange(&self, command: Vec<u8>) -> Result<Reply, StoreError> {
        let jobs = self.jobs.get_or_init(|| {
            let (tx, rx) = mpsc::channel(self.options.max_waiting.max(1));
            tokio::spawn(run(self.target.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        jobs.try_send(Job { command, reply })
            .map_err(|_| StoreError::Unreachable("too many requests are waiting for it".into()))?;
        match tokio::time::timeout(self.options.timeout, answer).await {
            Err(_) => Err(StoreError::Timeout(self.options.timeout)),
            Ok(Err(_)) => Err(StoreError::Unreachable("its connection task ended".into())),
            Ok(Ok(result)) => result,
        }
    }

    /// Counts a failure and logs it, at most once every 10 s with the count since.
    fn failed(&self, error: &StoreError) {
        let failures = self.health.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let now = self.start.elapsed().as_millis() as u64;
        let next = self.health.next_log_ms.load(Ordering::Relaxed);
        let claimed = now >= next
            && self
                .health
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
        self.health.up.load(Ordering::Relaxed)
    }

    pub(crate) fn failures(&self) -> u64 {
        self.health.failures.load(Ordering::Relaxed)
    }
}

impl fmt::Display for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The connection task: dials when a command comes, serves until the connection fails,
/// then fails fast (backing off) until the next dial; ends when the store is dropped.
async fn run(target: Target, mut jobs: mpsc::Receiver<Job>) {
    let mut backoff = BACKOFF.0;
    let mut retry_at = Instant::now();
    while let Some(first) = jobs.recv().await {
        let now = Instant::now();
        if now < retry_at {
            let wait = (retry_at - now).as_millis();
            let why = format!("{} (dialling again in {wait} ms)", target.address);
            let _ = first.reply.send(Err(StoreError::Unreachable(why)));
            continue;
        }
        let dialled = tokio::time::timeout(BACKOFF.1, dial(&target)).await;
        let stream = match dialled {
            Ok(Ok(stream)) => stream,
            failed => {
                let why = failed.unwrap_or_else(|_| {
                    let secs = BACKOFF.1.as_secs();
                    Err(format!("{}: no connection within {secs} s", target.address))
                });
                let why = why.err().unwrap_or_default();
                let _ = first.reply.send(Err(StoreError::Unreachable(why)));
                retry_at = Instant::now() + backoff;
                backoff = (backoff * 2).min(BACKOFF.1);
                continue;
            }
        };
        backoff = BACKOFF.0;
        if serve(stream, first, &mut jobs).await.is_none() {
            return;
        }
    }
}

/// Connects, authenticates and selects the database.
async fn dial(target: &Target) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(&target.address)
        .await
        .map_err(|e| format!("{}: {e}", target.address))?;
    let _ = stream.set_nodelay(true);
    let db = target.db.map(|d| d.to_string());
    let mut setup: Vec<Vec<&[u8]>> = Vec::new();
    if let Some(password) = &target.password {
        setup.push(vec![b"AUTH", password.as_bytes()]);
    }
    if let Some(db) = &db {
        setup.push(vec![b"SELECT", db.as_bytes()]);
    }
    let mut buf = Vec::new();
    for args in setup {
        let mut command = Vec::new();
        resp::command(&mut command, &args);
        stream
            .write_all(&command)
            .await
            .map_err(|e| e.to_string())?;
        let reply = loop {
            if let Some((reply, used)) = resp::parse(&buf)? {
                buf.drain(..used);
                break reply;
            }
            if stream.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
                return Err(format!("{}: closed while connecting", target.address));
            }
        };
        if let Reply::Error(e) = reply {
            let what = String::from_utf8_lossy(args[0]);
            return Err(format!("{}: {what} refused: {e}", target.address));
        }
    }
    Ok(stream)
}

/// Serves jobs on `stream`, `first` included, until it fails (every waiting job is failed,
/// `Some`) or the store is dropped (`None`).
async fn serve(stream: TcpStream, first: Job, jobs: &mut mpsc::Receiver<Job>) -> Option<()> {
    let (mut read, mut write) = stream.into_split();
    let mut waiting: VecDeque<oneshot::Sender<Result<Reply, StoreError>>> = VecDeque::new();
    let mut out = Vec::new();
    let mut buf = Vec::with_capacity(4096);
    let mut next = Some(first);
    let failure = loop {
        // Everything waiting goes out in one write.
        while let Some(job) = next.take().or_else(|| jobs.try_recv().ok()) {
            out.extend_from_slice(&job.command);
            waiting.push_back(job.reply);
        }
        if !out.is_empty() {
            if let Err(e) = write.write_all(&out).await {
                break e.to_string();
            }
            out.clear();
        }
        tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => next = Some(job),
                None => return None,
            },
            read = read.read_buf(&mut buf) => {
                match read {
                    Ok(0) => break "closed by Redis".to_owned(),
                    Err(e) => break e.to_string(),
                    Ok(_) => {}
                }
                let mut failed = None;
                loop {
                    match resp::parse(&buf) {
                        Ok(Some((reply, used))) => {
                            buf.drain(..used);
                            match waiting.pop_front() {
                                Some(tx) => { let _ = tx.send(Ok(reply)); }
                                None => { failed = Some("a reply nobody asked for".to_owned()); break; }
                            }
                        }
                        Ok(None) => break,
                        Err(e) => { failed = Some(e); break; }
                    }
                }
                if let Some(e) = failed {
                    break e;
                }
            }
        }
    };
    for tx in waiting {
        let _ = tx.send(Err(StoreError::Unreachable(failure.clone())));
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_and_shown_without_the_password() {
        let o = RedisOptions::default;
        let s = RedisStore::new("redis://:secret@10.0.0.7:6380/2", o()).unwrap();
        assert_eq!(s.to_string(), "redis://:***@10.0.0.7:6380/2");
        assert_eq!(s.target.password.as_deref(), Some("secret"));
        assert_eq!(s.target.db, Some(2));
        let s = RedisStore::new("redis://localhost", o()).unwrap();
        assert_eq!(s.target.address, "localhost:6379");
        let s = RedisStore::new("redis://[::1]:7000", o()).unwrap();
        assert_eq!(s.target.address, "[::1]:7000");
        for bad in ["http://x", "redis://", "redis://h:port", "redis://h/zero"] {
            let e = RedisStore::new(bad, o()).err().unwrap();
            assert!(e.to_string().contains("write redis://"), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn nothing_listening_fails_fast_and_closed() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = RedisStore::new(
            &format!("redis://127.0.0.1:{port}"),
            RedisOptions::default(),
        )
        .unwrap();
        let e = s.set_once("k", Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(e, StoreError::Unreachable(_)), "{e}");
        // Backing off: refused at once, without a dial.
        let e = s.set_once("k", Duration::from_secs(1)).await.unwrap_err();
        assert!(e.to_string().contains("dialling again in"), "{e}");
        assert_eq!((s.is_up(), s.failures()), (false, 2));
    }
}
