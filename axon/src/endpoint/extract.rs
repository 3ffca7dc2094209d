//! What the code `#[axon::endpoint]` generates calls: each argument extracted with the bound
//! required at the user's type (so a wrong argument is one message at that argument), the
//! answer converted where the user wrote the return type.

use crate::metrics::Reason;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::Request;
use std::convert::Infallible;
use std::future::Future;

/// An argument of an endpoint read from the request's head: the [`Caller`](crate::auth::Caller)
/// or any axum extractor of the parts (`HeaderMap`, `Query<T>`, `Method`, `Uri`, ...).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of an endpoint before its last",
    label = "not read from the request's head",
    note = "an endpoint takes `axon::auth::Caller`, `axon::State<T>`, axum extractors of the head (`HeaderMap`, `Query<T>`, `Method`, `Uri`), and last the body (`Json<T>`, `Bytes`, `String`)"
)]
pub trait EndpointPart: Sized + Send {
    /// Reads it.
    fn extract(parts: &mut Parts) -> impl Future<Output = Result<Self, Response>> + Send;
}

impl<T: FromRequestParts<()> + Send> EndpointPart for T {
    async fn extract(parts: &mut Parts) -> Result<Self, Response> {
        let rejection = match T::from_request_parts(parts, &()).await {
            Ok(value) => return Ok(value),
            Err(rejection) => rejection.into_response(),
        };
        Err(rejected(rejection, Reason::BadHeaders).await)
    }
}

/// The last argument of an endpoint: the body (`Json<T>`, `Bytes`, `String`) or anything
/// an earlier argument may be.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the last argument of an endpoint",
    label = "not an axum extractor",
    note = "the last argument reads the body: `axum::Json<T>` (with `T: serde::Deserialize`), `axum::body::Bytes` or `String`; or it is `axon::auth::Caller`, `axon::State<T>` or an extractor of the head"
)]
pub trait EndpointBody<M>: Sized + Send {
    /// Reads it.
    fn extract(request: Request<Body>) -> impl Future<Output = Result<Self, Response>> + Send;
}

impl<M, T: FromRequest<(), M> + Send> EndpointBody<M> for T {
    async fn extract(request: Request<Body>) -> Result<Self, Response> {
        // The body was read already, within the endpoint's own limit: no second limit
        // (axum's default of 2 MB) may hide in the extractor.
        let request = without_body_limit(request).await;
        let rejection = match T::from_request(request, &()).await {
            Ok(value) => return Ok(value),
            Err(rejection) => rejection.into_response(),
        };
        Err(rejected(rejection, Reason::BadBody).await)
    }
}

/// `request` with axum's default body limit turned off, as `DefaultBodyLimit::disable()`
/// does for a router (its marker is private to axum, so the layer puts it in).
async fn without_body_limit(request: Request<Body>) -> Request<Body> {
    use tower::{Layer, ServiceExt};
    let mark = axum::extract::DefaultBodyLimit::disable().layer(tower::service_fn(
        |r: Request<Body>| async move { Ok::<_, Infallible>(r) },
    ));
    match mark.oneshot(request).await {
        Ok(request) => request,
        Err(never) => match never {},
    }
}

/// A refusal by an extractor, as every other refusal: the extractor's status, the axon's
/// `{"message": ..}` with its text, counted under `reason` (see [`Refused`]).
async fn rejected(response: Response, reason: Reason) -> Response {
    use http_body_util::BodyExt;
    let status = response.status();
    // A rejection's text is a line or two; a longer one is cut, never read whole.
    let body = http_body_util::Limited::new(response.into_body(), 4096);
    let text = match body.collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => status.canonical_reason().unwrap_or("refused").to_owned(),
    };
    let mut response = (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "message": text }).to_string(),
    )
        .into_response();
    response.extensions_mut().insert(Refused(reason));
    response
}

/// Marks an endpoint's answer as an extractor's refusal, for the metrics and the log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refused(pub(crate) Reason);

/// What an endpoint returns: anything axum can answer with.
#[diagnostic::on_unimplemented(
    message = "an endpoint cannot answer with `{Self}`",
    label = "not `axum::response::IntoResponse`",
    note = "return `axum::Json<T>`, `String`, `(StatusCode, Json<T>)`, `Result<Json<T>, axon::HandlerError>`, or any `IntoResponse`"
)]
pub trait EndpointResponse {
    /// Converts it.
    fn respond(self) -> Response;
}

impl<T: IntoResponse> EndpointResponse for T {
    fn respond(self) -> Response {
        self.into_response()
    }
}

/// A [`HandlerError`](crate::HandlerError) answers with its status and
/// `{"message": ..}`, as a synapse's refusal does; an internal one with 500 and an id, its
/// cause logged with the id and never sent.
impl IntoResponse for crate::HandlerError {
    fn into_response(self) -> Response {
        let message = match self.is_internal() {
            true => {
                let shown = format!("Internal Server Error #{}", crate::uuid::uuid4());
                tracing::error!(detail = self.message(), "failed: {shown}");
                shown
            }
            false => self.message().to_owned(),
        };
        let body = serde_json::json!({ "message": message }).to_string();
        (
            self.status(),
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
