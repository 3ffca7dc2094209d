//! Handlers erased to one type per kind, as the handler table holds them. The generated code
//! and the closure forms build them; the items are public only to be reachable from
//! `axon::__private`, through this crate-private module.

use super::{BoxFuture, HandlerError, IntoForward, Reply};
use std::future::Future;
use std::sync::Arc;

/// A plain forward, erased.
type BlockingForward<S> = dyn Fn(S) -> Result<Reply<S>, HandlerError> + Send + Sync;

/// An async forward, erased.
type AsyncForward<S> =
    dyn Fn(S) -> BoxFuture<'static, Result<Reply<S>, HandlerError>> + Send + Sync;

/// An async check, erased: its future may borrow the synapse.
type AsyncCheck<S, R> = dyn for<'a> Fn(&'a S) -> BoxFuture<'a, R> + Send + Sync;

/// A forward, erased: plain functions run on a blocking thread, async ones as a task.
pub enum Forward<S> {
    Blocking(Arc<BlockingForward<S>>),
    Async(Arc<AsyncForward<S>>),
}

impl<S> Clone for Forward<S> {
    fn clone(&self) -> Self {
        match self {
            Forward::Blocking(f) => Forward::Blocking(f.clone()),
            Forward::Async(f) => Forward::Async(f.clone()),
        }
    }
}

/// A blacklist, priority or verify, erased: plain functions run inline (they are meant to
/// be cheap checks), async ones are awaited.
pub enum Check<S, R> {
    Inline(Arc<dyn Fn(&S) -> R + Send + Sync>),
    Async(Arc<AsyncCheck<S, R>>),
}

impl<S, R> Clone for Check<S, R> {
    fn clone(&self) -> Self {
        match self {
            Check::Inline(f) => Check::Inline(f.clone()),
            Check::Async(f) => Check::Async(f.clone()),
        }
    }
}

impl<S, R> Check<S, R> {
    /// Runs the check.
    pub(crate) async fn run(&self, synapse: &S) -> R {
        match self {
            Check::Inline(f) => f(synapse),
            Check::Async(f) => f(synapse).await,
        }
    }
}

/// A plain-`fn` forward (used by the generated code and by [`ForwardFn`](super::ForwardFn)).
pub fn forward_blocking<S, F, R>(f: F) -> Forward<S>
where
    F: Fn(S) -> R + Send + Sync + 'static,
    R: IntoForward<S>,
{
    Forward::Blocking(Arc::new(move |s| f(s).into_forward()))
}

/// An `async fn` forward (used by the generated code and by [`ForwardFn`](super::ForwardFn)).
pub fn forward_async<S, F, Fut>(f: F) -> Forward<S>
where
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoForward<S>,
{
    Forward::Async(Arc::new(move |s| {
        let fut = f(s);
        Box::pin(async move { fut.await.into_forward() })
    }))
}

/// A plain-`fn` check.
pub fn check_inline<S, R, F>(f: F) -> Check<S, R>
where
    F: Fn(&S) -> R + Send + Sync + 'static,
{
    Check::Inline(Arc::new(f))
}

/// An `async fn` check whose future may borrow the synapse (the generated code boxes it).
pub fn check_async<S, R, F>(f: F) -> Check<S, R>
where
    F: for<'a> Fn(&'a S) -> BoxFuture<'a, R> + Send + Sync + 'static,
{
    Check::Async(Arc::new(f))
}
