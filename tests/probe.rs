//! What a hostile probe of the running axon found, each finding pinned: one identity per
//! key whatever the spelling of its address (replays, deny lists), no worker before the
//! signature (keyless slow bodies), one body limit, refusals in the axon's shape, duplicated
//! authentication headers, and bittensor's own leniencies measured side by side.
//!
//! The callers are the real packages (`tests/python/identity.py`): bittensor 11.3.0's
//! `http_auth` for btauth/1 (its `verify` judging the same bytes), bittensor_wallet for
//! Epistula, the 10.5.0 Dendrite for synapses, and the 10.5.0 axon beside ours.

mod support;

use axon::auth::{btauth, epistula, Caller};
use axon::keys::Keypair;
use axon::{Axon, Limits};
use axum::Json;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use support::client::Client;
use support::http::{connect_from, exchange, get, status_of};
use support::py_axon::PythonAxon;
use support::services::Miner;
use support::{python, python_11};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(serde::Deserialize)]
struct Ask {
    text: String,
}

/// Both schemes: the text reversed and who sent it.
#[axon::endpoint(POST "/v1/echo")]
async fn echo(caller: Caller, Json(ask): Json<Ask>) -> Json<Value> {
    Json(json!({
        "out": ask.text.chars().rev().collect::<String>(),
        "hotkey": caller.hotkey,
    }))
}

fn ss58(uri: &str) -> String {
    Keypair::from_uri(uri).unwrap().ss58().to_owned()
}

/// An axon of Alice's serving `echo`, with `limits` and its operations listener.
async fn start(limits: Limits) -> (Axon, SocketAddr, SocketAddr) {
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0)
        .limits(limits)
        .operations("127.0.0.1:0".parse().unwrap());
    axon.start().await.unwrap();
    let (addr, ops) = (axon.local_addr().unwrap(), axon.operations_addr().unwrap());
    (axon, addr, ops)
}

/// A raw `POST path` with `headers`, `body` and `extra` header lines.
fn request(path: &str, headers: &[(&str, String)], body: &[u8], extra: &[&str]) -> Vec<u8> {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: axon\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head += &format!("{name}: {value}\r\n");
    }
    for line in extra {
        head += &format!("{line}\r\n");
    }
    head += "\r\n";
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// `body` signed by Bob for Alice with btauth/1, as JSON.
fn signed(path: &str, body: &[u8], extra: &[&str]) -> Vec<u8> {
    let bob = Keypair::from_uri("//Bob").unwrap();
    let headers = btauth::sign(&bob, "POST", path, body, Some(&ss58("//Alice")), None);
    let mut lines = vec!["content-type: application/json"];
    lines.extend_from_slice(extra);
    request(path, &headers, body, &lines)
}

/// The metrics text of `ops`.
async fn metrics(ops: SocketAddr) -> String {
    get(ops, "/metrics").await.1
}

/// The value of the metric `name` (its name and labels exactly); a missing line fails.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// The `RESULT` of `identity.py` run by `python` against `url` for `self_` with `steps`.
fn identity(python: &std::path::Path, url: &str, self_: &str, steps: Value) -> Vec<Value> {
    let config = json!({"url": url, "self": self_, "steps": steps});
    match Client::run(python, "identity.py", &config) {
        Value::Array(all) => all,
        other => panic!("{other}"),
    }
}

fn message(answer: &Value) -> String {
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap())
        .unwrap_or_else(|_| panic!("not JSON: {answer}"));
    body["message"].as_str().unwrap().to_owned()
}

/// What the axon says of an address of another network prefix, in `header`.
fn other_prefix(header: &str, prefix: u16, uri: &str) -> String {
    format!(
        "{header} is an SS58 address of network prefix {prefix}; this server reads Bittensor addresses (prefix 42) only: the same key is {}",
        ss58(uri)
    )
}

