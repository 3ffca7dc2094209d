//! Every request runs in a `request` span (synapse, peer, the claimed hotkey and nonce, and
//! the hotkey once its signature verified), and the span goes
//! where the request's code goes: a handler's own `tracing` line carries the request's
//! fields whether its forward is an `async fn` run on the handler threads (its first 64
//! calls) or inline (after them), a plain `fn` on the blocking pool, or a stream producer.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, Streaming};
use std::time::Duration;

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Traced {
    #[hash]
    pub label: String,
}

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct TracedBlocking {
    #[hash]
    pub label: String,
}

#[axon::synapse]
#[derive(Debug, Clone)]
pub struct TracedStream {
    #[hash]
    pub label: String,
}

#[axon::forward]
async fn traced(s: Traced) -> Traced {
    tracing::info!(label = %s.label, "inside the async forward");
    s
}

#[axon::forward]
fn traced_blocking(s: TracedBlocking) -> TracedBlocking {
    tracing::info!(label = %s.label, "inside the blocking forward");
    s
}

#[axon::forward]
async fn traced_stream(s: TracedStream) -> Streaming<TracedStream> {
    Streaming::new(s, |chunks| async move {
        tracing::info!("inside the stream producer");
        chunks.send("x").await
    })
}

/// A signed-HTTP endpoint whose line says who called.
#[axon::endpoint(POST "/v1/traced")]
async fn traced_endpoint(caller: axon::auth::Caller) -> String {
    tracing::info!("inside the endpoint");
    caller.hotkey
}

/// The captured lines that contain `needle`.
fn lines(needle: &str) -> Vec<String> {
    support::log::captured().lines_with(needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handlers_own_lines_carry_the_request_span() {
    support::log::captured();
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let target: AxonInfo = axon.info().unwrap();
    let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    let timeout = Duration::from_secs(10);

    // 70 calls: the first 64 run on the handler threads (probation), the rest inline.
    for i in 0..70 {
        let out = bob
            .call(&target, Traced::new(format!("a{i}")), timeout)
            .await;
        assert_eq!(out.dendrite.status_code, Some(200), "{out:?}");
    }
    let out = bob
        .call(&target, TracedBlocking::new("b".into()), timeout)
        .await;
    assert_eq!(out.dendrite.status_code, Some(200), "{out:?}");
    let mut stream = bob
        .stream(&target, TracedStream::new("s".into()), timeout)
        .await;
    assert_eq!(stream.chunk().await.as_deref(), Some(&b"x"[..]));
    assert_eq!(stream.finish().await.dendrite.status_code, Some(200));

    let fields = |synapse: &str| {
        [
            "request{".to_string(),
            format!("synapse=\"{synapse}\""),
            "peer=127.0.0.1:".to_string(),
            format!(" hotkey=\"{}\"", bob.hotkey()),
            "nonce=".to_string(),
        ]
    };
    let async_lines = lines("inside the async forward");
    assert_eq!(async_lines.len(), 70, "{async_lines:#?}");
    for (needle, synapse) in [
        ("inside the async forward", "Traced"),
        ("inside the blocking forward", "TracedBlocking"),
        ("inside the stream producer", "TracedStream"),
    ] {
        let found = lines(needle);
        assert!(!found.is_empty(), "no line {needle:?}");
        for line in found {
            for field in fields(synapse) {
                assert!(line.contains(&field), "{field:?} missing from {line}");
            }
        }
    }
    axon.stop().await;
}

/// A hotkey is only claimed until its signature verified: a request refused before (a
/// forged synapse signature, a garbage btauth/1 signature) is logged with its
/// `claimed_hotkey`, never as the caller's `hotkey`; a verified one has both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hotkey_is_claimed_until_its_signature_verified() {
    support::log::captured();
    let alice = Keypair::from_uri("//Alice").unwrap();
    let mut axon = Axon::from_registry()
        .hotkey(alice.clone())
        .ip("127.0.0.1")
        .port(0);
    axon.start().await.unwrap();
    let addr = axon.local_addr().unwrap();
    let (bob, eve) = (
        Keypair::from_uri("//Bob").unwrap(),
        Keypair::from_uri("//Eve").unwrap(),
    );

    // A synapse signed by Eve under Bob's name.
    let mut forged = support::http::sign(Traced::new("forged".into()), &bob, alice.ss58());
    let eves = support::http::sign(Traced::new("forged".into()), &eve, alice.ss58());
    forged.dendrite.signature = eves.dendrite.signature.clone();
    let bytes = support::http::request_bytes("Traced", &forged, &[]);
    assert_eq!(support::http::exchange(addr, &bytes).await.status, 401);
    // A btauth/1 request under Bob's name with a garbage signature, then a genuine one.
    let body = b"{}";
    let btauth = |garbage: bool| {
        let mut headers =
            axon::auth::btauth::sign(&bob, "POST", "/v1/traced", body, Some(alice.ss58()), None);
        let mut head =
            "POST /v1/traced HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 2\r\n"
                .to_owned();
        for (name, value) in headers.iter_mut() {
            if garbage && *name == "X-Bittensor-Signature" {
                *value = format!("0x{}", "ab".repeat(64));
            }
            head += &format!("{name}: {value}\r\n");
        }
        [head.as_bytes(), b"\r\n", body].concat()
    };
    assert_eq!(
        support::http::exchange(addr, &btauth(true)).await.status,
        401
    );
    assert_eq!(
        support::http::exchange(addr, &btauth(false)).await.status,
        200
    );

    let claimed = format!("claimed_hotkey=\"{}\"", bob.ss58());
    let verified = format!(" hotkey=\"{}\"", bob.ss58());
    for needle in [
        "refused: Not Verified with error: Signature mismatch",
        "refused: signature does not verify against the claimed hotkey",
    ] {
        let found = lines(needle);
        assert_eq!(found.len(), 1, "{needle}: {found:#?}");
        assert!(found[0].contains(&claimed), "{}", found[0]);
        assert!(!found[0].contains(&verified), "{}", found[0]);
    }
    let inside = lines("inside the endpoint");
    assert_eq!(inside.len(), 1, "{inside:#?}");
    assert!(
        inside[0].contains(&claimed) && inside[0].contains(&verified),
        "{}",
        inside[0]
    );
    axon.stop().await;
}
