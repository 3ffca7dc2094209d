//! How many TLS handshakes the axon starts: a token bucket per client address
//! ([`Limits::tls_handshakes_per_address`] a second, after a burst of the address's share of
//! connections), and one for all of them ([`Limits::tls_handshakes_per_second`], after a
//! burst of one second's worth). A handshake costs the server a key exchange and a
//! signature (about 190 us here) before any request is read; the two budgets bound the CPU
//! a flood of them takes, from one address and from many. A connection refused for either
//! is closed before its handshake, at a small fraction of a handshake's cost.
//!
//! The table forgets an address once its bucket is full again, so it holds only addresses
//! that handshook in the last few seconds, and never more than [`MAX_TRACKED`] of them: past
//! that, new addresses are admitted untracked, under the overall budget alone.
//!
//! [`Limits::tls_handshakes_per_address`]: crate::Limits::tls_handshakes_per_address
//! [`Limits::tls_handshakes_per_second`]: crate::Limits::tls_handshakes_per_second

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most addresses tracked at once (about 40 bytes each).
const MAX_TRACKED: usize = 65_536;

/// Full buckets are swept out at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The handshake budgets of a listener: each address's, and the overall one.
pub(crate) struct HandshakeBudget {
    /// Tokens added per second to an address's bucket.
    rate: f64,
    /// The most tokens an address's bucket holds.
    burst: f64,
    /// Tokens added per second to the overall bucket, which holds one second's worth.
    total_rate: f64,
    table: Mutex<Table>,
}

struct Table {
    buckets: HashMap<IpAddr, Bucket>,
    total: Bucket,
    swept: Instant,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Why a handshake was not started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spent {
    /// The client address's budget.
    Address,
    /// The overall budget.
    Total,
}

impl HandshakeBudget {
    /// `per_address` handshakes a second from one address (at least one), up to `burst` at
    /// once (at least `per_address`); `per_second` from all addresses (at least one), up to
    /// one second's worth at once.
    pub(crate) fn new(per_address: u32, burst: usize, per_second: u32) -> Self {
        let rate = f64::from(per_address.max(1));
        let total_rate = f64::from(per_second.max(1));
        let now = Instant::now();
        HandshakeBudget {
            rate,
            burst: (burst as f64).max(rate),
            total_rate,
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                total: Bucket {
                    tokens: total_rate,
                    at: now,
                },
                swept: now,
            }),
        }
    }

    /// Whether `address` may start a handshake now, taking one token from its bucket and
    /// one from the overall bucket if so; otherwise which budget is spent (a refusal takes
    /// nothing).
    pub(crate) fn admit(&self, address: IpAddr) -> Result<(), Spent> {
        self.admit_at(address, Instant::now())
    }

    fn admit_at(&self, address: IpAddr, now: Instant) -> Result<(), Spent> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let (rate, burst) = (self.rate, self.burst);
        if now.saturating_duration_since(table.swept) >= SWEEP_EVERY {
            table.swept = now;
            table
                .buckets
                .retain(|_, b| refilled(*b, now, rate, burst) < burst);
        }
        let tracked = table.buckets.get(&address).copied();
        let untracked = tracked.is_none() && table.buckets.len() >= MAX_TRACKED;
        let mine = match tracked {
            Some(bucket) => refilled(bucket, now, rate, burst),
            None => burst,
        };
        if mine < 1.0 {
            return Err(Spent::Address);
        }
        let total = refilled(table.total, now, self.total_rate, self.total_rate);
        if total < 1.0 {
            return Err(Spent::Total);
        }
        table.total = Bucket {
            tokens: total - 1.0,
            at: now,
        };
        if !untracked {
            let bucket = Bucket {
                tokens: mine - 1.0,
                at: now,
            };
            table.buckets.insert(address, bucket);
        }
        Ok(())
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .buckets
            .len()
    }
}

