//! TLS on the axon's one port, beside plain HTTP (feature `tls`): real clients over TLS
//! (bittensor 11's `http_auth.sign` sent with Python's `ssl`, curl, `openssl s_client`, a
//! rustls client behind a PROXY header) and the real 10.5.0 Dendrite over plain HTTP, on the
//! same port at once; then the hostile cases over raw TCP: half a handshake, a handshake that
//! never finishes, a record of garbage, a 16 KiB ClientHello, plain HTTP after a TLS record
//! header. Each closes without an HTTP answer and is counted by reason.

mod support;

use axon::auth::Caller;
use axon::endpoint::{Declaration, Endpoint};
use axon::keys::Keypair;
use axon::tls::{TlsConfig, TlsErrorKind, TlsKey};
use axon::{Axon, Limits, Problem};
use axum::body::Bytes;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::services::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The endpoint every client calls: the verified caller, the client's address, the body.
fn echo() -> Endpoint {
    let declaration = Declaration::parse("POST", "/v1/echo").unwrap();
    Endpoint::new(declaration, |caller: Caller, body: Bytes| async move {
        axum::Json(json!({
            "hotkey": caller.hotkey,
            "ip": caller.ip.map(|ip| ip.to_string()),
            "body": String::from_utf8_lossy(&body),
        }))
    })
}

fn alice() -> Keypair {
    Keypair::from_uri("//Alice").unwrap()
}

/// An axon of Alice's serving `echo` and the ping, TLS from `tls` beside plain HTTP, its
/// first head due within `first_head`, and an operations listener.
async fn serve(tls: Option<TlsConfig>, first_head: Duration, proxy: Option<&str>) -> Axon {
    let mut limits = Limits::default();
    limits.first_head_timeout = first_head;
    serve_within(tls, limits, proxy).await
}

/// [`serve`] within `limits`.
async fn serve_within(tls: Option<TlsConfig>, limits: Limits, proxy: Option<&str>) -> Axon {
    let mut axon = Axon::new()
        .hotkey(alice())
        .endpoint(echo())
        .limits(limits)
        .ip("127.0.0.1")
        .port(0)
        .operations("127.0.0.1:0".parse().unwrap());
    if let Some(tls) = tls {
        axon = axon.tls(tls);
    }
    if let Some(proxy) = proxy {
        axon = axon.trusted_proxies([proxy]);
    }
    axon.start().await.unwrap();
    axon
}

/// A counter's value on the operations listener's `/metrics`.
async fn counter(axon: &Axon, line: &str) -> u64 {
    let (_, metrics) = support::http::get(axon.operations_addr().unwrap(), "/metrics").await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{line} not in\n{metrics}"))
}

/// Installs curl and openssl from Debian's packages when missing (a fresh machine may have
/// neither).
fn tools() {
    static DONE: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done || (Path::new("/usr/bin/curl").exists() && Path::new("/usr/bin/openssl").exists()) {
        *done = true;
        return;
    }
    for args in [
        &["update", "-q"][..],
        &[
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "curl",
            "openssl",
        ],
    ] {
        support::run(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get",
        );
    }
    *done = true;
}

/// The first flight of a TLS client: one record holding its ClientHello (the key the
/// client pins plays no part in it).
fn client_hello() -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("axon").unwrap();
    let config = TlsKey::Ed25519([0; 32]).client_config();
    let mut conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

