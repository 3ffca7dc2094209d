//! The listening socket and its accept loop: HTTP/1.1 connections served by the request
//! [`pipeline`](crate::pipeline), stopped gracefully.

use super::proxies::{self, Prefixed, TrustedProxies};
use super::Limits;
use crate::pipeline::{self, Shared};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// Opens a listening socket on `addr`. An IPv6 address takes IPv4 clients too (`[::]`
/// serves both, whatever the system's `bindv6only` default).
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// The open connections of a listener, at most `max`.
#[derive(Clone)]
pub(crate) struct Connections {
    slots: Arc<Semaphore>,
    max: usize,
}

impl Connections {
    /// At most `max` (at least one) connections open at once.
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Connections {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// How many are open.
    pub(crate) fn open(&self) -> usize {
        self.max - self.slots.available_permits()
    }
}

/// A running accept loop.
pub(crate) struct Listening {
    local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Listening {
    /// Serves `listener` with `app` on the current tokio runtime, within `limits`, with at
    /// most as many connections open as `connections` has permits.
    ///
    /// A connection from one of `proxies` may open with a PROXY header (read within the
    /// header-read timeout); its requests then come from the client it names.
    pub(crate) fn spawn(
        listener: TcpListener,
        app: Router,
        limits: &Limits,
        connections: &Connections,
        proxies: Option<Arc<TrustedProxies>>,
    ) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_header_size(limits.max_header_bytes)
            .max_headers(limits.max_headers);
        let slots = connections.slots.clone();
        let proxy = proxies.map(|trusted| ProxyHeaders {
            trusted,
            timeout: limits.header_read_timeout,
        });
        let task = tokio::spawn(accept_loop(listener, app, http, slots, proxy, stopped));
        Ok(Listening {
            local_addr,
            stop,
            task,
        })
    }

    /// Where it listens.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting (the socket is closed, so new connections are refused), lets every
    /// request in flight finish and be answered, closes idle connections, and returns
    /// once every connection is closed.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!("the accept loop failed: {e}");
        }
    }

    /// Stops accepting without waiting (for `Drop`).
    pub(crate) fn stop_now(self) {
        let _ = self.stop.send(());
    }
}

/// The synapse listener's app: every path goes through the pipeline, which answers unknown
/// names.
pub(crate) fn pipeline(shared: Arc<Shared>) -> Router {
    Router::new().fallback(endpoint).with_state(shared)
}

/// The one route of [`pipeline`].
async fn endpoint(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    pipeline::handle(shared, request, peer).await
}

/// Which connections may open with a PROXY header, and how long it may take to arrive.
struct ProxyHeaders {
    trusted: Arc<TrustedProxies>,
    timeout: Duration,
}

/// Accepts connections while fewer than the cap are open (beyond it, new ones wait in the
/// kernel's backlog) and serves each on its own task.
async fn accept_loop(
    listener: TcpListener,
    app: Router,
    http: http1::Builder,
    connections: Arc<Semaphore>,
    proxy: Option<ProxyHeaders>,
    mut stop: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = connections.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of
                    // spinning; the loop itself must not die.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let http = http.clone();
        let watcher = graceful.watcher();
        let proxy = proxy
            .as_ref()
            .filter(|p| p.trusted.contains(peer.ip()))
            .map(|p| p.timeout);
        tokio::spawn(async move {
            let mut stream = stream;
            let (first, client) = match proxy {
                None => (Vec::new(), peer),
                Some(timeout) => {
                    match tokio::time::timeout(timeout, proxies::read_header(&mut stream)).await {
                        Ok(Ok((client, first))) => (first, client.unwrap_or(peer)),
                        Ok(Err(e)) => {
                            tracing::warn!(%peer, "closed a proxy's connection: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "closed a proxy's connection: no request in time");
                            return;
                        }
                    }
                }
            };
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(client));
                    app.clone().oneshot(request)
                });
            let io = TokioIo::new(Prefixed::new(first, stream));
            if let Err(e) = watcher.watch(http.serve_connection(io, service)).await {
                tracing::debug!(%peer, "connection closed: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
