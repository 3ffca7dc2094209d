//! What an attacker without a key can still try (issue 16), answered cheaply: a request
//! resent with its uuid header added or removed is the same request (a replay), and
//! oversized signed fields are refused before any message repeats them, so a refusal
//! costs well under a kilobyte of log and answer.

mod support;

use axon::keys::Keypair;
use axon::{Limits, Synapse};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use support::counting::serve_counted;
use support::http::{connect_from, exchange_raw, read_rest, request_bytes, sign, status_of};
use support::Echo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The binary's log.
/// One test of this file at a time: `a_flooding_address_cannot_take_the_slots_others_need`
/// measures the process's resident memory, which the others would share.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn log() -> &'static support::log::Log {
    support::log::captured()
}

/// The log lines that mention `needle`.
fn lines_with(needle: &str) -> Vec<String> {
    log().lines_with(needle)
}

fn echo(mut s: Echo) -> Echo {
    s.out = Some(s.text.chars().rev().collect());
    s
}

fn alice() -> String {
    Keypair::from_uri("//Alice").unwrap().ss58().to_owned()
}

/// `s`, signed by Bob as his dendrite would, then re-signed as a dendrite without a uuid
/// (Python writes the missing uuid as `None` into the signed message).
fn signed_without_uuid(text: &str) -> Echo {
    let bob = Keypair::from_uri("//Bob").unwrap();
    let mut s = sign(Echo::new(text.into(), 1), &bob, &alice());
    let hash = s.body_hash();
    let c = s.common_mut();
    c.dendrite.uuid = None;
    let message = format!(
        "{}.{}.{}.None.{hash}",
        c.dendrite.nonce.unwrap(),
        bob.ss58(),
        alice()
    );
    c.dendrite.signature = Some(bob.sign(message.as_bytes()));
    s
}