/// `bucket`'s tokens at `now`, refilled at `rate` a second up to `burst`.
fn refilled(bucket: Bucket, now: Instant, rate: f64, burst: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * rate).min(burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLENTY: u32 = 1_000_000;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn an_address_gets_its_burst_then_its_rate() {
        let budget = HandshakeBudget::new(4, 8, PLENTY);
        let start = Instant::now();
        for _ in 0..8 {
            assert_eq!(budget.admit_at(ip(1), start), Ok(()));
        }
        assert_eq!(budget.admit_at(ip(1), start), Err(Spent::Address));
        // Another address has its own bucket.
        assert_eq!(budget.admit_at(ip(2), start), Ok(()));
        // A quarter of a second later: one more (4 a second).
        let later = start + Duration::from_millis(250);
        assert_eq!(budget.admit_at(ip(1), later), Ok(()));
        assert_eq!(budget.admit_at(ip(1), later), Err(Spent::Address));
        // Refused attempts take nothing: a second later, four.
        let again = later + Duration::from_secs(1);
        for _ in 0..4 {
            assert_eq!(budget.admit_at(ip(1), again), Ok(()));
        }
        assert_eq!(budget.admit_at(ip(1), again), Err(Spent::Address));
    }

    #[test]
    fn the_burst_is_at_least_the_rate() {
        let budget = HandshakeBudget::new(16, 2, PLENTY);
        let now = Instant::now();
        let admitted = (0..20).filter(|_| budget.admit_at(ip(1), now).is_ok());
        assert_eq!(admitted.count(), 16);
    }

    #[test]
    fn all_addresses_share_the_overall_budget() {
        let start = Instant::now();
        // One second's worth at once, from any addresses.
        let budget = HandshakeBudget::new(100, 100, 10);
        for n in 0..10 {
            assert_eq!(budget.admit_at(ip(n), start), Ok(()));
        }
        assert_eq!(budget.admit_at(ip(99), start), Err(Spent::Total));
        // An address over its own budget is refused for that, taking nothing overall.
        let budget = HandshakeBudget::new(1, 1, 2);
        assert_eq!(budget.admit_at(ip(1), start), Ok(()));
        assert_eq!(budget.admit_at(ip(1), start), Err(Spent::Address));
        assert_eq!(budget.admit_at(ip(2), start), Ok(()));
        assert_eq!(budget.admit_at(ip(3), start), Err(Spent::Total));
        // It refills at its rate (2 a second): none in a tenth of a second, one in a half.
        let budget = HandshakeBudget::new(100, 100, 2);
        assert_eq!(budget.admit_at(ip(1), start), Ok(()));
        assert_eq!(budget.admit_at(ip(1), start), Ok(()));
        let soon = start + Duration::from_millis(100);
        assert_eq!(budget.admit_at(ip(1), soon), Err(Spent::Total));
        let later = start + Duration::from_millis(500);
        assert_eq!(budget.admit_at(ip(1), later), Ok(()));
        assert_eq!(budget.admit_at(ip(1), later), Err(Spent::Total));
    }

    #[test]
    fn full_buckets_are_forgotten_and_the_table_is_bounded() {
        let budget = HandshakeBudget::new(10, 10, PLENTY);
        let start = Instant::now();
        for n in 0..1000 {
            assert_eq!(budget.admit_at(ip(n), start), Ok(()));
        }
        assert_eq!(budget.tracked(), 1000);
        // A second on, every bucket is full again: the next handshake sweeps them out.
        let later = start + Duration::from_secs(1);
        assert_eq!(budget.admit_at(ip(5000), later), Ok(()));
        assert_eq!(budget.tracked(), 1);
        // At the bound, a new address is admitted untracked; tracked ones keep their count.
        let budget = HandshakeBudget::new(1, 1, PLENTY);
        for n in 0..MAX_TRACKED as u32 {
            assert_eq!(budget.admit_at(ip(n), start), Ok(()));
        }
        let new = ip(MAX_TRACKED as u32);
        assert_eq!(budget.admit_at(new, start), Ok(()));
        assert_eq!(budget.admit_at(new, start), Ok(()));
        assert_eq!(budget.tracked(), MAX_TRACKED);
        assert_eq!(budget.admit_at(ip(0), start), Err(Spent::Address));
    }
}