/// Finding 1: a captured Epistula request resent with `Epistula-Signed-By` re-encoded under
/// another network prefix (the signed message does not contain the sender) used to be
/// served each time. Now each spelling but Bittensor's is refused before the signature,
/// and the replay store keys on the key's bytes, so the exact resend is a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epistula_request_resent_under_other_prefixes_is_not_served_again() {
    let miner = Miner::start(None, &["--ops", "127.0.0.1:0"]);
    let url = format!("http://127.0.0.1:{}", miner.port);
    let steps = json!([{"do": "epistula_resend", "path": "/echo", "prefixes": [0, 2, 100]}]);
    let answers = identity(&python(), &url, &ss58("//Alice"), steps);
    let sends = answers[0].as_array().unwrap();
    let statuses: Vec<u64> = sends
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 400, 400, 400, 401], "{sends:#?}");
    for (send, prefix) in sends[1..4].iter().zip([0, 2, 100]) {
        assert_ne!(send["signed_by"], ss58("//Bob"), "re-encoded");
        assert_eq!(
            message(send),
            other_prefix("Epistula-Signed-By", prefix, "//Bob")
        );
    }
    assert_eq!(
        message(&sends[4]),
        "this uuid was already accepted from this hotkey"
    );
    let text = metrics(miner.ops.unwrap()).await;
    assert_eq!(
        metric(&text, r#"axon_refusals_total{reason="bad_headers"}"#),
        3.0
    );
}

/// Finding 2: a denied hotkey used to get in by re-encoding its own address (it signs the
/// re-encoded string, so the signature is good), on every path. Bittensor's own packages
/// accept every prefix and keep the string: 11.3.0's `http_auth.verify` names the caller
/// by the other spelling, and the 10.5.0 axon serves a blacklisted hotkey spelled so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_hotkey_cannot_get_in_under_another_spelling() {
    // The deny list is given in the Polkadot spelling (prefix 0) and applies to the key.
    let eve_at_0 = respell(&ss58("//Eve"), 0);
    assert!(eve_at_0.starts_with('1'), "{eve_at_0}");
    assert_eq!(axon::keys::canonical_ss58(&eve_at_0), Ok(ss58("//Eve")));
    let miner = Miner::start(None, &["--ops", "127.0.0.1:0", "--deny", &eve_at_0]);
    let url = format!("http://127.0.0.1:{}", miner.port);
    let alice = ss58("//Alice");

    let respelled = |uri: &str, scheme: &str| json!({"do": "respelled", "uri": uri, "prefix": 0, "scheme": scheme, "path": "/echo"});
    let btauth = identity(
        &python_11(),
        &url,
        &alice,
        json!([
            {"do": "btauth", "uri": "//Eve", "path": "/echo"},
            respelled("//Eve", "btauth"),
            respelled("//Bob", "btauth"),
        ]),
    );
    let others = identity(
        &python(),
        &url,
        &alice,
        json!([
            respelled("//Eve", "epistula"),
            respelled("//Eve", "dendrite"),
            respelled("//Bob", "epistula"),
            respelled("//Bob", "dendrite"),
        ]),
    );
    // Eve as Bittensor spells her: denied, the deny list read in another spelling.
    assert_eq!(btauth[0]["status"], 403, "{}", btauth[0]);
    assert_eq!(
        message(&btauth[0]),
        format!(
            "Forbidden. Key is blacklisted: {} is denied.",
            ss58("//Eve")
        )
    );
    // Eve and Bob under prefix 0: refused before any check names them, on every path.
    for (answer, uri) in [(&btauth[1], "//Eve"), (&btauth[2], "//Bob")] {
        assert_eq!(answer["status"], 400, "{answer}");
        assert_eq!(message(answer), other_prefix("X-Bittensor-Hotkey", 0, uri));
        // bittensor 11.3.0 accepts the same bytes and names the caller by that spelling.
        assert_eq!(
            answer["python"],
            format!("ok {}", answer["sender"].as_str().unwrap())
        );
    }
    for (answer, uri) in [(&others[0], "//Eve"), (&others[2], "//Bob")] {
        assert_eq!(answer["status"], 400, "{answer}");
        assert_eq!(message(answer), other_prefix("Epistula-Signed-By", 0, uri));
    }
    for (answer, uri) in [(&others[1], "//Eve"), (&others[3], "//Bob")] {
        assert_eq!(answer["status"], 400, "{answer}");
        let expected = format!(
            "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_dendrite_hotkey`: an SS58 address of network prefix 0; this axon reads Bittensor addresses (prefix 42) only: the same key is {}",
            ss58(uri)
        );
        assert_eq!(answer["message"], expected);
    }

    // The real 10.5.0 axon (Eve blacklisted by her address): her other spelling is served.
    let py = tokio::task::spawn_blocking(PythonAxon::start)
        .await
        .unwrap();
    let py_url = format!("http://127.0.0.1:{}", py.port);
    let python_side = identity(
        &python(),
        &py_url,
        &py.hotkey,
        json!([
            {"do": "dendrite", "uri": "//Eve", "axon_hotkey": py.hotkey},
            {"do": "respelled", "uri": "//Eve", "prefix": 0, "scheme": "dendrite", "axon_hotkey": py.hotkey},
        ]),
    );
    assert_eq!(python_side[0][0]["status"], 403, "{python_side:?}");
    assert_eq!(python_side[1]["status"], 200, "{python_side:?}");
}

