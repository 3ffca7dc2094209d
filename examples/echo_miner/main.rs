//! The echo miner: a synapse and its handlers declared with attributes only, collected by
//! `Axon::from_registry()`, served on loopback with a development key. No chain, no
//! wallet: the README's first command.
//!
//! Python twin of the synapse, which the real `bittensor.Dendrite` calls unchanged:
//!
//! ```python
//! class Echo(bt.Synapse):
//!     text: str
//!     n: int
//!     out: Optional[str] = None
//!     required_hash_fields: ClassVar[tuple[str, ...]] = ("text", "n")
//! ```
//!
//! It also streams: `EchoStream` answers each word reversed, one chunk per word (Python's
//! `StreamingSynapse`).
//!
//! And it serves `POST /echo` to signed HTTP, for bittensor 11 validators (`btauth/1`,
//! `bittensor.http_auth.sign`) and Epistula clients alike: JSON `{"text": ".."}` in,
//! `{"text": "..", "out": "<text reversed>"}` out, on the same port.
//!
//! Run: `cargo run --example echo_miner [-- --dev-key //Alice] [--deny SS58] [--deny-ip IP] [--axon.port 8091]`
//! (`--verify.batch false` checks every signature alone instead of in batches; `--ops
//! 127.0.0.1:9100` serves `/metrics` and `/healthz` there; `--trusted-proxy 10.0.0.5`,
//! repeatable, believes that proxy's PROXY header and `X-Forwarded-For`).
//! It serves on `127.0.0.1` unless `--axon.ip` (or `BT_AXON_IP`) says otherwise and prints
//! its hotkey and address once listening. SIGTERM or SIGINT (Ctrl-C) drains it: new
//! connections are refused, every request already received is answered, then it exits 0
//! (a second signal exits at once). A failed start exits 1 with the reason.
//! `--logging.debug` (or `RUST_LOG=debug`) logs every request; `--help` lists every flag.
//! With `--netuid N` it publishes its axon on subnet N once listening (`Axon::serve`; the
//! hotkey must be registered there), on the chain `--subtensor.network` /
//! `--subtensor.chain_endpoint` name.

use axon::auth::{AuthConfig, Caller, Crypto};
use axon::config::Config;
use axon::keys::Keypair;
use axon::verify::{Verifier, VerifyConfig};
use axon::{Axon, Blacklist, State, Streaming};
use axum::Json;

/// mimalloc instead of glibc's malloc: 9.5% less server CPU per request at 1 KB, measured
/// with `bench/ab.py` (issue 22). The library leaves the allocator to the program.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Python: `class Echo(bt.Synapse): text: str; n: int; out: Optional[str] = None`.
#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Echo {
    #[hash]
    pub text: String,
    #[hash]
    pub n: i64,
    #[default]
    pub out: Option<String>,
}

/// Shared state: how many requests were answered.
#[derive(Default)]
pub struct Served(AtomicU64);

/// Shared state: hotkeys and client addresses refused outright (`--deny SS58`,
/// `--deny-ip IP`, repeatable).
#[derive(Default)]
pub struct DenyList(Vec<String>);

impl DenyList {
    /// Why `hotkey` calling from `ip` is refused, if it is.
    fn refuses(&self, hotkey: Option<&str>, ip: Option<&str>) -> Option<String> {
        [hotkey, ip]
            .into_iter()
            .flatten()
            .find(|who| self.0.iter().any(|d| d == who))
            .map(|who| format!("{who} is denied"))
    }
}

/// Answers with the text reversed.
#[axon::forward]
async fn echo(mut synapse: Echo, served: State<Served>) -> Echo {
    synapse.out = Some(reversed(&synapse.text));
    served.0.fetch_add(1, Ordering::Relaxed);
    synapse
}

/// Python: `class EchoStream(bt.StreamingSynapse): text: str` (see the README for its
/// `process_streaming_response`).
#[axon::synapse]
#[derive(Debug, Clone)]
pub struct EchoStream {
    #[hash]
    pub text: String,
}

/// Streams the text's words back, reversed, one chunk per word, each ending in a newline.
#[axon::forward]
async fn echo_stream(synapse: EchoStream, served: State<Served>) -> Streaming<EchoStream> {
    let words: Vec<String> = synapse
        .text
        .split_whitespace()
        .map(|w| format!("{}\n", reversed(w)))
        .collect();
    Streaming::new(synapse, move |chunks| async move {
        for word in words {
            chunks.send(word).await?;
        }
        served.0.fetch_add(1, Ordering::Relaxed);
        Ok::<(), axon::HandlerError>(())
    })
}

