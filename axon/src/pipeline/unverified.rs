//! The body of a signed-HTTP request, read before its signature is checked (btauth/1 and
//! Epistula both sign the body's hash), and the budget that bounds what such bodies hold.
//!
//! A body is read before the request may take a worker, so a caller without a key holds
//! no worker and no queue slot, only the bytes it sent, and only within [`BodyBudget`]:
//! at most `per_address` bytes from one client address and `total` bytes from everyone,
//! counted as they arrive. A request past either bound is refused 503 at once. Once its
//! signature verified, its bytes leave its address's share but stay in the total until the
//! request is admitted to a worker (a verified request waiting in the queue holds its body);
//! after that, the workers bound them.

use super::refusal::Refusal;
use crate::metrics::Reason;
use axum::body::{Body, Bytes};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The bytes held by bodies whose signature is not yet verified (or whose request waits
/// for a worker), per client address and in total.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    per_address: usize,
    total: usize,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One request's share of the budget, given back when dropped.
pub(crate) struct Reservation {
    budget: Arc<BodyBudget>,
    address: IpAddr,
    bytes: usize,
    /// Its signature verified: its bytes no longer count in its address's share.
    verified: bool,
}

impl BodyBudget {
    /// A budget of `per_address` bytes per client address and `total` in all. One body
    /// always fits its address's share whatever its size (an endpoint may accept bodies
    /// larger than `per_address`), so `total` is raised to `largest_body` at least.
    pub(crate) fn new(per_address: usize, total: usize, largest_body: usize) -> Arc<Self> {
        Arc::new(BodyBudget {
            per_address,
            total: total.max(largest_body),
            held: Mutex::default(),
        })
    }

    /// A reservation of nothing yet for a body from `address`.
    pub(crate) fn reserve(self: &Arc<Self>, address: IpAddr) -> Reservation {
        Reservation {
            budget: self.clone(),
            address,
            bytes: 0,
            verified: false,
        }
    }

    /// The bytes held now, in total.
    pub(crate) fn held(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Reservation {
    /// Counts `n` more bytes, or refuses them (503) when the address's share (unless this
    /// is its only body) or the total would be exceeded.
    fn grow(&mut self, n: usize) -> Result<(), Refusal> {
        let budget = &self.budget;
        let mut held = budget.lock();
        let by_address = held.by_address.get(&self.address).copied().unwrap_or(0);
        let others = by_address - self.bytes;
        let over = if held.total + n > budget.total {
            Some(("from all clients", budget.total))
        } else if others > 0 && by_address + n > budget.per_address {
            Some(("from this address", budget.per_address))
        } else {
            None
        };
        if let Some((whose, bound)) = over {
            return Err(Refusal::new(
                Reason::BodyBudget,
                StatusCode::SERVICE_UNAVAILABLE,
                format!("Service unavailable: request bodies not yet verified would hold more than {bound} bytes {whose}: retry later"),
            ));
        }
        held.total += n;
        *held.by_address.entry(self.address).or_insert(0) += n;
        self.bytes += n;
        Ok(())
    }
}

impl Reservation {
    /// The request's signature verified: its bytes leave its address's share (a client
    /// whose requests verify may have many waiting in the queue) and stay in the total
    /// until the reservation is dropped, when the request is admitted.
    pub(crate) fn verified(&mut self) {
        if !self.verified {
            self.budget.lock().leave_address(self.address, self.bytes);
            self.verified = true;
        }
    }
}

impl Held {
    fn leave_address(&mut self, address: IpAddr, bytes: usize) {
        if let Some(n) = self.by_address.get_mut(&address) {
            *n -= bytes;
            if *n == 0 {
                self.by_address.remove(&address);
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut held = self.budget.lock();
        held.total -= self.bytes;
        if !self.verified {
            held.leave_address(self.address, self.bytes);
        }
    }
}

/// Reads at most `limit` bytes of body, each counted in `reservation` as it arrives, until
/// `deadline`: 413 when the declared length or the bytes sent exceed the limit (nothing
/// past it is read), 503 past the budget, 408 (`timeout`) when the body has not arrived by
/// the deadline, 400 when it cannot be read.
pub(crate) async fn read_by(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    reservation: &mut Reservation,
    deadline: tokio::time::Instant,
    timeout: std::time::Duration,
) -> Result<Bytes, Refusal> {
    super::body::check_declared(headers, limit)?;
    let read = async {
        let mut body = http_body_util::Limited::new(body, limit);
        let mut chunks: Vec<Bytes> = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| super::body::unreadable(e, limit))?;
            // Trailers carry no body bytes and are not read, as `axum::body::to_bytes` does.
            if let Ok(data) = frame.into_data() {
                reservation.grow(data.len())?;
                chunks.push(data);
            }
        }
        Ok(match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.pop().unwrap_or_default(),
            _ => Bytes::from(chunks.concat()),
        })
    };
    tokio::time::timeout_at(deadline, read).await.map_err(|_| {
        Refusal::expired(
            timeout,
            "while its body was being read; its signature was not checked and the handler never ran",
        )
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn an_address_holds_its_share_and_everyone_the_total() {
        let budget = BodyBudget::new(100, 400, 10);
        let mut a1 = budget.reserve(ip(1));
        let mut a2 = budget.reserve(ip(1));
        // A lone body may exceed the address's share (up to the total).
        a1.grow(150).unwrap();
        // A second body from the same address may not.
        let refused = a2.grow(1).unwrap_err();
        assert_eq!(refused.status, 503);
        assert_eq!(refused.reason, Reason::BodyBudget);
        assert!(
            refused.message.contains("100 bytes from this address"),
            "{}",
            refused.message
        );
        // Another address may, up to the total.
        let mut b = budget.reserve(ip(2));
        b.grow(250).unwrap();
        let refused = b.grow(1).unwrap_err();
        assert!(
            refused.message.contains("400 bytes from all clients"),
            "{}",
            refused.message
        );
        assert_eq!(budget.held(), 400);
        drop(b);
        // A verified body leaves its address's share, not the total.
        a1.verified();
        assert_eq!(budget.held(), 150);
        let mut a3 = budget.reserve(ip(1));
        a2.grow(60).unwrap();
        a3.grow(40).unwrap();
        assert!(a3.grow(1).is_err(), "100 bytes from this address");
        // Given back when dropped.
        drop((a1, a2, a3));
        assert_eq!(budget.held(), 0);
        assert!(budget.lock().by_address.is_empty());
    }

    #[test]
    fn the_total_is_at_least_the_largest_body() {
        let budget = BodyBudget::new(10, 20, 1000);
        let mut r = budget.reserve(ip(1));
        r.grow(1000).unwrap();
        assert!(r.grow(1).is_err());
    }

    #[tokio::test]
    async fn a_body_is_read_counted_and_bounded() {
        let budget = BodyBudget::new(100, 1000, 10);
        let later = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        let timeout = std::time::Duration::from_secs(5);
        let mut r = budget.reserve(ip(1));
        let body = Body::from(vec![7u8; 50]);
        let bytes = read_by(body, &HeaderMap::new(), 64, &mut r, later, timeout)
            .await
            .unwrap();
        assert_eq!((bytes.len(), budget.held()), (50, 50));
        let mut r2 = budget.reserve(ip(1));
        let over = read_by(
            Body::from(vec![7u8; 65]),
            &HeaderMap::new(),
            64,
            &mut r2,
            later,
            timeout,
        )
        .await
        .unwrap_err();
        assert_eq!(over.status, 413);
        let mut r3 = budget.reserve(ip(1));
        let over = read_by(
            Body::from(vec![7u8; 60]),
            &HeaderMap::new(),
            64,
            &mut r3,
            later,
            timeout,
        )
        .await
        .unwrap_err();
        assert_eq!(over.status, 503, "{}", over.message);
        drop((r, r2, r3));
        assert_eq!(budget.held(), 0);
    }
}
