//! The synapse listener's connections: how many are open, from which address, which are
//! idle, and which to close so that no one client can take the slots the others need.
//!
//! - **Per address**: at most [`Limits::max_connections_per_address`] open connections
//!   from one peer address; beyond it a new one is closed at once. Trusted proxies (whose
//!   connections carry many clients) are exempt.
//! - **At the cap** ([`Limits::max_connections`]): a new connection closes the connection
//!   idle the longest (no request in flight: a fresh connection that has sent nothing, a
//!   half-sent head, a kept-alive connection between requests) instead of waiting for one
//!   to close. Only when every connection has a request in flight does the next wait in
//!   the kernel's backlog.
//! - **First head**: a new connection that sends nothing within
//!   [`Limits::first_head_timeout`] is closed (the listener's task for that).
//!
//! Each closing is counted by [`Closed`] reason for `/metrics`.
//!
//! [`Limits::max_connections_per_address`]: crate::Limits::max_connections_per_address
//! [`Limits::max_connections`]: crate::Limits::max_connections
//! [`Limits::first_head_timeout`]: crate::Limits::first_head_timeout

use crate::net::TrustedProxies;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Why the axon closed a connection (the label of `axon_connections_closed_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    /// Its address already had its share of connections open.
    PerAddress,
    /// The cap was reached and it was the one idle the longest.
    Evicted,
    /// It sent nothing within the first-head timeout.
    FirstHead,
    /// It opened a TLS handshake beyond its address's handshake budget.
    HandshakesPerAddress,
    /// It opened a TLS handshake beyond the overall handshake budget.
    HandshakesPerSecond,
}

impl Closed {
    pub(crate) const ALL: [Closed; 5] = [
        Closed::PerAddress,
        Closed::Evicted,
        Closed::FirstHead,
        Closed::HandshakesPerAddress,
        Closed::HandshakesPerSecond,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Closed::PerAddress => "per_address",
            Closed::Evicted => "evicted",
            Closed::FirstHead => "first_head",
            Closed::HandshakesPerAddress => "tls_handshakes_per_address",
            Closed::HandshakesPerSecond => "tls_handshakes_per_second",
        }
    }
}

/// How a connection was served (the label of `axon_connections_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Plain HTTP.
    Plain,
    /// HTTP over TLS, once its handshake completed.
    Tls,
}

impl Transport {
    pub(crate) const ALL: [Transport; 2] = [Transport::Plain, Transport::Tls];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Transport::Plain => "plain",
            Transport::Tls => "tls",
        }
    }
}

/// Why a TLS handshake failed (the label of `axon_tls_handshake_failures_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandshakeFailure {
    /// Not finished within the first-head timeout.
    Timeout,
    /// The client closed the connection, or it failed, before the handshake finished.
    Closed,
    /// Not TLS the server accepts: a malformed record, no common version or cipher suite,
    /// a message too large.
    Rejected,
}

impl HandshakeFailure {
    pub(crate) const ALL: [HandshakeFailure; 3] = [
        HandshakeFailure::Timeout,
        HandshakeFailure::Closed,
        HandshakeFailure::Rejected,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::Closed => "closed",
            HandshakeFailure::Rejected => "rejected",
        }
    }
}

/// The open connections of one listener (cheap to clone: one shared table).
#[derive(Clone)]
pub(crate) struct Connections {
    inner: Arc<Inner>,
}

struct Inner {
    max: usize,
    per_address: usize,
    exempt: TrustedProxies,
    table: Mutex<Table>,
    /// A connection closed or went idle: a waiting accept may go on.
    room: Notify,
    /// The accept loop waits for room (only then are closings and idle requests told:
    /// `Notify` takes a lock, which every request's end should not).
    waiting: AtomicBool,
    closed: [AtomicU64; 5],
    transports: [AtomicU64; 2],
    handshake_failures: [AtomicU64; 3],
    epoch: Instant,
}

#[derive(Default)]
struct Table {
    open: HashMap<u64, Arc<Conn>>,
    by_address: HashMap<IpAddr, usize>,
    next_id: u64,
}

/// One open connection, as its task and the table share it.
pub(crate) struct Conn {
    id: u64,
    address: IpAddr,
    /// Requests whose answer is not yet fully sent.
    in_flight: AtomicUsize,
    /// When it last had a request in flight (or was accepted), in ms since the epoch.
    last_active: AtomicU64,
    /// Told to close (evicted).
    close: Notify,
}

