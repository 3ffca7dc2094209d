//! Task helpers that know nothing of synapses: a panic caught as a value ([`CatchUnwind`],
//! so a panic in a request's stages becomes that request's 500, not a dropped connection),
//! and a spawned task cancelled with its handle ([`AbortOnDrop`]).

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Resolves to the future's output, or to the panic's message if polling it panicked.
/// The future is not polled again after a panic.
pub(crate) struct CatchUnwind<F: ?Sized>(pub(crate) Pin<Box<F>>);

impl<F: Future + ?Sized> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // The future is dropped, never polled again, after a panic: no broken invariant
        // of it is observed.
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The text a panic was raised with, for the log.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    match text {
        Some(text) => format!("panicked: {text}"),
        None => "panicked".into(),
    }
}

/// A task handle that cancels its task when dropped.
pub(crate) struct AbortOnDrop<T>(pub(crate) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Describes a forward task that panicked or was cancelled, for the log.
pub(crate) fn join_failure(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "the forward was cancelled".into();
    }
    format!("the forward {}", panic_message(e.into_panic().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_becomes_its_message() {
        let ok = CatchUnwind(Box::pin(async { 7 })).await;
        assert_eq!(ok, Ok(7));
        let failed = CatchUnwind(Box::pin(async {
            tokio::task::yield_now().await;
            if ok == Ok(7) {
                panic!("in stage {}", 3);
            }
            0
        }))
        .await;
        assert_eq!(failed, Err("panicked: in stage 3".into()));
    }
}
