//! Discovery of the address the network sees this machine at, as Python's
//! `get_external_ip`: ask public "what is my IP" services over plain HTTP, each with a
//! short timeout, and report every failure if none answers.

use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The services asked, in order (`host[:port]/path`, plain HTTP), as Python asks them.
pub const DEFAULT_SERVICES: &[&str] =
    &["checkip.amazonaws.com/", "api.ipify.org/", "ifconfig.me/ip"];

/// How long each service gets.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Asks each of `services` (`host[:port]/path`) in turn for this machine's external IP;
/// the first valid answer wins. The error lists what every service answered.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use axon::external_ip::discover;
/// use std::time::Duration;
///
/// // Nothing listens on port 1: the error says so, per service.
/// let err = discover(&["127.0.0.1:1/"], Duration::from_secs(1)).await.unwrap_err();
/// assert!(err.starts_with("127.0.0.1:1/: "), "{err}");
/// # }
/// ```
pub async fn discover(services: &[&str], timeout: Duration) -> Result<IpAddr, String> {
    let mut failures = Vec::new();
    for service in services {
        match tokio::time::timeout(timeout, ask(service)).await {
            Ok(Ok(ip)) => return Ok(ip),
            Ok(Err(e)) => failures.push(format!("{service}: {e}")),
            Err(_) => failures.push(format!("{service}: no answer within {timeout:?}")),
        }
    }
    if failures.is_empty() {
        return Err("no discovery service configured".into());
    }
    Err(failures.join("; "))
}

/// One `GET` over HTTP/1.0 to `service`; its body must be one IP address.
async fn ask(service: &str) -> Result<IpAddr, String> {
    let (authority, path) = match service.find('/') {
        Some(i) => service.split_at(i),
        None => (service, "/"),
    };
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = TcpStream::connect(&address)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: axon\r\nAccept: text/plain\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream
        .take(4096)
        .read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or("the answer is not HTTP")?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("answered `{status}`"));
    }
    let text = body.trim();
    text.parse().map_err(|_| {
        format!(
            "answered `{}`, not an IP address",
            text.chars().take(60).collect::<String>()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A one-shot HTTP server answering `response`; returns its `host:port/path`.
    async fn serve_once(response: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"GET /ip HTTP/1.0\r\nHost: 127.0.0.1\r\n"));
            s.write_all(response.as_bytes()).await.unwrap();
        });
        format!("{addr}/ip")
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_first_valid_answer_wins() {
        let bad = serve_once("HTTP/1.1 200 OK\r\n\r\n<html>hello</html>").await;
        let good =
            serve_once("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n203.0.113.7\n").await;
        let ip = discover(&[&bad, &good], Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(ip.to_string(), "203.0.113.7");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn every_failure_is_reported() {
        let teapot = serve_once("HTTP/1.1 418 I'm a teapot\r\n\r\n").await;
        let html = serve_once("HTTP/1.1 200 OK\r\n\r\n<html>hello</html>").await;
        let err = discover(&[&teapot, &html], Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(
            err.contains("answered `HTTP/1.1 418 I'm a teapot`"),
            "{err}"
        );
        assert!(
            err.contains("answered `<html>hello</html>`, not an IP address"),
            "{err}"
        );
        assert_eq!(
            discover(&[], Duration::from_secs(1)).await.unwrap_err(),
            "no discovery service configured"
        );
    }
}