/// `address` re-encoded under `prefix` by scalecodec (bittensor 10.5.0's).
fn respell(address: &str, prefix: u8) -> String {
    let python = python();
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys; from scalecodec.utils.ss58 import ss58_decode, ss58_encode; \
             print(ss58_encode(ss58_decode(sys.argv[1]), ss58_format=int(sys.argv[2])))",
            address,
            &prefix.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// bittensor 11.3.0 reads a signature with `bytes.fromhex`, which skips whitespace between
/// bytes; this axon reads it the same way. A receiver with trailing spaces is refused by
/// both, for different reasons: `verify` compares the header as its dict holds it, while
/// an HTTP server never sees the spaces (they are optional whitespace, stripped from every
/// header value), so here the receiver matches and the signature, made over the spaces,
/// does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bittensors_leniencies_side_by_side() {
    let (_axon, addr, _) = start(Limits::default()).await;
    let steps = json!([
        {"do": "btauth", "path": "/v1/echo", "signature_spaced": true},
        {"do": "btauth", "path": "/v1/echo", "receiver_suffix": "  "},
    ]);
    let answers = identity(
        &python_11(),
        &format!("http://{addr}"),
        &ss58("//Alice"),
        steps,
    );
    let spaced = &answers[0];
    assert_eq!(spaced["status"], 200, "{spaced}");
    assert_eq!(spaced["python"], format!("ok {}", ss58("//Bob")));
    let trailing = &answers[1];
    assert_eq!(trailing["status"], 401, "{trailing}");
    assert_eq!(
        message(trailing),
        "signature does not verify against the claimed hotkey"
    );
    assert_eq!(
        trailing["python"],
        "WrongReceiver: request was signed for a different receiving hotkey"
    );
}

