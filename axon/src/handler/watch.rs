//! Handler code that holds its thread, found and moved out of the axon's way.
//!
//! A [`Watch`] times every poll of an async forward's future (and of its stream producer).
//! Where it runs follows what was seen:
//!
//! - **probation**: its first [`PROBATION_CALLS`] calls run on the axon's handler runtime
//!   (`handler::runtime`), away from the I/O;
//! - **inline**: a forward none of whose polls held its thread [`OFFLOAD_AFTER`] or longer
//!   is then polled in its request's own task, as cheap as a function call: handing every
//!   request to another runtime and back costs two thread wake-ups, measured at 9% of the
//!   1 KB throughput on 2 cores (`bench/ab.py`);
//! - **offloaded**: a forward that held its thread that long, in probation or later, runs
//!   on the handler runtime from then on.
//!
//! A poll of [`HOLD_WARNING`] or longer also logs one warning naming the handler with its
//! file and line, once per handler. The one case this does not cover: a forward that
//! passed probation and blocks later holds one of the I/O threads for that one poll (and
//! any that started meanwhile), before it is moved; the warning then says so.

use super::HandlerInfo;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A poll of a handler's future taking this long or longer is reported (once per handler).
/// Async code should yield far more often: tokio's guidance is 10 to 100 µs between
/// `.await`s.
pub(crate) const HOLD_WARNING: Duration = Duration::from_millis(100);

/// A poll this long or longer moves its forward to the handler runtime for good.
pub(crate) const OFFLOAD_AFTER: Duration = Duration::from_millis(10);

/// Calls a forward makes on the handler runtime before it may run inline.
pub(crate) const PROBATION_CALLS: u32 = 64;

const PROBATION: u8 = 0;
const INLINE: u8 = 1;
const OFFLOADED: u8 = 2;

/// Times the polls of one handler's futures; see the module docs.
#[derive(Clone)]
pub(crate) struct Watch(Arc<Watched>);

struct Watched {
    info: HandlerInfo,
    warned: AtomicBool,
    /// [`PROBATION`], [`INLINE`] or [`OFFLOADED`].
    mode: AtomicU8,
    /// Calls made in probation.
    calls: AtomicU32,
}

impl Watch {
    pub(crate) fn new(info: HandlerInfo) -> Self {
        Watch(Arc::new(Watched {
            info,
            warned: AtomicBool::new(false),
            mode: AtomicU8::new(PROBATION),
            calls: AtomicU32::new(0),
        }))
    }

    /// Whether this call of the forward runs on the handler runtime (counted for
    /// probation).
    pub(crate) fn offload(&self) -> bool {
        match self.0.mode.load(Ordering::Relaxed) {
            INLINE => false,
            OFFLOADED => true,
            _ => {
                if self.0.calls.fetch_add(1, Ordering::Relaxed) + 1 >= PROBATION_CALLS {
                    let _ = self.0.mode.compare_exchange(
                        PROBATION,
                        INLINE,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                true
            }
        }
    }

    /// Whether the forward's code runs inline, in its request's task (not counted).
    pub(crate) fn inline(&self) -> bool {
        self.0.mode.load(Ordering::Relaxed) == INLINE
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
        if held < OFFLOAD_AFTER {
            return;
        }
        let was = self.0.mode.swap(OFFLOADED, Ordering::Relaxed);
        let info = &self.0.info;
        if was != OFFLOADED {
            tracing::info!(
                handler = info.name(),
                held_ms = held.as_millis() as u64,
                "the async {} `{}` ({}:{}) held its thread {:.3} s without yielding: it runs \
                 on the axon's handler threads from now on",
                info.kind(),
                info.name(),
                info.file(),
                info.line(),
                held.as_secs_f64()
            );
        }
        if held < HOLD_WARNING || self.0.warned.swap(true, Ordering::Relaxed) {
            return;
        }
        let stalled = match was {
            INLINE => "; it was running beside the axon's I/O, which waited for it",
            _ => "",
        };
        tracing::warn!(
            handler = info.name(),
            file = info.file(),
            line = info.line(),
            held_ms = held.as_millis() as u64,
            "the async {} `{}` ({}:{}) held its thread for {:.2} s without yielding{stalled}. \
             Blocking code in an `async fn` holds a thread while it runs: make it a plain \
             `fn` (the axon runs those on blocking threads), or move the blocking call into \
             `tokio::task::spawn_blocking`. (Reported once per handler.)",
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

    #[tokio::test(flavor = "current_thread")]
    async fn a_forward_runs_inline_after_probation_until_it_holds_its_thread() {
        let watch = Watch::new(INFO);
        for _ in 0..PROBATION_CALLS {
            assert!(!watch.inline());
            assert!(watch.offload());
            watch.watch(Box::pin(async {})).await;
        }
        assert!(watch.inline());
        assert!(!watch.offload());
        // One long poll: offloaded for good, without a warning below HOLD_WARNING.
        watch
            .watch(Box::pin(async { std::thread::sleep(OFFLOAD_AFTER) }))
            .await;
        assert!(!watch.warned());
        for _ in 0..2 * PROBATION_CALLS {
            assert!(watch.offload());
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_long_poll_in_probation_offloads_for_good() {
        let watch = Watch::new(INFO);
        assert!(watch.offload());
        watch
            .watch(Box::pin(async { std::thread::sleep(OFFLOAD_AFTER) }))
            .await;
        for _ in 0..2 * PROBATION_CALLS {
            assert!(watch.offload());
        }
        assert!(!watch.inline());
    }
}