/// What `POST /echo` reads.
#[derive(serde::Deserialize)]
pub struct EchoIn {
    pub text: String,
}

/// What `POST /echo` answers.
#[derive(serde::Serialize)]
pub struct EchoOut {
    pub text: String,
    pub out: String,
}

/// `POST /echo`, signed with btauth/1 or Epistula: the text and its reverse. The deny list
/// applies before the signature is checked, as for the synapse.
#[axon::endpoint(POST "/echo", auth = [btauth, epistula], blacklist = deny_caller)]
async fn echo_http(served: State<Served>, Json(ask): Json<EchoIn>) -> Json<EchoOut> {
    served.0.fetch_add(1, Ordering::Relaxed);
    let out = reversed(&ask.text);
    Json(EchoOut {
        text: ask.text,
        out,
    })
}

/// Refuses denied hotkeys at `POST /echo`.
fn deny_caller(caller: &Caller, deny: &DenyList) -> Blacklist {
    let ip = caller.ip.map(|ip| ip.to_string());
    match deny.refuses(Some(&caller.hotkey), ip.as_deref()) {
        Some(reason) => Blacklist::Deny(reason),
        None => Blacklist::Allow,
    }
}

/// `text` reversed by code point, as Python's `text[::-1]`; ASCII (the usual case) byte by
/// byte, without decoding characters.
fn reversed(text: &str) -> String {
    if text.is_ascii() {
        let mut bytes = text.as_bytes().to_vec();
        bytes.reverse();
        if let Ok(ascii) = String::from_utf8(bytes) {
            return ascii;
        }
    }
    text.chars().rev().collect()
}

/// Refuses denied hotkeys before their signature is even checked. Like every check
/// before the forward, it sees the request's headers only: the caller's terminal and the
/// timeout, with `text` and `n` still at their placeholders (the body is not read yet).
#[axon::blacklist]
fn refuse_denied(synapse: &Echo, deny: &DenyList) -> Blacklist {
    let d = &synapse.dendrite;
    match deny.refuses(d.hotkey.as_deref(), d.ip.as_deref()) {
        Some(reason) => Blacklist::Deny(reason),
        None => Blacklist::Allow,
    }
}

/// Serves the most urgent first: the shorter the caller's timeout, the higher the priority
/// (used once requests queue, see `--axon.max_workers`).
#[axon::priority]
fn urgent_first(synapse: &Echo) -> f64 {
    -synapse.timeout.unwrap_or(12.0)
}

/// Exits with the reason, non-zero.
fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("echo_miner: {message}");
    std::process::exit(1);
}

/// What `--help` prints before the shared settings.
const USAGE: &str = "\
echo_miner: echoes text reversed (and streams it word by word), on loopback with a
development key. The Python bittensor.Dendrite calls it unchanged; POST /echo answers
requests signed with btauth/1 (bittensor 11) or Epistula.

Usage: cargo run --example echo_miner -- [FLAGS]
  --dev-key URI                the hotkey, a development URI [default //Alice]
  --crypto-type TYPE           the development key's type: sr25519 or ed25519 (btcli's sr
                               or ed) [default sr25519]
  --deny SS58                  refuse this hotkey (403), repeatable; any network's SS58
                               spelling of it
  --deny-ip IP                 refuse this client address (403; behind a trusted proxy, the
                               client it names), repeatable
  --verify.batch BOOL          check signatures in batches [default true]
  --ops ADDR                   serve /metrics and /healthz on ADDR (e.g. 127.0.0.1:9100)
  --trusted-proxy NET          believe this proxy's PROXY header and X-Forwarded-For, repeatable
  --netuid N                   publish the axon on subnet N at start (see --subtensor.*)
  --tls-handshakes-per-address N
                               with TLS on: handshakes one client address may start a second
                               [default 64, after a burst of 256]
  --tls-handshakes-per-second N
                               with TLS on: handshakes started a second from all addresses
                               [default 1000 per core]
  --help                       this text
It serves on 127.0.0.1 unless --axon.ip (or BT_AXON_IP) says otherwise.
";

