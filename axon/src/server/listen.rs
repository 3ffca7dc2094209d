//! The listening socket and its accept loop: HTTP/1.1 connections, each request answered
//! by an app (the request [`pipeline`](crate::pipeline) for the synapse listener, a small
//! router for the operations listener) given the client's address, stopped gracefully.

use super::connections::{Closed, Connections, HandshakeFailure, Held, Tracked, Transport};
use super::handshakes::{HandshakeBudget, Spent};
use super::Limits;
use crate::net::{self, Prefixed, TrustedProxies};
use axum::body::Body;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use socket2::{Domain, Protocol, Socket, Type};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What a listener answers each request with, given the client's address (the PROXY
/// header's client, if the connection had one).
pub(crate) trait App: Send + Sync + 'static {
    /// The answer's future.
    type Answer: Future<Output = Response> + Send + 'static;
    /// Answers `request` from `client`.
    fn call(&self, request: http::Request<Body>, client: SocketAddr) -> Self::Answer;
}

impl<F, A> App for F
where
    F: Fn(http::Request<Body>, SocketAddr) -> A + Send + Sync + 'static,
    A: Future<Output = Response> + Send + 'static,
{
    type Answer = A;

    fn call(&self, request: http::Request<Body>, client: SocketAddr) -> A {
        self(request, client)
    }
}

/// Opens a listening socket on `addr`. An IPv6 address takes IPv4 clients too (`[::]`
/// serves both, whatever the system's `bindv6only` default). With `reuse_port`, other
/// processes may listen on the same port (`SO_REUSEPORT`: the kernel spreads new
/// connections between them).
pub(crate) fn bind(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// A running accept loop.
pub(crate) struct Listening {
    local_addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Listening {
    /// Serves `listener` with `app` on the current tokio runtime, within `limits`, its
    /// connections kept in `connections` (the cap, the share of one address, eviction).
    ///
    /// A connection from one of `proxies` may open with a PROXY header (read within the
    /// header-read timeout); its requests then come from the client it names.
    ///
    /// With `tls`, a connection whose first byte (after a PROXY header) opens a TLS
    /// handshake record is served over TLS; the handshake must finish within the
    /// first-head timeout, and at most `limits.tls_handshakes_per_address` a second start
    /// from one client address (after a burst of its connection share), and
    /// `limits.tls_handshakes_per_second` from all.
    pub(crate) fn spawn<A: App>(
        listener: TcpListener,
        app: A,
        limits: &Limits,
        connections: &Connections,
        proxies: Option<Arc<TrustedProxies>>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_header_size(limits.max_header_bytes)
            .max_headers(limits.max_headers);
        let proxy = proxies.map(|trusted| ProxyHeaders {
            trusted,
            timeout: limits.header_read_timeout,
        });
        let serving = Serving {
            app,
            http,
            connections: connections.clone(),
            proxy,
            first_head: limits.first_head_timeout,
            tls: tls.map(|acceptor| Tls {
                acceptor,
                budget: HandshakeBudget::new(
                    limits.tls_handshakes_per_address,
                    limits.max_connections_per_address,
                    limits.tls_handshakes_per_second,
                ),
            }),
        };
        let task = tokio::spawn(accept_loop(listener, serving, stopped));
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

/// Which connections may open with a PROXY header, and how long it may take to arrive.
struct ProxyHeaders {
    trusted: Arc<TrustedProxies>,
    timeout: Duration,
}

/// What the accept loop serves its connections with.
struct Serving<A> {
    app: A,
    http: http1::Builder,
    connections: Connections,
    proxy: Option<ProxyHeaders>,
    first_head: Duration,
    tls: Option<Tls>,
}

/// TLS beside plain HTTP: the acceptor, and what each address may spend on handshakes.
struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    budget: HandshakeBudget,
}

/// Accepts connections while there is room (below the cap, or an idle connection to
/// close; otherwise new ones wait in the kernel's backlog) and serves each on its own task.
async fn accept_loop<A: App>(
    listener: TcpListener,
    serving: Serving<A>,
    mut stop: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let serving = Arc::new(serving);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = serving.connections.room() => {}
        }
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
        let held = match serving.connections.admit(peer.ip()) {
            Ok(held) => held,
            Err(reason) => {
                tracing::debug!(%peer, "closed a new connection: {}", reason.label());
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let watcher = graceful.watcher();
        let serving = serving.clone();
        tokio::spawn(async move {
            let serve =
                serve_connection(stream, peer, &serving, &held, &serving.http, Some(watcher));
            tokio::select! {
                _ = serve => {}
                _ = held.conn().evicted() => {
                    tracing::debug!(%peer, "closed an idle connection: the connection cap was reached");
                }
            }
            drop(held);
        });
    }
    // Connections the kernel completed before the socket closes would be reset with their
    // request unread (behind a proxy: a 502; with `SO_REUSEPORT`: a reset the client must
    // retry). Take them now and answer the request each carries, then close.
    let late = match listener.into_std() {
        Ok(listener) => backlog(&listener, &serving),
        Err(e) => {
            tracing::warn!("could not take the pending connections: {e}");
            Vec::new()
        }
    };
    graceful.shutdown().await;
    for task in late {
        let _ = task.await;
    }
}

/// Accepts the connections waiting in `listener`'s backlog and serves one request on each
/// (keep-alive off), outside the graceful shutdown, which would close them unread.
fn backlog<A: App>(
    listener: &std::net::TcpListener,
    serving: &Arc<Serving<A>>,
) -> Vec<JoinHandle<()>> {
    let mut once = serving.http.clone();
    once.keep_alive(false);
    let once = Arc::new(once);
    let mut tasks = Vec::new();
    while let Ok((stream, peer)) = listener.accept() {
        let stream = match stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream))
        {
            Ok(stream) => stream,
            Err(_) => continue,
        };
        let Ok(held) = serving.connections.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (serving, once) = (serving.clone(), once.clone());
        tasks.push(tokio::spawn(async move {
            serve_connection(stream, peer, &serving, &held, &once, None).await;
            drop(held);
        }));
    }
    if !tasks.is_empty() {
        tracing::debug!(
            connections = tasks.len(),
            "answering the connections pending at close"
        );
    }
    tasks
}

/// Serves one connection until it closes.
async fn serve_connection<A: App>(
    mut stream: TcpStream,
    peer: SocketAddr,
    serving: &Arc<Serving<A>>,
    held: &Held,
    http: &http1::Builder,
    watcher: Option<hyper_util::server::graceful::Watcher>,
) {
    let trusted_proxy = serving
        .proxy
        .as_ref()
        .filter(|p| p.trusted.contains(peer.ip()))
        .map(|p| p.timeout);
    let (first, client) = match trusted_proxy {
        None => (Vec::new(), peer),
        Some(timeout) => match tokio::time::timeout(timeout, net::read_header(&mut stream)).await {
            Ok(Ok((client, first))) => (first, client.unwrap_or(peer)),
            Ok(Err(e)) => {
                tracing::warn!(%peer, "closed a proxy's connection: {e}");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "closed a proxy's connection: no request in time");
                return;
            }
        },
    };
    // A client sends its request (or its TLS handshake) as soon as it connects; the
    // handshake too must be done by then. (`peek` waits for a byte without taking it;
    // `readable` may report a fresh socket ready at once.)
    let deadline = tokio::time::Instant::now() + serving.first_head;
    let opening = match first.first() {
        Some(&byte) => byte,
        None => {
            let mut byte = [0u8; 1];
            match tokio::time::timeout_at(deadline, stream.peek(&mut byte)).await {
                Ok(Ok(1)) => byte[0],
                Ok(_) => return, // closed, or failed, before sending anything
                Err(_) => {
                    serving.connections.count(Closed::FirstHead);
                    tracing::debug!(%peer, "closed a connection: nothing sent in time");
                    return;
                }
            }
        }
    };
    let io = Prefixed::new(first, stream);
    match &serving.tls {
        Some(tls) if opening == net::TLS_HANDSHAKE_RECORD => {
            // The client's address (a trusted proxy's PROXY header names it) pays.
            if let Err(spent) = tls.budget.admit(client.ip()) {
                let (closed, whose) = match spent {
                    Spent::Address => (Closed::HandshakesPerAddress, "the address's"),
                    Spent::Total => (Closed::HandshakesPerSecond, "the overall"),
                };
                serving.connections.count(closed);
                tracing::debug!(%peer, client = %client.ip(), "closed a connection: {whose} TLS handshake budget is spent");
                return;
            }
            let tls = match tokio::time::timeout_at(deadline, tls.acceptor.accept(io)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    let reason = handshake_failure(&e);
                    serving.connections.count_handshake_failure(reason);
                    tracing::debug!(%peer, "closed a connection: TLS handshake failed ({}): {e}", reason.label());
                    return;
                }
                Err(_) => {
                    serving.connections.count(Closed::FirstHead);
                    serving
                        .connections
                        .count_handshake_failure(HandshakeFailure::Timeout);
                    tracing::debug!(%peer, "closed a connection: TLS handshake not done in time");
                    return;
                }
            };
            serving.connections.count_transport(Transport::Tls);
            serve_http(
                TokioIo::new(tls),
                client,
                serving,
                held,
                http,
                watcher,
                peer,
            )
            .await;
        }
        _ => {
            serving.connections.count_transport(Transport::Plain);
            serve_http(TokioIo::new(io), client, serving, held, http, watcher, peer).await;
        }
    }
}

