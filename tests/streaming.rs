//! Streaming forwards: chunks reach the client as they are produced (the real Python
//! `bittensor.Dendrite` with a `StreamingSynapse`, and the Rust `Dendrite`), a failure or
//! the timeout after the headers is still reported, and a stream's worker is freed when it
//! ends however it ends.
//!
//! `Tokens` sends one chunk, then waits for an acknowledgement before the next: a test can
//! only read chunk `i + 1` after it saw chunk `i`, so a stream that held its chunks back
//! would deadlock (and fail at the test's bound) instead of passing.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, AxonInfo, HandlerError, State, StatusCode, Streaming};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::http::{exchange_raw, get, read_rest, request_bytes, sign};
use support::tally::Tally;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Python: `class Tokens(bt.StreamingSynapse)` in `tests/python/streaming.py`.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Tokens {
    #[hash]
    pub prompt: String,
    #[hash]
    pub n: i64,
    /// Fail (502) instead of sending this chunk.
    #[default(-1)]
    pub fail_after: i64,
    #[default]
    pub completion: String,
}

/// Python: `class Ack(bt.Synapse): index: int`.
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct Ack {
    #[hash]
    pub index: i64,
}

/// Acknowledgements: one permit lets `Tokens` send its next chunk.
pub struct Acks(Semaphore);

impl Default for Acks {
    fn default() -> Self {
        Acks(Semaphore::new(0))
    }
}

/// Producers that ended (finished, failed or cancelled).
#[derive(Default)]
pub struct Ended(Tally);

/// Counts its producer's end however the producer ends (a cancelled one is dropped).
struct EndGuard(State<Ended>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0 .0.add();
    }
}

#[axon::forward]
async fn tokens(s: Tokens, acks: State<Acks>, ended: State<Ended>) -> Streaming<Tokens> {
    let (n, fail_after) = (s.n, s.fail_after);
    Streaming::new(s, move |chunks| async move {
        let _guard = EndGuard(ended);
        for i in 0..n {
            if i == fail_after {
                return Err(HandlerError::new(
                    StatusCode::BAD_GATEWAY,
                    "the model went away",
                ));
            }
            chunks.send(format!("tok{i} ")).await?;
            acks.0.acquire().await.expect("never closed").forget();
        }
        Ok(())
    })
}

#[axon::forward]
fn ack(s: Ack, acks: &Acks) -> Ack {
    acks.0.add_permits(1);
    s
}

/// Waits (at most 10 s) until `ended` has counted `n` producers.
async fn producers_ended(ended: &Ended, n: usize) {
    ended.0.reached(n, "producers ended").await;
}

/// An axon serving `Tokens` and `Ack` as Alice's with `max_workers`, and its shared state.
async fn serve(max_workers: usize) -> (Axon, Arc<Acks>, Arc<Ended>) {
    serve_with(max_workers, Duration::from_secs(300)).await
}

/// [`serve`], every request's timeout capped at `max_timeout`.
async fn serve_with(max_workers: usize, max_timeout: Duration) -> (Axon, Arc<Acks>, Arc<Ended>) {
    let acks = Arc::new(Acks::default());
    let ended = Arc::new(Ended::default());
    let mut axon = Axon::from_registry()
        .hotkey(Keypair::from_uri("//Alice").unwrap())
        .ip("127.0.0.1")
        .port(0)
        .max_workers(max_workers)
        .max_timeout(max_timeout)
        .operations("127.0.0.1:0".parse().unwrap())
        .state_arc(acks.clone())
        .state_arc(ended.clone());
    axon.start().await.unwrap();
    (axon, acks, ended)
}

fn alice() -> String {
    Keypair::from_uri("//Alice").unwrap().ss58().to_owned()
}

fn bob() -> Dendrite {
    Dendrite::new(Keypair::from_uri("//Bob").unwrap())
}

/// The raw bytes of a signed `Tokens` request, with `extra` headers.
fn raw_request(tokens: Tokens, timeout: f64, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut tokens = tokens;
    tokens.timeout = Some(timeout);
    let signed = sign(tokens, &Keypair::from_uri("//Bob").unwrap(), &alice());
    request_bytes("Tokens", &signed, extra)
}

/// Reads from `stream` until `raw` contains `needle` (at most 10 s).
async fn read_until(stream: &mut TcpStream, raw: &mut Vec<u8>, needle: &str) {
    let read = async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(raw).contains(needle) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed before {needle:?}: {}",
                String::from_utf8_lossy(raw)
            );
            raw.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} within 10 s"));
}