async fn send(addr: SocketAddr, s: &Echo, extra: &[(&str, &str)]) -> String {
    exchange_raw(addr, &request_bytes("Echo", s, extra)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_or_removing_the_uuid_header_replays_nothing() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (mut axon, addr, calls) = serve_counted(Limits::default(), echo).await;
    let none = [("bt_header_dendrite_uuid", "None")];

    // Sent without a uuid, then again with `None` added: the same signed request.
    let plain = signed_without_uuid("first");
    assert!(plain.to_headers().get("bt_header_dendrite_uuid").is_none());
    assert_eq!(status_of(&send(addr, &plain, &[]).await), 200);
    let replay = send(addr, &plain, &none).await;
    assert_eq!(status_of(&replay), 401, "{replay}");
    assert!(replay.contains("Nonce is a replay: "), "{replay}");

    // Sent with `None`, then again without it.
    let other = signed_without_uuid("second");
    assert_eq!(status_of(&send(addr, &other, &none).await), 200);
    let replay = send(addr, &other, &[]).await;
    assert_eq!(status_of(&replay), 401, "{replay}");
    assert!(replay.contains("Nonce is a replay: "), "{replay}");

    assert_eq!(calls.load(Ordering::SeqCst), 2, "each forward ran once");
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_signed_field_costs_under_a_kilobyte_of_log_and_answer() {
    let _alone = ONE_AT_A_TIME.lock().await;
    log();
    let (mut axon, addr, calls) = serve_counted(Limits::default(), echo).await;
    let bob = Keypair::from_uri("//Bob").unwrap();
    let big = "u".repeat(8 * 1024);
    // Each case: the field, the request bytes with it oversized, the reason refused.
    let request = |name: &str, i: i64, edit: &dyn Fn(&mut Echo)| {
        let mut s = sign(Echo::new(format!("oversized-{name}"), i), &bob, &alice());
        edit(&mut s);
        request_bytes("Echo", &s, &[])
    };
    let uuid = request("uuid", 0, &|s| {
        s.common_mut().dendrite.uuid = Some(big.clone())
    });
    let hotkey = request("hotkey", 1, &|s| {
        s.common_mut().dendrite.hotkey = Some(big.clone())
    });
    // `to_headers` writes the real hash: swap it for 8 KiB of hex digits.
    let hash = {
        let text = String::from_utf8(request("hash", 2, &|_| {})).unwrap();
        let (head, rest) = text.split_once("computed_body_hash: ").unwrap();
        let (_, rest) = rest.split_once("\r\n").unwrap();
        format!("{head}computed_body_hash: {}\r\n{rest}", "f".repeat(8192)).into_bytes()
    };
    let cases = [
        (
            "uuid",
            uuid,
            "header `bt_header_dendrite_uuid`: value is 8192 bytes, more than the 128 a dendrite sends".to_string(),
        ),
        (
            "hotkey",
            hotkey,
            "header `bt_header_dendrite_hotkey`: value is 8192 bytes, more than the 128 a dendrite sends".to_string(),
        ),
        (
            "hash",
            hash,
            format!(
                "header `computed_body_hash`: `{}…` is not a SHA3-256 digest (64 hex digits)",
                "f".repeat(64)
            ),
        ),
    ];
    for (name, request, reason) in &cases {
        assert!(request.len() > 8 * 1024, "{name}");
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let peer = format!("peer={}", stream.local_addr().unwrap());
        stream.write_all(request).await.unwrap();
        let answer = read_rest(&mut stream, Vec::new()).await;
        assert_eq!(status_of(&answer), 400, "{name}: {answer}");
        let message = format!(
            "Improperly formatted request. Could not parse headers into synapse of type Echo: {reason}"
        );
        assert!(answer.contains(&message), "{name}: {answer}");
        assert!(
            answer.len() < 1024,
            "{name}: {} bytes answered",
            answer.len()
        );
        // Everything the axon logged about it (each line names the client's address).
        let logged: usize = lines_with(&peer).iter().map(|l| l.len() + 1).sum();
        assert!(logged > 0 && logged < 1024, "{name}: {logged} bytes logged");
    }
    assert_eq!(lines_with("Could not parse headers").len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no forward ran");
    axon.stop().await;
}

/// Whether the axon closed `c` (end of stream or reset), without waiting.
fn closed_by_axon(c: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match c.try_read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// The value of the `/metrics` line starting with `name`.
async fn metric(ops: SocketAddr, name: &str) -> u64 {
    let (status, body) = support::http::get(ops, "/metrics").await;
    assert_eq!(status, 200);
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{body}"))
}

/// Waits (at most 10 s, asking `/metrics`) until `name` reaches `at_least`.
async fn metric_reaches(ops: SocketAddr, name: &str, at_least: u64) -> u64 {
    let wait = async {
        loop {
            let value = metric(ops, name).await;
            if value >= at_least {
                return value;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("{name} did not reach {at_least} within 10 s"))
}

/// The process's resident memory, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_address_cannot_take_the_slots_others_need() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let mut limits = Limits::default();
    limits.max_connections = 100;
    limits.max_connections_per_address = 60;
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let axon = support::counting::counted(axon::Axon::new(), &calls, echo)
        .operations("127.0.0.1:0".parse().unwrap());
    let (mut axon, addr) = support::counting::start_as_alice(axon, limits).await;
    let ops = axon.operations_addr().unwrap();
    let rss_before = rss_kib();

    // 127.0.0.1 opens 90 connections and sends nothing: 60 are its share, 30 are closed.
    let mut idle = Vec::new();
    for _ in 0..90 {
        idle.push(connect_from([127, 0, 0, 1], addr).await);
    }
    metric_reaches(
        ops,
        "axon_connections_closed_total{reason=\"per_address\"}",
        30,
    )
    .await;
    // 127.0.0.3 holds 60 connections with half a head each: past the cap of 100, each new
    // connection closes the one idle the longest (127.0.0.1's first ones).
    let mut half = Vec::new();
    for _ in 0..60 {
        let mut c = connect_from([127, 0, 0, 3], addr).await;
        c.write_all(b"POST /Echo HTTP/1.1\r\nhost: axon\r\n")
            .await
            .unwrap();
        half.push(c);
    }
    metric_reaches(ops, "axon_connections_closed_total{reason=\"evicted\"}", 20).await;

    // A validator's signed call from 127.0.0.2 is served at once: its connection closes the
    // oldest idle one (counted below) instead of waiting for the flood's timeouts.
    let bob = Keypair::from_uri("//Bob").unwrap();
    let call = sign(Echo::new("from .2".into(), 7), &bob, &alice());
    let mut validator = connect_from([127, 0, 0, 2], addr).await;
    validator
        .write_all(&request_bytes("Echo", &call, &[]))
        .await
        .unwrap();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        read_rest(&mut validator, Vec::new()),
    )
    .await
    .expect("the validator is answered");
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(answer.contains("\"out\":\"2. morf\""), "{answer}");

    // The flood was closed and counted: 30 over the share, the oldest idle for each
    // connection past the cap (20 for the half heads, one for the validator: had it waited
    // for an idle connection's first-head timeout instead, that would be 20).
    assert_eq!(
        metric(ops, "axon_connections_closed_total{reason=\"per_address\"}").await,
        30
    );
    let evicted = metric(ops, "axon_connections_closed_total{reason=\"evicted\"}").await;
    assert_eq!(evicted, 21);
    // Each close reaches its client a moment after it is counted: wait for all of them.
    let expected = 30 + evicted;
    let closed = async {
        loop {
            let closed = idle.iter().filter(|c| closed_by_axon(c)).count() as u64;
            if closed >= expected {
                return closed;
            }
            tokio::task::yield_now().await;
        }
    };
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), closed)
        .await
        .expect("every connection the axon closed is seen closed within 10 s");
    assert_eq!(closed, expected, "127.0.0.1's closed connections");
    assert!(
        half.iter().all(|c| !closed_by_axon(c)),
        "the newer half heads stay"
    );
    assert!(metric(ops, "axon_connections_open").await <= 100);
    // Bounded memory: 150 flooding connections cost the process less than 32 MiB (this
    // file's other tests wait for this one, so the growth is this test's).
    let grown = rss_kib().saturating_sub(rss_before);
    eprintln!("150 flooding connections: resident memory grew {grown} KiB");
    assert!(grown < 32 * 1024, "resident memory grew {grown} KiB");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    drop((idle, half));
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_after_the_first_head_timeout() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let mut limits = Limits::default();
    limits.first_head_timeout = std::time::Duration::from_millis(200);
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let axon = support::counting::counted(axon::Axon::new(), &calls, echo)
        .operations("127.0.0.1:0".parse().unwrap());
    let (mut axon, addr) = support::counting::start_as_alice(axon, limits).await;
    let ops = axon.operations_addr().unwrap();

    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::io::AsyncReadExt::read_to_end(&mut silent, &mut rest),
    )
    .await
    .expect("closed within 10 s");
    assert!(closed.is_ok() && rest.is_empty(), "{closed:?}");
    assert_eq!(
        metric(ops, "axon_connections_closed_total{reason=\"first_head\"}").await,
        1
    );
    // A client that sends its request at once is served.
    let bob = Keypair::from_uri("//Bob").unwrap();
    let call = sign(Echo::new("prompt".into(), 1), &bob, &alice());
    assert_eq!(status_of(&send(addr, &call, &[]).await), 200);
    axon.stop().await;
}
