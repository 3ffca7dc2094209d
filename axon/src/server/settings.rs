//! The serving settings of [`Axon`]: identity, network, limits. Each setting has one value,
//! whatever the order of the calls: a setting given with its own method wins over the same
//! setting from [`config`](Axon::config) or [`wallet`](Axon::wallet), and a method called
//! twice keeps its later value.

use super::external_ip::Discovery;
use super::{Axon, Limits, Problem};
use crate::auth::AuthConfig;
use crate::config::{AxonConfig, WalletConfig};
use crate::keys::{self, KeyError, Keypair};
use crate::net::TrustedProxies;
use crate::replay::ReplayStore;
use std::net::SocketAddr;

/// The network settings given one by one, each winning over [`AxonConfig`]'s.
#[derive(Clone, Debug, Default)]
pub(super) struct Overrides {
    port: Option<u16>,
    ip: Option<String>,
    external_ip: Option<String>,
    external_port: Option<u16>,
    max_workers: Option<usize>,
    max_waiting: Option<usize>,
}

/// What [`Axon::wallet`] loaded.
pub(super) struct Wallet {
    hotkey: Result<Keypair, KeyError>,
    /// `None` when the wallet has no `coldkeypub.txt`.
    coldkey: Option<Result<String, KeyError>>,
}

/// Serving: identity, network settings and limits.
impl Axon {
    /// Serves with `hotkey`: requests must be signed for it, and responses are signed
    /// with it. For local runs, a development key: `Keypair::from_uri("//Alice")`.
    ///
    /// ```
    /// use axon::{keys::Keypair, Axon};
    ///
    /// let axon = Axon::new().hotkey(Keypair::from_uri("//Alice").unwrap());
    /// assert!(axon.to_string().contains("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"));
    /// ```
    pub fn hotkey(mut self, hotkey: Keypair) -> Self {
        self.hotkey = Some(hotkey);
        self
    }

    /// The coldkey address [`info`](Axon::info) reports (a wallet's coldkey, normally read
    /// from its `coldkeypub.txt` by [`wallet`](Axon::wallet)).
    ///
    /// ```
    /// let axon = axon::Axon::new().coldkey("5Cold").external_ip("203.0.113.7");
    /// # let axon = axon.hotkey(axon::keys::Keypair::from_uri("//Alice").unwrap());
    /// assert_eq!(axon.info().unwrap().coldkey.as_deref(), Some("5Cold"));
    /// ```
    pub fn coldkey(mut self, ss58: impl Into<String>) -> Self {
        self.coldkey = Some(ss58.into());
        self
    }

    /// Loads the hotkey of a wallet (Python's `--wallet.*`) and, when the wallet has
    /// one, its public coldkey (`coldkeypub.txt`). A hotkey that cannot be loaded, or a
    /// `coldkeypub.txt` that cannot be read, is reported by [`start`](Axon::start) with the
    /// other problems. A [`hotkey`](Axon::hotkey) or [`coldkey`](Axon::coldkey) given in
    /// code wins over the wallet's, in whatever order they are called.
    ///
    /// ```
    /// let mut wallet = axon::config::WalletConfig::default();
    /// wallet.path = "/nonexistent".into();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let err = axon::Axon::new().wallet(&wallet).start().await.unwrap_err().to_string();
    /// assert!(err.contains("the hotkey could not be loaded: no hotkey file at /nonexistent/default/hotkeys/default"), "{err}");
    /// # });
    /// ```
    pub fn wallet(mut self, wallet: &WalletConfig) -> Self {
        let hotkey = Keypair::from_wallet(&wallet.path, &wallet.name, &wallet.hotkey);
        let coldkeypub = keys::coldkeypub_path(&wallet.path, &wallet.name);
        let coldkey = coldkeypub
            .exists()
            .then(|| keys::coldkeypub(&wallet.path, &wallet.name));
        self.wallet = Some(Wallet { hotkey, coldkey });
        self
    }