/// Everything the server sends until it closes the connection (60 s at most).
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await
        .expect("the server closed the connection within 60 s");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_plain_http_share_the_port_for_real_clients() {
    tools();
    let dir = TempDir::new("tls-clients");
    let tls = TlsConfig::generate_in(&dir.0).unwrap();
    assert!(matches!(tls.public_key(), TlsKey::Ed25519(_)));
    let mut axon = serve(Some(tls), Duration::from_secs(5), None).await;
    let addr = axon.local_addr().unwrap();
    let cert = dir.0.join("cert.pem");
    let hotkey = alice().ss58().to_owned();

    // bittensor 11 over TLS (Python's ssl, trusting only this certificate, checking its name).
    let python = support::python_11();
    let port = addr.port().to_string();
    let out = support::result_line(&support::run_script(
        &python,
        "https_btauth.py",
        &[&port, &hotkey, cert.to_str().unwrap(), "axon"],
    ));
    assert_eq!(out["status"], 200, "{out}");
    assert_eq!(out["version"], "TLSv1.3", "{out}");
    assert_eq!(out["peer_certificate_matches"], true, "{out}");
    let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"hotkey": Keypair::from_uri("//Bob").unwrap().ss58(), "ip": "127.0.0.1",
               "body": r#"{"text": "over tls"}"#})
    );

    // The real 10.5.0 Dendrite, plain HTTP, the same port.
    let ping = support::result_line(&support::run_script(
        &support::python(),
        "ping.py",
        &[&port, &hotkey],
    ));
    assert_eq!(ping["status_code"], 200, "{ping}");

    // curl over TLS (an unsigned request: refused by the endpoint, answered over TLS), and
    // over plain HTTP on the same port.
    let curl = |url: String| {
        let out = Command::new("curl")
            .args(["-sS", "--cacert", cert.to_str().unwrap()])
            .args(["--resolve", &format!("axon:{port}:127.0.0.1")])
            .args(["-o", "/dev/null", "-w", "%{http_code} %{scheme}"])
            .args(["-X", "POST", "--data", "{}", &url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(curl(format!("https://axon:{port}/v1/echo")), "401 HTTPS");
    assert_eq!(curl(format!("http://axon:{port}/v1/echo")), "401 HTTP");

    // openssl s_client: the handshake, and the certificate it was shown.
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-servername",
            "axon",
        ])
        .args(["-CAfile", cert.to_str().unwrap(), "-verify_return_error"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    assert!(text.contains("TLSv1.3"), "{text}");

    assert_eq!(
        counter(&axon, "axon_connections_total{transport=\"tls\"}").await,
        3
    );
    assert!(counter(&axon, "axon_connections_total{transport=\"plain\"}").await >= 2);
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_header_comes_first_then_tls() {
    let dir = TempDir::new("tls-proxy");
    let tls = TlsConfig::generate_in(&dir.0).unwrap();
    let key = tls.public_key().clone();
    let mut axon = serve(Some(tls), Duration::from_secs(5), Some("127.0.0.1")).await;
    let addr = axon.local_addr().unwrap();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 8091\r\n")
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("axon").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(key.client_config())
        .connect(name, tcp)
        .await
        .unwrap();
    let bob = Keypair::from_uri("//Bob").unwrap();
    let headers =
        axon::auth::btauth::sign(&bob, "POST", "/v1/echo", b"{}", Some(alice().ss58()), None);
    let mut request =
        "POST /v1/echo HTTP/1.1\r\nhost: axon\r\nconnection: close\r\ncontent-length: 2\r\n"
            .to_owned();
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n{}");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), tls.read_to_string(&mut answer))
        .await
        .unwrap()
        .ok();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""ip":"203.0.113.9""#), "{answer}");
    axon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_handshakes_close_without_an_http_answer() {
    let dir = TempDir::new("tls-hostile");
    let tls = TlsConfig::generate_in(&dir.0).unwrap();
    // A short first-head timeout: the stalled cases end sooner (the test waits for the
    // close, never for a time).
    let mut axon = serve(Some(tls), Duration::from_millis(500), None).await;
    let addr = axon.local_addr().unwrap();
    let hello = client_hello();
    assert_eq!(hello[0], 0x16);

    // Half a handshake: the record header and part of the ClientHello, then silence.
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(&hello[..hello.len() / 2]).await.unwrap();
    let got = until_closed(&mut half).await;
    assert!(got.is_empty(), "{got:?}");

    // A whole ClientHello, then nothing: the server answers it (a TLS record, not HTTP)
    // and closes when the handshake is not finished in time.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(&hello).await.unwrap();
    let got = until_closed(&mut stalled).await;
    assert_eq!(got.first(), Some(&0x16), "a ServerHello record");

    // A record of garbage: refused at once (at most a TLS alert, never HTTP).
    let mut garbage = TcpStream::connect(addr).await.unwrap();
    let mut record = vec![0x16, 0x03, 0x01, 0x00, 0x20];
    record.extend_from_slice(&[0xa5; 32]);
    garbage.write_all(&record).await.unwrap();
    let got = until_closed(&mut garbage).await;
    assert!(!got.starts_with(b"HTTP/"), "{got:?}");

    // Plain HTTP after a TLS record header (whose length is the request's).
    let mut mixed = TcpStream::connect(addr).await.unwrap();
    let plain = b"GET / HTTP/1.1\r\nhost: axon\r\n\r\n";
    let mut record = vec![0x16, 0x03, 0x01, 0x00, plain.len() as u8];
    record.extend_from_slice(plain);
    mixed.write_all(&record).await.unwrap();
    let got = until_closed(&mut mixed).await;
    assert!(!got.starts_with(b"HTTP/"), "{got:?}");

    // A 16 KiB ClientHello (a padding extension), across two records: answered as any
    // other, within rustls' bound on a handshake message.
    let mut big = TcpStream::connect(addr).await.unwrap();
    big.write_all(&padded(&hello, 16 * 1024)).await.unwrap();
    let got = until_closed(&mut big).await;
    assert_eq!(got.first(), Some(&0x16), "a ServerHello record: {got:?}");

    // Still serving: a plain request is answered.
    let (status, _) = support::http::get(addr, "/nothing").await;
    assert_eq!(status, 404);
    assert_eq!(
        counter(
            &axon,
            "axon_tls_handshake_failures_total{reason=\"timeout\"}"
        )
        .await,
        3
    );
    assert_eq!(
        counter(
            &axon,
            "axon_tls_handshake_failures_total{reason=\"rejected\"}"
        )
        .await,
        2
    );
    assert_eq!(
        counter(&axon, "axon_connections_total{transport=\"tls\"}").await,
        0
    );
    axon.stop().await;
}

/// A TLS connection from the loopback address `from` to the server holding `key`, its
/// handshake done.
async fn tls_from(
    from: [u8; 4],
    addr: std::net::SocketAddr,
    key: &TlsKey,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = support::http::connect_from(from, addr).await;
    let name = rustls::pki_types::ServerName::try_from("axon").unwrap();
    tokio_rustls::TlsConnector::from(key.client_config())
        .connect(name, tcp)
        .await
        .expect("the handshake completes")
}

/// Asks for a missing page on a kept-alive connection: the axon's 404, read whole.
async fn not_found<C: AsyncReadExt + AsyncWriteExt + Unpin>(c: &mut C) {
    c.write_all(b"GET /nothing HTTP/1.1\r\nhost: axon\r\n\r\n")
        .await
        .unwrap();
    let answer = support::http::read_kept_answer(c).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}

/// Whether the server closed `c` (an end of stream or a reset, no byte) within 60 s.
async fn closed_by_server<C: AsyncReadExt + Unpin>(c: &mut C) -> bool {
    let mut rest = Vec::new();
    match tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut rest)).await {
        Ok(_) => rest.is_empty(),
        Err(_) => false,
    }
}

/// The connection limits hold over TLS. A connection counts from its accept, mid-handshake
/// too: against its address's share (a further one is closed before any handshake) and the
/// cap. At the cap a new connection closes the one idle the longest, a stalled handshake
/// first and then a served TLS connection, while a newer TLS connection keeps being served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits_hold_over_tls() {
    let dir = TempDir::new("tls-limits");
    let tls = TlsConfig::generate_in(&dir.0).unwrap();
    let key = tls.public_key().clone();
    let mut limits = Limits::default();
    limits.max_connections = 3;
    limits.max_connections_per_address = 2;
    // Long enough that only the limits close the stalled handshakes.
    limits.first_head_timeout = Duration::from_secs(120);
    let mut axon = serve_within(Some(tls), limits, None).await;
    let addr = axon.local_addr().unwrap();
    let hello = client_hello();
    let closed = |reason: &str| format!("axon_connections_closed_total{{reason=\"{reason}\"}}");

    // Two handshakes from 127.0.0.5 left half done take that address's share. (The accept
    // loop admits connections in the order they were made.)
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut c = support::http::connect_from([127, 0, 0, 5], addr).await;
        c.write_all(&hello[..hello.len() / 2]).await.unwrap();
        stalled.push(c);
    }
    let mut third = support::http::connect_from([127, 0, 0, 5], addr).await;
    let _ = third.write_all(&hello).await;
    assert!(
        closed_by_server(&mut third).await,
        "no ServerHello for a third"
    );
    assert_eq!(counter(&axon, &closed("per_address")).await, 1);

    // A TLS caller from 127.0.0.1 fills the cap (3) and is served.
    let mut first = tls_from([127, 0, 0, 1], addr, &key).await;
    not_found(&mut first).await;
    // Two more callers: each closes the connection idle the longest, a stalled handshake.
    let mut second = tls_from([127, 0, 0, 2], addr, &key).await;
    not_found(&mut second).await;
    assert!(closed_by_server(&mut stalled[0]).await);
    let mut third = tls_from([127, 0, 0, 3], addr, &key).await;
    not_found(&mut third).await;
    assert!(closed_by_server(&mut stalled[1]).await);
    // One more: now the first TLS caller has been idle the longest, and is closed.
    let mut fourth = support::http::connect_from([127, 0, 0, 4], addr).await;
    not_found(&mut fourth).await;
    assert!(closed_by_server(&mut first).await);
    assert_eq!(counter(&axon, &closed("evicted")).await, 3);
    // The newer TLS connections are still open and served.
    not_found(&mut second).await;
    not_found(&mut third).await;
    assert_eq!(
        counter(&axon, "axon_connections_total{transport=\"tls\"}").await,
        3
    );
    assert_eq!(
        counter(
            &axon,
            "axon_tls_handshake_failures_total{reason=\"timeout\"}"
        )
        .await,
        0
    );
    drop((second, third, fourth));
    axon.stop().await;
}

