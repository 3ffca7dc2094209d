//! The Rust `Dendrite`: against the real Python 10.5.0 axon (`tests/python/py_axon.py`),
//! against our axon, and against misbehaving servers beside the real Python `Dendrite`
//! (`tests/python/dendrite_failures.py`).

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, BaseSynapse, Synapse};
use std::time::Duration;
use support::py_axon::{PythonAxon, Tokens};
use support::{result_line, run_python_script_with, Echo};
use tokio::io::AsyncWriteExt;

#[axon::forward]
fn echo(mut s: Echo) -> Echo {
    s.out = Some(s.text.chars().rev().collect());
    s
}

/// Python: `class Opt(bt.Synapse)` in `tests/python/py_axon.py`: `maybe` is a required
/// `Optional[str]`.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Opt {
    pub maybe: Option<String>,
    #[default]
    pub out: Option<String>,
}

#[axon::forward]
fn opt(mut s: Opt) -> Opt {
    s.out = Some("ran".into());
    s
}

/// A synapse no axon serves.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Nope {}

fn target(port: u16, hotkey: &str) -> AxonInfo {
    AxonInfo {
        version: 10_005_000,
        ip: "127.0.0.1".into(),
        port,
        ip_type: 4,
        hotkey: hotkey.into(),
        coldkey: None,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    }
}

fn dendrite(uri: &str) -> Dendrite {
    Dendrite::new(Keypair::from_uri(uri).unwrap())
}