    /// The network settings (Python's `config.axon`): port, ip, external ip and port,
    /// max_workers, the shared replay store, the trusted proxies. A setting given with its
    /// own method ([`port`](Axon::port), [`ip`](Axon::ip), ..) wins over `config`'s, in
    /// whatever order they are called.
    ///
    /// ```
    /// let (config, _) = axon::config::Config::parse(["--axon.port=9000".to_string()], |_| None).unwrap();
    /// let axon = axon::Axon::new().config(config.axon);
    /// assert!(axon.to_string().starts_with("Axon([::], 9000, None, stopped, "));
    ///
    /// // A later `config` does not undo an earlier `port`.
    /// let axon = axon::Axon::new().port(9001).config(axon::config::AxonConfig::default());
    /// assert!(axon.to_string().contains(", 9001, "));
    /// ```
    pub fn config(mut self, config: AxonConfig) -> Self {
        self.config = config;
        self
    }

    /// The local port (`--axon.port`, 8091). Port 0 picks a free one; see
    /// [`local_addr`](Axon::local_addr).
    ///
    /// ```
    /// assert!(axon::Axon::new().port(9001).to_string().contains(", 9001, "));
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.overrides.port = Some(port);
        self
    }

    /// The local address (`--axon.ip`, `[::]`: every IPv6 and IPv4 address).
    ///
    /// ```
    /// assert!(axon::Axon::new().ip("127.0.0.1").to_string().starts_with("Axon(127.0.0.1, "));
    /// ```
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.overrides.ip = Some(ip.into());
        self
    }

    /// The address announced to the network (`--axon.external_ip`). Without it,
    /// [`start`](Axon::start) discovers it, unless the axon listens on loopback only.
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Alice").unwrap();
    /// let axon = axon::Axon::new().hotkey(k).external_ip("2001:db8::7");
    /// assert_eq!(axon.info().unwrap().ip_type, 6);
    /// ```
    pub fn external_ip(mut self, ip: impl Into<String>) -> Self {
        self.overrides.external_ip = Some(ip.into());
        self
    }

    /// The port announced to the network (`--axon.external_port`; the local port when
    /// not given).
    ///
    /// ```
    /// # let k = axon::keys::Keypair::from_uri("//Alice").unwrap();
    /// let axon = axon::Axon::new().hotkey(k).external_ip("203.0.113.7").external_port(443);
    /// assert_eq!(axon.info().unwrap().port, 443);
    /// ```
    pub fn external_port(mut self, port: u16) -> Self {
        self.overrides.external_port = Some(port);
        self
    }

    /// How many requests are served at once past verification (`--axon.max_workers`, 10);
    /// the others wait, best priority first.
    ///
    /// ```
    /// let axon = axon::Axon::new().max_workers(64);
    /// # let _ = axon;
    /// ```
    pub fn max_workers(mut self, max_workers: usize) -> Self {
        self.overrides.max_workers = Some(max_workers);
        self
    }

    /// How many requests may wait for a worker (`--priority.maxsize`, 1024); beyond that a
    /// request is refused at once with 503.
    ///
    /// ```
    /// let axon = axon::Axon::new().max_waiting(64);
    /// # let _ = axon;
    /// ```
    pub fn max_waiting(mut self, max_waiting: usize) -> Self {
        self.overrides.max_waiting = Some(max_waiting);
        self
    }

    /// The longest a request may take, whatever `timeout` its synapse states (300 s). A
    /// request is answered 408 when its timeout (12 s if it states none) passes while it
    /// waits for a worker (the forward never runs) or while its forward runs (an `async`
    /// forward is cancelled; a plain `fn` cannot be interrupted, its result is discarded).
    ///
    /// ```
    /// let axon = axon::Axon::new().max_timeout(std::time::Duration::from_secs(60));
    /// # let _ = axon;
    /// ```
    pub fn max_timeout(mut self, max_timeout: std::time::Duration) -> Self {
        self.max_timeout = max_timeout;
        self
    }

    /// The rules of the signed-HTTP endpoints ([`#[axon::endpoint]`](macro@crate::endpoint)):
    /// how old (10 s) and how far ahead (2 s) a request may be, and whether it must be bound
    /// to this axon's hotkey (yes, unless an endpoint declares `unbound`). Their replay
    /// store is the synapses' own.
    ///
    /// ```
    /// use axon::auth::AuthConfig;
    /// let config = AuthConfig { max_age: std::time::Duration::from_secs(15), ..AuthConfig::default() };
    /// let axon = axon::Axon::new().auth(config);
    /// # let _ = axon;
    /// ```
    pub fn auth(mut self, config: AuthConfig) -> Self {
        self.auth = config;
        self
    }

    /// Serves TLS on the axon's port beside plain HTTP, with this certificate: a connection
    /// opening with a TLS handshake is served over TLS, any other as plain HTTP (the Python
    /// Dendrite's `http://`). Wins over `--axon.tls_*` (feature `tls`).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("axon-tls-builder-{}", std::process::id()));
    /// let tls = axon::tls::TlsConfig::generate_in(&dir).unwrap();
    /// let axon = axon::Axon::new().tls(tls);
    /// # let _ = axon;
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// A replay store shared with the other processes serving this hotkey (several axons
    /// behind one address): a request accepted by any of them is refused by all. Each
    /// process still checks its own store first. Without one, `--axon.replay_store`
    /// (`redis://..`) is used if given. See [`replay`](crate::replay).
    ///
    /// ```
    /// let store = axon::replay::ReplayStore::redis("redis://127.0.0.1:6379").unwrap();
    /// let axon = axon::Axon::new().replay_store(store);
    /// # let _ = axon;
    /// ```
    pub fn replay_store(mut self, store: ReplayStore) -> Self {
        self.replay = Some(store);
        self
    }

    /// The limits on requests and connections: body and header sizes, header count, how
    /// long a client may take to send a request's head, open connections. See [`Limits`].
    ///
    /// ```
    /// let mut limits = axon::Limits::default();
    /// limits.max_body = 1024 * 1024;
    /// let axon = axon::Axon::new().limits(limits);
    /// # let _ = axon;
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Serves the operations endpoints on `addr`, a listener of their own (off by default):
    ///
    /// - `GET /metrics`: Prometheus text. Requests by synapse and status, latency
    ///   histograms, refusals by reason, streams in flight and how they ended, busy
    ///   workers, queue depth, replay-store size, open connections.
    /// - `GET /healthz`: `200 serving`, or `503 draining` once [`stop`](Axon::stop) began.
    ///
    /// Keep it on loopback or a private network: validators only need the synapse port.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut axon = axon::Axon::new()
    ///     .hotkey(axon::keys::Keypair::from_uri("//Alice").unwrap())
    ///     .ip("127.0.0.1")
    ///     .port(0)
    ///     .operations("127.0.0.1:0".parse().unwrap());
    /// axon.start().await.unwrap();
    /// let ops = axon.operations_addr().unwrap();
    /// assert_ne!(ops, axon.local_addr().unwrap());
    /// # }
    /// ```
    pub fn operations(mut self, addr: SocketAddr) -> Self {
        self.operations = Some(addr);
        self
    }

    /// How the external address is discovered when neither `--axon.external_ip` nor a
    /// loopback `--axon.ip` gives it: by default bittensor's HTTPS services under the web's
    /// roots (see [`external_ip`](crate::external_ip)); your own services, or a private CA,
    /// here.
    ///
    /// ```
    /// use axon::external_ip::{Discovery, Service};
    ///
    /// let mine = Service::text("https://whoami.example.net/ip").unwrap();
    /// let axon = axon::Axon::new().discovery(Discovery::default().services(vec![mine]));
    /// ```
    pub fn discovery(mut self, discovery: Discovery) -> Self {
        self.discovery = discovery;
        self
    }

    /// The reverse proxies in front of the axon (addresses like `10.0.0.5` or networks like
    /// `10.0.0.0/8`), so `synapse.dendrite.ip` (what blacklists and logs see) is the real
    /// client and not the proxy. None by default: every connection's own address is the
    /// client's.
    ///
    /// From a listed proxy only:
    ///
    /// - a connection may open with a PROXY protocol header (v1 or v2, as nginx's `stream`
    ///   `proxy_protocol on;` or HAProxy's `send-proxy` send); its requests come from the
    ///   client it names;
    /// - a request's `X-Forwarded-For` is read right to left, skipping listed proxies: the
    ///   first address that is not one is the client (port 0, as uvicorn reports it).
    ///
    /// Anyone else's PROXY header is an invalid request (400) and its `X-Forwarded-For` is
    /// ignored, so a client cannot claim another address. An entry that is not an address
    /// or network is reported by [`start`](Axon::start). Given here, they replace the
    /// config's `--axon.trusted_proxy` list.
    ///
    /// ```
    /// let axon = axon::Axon::new().trusted_proxies(["127.0.0.1", "10.0.0.0/8"]);
    /// # let _ = axon;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let err = axon::Axon::new().trusted_proxies(["nginx"]).start().await.unwrap_err();
    /// assert!(err.to_string().contains("trusted proxies: `nginx` is not an IP address or network"), "{err}");
    /// # });
    /// ```
    pub fn trusted_proxies<I, T>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.proxies = Some(TrustedProxies::parse(proxies));
        self
    }

    /// The network settings in effect: `config`'s, with the ones given one by one over them.
    pub(super) fn settings(&self) -> AxonConfig {
        let mut settings = self.config.clone();
        let o = &self.overrides;
        if let Some(port) = o.port {
            settings.port = port;
        }
        if let Some(ip) = &o.ip {
            settings.ip = ip.clone();
        }
        if let Some(ip) = &o.external_ip {
            settings.external_ip = Some(ip.clone());
        }
        if let Some(port) = o.external_port {
            settings.external_port = Some(port);
        }
        if let Some(n) = o.max_workers {
            settings.max_workers = n;
        }
        if let Some(n) = o.max_waiting {
            settings.priority_maxsize = n;
        }
        settings
    }

    /// The hotkey given, or the wallet's when it loaded.
    pub(super) fn hotkey_given(&self) -> Option<&Keypair> {
        match (&self.hotkey, &self.wallet) {
            (Some(hotkey), _) => Some(hotkey),
            (None, Some(wallet)) => wallet.hotkey.as_ref().ok(),
            (None, None) => None,
        }
    }

    /// The hotkey to serve with, or why there is none.
    pub(super) fn serving_hotkey(&self) -> Result<Keypair, Problem> {
        match (&self.hotkey, &self.wallet) {
            (Some(hotkey), _) => Ok(hotkey.clone()),
            (None, Some(wallet)) => wallet
                .hotkey
                .clone()
                .map_err(|source| Problem::Hotkey { source }),
            (None, None) => Err(Problem::NoHotkey),
        }
    }

    /// The coldkey address to report: the one given, or the wallet's when it has one.
    pub(super) fn serving_coldkey(&self) -> Result<Option<String>, Problem> {
        match (
            &self.coldkey,
            self.wallet.as_ref().and_then(|w| w.coldkey.as_ref()),
        ) {
            (Some(coldkey), _) => Ok(Some(coldkey.clone())),
            (None, Some(Ok(coldkey))) => Ok(Some(coldkey.clone())),
            (None, Some(Err(source))) => Err(Problem::Coldkey {
                source: source.clone(),
            }),
            (None, None) => Ok(None),
        }
    }

    /// The trusted proxies: the ones given in code, or the config's.
    pub(super) fn trusted(&self) -> Result<TrustedProxies, Problem> {
        let parsed = match &self.proxies {
            Some(given) => given.clone(),
            None => TrustedProxies::parse(&self.config.trusted_proxies),
        };
        parsed.map_err(|source| Problem::BadProxy { source })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{AxonConfig, WalletConfig};
    use crate::keys::Keypair;
    use crate::{Axon, Problem};

    fn config(port: u16, proxies: &[&str]) -> AxonConfig {
        AxonConfig {
            port,
            max_workers: 3,
            trusted_proxies: proxies.iter().map(|p| p.to_string()).collect(),
            ..AxonConfig::default()
        }
    }

    #[test]
    fn a_setting_given_alone_wins_over_config_in_either_order() {
        let before = Axon::new().port(9001).config(config(9000, &[]));
        let after = Axon::new().config(config(9000, &[])).port(9001);
        for axon in [before, after] {
            let settings = axon.settings();
            assert_eq!(settings.port, 9001);
            // What was not given alone is config's.
            assert_eq!(settings.max_workers, 3);
        }
        // The same method twice: the later value.
        assert_eq!(Axon::new().port(1).port(2).settings().port, 2);
    }

    #[test]
    fn the_trusted_proxies_given_in_code_replace_the_configs() {
        let from_config = Axon::new().config(config(0, &["10.0.0.0/8"]));
        assert!(!from_config.trusted().unwrap().is_empty());
        let replaced = Axon::new()
            .trusted_proxies(Vec::<String>::new())
            .config(config(0, &["10.0.0.0/8"]));
        assert!(replaced.trusted().unwrap().is_empty());
        let bad = Axon::new().config(config(0, &["nginx"]));
        assert!(matches!(bad.trusted(), Err(Problem::BadProxy { .. })));
    }

    /// A wallet whose files are absent (`path` names no directory).
    fn missing_wallet() -> WalletConfig {
        WalletConfig {
            path: "/nonexistent".into(),
            ..WalletConfig::default()
        }
    }

    #[test]
    fn a_hotkey_or_coldkey_given_in_code_wins_over_the_wallets_in_either_order() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let before = Axon::new()
            .hotkey(alice.clone())
            .coldkey("5Cold")
            .wallet(&missing_wallet());
        let after = Axon::new()
            .wallet(&missing_wallet())
            .hotkey(alice.clone())
            .coldkey("5Cold");
        for axon in [before, after] {
            assert_eq!(axon.serving_hotkey().unwrap().ss58(), alice.ss58());
            assert_eq!(axon.serving_coldkey().unwrap().as_deref(), Some("5Cold"));
        }
        let wallet_only = Axon::new().wallet(&missing_wallet());
        assert!(matches!(
            wallet_only.serving_hotkey(),
            Err(Problem::Hotkey { .. })
        ));
        // No coldkeypub.txt: no coldkey, and no problem.
        assert_eq!(wallet_only.serving_coldkey().unwrap(), None);
    }

    #[tokio::test]
    async fn a_coldkeypub_that_cannot_be_read_is_reported_with_its_cause() {
        let dir = std::env::temp_dir().join(format!("axon-coldkey-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("miner")).unwrap();
        std::fs::write(dir.join("miner").join("coldkeypub.txt"), "{not json").unwrap();
        let wallet = WalletConfig {
            path: dir.to_string_lossy().into_owned(),
            name: "miner".into(),
            ..WalletConfig::default()
        };
        let alice = Keypair::from_uri("//Alice").unwrap();
        let err = Axon::new()
            .wallet(&wallet)
            .hotkey(alice)
            .ip("127.0.0.1")
            .port(0)
            .start()
            .await
            .unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let [problem @ Problem::Coldkey { .. }] = err.problems() else {
            panic!("{err}");
        };
        let text = problem.to_string();
        assert!(
            text.starts_with("the coldkey could not be read: "),
            "{text}"
        );
        assert!(
            text.contains("coldkeypub.txt is not a JSON keyfile"),
            "{text}"
        );
        let cause = std::error::Error::source(problem).unwrap();
        assert!(cause.is::<crate::keys::KeyError>());
    }
}