/// Why a handshake failed, from the error rustls (through tokio-rustls) gave.
fn handshake_failure(e: &io::Error) -> HandshakeFailure {
    match e.kind() {
        io::ErrorKind::InvalidData => HandshakeFailure::Rejected,
        _ => HandshakeFailure::Closed,
    }
}

/// Serves HTTP/1.1 on `io` (plain, or TLS once its handshake completed) until it closes.
async fn serve_http<A: App, I>(
    io: TokioIo<I>,
    client: SocketAddr,
    serving: &Arc<Serving<A>>,
    held: &Held,
    http: &http1::Builder,
    watcher: Option<hyper_util::server::graceful::Watcher>,
    peer: SocketAddr,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let app = serving.clone();
    let activity = held.activity();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let busy = activity.busy();
        let answered = app.app.call(request.map(Body::new), client);
        async move {
            let response = answered.await;
            // Idle again once the answer's body has been sent (or dropped).
            Ok::<_, std::convert::Infallible>(
                response.map(|body| Body::new(Tracked { body, _busy: busy })),
            )
        }
    });
    let connection = http.serve_connection(io, service);
    let served = match watcher {
        Some(watcher) => watcher.watch(connection).await,
        None => connection.await,
    };
    if let Err(e) = served {
        tracing::debug!(%peer, "connection closed: {e}");
    }
}
