//! The request pipeline of PROTOCOL.md, cheapest check first, one module per stage:
//!
//! 0. [`forwarded`]: the client's address, from a trusted proxy's `X-Forwarded-For`;
//! 1. [`route`]: `POST /{Synapse}` picks the synapse type (404 naming the served ones);
//! 2. [`preprocess`]: headers to synapse (400), stamped with the axon's terminal and the
//!    caller's address;
//! 3. [`blacklist`] (403 with its reason);
//! 4. [`verify`]: the custom verify or the default signature check (401);
//! 5. [`admission`]: at most `max_workers` requests past this point at once, the others
//!    queued by the synapse's priority (503 when the queue is full, 408 when the synapse's
//!    timeout passes while waiting); the built-in ping, which runs no handler code, needs
//!    no worker;
//! 6. [`body`]: read (bounded, 413), parse (400), check the signed body hash (400);
//! 7. [`forward`]: the handler (its own status on error, 500 on a panic, 408 and cancelled
//!    when it outlives the synapse's timeout);
//! 8. [`respond`]: JSON body and synapse headers, the axon's signature included; or, for a
//!    streaming forward, [`stream`]: the headers at once, the chunks as they are produced.
//!
//! Nothing before stage 6 reads the body, so a refused request costs its headers only.
//! A panic in any stage is caught ([`catch`]) and answered 500 `Internal Server Error
//! #<id>`, with the cause and the id in the log.

mod admission;
mod blacklist;
mod body;
pub(crate) mod catch;
mod forward;
mod forwarded;
mod preprocess;
mod refusal;
mod respond;
mod route;
mod stream;
mod verify;

pub use admission::Load;
pub(crate) use admission::{Admission, DEFAULT_MAX_WAITING};
pub(crate) use preprocess::{canonical, Identity};
pub(crate) use refusal::{Reason, Refusal, Severity};

use crate::handler::{HandlerRuntime, Reply};
use crate::metrics::{self, Metrics, StreamEnd};
use crate::server::{Connections, TrustedProxies};
use crate::verify::Verifier;
use crate::wire::HeaderLimits;
use crate::{BaseSynapse, Handlers, Synapse};
use axum::body::{Body, HttpBody};
use axum::response::Response;
use http::{header, Request};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default limit on a request body: 10 MiB.
pub(crate) const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// The timeout of a synapse that states none (Python's default).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(12);

/// The default cap on a synapse's timeout: no request holds a worker longer.
pub(crate) const DEFAULT_MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// What every request of one running axon shares.
pub(crate) struct Shared {
    pub(crate) handlers: Handlers,
    /// Where handler code runs, apart from the I/O (see `handler::runtime`).
    pub(crate) handler_runtime: HandlerRuntime,
    pub(crate) identity: Identity,
    pub(crate) verifier: Arc<Verifier>,
    pub(crate) admission: Admission,
    pub(crate) max_body: usize,
    pub(crate) max_json_depth: usize,
    pub(crate) header_limits: HeaderLimits,
    /// The longest a request may take, whatever timeout it states.
    pub(crate) max_timeout: Duration,
    pub(crate) metrics: Arc<Metrics>,
    /// The synapse listener's connections.
    pub(crate) connections: Connections,
    /// Whose word about the client is believed.
    pub(crate) proxies: TrustedProxies,
}

/// The stages of one synapse type, as a plain function pointer per type.
pub(crate) type ServeFn = fn(
    Arc<Shared>,
    Request<Body>,
    SocketAddr,
    Instant,
) -> Pin<Box<dyn Future<Output = Response> + Send>>;

/// Answers one request from `peer`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Body>,
    peer: SocketAddr,
) -> Response {
    let start = Instant::now();
    let peer = forwarded::client(&shared.proxies, peer, request.headers());
    let path = request.uri().path();
    let (synapse, serve) = match route::lookup(&shared.handlers, request.method(), path) {
        Ok(found) => found,
        Err(refusal) => {
            let name = route::shown(route::name(path));
            let call = Call::new(&shared.metrics, &name, None, peer, &request, start);
            return call.refused(&mut named(&name), &refusal, None);
        }
    };
    let metrics = shared.metrics.clone();
    let call = Call::new(&metrics, synapse, None, peer, &request, start);
    match catch::CatchUnwind(serve(shared, request, peer, start)).await {
        Ok(response) => response,
        Err(panic) => call.refused(&mut named(synapse), &Refusal::internal(panic), None),
    }
}

/// A base synapse answering for `name` (a request whose type could not be used).
fn named(name: &str) -> BaseSynapse {
    BaseSynapse {
        name: Some(name.to_owned()),
        ..BaseSynapse::default()
    }
}

