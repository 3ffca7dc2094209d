//! A count that tests wait on: handlers add to it, a test awaits a number, with a bound so
//! that a regression fails the test instead of hanging it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Counts events (forwards started, producers ended, ...), with a signal on each.
#[derive(Default)]
pub struct Tally {
    count: AtomicUsize,
    signal: Notify,
}

impl Tally {
    /// Counts one event.
    pub fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.signal.notify_waiters();
    }

    /// How many were counted.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until `n` were counted, at most 10 s (then panics naming `what`).
    pub async fn reached(&self, n: usize, what: &str) {
        let wait = async {
            loop {
                let notified = self.signal.notified();
                if self.count() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("{n} {what} within 10 s (saw {})", self.count()));
    }
}
