//! The stages of a signed-HTTP endpoint (btauth/1, Epistula), in the synapse's order and
//! with its guarantees, apart from one difference both schemes force: they sign the
//! body's hash, so the body is read before the signature is checked, and before the
//! request may take a worker.
//!
//! 1. scheme: the headers name one the endpoint accepts (401 otherwise);
//! 2. headers: their form, each auth header sent once, the sender's and receiver's
//!    addresses in Bittensor's spelling (400), the receiver and freshness (401);
//! 3. blacklist (403 with its reason) and priority, over the claimed caller;
//! 4. body: read, at most the endpoint's limit (413), within the body timeout (408), its
//!    bytes counted in the budget for bodies not yet verified (503 past it; once verified,
//!    they count in the total only, until the request is admitted);
//! 5. signature, then replay (401): only a request that verifies is remembered;
//! 6. admission: a worker by priority (503 queue full, 408 at the deadline);
//! 7. the handler, on the handler runtime (its answer; 500 on a panic, 408 at the deadline).
//!
//! So a request whose signature does not verify holds no worker, no queue slot and no
//! replay entry: only its bytes, within the budget, until the body timeout.
//!
//! Refusals are JSON `{"message": ..}` with the status, as a synapse's; so are the
//! endpoint's extractors' (see `endpoint::extract`).

use super::refusal::Refusal;
use super::{record::Recorder, timeout_of, unverified, Shared};
use crate::auth::{AuthError, Scheme, Signed};
use crate::endpoint::Entry;
use crate::metrics::Reason;
use crate::task::{join_failure, AbortOnDrop};
use crate::Blacklist;
use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, Request, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;
use tracing::{Instrument, Span};

/// Answers one request for `endpoint`.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    endpoint: Arc<Entry>,
    request: Request<Body>,
    peer: SocketAddr,
    record: Recorder,
) -> Response {
    let signed = match read(&shared, &endpoint, &request) {
        Ok(signed) => signed,
        Err(refusal) => return record.refused_plain(&refusal),
    };
    let span = Span::current();
    span.record("claimed_hotkey", signed.sender());
    span.record("nonce", signed.nonce_ns());
    super::refiltered(checked(shared, endpoint, request, peer, record, signed)).await
}

/// Stages 3 onwards, once the headers are read and recorded in the span (and, once the
/// signature verified, in it again for what follows).
async fn checked(
    shared: Arc<Shared>,
    endpoint: Arc<Entry>,
    request: Request<Body>,
    peer: SocketAddr,
    record: Recorder,
    signed: Signed,
) -> Response {
    let declaration = &endpoint.declaration;
    let span = Span::current();
    record.arrived();

    let mut claimed = signed.claimed();
    let ip = crate::net::canonical(peer.ip());
    claimed.ip = Some(ip);
    if let Some(check) = &endpoint.blacklist {
        if let Blacklist::Deny(reason) = check(&claimed) {
            let refusal = Refusal::new(
                Reason::Blacklisted,
                StatusCode::FORBIDDEN,
                format!("Forbidden. Key is blacklisted: {reason}."),
            );
            return record.refused_plain(&refusal);
        }
    }
    let priority = endpoint.priority.as_ref().map_or(0.0, |p| p(&claimed));

    let stated = declaration.declared_timeout().map(|t| t.as_secs_f64());
    let timeout = timeout_of(&stated, shared.max_timeout);
    let deadline = tokio::time::Instant::from_std(record.start()) + timeout;
    let (mut parts, body) = request.into_parts();
    let verified = async {
        // The body before any worker, within its own (shorter) deadline and the budget.
        let limit = declaration.declared_max_body().unwrap_or(shared.max_body);
        let body_timeout = shared.body_timeout.min(timeout);
        let body_deadline = tokio::time::Instant::from_std(record.start()) + body_timeout;
        let mut reservation = shared.unverified.reserve(ip);
        let bytes = unverified::read_by(
            body,
            &parts.headers,
            limit,
            &mut reservation,
            body_deadline,
            body_timeout,
        )
        .await?;
        // The caller the signature proves is the one claimed (its address added above).
        shared.auth.confirm(&signed, &bytes).map_err(refused)?;
        Ok::<_, Refusal>((bytes, reservation))
    };
    let (bytes, mut reservation) = match verified.await {
        Ok(verified) => verified,
        Err(refusal) => return record.refused_plain(&refusal),
    };
    span.record("hotkey", signed.sender());
    reservation.verified();
    let served = async {
        if let Some(store) = &shared.replay {
            let retention = shared.auth.retention();
            let replayed = || refused(shared.auth.replayed(&signed));
            super::verify::shared_store(store, &signed.replay_key(), retention, replayed).await?;
        }
        let worker = shared.admission.admit(priority, deadline, timeout).await?;
        // Admitted: the workers bound its body from here.
        drop(reservation);
        parts.extensions.insert(claimed.clone());
        let request = Request::from_parts(parts, Body::from(bytes));
        let task = (endpoint.serve)(request).instrument(Span::current());
        let run = AbortOnDrop(shared.handler_runtime.handle().spawn(task));
        let answer = tokio::time::timeout_at(deadline, run)
            .await
            .map_err(|_| Refusal::expired(timeout, "in its handler, which was cancelled"))?
            .map_err(|e| Refusal::internal(join_failure(e)))?;
        drop(worker);
        Ok::<_, Refusal>(answer)
    };
    let answered = async {
        match served.await {
            Ok(response) => record.answered_endpoint(response),
            Err(refusal) => record.refused_plain(&refusal),
        }
    };
    super::refiltered(answered).await
}

