//! Fuzz targets for axon, as plain functions of the fuzzer's bytes.
//!
//! Each target feeds the bytes to one stage and checks what must hold whatever they are:
//! no panic (libFuzzer aborts on any, even one the axon would catch), and a property the
//! stage promises.
//!
//! | target | stage | property beyond "no panic" |
//! |---|---|---|
//! | [`headers`] | header map → synapse | a parsed synapse's own headers parse back to it; a refusal names a header |
//! | [`body`] | JSON → synapse → body hash | a parsed synapse's JSON parses back to the same JSON and hash |
//! | [`pystr`] | Python `str()`/`repr()` | floats read back exactly; string reprs unescape to the string |
//! | [`request`] | raw bytes over TCP → a running axon | no answer is a 500; the axon keeps serving |
//!
//! `cargo test -p axon-fuzz` replays `corpus/<target>/` and `regressions/<target>/`
//! through them; `fuzz/run.sh` runs them under libFuzzer with coverage.

use axon::__private::nested_deeper_than;
use axon::wire::from_json;
use axon::{HandlerError, PyStr, Synapse};
use indexmap::IndexMap;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

/// A nested model with a field of each shape.
#[axon::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Inner {
    #[default]
    pub label: String,
    #[default]
    pub weights: Vec<f64>,
    #[default]
    pub flag: Option<bool>,
}

/// A synapse with every kind of field hashed, so parsing and hashing meet every renderer.
#[axon::synapse]
#[derive(Debug, Clone, PartialEq)]
pub struct Fuzzed {
    #[hash]
    pub text: String,
    #[hash]
    pub n: i64,
    #[hash]
    #[default]
    pub x: f64,
    #[hash]
    #[default]
    pub tags: Vec<String>,
    #[hash]
    #[default]
    pub scores: IndexMap<String, i64>,
    #[hash]
    #[default]
    pub maybe: Option<String>,
    #[hash]
    #[default]
    pub inner: Inner,
    #[hash]
    #[default]
    pub any: serde_json::Value,
    #[default]
    pub out: Option<String>,
}

/// The header side: the bytes as header lines (`name: value`, one per `\n`), every line
/// HTTP can carry put in a map, then parsed as a synapse.
pub fn headers(data: &[u8]) {
    let mut map = http::HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) {
            map.append(name, value);
        }
    }
    match Fuzzed::from_headers(&map) {
        // Without a `timeout` header the timeout is None and `to_headers` writes
        // `timeout: None`, which Python's from_headers refuses too: no round trip to check.
        Ok(parsed) if parsed.timeout.is_none() => {}
        Ok(parsed) => {
            let own = parsed
                .to_headers()
                .to_header_map()
                .expect("a parsed synapse's own headers are valid HTTP");
            let mut again =
                Fuzzed::from_headers(&own).expect("a parsed synapse's own headers parse");
            // `to_headers` sends the synapse's own body hash, as Python's does, whatever
            // the `computed_body_hash` field held.
            assert_eq!(
                again.computed_body_hash.as_deref(),
                Some(parsed.body_hash().as_str())
            );
            again.computed_body_hash = parsed.computed_body_hash.clone();
            // The required fields' headers carry an empty value of their type, as
            // Python's do, whatever the field held (the body carries the value).
            assert_eq!((again.text.as_str(), again.n), ("", 0));
            again.text = parsed.text.clone();
            again.n = parsed.n;
            // `header_size` and `total_size` are informational, recomputed on sending.
            again.header_size = parsed.header_size;
            again.total_size = parsed.total_size;
            assert_eq!(
                text(&again.to_json().unwrap()),
                text(&parsed.to_json().unwrap()),
                "headers → synapse → headers → synapse changed it"
            );
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.starts_with("header `"),
                "a header refusal names its header: {message}"
            );
        }
    }
}

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}

