//! Behind a reverse proxy: from a trusted proxy, the client named by the PROXY protocol
//! header or `X-Forwarded-For` is `synapse.dendrite.ip` (what the forward and the blacklist
//! see); from anyone else, neither is believed.

mod support;

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{Axon, Blacklist, Limits};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::counting::start_as_alice;
use support::http::{exchange_raw, read_answer, request_bytes, sign, Answer};
use support::Echo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// An axon trusting `proxies` whose Echo answers `{dendrite.ip}:{dendrite.port}`, refusing
/// the client 203.0.113.66; and its forward's call count.
async fn serve(proxies: &[&str]) -> (Axon, SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let axon = Axon::new()
        .attach(move |mut s: Echo| {
            counted.fetch_add(1, Ordering::SeqCst);
            s.out = Some(format!(
                "{}:{}",
                s.dendrite.ip.clone().unwrap_or_default(),
                s.dendrite.port.unwrap_or(-1)
            ));
            s
        })
        .blacklist(|s: &Echo| match s.dendrite.ip.as_deref() {
            Some("203.0.113.66") => Blacklist::Deny("banned address".into()),
            _ => Blacklist::Allow,
        })
        .trusted_proxies(proxies);
    let (axon, addr) = start_as_alice(axon, Limits::default()).await;
    (axon, addr, calls)
}

/// A signed Echo request's bytes, with `extra` headers.
fn echo_request(extra: &[(&str, &str)]) -> Vec<u8> {
    let alice = Keypair::from_uri("//Alice").unwrap().ss58().to_owned();
    let signed = sign(
        Echo::new("hi".into(), 1),
        &Keypair::from_uri("//Bob").unwrap(),
        &alice,
    );
    request_bytes("Echo", &signed, extra)
}

/// Sends `prefix` then the request on one connection and reads the answer.
async fn send(addr: SocketAddr, prefix: &[u8], request: &[u8]) -> Answer {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut bytes = prefix.to_vec();
    bytes.extend_from_slice(request);
    tcp.write_all(&bytes).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), read_answer(&mut tcp))
        .await
        .expect("answered within 10 s")
}

fn out(answer: &Answer) -> &str {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["out"].as_str().unwrap()
}

