//! A started axon: [`Serving`], its listeners and what it announces, and the methods of
//! [`Axon`] that read it (Python's `started`, `info()`, `stop()`).

use super::listen::Listening;
use super::start::parse_ip;
use super::Axon;
use crate::pipeline::Shared;
use crate::wire::BITTENSOR_VERSION;
use crate::{AxonInfo, Load};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A serving axon: its listeners, the state its requests share and what it announces. An
/// [`Axon`] holds it from [`start`](Axon::start) to [`stop`](Axon::stop); read it with
/// [`Axon::serving`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut axon = axon::Axon::new()
///     .hotkey(axon::keys::Keypair::from_uri("//Alice").unwrap())
///     .ip("127.0.0.1")
///     .port(0);
/// axon.start().await.unwrap();
/// let serving = axon.serving().unwrap();
/// assert_eq!(serving.info().port, serving.local_addr().port());
/// assert_eq!(serving.load(), axon::Load { running: 0, waiting: 0 });
/// # }
/// ```
pub struct Serving {
    listening: Listening,
    operations: Option<Listening>,
    shared: Arc<Shared>,
    info: AxonInfo,
    /// With TLS on: its key as `serve_axon_tls` publishes it, or why it cannot be.
    #[cfg_attr(not(feature = "chain"), expect(dead_code))]
    tls: Option<Result<Vec<u8>, &'static str>>,
}

impl Serving {
    pub(super) fn new(
        listening: Listening,
        operations: Option<Listening>,
        shared: Arc<Shared>,
        info: AxonInfo,
        tls: Option<Result<Vec<u8>, &'static str>>,
    ) -> Self {
        Serving {
            listening,
            operations,
            shared,
            info,
            tls,
        }
    }

    /// With TLS on: its key as `serve_axon_tls` publishes it (the algorithm byte, then the
    /// key), or why it cannot be published.
    #[cfg(feature = "chain")]
    pub(super) fn tls(&self) -> Option<Result<Vec<u8>, &'static str>> {
        self.tls.clone()
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.listening.local_addr()
    }

    /// Where its operations listener listens, when it has one.
    pub fn operations_addr(&self) -> Option<SocketAddr> {
        self.operations.as_ref().map(Listening::local_addr)
    }

    /// How many requests are being served and how many wait for a worker.
    pub fn load(&self) -> Load {
        self.shared.admission.load()
    }

    /// What it announces to the network (Python's `info()`).
    pub fn info(&self) -> &AxonInfo {
        &self.info
    }

    /// The synapses it serves, the built-in `Synapse` first.
    pub fn synapses(&self) -> Vec<&'static str> {
        self.shared.handlers.synapses().collect()
    }

    /// Stops it gracefully (see [`Axon::stop`]).
    async fn stop(self) {
        self.shared.metrics.set_draining();
        tracing::info!("axon draining");
        self.listening.stop().await;
        if let Some(operations) = self.operations {
            operations.stop().await;
        }
        tracing::info!("axon stopped");
    }

    /// Stops accepting at once, without waiting for the requests in flight.
    fn stop_now(self) {
        self.listening.stop_now();
        if let Some(operations) = self.operations {
            operations.stop_now();
        }
    }
}

/// The chain record of an axon serving `hotkey` at `ip:port`.
pub(super) fn axon_info(
    hotkey: String,
    coldkey: Option<String>,
    ip: IpAddr,
    port: u16,
) -> AxonInfo {
    AxonInfo {
        version: BITTENSOR_VERSION,
        ip: ip.to_string(),
        port,
        ip_type: if ip.is_ipv4() { 4 } else { 6 },
        hotkey,
        coldkey,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    }
}

/// The running server, as Python's `Axon` reads it.
impl Axon {
    /// Stops serving, gracefully: the socket closes at once (new connections are
    /// refused), every request already received is served and answered, idle
    /// connections are closed, and it returns once every connection is closed.
    /// Stopping a stopped axon does nothing.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut axon = axon::Axon::new().hotkey(axon::keys::Keypair::from_uri("//Alice").unwrap()).ip("127.0.0.1").port(0);
    /// axon.start().await.unwrap();
    /// let addr = axon.local_addr().unwrap();
    /// axon.stop().await;
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # }
    /// ```
    pub async fn stop(&mut self) -> &mut Self {
        if let Some(serving) = self.serving.take() {
            serving.stop().await;
        }
        self
    }

    /// Whether the axon is serving (Python's `started`).
    ///
    /// ```
    /// assert!(!axon::Axon::new().started());
    /// ```
    pub fn started(&self) -> bool {
        self.serving.is_some()
    }

    /// The running server, once started.
    ///
    /// ```
    /// assert!(axon::Axon::new().serving().is_none());
    /// ```
    pub fn serving(&self) -> Option<&Serving> {
        self.serving.as_ref()
    }

    /// How many requests are being served and how many wait for a worker, once started.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut axon = axon::Axon::new().hotkey(axon::keys::Keypair::from_uri("//Alice").unwrap()).ip("127.0.0.1").port(0);
    /// assert_eq!(axon.load(), None);
    /// axon.start().await.unwrap();
    /// assert_eq!(axon.load(), Some(axon::Load { running: 0, waiting: 0 }));
    /// # }
    /// ```
    pub fn load(&self) -> Option<Load> {
        self.serving.as_ref().map(Serving::load)
    }

    /// Where the operations listener listens, once started with
    /// [`operations`](Axon::operations).
    ///
    /// ```
    /// assert_eq!(axon::Axon::new().operations_addr(), None);
    /// ```
    pub fn operations_addr(&self) -> Option<SocketAddr> {
        self.serving.as_ref()?.operations_addr()
    }

    /// Where the axon listens, once started.
    ///
    /// ```
    /// assert_eq!(axon::Axon::new().local_addr(), None);
    /// ```
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.serving.as_ref().map(Serving::local_addr)
    }

    /// What the axon announces to the network (Python's `info()`): the external IP and
    /// port, the hotkey and coldkey. `None` until both a hotkey and the external IP are
    /// known: the IP is the configured one, the loopback address an axon bound to
    /// loopback serves on, or the one [`start`](Axon::start) discovered.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Alice").unwrap();
    /// let info = axon::Axon::new().hotkey(k).external_ip("203.0.113.7").info().unwrap();
    /// assert_eq!((info.version, info.port, info.ip_type, info.protocol), (10_005_000, 8091, 4, 4));
    /// assert_eq!(info.hotkey, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    /// ```
    pub fn info(&self) -> Option<AxonInfo> {
        if let Some(serving) = &self.serving {
            return Some(serving.info().clone());
        }
        let hotkey = self.hotkey_given()?;
        let settings = self.settings();
        let ip = match &settings.external_ip {
            Some(ip) => parse_ip(ip)?,
            None => parse_ip(&settings.ip).filter(IpAddr::is_loopback)?,
        };
        let port = settings.external_port.unwrap_or(settings.port);
        let coldkey = self.serving_coldkey().ok().flatten();
        Some(axon_info(hotkey.ss58().to_owned(), coldkey, ip, port))
    }
}

impl Drop for Axon {
    /// An axon dropped while serving stops accepting at once (Python's `__del__` stops it);
    /// requests in flight still finish. Call [`stop`](Axon::stop) to wait for them.
    fn drop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.stop_now();
        }
    }
}
