//! Every request runs in a `request` span (synapse, peer, hotkey, nonce), and the span goes
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
            format!("hotkey=\"{}\"", bob.hotkey()),
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
