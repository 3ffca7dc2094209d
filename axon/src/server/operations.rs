//! The operations listener: `GET /metrics` (Prometheus text) and `GET /healthz`, on an
//! address of their own so no synapse name can collide with them and validators, who only
//! reach the synapse port, cannot read them.

use super::connections::{Closed, Connections, HandshakeFailure, Transport};
use super::listen::App;
use crate::metrics::Gauges;
use crate::pipeline::Shared;
use crate::replay::ReplayStore;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tower::ServiceExt;

/// What the operations listener reads: the running axon, and its synapse listener's
/// connections.
struct Observed {
    shared: Arc<Shared>,
    connections: Connections,
    exposition: Vec<Exposition>,
}

/// A source of more `/metrics` lines, appended to the axon's own.
pub(crate) type Exposition = Arc<dyn Fn(&mut String) + Send + Sync>;

/// The operations app: its routes, whoever calls.
pub(crate) fn app(
    shared: Arc<Shared>,
    connections: Connections,
    exposition: Vec<Exposition>,
) -> impl App {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .with_state(Arc::new(Observed {
            shared,
            connections,
            exposition,
        }));
    move |request, _client| {
        let answered = router.clone().oneshot(request);
        async move {
            match answered.await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    }
}

/// The Prometheus exposition.
async fn metrics(State(observed): State<Arc<Observed>>) -> Response {
    let Observed {
        shared,
        connections,
        exposition,
    } = &*observed;
    let load = shared.admission.load();
    let gauges = Gauges {
        running: load.running,
        waiting: load.waiting,
        max_workers: shared.admission.max_workers(),
        replay_entries: shared.verifier.remembered(),
        connections: connections.open(),
        unverified_body_bytes: shared.unverified.held(),
        closed: Closed::ALL.map(|reason| (reason.label(), connections.closed(reason))),
        transports: Transport::ALL.map(|t| (t.label(), connections.served(t))),
        handshake_failures: HandshakeFailure::ALL
            .map(|reason| (reason.label(), connections.handshakes_failed(reason))),
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        {
            let mut text = shared.metrics.render(&gauges);
            for more in exposition {
                more(&mut text);
            }
            text
        },
    )
        .into_response()
}

/// `200 serving` while the axon serves, `503 draining` once it is stopping.
async fn healthz(State(observed): State<Arc<Observed>>) -> Response {
    if observed.shared.metrics.draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        (StatusCode::OK, "serving\n").into_response()
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "not found: the operations listener serves GET /metrics and GET /healthz\n",
    )
        .into_response()
}

/// The shared replay store's lines: whether it answered last, and the requests it did not
/// answer, by reason.
pub(crate) fn replay_store_lines(store: ReplayStore) -> Exposition {
    Arc::new(move |out: &mut String| {
        use std::fmt::Write;
        let _ = write!(
            out,
            "# HELP axon_replay_store_up Whether the shared replay store ({store}) answered the last request.\n\
             # TYPE axon_replay_store_up gauge\naxon_replay_store_up {}\n\
             # HELP axon_replay_store_failures_total Requests the shared replay store did not answer (refused 503, or served on this process's store with the local fallback), by reason.\n\
             # TYPE axon_replay_store_failures_total counter\n",
            u8::from(store.is_up()),
        );
        for kind in crate::replay::StoreErrorKind::ALL {
            let _ = writeln!(
                out,
                "axon_replay_store_failures_total{{reason=\"{}\"}} {}",
                kind.label(),
                store.failures_of(kind)
            );
        }
    })
}
