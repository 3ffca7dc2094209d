//! The request pipeline, cheapest check first, one module per stage. Each stage is a
//! function of the request (and what earlier stages found) returning a [`Refusal`] to stop
//! it; [`handle`] runs them in order:
//!
//! 1. [`forwarded`]: the client's address, from a trusted proxy's `X-Forwarded-For`;
//! 2. [`route`]: `POST /{Synapse}` picks the synapse type (404 naming the served ones);
//! 3. [`preprocess`]: headers to synapse (400), stamped with the axon's terminal and the
//!    caller's address;
//! 4. [`blacklist`] (403 with its reason);
//! 5. [`verify`]: the custom verify or the default signature check (401);
//! 6. [`admission`]: at most `max_workers` requests past this point at once, the others
//!    queued by the synapse's priority (503 when the queue is full, 408 when the synapse's
//!    timeout passes while waiting); the built-in ping, which runs no handler code, needs
//!    no worker;
//! 7. [`body`]: read (bounded, 413), parse (400), check the signed body hash (400);
//! 8. [`forward`]: the handler (its own status on error, 500 on a panic, 408 and cancelled
//!    when it outlives the synapse's timeout);
//! 9. [`respond`]: JSON body and synapse headers, the axon's signature included; or, for a
//!    streaming forward, [`stream`]: the headers at once, the chunks as they are produced.
//!
//! Nothing before stage 7 reads the body, so a refused request costs its headers only.
//! A panic in any stage is caught and answered 500 `Internal Server Error #<id>`, with the
//! cause and the id in the log. Every request runs in a `request` span (synapse, peer,
//! then the claimed hotkey and nonce once read, and the hotkey once verified), carried into its forward and its stream's producer,
//! so a handler's own `tracing` lines carry those fields; [`record`] counts and logs its
//! answer.
//!
//! The pipeline knows the handler table, the verifier and the metrics, and nothing of the
//! listener or the registry above it: the registry gives it [`Routes`], the server a
//! [`Shared`] and each request with its connection's address.

mod admission;
mod blacklist;
mod body;
mod forward;
mod forwarded;
mod preprocess;
mod record;
mod refusal;
mod respond;
mod route;
mod signed;
mod stream;
mod unverified;
mod verify;

pub use admission::Load;
pub(crate) use admission::{Admission, DEFAULT_MAX_WAITING};
pub(crate) use preprocess::Identity;
pub(crate) use route::{Compiled, Kind, Routes};
pub(crate) use unverified::BodyBudget;

use crate::auth::{AuthConfig, Authenticator};
use crate::endpoint::Found;
use crate::handler::{HandlerRuntime, Reply};
use crate::keys::Keypair;
use crate::metrics::Metrics;
use crate::net::{canonical, TrustedProxies};
use crate::replay::ReplayStore;
use crate::table::Handlers;
use crate::task::CatchUnwind;
use crate::verify::Verifier;
use crate::wire::HeaderLimits;
use crate::{BaseSynapse, Synapse};
use axum::body::Body;
use axum::response::Response;
use http::Request;
use record::Recorder;
use refusal::Refusal;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::field::Empty;
use tracing::{Instrument, Span};

/// The default limit on a request body: 10 MiB.
pub(crate) const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// The timeout of a synapse that states none (Python's default).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(12);

/// The default cap on a synapse's timeout: no request holds a worker longer.
pub(crate) const DEFAULT_MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// What every request of one running axon shares.
pub(crate) struct Shared {
    pub(crate) handlers: Handlers,
    /// The stages of each served synapse type.
    pub(crate) routes: Routes,
    /// Where handler code runs, apart from the I/O (see `handler::runtime`).
    pub(crate) handler_runtime: HandlerRuntime,
    pub(crate) identity: Identity,
    pub(crate) verifier: Arc<Verifier>,
    /// The signed-HTTP endpoints' checks, sharing the verifier's replay store.
    pub(crate) auth: Arc<Authenticator>,
    /// The replay store shared with other processes, after the process's own.
    pub(crate) replay: Option<ReplayStore>,
    pub(crate) admission: Admission,
    pub(crate) max_body: usize,
    pub(crate) max_json_depth: usize,
    pub(crate) header_limits: HeaderLimits,
    /// The longest a request may take, whatever timeout it states.
    pub(crate) max_timeout: Duration,
    pub(crate) metrics: Arc<Metrics>,
    /// Whose word about the client is believed.
    pub(crate) proxies: TrustedProxies,
    /// The bytes bodies not yet verified may hold (signed-HTTP endpoints).
    pub(crate) unverified: Arc<BodyBudget>,
    /// How long a signed-HTTP request's body may take to arrive.
    pub(crate) body_timeout: Duration,
}