/// Whether a TLS handshake from the loopback address `from` with the server holding `key`
/// completes (60 s at most).
async fn handshake_from(from: [u8; 4], addr: std::net::SocketAddr, key: &TlsKey) -> bool {
    let tcp = support::http::connect_from(from, addr).await;
    let name = rustls::pki_types::ServerName::try_from("axon").unwrap();
    let connecting = tokio_rustls::TlsConnector::from(key.client_config()).connect(name, tcp);
    tokio::time::timeout(Duration::from_secs(60), connecting)
        .await
        .expect("the handshake ends within 60 s")
        .is_ok()
}

/// One address's handshakes are held to its budget (`tls_handshakes_per_address` a second
/// after a burst of its connection share): beyond it a new TLS connection is closed before
/// the handshake, counted by reason, while the same address's plain HTTP and another
/// address's TLS are served. (The budget refills while the test runs, so the bound counts
/// the seconds it took.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_flood_from_one_address_is_held_to_its_budget() {
    let dir = TempDir::new("tls-budget");
    let tls = TlsConfig::generate_in(&dir.0).unwrap();
    let key = tls.public_key().clone();
    let mut limits = Limits::default();
    limits.max_connections_per_address = 3;
    limits.tls_handshakes_per_address = 1;
    let mut axon = serve_within(Some(tls), limits, None).await;
    let addr = axon.local_addr().unwrap();

    let started = std::time::Instant::now();
    let attempts = 50;
    let mut completed = 0;
    for _ in 0..attempts {
        completed += usize::from(handshake_from([127, 0, 0, 6], addr, &key).await);
    }
    let seconds = started.elapsed().as_secs_f64().ceil() as usize;
    // The burst (3), and at most one more for each second the attempts took.
    assert!(completed >= 3, "{completed}");
    assert!(completed <= 3 + seconds, "{completed} in {seconds} s");
    let refused = (attempts - completed) as u64;
    let closed = |reason: &str| format!("axon_connections_closed_total{{reason=\"{reason}\"}}");
    let over_budget = counter(&axon, &closed("tls_handshakes_per_address")).await;
    assert!(over_budget > 0);
    // (A connection the client closed may still be open at the server when the next one
    // comes: then the address's share refuses that one first.)
    let over_share = counter(&axon, &closed("per_address")).await;
    assert_eq!(over_budget + over_share, refused);
    // No handshake was begun for them: none failed, and only the admitted were served.
    for reason in ["timeout", "closed", "rejected"] {
        let line = format!("axon_tls_handshake_failures_total{{reason=\"{reason}\"}}");
        assert_eq!(counter(&axon, &line).await, 0, "{reason}");
    }
    assert_eq!(
        counter(&axon, "axon_connections_total{transport=\"tls\"}").await,
        completed as u64
    );
    // The same address's plain HTTP is served, and another address's TLS.
    let mut plain = support::http::connect_from([127, 0, 0, 6], addr).await;
    not_found(&mut plain).await;
    let mut other = tls_from([127, 0, 0, 7], addr, &key).await;
    not_found(&mut other).await;
    axon.stop().await;
}