/// The PROXY v2 header of a TCP6 connection from `[2001:db8::9]:40000`.
fn proxy_v2_tcp6() -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.extend_from_slice(&[0x21, 0x21, 0, 36]);
    let src: std::net::Ipv6Addr = "2001:db8::9".parse().unwrap();
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    h.extend_from_slice(&40000u16.to_be_bytes());
    h.extend_from_slice(&8091u16.to_be_bytes());
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_client() {
    let (_axon, addr, calls) = serve(&["127.0.0.1", "10.0.0.0/8"]).await;

    // X-Forwarded-For: the first hop from the right that is not a trusted proxy.
    let xff = |v: &str| echo_request(&[("x-forwarded-for", v)]);
    let cases = [
        ("203.0.113.7", "203.0.113.7:0"),
        ("1.2.3.4, 203.0.113.7", "203.0.113.7:0"),
        ("203.0.113.7, 10.1.2.3", "203.0.113.7:0"),
        ("2001:db8::7", "2001:db8::7:0"),
    ];
    for (header, client) in cases {
        assert_eq!(
            out(&send(addr, b"", &xff(header)).await),
            client,
            "{header}"
        );
    }
    let direct = send(addr, b"", &echo_request(&[])).await;
    assert!(
        out(&direct).starts_with("127.0.0.1:"),
        "no header: the proxy itself"
    );

    // The PROXY protocol, v1 and v2.
    let v1 = b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 8091\r\n";
    assert_eq!(
        out(&send(addr, v1, &echo_request(&[])).await),
        "203.0.113.9:40000"
    );
    assert_eq!(
        out(&send(addr, &proxy_v2_tcp6(), &echo_request(&[])).await),
        "2001:db8::9:40000"
    );
    // `UNKNOWN`: the proxy's own address stays.
    let unknown = send(addr, b"PROXY UNKNOWN\r\n", &echo_request(&[])).await;
    assert!(out(&unknown).starts_with("127.0.0.1:"));

    // The blacklist sees the real client too.
    let banned = send(addr, b"", &xff("203.0.113.66")).await;
    assert_eq!(banned.status, 403);
    assert_eq!(
        banned.body["message"],
        "Forbidden. Key is blacklisted: banned address."
    );
    let banned = send(
        addr,
        b"PROXY TCP4 203.0.113.66 127.0.0.1 1 2\r\n",
        &echo_request(&[]),
    )
    .await;
    assert_eq!(banned.status, 403);
    assert_eq!(calls.load(Ordering::SeqCst), 8);

    // A malformed header from a trusted proxy: the connection is closed, unanswered.
    let mut bytes = b"PROXY TCP4 203.0.113.9 127.0.0.1 forty 8091\r\n".to_vec();
    bytes.extend_from_slice(&echo_request(&[]));
    let raw = exchange_raw(addr, &bytes).await;
    assert!(raw.is_empty(), "{raw}");
    assert_eq!(calls.load(Ordering::SeqCst), 8, "the forward never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_client_cannot_claim_another_address() {
    // Only 10.0.0.0/8 is trusted: this test's loopback connections are not.
    let (_axon, addr, calls) = serve(&["10.0.0.0/8"]).await;
    let spoofed = send(
        addr,
        b"",
        &echo_request(&[("x-forwarded-for", "203.0.113.7")]),
    )
    .await;
    assert!(
        out(&spoofed).starts_with("127.0.0.1:"),
        "{:?}",
        spoofed.body
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The header alone (a request after it would be unread when the axon closes, and its
    // reset could overtake the answer).
    let text = exchange_raw(addr, b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 8091\r\n").await;
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the forward never ran");
}

/// A one-connection-at-a-time TCP proxy in front of `upstream` that opens each upstream
/// connection with a PROXY v1 header naming `client`, as nginx's `proxy_protocol on;` does.
async fn proxy_protocol_forwarder(upstream: SocketAddr, client: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut inbound, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut outbound = TcpStream::connect(upstream).await.unwrap();
                let header = format!(
                    "PROXY TCP4 {client} 127.0.0.1 51000 {}\r\n",
                    upstream.port()
                );
                outbound.write_all(header.as_bytes()).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dendrite_through_a_proxy_protocol_proxy_is_served_as_its_client() {
    let (axon, addr, _calls) = serve(&["127.0.0.1"]).await;
    let front = proxy_protocol_forwarder(addr, "198.51.100.23").await;
    let mut target = axon.info().unwrap();
    target.port = front.port();
    let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    for i in 0..3 {
        // Kept-alive: the header opens the connection once, every request is the client's.
        let answer = bob
            .call(
                &target,
                Echo::new(format!("{i}"), i),
                Duration::from_secs(5),
            )
            .await;
        assert_eq!(answer.dendrite.status_code, Some(200));
        assert_eq!(answer.out.as_deref(), Some("198.51.100.23:51000"));
        assert_eq!(answer.dendrite.ip.as_deref(), Some("198.51.100.23"));
    }
}

/// A signed-HTTP endpoint answering the caller's address, refusing 203.0.113.66 before
/// its signature is checked.
#[axon::endpoint(POST "/v1/ip", auth = epistula, blacklist = not_66)]
async fn caller_ip(caller: axon::auth::Caller) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "ip": caller.ip.map(|ip| ip.to_string()) }))
}

fn not_66(caller: &axon::auth::Caller) -> Blacklist {
    match caller.ip.map(|ip| ip.to_string()).as_deref() {
        Some("203.0.113.66") => Blacklist::Deny("203.0.113.66 is denied".into()),
        _ => Blacklist::Allow,
    }
}

/// The raw bytes of an Epistula request from Bob to `/v1/ip` of the axon at `addr`, with
/// `X-Forwarded-For: {forwarded}`.
fn signed_ip_request(addr: SocketAddr, forwarded: &str) -> Vec<u8> {
    let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    let target = support::loopback_alice(addr.port());
    let request = bob
        .signed_request(
            axon::auth::Scheme::Epistula,
            "POST",
            &target,
            "/v1/ip",
            b"{}".to_vec(),
        )
        .unwrap();
    let mut raw = format!("POST /v1/ip HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in request.headers() {
        raw.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    raw.push_str(&format!(
        "x-forwarded-for: {forwarded}\r\ncontent-length: 2\r\n\r\n{{}}"
    ));
    raw.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_caller_is_the_client_a_trusted_proxy_names() {
    for (trusted, client) in [(true, "203.0.113.7"), (false, "127.0.0.1")] {
        let mut axon = Axon::from_registry()
            .hotkey(Keypair::from_uri("//Alice").unwrap())
            .ip("127.0.0.1")
            .port(0);
        if trusted {
            axon = axon.trusted_proxies(["127.0.0.1"]);
        }
        axon.start().await.unwrap();
        let addr = axon.local_addr().unwrap();
        let answer = send(addr, b"", &signed_ip_request(addr, "203.0.113.7")).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(answer.body["ip"], client, "trusted: {trusted}");
        let refused = send(addr, b"", &signed_ip_request(addr, "203.0.113.66")).await;
        match trusted {
            true => {
                assert_eq!(refused.status, 403);
                assert_eq!(
                    refused.body["message"],
                    "Forbidden. Key is blacklisted: 203.0.113.66 is denied."
                );
            }
            false => assert_eq!(refused.status, 200, "an untrusted header is not believed"),
        }
        axon.stop().await;
    }
}
