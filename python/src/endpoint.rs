//! One signed-HTTP endpoint from Python (`@axon.endpoint(..)`): an [`axon::endpoint::Endpoint`]
//! whose handler, blacklist and priority call the Python `_EndpointRoute`.
//!
//! The handler runs after the Rust axon verified the signature and admitted the request (a
//! worker, in priority order): its Python function is called from a blocking thread
//! (`run(caller, body, done)`; an async one runs on the package's loop) and the request's
//! task awaits `done(status, content_type, body)`. The blacklist and priority run before the
//! signature is checked, from the request's task, inside `block_in_place` (they are plain
//! functions of the claimed caller, as the Rust ones are).

use axon::auth::{Caller, Scheme};
use axon::endpoint::{Declaration, Endpoint};
use axon::{Blacklist, HandlerError, StatusCode};
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCFunction, PyDict, PyTuple};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The Python `_EndpointRoute` of one endpoint.
#[derive(Clone)]
pub(crate) struct EndpointRoute(Arc<Py<PyAny>>);

/// What the Python handler answered: a status, a content type and a body, or a
/// `HandlerError(status, message)`; `Err` is another exception, as `Type: message`.
enum Answer {
    Body(u16, String, Vec<u8>),
    Refused(u16, String),
}

/// The caller as the Python `Caller` is built from it: `(hotkey_ss58, nonce_ns,
/// crypto_type, scheme, ip, receiver_ss58)`, crypto_type in bittensor's codes (sr25519 1,
/// ed25519 0).
type CallerTuple = (
    String,
    i64,
    i64,
    &'static str,
    Option<String>,
    Option<String>,
);

fn caller_tuple(caller: &Caller) -> CallerTuple {
    let scheme = match caller.scheme {
        Scheme::Btauth => "btauth/1",
        Scheme::Epistula => "epistula",
    };
    (
        caller.hotkey.clone(),
        caller.nonce_ns,
        i64::from(caller.crypto.code()),
        scheme,
        caller.ip.map(|ip| ip.to_string()),
        caller.receiver.clone(),
    )
}

impl EndpointRoute {
    pub(crate) fn new(route: Py<PyAny>) -> Self {
        EndpointRoute(Arc::new(route))
    }

    /// The endpoint: `declaration`, answered by the Python handler, with the Python
    /// blacklist and priority when it has them, after `policy` (the metagraph's checks).
    pub(crate) fn endpoint(
        &self,
        declaration: Declaration,
        blacklist: bool,
        priority: bool,
        policy: Option<&crate::server::Policy>,
    ) -> Endpoint {
        let route = self.clone();
        let mut endpoint = Endpoint::new(declaration, move |caller: Caller, body: Bytes| {
            let route = route.clone();
            async move { route.serve(caller, body).await }
        });
        let policy_blacklist = policy.filter(|p| p.has_blacklist()).cloned();
        match (policy_blacklist, blacklist) {
            (None, false) => {}
            (Some(policy), false) => {
                endpoint =
                    endpoint.blacklist(move |c: &Caller| policy.blacklist_of(Some(&c.hotkey)));
            }
            (policy, true) => {
                let route = self.clone();
                endpoint = endpoint.blacklist(move |c: &Caller| {
                    match policy.as_ref().map(|p| p.blacklist_of(Some(&c.hotkey))) {
                        Some(deny @ Blacklist::Deny(_)) => deny,
                        _ => route.blacklist(c),
                    }
                });
            }
        }
        if priority {
            let route = self.clone();
            endpoint = endpoint.priority(move |c: &Caller| route.priority(c));
        } else if let Some(policy) = policy.filter(|p| p.stake_priority).cloned() {
            endpoint = endpoint
                .priority(move |c: &Caller| policy.metagraph.stake_priority(Some(&c.hotkey)));
        }
        endpoint
    }