/// What a running axon's requests are served with, apart from its table and its keys: the
/// server's settings, as the pipeline reads them.
pub(crate) struct Settings {
    /// Forwards running at once; one handler thread each.
    pub(crate) workers: usize,
    /// Requests that may wait for a worker.
    pub(crate) waiting: usize,
    pub(crate) max_body: usize,
    pub(crate) max_json_depth: usize,
    pub(crate) max_timeout: Duration,
    pub(crate) body_timeout: Duration,
    /// The bytes of bodies not yet verified: per client address, and in total.
    pub(crate) unverified_per_address: usize,
    pub(crate) unverified_total: usize,
    pub(crate) auth: AuthConfig,
    pub(crate) replay: Option<ReplayStore>,
    pub(crate) proxies: TrustedProxies,
}

impl Shared {
    /// The shared state of an axon serving `handlers` (by `routes`) with `hotkey`, checking
    /// synapse signatures with `verifier` (whose replay store the signed-HTTP endpoints
    /// share). Fails when the handler threads cannot be started.
    pub(crate) fn new(
        handlers: Handlers,
        routes: Routes,
        hotkey: Keypair,
        verifier: Arc<Verifier>,
        settings: Settings,
    ) -> std::io::Result<Shared> {
        let names: Vec<&'static str> = handlers.synapses().collect();
        let endpoints: Vec<&'static str> = handlers.signed().labels().collect();
        let largest_body = handlers.signed().largest_body(settings.max_body);
        let (store, retention) = verifier.store();
        let auth = Authenticator::sharing(verifier.hotkey(), settings.auth, store, retention);
        Ok(Shared {
            handler_runtime: HandlerRuntime::new(settings.workers)?,
            metrics: Arc::new(Metrics::with_endpoints(names, endpoints)),
            handlers,
            routes,
            identity: Identity::new(hotkey),
            verifier,
            auth: Arc::new(auth),
            replay: settings.replay,
            admission: Admission::new(settings.workers, settings.waiting),
            max_body: settings.max_body,
            max_json_depth: settings.max_json_depth,
            header_limits: HeaderLimits::default(),
            max_timeout: settings.max_timeout,
            proxies: settings.proxies,
            unverified: BodyBudget::new(
                settings.unverified_per_address,
                settings.unverified_total,
                largest_body,
            ),
            body_timeout: settings.body_timeout,
        })
    }
}

/// The stages of one synapse type.
pub(crate) type ServeFn = Arc<
    dyn Fn(
            Arc<Shared>,
            Request<Body>,
            SocketAddr,
            Recorder,
        ) -> Pin<Box<dyn Future<Output = Response> + Send>>
        + Send
        + Sync,
>;

/// Answers one request from `peer`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Body>,
    peer: SocketAddr,
) -> Response {
    let start = Instant::now();
    let peer = forwarded::client(&shared.proxies, peer, request.headers());
    let path = request.uri().path();
    match shared
        .handlers
        .signed()
        .find(request.method().as_str(), path)
    {
        Found::None => {}
        Found::Endpoint(endpoint) => {
            let endpoint = endpoint.clone();
            let label = endpoint.declaration.label();
            let record = Recorder::new(shared.metrics.clone(), Some(label), &request, start);
            let span = request_span(label, peer);
            let stages = signed::serve(shared, endpoint, request, peer, record.clone());
            return match CatchUnwind(Box::pin(stages.instrument(span.clone()))).await {
                Ok(response) => response,
                Err(panic) => {
                    let _span = span.entered();
                    record.refused_plain(&Refusal::internal(panic))
                }
            };
        }
        Found::Method(methods) => {
            let record = Recorder::new(shared.metrics.clone(), None, &request, start);
            let _span = request_span(&route::shown(path), peer).entered();
            let refusal = Refusal::new(
                crate::metrics::Reason::Method,
                http::StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "Method {} not allowed on {}: call {}",
                    request.method(),
                    route::shown(path),
                    methods.join(" or ")
                ),
            );
            return record.refused_plain(&refusal);
        }
    }
    let (synapse, serve) =
        match route::lookup(&shared.routes, &shared.handlers, request.method(), path) {
            Ok(found) => found,
            Err(refusal) => {
                let name = route::shown(route::name(path));
                let record = Recorder::new(shared.metrics.clone(), None, &request, start);
                let _span = request_span(&name, peer).entered();
                return record.refused(&mut named(&name), &refusal, None);
            }
        };
    let record = Recorder::new(shared.metrics.clone(), Some(synapse), &request, start);
    let span = request_span(synapse, peer);
    let stages = serve.clone()(shared, request, peer, record.clone()).instrument(span.clone());
    match CatchUnwind(Box::pin(stages)).await {
        Ok(response) => response,
        Err(panic) => {
            let _span = span.entered();
            record.refused(&mut named(synapse), &Refusal::internal(panic), None)
        }
    }
}

