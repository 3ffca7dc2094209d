//! The Rust `Dendrite`: against the real Python 10.5.0 axon (`tests/python/py_axon.py`), and
//! against our axon and misbehaving servers for the statuses Python's dendrite reports.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, BaseSynapse, Synapse};
use std::time::Duration;
use support::py_axon::{PythonAxon, Tokens};
use support::Echo;
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
async fn the_rust_dendrite_reports_what_python_reports() {
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

    // Nobody listening: 503 with Python's message.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let unreachable = bob
        .call(&target(closed, alice.ss58()), Echo::new("x".into(), 1), T)
        .await;
    assert_eq!(unreachable.dendrite.status_code, Some(503));
    assert_eq!(
        unreachable.dendrite.status_message,
        Some(format!("Service unavailable at 127.0.0.1:{closed}/Echo"))
    );

    // A server that accepts and never answers: 408 after the timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let (_conn, _) = silent.accept().await.unwrap();
        std::future::pending::<()>().await;
    });
    let slow = bob
        .call(
            &target(silent_port, alice.ss58()),
            Echo::new("x".into(), 1),
            Duration::from_millis(300),
        )
        .await;
    assert_eq!(slow.dendrite.status_code, Some(408));
    assert_eq!(
        slow.dendrite.status_message.as_deref(),
        Some("Request timeout after 0.3 seconds")
    );
    holder.abort();

    // A 200 that is not a synapse: 422.
    let liar = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let liar_port = liar.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut conn, _) = liar.accept().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let _ = tokio::io::AsyncReadExt::read(&mut conn, &mut buf).await;
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n<html>")
            .await
            .unwrap();
    });
    let garbled = bob
        .call(
            &target(liar_port, alice.ss58()),
            Echo::new("x".into(), 1),
            T,
        )
        .await;
    assert_eq!(garbled.dendrite.status_code, Some(422));
    assert!(garbled
        .dendrite
        .status_message
        .unwrap()
        .starts_with("Failed to parse response: "));
    ours.stop().await;
}

/// A required `Optional` field sent as `None` has no header (Python's dendrite writes none,
/// nor does ours). The Python 10.5.0 axon then fails the request (500, a
/// `SynapseParsingError` in its log); this one reads the field as `None` (README, "Known,
/// deliberate differences").
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
