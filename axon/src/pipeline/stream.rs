//! Stage 9 for a streaming forward: `200 text/event-stream` with the synapse's headers at
//! once, then each chunk as its producer hands it over, and how it ended in the trailers.
//!
//! - The producer runs as its own task (where its forward runs: `handler::watch`), holding
//!   the request's worker, so the slot frees the moment it ends, fails, is cancelled or its
//!   client goes away.
//! - A bounded channel between it and the connection is the backpressure: a slow client
//!   makes [`Chunks::send`](crate::handler::Chunks::send) wait.
//! - The synapse's timeout is a deadline for the whole answer: the producer is cancelled
//!   and the stream ends as a 408.
//! - A stream that fails after its headers went out cannot change its status: a client
//!   that sent `TE: trailers` gets the status in the trailers; any other sees the body cut
//!   short (the chunked encoding is not terminated).

use super::admission::Permit;
use super::preprocess::Identity;
use super::refusal::Refusal;
use super::respond::{answering, sendable, with_headers};
use crate::handler::{BoxFuture, Streaming, Watch};
use crate::task::{join_failure, AbortOnDrop};
use crate::Synapse;
use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use hyper::body::Frame;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::time::Sleep;
use tracing::Instrument;

/// The trailers a stream ends with.
const STATUS_CODE: &str = "bt_header_axon_status_code";
const STATUS_MESSAGE: &str = "bt_header_axon_status_message";

/// Where a stream's 408 says it expired. The producer's deadline and the body's are the
/// same instant and either may fire first (the producer may run on the handler runtime,
/// with timers of its own), so both say the same.
const CUT: &str = "while streaming; the stream was cut";

/// Told how a stream ended, once (metrics, logs): `None` when the client went away first.
pub(crate) type OnEnd = Box<dyn FnOnce(Option<&Result<(), Refusal>>) + Send>;

/// What a stream runs under: its deadline, the worker it holds, and whether its client
/// takes trailers.
pub(crate) struct Run {
    /// The handler runtime the producer runs on.
    pub(crate) runtime: Handle,
    /// The forward's watch, which times the producer's polls too.
    pub(crate) watch: Option<Watch>,
    pub(crate) deadline: tokio::time::Instant,
    pub(crate) timeout: Duration,
    /// The worker it holds (none only for the built-in ping, which never streams).
    pub(crate) permit: Option<Permit>,
    pub(crate) trailers: bool,
    pub(crate) ended: OnEnd,
}

/// Whether the request's `TE` header accepts trailers.
pub(crate) fn takes_trailers(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::TE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("trailers"))
}

/// The answer to `request` that `streaming` gives: the headers now, the body as produced.
pub(crate) fn respond<S: Synapse>(
    streaming: Streaming<S>,
    request: &S,
    identity: &Identity,
    start: Instant,
    run: Run,
) -> Response {
    let (mut out, rx, produce) = streaming.start();
    answering(&mut out, request, identity, start);
    let (deadline, timeout, permit) = (run.deadline, run.timeout, run.permit);
    // The producer runs where its forward does (`handler::watch`).
    let inline = run.watch.as_ref().is_some_and(|w| w.inline());
    let produce: BoxFuture<'static, _> = match run.watch {
        Some(watch) => Box::pin(watch.watch(produce)),
        None => produce,
    };
    let producer = async move {
        let _worker = permit;
        match tokio::time::timeout_at(deadline, produce).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Refusal::from_handler(e)),
            Err(_) => Err(Refusal::expired(timeout, CUT)),
        }
    };
    // In the request's span, wherever it runs.
    let producer = producer.instrument(tracing::Span::current());
    let producer = match inline {
        true => tokio::spawn(producer),
        false => run.runtime.spawn(producer),
    };
    let body = ChunkBody {
        rx,
        producer: AbortOnDrop(producer),
        deadline: Box::pin(tokio::time::sleep_until(deadline)),
        timeout,
        trailers: run.trailers,
        ended: Some(run.ended),
    };
    let mut response = with_headers(
        StatusCode::OK,
        "text/event-stream",
        out.to_headers(),
        Body::new(body),
    );
    if run.trailers {
        response.headers_mut().insert(
            header::TRAILER,
            HeaderValue::from_static("bt_header_axon_status_code, bt_header_axon_status_message"),
        );
    }
    response
}

/// The body of a streamed answer.
struct ChunkBody {
    rx: mpsc::Receiver<Bytes>,
    producer: AbortOnDrop<Result<(), Refusal>>,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    trailers: bool,
    /// `None` once the stream has ended.
    ended: Option<OnEnd>,
}

/// The error a cut stream ends with (hyper then closes the connection without the last
/// chunk, so the client sees an incomplete body).
#[derive(Debug)]
struct Cut(String);

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the stream was cut: {}", self.0)
    }
}

impl std::error::Error for Cut {}

impl ChunkBody {
    /// Ends the stream with `result`: the trailers, or a cut for a failure without them.
    fn end(&mut self, result: Result<(), Refusal>) -> Option<Result<Frame<Bytes>, Cut>> {
        self.rx.close();
        if let Some(ended) = self.ended.take() {
            ended(Some(&result));
        }
        match (result, self.trailers) {
            (Ok(()), true) => Some(Ok(Frame::trailers(status(StatusCode::OK, "Success")))),
            (Ok(()), false) => None,
            (Err(refusal), true) => Some(Ok(Frame::trailers(status(
                refusal.status,
                &refusal.message,
            )))),
            (Err(refusal), false) => Some(Err(Cut(refusal.message))),
        }
    }
}

/// The status trailers.
fn status(code: StatusCode, message: &str) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(2);
    map.insert(
        HeaderName::from_static(STATUS_CODE),
        HeaderValue::from(code.as_u16()),
    );
    map.insert(
        HeaderName::from_static(STATUS_MESSAGE),
        sendable(message.to_owned()),
    );
    map
}

impl axum::body::HttpBody for ChunkBody {
    type Data = Bytes;
    type Error = Cut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Cut>>> {
        let this = self.get_mut();
        if this.ended.is_none() {
            return Poll::Ready(None);
        }
        // The producer task has the same deadline; this one also ends a stream whose
        // `Chunks` the producer handed to a task of its own, which would outlive it.
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.producer.0.abort();
            let expired = Refusal::expired(this.timeout, CUT);
            return Poll::Ready(this.end(Err(expired)));
        }
        if let Some(chunk) = ready!(this.rx.poll_recv(cx)) {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        // Every sender is gone: the producer has ended (or is ending); how?
        let result = match ready!(Pin::new(&mut this.producer).poll(cx)) {
            Ok(result) => result,
            Err(e) => Err(Refusal::internal(join_failure(e))),
        };
        Poll::Ready(this.end(result))
    }

    fn is_end_stream(&self) -> bool {
        self.ended.is_none()
    }
}

impl Drop for ChunkBody {
    /// A body dropped before its end: the client went away (the producer is cancelled by
    /// its own handle's drop).
    fn drop(&mut self) {
        if let Some(ended) = self.ended.take() {
            ended(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn te_trailers_is_found_among_other_codings() {
        let mut h = HeaderMap::new();
        assert!(!takes_trailers(&h));
        h.insert(header::TE, HeaderValue::from_static("gzip, Trailers"));
        assert!(takes_trailers(&h));
        h.insert(header::TE, HeaderValue::from_static("gzip"));
        assert!(!takes_trailers(&h));
    }
}