/// The span every line logged about a request carries: `claimed_hotkey` and `nonce` once
/// the headers are read, `hotkey` only once its signature verified, so a line about a
/// request nobody proved never names its hotkey as the caller.
fn request_span(synapse: &str, peer: SocketAddr) -> Span {
    let peer = SocketAddr::new(canonical(peer.ip()), peer.port());
    tracing::info_span!(
        "request",
        synapse,
        %peer,
        claimed_hotkey = Empty,
        hotkey = Empty,
        nonce = Empty
    )
}

/// A base synapse answering for `name` (a request whose type could not be used).
fn named(name: &str) -> BaseSynapse {
    BaseSynapse {
        name: Some(name.to_owned()),
        ..BaseSynapse::default()
    }
}

/// The stages for the synapse type `kind`.
pub(crate) fn serve<K: route::Kind>(kind: K) -> ServeFn {
    Arc::new(move |shared, request, peer, record| {
        Box::pin(stages(kind.clone(), shared, request, peer, record))
    })
}

async fn stages<K: route::Kind>(
    kind: K,
    shared: Arc<Shared>,
    request: Request<Body>,
    peer: SocketAddr,
    record: Recorder,
) -> Response {
    let mut synapse = match preprocess::read(&kind, request.headers(), &shared.header_limits) {
        Ok(synapse) => synapse,
        Err(refusal) => return record.refused(&mut named(kind.name()), &refusal, None),
    };
    shared.identity.stamp(&mut synapse, peer);
    let span = Span::current();
    if let Some(hotkey) = &synapse.common().dendrite.hotkey {
        span.record("claimed_hotkey", hotkey.as_str());
    }
    if let Some(nonce) = synapse.common().dendrite.nonce {
        span.record("nonce", nonce);
    }
    refiltered(checked(shared, request, synapse, record)).await
}

/// `RUST_LOG` span directives (`[request{claimed_hotkey=5F..}]=debug`) are decided when a
/// span is entered, and a field recorded since then counts only from the next entry: enter
/// the request's span again around what follows a `record`, so that its lines (in this
/// same poll too) are filtered with the fields just read.
fn refiltered<F: Future>(stages: F) -> tracing::instrument::Instrumented<F> {
    stages.instrument(Span::current())
}

/// Stages 4 to 9, once the headers are read and recorded in the span.
async fn checked<S: Synapse>(
    shared: Arc<Shared>,
    request: Request<Body>,
    mut synapse: S,
    record: Recorder,
) -> Response {
    let span = Span::current();
    record.arrived();

    let timeout = timeout_of(synapse.common().timeout, shared.max_timeout);
    let deadline = tokio::time::Instant::from_std(record.start()) + timeout;
    let checks = async {
        blacklist::check(&shared.handlers, &synapse).await?;
        verify::check(&shared.handlers, &shared.verifier, &synapse, deadline).await?;
        match &shared.replay {
            Some(store) if !shared.handlers.has_custom_verify(synapse.route()) => {
                verify::shared(store, shared.verifier.retention(), &synapse).await
            }
            _ => Ok(()),
        }
    };
    if let Err(refusal) = checks.await {
        return record.refused(&mut synapse, &refusal, None);
    }
    // Verified (by the default check, or by the synapse's own verify).
    if let Some(hotkey) = &synapse.common().dendrite.hotkey {
        span.record("hotkey", hotkey.as_str());
    }
    refiltered(admitted(
        shared, request, synapse, record, deadline, timeout,
    ))
    .await
}