/// The operations listener's `/metrics` text.
async fn scrape(ops: SocketAddr) -> String {
    let (status, text) = get(ops, "/metrics").await;
    assert_eq!(status, 200);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_dendrite_streams_chunk_by_chunk() {
    let (axon, _acks, ended) = serve(4).await;
    let info = axon.info().unwrap();
    let arg = json!({"port": info.port, "hotkey": info.hotkey, "tokens": 4}).to_string();
    let stdout = tokio::task::spawn_blocking(move || {
        support::run_python_script_with("streaming.py", &[&arg])
    })
    .await
    .unwrap();
    let out = support::result_line(&stdout);

    // Each chunk arrived alone (the next is produced only once this one was acknowledged),
    // then the synapse from the answer's headers.
    let ok = &out["stream_ok"];
    assert_eq!(
        ok["chunks"],
        json!(["tok0 ", "tok1 ", "tok2 ", "tok3 "]),
        "{out}"
    );
    assert_eq!(ok["completion"], "tok0 tok1 tok2 tok3 ");
    assert_eq!(ok["status"], 200, "{out}");
    assert_eq!(ok["message"], "Success");
    assert_eq!(ok["axon_hotkey"], alice());

    // A failure after two chunks: Python's dendrite sees the body cut short.
    let fails = &out["stream_fails"];
    assert_eq!(fails["chunks"], json!(["tok0 ", "tok1 "]), "{out}");
    assert_eq!(fails["status"], 400, "{out}");
    assert!(
        fails["message"]
            .as_str()
            .unwrap()
            .starts_with("Payload error: "),
        "{out}"
    );
    producers_ended(&ended, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_dendrite_streams_chunk_by_chunk() {
    let (axon, acks, ended) = serve(4).await;
    let target = axon.info().unwrap();
    let dendrite = bob();
    let request = Tokens::new("tell me".into(), 3);
    let mut stream = dendrite
        .stream(&target, request, Duration::from_secs(10))
        .await;
    for i in 0..3 {
        let chunk = stream.chunk().await.expect("a chunk");
        assert_eq!(chunk, format!("tok{i} ").as_bytes());
        acks.0.add_permits(1);
    }
    assert_eq!(stream.chunk().await, None);
    let done = stream.finish().await;
    assert_eq!(done.dendrite.status_code, Some(200));
    assert_eq!(done.dendrite.status_message.as_deref(), Some("Success"));
    assert_eq!(done.axon.hotkey.as_deref(), Some(alice().as_str()));
    assert!(done.axon.signature.unwrap().starts_with("0x"));
    assert_eq!(done.prompt, "tell me");
    producers_ended(&ended, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_mid_stream_reaches_the_client() {
    let (axon, acks, ended) = serve(4).await;
    let target = axon.info().unwrap();

    // The Rust dendrite asks for trailers: it gets the producer's own status.
    let mut request = Tokens::new("fail".into(), 5);
    request.fail_after = 1;
    let mut stream = bob()
        .stream(&target, request, Duration::from_secs(10))
        .await;
    assert_eq!(stream.chunk().await.as_deref(), Some(&b"tok0 "[..]));
    acks.0.add_permits(1);
    assert_eq!(stream.chunk().await, None);
    let done = stream.finish().await;
    assert_eq!(done.dendrite.status_code, Some(502));
    assert_eq!(
        done.dendrite.status_message.as_deref(),
        Some("the model went away")
    );

    // Without `TE: trailers` the chunked body is never terminated: the connection closes
    // after the last chunk sent, so no client can take the cut stream for a whole one.
    let mut request = Tokens::new("fail".into(), 5);
    request.fail_after = 1;
    let addr = axon.local_addr().unwrap();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&raw_request(request, 10.0, &[]))
        .await
        .unwrap();
    let mut raw = Vec::new();
    read_until(&mut tcp, &mut raw, "tok0 ").await;
    acks.0.add_permits(1);
    let text = read_rest(&mut tcp, raw).await;
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: text/event-stream\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\ntransfer-encoding: chunked\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nbt_header_axon_status_code: 200\r\n"),
        "{head}"
    );
    assert!(!head.contains("\r\ntrailer:"), "{head}");
    assert_eq!(body, "5\r\ntok0 \r\n", "no terminating chunk");
    producers_ended(&ended, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_stream_ends_with_status_trailers_when_asked() {
    let (axon, acks, _ended) = serve(4).await;
    acks.0.add_permits(2);
    let addr = axon.local_addr().unwrap();
    let request = raw_request(Tokens::new("two".into(), 2), 10.0, &[("te", "trailers")]);
    let text = exchange_raw(addr, &request).await;
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains("\r\ntrailer: bt_header_axon_status_code, bt_header_axon_status_message\r\n"),
        "{head}"
    );
    assert_eq!(
        body,
        "5\r\ntok0 \r\n5\r\ntok1 \r\n0\r\nbt_header_axon_status_code: 200\r\nbt_header_axon_status_message: Success\r\n\r\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_cuts_a_stream_and_frees_its_worker() {
    // One worker: the `Ack` after the cut stream is served only if the stream freed it.
    let (axon, _acks, ended) = serve(1).await;
    let target = axon.info().unwrap();
    // Nobody acknowledges: the producer waits after its first chunk until the deadline.
    let dendrite = bob();
    let mut stream = dendrite
        .stream(
            &target,
            Tokens::new("hold".into(), 3),
            Duration::from_secs(1),
        )
        .await;
    assert_eq!(stream.chunk().await.as_deref(), Some(&b"tok0 "[..]));
    assert_eq!(stream.chunk().await, None);
    let done = stream.finish().await;
    // The axon's deadline and the dendrite's are the same second: either reports it.
    assert_eq!(done.dendrite.status_code, Some(408), "{done:?}");
    producers_ended(&ended, 1).await;

    let next = dendrite
        .call(&target, Ack::new(1), Duration::from_secs(5))
        .await;
    assert_eq!(next.dendrite.status_code, Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axon_deadline_is_in_the_trailers() {
    // The axon caps the timeout at 1 s while the client waits 10 s: the axon's 408 arrives.
    let (axon, _acks, ended) = serve_with(4, Duration::from_secs(1)).await;
    let target = axon.info().unwrap();
    let mut stream = bob()
        .stream(
            &target,
            Tokens::new("hold".into(), 3),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(stream.chunk().await.as_deref(), Some(&b"tok0 "[..]));
    let done = stream.finish().await;
    assert_eq!(done.dendrite.status_code, Some(408));
    assert_eq!(
        done.dendrite.status_message.as_deref(),
        Some("Request timed out after 1s while streaming; the stream was cut")
    );
    // The trailers are sent after the end is counted.
    let metrics = scrape(axon.operations_addr().unwrap()).await;
    assert!(
        metrics.contains("\naxon_stream_ends_total{synapse=\"Tokens\",outcome=\"timed_out\"} 1\n"),
        "{metrics}"
    );
    producers_ended(&ended, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_mid_stream_cancels_the_producer_and_frees_its_worker() {
    let (axon, _acks, ended) = serve(1).await;
    let addr: SocketAddr = axon.local_addr().unwrap();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = raw_request(Tokens::new("bye".into(), 3), 60.0, &[]);
    tcp.write_all(&request).await.unwrap();
    let mut raw = Vec::new();
    read_until(&mut tcp, &mut raw, "tok0 ").await;
    drop(tcp);
    // The producer, waiting for an acknowledgement that never comes, is cancelled.
    producers_ended(&ended, 1).await;
    let metrics = scrape(axon.operations_addr().unwrap()).await;
    assert!(
        metrics
            .contains("\naxon_stream_ends_total{synapse=\"Tokens\",outcome=\"client_gone\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\naxon_streams_in_flight 0\n"),
        "{metrics}"
    );
    let target: AxonInfo = axon.info().unwrap();
    let next = bob()
        .call(&target, Ack::new(1), Duration::from_secs(5))
        .await;
    assert_eq!(next.dendrite.status_code, Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_stream_request_is_answered_whole() {
    let (axon, _acks, ended) = serve(1).await;
    let target = axon.info().unwrap();
    let mut request = Tokens::new("x".into(), 1);
    request.timeout = Some(5.0);
    // Signed for another axon: 401 with its JSON message, no chunks.
    let mut wrong = target.clone();
    wrong.hotkey = Keypair::from_uri("//Dave").unwrap().ss58().to_owned();
    let signed = bob().sign(&wrong, request, Duration::from_secs(5));
    let answer = support::http::exchange(
        axon.local_addr().unwrap(),
        &request_bytes("Tokens", &signed, &[]),
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let mut stream = bob()
        .stream(&wrong, Tokens::new("x".into(), 1), Duration::from_secs(5))
        .await;
    assert_eq!(stream.chunk().await, None);
    let done = stream.finish().await;
    assert_eq!(done.dendrite.status_code, Some(401));
    assert!(done
        .dendrite
        .status_message
        .unwrap()
        .starts_with("Not Verified with error: "));
    assert_eq!(ended.0.count(), 0, "no producer ran");
}
