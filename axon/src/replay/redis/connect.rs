//! Connections to Redis whose replies are bounded.
//!
//! The `redis` crate's reader takes whatever the server sends: a reply that announces a
//! gigabyte is buffered as it arrives, however long that takes. Our commands are a `SET`
//! a few hundred bytes long, answered with a line; so each connection here may receive at
//! most [`SLACK`] bytes more than it has sent, and is closed past that (an I/O error: the
//! store is unreachable until a new connection answers). That is why the connections are
//! dialled here, TCP and TLS, and handed to the crate's [`MultiplexedConnection`], which
//! still does the protocol: the handshake (`AUTH`, `SELECT`), the commands, the replies.
//! For the same reason the sentinels are asked here too: two commands
//! (`SENTINEL GET-MASTER-ADDR-BY-NAME`, then `ROLE` on the node it names).

use super::{failure, CONNECT_TIMEOUT};
use crate::replay::{StoreError, StoreErrorKind};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Cmd, ConnectionAddr, IntoConnectionInfo, RedisFuture};
use redis::{Pipeline, RedisConnectionInfo, Value};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::rustls::{pki_types::ServerName, ClientConfig};

/// How many bytes a connection may receive beyond what it has sent. A reply to `SET` is
/// shorter than the command; this leaves room for the handshake's replies and for errors.
pub(super) const SLACK: u64 = 64 * 1024;

/// A stream that fails once it has received [`SLACK`] bytes more than it has sent.
pub(super) struct Bounded<S> {
    inner: S,
    sent: u64,
    received: u64,
}

impl<S> Bounded<S> {
    pub(super) fn new(inner: S) -> Self {
        Bounded {
            inner,
            sent: 0,
            received: 0,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let allowed = (self.sent + SLACK).saturating_sub(self.received);
        if allowed == 0 {
            let message = format!(
                "Redis sent {} bytes more than it was asked for: the connection is closed",
                SLACK
            );
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, message)));
        }
        if buf.remaining() as u64 <= allowed {
            // The common case: the whole buffer is allowed, read into it directly.
            let before = buf.filled().len();
            let read = Pin::new(&mut self.inner).poll_read(cx, buf);
            if let Poll::Ready(Ok(())) = read {
                self.received += (buf.filled().len() - before) as u64;
            }
            return read;
        }
        // Near the bound: read into a window no larger than what is allowed.
        let mut window = [0u8; 4096];
        let room = buf.remaining().min(window.len()).min(allowed as usize);
        let mut limited = ReadBuf::new(&mut window[..room]);
        match Pin::new(&mut self.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                let read = limited.filled();
                buf.put_slice(read);
                self.received += read.len() as u64;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            self.sent += n as u64;
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A Redis server: its address (TLS or not), the credentials and database to log in with,
/// and the TLS settings for `rediss://`.
#[derive(Clone)]
pub(super) struct Node {
    pub(super) addr: ConnectionAddr,
    pub(super) login: RedisConnectionInfo,
    pub(super) tls: Option<Arc<ClientConfig>>,
}

impl Node {
    /// A bounded connection to it, logged in.
    pub(super) async fn connect(&self) -> Result<MultiplexedConnection, StoreError> {
        let (host, port, secure) = match &self.addr {
            ConnectionAddr::Tcp(host, port) => (host.as_str(), *port, false),
            ConnectionAddr::TcpTls { host, port, .. } => (host.as_str(), *port, true),
            _ => {
                let detail = "not a TCP address: name a host and port";
                return Err(StoreError::new(StoreErrorKind::Settings, detail));
            }
        };
        let unreachable =
            |e: io::Error| StoreError::caused(StoreErrorKind::Unreachable, e.to_string(), e);
        let tcp = tokio::net::TcpStream::connect((host, port));
        let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, tcp).await {
            Ok(tcp) => tcp.map_err(unreachable)?,
            Err(_) => {
                let detail = format!(
                    "{host}:{port} did not accept a connection within {} s",
                    CONNECT_TIMEOUT.as_secs()
                );
                return Err(StoreError::new(StoreErrorKind::Unreachable, detail));
            }
        };
        tcp.set_nodelay(true).map_err(unreachable)?;
        // The store bounds each answer's wait itself.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(None)
            .set_response_timeout(None);
        // No `CLIENT SETINFO` (the crate's name and version): a round trip per dial that
        // Redis before 7.2, and an ACL user allowed only `SET`, refuse.
        let login = self.login.clone().set_skip_set_lib_name();
        let handshake = tokio::time::timeout(CONNECT_TIMEOUT, async {
            match (secure, &self.tls) {
                (false, _) => {
                    let stream = Bounded::new(tcp);
                    let made = MultiplexedConnection::new_with_config(&login, stream, config);
                    let (connection, driver) = made.await.map_err(failure)?;
                    tokio::spawn(driver);
                    Ok(connection)
                }
                (true, Some(tls)) => {
                    let name = ServerName::try_from(host.to_owned()).map_err(|e| {
                        let detail = format!("{host} is not a name a certificate can hold");
                        StoreError::caused(StoreErrorKind::Settings, detail, e)
                    })?;
                    let connector = tokio_rustls::TlsConnector::from(tls.clone());
                    let stream = connector.connect(name, tcp).await.map_err(unreachable)?;
                    let stream = Bounded::new(stream);
                    let made = MultiplexedConnection::new_with_config(&login, stream, config);
                    let (connection, driver) = made.await.map_err(failure)?;
                    tokio::spawn(driver);
                    Ok(connection)
                }
                (true, None) => Err(StoreError::new(
                    StoreErrorKind::Settings,
                    "a rediss:// node without TLS settings",
                )),
            }
        });
        match handshake.await {
            Ok(result) => result,
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Unreachable,
                format!(
                    "{host}:{port} did not finish the handshake within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ),
            )),
        }
    }
}

