//! Raw HTTP for the server tests: requests signed as a Python dendrite signs them, sent as
//! bytes over TCP, answers parsed by hand.

use axon::dendrite::Dendrite;
use axon::keys::Keypair;
use axon::{AxonInfo, Synapse};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Signs `synapse` from `dendrite` for the axon `axon_hotkey` with the crate's `Dendrite`
/// (checked against Python's by the interop suites), keeping the synapse's `timeout`.
pub fn sign<S: Synapse>(synapse: S, dendrite: &Keypair, axon_hotkey: &str) -> S {
    let timeout = synapse.common().timeout.unwrap_or(12.0);
    let target = AxonInfo {
        version: 10_005_000,
        ip: "127.0.0.1".into(),
        port: 0,
        ip_type: 4,
        hotkey: axon_hotkey.into(),
        coldkey: None,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    };
    Dendrite::new(dendrite.clone()).sign(&target, synapse, Duration::from_secs_f64(timeout))
}

/// The request bytes: the synapse's headers, `extra` headers, and its JSON body.
pub fn request_bytes<S: Synapse>(path: &str, synapse: &S, extra: &[(&str, &str)]) -> Vec<u8> {
    let body = synapse.to_json().unwrap();
    let mut head = format!("POST /{path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    for (n, v) in synapse.to_headers().iter() {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let mut declared_length = false;
    for (n, v) in extra {
        declared_length |= n.eq_ignore_ascii_case("content-length");
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !declared_length {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    if !declared_length {
        bytes.extend_from_slice(&body);
    }
    bytes
}

/// A parsed HTTP response.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `bytes` on a fresh connection and reads the whole answer (`connection: close`).
pub async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    read_answer(&mut stream).await
}

/// Reads one whole answer, until the axon closes the connection (at most 60 s).
pub async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw))
        .await
        .expect("answered and closed within 60 s")
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_owned(), v.to_owned())
        })
        .collect();
    Answer {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// Sends `bytes` on a fresh connection and reads until the axon closes it (at most 10 s):
/// the raw answer, or nothing when it closed without one.
pub async fn exchange_raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    read_rest(&mut stream, Vec::new()).await
}

/// Reads `stream` until it closes (at most 10 s), after the `raw` bytes already read. A
/// reset (the axon closed with request bytes unread) counts as closed.
pub async fn read_rest(stream: &mut TcpStream, mut raw: Vec<u8>) -> String {
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("closed within 10 s");
    if let Err(e) = read {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    }
    String::from_utf8_lossy(&raw).into_owned()
}

/// `GET path` on `addr` (the operations listener): the status and the body.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nhost: ops\r\nconnection: close\r\n\r\n");
    let text = exchange_raw(addr, request.as_bytes()).await;
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (status_of(head), body.to_owned())
}

/// Reads one answer from a kept-alive connection: its head and its declared body (at most
/// 60 s).
pub async fn read_kept_answer<C: AsyncRead + Unpin>(c: &mut C) -> String {
    tokio::time::timeout(Duration::from_secs(60), read_kept(c))
        .await
        .expect("answered within 60 s")
}

async fn read_kept<C: AsyncRead + Unpin>(c: &mut C) -> String {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        c.read_exact(&mut byte).await.unwrap();
        raw.push(byte[0]);
    }
    let head = String::from_utf8(raw).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    c.read_exact(&mut body).await.unwrap();
    head + &String::from_utf8(body).unwrap()
}

/// [`request_bytes`] asking to keep the connection open.
pub fn kept_request_bytes<S: Synapse>(path: &str, synapse: &S) -> Vec<u8> {
    let bytes = String::from_utf8(request_bytes(path, synapse, &[])).unwrap();
    bytes
        .replacen("connection: close", "connection: keep-alive", 1)
        .into_bytes()
}

/// A connection to `addr` from the loopback address `from` (127.0.0.2, ...): the axon sees
/// another client.
pub async fn connect_from(from: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback source address");
    socket.connect(addr).await.unwrap()
}

/// The status of a raw answer.
pub fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}