/// The body side, as the axon runs it: the nesting scan, JSON parsing, the body hash; then
/// the answer side: the synapse written back as JSON must parse to the same JSON and hash.
pub fn body(data: &[u8]) {
    if nested_deeper_than(data, 64) {
        return;
    }
    let Ok(parsed) = Fuzzed::from_json(data) else {
        return;
    };
    let hash = parsed.body_hash();
    let json = parsed.to_json().expect("a parsed synapse can be written");
    let back = Fuzzed::from_json(&json).expect("a synapse's own JSON parses");
    assert_eq!(
        back.to_json().unwrap(),
        json,
        "JSON → synapse → JSON changed it"
    );
    assert_eq!(
        back.body_hash(),
        hash,
        "the body hash changed over a JSON round trip"
    );
}

/// Python's `str()` and `repr()`: of floats from each 8 bytes (which must read back as the
/// same float, as Python's repr does), and of the bytes as text (whose repr must unescape
/// to the text, as Python's `ast.literal_eval` would), alone and inside a list and a dict.
pub fn pystr(data: &[u8]) {
    for chunk in data.chunks_exact(8) {
        let f = f64::from_le_bytes(chunk.try_into().unwrap());
        let text = f.to_py_str();
        if f.is_nan() {
            assert_eq!(text, "nan");
        } else {
            let back: f64 = text
                .parse()
                .unwrap_or_else(|_| panic!("{text:?} is a float"));
            assert_eq!(back.to_bits(), f.to_bits(), "{f:?} rendered as {text:?}");
        }
    }
    let text = String::from_utf8_lossy(data);
    assert_eq!(text.as_ref().to_py_str(), text, "str() of a str is itself");
    let mut repr = String::new();
    text.as_ref().py_repr(&mut repr);
    assert_eq!(
        unrepr(&repr).as_deref(),
        Some(text.as_ref()),
        "repr {repr:?}"
    );
    let list = vec![text.to_string()].to_py_str();
    assert_eq!(list, format!("[{repr}]"));
    let map: IndexMap<String, f64> = [(text.to_string(), 0.5)].into_iter().collect();
    assert_eq!(map.to_py_str(), format!("{{{repr}: 0.5}}"));
    if let Ok(value) = from_json::<serde_json::Value>(data) {
        if !nested_deeper_than(data, 64) {
            let _ = value.to_py_str();
        }
    }
}

/// Reads a Python string literal (`'...'` or `"..."`) back to its text, or `None` when it
/// is not one Python's `repr()` could have written.
pub fn unrepr(literal: &str) -> Option<String> {
    let quote = literal.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let inner = literal.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars, n: usize| {
            let digits: String = chars.by_ref().take(n).collect();
            (digits.len() == n)
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
                .and_then(char::from_u32)
        };
        out.push(match chars.next()? {
            '\\' => '\\',
            '\'' => '\'',
            '"' => '"',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'x' => hex(&mut chars, 2)?,
            'u' => hex(&mut chars, 4)?,
            'U' => hex(&mut chars, 8)?,
            _ => return None,
        });
    }
    Some(out)
}

/// The whole request path: the bytes sent as they are to a running axon (on loopback, in
/// this process) that serves [`Fuzzed`] with a verify accepting any signature (so bodies
/// reach parsing, hashing and the forward) and the built-in `Synapse` with the default
/// verify. Every answer on the connection is read; none may be a 500.
pub fn request(data: &[u8]) {
    let statuses = statuses(data);
    assert!(
        !statuses.contains(&500),
        "an answer was a 500: {statuses:?}"
    );
}

/// The status of every answer the fuzz axon gave to `data`, in order.
pub fn statuses(data: &[u8]) -> Vec<u16> {
    let (runtime, addr) = fuzz_axon();
    let raw = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("the axon is still accepting connections");
        let _ = stream.write_all(data).await;
        let mut raw = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw));
        let _ = read
            .await
            .expect("the axon closes every connection within its limits");
        raw
    });
    answers(&raw)
}

/// The statuses of the HTTP/1.1 answers in `raw`, each skipped by its `content-length`.
fn answers(mut raw: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        let Some(status) = head
            .strip_prefix("http/1.1 ")
            .and_then(|rest| rest.get(..3)?.parse().ok())
        else {
            break;
        };
        out.push(status);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        raw = &raw[(end + 4 + length).min(raw.len())..];
    }
    out
}

