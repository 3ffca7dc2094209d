//! The limits on requests and connections (`axon::Limits`), over raw TCP: each refused with
//! its status, the handler never called, and a good request served right after.

mod support;

use axon::keys::Keypair;
use axon::{Axon, BaseSynapse, Limits};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::counting::{counted, serve_counted, start_as_alice};
use support::http::{exchange, read_answer, read_kept_answer, request_bytes, sign};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn alice() -> Keypair {
    Keypair::from_uri("//Alice").unwrap()
}

/// A signed ping for Alice's axon, from Bob, as raw request bytes.
fn ping() -> Vec<u8> {
    let signed = sign(
        BaseSynapse::default(),
        &Keypair::from_uri("//Bob").unwrap(),
        alice().ss58(),
    );
    request_bytes("Synapse", &signed, &[])
}

/// An axon with `limits` whose forward counts its calls.
async fn serve(limits: Limits) -> (Axon, SocketAddr, Arc<AtomicUsize>) {
    serve_counted(limits, |s: BaseSynapse| s).await
}

/// `ping()` with `extra` header lines added after the request line.
fn ping_with(extra: &str) -> Vec<u8> {
    let bytes = ping();
    let line_end = bytes.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    [&bytes[..line_end], extra.as_bytes(), &bytes[line_end..]].concat()
}

/// Reads until the server closes the connection; fails the test if it has not within 10 s.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got))
        .await
        .expect("the server should close the connection")
        .unwrap_or_default();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_headers_is_431() {
    let mut limits = Limits::default();
    limits.max_headers = 40;
    let (mut axon, addr, calls) = serve(limits).await;
    let extra: String = (0..40).map(|i| format!("x-extra-{i}: {i}\r\n")).collect();
    let answer = exchange(addr, &ping_with(&extra)).await;
    assert_eq!(answer.status, 431);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(exchange(addr, &ping()).await.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_over_the_size_limit_is_431() {
    let mut limits = Limits::default();
    limits.max_header_bytes = 8 * 1024;
    let (mut axon, addr, calls) = serve(limits).await;
    let padding = format!("x-padding: {}\r\n", "a".repeat(9 * 1024));
    let answer = exchange(addr, &ping_with(&padding)).await;
    assert_eq!(answer.status, 431);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // The same padding fits under the default limit (64 KiB).
    assert_eq!(exchange(addr, &ping()).await.status, 200);
    axon.stop().await;

    let (mut axon, addr, _) = serve(Limits::default()).await;
    assert_eq!(exchange(addr, &ping_with(&padding)).await.status, 200);
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_head_and_an_idle_keep_alive_are_closed() {
    let mut limits = Limits::default();
    limits.header_read_timeout = Duration::from_millis(300);
    let (mut axon, addr, calls) = serve(limits).await;

    // Half a request line, then nothing: closed without an answer.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /Synapse HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let got = closed_by_server(&mut slow).await;
    assert!(
        got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );

    // A kept-alive connection is answered, then closed once idle.
    let keep_alive = String::from_utf8(ping())
        .unwrap()
        .replace("connection: close", "connection: keep-alive");
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(keep_alive.as_bytes()).await.unwrap();
    let answer = read_answer(&mut idle).await;
    assert_eq!(answer.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_a_new_connection_closes_the_longest_idle_one() {
    let mut limits = Limits::default();
    limits.max_connections = 2;
    let (mut axon, addr, calls) = serve(limits).await;
    // Two kept-alive connections, each proven accepted by a served request, now idle.
    let mut held = Vec::new();
    for _ in 0..2 {
        let keep_alive = String::from_utf8(ping())
            .unwrap()
            .replace("connection: close", "connection: keep-alive");
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(keep_alive.as_bytes()).await.unwrap();
        let answer = read_kept_answer(&mut c).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        held.push(c);
    }
    // A third is served: the connection idle the longest (the first) is closed for it.
    let answer = exchange(addr, &ping()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), held[0].read_to_end(&mut rest))
        .await
        .expect("the longest idle connection was closed");
    assert!(closed.is_ok() && rest.is_empty(), "{closed:?} {rest:?}");
    // The other one is still open and served.
    let keep_alive = String::from_utf8(ping())
        .unwrap()
        .replace("connection: close", "connection: keep-alive");
    held[1].write_all(keep_alive.as_bytes()).await.unwrap();
    assert!(read_kept_answer(&mut held[1])
        .await
        .starts_with("HTTP/1.1 200"));
    drop(held);
    axon.stop().await;
}

/// A synapse with its own body limit, below the axon's.
#[axon::synapse(max_body = 2048)]
#[derive(Debug, Clone)]
struct Small {
    #[hash]
    text: String,
}

/// A synapse with its own body limit, above the axon's.
#[axon::synapse(max_body = 64 * 1024)]
#[derive(Debug, Clone)]
struct Large {
    #[hash]
    text: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synapse_declared_max_body_replaces_the_axons() {
    let calls = Arc::new(AtomicUsize::new(0));
    let axon = counted(Axon::new(), &calls, |s: Small| s);
    let axon = counted(axon, &calls, |s: Large| s);
    let mut limits = Limits::default();
    limits.max_body = 8 * 1024;
    let (mut axon, addr) = start_as_alice(axon, limits).await;
    let bob = Keypair::from_uri("//Bob").unwrap();

    // 4 KB is under the axon's 8 KiB but over Small's 2 KiB (a body also carries the
    // synapse's common fields, about 1 KB).
    let text = "a".repeat(4096);
    let signed = sign(Small::new(text.clone()), &bob, alice().ss58());
    let answer = exchange(addr, &request_bytes("Small", &signed, &[])).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.body["message"],
        "Request body larger than the limit of 2048 bytes"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // 32 KB is over the axon's 8 KiB but under Large's 64 KiB.
    let signed = sign(Large::new("b".repeat(32 * 1024)), &bob, alice().ss58());
    let answer = exchange(addr, &request_bytes("Large", &signed, &[])).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A small Small is served.
    let signed = sign(Small::new("hi".into()), &bob, alice().ss58());
    assert_eq!(
        exchange(addr, &request_bytes("Small", &signed, &[]))
            .await
            .status,
        200
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    axon.stop().await;
}