/// Stages 1 and 2: the scheme and what the headers alone decide.
fn read(shared: &Shared, endpoint: &Entry, request: &Request<Body>) -> Result<Signed, Refusal> {
    let declaration = &endpoint.declaration;
    let headers = request.headers();
    let scheme = scheme(headers).ok_or_else(|| {
        Refusal::new(
            Reason::Unverified,
            StatusCode::UNAUTHORIZED,
            format!(
                "{} needs a signed request: {}",
                declaration.label(),
                accepted(endpoint)
            ),
        )
    })?;
    if !declaration.accepts(scheme) {
        let refusal = Refusal::new(
            Reason::Unverified,
            StatusCode::UNAUTHORIZED,
            format!(
                "{} does not accept {}: {}",
                declaration.label(),
                name(scheme),
                accepted(endpoint)
            ),
        );
        return Err(refusal);
    }
    once_each(headers, scheme)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = SystemTime::now();
    // Bound to this axon unless the endpoint, or the axon's rules, allow unbound requests.
    let require_receiver = !declaration.allows_unbound() && shared.auth.config().require_receiver;
    let read = match scheme {
        Scheme::Btauth => {
            let uri = request.uri();
            let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
            let method = request.method().as_str();
            shared
                .auth
                .read_btauth_for(header, method, path, now, require_receiver)
        }
        Scheme::Epistula => shared.auth.read_epistula_for(header, now, require_receiver),
    };
    let signed = read.map_err(refused)?;
    if !declaration.accepts_crypto(signed.crypto()) {
        let accepted: Vec<&str> = declaration
            .declared_crypto()
            .unwrap_or_default()
            .iter()
            .map(|c| c.name())
            .collect();
        let message = format!(
            "{} accepts {} senders only, and this server expects {} from this hotkey",
            declaration.label(),
            accepted.join(" or "),
            signed.crypto()
        );
        return Err(refused(AuthError::WrongCrypto(message)));
    }
    Ok(signed)
}

/// 400 for an auth header sent more than once: servers that keep the first copy and
/// those that keep the last (a Python dict) would disagree about who called.
fn once_each(headers: &HeaderMap, scheme: Scheme) -> Result<(), Refusal> {
    let names: &[&str] = match scheme {
        Scheme::Btauth => &crate::auth::btauth::HEADERS,
        Scheme::Epistula => &crate::auth::epistula::HEADERS,
    };
    match names
        .iter()
        .find(|name| headers.get_all(**name).iter().nth(1).is_some())
    {
        Some(name) => Err(Refusal::new(
            Reason::BadHeaders,
            StatusCode::BAD_REQUEST,
            format!("{name} was sent more than once: send each authentication header once"),
        )),
        None => Ok(()),
    }
}

/// The scheme whose version header is present (btauth/1 first).
fn scheme(headers: &HeaderMap) -> Option<Scheme> {
    if headers.contains_key(crate::auth::btauth::HEADER_VERSION) {
        Some(Scheme::Btauth)
    } else if headers.contains_key(crate::auth::epistula::HEADER_VERSION) {
        Some(Scheme::Epistula)
    } else {
        None
    }
}

fn name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Btauth => "btauth/1 (X-Bittensor-*)",
        Scheme::Epistula => "Epistula (Epistula-*)",
    }
}

/// What the endpoint accepts, for messages.
fn accepted(endpoint: &Entry) -> String {
    let d = &endpoint.declaration;
    let names: Vec<&str> = [Scheme::Btauth, Scheme::Epistula]
        .into_iter()
        .filter(|s| d.accepts(*s))
        .map(name)
        .collect();
    format!("sign it with {}", names.join(" or "))
}

/// An authentication failure as a refusal: 400 when malformed, 401 otherwise, with the
/// scheme's message.
fn refused(e: AuthError) -> Refusal {
    let (reason, status) = match e {
        AuthError::Malformed(_) => (Reason::BadHeaders, StatusCode::BAD_REQUEST),
        _ => (Reason::Unverified, StatusCode::UNAUTHORIZED),
    };
    Refusal::new(reason, status, e.to_string())
}