/// The stages for synapse type `S`.
pub(crate) fn serve<S: Synapse>(
    shared: Arc<Shared>,
    request: Request<Body>,
    peer: SocketAddr,
    start: Instant,
) -> Pin<Box<dyn Future<Output = Response> + Send>> {
    Box::pin(stages::<S>(shared, request, peer, start))
}

async fn stages<S: Synapse>(
    shared: Arc<Shared>,
    request: Request<Body>,
    peer: SocketAddr,
    start: Instant,
) -> Response {
    let mut synapse: S = match preprocess::read(request.headers(), &shared.header_limits) {
        Ok(synapse) => synapse,
        Err(refusal) => {
            let call = Call::new(&shared.metrics, S::NAME, None, peer, &request, start);
            return call.refused(&mut named(S::NAME), &refusal, None);
        }
    };
    shared.identity.stamp(&mut synapse, peer);
    let hotkey = synapse.common().dendrite.hotkey.clone();
    let call = Call::new(
        &shared.metrics,
        S::NAME,
        hotkey.as_deref(),
        peer,
        &request,
        start,
    );
    call.arrived();

    let timeout = timeout_of(synapse.common().timeout, shared.max_timeout);
    let deadline = tokio::time::Instant::from_std(start) + timeout;
    let checks = async {
        blacklist::check(&shared.handlers, &synapse).await?;
        verify::check(&shared.handlers, &shared.verifier, &synapse, deadline).await
    };
    if let Err(refusal) = checks.await {
        return call.refused(&mut synapse, &refusal, None);
    }

    let priority = shared.handlers.priority(&synapse).await.unwrap_or(0.0);
    let (parts, body) = request.into_parts();
    let served = async {
        // A timeout of zero (or less), or checks that used it all: never admitted.
        if tokio::time::Instant::now() >= deadline {
            return Err(Refusal::expired(
                timeout,
                "before it was admitted; the forward never ran",
            ));
        }
        // The built-in ping runs no handler code: it needs no worker.
        let worker = match shared.handlers.is_ping::<S>() {
            true => None,
            false => Some(shared.admission.admit(priority, deadline, timeout).await?),
        };
        let limit = S::MAX_BODY.unwrap_or(shared.max_body);
        let read = body::read(body, &parts.headers, limit);
        let bytes = tokio::time::timeout_at(deadline, read)
            .await
            .map_err(|_| {
                Refusal::expired(
                    timeout,
                    "while its body was being read; the forward never ran",
                )
            })??;
        let (input, memo) = body::parse(&bytes, &synapse, shared.max_json_depth)?;
        let request_len = bytes.len();
        drop(bytes);
        let run = forward::run(&shared.handlers, input, shared.handler_runtime.handle());
        let reply = tokio::time::timeout_at(deadline, run)
            .await
            .map_err(|_| Refusal::expired(timeout, "in its forward, which was cancelled"))??;
        Ok::<_, Refusal>((reply, memo, request_len, worker))
    };
    match served.await {
        Ok((Reply::Synapse(out), memo, len, worker)) => {
            drop(worker);
            let response = respond::success(out, synapse, memo, len, &shared.identity, start);
            call.answered(response)
        }
        Ok((Reply::Stream(streaming), _, _, permit)) => {
            let run = stream::Run {
                runtime: shared.handler_runtime.handle().clone(),
                watch: shared.handlers.forward_watch::<S>().cloned(),
                deadline,
                timeout,
                permit,
                trailers: stream::takes_trailers(&parts.headers),
                ended: call.stream_ended(shared.metrics.clone()),
            };
            let response = stream::respond(streaming, &synapse, &shared.identity, start, run);
            call.answered(response)
        }
        Err(refusal) => call.refused(&mut synapse, &refusal, Some(&shared.identity)),
    }
}

/// How long a request may take: the synapse's timeout (12 s when it states none), at most
/// `max`; a negative one has already expired.
fn timeout_of(stated: &Option<f64>, max: Duration) -> Duration {
    match stated {
        None => DEFAULT_TIMEOUT.min(max),
        Some(t) if t.is_nan() => DEFAULT_TIMEOUT.min(max),
        Some(t) => Duration::try_from_secs_f64(t.max(0.0)).map_or(max, |d| d.min(max)),
    }
}

/// The declared body length, for the log (`-1` when not declared, as Python logs it).
fn content_length(request: &Request<Body>) -> i64 {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(-1)
}