const T: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_dendrite_calls_the_python_axon() {
    let py = tokio::task::spawn_blocking(PythonAxon::start)
        .await
        .unwrap();
    let axon = target(py.port, &py.hotkey);
    let bob = dendrite("//Bob");

    let echoed = bob.call(&axon, Echo::new("rust->py".into(), 2), T).await;
    assert_eq!(
        echoed.dendrite.status_code,
        Some(200),
        "{:?}",
        echoed.dendrite
    );
    assert_eq!(echoed.dendrite.status_message.as_deref(), Some("Success"));
    assert_eq!(echoed.out.as_deref(), Some("yp>-tsur"));
    assert_eq!(echoed.axon.status_code, Some(200));

    let pong = bob.call(&axon, BaseSynapse::default(), T).await;
    assert_eq!(pong.dendrite.status_code, Some(200));

    let eve = dendrite("//Eve")
        .call(&axon, Echo::new("eve".into(), 1), T)
        .await;
    assert_eq!(eve.dendrite.status_code, Some(403));
    assert_eq!(
        eve.dendrite.status_message.as_deref(),
        Some("Forbidden. Key is blacklisted: Eve is not welcome.")
    );
    assert_eq!(eve.out, None);

    let nope = bob.call(&axon, Nope::default(), T).await;
    assert_eq!(nope.dendrite.status_code, Some(404));
    assert_eq!(
        nope.dendrite.status_message.as_deref(),
        Some(
            "Synapse name 'Nope' not found. Available synapses ['Synapse', 'Echo', 'Tokens', 'Opt']"
        )
    );

    // Signed for another receiver: Python's default verify refuses it.
    let bob_ss58 = Keypair::from_uri("//Bob").unwrap().ss58().to_owned();
    let misaddressed = bob
        .call(&target(py.port, &bob_ss58), Echo::new("x".into(), 1), T)
        .await;
    assert_eq!(misaddressed.dendrite.status_code, Some(401));
    assert!(misaddressed
        .dendrite
        .status_message
        .unwrap()
        .starts_with("Not Verified with error: Signature mismatch with "));

    // A Python StreamingSynapse miner streams to the Rust dendrite.
    let mut stream = bob.stream(&axon, Tokens::new("go".into(), 5), T).await;
    let mut body = Vec::new();
    while let Some(chunk) = stream.chunk().await {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body, b"tok0 tok1 tok2 tok3 tok4 ");
    let done = stream.finish().await;
    assert_eq!(done.dendrite.status_code, Some(200), "{:?}", done.dendrite);
    assert_eq!(done.dendrite.status_message.as_deref(), Some("Success"));
    assert_eq!(done.axon.hotkey.as_deref(), Some(py.hotkey.as_str()));
    drop(py);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_dendrite_calls_our_axon() {
    let alice = Keypair::from_uri("//Alice").unwrap();
    let mut ours = Axon::from_registry()
        .hotkey(alice.clone())
        .ip("127.0.0.1")
        .port(0);
    ours.start().await.unwrap();
    let info = ours.info().unwrap();
    let bob = dendrite("//Bob");

    // Several calls on one kept-alive connection, nonces increasing.
    for i in 0..3 {
        let out = bob.call(&info, Echo::new(format!("abc{i}"), i), T).await;
        assert_eq!(out.dendrite.status_code, Some(200), "{:?}", out.dendrite);
        assert_eq!(out.out, Some(format!("{i}cba")));
        assert_eq!(out.axon.hotkey.as_deref(), Some(alice.ss58()));
        assert!(out.axon.signature.is_some());
        assert!(out.dendrite.process_time.unwrap() > 0.0);
    }
    // forward() to two axons at once. (Concurrent calls to one axon of ours from one
    // dendrite are served too: tests/concurrent.rs.)
    let mut second = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Dave").unwrap())
        .ip("127.0.0.1")
        .port(0);
    second.start().await.unwrap();
    let answers = bob
        .forward(
            &[info.clone(), second.info().unwrap()],
            &Echo::new("two".into(), 2),
            T,
        )
        .await;
    for answer in &answers {
        assert_eq!(
            answer.dendrite.status_code,
            Some(200),
            "{:?}",
            answer.dendrite
        );
        assert_eq!(answer.out.as_deref(), Some("owt"));
    }
    assert_ne!(answers[0].axon.hotkey, answers[1].axon.hotkey);
    second.stop().await;

    let nope = bob.call(&info, Nope::default(), T).await;
    assert_eq!(nope.dendrite.status_code, Some(404));

    ours.stop().await;
}

/// The failures a call can end in, as the real Python 10.5.0 `Dendrite` reports them
/// (`tests/python/dendrite_failures.py`, run here on the same listeners): 503 when nobody
/// listens, 408 when the axon never answers, 422 when the answer is not a synapse, and 422
/// when the synapse's headers cannot be sent. That last one is never sent without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_calls_are_reported_as_python_reports_them() {
    let alice = Keypair::from_uri("//Alice").unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // Accepts and never answers; keeps every connection open.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            held.push(silent.accept().await.unwrap().0);
        }
    });
    // Answers every request with a 200 that is not a synapse.
    let liar = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let liar_port = liar.local_addr().unwrap().port();
    let liar = tokio::spawn(async move {
        loop {
            let (mut conn, _) = liar.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = tokio::io::AsyncReadExt::read(&mut conn, &mut buf).await;
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n<html>")
                    .await;
            });
        }
    });
    let config = serde_json::json!({
        "hotkey": alice.ss58(), "closed": closed, "silent": silent_port, "liar": liar_port,
    })
    .to_string();
    let python = tokio::task::spawn_blocking(move || {
        result_line(&run_python_script_with("dendrite_failures.py", &[&config]))
    })
    .await
    .unwrap();

    let bob = dendrite("//Bob");
    let unsendable_hotkey = format!("{}\nX", alice.ss58());
    let cases = [
        ("closed", target(closed, alice.ss58()), T),
        (
            "silent",
            target(silent_port, alice.ss58()),
            Duration::from_millis(300),
        ),
        ("liar", target(liar_port, alice.ss58()), T),
        ("unsendable", target(silent_port, &unsendable_hotkey), T),
    ];
    for (case, axon, timeout) in cases {
        let ours = bob.call(&axon, Echo::new("x".into(), 1), timeout).await;
        let theirs = &python[case];
        let message = ours.dendrite.status_message.clone().unwrap_or_default();
        let expected = theirs["message"].as_str().unwrap();
        assert_eq!(
            ours.dendrite.status_code,
            theirs["status"].as_i64(),
            "{case}: ours {message:?}, Python's {expected:?}"
        );
        match case {
            // The causes are each client's own (aiohttp's words, hyper's); the kind is the
            // same.
            "liar" | "unsendable" => {
                let kind = "Failed to parse response: ";
                assert!(expected.starts_with(kind), "{case}: Python's {expected:?}");
                assert!(message.starts_with(kind), "{case}: ours {message:?}");
            }
            _ => assert_eq!(message, expected, "{case}"),
        }
    }
    holder.abort();
    liar.abort();
}

/// A required `Optional` field sent as `None` has no header (Python's dendrite writes none,
/// nor does ours). The Python 10.5.0 axon then fails the request (500, a
/// `SynapseParsingError` in its log); this one reads the field as `None` (docs/synapses.md,
/// "Known, deliberate differences").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_optional_field_sent_as_none() {
    let py = tokio::task::spawn_blocking(PythonAxon::start)
        .await
        .unwrap();
    let mut ours = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0);
    ours.start().await.unwrap();
    let bob = dendrite("//Bob");
    assert!(Opt::new(None)
        .to_headers()
        .iter()
        .all(|(k, _)| !k.starts_with("bt_header_input_obj")));

    let python = bob
        .call(&target(py.port, &py.hotkey), Opt::new(None), T)
        .await;
    assert_eq!(
        python.dendrite.status_code,
        Some(500),
        "{:?}",
        python.dendrite
    );
    let message = python.dendrite.status_message.unwrap_or_default();
    assert!(message.starts_with("Internal Server Error #"), "{message}");
    assert_eq!(python.out, None);

    let rust = bob.call(&ours.info().unwrap(), Opt::new(None), T).await;
    assert_eq!(rust.dendrite.status_code, Some(200), "{:?}", rust.dendrite);
    assert_eq!(rust.out.as_deref(), Some("ran"));
    ours.stop().await;
    drop(py);
}