/// Each authentication header sent twice is refused 400, naming it: a server keeping the
/// first copy (hyper's `get`) and one keeping the last (a Python dict) would disagree
/// about who called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicated_authentication_header_is_400() {
    let (_axon, addr, ops) = start(Limits::default()).await;
    let bob = Keypair::from_uri("//Bob").unwrap();
    let alice = ss58("//Alice");
    let body = br#"{"text": "hi"}"#;
    let mut btauth_headers = btauth::sign(&bob, "POST", "/v1/echo", body, Some(&alice), None);
    btauth_headers.push(("X-Bittensor-Crypto", "sr25519".into()));
    let epistula_headers = epistula::sign(&bob, body, Some(&alice), None, None).unwrap();
    let mut refused = 0.0;
    for headers in [btauth_headers, epistula_headers] {
        for (name, value) in &headers {
            let copy = format!("{name}: {value}");
            let bytes = request(
                "/v1/echo",
                &headers,
                body,
                &["content-type: application/json", &copy],
            );
            let answer = exchange(addr, &bytes).await;
            assert_eq!(answer.status, 400, "{name}: {}", answer.body);
            assert_eq!(
                answer.body["message"],
                format!("{name} was sent more than once: send each authentication header once")
            );
            refused += 1.0;
        }
        // Sent once each, the same request is served.
        let bytes = request(
            "/v1/echo",
            &headers,
            body,
            &["content-type: application/json"],
        );
        assert_eq!(exchange(addr, &bytes).await.status, 200);
    }
    let text = metrics(ops).await;
    assert_eq!(
        metric(&text, r#"axon_refusals_total{reason="bad_headers"}"#),
        refused
    );
}

/// An endpoint's extractors refuse in the axon's shape, `{"message": ..}` with their
/// status, counted under a reason; and the only body limit is the endpoint's own (axum's
/// `Json` used to refuse 2 MiB and more with a plain-text 413).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extractor_refusals_are_json_and_counted_and_one_limit_holds() {
    let (_axon, addr, ops) = start(Limits::default()).await;
    let cases: [(&[u8], Option<&str>, u16, &str); 3] = [
        (
            b"not json",
            Some("content-type: application/json"),
            400,
            "Failed to parse the request body as JSON",
        ),
        (
            br#"{"text": 1}"#,
            Some("content-type: application/json"),
            422,
            "Failed to deserialize the JSON body into the target type",
        ),
        (
            br#"{"text": "x"}"#,
            None,
            415,
            "Expected request with `Content-Type: application/json`",
        ),
    ];
    for (body, content_type, status, text) in cases {
        let bob = Keypair::from_uri("//Bob").unwrap();
        let headers = btauth::sign(&bob, "POST", "/v1/echo", body, Some(&ss58("//Alice")), None);
        let extra: Vec<&str> = content_type.into_iter().collect();
        let answer = exchange(addr, &request("/v1/echo", &headers, body, &extra)).await;
        assert_eq!(answer.status, status, "{}", answer.body);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.starts_with(text), "{message}");
    }
    // 3 MiB, over axum's default and under the axon's 10 MiB: served.
    let text = "a".repeat(3 << 20);
    let body = serde_json::to_vec(&json!({ "text": text })).unwrap();
    let answer = exchange(addr, &signed("/v1/echo", &body, &[])).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["out"].as_str().map(str::len), Some(3 << 20));
    // Over the limit: refused from the declared length, in the same shape (the head is
    // all that is sent).
    let over = vec![b' '; (10 << 20) + 1];
    let bytes = signed("/v1/echo", &over, &[]);
    let answer = exchange(addr, &bytes[..bytes.len() - over.len()]).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.body["message"],
        "Request body larger than the limit of 10485760 bytes"
    );

    let text = metrics(ops).await;
    for (line, n) in [
        (r#"axon_refusals_total{reason="bad_body"}"#, 3.0),
        (r#"axon_refusals_total{reason="bad_headers"}"#, 0.0),
        (r#"axon_refusals_total{reason="too_large"}"#, 1.0),
        (
            r#"axon_requests_total{endpoint="POST /v1/echo",status="415"}"#,
            1.0,
        ),
        (
            r#"axon_requests_total{endpoint="POST /v1/echo",status="422"}"#,
            1.0,
        ),
        (
            r#"axon_requests_total{endpoint="POST /v1/echo",status="200"}"#,
            1.0,
        ),
    ] {
        assert_eq!(metric(&text, line), n, "{line}");
    }
}

/// The headers of a keyless btauth/1 request for `POST path`: a real sender, a fresh
/// nonce, the right receiver, and 64 bytes of garbage for a signature.
fn keyless(path: &str, body_len: usize) -> Vec<u8> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let headers = [
        ("X-Bittensor-Version", "1".to_owned()),
        ("X-Bittensor-Hotkey", ss58("//Bob")),
        ("X-Bittensor-Nonce", nonce.to_string()),
        ("X-Bittensor-Receiver", ss58("//Alice")),
        ("X-Bittensor-Signature", format!("0x{}", "ab".repeat(64))),
    ];
    let mut head = String::from_utf8(request(
        path,
        &headers,
        b"",
        &["content-type: application/json"],
    ))
    .unwrap();
    head = head.replace("content-length: 0", &format!("content-length: {body_len}"));
    head.into_bytes()
}

/// A keyless request from 127.0.0.`from` whose body (of `declared` bytes) stops after
/// `sent`.
async fn slow_body(
    from: u8,
    addr: SocketAddr,
    path: &str,
    declared: usize,
    sent: usize,
) -> tokio::net::TcpStream {
    let mut stream = connect_from([127, 0, 0, from], addr).await;
    stream.write_all(&keyless(path, declared)).await.unwrap();
    stream.write_all(&vec![b' '; sent]).await.unwrap();
    stream
}

/// Polls `ops` until `name` satisfies `ok` (at most 30 s): its value.
async fn until(ops: SocketAddr, name: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let polled = async {
        loop {
            let value = metric(&metrics(ops).await, name);
            if ok(value) {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), polled)
        .await
        .unwrap_or_else(|_| panic!("{name} did not reach its value within 30 s"))
}

/// The answer on a slow request's connection.
async fn answer(mut stream: tokio::net::TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw));
    // A reset (the axon closed with body bytes unread) still leaves the answer read.
    if let Err(e) = read.await.expect("answered within 30 s") {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status_of(&text), body)
}

