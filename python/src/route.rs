//! One Python synapse class as the Rust axon's handlers: each of its functions runs through
//! the Python `_Route` (`run(which, json, done)`), which builds the user's synapse from the
//! request's JSON, calls the function (an async one on the package's asyncio loop) and gives
//! its answer to `done(ok, value)`.
//!
//! The functions are called from blocking threads (`spawn_blocking`, or the handler
//! runtime's for a plain forward), and the request's task awaits the answer on a channel.
//! Two calls are made from the request's own task, the class's `body_hash` (`hash`) and a
//! keypair's `sign`: inside `block_in_place`, which hands that thread's other tasks to the
//! runtime's other threads while it waits for the GIL.

use axon::handler::{Chunks, Reply};
use axon::{Blacklist, DynamicSynapse, HandlerError, StatusCode, Streaming};
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Which function of the class.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Which {
    Forward,
    Blacklist,
    Priority,
    Verify,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Forward => "forward",
            Which::Blacklist => "blacklist",
            Which::Priority => "priority",
            Which::Verify => "verify",
        }
    }
}

/// What a Python function answered.
enum Answer {
    /// A forward's synapse, as `model_dump_json()`.
    Json(String),
    /// A streaming forward's synapse (its headers go first) and its `token_streamer`.
    Stream(String, Py<PyAny>),
    Blacklist(bool, String),
    Priority(f64),
    Verified,
}

/// The Python `_Route` of one class.
#[derive(Clone)]
pub(crate) struct Route(Arc<Py<PyAny>>);

impl Route {
    pub(crate) fn new(route: Py<PyAny>) -> Self {
        Route(Arc::new(route))
    }

    /// Runs `which` on `synapse` and waits (off the I/O threads) for its answer; `Err` is
    /// the exception it raised, as `Type: message`.
    async fn call(&self, which: Which, synapse: &DynamicSynapse) -> Result<Answer, String> {
        let json = serde_json::to_vec(synapse).map_err(|e| e.to_string())?;
        let (tx, rx) = oneshot::channel();
        let route = self.0.clone();
        let submitted = tokio::task::spawn_blocking(move || {
            Python::attach(|py| submit(py, &route, which, json, tx))
        })
        .await;
        match submitted {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(format!("the {} call failed: {e}", which.name())),
        }
        rx.await
            .unwrap_or_else(|_| Err(format!("the {} never answered", which.name())))
    }

    /// [`call`](Self::call) from a blocking thread (a plain forward's).
    fn call_blocking(&self, which: Which, synapse: &DynamicSynapse) -> Result<Answer, String> {
        let json = serde_json::to_vec(synapse).map_err(|e| e.to_string())?;
        let (tx, rx) = oneshot::channel();
        Python::attach(|py| submit(py, &self.0, which, json, tx))?;
        rx.blocking_recv()
            .unwrap_or_else(|_| Err(format!("the {} never answered", which.name())))
    }

    /// The class's own `body_hash` of `synapse`, for hashed fields only Python renders
    /// exactly. Called from the request's task: `block_in_place` hands the thread's other
    /// tasks to the runtime's other threads while this one waits for the GIL.
    pub(crate) fn hash(&self, synapse: &DynamicSynapse) -> Result<String, String> {
        let json = serde_json::to_vec(synapse).map_err(|e| e.to_string())?;
        tokio::task::block_in_place(|| {
            Python::attach(|py| {
                let hash = self.0.call_method1(py, "hash", (json.as_slice(),));
                hash.and_then(|h| h.extract::<String>(py))
                    .map_err(|e| e.to_string())
            })
        })
    }

    /// The forward, run on a blocking thread: the synapse with the fields the function set,
    /// or its stream.
    pub(crate) fn forward(
        &self,
        synapse: DynamicSynapse,
    ) -> Result<Reply<DynamicSynapse>, HandlerError> {
        match self.call_blocking(Which::Forward, &synapse) {
            Ok(Answer::Stream(json, streamer)) => {
                let synapse = updated(synapse, &json)?;
                Ok(Reply::Stream(self.streaming(synapse, streamer)))
            }
            answer => answered(synapse, answer).map(Reply::Synapse),
        }
    }