/// The sentinels that name a master, and how to reach the master they name.
pub(super) struct Sentinels {
    pub(super) sentinels: Vec<Node>,
    /// The master's name, as the sentinels know it.
    pub(super) name: String,
    /// The master's login, TLS or not, and TLS settings (its address is the sentinels').
    pub(super) master: Node,
}

impl Sentinels {
    /// A connection to the master the sentinels name now, once the node says it is one.
    ///
    /// Every sentinel is asked at once, each within [`ASK_TIMEOUT`], and the first to name
    /// a master is believed: a sentinel that is down, or that takes the question and never
    /// answers, costs nothing while another answers. When none does, the error names what
    /// each said.
    pub(super) async fn master(&self) -> Result<MultiplexedConnection, StoreError> {
        let mut asked = tokio::task::JoinSet::new();
        for (index, sentinel) in self.sentinels.iter().enumerate() {
            let tls = matches!(self.master.addr, ConnectionAddr::TcpTls { .. });
            let ask = ask(sentinel.clone(), self.name.clone(), tls);
            asked.spawn(async move {
                let answer = tokio::time::timeout(ASK_TIMEOUT, ask).await;
                let answer = answer.unwrap_or_else(|_| {
                    let detail = format!("no answer within {} s", ASK_TIMEOUT.as_secs());
                    Err(StoreError::new(StoreErrorKind::Unreachable, detail))
                });
                (index, answer)
            });
        }
        let mut failed = Vec::new();
        while let Some(done) = asked.join_next().await {
            match done {
                Ok((_, Ok(addr))) => {
                    // The others are dropped with `asked`, which aborts them.
                    let master = Node {
                        addr,
                        ..self.master.clone()
                    };
                    return self.check(master).await;
                }
                Ok((index, Err(e))) => failed.push((index, e)),
                Err(e) => {
                    let detail = format!("a sentinel's question failed: {e}");
                    return Err(StoreError::caused(StoreErrorKind::Unreachable, detail, e));
                }
            }
        }
        failed.sort_by_key(|(index, _)| *index);
        Err(none_named(&self.name, &self.sentinels, failed))
    }

    /// A connection to `master`, if it says it is a master (a failover may have turned it
    /// into a replica since the sentinel answered).
    async fn check(&self, master: Node) -> Result<MultiplexedConnection, StoreError> {
        let mut connection = master.connect().await?;
        let role: Value = redis::cmd("ROLE")
            .query_async(&mut connection)
            .await
            .map_err(failure)?;
        match role {
            Value::Array(values) if matches!(values.first(), Some(Value::BulkString(b)) if b == b"master") => {
                Ok(connection)
            }
            _ => Err(StoreError::new(
                StoreErrorKind::Unreachable,
                format!(
                    "{} is named master of {} but is not one (a failover under way)",
                    shown_addr(&master.addr),
                    self.name
                ),
            )),
        }
    }
}

/// How long one sentinel may take to name the master: the connection, its handshake and
/// the answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// Where `sentinel` says the master `name` is; an address for TLS when `tls`.
async fn ask(sentinel: Node, name: String, tls: bool) -> Result<ConnectionAddr, StoreError> {
    let mut connection = sentinel.connect().await?;
    let mut ask = redis::cmd("SENTINEL");
    ask.arg("GET-MASTER-ADDR-BY-NAME").arg(&name);
    let reply: Option<(String, u16)> = ask.query_async(&mut connection).await.map_err(failure)?;
    let Some((host, port)) = reply else {
        let detail = format!("knows no master named {name}");
        return Err(StoreError::new(StoreErrorKind::Unreachable, detail));
    };
    Ok(match tls {
        true => ConnectionAddr::TcpTls {
            host,
            port,
            insecure: false,
            tls_params: None,
        },
        false => ConnectionAddr::Tcp(host, port),
    })
}

