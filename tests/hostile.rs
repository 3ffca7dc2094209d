//! Hostile input, sent as raw bytes over TCP: each case is refused with its exact status and
//! message, never reaches the handler, and a good request is served right after it.
//!
//! The cases start from a good signed `Echo` request and break one thing. Those that must
//! pass the signature check to reach the part they break are re-signed over what they
//! send, so the refusal is the one the case is about and not a signature mismatch.

mod support;

use axon::keys::Keypair;
use axon::{Axon, Limits, Synapse};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::counting::serve_counted;
use support::http::sign;
use support::Echo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn alice() -> Keypair {
    Keypair::from_uri("//Alice").unwrap()
}

fn bob() -> Keypair {
    Keypair::from_uri("//Bob").unwrap()
}

/// A request as parts, to break one at a time.
#[derive(Clone)]
struct Req {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    /// A good request: `Echo("hello", 7)` signed by Bob for Alice's axon, 3 s timeout.
    fn good() -> Req {
        Req::signed_by(&bob())
    }

    fn signed_by(dendrite: &Keypair) -> Req {
        let mut echo = Echo::new("hello".into(), 7);
        echo.timeout = Some(3.0);
        let signed = sign(echo, dendrite, alice().ss58());
        let body = signed.to_json().unwrap();
        let mut headers = vec![
            ("host".to_owned(), "localhost".to_owned()),
            ("connection".to_owned(), "close".to_owned()),
        ];
        headers.extend(
            signed
                .to_headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string())),
        );
        headers.push(("content-length".into(), body.len().to_string()));
        Req {
            line: "POST /Echo HTTP/1.1".into(),
            headers,
            body,
        }
    }

    fn get(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Replaces the value of header `name` (every occurrence).
    fn set(mut self, name: &str, value: &str) -> Req {
        for (n, v) in &mut self.headers {
            if n.eq_ignore_ascii_case(name) {
                *v = value.to_owned();
            }
        }
        self
    }

    /// Adds a header line (a duplicate when `name` is already there).
    fn add(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn remove(mut self, name: &str) -> Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    fn line(mut self, line: &str) -> Req {
        self.line = line.to_owned();
        self
    }

    /// Replaces the body, with a `content-length` that matches it.
    fn body(mut self, body: &[u8]) -> Req {
        self.body = body.to_vec();
        let len = body.len().to_string();
        self.set("content-length", &len)
    }

    /// Replaces the JSON body field `key` with the JSON text `value` (raw, as sent).
    fn field(self, key: &str, value: &str) -> Req {
        let text = String::from_utf8(self.body.clone()).unwrap();
        let needle = format!("\"{key}\":");
        let start = text.find(&needle).unwrap() + needle.len();
        let end = start
            + text[start..]
                .find([',', '}'])
                .expect("a scalar field: ends at , or }");
        let body = format!("{}{value}{}", &text[..start], &text[end..]);
        self.body(body.as_bytes())
    }

    /// Signs what the headers now say, as a dendrite would, so the signature check passes
    /// and the request reaches the stage the case breaks.
    fn resign(self) -> Req {
        let message = format!(
            "{}.{}.{}.{}.{}",
            self.get("bt_header_dendrite_nonce"),
            self.get("bt_header_dendrite_hotkey"),
            self.get("bt_header_axon_hotkey"),
            self.get("bt_header_dendrite_uuid"),
            self.get("computed_body_hash"),
        );
        let signature = bob().sign(message.as_bytes());
        self.set("bt_header_dendrite_signature", &signature)
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.line).into_bytes();
        for (n, v) in &self.headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// What the server said: status (0 when it closed without answering) and the body's
/// `message` (empty without one).
#[derive(Debug, PartialEq)]
struct Said {
    status: u16,
    message: String,
}

/// Sends `bytes` on a fresh connection, reads until the server closes it (10 s at most).
async fn send(addr: SocketAddr, bytes: &[u8]) -> (Said, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may refuse and close before reading everything: a failed write is fine.
    let _ = stream.write_all(bytes).await;
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 8192];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed in 10 s"
    );
    (parse(&raw), raw)
}

