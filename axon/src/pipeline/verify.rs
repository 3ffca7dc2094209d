//! Stage 5: the synapse's custom verify, or the axon's default signature check (401), its
//! signatures checked in batches with the other requests arriving at the same time.

use super::refusal::Refusal;
use crate::metrics::Reason;
use crate::replay::{OnFailure, ReplayKey, ReplayStore, StoreError};
use crate::verify::{replayed, Unchecked, Verifier};
use crate::{Handlers, Synapse};
use http::StatusCode;

/// Runs the custom verify of `S` if it has one, else `default`. A refusal keeps the
/// error's status (401 from the default check) under Python's message
/// `Not Verified with error: {reason}`; an internal error is a 500 with its cause logged.
///
/// The default check stops waiting at `deadline`: 408 when the request's timeout passed
/// while its signature waited, 503 when too many wait (see `verify::batch`).
pub(crate) async fn check<S: Synapse>(
    handlers: &Handlers,
    default: &Verifier,
    synapse: &S,
    deadline: tokio::time::Instant,
) -> Result<(), Refusal> {
    let outcome = match handlers.custom_verify(synapse).await {
        Some(outcome) => outcome,
        None => match default.verify_batched_until(synapse, Some(deadline)).await {
            Ok(()) => Ok(()),
            Err(Unchecked::Refused(e)) => Err(e),
            Err(expired @ Unchecked::Expired) => {
                let message = expired.into_error().message().to_owned();
                return Err(Refusal::new(
                    Reason::Timeout,
                    StatusCode::REQUEST_TIMEOUT,
                    format!("Request timed out: {message}; the forward never ran"),
                ));
            }
            Err(saturated @ Unchecked::Saturated) => {
                let e = saturated.into_error();
                return Err(Refusal::new(Reason::Overloaded, e.status(), e.message()));
            }
        },
    };
    outcome.map_err(|e| {
        if e.is_internal() {
            return Refusal::from_handler(e);
        }
        let mut refusal = Refusal::from_handler(e).because(Reason::Unverified);
        refusal.message = format!("Not Verified with error: {}", refusal.message);
        refusal
    })
}

/// The shared replay store's word on a request the default check accepted (a custom verify
/// replaces the whole default check, this store included): a request another process
/// accepted is a replay (401, the default check's message).
pub(crate) async fn shared<S: Synapse>(
    store: &ReplayStore,
    retention: std::time::Duration,
    synapse: &S,
) -> Result<(), Refusal> {
    let dendrite = &synapse.common().dendrite;
    let (Some(hotkey), Some(nonce)) = (dendrite.hotkey.as_deref(), dendrite.nonce) else {
        return Ok(());
    };
    let refused = |message: String| {
        Refusal::new(
            Reason::Unverified,
            StatusCode::UNAUTHORIZED,
            format!("Not Verified with error: {message}"),
        )
    };
    // The default check decoded it already; a custom verify never reaches here.
    let public = crate::keys::ss58_decode(hotkey).map_err(refused)?;
    let key = ReplayKey::new(&public, dendrite.uuid.as_deref(), nonce);
    shared_store(store, &key, retention, || refused(replayed(nonce))).await
}

/// Records `key` in the shared store, for a request this process already accepted: the
/// `replayed` refusal when another process accepted it first; when the store does not
/// answer, 503, unless the operator chose to serve on the process's own store alone
/// ([`OnFailure::LocalOnly`]). Synapses and signed-HTTP endpoints both end here.
pub(crate) async fn shared_store(
    store: &ReplayStore,
    key: &ReplayKey,
    retention: std::time::Duration,
    replayed: impl FnOnce() -> Refusal,
) -> Result<(), Refusal> {
    match store.accept(key, retention).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(replayed()),
        Err(e) => unavailable(store, &e),
    }
}

/// What a store that did not answer means (see [`shared_store`]).
fn unavailable(store: &ReplayStore, e: &StoreError) -> Result<(), Refusal> {
    match store.failure_rule() {
        OnFailure::LocalOnly => Ok(()),
        OnFailure::Refuse => Err(refused_unavailable(e)),
    }
}

/// 503 for a store that did not answer.
fn refused_unavailable(e: &StoreError) -> Refusal {
    Refusal::new(
        Reason::ReplayStore,
        StatusCode::SERVICE_UNAVAILABLE,
        format!("Service unavailable: {e}; a request cannot be checked for replay, so none is served until it answers: retry later"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn later() -> tokio::time::Instant {
        tokio::time::Instant::now() + std::time::Duration::from_secs(12)
    }
    use crate::{Axon, BaseSynapse, HandlerError, StatusCode};

    #[tokio::test(flavor = "current_thread")]
    async fn the_default_check_refuses_an_unsigned_request() {
        let handlers = Axon::new().handlers().unwrap();
        let verifier = Verifier::new("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
        let mut s = BaseSynapse::default();
        s.dendrite.hotkey = Some("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into());
        let err = check(&handlers, &verifier, &s, later()).await.unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (401, "Not Verified with error: Missing Nonce")
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_custom_verify_replaces_it() {
        let handlers = Axon::new()
            .verify(|s: &BaseSynapse| match s.dendrite.hotkey {
                Some(_) => Ok(()),
                None => Err(HandlerError::new(StatusCode::UNAUTHORIZED, "no hotkey")),
            })
            .handlers()
            .unwrap();
        let verifier = Verifier::new("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
        let err = check(&handlers, &verifier, &BaseSynapse::default(), later())
            .await
            .unwrap_err();
        assert_eq!(err.message, "Not Verified with error: no hotkey");
        let mut s = BaseSynapse::default();
        s.dendrite.hotkey = Some("anything".into());
        assert!(
            check(&handlers, &verifier, &s, later()).await.is_ok(),
            "unsigned, yet the custom verify allows it"
        );
    }
}
