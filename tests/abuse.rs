//! What an attacker without a key can still try (issue 16), answered cheaply: a request
//! resent with its uuid header added or removed is the same request (a replay), and
//! oversized signed fields are refused before any message repeats them, so a refusal
//! costs well under a kilobyte of log and answer.

mod support;

use axon::keys::Keypair;
use axon::{Limits, Synapse};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use support::counting::serve_counted;
use support::http::{exchange_raw, read_rest, request_bytes, sign};
use support::Echo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The log of this test binary, as the axon's tracing writes it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The binary's log, captured from the first call on (every level).
fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Log::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .with_ansi(false)
            .init();
        log
    })
}

/// The log lines that mention `needle`.
fn lines_with(needle: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(&log().0.lock().unwrap()).into_owned();
    text.lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

fn echo(mut s: Echo) -> Echo {
    s.out = Some(s.text.chars().rev().collect());
    s
}

fn alice() -> String {
    Keypair::from_uri("//Alice").unwrap().ss58().to_owned()
}

/// Status line and body of a raw answer.
fn status(answer: &str) -> u16 {
    answer.split(' ').nth(1).unwrap().parse().unwrap()
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
    let (mut axon, addr, calls) = serve_counted(Limits::default(), echo).await;
    let none = [("bt_header_dendrite_uuid", "None")];

    // Sent without a uuid, then again with `None` added: the same signed request.
    let plain = signed_without_uuid("first");
    assert!(plain.to_headers().get("bt_header_dendrite_uuid").is_none());
    assert_eq!(status(&send(addr, &plain, &[]).await), 200);
    let replay = send(addr, &plain, &none).await;
    assert_eq!(status(&replay), 401, "{replay}");
    assert!(replay.contains("Nonce is a replay: "), "{replay}");

    // Sent with `None`, then again without it.
    let other = signed_without_uuid("second");
    assert_eq!(status(&send(addr, &other, &none).await), 200);
    let replay = send(addr, &other, &[]).await;
    assert_eq!(status(&replay), 401, "{replay}");
    assert!(replay.contains("Nonce is a replay: "), "{replay}");

    assert_eq!(calls.load(Ordering::SeqCst), 2, "each forward ran once");
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_signed_field_costs_under_a_kilobyte_of_log_and_answer() {
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
        assert_eq!(status(&answer), 400, "{name}: {answer}");
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