fn parse(raw: &[u8]) -> Said {
    let text = String::from_utf8_lossy(raw);
    let Some((head, rest)) = text.split_once("\r\n\r\n") else {
        return Said {
            status: 0,
            message: String::new(),
        };
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let body = &rest.as_bytes()[..length.min(rest.len())];
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Said { status, message }
}

type Build = fn() -> Vec<u8>;

struct Case {
    name: &'static str,
    build: Build,
    status: u16,
    message: &'static str,
}

macro_rules! cases {
    ($($name:literal => $build:expr, $status:literal, $message:expr;)*) => {
        vec![$(Case { name: $name, build: $build, status: $status, message: $message },)*]
    };
}

/// `message` without serde_json's ` at line L column C` at its end.
fn without_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => &message[..at],
        _ => message,
    }
}

fn r(req: Req) -> Vec<u8> {
    req.bytes()
}

fn all_cases() -> Vec<Case> {
    cases! {
        // --- the request line and the path
        "garbage request line" => || b"HELLO\r\n\r\n".to_vec(), 400, "";
        "HTTP/2 prior knowledge" => || b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), 0, "";
        "unknown HTTP version" => || r(Req::good().line("POST /Echo HTTP/3.7")), 400, "";
        "lowercase method" => || r(Req::good().line("post /Echo HTTP/1.1")), 405, "Method post not allowed: call POST /Echo";
        "PUT" => || r(Req::good().line("PUT /Echo HTTP/1.1")), 405, "Method PUT not allowed: call POST /Echo";
        "DELETE" => || r(Req::good().line("DELETE /Echo HTTP/1.1")), 405, "Method DELETE not allowed: call POST /Echo";
        "unknown synapse" => || r(Req::good().line("POST /Nope HTTP/1.1")), 404, "Synapse name 'Nope' not found. Available synapses ['Synapse', 'Echo']";
        "dot-dot path" => || r(Req::good().line("POST /../Echo HTTP/1.1")), 404, "Synapse name '../Echo' not found. Available synapses ['Synapse', 'Echo']";
        "encoded slash" => || r(Req::good().line("POST /%2FEcho HTTP/1.1")), 404, "Synapse name '%2FEcho' not found. Available synapses ['Synapse', 'Echo']";
        "encoded name" => || r(Req::good().line("POST /%45cho HTTP/1.1")), 404, "Synapse name '%45cho' not found. Available synapses ['Synapse', 'Echo']";
        "trailing slash" => || r(Req::good().line("POST /Echo/ HTTP/1.1")), 404, "Synapse name 'Echo/' not found. Available synapses ['Synapse', 'Echo']";
        "double slash" => || r(Req::good().line("POST //Echo HTTP/1.1")), 404, "Synapse name '/Echo' not found. Available synapses ['Synapse', 'Echo']";
        "very long name" => || r(Req::good().line(&format!("POST /{} HTTP/1.1", "E".repeat(10_000)))), 404, "Synapse name 'EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE...' not found. Available synapses ['Synapse', 'Echo']";
        "asterisk target" => || r(Req::good().line("POST * HTTP/1.1")), 404, "Synapse name '*' not found. Available synapses ['Synapse', 'Echo']";
        "non-UTF-8 path" => || {
            let mut b = Req::good().line("POST /Ech\u{1} HTTP/1.1").bytes();
            let at = b.iter().position(|&c| c == 1).unwrap();
            b[at] = 0xff;
            b
        }, 400, "";
        // --- framing
        "header without a colon" => || {
            let mut b = Req::good().bytes();
            let at = b.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            b.splice(at..at, b"x-no-colon\r\n".iter().copied());
            b
        }, 400, "";
        "obs-fold continuation line" => || {
            let mut b = Req::good().bytes();
            let at = b.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            b.splice(at..at, b"x-folded: a\r\n b\r\n".iter().copied());
            b
        }, 400, "";
        "space before the colon" => || {
            let mut b = Req::good().bytes();
            let at = b.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            b.splice(at..at, b"x-spaced : a\r\n".iter().copied());
            b
        }, 400, "";
        "control character in a header value" => || r(Req::good().add("x-ctl", "a\u{7}b")), 400, "";
        "content-length not a number" => || r(Req::good().set("content-length", "ten")), 400, "";
        "negative content-length" => || r(Req::good().set("content-length", "-1")), 400, "";
        "two different content-lengths" => || { let q = Req::good(); let n = (q.body.len() + 1).to_string(); r(q.add("content-length", &n)) }, 400, "";
        "content-length over the body limit" => || r(Req::good().set("content-length", "99999999999")), 413, "Request body larger than the limit of 1048576 bytes";
        "content-length longer than the body sent" => || { let q = Req::good().set("timeout", "1.0"); let n = (q.body.len() + 100).to_string(); r(q.set("content-length", &n)) }, 408, "Request timed out after 1s while its body was being read; the forward never ran";
        "content-length shorter than the body" => || { let q = Req::good(); let n = (q.body.len() - 10).to_string(); r(q.set("content-length", &n)) }, 400, "Could not parse the body as synapse Echo: invalid synapse JSON: EOF while parsing a string";
        "chunked with a bad chunk size" => || r(Req::good().remove("content-length").add("transfer-encoding", "chunked").body(b"zz\r\nabc\r\n0\r\n\r\n").remove("content-length")), 400, "Could not read the request body: error reading a body from connection";
        "chunked over the body limit" => || {
            let q = Req::good().remove("content-length").body(b"").add("transfer-encoding", "chunked");
            let mut b = q.bytes();
            let chunk = vec![b'a'; 1024 * 1024];
            for _ in 0..12 {
                b.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                b.extend_from_slice(&chunk);
                b.extend_from_slice(b"\r\n");
            }
            b.extend_from_slice(b"0\r\n\r\n");
            b
        }, 413, "Request body larger than the limit of 1048576 bytes";
        "unknown transfer-encoding" => || r(Req::good().remove("content-length").add("transfer-encoding", "gzip")), 400, "";
        // --- the synapse headers
        "no synapse headers" => || r(Req { headers: vec![("host".into(), "x".into()), ("connection".into(), "close".into()), ("content-length".into(), "2".into())], body: b"{}".to_vec(), ..Req::good() }), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_input_obj_text` is missing";
        "missing hotkey" => || r(Req::good().remove("bt_header_dendrite_hotkey")), 401, "Not Verified with error: No SS58 formatted address or public key provided.";
        "missing signature" => || r(Req::good().remove("bt_header_dendrite_signature")), 401, "Not Verified with error: Missing Signature";
        "missing nonce" => || r(Req::good().remove("bt_header_dendrite_nonce")), 401, "Not Verified with error: Missing Nonce";
        "missing uuid" => || r(Req::good().remove("bt_header_dendrite_uuid")), 401, "Not Verified with error: Signature mismatch with *";
        "missing body hash" => || r(Req::good().remove("computed_body_hash")), 401, "Not Verified with error: Signature mismatch with *";
        "nonce not a number" => || r(Req::good().set("bt_header_dendrite_nonce", "abc")), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_dendrite_nonce`: `abc` is not a 64-bit integer (Python's int() in base 10)";
        "nonce a float" => || r(Req::good().set("bt_header_dendrite_nonce", "1.5")), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_dendrite_nonce`: `1.5` is not a 64-bit integer (Python's int() in base 10)";
        "nonce overflowing i64" => || r(Req::good().set("bt_header_dendrite_nonce", "99999999999999999999999").resign()), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_dendrite_nonce`: `99999999999999999999999` is not a 64-bit integer (Python's int() in base 10)";
        "negative nonce, signed" => || r(Req::good().set("bt_header_dendrite_nonce", "-5").resign()), 401, "Not Verified with error: Nonce is too old: acceptable delta is 7.00 seconds but request was *";
        "nonce an hour old, signed" => || { let q = Req::good(); let n: i64 = q.get("bt_header_dendrite_nonce").parse().unwrap(); r(q.set("bt_header_dendrite_nonce", &(n - 3_600_000_000_000).to_string()).resign()) }, 401, "Not Verified with error: Nonce is too old: acceptable delta is 7.00 seconds but request was 3600.*";
        "nonce i64::MAX, signed" => || r(Req::good().set("bt_header_dendrite_nonce", &i64::MAX.to_string()).resign()), 401, "Not Verified with error: Nonce is too far in the future: *";
        "timeout not a number" => || r(Req::good().set("timeout", "soon")), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `timeout`: `soon` is not a number (Python's float() refuses it)";
        "negative timeout" => || r(Req::good().set("timeout", "-1")), 408, "Request timed out after 0s before it was admitted; the forward never ran";
        "duplicate hotkey headers" => || r(Req::good().add("bt_header_dendrite_hotkey", alice().ss58())), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_dendrite_hotkey` appears more than once";
        "duplicate nonce headers" => || { let q = Req::good(); let n = q.get("bt_header_dendrite_nonce").to_owned(); r(q.add("bt_header_dendrite_nonce", &n)) }, 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_dendrite_nonce` appears more than once";
        "hotkey with a bad checksum" => || { let q = Req::good(); let mut hk = q.get("bt_header_dendrite_hotkey").to_owned(); let last = if hk.ends_with('a') { 'b' } else { 'a' }; hk.pop(); hk.push(last); r(q.set("bt_header_dendrite_hotkey", &hk).resign()) }, 401, "Not Verified with error: Invalid SS58 address: Invalid checksum";
        "hotkey not base58" => || r(Req::good().set("bt_header_dendrite_hotkey", "0OIl0OIl").resign()), 401, "Not Verified with error: Invalid SS58 address: provided string contained invalid character '0' at byte 0";
        "empty hotkey" => || r(Req::good().set("bt_header_dendrite_hotkey", "").resign()), 401, "Not Verified with error: Invalid SS58 address: Length is bad";
        "non-UTF-8 hotkey" => || { let mut b = Req::good().set("bt_header_dendrite_hotkey", "5Gr\u{1}").bytes(); let at = b.iter().position(|&c| c == 1).unwrap(); b[at] = 0xff; b }, 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_dendrite_hotkey`: value is not UTF-8";
        "signature too short" => || r(Req::good().set("bt_header_dendrite_signature", "0x1234")), 401, "Not Verified with error: Invalid SR25519 signature.";
        "signature not hex" => || r(Req::good().set("bt_header_dendrite_signature", &format!("0x{}", "zz".repeat(64)))), 401, "Not Verified with error: Invalid hex string: InvalidHexCharacter { c: 'z', index: 0 }";
        "signature without 0x" => || { let q = Req::good(); let s = q.get("bt_header_dendrite_signature")[2..].to_owned(); r(q.set("bt_header_dendrite_signature", &s)) }, 401, "Not Verified with error: Invalid signature format. Expected hex string.";
        "signature by another key" => || { let other = Req::signed_by(&Keypair::from_uri("//Charlie").unwrap()); let s = other.get("bt_header_dendrite_signature").to_owned(); r(Req::good().set("bt_header_dendrite_signature", &s)) }, 401, "Not Verified with error: Signature mismatch with *";
        "signed for another axon" => || r(Req::good().set("bt_header_axon_hotkey", Keypair::from_uri("//Charlie").unwrap().ss58()).resign()), 401, "Not Verified with error: Signature mismatch with *";
        "input_obj not base64" => || r(Req::good().set("bt_header_input_obj_text", "%%%")), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_input_obj_text`: value is not standard base64";
        "input_obj of the wrong type" => || r(Req::good().set("bt_header_input_obj_n", "ImFiYyI=")), 400, "Improperly formatted request. Could not parse headers into synapse of type Echo: header `bt_header_input_obj_n`: not JSON of the field's type: invalid type: string \"abc\", expected i64";
        // --- the body (signed headers, so each reaches the body stage)
        "empty body" => || r(Req::good().body(b"")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: EOF while parsing a value";
        "invalid JSON" => || r(Req::good().body(b"{\"text\": ")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: EOF while parsing a value";
        "JSON array" => || r(Req::good().body(b"[1, 2]")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: invalid length 7, expected struct Echo with 10 elements";
        "JSON string" => || r(Req::good().body(b"\"hello\"")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: invalid type: string \"hello\", expected struct Echo";
        "text is a number" => || r(Req::good().field("text", "5")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: invalid type: integer `5`, expected a string";
        "n is a string" => || r(Req::good().field("n", "\"abc\"")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: invalid type: string \"abc\", expected i64";
        "n overflows i64" => || r(Req::good().field("n", "99999999999999999999")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: invalid type: floating point `1e+20`, expected i64";
        "n is 1e400" => || r(Req::good().field("n", "1e400")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: number out of range";
        "n is NaN" => || r(Req::good().field("n", "NaN")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: expected value";
        "missing required field" => || r(Req::good().body(b"{\"n\": 7}")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: missing field `text`";
        "deeply nested JSON" => || { let deep = format!("{{\"text\": \"hello\", \"n\": 7, \"x\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000)); r(Req::good().body(deep.as_bytes())) }, 400, "Could not parse the body as synapse Echo: JSON nested deeper than 64 levels";
        "non-UTF-8 in a string" => || r(Req::good().field("text", "\"hel\u{1}o\"")).into_iter().map(|c| if c == 1 { 0xff } else { c }).collect(), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: invalid unicode code point";
        "lone surrogate escape" => || r(Req::good().field("text", "\"\\ud800\"")), 400, "Could not parse the body as synapse Echo: invalid synapse JSON: unexpected end of hex escape";
        "UTF-8 byte order mark" => || { let q = Req::good(); let mut b = b"\xef\xbb\xbf".to_vec(); b.extend_from_slice(&q.body); r(q.body(&b)) }, 400, "Could not parse the body as synapse Echo: invalid synapse JSON: expected value";
        "trailing garbage" => || { let q = Req::good(); let mut b = q.body.clone(); b.extend_from_slice(b"xyz"); r(q.body(&b)) }, 400, "Could not parse the body as synapse Echo: invalid synapse JSON: trailing characters";
        "tampered body" => || r(Req::good().field("text", "\"hellO\"")), 400, "body hash mismatch: the computed_body_hash header is *";
        "duplicate JSON key" => || { let q = Req::good(); let b = String::from_utf8(q.body.clone()).unwrap().replacen('{', "{\"text\": \"evil\", ", 1); r(q.body(b.as_bytes())) }, 400, "Could not parse the body as synapse Echo: invalid synapse JSON: duplicate field `text`";
    }
}

/// An axon serving `Echo`, counting its forward's calls.
async fn serve() -> (Axon, SocketAddr, Arc<AtomicUsize>) {
    let mut limits = Limits::default();
    limits.max_body = 1024 * 1024;
    serve_counted(limits, |mut s: Echo| {
        s.out = Some(s.text.clone());
        s
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_and_the_next_good_one_is_served() {
    let (mut axon, addr, calls) = serve().await;
    let discover = std::env::var_os("HOSTILE_DISCOVER").is_some();
    let cases = all_cases();
    let mut failures = Vec::new();
    for case in &cases {
        let bytes = (case.build)();
        let (said, raw) = send(addr, &bytes).await;
        let called = calls.swap(0, Ordering::SeqCst);
        if discover {
            let head = String::from_utf8_lossy(&raw[..raw.len().min(60)]).replace("\r\n", " | ");
            println!(
                "{:?} => {} {:?} called={called}  [{head}]",
                case.name, said.status, said.message
            );
        }
        // A message ending in `*` is a prefix: the rest names this request's nonce, uuid
        // or hashes. Where serde_json stopped (` at line 1 column 713`) is the parser's
        // detail, not what the message must say: it is compared without it.
        let said_message = without_position(&said.message);
        let message_ok = match case.message.strip_suffix('*') {
            Some(prefix) => said_message.starts_with(prefix),
            None => said_message == case.message,
        };
        if said.status != case.status || !message_ok {
            failures.push(format!(
                "{}: expected {} {:?}, got {} {:?}",
                case.name, case.status, case.message, said.status, said.message
            ));
        }
        if called != 0 {
            failures.push(format!(
                "{}: the handler was called {called} times",
                case.name
            ));
        }
        let (good, _) = send(addr, &Req::good().bytes()).await;
        if good.status != 200 || calls.swap(0, Ordering::SeqCst) != 1 {
            failures.push(format!(
                "{}: the good request after it got {}",
                case.name, good.status
            ));
        }
    }
    axon.stop().await;
    assert!(cases.len() >= 50, "{} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Sends `bytes` on one connection and reads every answer until the server closes it.
async fn answers(addr: SocketAddr, bytes: &[u8]) -> Vec<Said> {
    let (_, raw) = send(addr, bytes).await;
    let mut out = Vec::new();
    let mut rest = &raw[..];
    while !rest.is_empty() {
        let said = parse(rest);
        let head_end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a whole answer")
            + 4;
        let text = String::from_utf8_lossy(&rest[..head_end]).to_ascii_lowercase();
        let length: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        out.push(said);
        rest = &rest[(head_end + length).min(rest.len())..];
    }
    out
}

fn keep_alive(req: Req) -> Req {
    req.set("connection", "keep-alive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_but_valid_framing_is_served() {
    let (mut axon, addr, calls) = serve().await;
    let statuses = |said: Vec<Said>| said.iter().map(|s| s.status).collect::<Vec<_>>();

    // HTTP/1.0, no connection header: served, then closed.
    let old = Req::good().line("POST /Echo HTTP/1.0").remove("connection");
    assert_eq!(statuses(answers(addr, &old.bytes()).await), [200]);
    assert_eq!(calls.swap(0, Ordering::SeqCst), 1);

    // Pipelined: two good requests and garbage in one write, answered in order, then closed.
    let mut bytes = keep_alive(Req::good()).bytes();
    bytes.extend(keep_alive(Req::good()).bytes());
    bytes.extend_from_slice(b"GARBAGE\r\n\r\n");
    assert_eq!(statuses(answers(addr, &bytes).await), [200, 200, 400]);
    assert_eq!(calls.swap(0, Ordering::SeqCst), 2);

    // A chunked body, in small chunks.
    let good = Req::good();
    let mut chunked = good.clone().remove("content-length").body(b"");
    chunked = chunked.add("transfer-encoding", "chunked");
    let mut bytes = chunked.bytes();
    for piece in good.body.chunks(100) {
        bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        bytes.extend_from_slice(piece);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(statuses(answers(addr, &bytes).await), [200]);
    assert_eq!(calls.swap(0, Ordering::SeqCst), 1);

    // Both content-length (a lie) and chunked: framed by transfer-encoding alone (RFC
    // 9112 §6.3), and the connection closed after the answer even when asked to keep it.
    let good = keep_alive(Req::good());
    let mut both = good.clone().set("content-length", "5").body(b"");
    both = both
        .set("content-length", "5")
        .add("transfer-encoding", "chunked");
    let mut bytes = both.bytes();
    bytes.extend_from_slice(format!("{:x}\r\n", good.body.len()).as_bytes());
    bytes.extend_from_slice(&good.body);
    bytes.extend_from_slice(b"\r\n0\r\n\r\n");
    bytes.extend(keep_alive(Req::good()).bytes());
    assert_eq!(statuses(answers(addr, &bytes).await), [200]);
    assert_eq!(calls.swap(0, Ordering::SeqCst), 1);

    axon.stop().await;
}