impl Conn {
    /// Resolves when the connection is to be closed.
    pub(crate) async fn evicted(&self) {
        self.close.notified().await
    }
}

/// A connection's place in the table; dropping it frees the place.
pub(crate) struct Held {
    conn: Arc<Conn>,
    connections: Connections,
}

impl Held {
    pub(crate) fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }

    /// A handle for the connection's service to mark its requests.
    pub(crate) fn activity(&self) -> Activity {
        Activity {
            conn: self.conn.clone(),
            connections: self.connections.clone(),
        }
    }
}

/// Marks a connection's requests in flight (see [`Held::activity`]).
#[derive(Clone)]
pub(crate) struct Activity {
    conn: Arc<Conn>,
    connections: Connections,
}

impl Activity {
    /// Marks a request in flight until the returned guard is dropped (when its answer has
    /// been sent): the connection is not idle meanwhile.
    pub(crate) fn busy(&self) -> Busy {
        self.conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy {
            conn: self.conn.clone(),
            connections: self.connections.clone(),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut table = self.connections.table();
        table.open.remove(&self.conn.id);
        if let Some(n) = table.by_address.get_mut(&self.conn.address) {
            *n -= 1;
            if *n == 0 {
                table.by_address.remove(&self.conn.address);
            }
        }
        drop(table);
        self.connections.made_room();
    }
}

/// A request in flight on a connection (see [`Held::busy`]).
pub(crate) struct Busy {
    conn: Arc<Conn>,
    connections: Connections,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.connections.now_ms();
        self.conn.last_active.store(now, Ordering::Release);
        if self.conn.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.connections.made_room();
        }
    }
}