/// The error when no sentinel named the master `name`: each sentinel's address and what
/// went wrong with it. Its kind is `auth` if any sentinel refused the credentials (the
/// operator's to fix), `unreachable` otherwise; its cause is the first sentinel's error.
fn none_named(name: &str, sentinels: &[Node], failed: Vec<(usize, StoreError)>) -> StoreError {
    let kind = match failed.iter().any(|(_, e)| e.kind() == StoreErrorKind::Auth) {
        true => StoreErrorKind::Auth,
        false => StoreErrorKind::Unreachable,
    };
    let each: Vec<String> = failed
        .iter()
        .map(|(index, e)| {
            let at = shown_addr(&sentinels[*index].addr);
            format!("{at}: {}: {}", e.kind().label(), e.detail())
        })
        .collect();
    let detail = format!("no sentinel named the master {name}: {}", each.join("; "));
    match failed.into_iter().next() {
        Some((_, first)) => StoreError::caused(kind, detail, first),
        None => StoreError::new(StoreErrorKind::Settings, "no sentinel named"),
    }
}

/// `host:port`, or `[v6]:port`.
pub(super) fn shown_addr(addr: &ConnectionAddr) -> String {
    match addr {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
            match host.contains(':') {
                true => format!("[{host}]:{port}"),
                false => format!("{host}:{port}"),
            }
        }
        _ => "?".into(),
    }
}

/// The TLS settings of the Cluster's nodes. The Cluster client makes each node's
/// connection through [`NodeConnection::connect_with_config`], which has no state of its
/// own; so a process holds one setting, set when its Cluster store is made.
static CLUSTER_TLS: Mutex<Option<(TlsSource, Arc<ClientConfig>)>> = Mutex::new(None);

/// Where a TLS setting came from: the CA's file and the client certificate's, if any.
pub(super) type TlsSource = (
    Option<std::path::PathBuf>,
    Option<(std::path::PathBuf, std::path::PathBuf)>,
);

/// Makes `tls` the Cluster nodes' TLS setting; refused if the process holds another.
pub(super) fn set_cluster_tls(source: TlsSource, tls: Arc<ClientConfig>) -> Result<(), StoreError> {
    let mut held = CLUSTER_TLS.lock().unwrap_or_else(|p| p.into_inner());
    match &*held {
        Some((other, _)) if *other != source => Err(StoreError::new(
            StoreErrorKind::Settings,
            "a process holds one TLS setting for Redis Clusters: give every Cluster store the same CA and client certificate",
        )),
        _ => {
            *held = Some((source, tls));
            Ok(())
        }
    }
}

/// The Cluster nodes' TLS setting, if one was set.
fn cluster_tls() -> Option<Arc<ClientConfig>> {
    let held = CLUSTER_TLS.lock().unwrap_or_else(|p| p.into_inner());
    held.as_ref().map(|(_, tls)| tls.clone())
}

/// A Cluster node's connection: bounded like the others (the Cluster client dials its
/// nodes through [`redis::cluster_async::Connect`]).
#[derive(Clone)]
pub(super) struct NodeConnection(MultiplexedConnection);

impl ConnectionLike for NodeConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.0.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}

impl redis::cluster_async::Connect for NodeConnection {
    fn connect_with_config<'a, T>(info: T, _: AsyncConnectionConfig) -> RedisFuture<'a, Self>
    where
        T: IntoConnectionInfo + Send + 'a,
    {
        Box::pin(async move {
            let info = info.into_connection_info()?;
            let tls = cluster_tls();
            let node = Node {
                addr: info.addr().clone(),
                login: info.redis_settings().clone(),
                tls,
            };
            match node.connect().await {
                Ok(connection) => Ok(NodeConnection(connection)),
                // An I/O error to the Cluster client (the node is unreachable), the store's
                // error, with its cause, inside.
                Err(e) => Err(io::Error::new(io::ErrorKind::ConnectionRefused, e).into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_stream_receives_at_most_the_slack_beyond_what_it_sent() {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let mut bounded = Bounded::new(client);
        bounded.write_all(&[b'x'; 100]).await.unwrap();
        // The server sends far more than asked: the reader takes 100 + SLACK, then fails.
        let sender = tokio::spawn(async move {
            let chunk = [b'y'; 8192];
            let mut sent = 0u64;
            while server.write_all(&chunk).await.is_ok() {
                sent += chunk.len() as u64;
                if sent > 4 * SLACK {
                    break;
                }
            }
        });
        let mut received = Vec::new();
        let error = bounded.read_to_end(&mut received).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            error.to_string().contains("more than it was asked for"),
            "{error}"
        );
        assert_eq!(received.len() as u64, 100 + SLACK);
        sender.abort();
    }

    #[tokio::test]
    async fn a_reply_within_bounds_is_read_whole() {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let mut bounded = Bounded::new(client);
        bounded.write_all(b"*1\r\n$4\r\nPING\r\n").await.unwrap();
        server.write_all(b"+PONG\r\n").await.unwrap();
        drop(server);
        let mut received = Vec::new();
        bounded.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, b"+PONG\r\n");
    }
}