/// The axon [`request`] talks to, started once per process. Its limits are short, so an
/// input that stops midway costs milliseconds: 20 ms to send a first byte, a head or sit
/// idle, 200 ms per request at most.
fn fuzz_axon() -> &'static (tokio::runtime::Runtime, SocketAddr) {
    static AXON: OnceLock<(tokio::runtime::Runtime, SocketAddr)> = OnceLock::new();
    AXON.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let addr = runtime.block_on(async {
            let mut limits = axon::Limits::default();
            limits.header_read_timeout = Duration::from_millis(20);
            limits.first_head_timeout = Duration::from_millis(20);
            limits.max_body = 256 * 1024;
            let mut axon = axon::Axon::new()
                .attach(|mut s: Fuzzed| {
                    s.out = Some(s.text.to_py_str());
                    s
                })
                .verify(|_: &Fuzzed| Ok::<(), HandlerError>(()))
                .hotkey(axon::keys::Keypair::from_uri("//Alice").unwrap())
                .ip("127.0.0.1")
                .port(0)
                .max_timeout(Duration::from_millis(200))
                .limits(limits);
            axon.start().await.expect("the fuzz axon starts");
            let addr = axon.local_addr().unwrap();
            // Serves until the process ends.
            std::mem::forget(axon);
            addr
        });
        (runtime, addr)
    })
}

/// The seed inputs of each target, written to `corpus/<target>/` by the replay test when
/// `FUZZ_WRITE_SEEDS=1`: a good request of each synapse and a few shapes of each input.
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut fuzzed = Fuzzed::new("hello ñ 🦀".into(), 7);
    fuzzed.x = 1e-7;
    fuzzed.tags = vec!["it's".into(), "\"q\"".into(), "\u{7}".into()];
    fuzzed.scores.insert("a".into(), -1);
    fuzzed.maybe = Some("\\".into());
    fuzzed.inner.label = "nested".into();
    fuzzed.inner.weights = vec![0.5, f64::MAX, 1e16];
    fuzzed.inner.flag = Some(true);
    fuzzed.any = serde_json::json!({"k": [1, 2.5, null, "v", {"deep": true}]});
    fuzzed.timeout = Some(1.0);
    fuzzed.computed_body_hash = Some(fuzzed.body_hash());
    fuzzed.dendrite.hotkey = Some("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty".into());
    fuzzed.dendrite.nonce = Some(1_700_000_000_000_000_000);
    fuzzed.dendrite.uuid = Some("7b8a8c3e-5a1f-4d3e-9b1a-0c2d3e4f5a6b".into());
    fuzzed.dendrite.signature = Some(format!("0x{}", "ab".repeat(64)));
    let body = fuzzed.to_json().unwrap();
    let head: String = fuzzed
        .to_headers()
        .iter()
        .map(|(n, v)| format!("{n}: {v}\n"))
        .collect();
    let request = |path: &str| {
        let mut out =
            format!("POST /{path} HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\n").into_bytes();
        for line in head.lines() {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(&body);
        out
    };
    let mut chunked = request("Fuzzed");
    let cut = chunked.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    chunked.truncate(cut);
    chunked.extend_from_slice(b"\r\ntransfer-encoding: chunked\r\n\r\n");
    for piece in body.chunks(97) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let floats: Vec<u8> = [0.1, -0.0, 1e16, 1e-5, 5e-324, f64::INFINITY, f64::NAN]
        .iter()
        .flat_map(|f: &f64| f.to_le_bytes())
        .collect();
    vec![
        ("headers", "synapse", head.clone().into_bytes()),
        ("headers", "empty", Vec::new()),
        ("body", "synapse", body.clone()),
        ("body", "minimal", br#"{"text": "", "n": 0}"#.to_vec()),
        ("pystr", "floats", floats),
        (
            "pystr",
            "text",
            "it's \"q\" \\ \u{7}\u{85}\u{a0}ñ🦀\u{e000}".into(),
        ),
        ("request", "fuzzed", request("Fuzzed")),
        ("request", "ping", request("Synapse")),
        ("request", "chunked", chunked),
        ("request", "pipelined", {
            let mut two = request("Fuzzed");
            let keep = String::from_utf8(two.clone())
                .unwrap()
                .replace("connection: close", "connection: keep-alive");
            two.splice(0..0, keep.into_bytes());
            two
        }),
    ]
}
