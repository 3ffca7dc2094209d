//! [`Dendrite`]: the client side of the protocol, as Python's `bittensor.Dendrite`. A
//! validator calls miners' axons with it; the tests and the load generator call ours.
//!
//! It signs each request as Python's dendrite does, sends the synapse as headers plus JSON,
//! and reads the answer into the synapse it returns. Failures never raise: like Python's,
//! they come back as `dendrite.status_code` / `status_message` on the returned synapse
//! (503 when the axon cannot be reached, 408 on timeout, 422 for an unreadable answer).

use crate::auth::{btauth, epistula, Scheme};
use crate::keys::Keypair;
use crate::uuid::uuid4;
use crate::wire::{signing, HeaderParts, BITTENSOR_VERSION};
use crate::{AxonInfo, Synapse, TerminalInfo};
use axum::body::Bytes;
use connector::Connector;
use http::{header, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod connector;

/// Python's `bittensor.Dendrite`: calls axons with signed synapses.
///
/// Connections are kept alive and reused per axon. Nonces are strictly increasing per
/// dendrite, and one `Dendrite` may make concurrent calls to one axon of this crate: it
/// accepts each request once inside its window, in whatever order they arrive. A Python
/// axon (bittensor 10.5.0, `tests/concurrent.rs`) refuses a nonce not above the last one
/// it accepted from the same dendrite (`hotkey:uuid`): a call that reaches it after a
/// higher-numbered one is refused there (401 `Nonce is too old, a newer one was last
/// processed`). It verifies one request at a time in arrival order, so this is rare, but
/// to rule it out use one `Dendrite` per concurrent stream of calls to a Python axon.
///
/// ```
/// use axon::{keys::Keypair, dendrite::Dendrite, Axon, BaseSynapse};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut axon = Axon::new().hotkey(Keypair::from_uri("//Alice").unwrap()).ip("127.0.0.1").port(0);
/// axon.start().await.unwrap();
///
/// let dendrite = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
/// let pong = dendrite.call(&axon.info().unwrap(), BaseSynapse::default(), Duration::from_secs(5)).await;
/// assert_eq!(pong.dendrite.status_code, Some(200));
/// assert_eq!(pong.axon.hotkey.as_deref(), Some("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"));
/// # }
/// ```
pub struct Dendrite {
    keypair: Keypair,
    uuid: String,
    ip: Option<String>,
    last_nonce: AtomicI64,
    connector: Connector,
    client: Client<Connector, Full<Bytes>>,
    /// Which axons are called over TLS, and to which key (feature `tls`).
    #[cfg(feature = "tls")]
    tls: Option<TlsUse>,
}

/// The HTTP client of a dendrite: kept-alive connections, no Nagle delay.
fn client(connector: &Connector) -> Client<Connector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(connector.clone())
}

/// Whether a dendrite told to use TLS may call an axon that published no TLS key.
#[cfg(feature = "tls")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsMode {
    /// Over plain HTTP, as without TLS.
    Prefer,
    /// Not at all: the call fails (503) without connecting.
    Require,
}

/// The published TLS key of a hotkey.
#[cfg(feature = "tls")]
type KeyOf = Box<dyn Fn(&str) -> Option<crate::tls::TlsKey> + Send + Sync>;

/// The published TLS key of a hotkey, and the mode.
#[cfg(feature = "tls")]
struct TlsUse {
    keys: KeyOf,
    mode: TlsMode,
}

/// What went wrong before an answer could be read, as Python's dendrite reports it.
struct Failure {
    status: i64,
    message: String,
}

