//! How a dendrite connects: plain TCP, or (feature `tls`) TLS whose server key must be the
//! one the axon's hotkey published on chain. No CA is consulted: the key pinned is the
//! chain's, so a self-signed certificate is fine and a certificate of any other key fails
//! the handshake.

use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connector of a dendrite's HTTP client.
#[derive(Clone)]
pub(super) struct Connector {
    http: HttpConnector,
    #[cfg(feature = "tls")]
    pub(super) pins: std::sync::Arc<pinned::Pins>,
}

impl Connector {
    pub(super) fn new(local: Option<std::net::IpAddr>) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_local_address(local);
        // `https://` URIs are ours to wrap in TLS.
        http.enforce_http(false);
        Connector {
            http,
            #[cfg(feature = "tls")]
            pins: Default::default(),
        }
    }
}

/// A connection: plain, or TLS to a pinned key.
pub(super) enum Stream {
    Plain(TokioIo<TcpStream>),
    #[cfg(feature = "tls")]
    Tls(Box<TokioIo<tokio_rustls::client::TlsStream<TcpStream>>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Stream::Plain(s) => s.connected(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.inner().get_ref().0.connected(),
        }
    }
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl tower::Service<http::Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        #[cfg(feature = "tls")]
        if uri.scheme_str() == Some("https") {
            let pins = self.pins.clone();
            let connecting = self.http.call(uri.clone());
            return Box::pin(async move {
                let tcp = connecting.await?.into_inner();
                pins.connect(&uri, tcp)
                    .await
                    .map(|tls| Stream::Tls(Box::new(tls)))
            });
        }
        let connecting = self.http.call(uri);
        Box::pin(async move { Ok(Stream::Plain(connecting.await?)) })
    }
}

#[cfg(feature = "tls")]
pub(super) mod pinned {
    //! TLS to the key a hotkey published.

    use super::BoxError;
    use crate::tls::TlsKey;
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::ServerName;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use tokio::net::TcpStream;

    /// The key expected at each `host:port` a dendrite calls over TLS, set before each call
    /// from the target's hotkey.
    #[derive(Default)]
    pub(in crate::dendrite) struct Pins {
        expected: Mutex<HashMap<String, TlsKey>>,
    }

    impl Pins {
        /// Expects `key` from the server at `authority` (`host:port`).
        pub(in crate::dendrite) fn expect(&self, authority: String, key: TlsKey) {
            let mut expected = self.expected.lock().unwrap_or_else(|p| p.into_inner());
            // Bounded by the axons called: a validator calls its subnet's, a few hundred.
            expected.insert(authority, key);
        }

        /// A TLS connection on `tcp` to `uri`'s server, whose key must be the one expected.
        pub(super) async fn connect(
            &self,
            uri: &http::Uri,
            tcp: TcpStream,
        ) -> Result<TokioIo<tokio_rustls::client::TlsStream<TcpStream>>, BoxError> {
            let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
            let key = self
                .expected
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(authority)
                .cloned()
                .ok_or_else(|| format!("no TLS key is expected for {authority}"))?;
            let config = key.client_config();
            // The name is not checked (the key is): the host, as an address or a name.
            let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
            let name = match host.parse::<std::net::IpAddr>() {
                Ok(ip) => ServerName::IpAddress(ip.into()),
                Err(_) => ServerName::try_from(host.to_owned())?,
            };
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(TokioIo::new(tls))
        }
    }
}
