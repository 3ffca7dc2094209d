//! Axons whose forwards count their calls, for the suites that assert a handler never ran.

use axon::keys::Keypair;
use axon::{Axon, Limits, Synapse};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// `axon` serving `S` with `forward`, each call counted in `calls`.
pub fn counted<S: Synapse>(axon: Axon, calls: &Arc<AtomicUsize>, forward: fn(S) -> S) -> Axon {
    let calls = calls.clone();
    axon.attach(move |s: S| {
        calls.fetch_add(1, Ordering::SeqCst);
        forward(s)
    })
}

/// Starts `axon` as Alice's (`//Alice`) on a free loopback port with `limits`.
pub async fn start_as_alice(axon: Axon, limits: Limits) -> (Axon, SocketAddr) {
    let mut axon = axon
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0)
        .limits(limits);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    (axon, addr)
}

/// An axon started as Alice's with `limits`, serving `S` with `forward`, and its call count.
pub async fn serve_counted<S: Synapse>(
    limits: Limits,
    forward: fn(S) -> S,
) -> (Axon, SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let axon = counted(Axon::new(), &calls, forward);
    let (axon, addr) = start_as_alice(axon, limits).await;
    (axon, addr, calls)
}