/// The overall handshake budget (`tls_handshakes_per_second`, a burst of one second's
/// worth) holds across addresses: beyond it a new TLS connection from any address is closed
/// before its handshake and counted, while plain HTTP is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overall_handshake_budget_holds_across_addresses() {
    let dir = TempDir::new("tls-overall");
    let tls = TlsConfig::generate_in(&dir.0).unwrap();
    let key = tls.public_key().clone();
    let mut limits = Limits::default();
    limits.tls_handshakes_per_second = 2;
    let mut axon = serve_within(Some(tls), limits, None).await;
    let addr = axon.local_addr().unwrap();

    let started = std::time::Instant::now();
    let attempts = 40;
    let mut completed = 0;
    for n in 0..attempts {
        completed += usize::from(handshake_from([127, 0, 1, 1 + n as u8], addr, &key).await);
    }
    let seconds = started.elapsed().as_secs_f64().ceil() as usize;
    // The burst (2), and at most two more for each second the attempts took.
    assert!(completed >= 2, "{completed}");
    assert!(completed <= 2 + 2 * seconds, "{completed} in {seconds} s");
    let closed = "axon_connections_closed_total{reason=\"tls_handshakes_per_second\"}";
    assert_eq!(counter(&axon, closed).await, (attempts - completed) as u64);
    assert_eq!(
        counter(&axon, "axon_connections_total{transport=\"tls\"}").await,
        completed as u64
    );
    let mut plain = support::http::connect_from([127, 0, 1, 1], addr).await;
    not_found(&mut plain).await;
    axon.stop().await;
}

