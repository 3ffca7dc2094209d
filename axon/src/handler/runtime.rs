//! Where handler code runs, apart from the axon's I/O.
//!
//! An `async fn` forward that blocks its thread (a ported `time.sleep`, a synchronous model
//! call) would stall every connection polled by the same thread if it ran on the runtime
//! that accepts connections and checks requests. So a running axon polls async forwards and
//! stream producers on a [`HandlerRuntime`] of its own, with one thread per worker
//! (`max_workers`): at most that many forwards run at once (admission sees to it), so even
//! when each of them blocks its thread, the accept loop, header parsing, blacklists,
//! signature checks, every refusal, the ping, the queue's answers and `/healthz` keep
//! answering on the runtime the axon was started on. Plain `fn` forwards run on this
//! runtime's blocking pool.
//!
//! A [`Watch`] times every poll of a handler's future: one that holds its thread for
//! [`HOLD_WARNING`] or longer without yielding logs one warning naming the handler, once
//! per handler.

use super::HandlerInfo;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, Runtime};

/// A poll of a handler's future taking this long or longer is reported (once per handler).
/// Async code should yield far more often: tokio's guidance is 10 to 100 µs between
/// `.await`s.
pub(crate) const HOLD_WARNING: Duration = Duration::from_millis(100);

/// The most threads a handler runtime starts, whatever `max_workers` says.
pub(crate) const MAX_HANDLER_THREADS: usize = 256;

/// The runtime that polls one axon's handler code: `threads` workers named
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

/// Times the polls of one handler's futures; see the module docs.
#[derive(Clone)]
pub(crate) struct Watch(Arc<Watched>);

struct Watched {
    info: HandlerInfo,
    warned: AtomicBool,
}

impl Watch {
    pub(crate) fn new(info: HandlerInfo) -> Self {
        Watch(Arc::new(Watched {
            info,
            warned: AtomicBool::new(false),
        }))
    }

    /// `future`, its polls timed.
    pub(crate) fn watch<F: Future + Unpin>(&self, future: F) -> Timed<F> {
        Timed {
            future,
            watch: self.clone(),
        }
    }

    /// Whether this handler was reported.
    #[cfg(test)]
    pub(crate) fn warned(&self) -> bool {
        self.0.warned.load(Ordering::Relaxed)
    }

    fn held(&self, held: Duration) {
        if held < HOLD_WARNING || self.0.warned.swap(true, Ordering::Relaxed) {
            return;
        }
        let info = &self.0.info;
        tracing::warn!(
            handler = info.name(),
            file = info.file(),
            line = info.line(),
            held_ms = held.as_millis() as u64,
            "the async {} `{}` ({}:{}) held its thread for {:.2} s without yielding: \
             blocking code in an `async fn` delays the other handlers sharing its thread. \
             Make it a plain `fn` (the axon runs those on blocking threads), or move the \
             blocking call into `tokio::task::spawn_blocking`. (Reported once per handler.)",
            info.kind(),
            info.name(),
            info.file(),
            info.line(),
            held.as_secs_f64()
        );
    }
}

/// A future whose polls are timed by a [`Watch`].
pub(crate) struct Timed<F> {
    future: F,
    watch: Watch,
}

impl<F: Future + Unpin> Future for Timed<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let start = Instant::now();
        let poll = Pin::new(&mut self.future).poll(cx);
        self.watch.held(start.elapsed());
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HandlerKind;

    const INFO: HandlerInfo =
        HandlerInfo::new(HandlerKind::Forward, "miner::slow", "src/main.rs", 7);

    #[tokio::test(flavor = "current_thread")]
    async fn a_poll_holding_the_thread_is_reported_once() {
        let watch = Watch::new(INFO);
        watch
            .watch(Box::pin(async { tokio::task::yield_now().await }))
            .await;
        assert!(!watch.warned());
        let blocking = || Box::pin(async { std::thread::sleep(HOLD_WARNING) });
        watch.watch(blocking()).await;
        assert!(watch.warned());
        // Once per handler: a clone shares the flag.
        watch.clone().watch(blocking()).await;
        assert!(watch.warned());
    }

    #[test]
    fn the_runtime_has_a_thread_per_worker_and_drops_anywhere() {
        let runtime = HandlerRuntime::new(3).unwrap();
        assert_eq!(runtime.handle().metrics().num_workers(), 3);
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Dropped inside an async context, where a plain `Runtime` would panic.
        outer.block_on(async move { drop(runtime) });
        assert_eq!(
            HandlerRuntime::new(0)
                .unwrap()
                .handle()
                .metrics()
                .num_workers(),
            1
        );
    }
}
