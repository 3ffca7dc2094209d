//! Stage 5: admission. At most `max_workers` requests past verification read their body
//! and run their forward at once; the others wait their turn in arrival order.

use super::Refusal;
use http::StatusCode;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The bound on requests being served at once.
pub(crate) struct Admission {
    workers: Semaphore,
}

impl Admission {
    /// Admits `max_workers` requests at once (at least one).
    pub(crate) fn new(max_workers: usize) -> Self {
        Admission {
            workers: Semaphore::new(max_workers.clamp(1, Semaphore::MAX_PERMITS)),
        }
    }

    /// Waits for a free worker; the request is served while the permit lives.
    pub(crate) async fn admit(&self) -> Result<SemaphorePermit<'_>, Refusal> {
        self.workers
            .acquire()
            .await
            .map_err(|_| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "The axon is shutting down"))
    }

    /// Workers free right now.
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.workers.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn at_most_max_workers_are_admitted() {
        let admission = Admission::new(2);
        let a = admission.admit().await.unwrap();
        let _b = admission.admit().await.unwrap();
        assert_eq!(admission.available(), 0);
        let mut third = Box::pin(admission.admit());
        assert!(
            futures_poll_once(&mut third).is_none(),
            "a third request must wait"
        );
        drop(a);
        assert!(
            futures_poll_once(&mut third).is_some(),
            "and is admitted once one finishes"
        );
        assert_eq!(Admission::new(0).available(), 1);
    }

    /// Polls a future once with a no-op waker.
    fn futures_poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::Pin::new(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