/// `hello` (one record holding a ClientHello) with a padding extension making its
/// handshake message `size` bytes, split into records of at most 16 KiB.
fn padded(hello: &[u8], size: usize) -> Vec<u8> {
    let message = &hello[5..];
    assert_eq!(message[0], 1, "a ClientHello");
    let body = &message[4..];
    // version, random, session id, cipher suites, compression methods, then extensions.
    let mut at = 2 + 32;
    at += 1 + usize::from(body[at]);
    at += 2 + usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
    at += 1 + usize::from(body[at]);
    let extensions = &body[at + 2..];
    let pad = size - 4 - at - 2 - extensions.len() - 4;
    let mut new_body = body[..at].to_vec();
    new_body.extend_from_slice(&((extensions.len() + 4 + pad) as u16).to_be_bytes());
    // Padding (type 21) first: TLS 1.3 wants the pre-shared key, if any, last.
    new_body.extend_from_slice(&[0, 21]);
    new_body.extend_from_slice(&(pad as u16).to_be_bytes());
    new_body.extend(std::iter::repeat_n(0u8, pad));
    new_body.extend_from_slice(extensions);
    let mut message = vec![1];
    message.extend_from_slice(&(new_body.len() as u32).to_be_bytes()[1..]);
    message.extend_from_slice(&new_body);
    assert_eq!(message.len(), size);
    let mut out = Vec::new();
    for chunk in message.chunks(16 * 1024) {
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[tokio::test]
async fn settings_and_files_are_checked_at_start() {
    let dir = TempDir::new("tls-settings");
    // A key of another certificate.
    let made = |alg| {
        let pair = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["axon".to_owned()])
            .unwrap()
            .self_signed(&pair)
            .unwrap();
        (cert.pem(), pair.serialize_pem())
    };
    let (cert, _) = made(&rcgen::PKCS_ECDSA_P256_SHA256);
    let (_, other_key) = made(&rcgen::PKCS_ECDSA_P256_SHA256);
    std::fs::write(dir.0.join("cert.pem"), cert).unwrap();
    std::fs::write(dir.0.join("key.pem"), other_key).unwrap();
    let path = |name: &str| dir.0.join(name).to_str().unwrap().to_owned();
    let start = |args: Vec<String>| async move {
        let (config, _) = axon::config::Config::parse(args, |_| None).unwrap();
        Axon::new()
            .config(config.axon)
            .hotkey(alice())
            .ip("127.0.0.1")
            .port(0)
            .start()
            .await
            .map(|_| ())
            .unwrap_err()
    };
    let err = start(vec![
        "--axon.tls_cert".into(),
        path("cert.pem"),
        "--axon.tls_key".into(),
        path("key.pem"),
    ])
    .await;
    let [Problem::Tls { source }] = err.problems() else {
        panic!("{err}")
    };
    assert_eq!(source.kind(), TlsErrorKind::Mismatch);
    assert!(
        err.to_string().contains("the certificate is not the key's"),
        "{err}"
    );
    let err = start(vec!["--axon.tls_cert".into(), path("cert.pem")]).await;
    assert!(
        matches!(err.problems(), [Problem::TlsSettings { .. }]),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("--axon.tls_cert and --axon.tls_key go together"),
        "{err}"
    );

    // --axon.tls_generate with --axon.tls_dir: made once, then the same key each start.
    let generated = dir.0.join("generated");
    let args = || {
        vec![
            "--axon.tls_generate".to_owned(),
            "--axon.tls_dir".to_owned(),
            generated.to_str().unwrap().to_owned(),
        ]
    };
    let serve = |args: Vec<String>| async move {
        let (config, _) = axon::config::Config::parse(args, |_| None).unwrap();
        let mut axon = Axon::new()
            .config(config.axon)
            .hotkey(alice())
            .ip("127.0.0.1")
            .port(0);
        axon.start().await.unwrap();
        axon.stop().await;
    };
    serve(args()).await;
    let first =
        TlsConfig::from_pem_files(generated.join("cert.pem"), generated.join("key.pem")).unwrap();
    serve(args()).await;
    let again =
        TlsConfig::from_pem_files(generated.join("cert.pem"), generated.join("key.pem")).unwrap();
    assert_eq!(first.public_key(), again.public_key());
}

/// An ECDSA P-256 certificate from PEM files (`TlsConfig::from_pem_files`): served, and a
/// `Dendrite` pinning its compressed key calls the axon over TLS; one pinning another key
/// is refused in the handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p256_key_is_served_and_pinned() {
    use axon::dendrite::{Dendrite, TlsMode};
    let dir = TempDir::new("tls-p256");
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["axon".to_owned()])
        .unwrap()
        .self_signed(&pair)
        .unwrap();
    let (cert_path, key_path) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, pair.serialize_pem()).unwrap();
    let tls = TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    let TlsKey::P256(point) = tls.public_key().clone() else {
        panic!("{:?}", tls.public_key())
    };
    let mut axon = serve(Some(tls.clone()), Duration::from_secs(5), None).await;
    let info = axon.info().unwrap();

    let pinned = tls.public_key().clone();
    let dendrite = Dendrite::new(Keypair::from_uri("//Bob").unwrap())
        .tls(move |_| Some(pinned.clone()), TlsMode::Require);
    let pong = dendrite
        .call(&info, axon::BaseSynapse::default(), Duration::from_secs(10))
        .await;
    assert_eq!(
        pong.dendrite.status_code,
        Some(200),
        "{:?}",
        pong.dendrite.status_message
    );

    let mut other = point;
    other[5] ^= 1;
    let wrong = Dendrite::new(Keypair::from_uri("//Bob").unwrap())
        .tls(move |_| Some(TlsKey::P256(other)), TlsMode::Require);
    let refused = wrong
        .call(&info, axon::BaseSynapse::default(), Duration::from_secs(10))
        .await;
    assert_eq!(refused.dendrite.status_code, Some(503));
    let message = refused.dendrite.status_message.unwrap_or_default();
    assert!(
        message.contains("over TLS: invalid peer certificate"),
        "{message}"
    );

    assert_eq!(
        counter(&axon, "axon_connections_total{transport=\"tls\"}").await,
        1
    );
    assert_eq!(
        counter(
            &axon,
            "axon_tls_handshake_failures_total{reason=\"closed\"}"
        )
        .await
            + counter(
                &axon,
                "axon_tls_handshake_failures_total{reason=\"rejected\"}"
            )
            .await,
        1
    );
    axon.stop().await;
}