impl Dendrite {
    /// A dendrite signing with `keypair`, under a fresh instance uuid.
    ///
    /// ```
    /// let d = axon::dendrite::Dendrite::new(axon::keys::Keypair::from_uri("//Bob").unwrap());
    /// assert_eq!(d.hotkey(), "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
    /// ```
    pub fn new(keypair: Keypair) -> Self {
        let connector = Connector::new(None);
        Dendrite {
            keypair,
            uuid: uuid4(),
            ip: None,
            last_nonce: AtomicI64::new(0),
            client: client(&connector),
            connector,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Calls every axon whose hotkey has a published TLS key (`keys(hotkey)`, usually the
    /// [`Metagraph`](crate::Metagraph)'s [`tls_key`](crate::Metagraph::tls_key)) over
    /// `https://`, and accepts only a server that proves it holds that key: no CA is
    /// involved, so a self-signed certificate is fine, and a certificate of any other key
    /// fails the handshake (503). Axons without a key are called over plain HTTP with
    /// [`TlsMode::Prefer`], or refused with [`TlsMode::Require`] (feature `tls`).
    ///
    /// ```
    /// use axon::{dendrite::{Dendrite, TlsMode}, keys::Keypair, tls::TlsKey};
    /// let pinned = TlsKey::Ed25519([7; 32]);
    /// let d = Dendrite::new(Keypair::from_uri("//Bob").unwrap())
    ///     .tls(move |hotkey: &str| hotkey.starts_with("5Grw").then(|| pinned.clone()), TlsMode::Prefer);
    /// # let _ = d;
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(
        mut self,
        keys: impl Fn(&str) -> Option<crate::tls::TlsKey> + Send + Sync + 'static,
        mode: TlsMode,
    ) -> Self {
        self.tls = Some(TlsUse {
            keys: Box::new(keys),
            mode,
        });
        self
    }

    /// The scheme and authority to call `target` at (`http://host:port` or, with TLS and a
    /// published key, `https://host:port`, the key expected there recorded).
    fn base(&self, target: &AxonInfo) -> Result<String, String> {
        let host = match target.ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
            _ => target.ip.clone(),
        };
        let authority = format!("{host}:{}", target.port);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            match ((tls.keys)(&target.hotkey), tls.mode) {
                (Some(key), _) => {
                    self.connector.pins.expect(authority.clone(), key);
                    return Ok(format!("https://{authority}"));
                }
                (None, TlsMode::Require) => {
                    return Err(format!(
                        "{} published no TLS key, and this dendrite calls over TLS only",
                        target.hotkey
                    ))
                }
                (None, TlsMode::Prefer) => {}
            }
        }
        Ok(format!("http://{authority}"))
    }

    /// The address this dendrite announces in `bt_header_dendrite_ip` (informational: an
    /// axon reads the caller's address from the connection). Unset by default.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Bob").unwrap();
    /// let d = axon::dendrite::Dendrite::new(k).ip("203.0.113.9");
    /// # let _ = d;
    /// ```
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Opens its connections from the local address `ip` (a host with several addresses;
    /// the axon sees calls come from there). The system's choice by default.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Bob").unwrap();
    /// let d = axon::dendrite::Dendrite::new(k).local_address("127.0.0.2".parse().unwrap());
    /// # let _ = d;
    /// ```
    pub fn local_address(mut self, ip: std::net::IpAddr) -> Self {
        #[cfg(feature = "tls")]
        let pins = self.connector.pins.clone();
        self.connector = Connector::new(Some(ip));
        #[cfg(feature = "tls")]
        {
            self.connector.pins = pins;
        }
        self.client = client(&self.connector);
        self
    }

    /// The dendrite's hotkey.
    pub fn hotkey(&self) -> &str {
        self.keypair.ss58()
    }

    /// The dendrite's instance uuid (`bt_header_dendrite_uuid`).
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Bob").unwrap();
    /// assert_eq!(axon::dendrite::Dendrite::new(k).uuid().len(), 36);
    /// ```
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Takes a fresh instance uuid, as a restarted dendrite has (Python's `dendrite.uuid`
    /// is reassigned the same way). The connections are kept.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Bob").unwrap();
    /// let mut d = axon::dendrite::Dendrite::new(k);
    /// let before = d.uuid().to_owned();
    /// d.renew_uuid();
    /// assert_ne!(d.uuid(), before);
    /// ```
    pub fn renew_uuid(&mut self) {
        self.uuid = uuid4();
    }

    /// A nonce: `time.time_ns()`, strictly above the previous one.
    fn nonce(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let previous = self
            .last_nonce
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
                Some(now.max(last + 1))
            })
            .unwrap_or(now);
        now.max(previous + 1)
    }

    /// Python's `preprocess_synapse_for_request`: sets the timeout, both terminals, and the
    /// signature over `{nonce}.{dendrite hotkey}.{axon hotkey}.{uuid}.{body_hash}`.
    ///
    /// ```
    /// use axon::{dendrite::Dendrite, keys::Keypair, AxonInfo, BaseSynapse};
    /// use std::time::Duration;
    ///
    /// let d = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    /// let target = AxonInfo { version: 0, ip: "127.0.0.1".into(), port: 8091, ip_type: 4,
    ///     hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into(), coldkey: None,
    ///     protocol: 4, placeholder1: 0, placeholder2: 0 };
    /// let s = d.sign(&target, BaseSynapse::default(), Duration::from_secs(12));
    /// assert_eq!(s.timeout, Some(12.0));
    /// assert_eq!(s.dendrite.hotkey.as_deref(), Some(d.hotkey()));
    /// assert!(s.dendrite.signature.unwrap().starts_with("0x"));
    /// ```
    pub fn sign<S: Synapse>(&self, target: &AxonInfo, synapse: S, timeout: Duration) -> S {
        self.sign_hashed(target, synapse, timeout).0
    }

    /// [`sign`](Dendrite::sign), also returning the body hash it signed.
    fn sign_hashed<S: Synapse>(
        &self,
        target: &AxonInfo,
        mut synapse: S,
        timeout: Duration,
    ) -> (S, String) {
        let nonce = self.nonce();
        let hash = synapse.body_hash();
        let c = synapse.common_mut();
        *c.timeout = Some(timeout.as_secs_f64());
        *c.dendrite = TerminalInfo {
            ip: self.ip.clone(),
            version: Some(BITTENSOR_VERSION),
            nonce: Some(nonce),
            uuid: Some(self.uuid.clone()),
            hotkey: Some(self.hotkey().to_owned()),
            ..TerminalInfo::default()
        };
        *c.axon = TerminalInfo {
            ip: Some(target.ip.clone()),
            port: Some(i64::from(target.port)),
            hotkey: Some(target.hotkey.clone()),
            ..TerminalInfo::default()
        };
        let message = signing::request_message(
            nonce,
            self.hotkey(),
            &target.hotkey,
            Some(&self.uuid),
            Some(&hash),
        );
        c.dendrite.signature = Some(self.keypair.sign(message.as_bytes()));
        (synapse, hash)
    }

    /// Python's `dendrite.call`: sends `synapse` to `target` and returns it as answered.
    ///
    /// On 200 the returned synapse is the axon's, with both terminals merged from the
    /// answer's headers; otherwise it is the request with the axon's status and message.
    /// `dendrite.status_code` / `status_message` always say how it went, as in Python:
    /// the axon's status, or 503 `Service unavailable at {ip}:{port}/{name}`, 408
    /// `Request timeout after {timeout} seconds`, 422 `Failed to parse response: ..`.
    pub async fn call<S: Synapse>(&self, target: &AxonInfo, synapse: S, timeout: Duration) -> S {
        let start = Instant::now();
        let (mut synapse, hash) = self.sign_hashed(target, synapse, timeout);
        let outcome = tokio::time::timeout(timeout, self.exchange(target, &synapse, hash)).await;
        match outcome {
            Ok(Ok((status, headers, body))) => {
                synapse = answer(synapse, status, &headers, &body);
                synapse.common_mut().dendrite.process_time = Some(start.elapsed().as_secs_f64());
            }
            Ok(Err(failure)) => failed(&mut synapse, failure),
            Err(_) => failed(&mut synapse, timed_out(timeout)),
        }
        synapse
    }

    /// Python's `dendrite.forward` to several axons: calls them all at once and returns
    /// their answers in the order of `targets`.
    ///
    /// ```
    /// # use axon::{keys::Keypair, dendrite::Dendrite, Axon, BaseSynapse};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let d = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    /// let nobody = axon::AxonInfo { version: 0, ip: "127.0.0.1".into(), port: 1, ip_type: 4,
    ///     hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into(), coldkey: None,
    ///     protocol: 4, placeholder1: 0, placeholder2: 0 };
    /// let answers = d.forward(&[nobody], &BaseSynapse::default(), std::time::Duration::from_secs(2)).await;
    /// assert_eq!(answers[0].dendrite.status_code, Some(503));
    /// assert_eq!(answers[0].dendrite.status_message.as_deref(), Some("Service unavailable at 127.0.0.1:1/Synapse"));
    /// # }
    /// ```
    pub async fn forward<S: Synapse + Clone>(
        &self,
        targets: &[AxonInfo],
        synapse: &S,
        timeout: Duration,
    ) -> Vec<S> {
        let calls = targets
            .iter()
            .map(|target| self.call(target, synapse.clone(), timeout));
        futures_util::future::join_all(calls).await
    }

    /// Python's `dendrite.call_stream`: sends `synapse` to `target` and returns the answer
    /// as it arrives. [`Streamed::chunk`] gives each chunk of the body as the axon sends
    /// it; [`Streamed::finish`] returns the synapse with how it went, as
    /// [`call`](Dendrite::call) does. `timeout` bounds the whole exchange, the last chunk
    /// included.
    ///
    /// The request asks for trailers, so an axon that fails mid-stream says so: the
    /// synapse's status is then the trailers' (a `500`, or a `408` when the axon's deadline
    /// passed). A body cut short is `400 Payload error`, as in Python.
    ///
    /// ```
    /// use axon::{dendrite::Dendrite, keys::Keypair, Axon, BaseSynapse, Streaming};
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut axon = Axon::new()
    ///     .attach(|s: BaseSynapse| Streaming::new(s, |chunks| async move {
    ///         chunks.send("one\n").await?;
    ///         chunks.send("two\n").await
    ///     }))
    ///     .hotkey(Keypair::from_uri("//Alice").unwrap())
    ///     .ip("127.0.0.1")
    ///     .port(0);
    /// axon.start().await.unwrap();
    ///
    /// let dendrite = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    /// let target = axon.info().unwrap();
    /// let mut stream = dendrite.stream(&target, BaseSynapse::default(), Duration::from_secs(5)).await;
    /// assert_eq!(stream.chunk().await.as_deref(), Some(&b"one\n"[..]));
    /// assert_eq!(stream.chunk().await.as_deref(), Some(&b"two\n"[..]));
    /// assert_eq!(stream.chunk().await, None);
    /// let done = stream.finish().await;
    /// assert_eq!(done.dendrite.status_code, Some(200));
    /// assert_eq!(done.axon.status_message.as_deref(), Some("Success"));
    /// # }
    /// ```
    pub async fn stream<S: Synapse>(
        &self,
        target: &AxonInfo,
        synapse: S,
        timeout: Duration,
    ) -> Streamed<S> {
        let start = Instant::now();
        let deadline = tokio::time::Instant::now() + timeout;
        let (mut synapse, hash) = self.sign_hashed(target, synapse, timeout);
        let mut streamed = Streamed {
            synapse: None,
            body: None,
            deadline,
            timeout,
            start,
            failed: false,
        };
        let sent = tokio::time::timeout_at(deadline, self.send(target, &synapse, hash, true));
        match sent.await {
            Ok(Ok(response)) if response.status() == http::StatusCode::OK => {
                let (parts, body) = response.into_parts();
                overlay(&mut synapse, &parts.headers);
                streamed.body = Some(body);
            }
            Ok(Ok(response)) => {
                let (parts, body) = response.into_parts();
                let read = tokio::time::timeout_at(deadline, body.collect()).await;
                match read {
                    Ok(Ok(bytes)) => {
                        let status = parts.status.as_u16();
                        synapse = answer(synapse, status, &parts.headers, &bytes.to_bytes());
                    }
                    Ok(Err(e)) => streamed.fail(&mut synapse, payload_error(e)),
                    Err(_) => streamed.fail(&mut synapse, timed_out(timeout)),
                }
            }
            Ok(Err(failure)) => streamed.fail(&mut synapse, failure),
            Err(_) => streamed.fail(&mut synapse, timed_out(timeout)),
        }
        streamed.synapse = Some(synapse);
        streamed
    }

    /// One POST, its answer read whole.
    async fn exchange<S: Synapse>(
        &self,
        target: &AxonInfo,
        synapse: &S,
        body_hash: String,
    ) -> Result<(u16, http::HeaderMap, Bytes), Failure> {
        let response = self.send(target, synapse, body_hash, false).await?;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.map_err(payload_error)?.to_bytes();
        Ok((parts.status.as_u16(), parts.headers, bytes))
    }

    /// One POST, answered up to its headers; `trailers` asks for the stream's trailers.
    async fn send<S: Synapse>(
        &self,
        target: &AxonInfo,
        synapse: &S,
        body_hash: String,
        trailers: bool,
    ) -> Result<http::Response<hyper::body::Incoming>, Failure> {
        let base = self.base(target).map_err(|message| Failure {
            status: 503,
            message,
        })?;
        let url = format!("{base}/{}", synapse.route());
        let body = synapse.to_json().map_err(|e| Failure {
            status: 422,
            message: format!("Failed to encode the synapse: {e}"),
        })?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(&url)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Failure {
                status: 500,
                message: format!("Client error: {e}"),
            })?;
        let headers = request.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // Never sent without its headers (they carry the signature): a value HTTP cannot carry
        // fails the call as Python's dendrite fails it (aiohttp refuses to write it).
        let synapse_headers = synapse
            .to_headers_with_hash(body_hash)
            .to_header_map()
            .map_err(|e| Failure {
                status: 422,
                message: format!("Failed to parse response: {e}"),
            })?;
        headers.extend(synapse_headers);
        if trailers {
            headers.insert(header::TE, HeaderValue::from_static("trailers"));
        }
        let tls = url.starts_with("https:");
        self.client.request(request).await.map_err(|e| {
            if e.is_connect() {
                let mut message = format!(
                    "Service unavailable at {}:{}/{}",
                    target.ip,
                    target.port,
                    synapse.route()
                );
                // Python's message for a refused connection; over TLS, the handshake's cause
                // too (a key other than the one published, say).
                if tls {
                    message.push_str(&format!(" over TLS: {}", innermost(&e)));
                }
                Failure {
                    status: 503,
                    message,
                }
            } else {
                Failure {
                    status: 503,
                    message: format!("Service disconnected: {e}"),
                }
            }
        })
    }
}