    /// The stream of `token_streamer`: run on the package's loop by `_Route.stream`, each
    /// chunk it sends handed to `chunks` (waiting while the client reads slower), and its
    /// `send` resumed once the chunk is taken.
    fn streaming(&self, synapse: DynamicSynapse, streamer: Py<PyAny>) -> Streaming<DynamicSynapse> {
        let route = self.0.clone();
        Streaming::new(synapse, move |chunks: Chunks| async move {
            let (tx, rx) = oneshot::channel();
            let runtime = tokio::runtime::Handle::current();
            let chunks = Arc::new(chunks);
            let started = tokio::task::spawn_blocking(move || {
                Python::attach(|py| start_stream(py, &route, streamer, chunks, runtime, tx))
            })
            .await;
            match started {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(HandlerError::internal(format!("the stream: {e}"))),
                Err(e) => return Err(HandlerError::internal(format!("the stream: {e}"))),
            }
            match rx.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(HandlerError::internal(format!(
                    "the token streamer raised {e}"
                ))),
                Err(_) => Err(HandlerError::internal("the token streamer never ended")),
            }
        })
    }

    /// The blacklist. An exception refuses the request (403 naming it): it fails closed.
    pub(crate) async fn blacklist(&self, synapse: &DynamicSynapse) -> Blacklist {
        match self.call(Which::Blacklist, synapse).await {
            Ok(Answer::Blacklist(false, _)) => Blacklist::Allow,
            Ok(Answer::Blacklist(true, reason)) => Blacklist::Deny(reason),
            Ok(_) => Blacklist::Deny("the blacklist answered something else".into()),
            Err(e) => Blacklist::Deny(format!("the blacklist raised {e}")),
        }
    }

    /// The priority. An exception gives the lowest priority.
    pub(crate) async fn priority(&self, synapse: &DynamicSynapse) -> f64 {
        match self.call(Which::Priority, synapse).await {
            Ok(Answer::Priority(p)) => p,
            _ => f64::MIN,
        }
    }

    /// The verify: an exception is bittensor's 401 `Not Verified with error: {str(e)}`
    /// (the pipeline adds the prefix).
    pub(crate) async fn verify(&self, synapse: &DynamicSynapse) -> Result<(), HandlerError> {
        match self.call(Which::Verify, synapse).await {
            Ok(_) => Ok(()),
            Err(e) => Err(HandlerError::new(StatusCode::UNAUTHORIZED, e)),
        }
    }
}

/// The synapse a forward answered, or its exception as an internal error (500 with an id;
/// the exception in the log).
fn answered(
    synapse: DynamicSynapse,
    answer: Result<Answer, String>,
) -> Result<DynamicSynapse, HandlerError> {
    match answer {
        Ok(Answer::Json(json)) => updated(synapse, &json),
        Ok(_) => Err(HandlerError::internal(
            "the forward answered something else",
        )),
        Err(e) => Err(HandlerError::internal(format!("the forward raised {e}"))),
    }
}

/// `synapse` with its own fields as the returned synapse's JSON has them.
fn updated(mut synapse: DynamicSynapse, json: &str) -> Result<DynamicSynapse, HandlerError> {
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| HandlerError::internal(format!("the returned synapse: {e}")))?;
    synapse.update(fields);
    Ok(synapse)
}

/// Calls `route.stream(streamer, push, done)` with the GIL held. `push(chunk, settle)`
/// sends the chunk from a task on `runtime` and calls `settle(ok)` from a blocking thread
/// (never with the GIL on an I/O thread); `done(ok, error)` sends the end on `tx`.
fn start_stream(
    py: Python<'_>,
    route: &Py<PyAny>,
    streamer: Py<PyAny>,
    chunks: Arc<Chunks>,
    runtime: tokio::runtime::Handle,
    tx: oneshot::Sender<Result<(), String>>,
) -> PyResult<()> {
    let push = PyCFunction::new_closure(
        py,
        None,
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let (chunk, settle): (Vec<u8>, Py<PyAny>) = args.extract()?;
            let chunks = chunks.clone();
            runtime.spawn(async move {
                let sent = chunks.send(chunk).await.is_ok();
                tokio::task::spawn_blocking(move || {
                    Python::attach(|py| settle.call1(py, (sent,)).map(|_| ()))
                });
            });
            Ok(())
        },
    )?;
    let tx = Mutex::new(Some(tx));
    let done = PyCFunction::new_closure(
        py,
        None,
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let (ok, error): (bool, Option<String>) = args.extract()?;
            let end = match ok {
                true => Ok(()),
                false => Err(error.unwrap_or_default()),
            };
            if let Some(tx) = tx.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = tx.send(end);
            }
            Ok(())
        },
    )?;
    route.call_method1(py, "stream", (streamer, push, done))?;
    Ok(())
}

/// Calls `route.run(which, json, done)` with the GIL held; `done` sends the answer on `tx`.
fn submit(
    py: Python<'_>,
    route: &Py<PyAny>,
    which: Which,
    json: Vec<u8>,
    tx: oneshot::Sender<Result<Answer, String>>,
) -> Result<(), String> {
    let tx = Mutex::new(Some(tx));
    let done = PyCFunction::new_closure(
        py,
        None,
        None,
        move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let (ok, value): (bool, Bound<'_, PyAny>) = args.extract()?;
            let answer = match (ok, which) {
                (false, _) => Err(value.extract::<String>()?),
                (true, Which::Forward) => match value.extract::<(String, String, Py<PyAny>)>() {
                    Ok((_, json, streamer)) => Ok(Answer::Stream(json, streamer)),
                    Err(_) => Ok(Answer::Json(value.extract()?)),
                },
                (true, Which::Blacklist) => {
                    let (blocked, reason): (bool, String) = value.extract()?;
                    Ok(Answer::Blacklist(blocked, reason))
                }
                (true, Which::Priority) => Ok(Answer::Priority(value.extract()?)),
                (true, Which::Verify) => Ok(Answer::Verified),
            };
            if let Some(tx) = tx.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = tx.send(answer);
            }
            Ok(())
        },
    )
    .map_err(|e| e.to_string())?;
    let json = pyo3::types::PyBytes::new(py, &json);
    route
        .call_method1(py, "run", (which.name(), json, done))
        .map(|_| ())
        .map_err(|e| e.to_string())
}
