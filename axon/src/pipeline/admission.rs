//! Stage 6: admission. At most `max_workers` requests past verification read their body
//! and run their forward at once. The others wait in a bounded queue ordered by their
//! priority (higher first, first come first served among equals); a full queue is 503 at
//! once, and a request whose deadline passes while it waits is 408 and never runs.

use super::refusal::Refusal;
use crate::metrics::Reason;
use http::StatusCode;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The default bound on waiting requests (Python's `priority.maxsize` names the setting;
/// its default of 10 would refuse most of a busy validator's burst).
pub(crate) const DEFAULT_MAX_WAITING: usize = 1024;

/// The scheduler: `max_workers` slots and the queue of requests waiting for one.
pub(crate) struct Admission {
    inner: Arc<Mutex<Slots>>,
}

struct Slots {
    max_workers: usize,
    max_waiting: usize,
    running: usize,
    next_seq: u64,
    waiting: BinaryHeap<Waiter>,
}

/// A request waiting for a slot; told through `wake` when it has one.
struct Waiter {
    priority: f64,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl Ord for Waiter {
    /// Higher priority first; among equals, the earlier arrival.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Waiter {}

/// How busy a running axon is: see [`Axon::load`](crate::Axon::load).
///
/// ```
/// let load = axon::Load { running: 2, waiting: 0 };
/// assert_eq!(load, axon::Load { running: 2, waiting: 0 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// Requests past admission: reading their body or running their forward.
    pub running: usize,
    /// Requests waiting for a worker.
    pub waiting: usize,
}

/// A slot: the request is served while it lives; dropping it hands the slot to the best
/// waiter.
pub(crate) struct Permit {
    inner: Arc<Mutex<Slots>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        release(&self.inner);
    }
}

/// Hands a freed slot to the best waiter still waiting, or frees it.
fn release(inner: &Mutex<Slots>) {
    let mut slots = inner.lock().unwrap_or_else(|e| e.into_inner());
    while let Some(waiter) = slots.waiting.pop() {
        if waiter.wake.send(()).is_ok() {
            return; // the slot passes on: `running` is unchanged
        }
    }
    slots.running -= 1;
}

impl Admission {
    /// `max_workers` slots (at least one) and at most `max_waiting` requests waiting.
    pub(crate) fn new(max_workers: usize, max_waiting: usize) -> Self {
        Admission {
            inner: Arc::new(Mutex::new(Slots {
                max_workers: max_workers.max(1),
                max_waiting,
                running: 0,
                next_seq: 0,
                waiting: BinaryHeap::new(),
            })),
        }
    }

    /// Waits for a slot, served by `priority` (NaN counts as the lowest), until `deadline`
    /// (the end of the request's `timeout`): 503 at once when the queue is full, 408 when the
    /// deadline passes first.
    pub(crate) async fn admit(
        &self,
        priority: f64,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Permit, Refusal> {
        let woken = {
            let mut slots = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if slots.running < slots.max_workers && slots.waiting.is_empty() {
                slots.running += 1;
                return Ok(self.permit());
            }
            if slots.waiting.len() >= slots.max_waiting {
                // Requests that gave up still sit in the heap: drop them before refusing.
                slots.waiting.retain(|w| !w.wake.is_closed());
            }
            if slots.waiting.len() >= slots.max_waiting {
                return Err(Refusal::new(
                    Reason::Overloaded,
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "The axon is busy: {} requests are being served and {} are waiting \
                         (priority.maxsize); retry later",
                        slots.running,
                        slots.waiting.len()
                    ),
                ));
            }
            let (wake, woken) = oneshot::channel();
            let seq = slots.next_seq;
            slots.next_seq += 1;
            let priority = if priority.is_nan() {
                f64::NEG_INFINITY
            } else {
                priority
            };
            slots.waiting.push(Waiter {
                priority,
                seq,
                wake,
            });
            woken
        };
        let mut woken = woken;
        match tokio::time::timeout_at(deadline, &mut woken).await {
            Ok(Ok(())) => Ok(self.permit()),
            Ok(Err(_)) => Err(Refusal::new(
                Reason::Overloaded,
                StatusCode::SERVICE_UNAVAILABLE,
                "The axon is shutting down",
            )),
            Err(_) => {
                // A slot handed over at the very deadline is passed on, not leaked.
                woken.close();
                if woken.try_recv().is_ok() {
                    drop(self.permit());
                }
                Err(Refusal::expired(
                    timeout,
                    "while waiting for a worker; the forward never ran",
                ))
            }
        }
    }

    fn permit(&self) -> Permit {
        Permit {
            inner: self.inner.clone(),
        }
    }

    /// The number of slots.
    pub(crate) fn max_workers(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .max_workers
    }

    /// Slots in use and requests waiting (those that gave up excepted).
    pub(crate) fn load(&self) -> Load {
        let slots = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Load {
            running: slots.running,
            waiting: slots.waiting.iter().filter(|w| !w.wake.is_closed()).count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(3600);

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn waiters_are_served_by_priority_then_arrival() {
        let admission = Arc::new(Admission::new(1, 16));
        let busy = admission.admit(0.0, far(), T).await.unwrap();
        let (order_tx, mut order) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for (name, priority) in [
            ("low", 1.0),
            ("high-1", 9.0),
            ("nan", f64::NAN),
            ("high-2", 9.0),
            ("mid", 5.0),
        ] {
            let queue = admission.clone();
            let order_tx = order_tx.clone();
            tasks.push(tokio::spawn(async move {
                let permit = queue.admit(priority, far(), T).await.unwrap();
                order_tx.send(name).unwrap();
                drop(permit);
            }));
            // Each waiter is queued before the next arrives.
            while admission.load().waiting < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        drop(busy);
        for t in tasks {
            t.await.unwrap();
        }
        let mut served = Vec::new();
        while let Ok(name) = order.try_recv() {
            served.push(name);
        }
        assert_eq!(served, ["high-1", "high-2", "mid", "low", "nan"]);
        assert_eq!(
            admission.load(),
            Load {
                running: 0,
                waiting: 0
            }
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_queue_is_503_at_once() {
        let admission = Arc::new(Admission::new(1, 1));
        let _busy = admission.admit(0.0, far(), T).await.unwrap();
        let waiting = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.admit(0.0, far(), T).await.map(|_| ()) })
        };
        while admission.load().waiting < 1 {
            tokio::task::yield_now().await;
        }
        let refused = admission.admit(100.0, far(), T).await.err().unwrap();
        assert_eq!(refused.status, 503);
        assert_eq!(
            refused.message,
            "The axon is busy: 1 requests are being served and 1 are waiting (priority.maxsize); retry later"
        );
        waiting.abort();
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_deadline_passing_in_the_queue_is_408_and_frees_its_place() {
        let admission = Admission::new(1, 1);
        let busy = admission.admit(0.0, far(), T).await.unwrap();
        let expired = admission
            .admit(
                0.0,
                Instant::now() + Duration::from_millis(50),
                Duration::from_millis(50),
            )
            .await
            .err()
            .unwrap();
        assert_eq!(expired.status, 408);
        assert_eq!(
            expired.message,
            "Request timed out after 0.05s while waiting for a worker; the forward never ran"
        );
        // The expired waiter does not hold the queue's one place, nor the slot.
        let next = admission.admit(0.0, far(), T);
        drop(busy);
        let _served = next.await.unwrap();
        assert_eq!(
            admission.load(),
            Load {
                running: 1,
                waiting: 0
            }
        );
    }
}