/// Stages 6 to 9, once the request is verified and its hotkey recorded in the span.
async fn admitted<S: Synapse>(
    shared: Arc<Shared>,
    request: Request<Body>,
    mut synapse: S,
    record: Recorder,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Response {
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
        let worker = match shared.handlers.is_ping(synapse.route()) {
            true => None,
            false => Some(shared.admission.admit(priority, deadline, timeout).await?),
        };
        let limit = synapse.max_body().unwrap_or(shared.max_body);
        let bytes = body::read_by(
            body,
            &parts.headers,
            limit,
            deadline,
            timeout,
            "the forward",
        )
        .await?;
        let (input, memo) = body::parse(&bytes, &synapse, shared.max_json_depth)?;
        let request_len = bytes.len();
        drop(bytes);
        let run = forward::run(&shared.handlers, input, shared.handler_runtime.handle());
        let reply = tokio::time::timeout_at(deadline, run)
            .await
            .map_err(|_| Refusal::expired(timeout, "in its forward, which was cancelled"))??;
        Ok::<_, Refusal>((reply, memo, request_len, worker))
    };
    let start = record.start();
    match served.await {
        Ok((Reply::Synapse(out), memo, len, worker)) => {
            drop(worker);
            let response = respond::success(out, synapse, memo, len, &shared.identity, start);
            record.answered(response)
        }
        Ok((Reply::Stream(streaming), _, _, permit)) => {
            let run = stream::Run {
                runtime: shared.handler_runtime.handle().clone(),
                watch: shared.handlers.forward_watch(synapse.route()).cloned(),
                deadline,
                timeout,
                permit,
                trailers: stream::takes_trailers(&parts.headers),
                ended: record.stream_ended(),
            };
            let response = stream::respond(streaming, &synapse, &shared.identity, start, run);
            record.answered(response)
        }
        Err(refusal) => record.refused(&mut synapse, &refusal, Some(&shared.identity)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dendrite::Dendrite;
    use crate::keys::Keypair;
    use crate::registry::TableBuilder;
    use crate::state::States;
    use crate::AxonInfo;

    /// A running axon's shared state for `hotkey`, with only the ping endpoint: the
    /// pipeline without a listener.
    fn shared(hotkey: Keypair) -> Arc<Shared> {
        shared_with(hotkey, &[])
    }

    /// [`shared`] with `entries` in its table.
    fn shared_with(hotkey: Keypair, entries: &[crate::registry::Entry]) -> Arc<Shared> {
        let built = TableBuilder::collect(&States::default(), entries).unwrap_or_else(|_| panic!());
        Arc::new(Shared {
            handlers: built.handlers,
            routes: built.routes,
            handler_runtime: HandlerRuntime::new(1).unwrap(),
            verifier: Arc::new(Verifier::new(hotkey.ss58())),
            auth: Arc::new(Authenticator::new(hotkey.ss58())),
            replay: None,
            identity: Identity::new(hotkey),
            admission: Admission::new(1, 1),
            max_body: DEFAULT_MAX_BODY,
            max_json_depth: 64,
            header_limits: HeaderLimits::default(),
            max_timeout: DEFAULT_MAX_TIMEOUT,
            metrics: Arc::new(Metrics::new(["Synapse"])),
            proxies: TrustedProxies::default(),
            unverified: BodyBudget::new(64 << 20, 256 << 20, DEFAULT_MAX_BODY),
            body_timeout: Duration::from_secs(5),
        })
    }

    /// `hotkey`'s axon as a dendrite targets it.
    fn axon_of(hotkey: &Keypair) -> AxonInfo {
        AxonInfo {
            version: crate::wire::BITTENSOR_VERSION,
            ip: "127.0.0.1".into(),
            port: 8091,
            ip_type: 4,
            hotkey: hotkey.ss58().into(),
            coldkey: None,
            protocol: 4,
            placeholder1: 0,
            placeholder2: 0,
        }
    }

    fn post(path: &str, headers: &crate::wire::Headers, body: Vec<u8>) -> Request<Body> {
        let mut request = Request::post(path);
        for (name, value) in headers.iter() {
            request = request.header(name, value);
        }
        request.body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn the_stages_answer_without_a_server() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let shared = shared(alice.clone());
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let none = crate::wire::Headers::default();

        let response = handle(shared.clone(), post("/Nope", &none, Vec::new()), peer).await;
        assert_eq!(response.status(), 404);

        let target = axon_of(&alice);
        let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
        let ping = bob.sign(&target, BaseSynapse::default(), Duration::from_secs(5));
        let body = ping.to_json().unwrap();
        let request = post("/Synapse", &ping.to_headers(), body.clone());
        let response = handle(shared.clone(), request, peer).await;
        assert_eq!(response.status(), 200);
        let signed = response.headers()["bt_header_axon_signature"]
            .to_str()
            .unwrap();
        assert!(signed.starts_with("0x"), "{signed}");

        // The same request again: a replay, refused by the verify stage.
        let request = post("/Synapse", &ping.to_headers(), body);
        assert_eq!(handle(shared, request, peer).await.status(), 401);
    }

    /// An endpoint `POST /v1/x` (btauth/1 only) answering its caller's hotkey.
    fn endpoint() -> crate::registry::Entry {
        use crate::endpoint::Declaration;
        let info = crate::HandlerInfo::new(crate::HandlerKind::Endpoint, "x", file!(), line!());
        let declaration = Declaration::new("POST", "/v1/x", "POST /v1/x").epistula(false);
        crate::registry::Entry {
            info,
            synapse: None,
            register: Arc::new(move |table| {
                let serve: crate::endpoint::Serve = Arc::new(|request: Request<Body>| {
                    let caller = request.extensions().get::<crate::auth::Caller>().cloned();
                    Box::pin(async move { Response::new(Body::from(caller.unwrap().hotkey)) })
                });
                table.signed_endpoint(declaration, Some(serve), Some(None), Some(None));
            }),
        }
    }

    #[tokio::test]
    async fn a_signed_endpoint_answers_without_a_server() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap();
        let shared = shared_with(alice.clone(), &[endpoint()]);
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let headers = |method: &str, path: &str| {
            crate::auth::btauth::sign(&bob, method, path, b"{}", Some(alice.ss58()), None)
        };
        let build = |method: &str, path: &str, headers: &[(&str, String)]| {
            let mut request = Request::builder().method(method).uri(path);
            for (name, value) in headers {
                request = request.header(*name, value);
            }
            request.body(Body::from(b"{}".to_vec())).unwrap()
        };
        let signed = |method: &str, path: &str| build(method, path, &headers(method, path));
        let sent = headers("POST", "/v1/x");
        let first = handle(shared.clone(), build("POST", "/v1/x", &sent), peer).await;
        assert_eq!(first.status(), 200);
        let body = axum::body::to_bytes(first.into_body(), 1024).await.unwrap();
        assert_eq!(body, bob.ss58().as_bytes());
        // The same request again: a replay.
        let again = handle(shared.clone(), build("POST", "/v1/x", &sent), peer).await;
        assert_eq!(again.status(), 401);
        // The path with another method.
        let response = handle(shared.clone(), signed("GET", "/v1/x"), peer).await;
        assert_eq!(response.status(), 405);
        // No signature at all.
        let unsigned = Request::post("/v1/x").body(Body::empty()).unwrap();
        assert_eq!(handle(shared, unsigned, peer).await.status(), 401);
    }

    /// What a `tracing` subscriber wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Written(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Written {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Written {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    /// A span directive on a field the pipeline records after the span was entered
    /// (`claimed_hotkey`, `hotkey`) selects that request's lines, though every stage ran in
    /// one poll: the span is entered again after each record.
    #[tokio::test]
    async fn span_directives_select_a_callers_lines() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap();
        let shared = shared_with(alice.clone(), &[endpoint()]);
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let target = axon_of(&alice);
        let ping = |key: &Keypair| {
            let ping = Dendrite::new(key.clone()).sign(
                &target,
                BaseSynapse::default(),
                Duration::from_secs(5),
            );
            post("/Synapse", &ping.to_headers(), ping.to_json().unwrap())
        };
        let call = |key: &Keypair| {
            let headers =
                crate::auth::btauth::sign(key, "POST", "/v1/x", b"{}", Some(alice.ss58()), None);
            let mut request = Request::post("/v1/x");
            for (name, value) in &headers {
                request = request.header(*name, value);
            }
            request.body(Body::from(b"{}".to_vec())).unwrap()
        };
        let charlie = Keypair::from_uri("//Charlie").unwrap();
        for field in ["claimed_hotkey", "hotkey"] {
            let written = Written::default();
            let writer = written.clone();
            let filter = tracing_subscriber::EnvFilter::new(format!(
                "[request{{{field}={}}}]=debug",
                bob.ss58()
            ));
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            let _default = tracing::subscriber::set_default(subscriber);
            for (key, lines) in [(&bob, 1), (&charlie, 0)] {
                let response = handle(shared.clone(), ping(key), peer).await;
                assert_eq!(response.status(), 200);
                let response = handle(shared.clone(), call(key), peer).await;
                assert_eq!(response.status(), 200);
                let log = written.take();
                assert_eq!(log.matches("axon -->").count(), 2 * lines, "{field}: {log}");
            }
        }
    }

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