    /// Runs the handler on a blocking thread and awaits its answer.
    async fn serve(&self, caller: Caller, body: Bytes) -> Response {
        let (tx, rx) = oneshot::channel();
        let route = self.0.clone();
        let caller = caller_tuple(&caller);
        let submitted = tokio::task::spawn_blocking(move || {
            Python::attach(|py| submit(py, &route, caller, &body, tx))
        })
        .await;
        let answer = match submitted {
            Ok(Ok(())) => rx
                .await
                .unwrap_or_else(|_| Err("the handler never answered".to_owned())),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(format!("the handler call failed: {e}")),
        };
        match answer {
            Ok(Answer::Body(status, content_type, body)) => {
                let Ok(status) = StatusCode::from_u16(status) else {
                    return HandlerError::internal(format!("the handler answered status {status}"))
                        .into_response();
                };
                let mut response = (status, body).into_response();
                match http::HeaderValue::from_str(&content_type) {
                    Ok(value) => {
                        response
                            .headers_mut()
                            .insert(http::header::CONTENT_TYPE, value);
                    }
                    Err(_) => {
                        return HandlerError::internal(format!(
                            "the handler's content type {content_type:?} is not a header value"
                        ))
                        .into_response()
                    }
                }
                response
            }
            Ok(Answer::Refused(status, message)) => match StatusCode::from_u16(status) {
                Ok(status) if status.is_client_error() || status.is_server_error() => {
                    HandlerError::new(status, message).into_response()
                }
                _ => HandlerError::internal(format!(
                    "HandlerError({status}, {message:?}): the status is not 4xx or 5xx"
                ))
                .into_response(),
            },
            Err(e) => HandlerError::internal(format!("the handler raised {e}")).into_response(),
        }
    }

    /// The Python blacklist of the claimed caller. An exception refuses (fails closed).
    fn blacklist(&self, caller: &Caller) -> Blacklist {
        let answer = self.call_check("blacklist", caller, |v| v.extract::<(bool, String)>());
        match answer {
            Ok((false, _)) => Blacklist::Allow,
            Ok((true, reason)) => Blacklist::Deny(reason),
            Err(e) => Blacklist::Deny(format!("the blacklist raised {e}")),
        }
    }

    /// The Python priority of the claimed caller. An exception gives the lowest.
    fn priority(&self, caller: &Caller) -> f64 {
        self.call_check("priority", caller, |v| v.extract::<f64>())
            .unwrap_or(f64::MIN)
    }

    fn call_check<T>(
        &self,
        which: &str,
        caller: &Caller,
        extract: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>,
    ) -> Result<T, String> {
        let caller = caller_tuple(caller);
        let call = || {
            Python::attach(|py| {
                let value = self.0.call_method1(py, which, (caller,));
                value
                    .and_then(|v| extract(v.bind(py)))
                    .map_err(|e| e.to_string())
            })
        };
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::block_in_place(call),
            Err(_) => call(),
        }
    }
}

/// Calls `route.run(caller, body, done)` with the GIL held; `done(ok, value)` sends the
/// answer on `tx`: `(status, content_type, body)`, `("refused", status, message)`, or the
/// exception's text.
fn submit(
    py: Python<'_>,
    route: &Py<PyAny>,
    caller: CallerTuple,
    body: &[u8],
    tx: oneshot::Sender<Result<Answer, String>>,
) -> Result<(), String> {
    let tx = Mutex::new(Some(tx));
    let done = PyCFunction::new_closure(
        py,
        None,
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let (ok, value): (bool, Bound<'_, PyAny>) = args.extract()?;
            let answer = match ok {
                false => Err(value.extract::<String>()?),
                true => match value.extract::<(String, u16, String)>() {
                    Ok((_, status, message)) => Ok(Answer::Refused(status, message)),
                    Err(_) => {
                        let (status, content_type, body): (u16, String, Bound<'_, PyBytes>) =
                            value.extract()?;
                        Ok(Answer::Body(status, content_type, body.as_bytes().to_vec()))
                    }
                },
            };
            if let Some(tx) = tx.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = tx.send(answer);
            }
            Ok(())
        },
    )
    .map_err(|e| e.to_string())?;
    route
        .call_method1(py, "run", (caller, PyBytes::new(py, body), done))
        .map(|_| ())
        .map_err(|e| e.to_string())
}
