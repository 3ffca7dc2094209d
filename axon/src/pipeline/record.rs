//! [`Recorder`]: what a request leaves behind, counted and logged once per answer.
//!
//! The request's span carries synapse, peer, hotkey and nonce, so the lines here name only
//! what they add: one debug line in, one out, a warning for a refusal and an error for a
//! failure; each answer and refusal counted in the metrics.

use super::refusal::{Refusal, Severity};
use super::{respond, stream, Identity};
use crate::metrics::{Metrics, Reason, StreamEnd};
use crate::Synapse;
use axum::body::{Body, HttpBody};
use axum::response::Response;
use http::{header, Request};
use std::sync::Arc;
use std::time::Instant;
use tracing::Span;

/// Counts and logs one request's answer.
#[derive(Clone)]
pub(crate) struct Recorder {
    metrics: Arc<Metrics>,
    /// The served synapse name; `None` for a name that is not served (its `unknown` row).
    synapse: Option<&'static str>,
    bytes_in: i64,
    start: Instant,
}

impl Recorder {
    pub(crate) fn new(
        metrics: Arc<Metrics>,
        synapse: Option<&'static str>,
        request: &Request<Body>,
        start: Instant,
    ) -> Self {
        Recorder {
            metrics,
            synapse,
            bytes_in: content_length(request),
            start,
        }
    }

    /// When the request arrived.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }

    /// The synapse's row in the metrics, looked up when an answer is counted (a recorder
    /// kept only in case the stages panic costs nothing).
    fn row(&self) -> crate::metrics::Synapse {
        self.metrics.synapse(self.synapse.unwrap_or(""))
    }

    /// The request's headers were read.
    pub(crate) fn arrived(&self) {
        tracing::debug!(bytes = self.bytes_in, "axon <--");
    }

    /// Counts and logs `response`, and returns it.
    pub(crate) fn answered(&self, response: Response) -> Response {
        let status = response.status().as_u16();
        self.metrics
            .answered(self.row(), status, self.start.elapsed());
        tracing::debug!(
            bytes = response.body().size_hint().exact().unwrap_or(0),
            status,
            "axon -->"
        );
        response
    }

    /// Counts and logs an endpoint's `response`, and returns it: an extractor's refusal
    /// (marked [`Refused`](crate::endpoint::Refused)) is counted and logged as one.
    pub(crate) fn answered_endpoint(&self, response: Response) -> Response {
        if let Some(crate::endpoint::Refused(reason)) = response.extensions().get().copied() {
            self.metrics.refused(reason);
            tracing::warn!(
                status = response.status().as_u16(),
                "refused: the endpoint's arguments could not be read from the request"
            );
        }
        self.answered(response)
    }

    /// Counts a stream in flight; the callback logs and counts how it ended (a debug line,
    /// or an error for a failure), in the request's span wherever it runs.
    pub(crate) fn stream_ended(&self) -> stream::OnEnd {
        let metrics = self.metrics.clone();
        let row = self.row();
        let span = Span::current();
        metrics.stream_started();
        Box::new(move |result| {
            let _span = span.entered();
            let end = match result {
                None => StreamEnd::ClientGone,
                Some(Ok(())) => StreamEnd::Completed,
                Some(Err(r)) if r.reason == Reason::Timeout => StreamEnd::TimedOut,
                Some(Err(_)) => StreamEnd::Failed,
            };
            metrics.stream_ended(row, end);
            match result {
                None => tracing::debug!("axon --> stream abandoned by the client"),
                Some(Ok(())) => tracing::debug!("axon --> stream ended"),
                Some(Err(refusal)) => tracing::error!(
                    status = refusal.status.as_u16(),
                    detail = refusal.detail.as_deref().unwrap_or(""),
                    "stream failed: {}",
                    refusal.message
                ),
            }
        })
    }

    /// Counts and logs a refusal, and answers it on `synapse` (signed by `signer` once the
    /// request was admitted).
    /// Answers a refusal without synapse headers (a signed-HTTP endpoint's): the status and
    /// `{"message": ..}`, counted and logged as [`refused`](Self::refused) does.
    pub(crate) fn refused_plain(&self, refusal: &Refusal) -> Response {
        self.log_refusal(refusal);
        let body = serde_json::json!({ "message": refusal.message }).to_string();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = refusal.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        self.answered(response)
    }

    fn log_refusal(&self, refusal: &Refusal) {
        self.metrics.refused(refusal.reason);
        let status = refusal.status.as_u16();
        match refusal.severity {
            Severity::Refused => tracing::warn!(status, "refused: {}", refusal.message),
            Severity::Failed => tracing::error!(
                status,
                detail = refusal.detail.as_deref().unwrap_or(""),
                "failed: {}",
                refusal.message
            ),
        }
    }

    pub(crate) fn refused<S: Synapse>(
        &self,
        synapse: &mut S,
        refusal: &Refusal,
        signer: Option<&Identity>,
    ) -> Response {
        self.log_refusal(refusal);
        self.answered(respond::refused(synapse, refusal, signer, self.start))
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
