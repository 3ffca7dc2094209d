//! The runtime of a started axon's offloaded handler code, apart from its I/O.
//!
//! An `async fn` forward that blocks its thread (a ported `time.sleep`, a synchronous model
//! call) would stall every connection polled by the same thread. A [`Watch`](super::Watch)
//! finds such forwards; from then on they (and their stream producers) run on this runtime,
//! with one thread per worker (`max_workers`): admission lets at most that many run at
//! once, so even when each of them blocks its thread, the accept loop, header parsing,
//! blacklists, signature checks, every refusal, the ping, the queue's answers and
//! `/healthz` keep answering on the runtime the axon was started on. Plain `fn` forwards
//! run on this runtime's blocking pool.

use tokio::runtime::{Handle, Runtime};

/// The most threads a handler runtime starts, whatever `max_workers` says.
pub(crate) const MAX_HANDLER_THREADS: usize = 256;

/// The runtime of one axon's offloaded handler code: `threads` workers named
/// `axon-handler`. Dropping it stops it without waiting for handlers still running.
pub(crate) struct HandlerRuntime {
    /// Always `Some` until dropped.
    runtime: Option<Runtime>,
    handle: Handle,
}

impl HandlerRuntime {
    /// A runtime with `threads` workers (at least 1, at most [`MAX_HANDLER_THREADS`]).
    pub(crate) fn new(threads: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.clamp(1, MAX_HANDLER_THREADS))
            .thread_name("axon-handler")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(HandlerRuntime {
            runtime: Some(runtime),
            handle,
        })
    }

    /// Where to spawn handler code.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for HandlerRuntime {
    fn drop(&mut self) {
        // Dropping a runtime waits for its threads, which an async context forbids.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_per_worker_and_it_drops_anywhere() {
        let runtime = HandlerRuntime::new(3).unwrap();
        assert_eq!(runtime.handle().metrics().num_workers(), 3);
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Dropped inside an async context, where a plain `Runtime` would panic.
        outer.block_on(async move { drop(runtime) });
        let one = HandlerRuntime::new(0).unwrap();
        assert_eq!(one.handle().metrics().num_workers(), 1);
    }
}