/// Bodies not yet verified hold at most their budget: a share per client address (a lone
/// body may take more) and a total, each refused 503 and counted beyond it; a dropped
/// connection gives its bytes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_not_yet_verified_hold_at_most_their_budget() {
    let mut limits = Limits::default();
    limits.max_body = 8192;
    limits.unverified_body_bytes_per_address = 4096;
    limits.unverified_body_bytes = 12_000;
    let (_axon, addr, ops) = start(limits).await;
    let held = "axon_unverified_body_bytes";
    let a = slow_body(2, addr, "/v1/echo", 8000, 5000).await;
    until(ops, held, |n| n == 5000.0).await;
    // A second body from the same address, past its share.
    let (status, body) = answer(slow_body(2, addr, "/v1/echo", 8000, 2000).await).await;
    assert_eq!(status, 503, "{body}");
    let message: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        message["message"],
        "Service unavailable: request bodies not yet verified would hold more than 4096 bytes from this address: retry later"
    );
    // Another address is served meanwhile.
    let ok = exchange(addr, &signed("/v1/echo", br#"{"text": "ok"}"#, &[])).await;
    assert_eq!(ok.status, 200);
    // Up to the total from everyone.
    let mut others = Vec::new();
    for from in 3..5 {
        others.push(slow_body(from, addr, "/v1/echo", 8000, 3000).await);
    }
    until(ops, held, |n| n == 11_000.0).await;
    let (status, body) = answer(slow_body(5, addr, "/v1/echo", 8000, 1001).await).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("more than 12000 bytes from all clients"),
        "{body}"
    );
    // Closed connections give their bytes back.
    drop((a, others));
    until(ops, held, |n| n == 0.0).await;
    let text = metrics(ops).await;
    assert_eq!(
        metric(&text, r#"axon_refusals_total{reason="body_budget"}"#),
        2.0
    );
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Finding 3: a request with a fresh nonce, the right receiver, a garbage signature and a
/// body that never finishes used to take a worker until the endpoint's timeout; 1,040 of
/// them from five addresses filled the 10 workers and the 1,024-slot queue, and genuine
/// callers got 503. Now such requests hold no worker and no queue slot: with all 1,040
/// holding their bodies, the workers are idle, a genuine btauth/1 caller (bittensor
/// 11.3.0) and a genuine Dendrite 10.5.0 caller are served 200, and each slow request ends
/// 408 at the body timeout having left no replay entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_slow_bodies_hold_no_worker() {
    const PER_ADDRESS: usize = 208;
    const SENT: usize = 10;
    let miner = Miner::start(None, &["--ops", "127.0.0.1:0"]);
    let (addr, ops): (SocketAddr, _) = (([127, 0, 0, 1], miner.port).into(), miner.ops.unwrap());
    let url = format!("http://{addr}");
    let alice = ss58("//Alice");
    // The genuine callers, imported and keyed before the attack starts.
    let mut genuine = [
        Client::spawn(
            &python_11(),
            "identity.py",
            &json!({"url": url, "self": alice, "steps": [{"do": "btauth", "uri": "//Charlie", "path": "/echo"}]}),
        ),
        Client::spawn(
            &python(),
            "identity.py",
            &json!({"url": url, "self": alice, "steps": [{"do": "dendrite", "uri": "//Dave"}]}),
        ),
    ];
    genuine.iter_mut().for_each(Client::ready);
    let quiet_rss = rss_kib(miner.child.id());

    // The attack: each connection, answered, comes back at once, until told to stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut attackers = tokio::task::JoinSet::new();
    for i in 0..5 * PER_ADDRESS {
        let stop = stop.clone();
        attackers.spawn(async move {
            let mut statuses = Vec::new();
            // Bounded: a round lasts the body timeout (5 s); the test needs two or three.
            for _ in 0..10 {
                let stream = slow_body(2 + (i % 5) as u8, addr, "/echo", 1000, SENT).await;
                statuses.push(answer(stream).await.0);
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
            }
            statuses
        });
    }
    let attacked = (5 * PER_ADDRESS * SENT) as f64;
    until(ops, "axon_unverified_body_bytes", |n| n >= attacked).await;
    let text = metrics(ops).await;
    assert_eq!(metric(&text, "axon_workers_busy"), 0.0, "{text}");
    assert_eq!(metric(&text, "axon_queue_depth"), 0.0, "{text}");
    let attacked_rss = rss_kib(miner.child.id());

    genuine.iter_mut().for_each(Client::go);
    let results: Vec<Value> = genuine.into_iter().map(Client::result).collect();
    let during = metrics(ops).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let btauth = &results[0][0];
    let dendrite = &results[1][0][0];
    assert_eq!(btauth["status"], 200, "{btauth}");
    assert_eq!(dendrite["status"], 200, "{dendrite}");
    eprintln!(
        "genuine callers under 1,040 slow bodies: btauth/1 {} ms, Dendrite {} ms; echo_miner resident {} KiB quiet, {} KiB attacked",
        btauth["ms"], dendrite["ms"], quiet_rss, attacked_rss
    );
    // Still attacked when they were answered.
    assert!(
        metric(&during, "axon_unverified_body_bytes") >= attacked / 2.0,
        "{during}"
    );
    // The bound: the bytes sent, the connections' buffers; nothing grows with the attack.
    assert!(
        attacked_rss < quiet_rss + 64 * 1024,
        "resident memory grew from {quiet_rss} KiB to {attacked_rss} KiB"
    );

    let mut refused = 0;
    while let Some(statuses) = attackers.join_next().await {
        for status in statuses.unwrap() {
            assert_eq!(
                status, 408,
                "a keyless slow body is answered 408, nothing else"
            );
            refused += 1;
        }
    }
    assert!(refused >= 5 * PER_ADDRESS);
    let text = metrics(ops).await;
    // No replay entry but the two genuine requests'.
    assert_eq!(metric(&text, "axon_replay_store_entries"), 2.0, "{text}");
    assert_eq!(
        metric(&text, r#"axon_refusals_total{reason="timeout"}"#),
        refused as f64
    );
}
