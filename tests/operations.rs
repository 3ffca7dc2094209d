//! The operations listener: `/metrics` counts exactly the traffic that was sent, `/healthz`
//! tells serving from draining, and neither is reachable on the synapse port.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, Blacklist, Streaming};
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use support::http::{exchange, get, request_bytes, sign};
use support::Echo;
use tokio::net::TcpStream;
use tokio::sync::{Notify, Semaphore};

/// A synapse whose forward streams its words.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Words {
    #[hash]
    pub text: String,
}

/// The value of the sample `name{labels}` (or `name` alone) in an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn ss58(uri: &str) -> String {
    Keypair::from_uri(uri).unwrap().ss58().to_owned()
}

/// Echo (Eve blacklisted; a forward that waits for `gate` when the text is `hold`) and
/// Words, with operations on a port of their own.
async fn serve(gate: Arc<Semaphore>, held: Arc<Notify>) -> Axon {
    let eve = ss58("//Eve");
    let mut axon = Axon::new()
        .attach(move |mut s: Echo| {
            let (gate, held) = (gate.clone(), held.clone());
            async move {
                if s.text == "hold" {
                    held.notify_one();
                    gate.acquire().await.expect("open").forget();
                }
                s.out = Some(s.text.chars().rev().collect());
                s
            }
        })
        .blacklist(move |s: &Echo| {
            if s.dendrite.hotkey.as_deref() == Some(eve.as_str()) {
                Blacklist::Deny("no".into())
            } else {
                Blacklist::Allow
            }
        })
        .attach(|s: Words| {
            let words: Vec<String> = s.text.split(' ').map(|w| format!("{w}\n")).collect();
            Streaming::new(s, |chunks| async move {
                for w in words {
                    chunks.send(w).await?;
                }
                Ok::<(), axon::HandlerError>(())
            })
        })
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0)
        .operations("127.0.0.1:0".parse().unwrap());
    axon.start().await.unwrap();
    axon
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_traffic_sent() {
    let axon = serve(Arc::new(Semaphore::new(0)), Arc::new(Notify::new())).await;
    let ops = axon.operations_addr().unwrap();
    let addr = axon.local_addr().unwrap();
    let target: AxonInfo = axon.info().unwrap();
    let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    let timeout = Duration::from_secs(5);

    // Nothing yet.
    let (status, text) = get(ops, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(
            &text,
            "axon_requests_total{synapse=\"Echo\",status=\"200\"}"
        ),
        None
    );
    assert_eq!(
        sample(&text, "axon_refusals_total{reason=\"blacklisted\"}"),
        Some(0.0)
    );

    // 3 served, 1 blacklisted, 1 signed for another axon, 1 tampered, 1 unknown name,
    // 1 stream.
    for i in 0..3 {
        let out = bob
            .call(&target, Echo::new(format!("e{i}"), i), timeout)
            .await;
        assert_eq!(out.dendrite.status_code, Some(200));
    }
    let eve = Dendrite::new(Keypair::from_uri("//Eve").unwrap());
    let out = eve.call(&target, Echo::new("x".into(), 0), timeout).await;
    assert_eq!(out.dendrite.status_code, Some(403));
    let mut elsewhere = target.clone();
    elsewhere.hotkey = ss58("//Dave");
    let signed = bob.sign(&elsewhere, Echo::new("x".into(), 0), timeout);
    assert_eq!(
        exchange(addr, &request_bytes("Echo", &signed, &[]))
            .await
            .status,
        401
    );
    let signed = sign(
        Echo::new("x".into(), 0),
        &Keypair::from_uri("//Bob").unwrap(),
        &target.hotkey,
    );
    let tampered = String::from_utf8(request_bytes("Echo", &signed, &[]))
        .unwrap()
        .replace(r#""text":"x""#, r#""text":"y""#);
    assert_eq!(exchange(addr, tampered.as_bytes()).await.status, 400);
    let signed = sign(
        Echo::new("x".into(), 0),
        &Keypair::from_uri("//Bob").unwrap(),
        &target.hotkey,
    );
    let nope = exchange(addr, &request_bytes("EchoNope/etc/passwd", &signed, &[])).await;
    assert_eq!(nope.status, 404);
    let mut stream = bob
        .stream(&target, Words::new("a b c".into()), timeout)
        .await;
    let mut chunks = 0;
    while stream.chunk().await.is_some() {
        chunks += 1;
    }
    assert_eq!(chunks, 3);
    assert_eq!(stream.finish().await.dendrite.status_code, Some(200));

    let (_, text) = get(ops, "/metrics").await;
    let count =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(
        count("axon_requests_total{synapse=\"Echo\",status=\"200\"}"),
        3.0
    );
    assert_eq!(
        count("axon_requests_total{synapse=\"Echo\",status=\"403\"}"),
        1.0
    );
    assert_eq!(
        count("axon_requests_total{synapse=\"Echo\",status=\"401\"}"),
        1.0
    );
    assert_eq!(
        count("axon_requests_total{synapse=\"Echo\",status=\"400\"}"),
        1.0
    );
    assert_eq!(
        count("axon_requests_total{synapse=\"unknown\",status=\"404\"}"),
        1.0
    );
    assert_eq!(
        count("axon_requests_total{synapse=\"Words\",status=\"200\"}"),
        1.0
    );
    assert!(
        !text.contains("passwd"),
        "a requested name is never a label"
    );
    assert_eq!(count("axon_refusals_total{reason=\"blacklisted\"}"), 1.0);
    assert_eq!(count("axon_refusals_total{reason=\"unverified\"}"), 1.0);
    assert_eq!(count("axon_refusals_total{reason=\"body_hash\"}"), 1.0);
    assert_eq!(count("axon_refusals_total{reason=\"not_found\"}"), 1.0);
    assert_eq!(count("axon_refusals_total{reason=\"overloaded\"}"), 0.0);
    assert_eq!(
        count("axon_request_duration_seconds_count{synapse=\"Echo\"}"),
        6.0
    );
    assert_eq!(
        count("axon_request_duration_seconds_bucket{synapse=\"Echo\",le=\"+Inf\"}"),
        6.0
    );
    assert!(count("axon_request_duration_seconds_sum{synapse=\"Echo\"}") > 0.0);
    assert_eq!(
        count("axon_stream_ends_total{synapse=\"Words\",outcome=\"completed\"}"),
        1.0
    );
    assert_eq!(count("axon_streams_in_flight"), 0.0);
    assert_eq!(count("axon_workers_busy"), 0.0);
    assert_eq!(count("axon_workers_max"), 10.0);
    assert_eq!(count("axon_queue_depth"), 0.0);
    // Remembered: each request whose signature verified, Bob's three calls, his stream and
    // the tampered request (verified before its body was read). Eve (blacklisted), the
    // request signed for another axon and the unknown name never reached the replay store.
    assert_eq!(count("axon_replay_store_entries"), 5.0);
    assert_eq!(count("axon_draining"), 0.0);

    // The operations listener serves nothing else, and the synapse port does not serve it.
    assert_eq!(get(ops, "/Echo").await.0, 404);
    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 404);
    assert!(body.contains("Synapse name 'metrics' not found"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_draining_while_requests_finish() {
    let gate = Arc::new(Semaphore::new(0));
    let held = Arc::new(Notify::new());
    let mut axon = serve(gate.clone(), held.clone()).await;
    let ops = axon.operations_addr().unwrap();
    let target = axon.info().unwrap();
    assert_eq!(get(ops, "/healthz").await, (200, "serving\n".to_owned()));

    // A request in its forward when the stop begins.
    let in_flight = tokio::spawn(async move {
        let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
        bob.call(
            &target,
            Echo::new("hold".into(), 1),
            Duration::from_secs(10),
        )
        .await
    });
    tokio::time::timeout(Duration::from_secs(10), held.notified())
        .await
        .expect("the forward started");

    let mut stop = Box::pin(axon.stop());
    // The first poll marks the axon draining and closes its socket, then waits.
    let first = std::future::poll_fn(|cx| Poll::Ready(stop.as_mut().poll(cx))).await;
    assert!(first.is_pending());
    assert_eq!(get(ops, "/healthz").await, (503, "draining\n".to_owned()));
    let (_, text) = get(ops, "/metrics").await;
    assert_eq!(sample(&text, "axon_draining"), Some(1.0));
    assert_eq!(sample(&text, "axon_workers_busy"), Some(1.0));

    gate.add_permits(1);
    tokio::time::timeout(Duration::from_secs(10), stop)
        .await
        .expect("stopped within 10 s");
    let answered = in_flight.await.unwrap();
    assert_eq!(answered.dendrite.status_code, Some(200));
    assert_eq!(answered.out.as_deref(), Some("dloh"));
    assert!(
        TcpStream::connect(ops).await.is_err(),
        "operations closed too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operations_address_in_use_fails_the_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = Axon::new()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0)
        .operations(addr)
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("cannot listen on {addr} (operations): ")),
        "{err}"
    );
}