impl Connections {
    /// At most `max` connections (at least one), `per_address` from one address (at least
    /// one), `exempt` unlimited per address.
    pub(crate) fn new(max: usize, per_address: usize, exempt: TrustedProxies) -> Self {
        Connections {
            inner: Arc::new(Inner {
                max: max.max(1),
                per_address: per_address.max(1),
                exempt,
                table: Mutex::new(Table::default()),
                room: Notify::new(),
                waiting: AtomicBool::new(false),
                closed: Default::default(),
                transports: Default::default(),
                handshake_failures: Default::default(),
                epoch: Instant::now(),
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.inner.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> u64 {
        self.inner.epoch.elapsed().as_millis() as u64
    }

    /// How many are open.
    pub(crate) fn open(&self) -> usize {
        self.table().open.len()
    }

    /// How many the axon closed for `reason`.
    pub(crate) fn closed(&self, reason: Closed) -> u64 {
        self.inner.closed[reason as usize].load(Ordering::Relaxed)
    }

    /// Counts a connection closed for `reason`.
    pub(crate) fn count(&self, reason: Closed) {
        self.inner.closed[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// How many connections were served over `transport`.
    pub(crate) fn served(&self, transport: Transport) -> u64 {
        self.inner.transports[transport as usize].load(Ordering::Relaxed)
    }

    /// Counts a connection served over `transport`.
    pub(crate) fn count_transport(&self, transport: Transport) {
        self.inner.transports[transport as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// How many TLS handshakes failed for `reason`.
    pub(crate) fn handshakes_failed(&self, reason: HandshakeFailure) -> u64 {
        self.inner.handshake_failures[reason as usize].load(Ordering::Relaxed)
    }

    /// Counts a TLS handshake failed for `reason`.
    pub(crate) fn count_handshake_failure(&self, reason: HandshakeFailure) {
        self.inner.handshake_failures[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Tells a waiting accept that a connection closed or went idle.
    fn made_room(&self) {
        if self.inner.waiting.load(Ordering::SeqCst) {
            self.inner.room.notify_waiters();
        }
    }

    /// Waits until a new connection can be taken: below the cap, or one is idle.
    pub(crate) async fn room(&self) {
        loop {
            let notified = self.inner.room.notified();
            // Set before the check: a change after it sees the flag and wakes us.
            self.inner.waiting.store(true, Ordering::SeqCst);
            {
                let table = self.table();
                if table.open.len() < self.inner.max || oldest_idle(&table).is_some() {
                    self.inner.waiting.store(false, Ordering::SeqCst);
                    return;
                }
            }
            // Re-checked now and then too: a wake-up is never the only way out.
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }

    /// Takes a new connection from `address`: refused (and counted) when the address has
    /// its share open; at the cap, the connection idle the longest is told to close.
    pub(crate) fn admit(&self, address: IpAddr) -> Result<Held, Closed> {
        let exempt = self.inner.exempt.contains(address);
        let now = self.now_ms();
        let mut table = self.table();
        let from_address = table.by_address.get(&address).copied().unwrap_or(0);
        if !exempt && from_address >= self.inner.per_address {
            drop(table);
            self.count(Closed::PerAddress);
            return Err(Closed::PerAddress);
        }
        if table.open.len() >= self.inner.max {
            if let Some(victim) = oldest_idle(&table) {
                // Out of the table now, so it is not chosen twice; its task closes it.
                table.open.remove(&victim.id);
                victim.in_flight.fetch_add(1, Ordering::AcqRel);
                victim.close.notify_one();
                self.count(Closed::Evicted);
            }
        }
        let id = table.next_id;
        table.next_id += 1;
        let conn = Arc::new(Conn {
            id,
            address,
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(now),
            close: Notify::new(),
        });
        table.open.insert(id, conn.clone());
        *table.by_address.entry(address).or_insert(0) += 1;
        Ok(Held {
            conn,
            connections: self.clone(),
        })
    }
}

/// The open connection idle the longest, if any is idle.
fn oldest_idle(table: &Table) -> Option<Arc<Conn>> {
    table
        .open
        .values()
        .filter(|c| c.in_flight.load(Ordering::Acquire) == 0)
        .min_by_key(|c| (c.last_active.load(Ordering::Acquire), c.id))
        .cloned()
}

/// A response body that keeps its request marked in flight until it is sent or dropped.
pub(crate) struct Tracked<B> {
    pub(crate) body: B,
    /// Held for its `Drop`.
    pub(crate) _busy: Busy,
}

impl<B: hyper::body::Body + Unpin> hyper::body::Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<B::Data>, B::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn one_address_gets_its_share_and_no_more() {
        let c = Connections::new(100, 2, TrustedProxies::default());
        let a = c.admit(ip(1)).unwrap();
        let _b = c.admit(ip(1)).unwrap();
        assert_eq!(c.admit(ip(1)).err(), Some(Closed::PerAddress));
        let _other = c.admit(ip(2)).unwrap();
        drop(a);
        let _again = c.admit(ip(1)).unwrap();
        assert_eq!(c.open(), 3);
        assert_eq!(c.closed(Closed::PerAddress), 1);
    }

    #[test]
    fn trusted_proxies_are_exempt() {
        let proxies = TrustedProxies::parse(["127.0.0.9"]).unwrap();
        let c = Connections::new(100, 1, proxies);
        let _held: Vec<_> = (0..5).map(|_| c.admit(ip(9)).unwrap()).collect();
        assert_eq!(c.open(), 5);
        // Another address under the same share of one gets one.
        let _one = c.admit(ip(8)).unwrap();
        assert_eq!(c.admit(ip(8)).err(), Some(Closed::PerAddress));
        assert_eq!(c.closed(Closed::PerAddress), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn at_the_cap_the_longest_idle_is_evicted_and_busy_ones_never() {
        let c = Connections::new(3, 10, TrustedProxies::default());
        let oldest = c.admit(ip(1)).unwrap();
        let busy = c.admit(ip(1)).unwrap();
        let newer = c.admit(ip(2)).unwrap();
        let _request = busy.activity().busy();
        // The cap is reached: room, since two are idle.
        c.room().await;
        let _fourth = c.admit(ip(3)).unwrap();
        assert_eq!(c.closed(Closed::Evicted), 1);
        // The oldest idle was told to close; the others were not.
        tokio::time::timeout(Duration::from_secs(1), oldest.conn().evicted())
            .await
            .expect("the oldest idle connection was told to close");
        let told = |h: &Held| futures_util::FutureExt::now_or_never(h.conn().evicted()).is_some();
        assert!(!told(&busy));
        assert!(!told(&newer));
        drop(oldest);
        assert_eq!(c.open(), 3);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn when_every_connection_is_busy_the_next_waits() {
        let c = Connections::new(1, 10, TrustedProxies::default());
        let only = c.admit(ip(1)).unwrap();
        let request = only.activity().busy();
        let waited = tokio::time::timeout(Duration::from_secs(5), c.room()).await;
        assert!(waited.is_err(), "room while the only connection is busy");
        drop(request);
        tokio::time::timeout(Duration::from_secs(1), c.room())
            .await
            .expect("room once it is idle");
    }
}