/// One request as the log and the metrics see it: one debug line in, one out, a warning
/// for a refusal and an error for a failure; each answer and refusal counted.
struct Call<'a> {
    metrics: &'a Metrics,
    synapse: &'a str,
    hotkey: Option<&'a str>,
    peer: SocketAddr,
    bytes_in: i64,
    start: Instant,
}

impl<'a> Call<'a> {
    fn new(
        metrics: &'a Metrics,
        synapse: &'a str,
        hotkey: Option<&'a str>,
        peer: SocketAddr,
        request: &Request<Body>,
        start: Instant,
    ) -> Self {
        Call {
            metrics,
            synapse,
            hotkey,
            peer,
            bytes_in: content_length(request),
            start,
        }
    }

    fn peer(&self) -> SocketAddr {
        SocketAddr::new(canonical(self.peer.ip()), self.peer.port())
    }

    /// The synapse's row in the metrics, looked up when an answer is counted (a `Call` made
    /// only in case the stages panic costs nothing).
    fn row(&self) -> metrics::Synapse {
        self.metrics.synapse(self.synapse)
    }

    fn arrived(&self) {
        tracing::debug!(
            synapse = self.synapse,
            hotkey = self.hotkey.unwrap_or("None"),
            peer = %self.peer(),
            bytes = self.bytes_in,
            "axon <--"
        );
    }

    fn answered(&self, response: Response) -> Response {
        let status = response.status().as_u16();
        self.metrics
            .answered(self.row(), status, self.start.elapsed());
        tracing::debug!(
            synapse = self.synapse,
            hotkey = self.hotkey.unwrap_or("None"),
            peer = %self.peer(),
            bytes = response.body().size_hint().exact().unwrap_or(0),
            status = response.status().as_u16(),
            "axon -->"
        );
        response
    }

    /// Counts a stream in flight, then logs and counts how it ended: a debug line, or an
    /// error for a failure.
    fn stream_ended(&self, metrics: Arc<Metrics>) -> stream::OnEnd {
        let synapse = self.synapse.to_owned();
        let hotkey = self.hotkey.unwrap_or("None").to_owned();
        let peer = self.peer();
        let row = self.row();
        metrics.stream_started();
        Box::new(move |result| {
            let end = match result {
                None => StreamEnd::ClientGone,
                Some(Ok(())) => StreamEnd::Completed,
                Some(Err(r)) if r.reason == Reason::Timeout => StreamEnd::TimedOut,
                Some(Err(_)) => StreamEnd::Failed,
            };
            metrics.stream_ended(row, end);
            match result {
                None => {
                    tracing::debug!(synapse, hotkey, %peer, "axon --> stream abandoned by the client")
                }
                Some(Ok(())) => tracing::debug!(synapse, hotkey, %peer, "axon --> stream ended"),
                Some(Err(refusal)) => tracing::error!(
                    synapse,
                    hotkey,
                    %peer,
                    status = refusal.status.as_u16(),
                    detail = refusal.detail.as_deref().unwrap_or(""),
                    "stream failed: {}",
                    refusal.message
                ),
            }
        })
    }

    fn refused<S: Synapse>(
        &self,
        synapse: &mut S,
        refusal: &Refusal,
        signer: Option<&Identity>,
    ) -> Response {
        self.metrics.refused(refusal.reason);
        let hotkey = self.hotkey.unwrap_or("None");
        let status = refusal.status.as_u16();
        match refusal.severity {
            Severity::Refused => tracing::warn!(
                synapse = self.synapse,
                hotkey,
                peer = %self.peer(),
                status,
                "refused: {}",
                refusal.message
            ),
            Severity::Failed => tracing::error!(
                synapse = self.synapse,
                hotkey,
                peer = %self.peer(),
                status,
                detail = refusal.detail.as_deref().unwrap_or(""),
                "failed: {}",
                refusal.message
            ),
        }
        self.answered(respond::refused(synapse, refusal, signer, self.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stated_timeout_is_defaulted_and_capped() {
        let max = Duration::from_secs(300);
        assert_eq!(timeout_of(&None, max), Duration::from_secs(12));
        assert_eq!(timeout_of(&Some(f64::NAN), max), Duration::from_secs(12));
        assert_eq!(timeout_of(&Some(2.5), max), Duration::from_millis(2500));
        assert_eq!(timeout_of(&Some(1e12), max), max);
        assert_eq!(timeout_of(&Some(f64::INFINITY), max), max);
        assert_eq!(timeout_of(&Some(-1.0), max), Duration::ZERO);
        assert_eq!(
            timeout_of(&None, Duration::from_secs(5)),
            Duration::from_secs(5)
        );
    }
}