#[tokio::main]
async fn main() {
    let explicit_ip = std::env::args().any(|a| a.starts_with("--axon.ip"))
        || std::env::var("BT_AXON_IP").is_ok_and(|v| !v.is_empty());
    let (config, rest) = Config::from_process().unwrap_or_else(|e| fail(e));
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}\n{}", Config::help());
        return;
    }
    axon::logging::init(&config.logging).unwrap_or_else(|e| fail(e));
    let mut dev_key = "//Alice".to_owned();
    let mut crypto = Crypto::Sr25519;
    let mut deny = DenyList::default();
    let mut batch = true;
    let mut ops = None;
    let mut proxies = Vec::new();
    let mut limits = axon::Limits::default();
    let mut rest = rest.into_iter();
    while let Some(arg) = rest.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next())
                .unwrap_or_else(|| fail(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--dev-key" => dev_key = value(),
            "--crypto-type" => {
                crypto = value()
                    .parse()
                    .unwrap_or_else(|e| fail(format!("--crypto-type: {e}")))
            }
            // A hotkey in any network's SS58 spelling, kept in Bittensor's: the one the
            // axon accepts from the network.
            "--deny" => {
                let address = value();
                let hotkey = axon::keys::canonical_ss58(&address)
                    .unwrap_or_else(|e| fail(format!("--deny {address}: {e}")));
                deny.0.push(hotkey);
            }
            "--deny-ip" => deny.0.push(value()),
            "--trusted-proxy" => proxies.push(value()),
            "--tls-handshakes-per-address" | "--tls-handshakes-per-second" => {
                let n = value();
                let n = n.parse().unwrap_or_else(|_| {
                    fail(format!("{flag} takes a count per second, not `{n}`"))
                });
                match flag.as_str() {
                    "--tls-handshakes-per-address" => limits.tls_handshakes_per_address = n,
                    _ => limits.tls_handshakes_per_second = n,
                }
            }
            "--ops" => {
                let addr = value();
                ops = Some(addr.parse().unwrap_or_else(|_| {
                    fail(format!(
                        "--ops takes an address like 127.0.0.1:9100, not `{addr}`"
                    ))
                }));
            }
            "--verify.batch" => {
                batch = match value().as_str() {
                    "true" => true,
                    "false" => false,
                    other => fail(format!("--verify.batch takes true or false, not `{other}`")),
                }
            }
            _ => fail(format!("unexpected argument `{arg}`: see --help")),
        }
    }
    let hotkey = Keypair::from_uri_with(&dev_key, crypto).unwrap_or_else(|e| fail(e));
    let served = std::sync::Arc::new(Served::default());
    let mut verify = VerifyConfig::default();
    verify.batch = batch;
    let verifier = Verifier::with_config(hotkey.ss58(), verify);

    let mut axon = Axon::from_registry()
        .config(config.axon)
        .auth(AuthConfig {
            pins: config.auth,
            ..AuthConfig::default()
        })
        .hotkey(hotkey)
        .state(verifier)
        .state_arc(served.clone())
        .state(deny)
        .limits(limits);
    if !explicit_ip {
        axon = axon.ip("127.0.0.1");
    }
    if let Some(ops) = ops {
        axon = axon.operations(ops);
    }
    if !proxies.is_empty() {
        axon = axon.trusted_proxies(&proxies);
    }
    if let Err(e) = axon.start().await {
        fail(e);
    }
    let addr = axon.local_addr().expect("started");
    let info = axon.info().expect("started");
    println!("echo_miner: hotkey {} ({dev_key}, {crypto})", info.hotkey);
    println!("echo_miner: serving {axon}");
    println!("echo_miner: listening on {addr}");
    if let Some(ops) = axon.operations_addr() {
        println!("echo_miner: operations on http://{ops}/metrics and /healthz");
    }
    if let Some(netuid) = config.netuid {
        let (network, endpoint) = config.subtensor.endpoint();
        let subtensor = axon::chain::Subtensor::connect(&endpoint)
            .await
            .unwrap_or_else(|e| fail(e));
        match axon.serve(netuid, &subtensor).await {
            Ok(served) => {
                println!("echo_miner: published on {network} subnet {netuid}: {served:?}")
            }
            Err(e) => fail(e),
        }
    }

    let signal = axon::shutdown_signal()
        .await
        .unwrap_or_else(|e| fail(format!("cannot wait for SIGTERM or SIGINT: {e}")));
    println!("echo_miner: {signal}: draining (a second signal stops at once)");
    tokio::select! {
        _ = axon.stop() => {}
        again = axon::shutdown_signal() => {
            fail(format!("{}: stopped without draining", again.unwrap_or("signal")))
        }
    }
    println!(
        "echo_miner: stopped after {} echoes",
        served.0.load(Ordering::Relaxed)
    );
}

#[cfg(test)]
mod tests {
    use super::reversed;

    #[test]
    fn reverses_by_code_point_as_python_does() {
        // Python: "abc"[::-1], "añb"[::-1], "a😀b"[::-1]
        assert_eq!(reversed("abc"), "cba");
        assert_eq!(reversed("añb"), "bña");
        assert_eq!(reversed("a😀b"), "b😀a");
        assert_eq!(reversed(""), "");
    }
}