/// The deepest cause of `e`.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A signed-HTTP request's answer: see [`Dendrite::send_signed`].
#[derive(Clone, Debug)]
pub struct SignedAnswer {
    /// The status.
    pub status: http::StatusCode,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// Why a signed-HTTP request got no answer.
#[derive(Debug)]
pub struct SendError {
    message: String,
    connect: bool,
    timeout: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SendError {
    fn new(message: String) -> Self {
        SendError {
            message,
            connect: false,
            timeout: false,
            source: None,
        }
    }

    fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether the answer did not come within the timeout.
    pub fn is_timeout(&self) -> bool {
        self.timeout
    }

    /// Whether no connection could be made (the request was never sent: safe to retry).
    pub fn is_connect(&self) -> bool {
        self.connect
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The client's error (hyper's, http's), when there is one.
impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Dendrite {
    /// A request to `target`'s signed-HTTP endpoint `method path` (the query included, as
    /// it is signed) with `body`, signed with `scheme` by this dendrite's hotkey and bound
    /// to the target's hotkey: the `X-Bittensor-*` headers of bittensor 11's
    /// `http_auth.sign`, or Epistula's. A JSON content type is set when there is a body. An
    /// error when the method or path cannot be sent over HTTP.
    ///
    /// ```
    /// use axon::auth::Scheme;
    /// use axon::dendrite::Dendrite;
    /// use axon::keys::Keypair;
    ///
    /// let bob = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
    /// let target = axon::AxonInfo {
    ///     version: 10_005_000, ip: "127.0.0.1".into(), port: 8091, ip_type: 4,
    ///     hotkey: Keypair::from_uri("//Alice").unwrap().ss58().into(), coldkey: None,
    ///     protocol: 4, placeholder1: 0, placeholder2: 0,
    /// };
    /// let body = br#"{"text":"hi"}"#.to_vec();
    /// let request = bob.signed_request(Scheme::Epistula, "POST", &target, "/echo", body).unwrap();
    /// assert_eq!(request.uri(), "http://127.0.0.1:8091/echo");
    /// assert_eq!(request.headers()["epistula-signed-by"], bob.hotkey());
    /// ```
    pub fn signed_request(
        &self,
        scheme: Scheme,
        method: &str,
        target: &AxonInfo,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Request<Full<Bytes>>, SendError> {
        let receiver = (!target.hotkey.is_empty()).then_some(target.hotkey.as_str());
        let headers = match scheme {
            Scheme::Btauth => btauth::sign(&self.keypair, method, path, &body, receiver, None),
            Scheme::Epistula => epistula::sign(&self.keypair, &body, receiver, None, None)
                .map_err(|e| SendError::new(e.to_string()).caused_by(e))?,
        };
        let base = self.base(target).map_err(SendError::new)?;
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{base}{path}"));
        if !body.is_empty() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.body(Full::new(Bytes::from(body))).map_err(|e| {
            SendError::new(format!("{method} {path} cannot be sent: {e}")).caused_by(e)
        })
    }

    /// Sends [`signed_request`](Self::signed_request) and reads the whole answer, waiting
    /// at most `timeout`.
    pub async fn send_signed(
        &self,
        scheme: Scheme,
        method: &str,
        target: &AxonInfo,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<SignedAnswer, SendError> {
        let request = self.signed_request(scheme, method, target, path, body)?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                let message = format!("{method} {path} at {}:{}: {e}", target.ip, target.port);
                SendError {
                    connect: e.is_connect(),
                    ..SendError::new(message).caused_by(e)
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| SendError::new(format!("reading the answer: {e}")).caused_by(e))?
                .to_bytes();
            Ok(SignedAnswer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| SendError {
                timeout: true,
                ..SendError::new(format!("no answer within {}s", timeout.as_secs_f64()))
            })?
    }
}

/// An answer being streamed: see [`Dendrite::stream`].
pub struct Streamed<S> {
    /// `None` only while [`Dendrite::stream`] builds it.
    synapse: Option<S>,
    /// The body still to read; `None` once read, or when the answer was not a stream.
    body: Option<hyper::body::Incoming>,
    deadline: tokio::time::Instant,
    timeout: Duration,
    start: Instant,
    /// Whether the exchange failed on the dendrite's side (its status is then final).
    failed: bool,
}

impl<S: Synapse> Streamed<S> {
    /// The next chunk of the body as the axon sent it, or `None` once the stream has ended
    /// (normally, with an error, or at the timeout: [`finish`](Streamed::finish) says
    /// which). An answer that was not `200` has no chunks.
    pub async fn chunk(&mut self) -> Option<Bytes> {
        loop {
            let body = self.body.as_mut()?;
            let frame = tokio::time::timeout_at(self.deadline, body.frame()).await;
            let synapse = self.synapse.as_mut().expect("built by Dendrite::stream");
            match frame {
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => return Some(data),
                    Err(frame) => {
                        if let Some(trailers) = frame.trailers_ref() {
                            overlay(synapse, trailers);
                        }
                    }
                },
                Ok(None) => self.body = None,
                Ok(Some(Err(e))) => {
                    self.body = None;
                    self.failed = true;
                    failed(synapse, payload_error(e));
                }
                Err(_) => {
                    self.body = None;
                    self.failed = true;
                    failed(synapse, timed_out(self.timeout));
                }
            }
        }
    }

    /// Reads what is left of the stream (discarding it) and returns the synapse: the
    /// request with the axon's terminal from the answer's headers and trailers, and
    /// `dendrite.status_code` / `status_message` saying how it went.
    pub async fn finish(mut self) -> S {
        while self.chunk().await.is_some() {}
        let mut synapse = self.synapse.take().expect("built by Dendrite::stream");
        let c = synapse.common_mut();
        if !self.failed {
            c.dendrite.status_code = c.axon.status_code;
            c.dendrite.status_message.clone_from(&c.axon.status_message);
        }
        c.dendrite.process_time = Some(self.start.elapsed().as_secs_f64());
        synapse
    }

    /// Records a failure of the exchange.
    fn fail(&mut self, synapse: &mut S, failure: Failure) {
        self.failed = true;
        failed(synapse, failure);
    }
}

/// The answer's `bt_header_axon_*` / `bt_header_dendrite_*` headers (or trailers) over
/// the synapse's terminals.
fn overlay<S: Synapse>(synapse: &mut S, headers: &http::HeaderMap) {
    if let Ok(parts) = HeaderParts::from_map(headers) {
        let c = synapse.common_mut();
        c.dendrite.overlay(&parts.dendrite);
        c.axon.overlay(&parts.axon);
    }
}

/// A body that could not be read whole.
fn payload_error(e: impl std::fmt::Display) -> Failure {
    Failure {
        status: 400,
        message: format!("Payload error: {e}"),
    }
}

/// The exchange outlived its timeout.
fn timed_out(timeout: Duration) -> Failure {
    Failure {
        status: 408,
        message: format!("Request timeout after {} seconds", timeout.as_secs_f64()),
    }
}

/// Python's `process_server_response`.
fn answer<S: Synapse>(mut local: S, status: u16, headers: &http::HeaderMap, body: &[u8]) -> S {
    if status == 200 {
        match local.parse_body(body) {
            Ok(server) => local = server,
            Err(e) => {
                failed(
                    &mut local,
                    Failure {
                        status: 422,
                        message: format!("Failed to parse response: {e}"),
                    },
                );
                return local;
            }
        }
    } else {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned));
        let c = local.common_mut();
        c.axon.status_code = Some(i64::from(status));
        c.axon.status_message = message;
    }
    overlay(&mut local, headers);
    let c = local.common_mut();
    c.dendrite.status_code = c.axon.status_code;
    c.dendrite.status_message.clone_from(&c.axon.status_message);
    local
}

/// Python's `process_error_message`: the failure on the dendrite terminal.
fn failed<S: Synapse>(synapse: &mut S, failure: Failure) {
    let c = synapse.common_mut();
    c.dendrite.status_code = Some(failure.status);
    c.dendrite.status_message = Some(failure.message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BaseSynapse;

    #[test]
    fn nonces_strictly_increase() {
        let d = Dendrite::new(Keypair::from_uri("//Bob").unwrap());
        let mut last = 0;
        for _ in 0..1000 {
            let n = d.nonce();
            assert!(n > last);
            last = n;
        }
    }

    #[test]
    fn an_error_answer_keeps_the_request_with_the_axons_status() {
        let mut headers = http::HeaderMap::new();
        headers.insert("bt_header_axon_status_code", "403".parse().unwrap());
        headers.insert("bt_header_axon_nonce", "77".parse().unwrap());
        let mut request = BaseSynapse::default();
        request.dendrite.hotkey = Some("5Me".into());
        let out = answer(
            request,
            403,
            &headers,
            br#"{"message": "Forbidden. Key is blacklisted: no."}"#,
        );
        assert_eq!(out.dendrite.status_code, Some(403));
        assert_eq!(
            out.dendrite.status_message.as_deref(),
            Some("Forbidden. Key is blacklisted: no.")
        );
        assert_eq!(out.axon.nonce, Some(77));
        assert_eq!(out.dendrite.hotkey.as_deref(), Some("5Me"));
        let garbled = answer(
            BaseSynapse::default(),
            200,
            &http::HeaderMap::new(),
            b"<html>",
        );
        assert_eq!(garbled.dendrite.status_code, Some(422));
        assert!(garbled
            .dendrite
            .status_message
            .unwrap()
            .starts_with("Failed to parse response: "));
    }
}
