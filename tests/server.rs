//! The server over raw HTTP from Rust: start and stop, dual-stack listening, startup
//! problems, the body limit, panics in checks. Requests are signed here as a Python
//! dendrite signs them (the interop suite checks that against the real one).

mod support;

use axon::keys::Keypair;
use axon::{Axon, BaseSynapse, Synapse};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::http::{exchange, read_answer, request_bytes, sign};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Mutex};

fn alice() -> Keypair {
    Keypair::from_uri("//Alice").unwrap()
}

fn bob() -> Keypair {
    Keypair::from_uri("//Bob").unwrap()
}

/// A signed ping for Alice's axon, from Bob.
fn ping() -> BaseSynapse {
    sign(BaseSynapse::default(), &bob(), alice().ss58())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_answers_requests_in_flight_then_refuses_connections() {
    // The forward holds until the test opens the gate.
    let (entered_tx, entered) = oneshot::channel::<()>();
    let (open_gate, gate) = oneshot::channel::<()>();
    let hooks = Arc::new(Mutex::new((Some(entered_tx), Some(gate))));
    let mut axon = Axon::new()
        .attach(move |s: BaseSynapse| {
            let hooks = hooks.clone();
            async move {
                let (entered, gate) = {
                    let mut h = hooks.lock().await;
                    (h.0.take(), h.1.take())
                };
                if let (Some(entered), Some(gate)) = (entered, gate) {
                    entered.send(()).unwrap();
                    gate.await.unwrap();
                }
                s
            }
        })
        .hotkey(alice())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();

    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight
        .write_all(&request_bytes("Synapse", &ping(), &[]))
        .await
        .unwrap();
    entered.await.unwrap();

    let stopping = tokio::spawn(async move {
        axon.stop().await;
        axon
    });
    // The socket closes at once: connections are refused while the request in flight is
    // still being served.
    let mut refused = false;
    for _ in 0..100_000 {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused = true;
                break;
            }
            _ => tokio::task::yield_now().await,
        }
    }
    assert!(
        refused,
        "new connections must be refused once stop() is called"
    );
    assert!(
        !stopping.is_finished(),
        "stop() waits for the request in flight"
    );

    open_gate.send(()).unwrap();
    let answer = read_answer(&mut in_flight).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("bt_header_axon_status_message"),
        Some("Success")
    );
    let axon = stopping.await.unwrap();
    assert!(!axon.started());
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_ip_serves_ipv6_and_ipv4_clients() {
    let mut axon = Axon::new()
        .hotkey(alice())
        .external_ip("203.0.113.7")
        .port(0);
    axon.start().await.unwrap();
    let port = axon.local_addr().unwrap().port();
    assert_eq!(axon.local_addr().unwrap().ip().to_string(), "::");
    for (client, shown) in [("127.0.0.1", "127.0.0.1"), ("[::1]", "::1")] {
        let addr: SocketAddr = format!("{client}:{port}").parse().unwrap();
        let answer = exchange(addr, &request_bytes("Synapse", &ping(), &[])).await;
        assert_eq!(answer.status, 200, "{client}: {}", answer.body);
        assert_eq!(answer.body["dendrite"]["ip"], shown);
        assert_eq!(answer.header("bt_header_dendrite_ip"), Some(shown));
    }
    let info = axon.info().unwrap();
    assert_eq!(info.ip_str(), format!("/ipv4/203.0.113.7:{port}"));
    axon.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn every_startup_problem_is_reported_at_once() {
    let err = Axon::new()
        .ip("localhost:8091")
        .external_ip("my-host")
        .verify(|_: &BaseSynapse| Ok::<(), axon::HandlerError>(()))
        .start()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the axon cannot start (3 problems):\n  \
         - no hotkey to serve with: give one with `.wallet(&config.wallet)`, or \
         `.hotkey(Keypair::from_uri(\"//Alice\")?)` for a local development key\n  \
         - --axon.ip `localhost:8091` is not an IP address: write `[::]` (IPv6 and IPv4), \
         `0.0.0.0` (IPv4) or `127.0.0.1` (this machine only)\n  \
         - --axon.ip `my-host` is not an IP address: write `[::]` (IPv6 and IPv4), `0.0.0.0` \
         (IPv4) or `127.0.0.1` (this machine only)"
    );

    // A verifier given as state must check for the axon's own hotkey.
    let err = Axon::new()
        .hotkey(alice())
        .ip("127.0.0.1")
        .port(0)
        .state(axon::verify::Verifier::new(bob().ss58()))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "checks signatures addressed to {}, but the axon serves hotkey {}",
            bob().ss58(),
            alice().ss58()
        )),
        "{err}"
    );

    // Started twice.
    let mut axon = Axon::new().hotkey(alice()).ip("127.0.0.1").port(0);
    axon.start().await.unwrap();
    let again = axon.start().await.err().unwrap().to_string();
    assert!(
        again.contains("the axon is already serving on 127.0.0.1:"),
        "{again}"
    );
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_without_being_read() {
    let forwards = Arc::new(AtomicUsize::new(0));
    let counted = forwards.clone();
    let mut axon = Axon::new()
        .attach(move |s: BaseSynapse| {
            counted.fetch_add(1, Ordering::SeqCst);
            s
        })
        .hotkey(alice())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    // Declares 20 MiB and sends none of it: refused on the declaration alone.
    let declared = request_bytes("Synapse", &ping(), &[("content-length", "20971520")]);
    let answer = exchange(addr, &declared).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.body["message"],
        "Request body larger than the limit of 10485760 bytes"
    );
    assert_eq!(answer.header("bt_header_axon_status_code"), Some("413"));
    // An unsigned one is refused before its length matters.
    let unsigned = request_bytes(
        "Synapse",
        &BaseSynapse::default(),
        &[("content-length", "20971520")],
    );
    assert_eq!(exchange(addr, &unsigned).await.status, 401);
    assert_eq!(forwards.load(Ordering::SeqCst), 0);
    assert_eq!(
        exchange(addr, &request_bytes("Synapse", &ping(), &[]))
            .await
            .status,
        200
    );
    assert_eq!(forwards.load(Ordering::SeqCst), 1);
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_check_is_500_and_the_axon_keeps_serving() {
    let mut axon = Axon::new()
        .blacklist(|s: &BaseSynapse| {
            if s.timeout == Some(13.0) {
                panic!("the blacklist's secret");
            }
            (false, String::new())
        })
        .hotkey(alice())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    let unlucky = BaseSynapse {
        timeout: Some(13.0),
        ..BaseSynapse::default()
    };
    let unlucky = sign(unlucky, &bob(), alice().ss58());
    let answer = exchange(addr, &request_bytes("Synapse", &unlucky, &[])).await;
    assert_eq!(answer.status, 500);
    let message = answer.body["message"].as_str().unwrap();
    assert!(message.starts_with("Internal Server Error #"), "{message}");
    assert!(!message.contains("secret"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        exchange(addr, &request_bytes("Synapse", &ping(), &[]))
            .await
            .status,
        200
    );
    axon.stop().await;
}

/// A synapse whose hashed fields a handler may change.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Shout {
    #[hash]
    pub text: String,
    #[hash]
    pub loud: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_hash_covers_the_fields_the_handler_returned() {
    // `loud` requests come back upper-cased: their hashed `text` changed, the others not.
    let mut axon = Axon::new()
        .attach(|mut s: Shout| {
            if s.loud {
                s.text = s.text.to_uppercase();
            }
            s
        })
        .hotkey(alice())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    for loud in [false, true] {
        let request = sign(Shout::new("hi there".into(), loud), &bob(), alice().ss58());
        let answer = exchange(addr, &request_bytes("Shout", &request, &[])).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let expected = Shout::new(if loud { "HI THERE" } else { "hi there" }.into(), loud);
        assert_eq!(answer.body["text"], expected.text.as_str());
        assert_eq!(
            answer.header("computed_body_hash"),
            Some(expected.body_hash().as_str()),
            "loud: {loud}"
        );
        // The body keeps the hash the dendrite signed (its header), as Python's axon does.
        assert_eq!(
            answer.body["computed_body_hash"],
            request.body_hash().as_str()
        );
    }
    axon.stop().await;
}
