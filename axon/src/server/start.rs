//! Starting an [`Axon`]: a plan decided without I/O (every problem at once), the sockets, the
//! external address, then the launch that hands back the running [`Serving`].

use super::connections::Connections;
use super::external_ip::Discovery;
use super::listen::{self, Listening};
use super::running::{self, Serving};
use super::{descriptors, operations, Axon, Limits, Problem, StartupError};
use crate::config::AxonConfig;
use crate::keys::Keypair;
use crate::net::TrustedProxies;
use crate::pipeline::{self, Shared};
use crate::registry::{Built, TableBuilder};
use crate::replay::ReplayStore;
use crate::state::States;
use crate::verify::Verifier;
use crate::wire::BITTENSOR_VERSION;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

impl Axon {
    /// Starts serving on the current tokio runtime and returns once the socket listens,
    /// so a client may connect as soon as it returns. Everything that keeps it from
    /// serving is an error listing every problem: a missing hotkey, handler problems,
    /// an ip that does not parse, an external IP that cannot be discovered, an address
    /// already in use.
    ///
    /// The default signature check is a [`Verifier`] for the axon's hotkey, given to
    /// handlers as state too (so a custom verify can call it and share its replay
    /// store); a `Verifier` given with [`state`](Axon::state) is used instead.
    ///
    /// ```
    /// use axon::{keys::Keypair, Axon};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut axon = Axon::new().hotkey(Keypair::from_uri("//Alice").unwrap()).ip("127.0.0.1").port(0);
    /// axon.start().await.unwrap();
    /// assert!(axon.started());
    /// let addr = axon.local_addr().unwrap();
    /// assert_eq!(axon.info().unwrap().ip_str(), format!("/ipv4/127.0.0.1:{}", addr.port()));
    ///
    /// // A second axon on the same port: the error says why.
    /// let err = Axon::new().hotkey(Keypair::from_uri("//Bob").unwrap()).ip("127.0.0.1").port(addr.port())
    ///     .start().await.unwrap_err();
    /// assert!(err.to_string().contains(&format!("cannot listen on {addr}: ")), "{err}");
    ///
    /// axon.stop().await;
    /// assert!(!axon.started());
    /// # }
    /// ```
    pub async fn start(&mut self) -> Result<&mut Self, StartupError> {
        if let Some(serving) = &self.serving {
            return Err(StartupError::new(vec![Problem::AlreadyStarted {
                address: serving.local_addr().to_string(),
            }]));
        }
        // Every problem in one pass: the plan's, the sockets', the external IP's.
        let settings = self.settings();
        let plan = self.plan(&settings);
        let sockets = self.bind(&settings);
        let external_ip = announced_ip(&settings, &self.discovery).await;
        match (plan, sockets, external_ip) {
            (Ok(plan), Ok(sockets), Ok(external_ip)) => {
                let serving = self.launch(&settings, plan, sockets, external_ip)?;
                self.serving = Some(serving);
                Ok(self)
            }
            (plan, sockets, external_ip) => {
                let mut problems = plan.err().unwrap_or_default();
                problems.extend(sockets.err().into_iter().flatten());
                problems.extend(external_ip.err());
                Err(StartupError::new(problems))
            }
        }
    }

    /// Everything [`start`](Axon::start) needs, decided without I/O: every problem at once.
    fn plan(&self, settings: &AxonConfig) -> Result<Plan, Vec<Problem>> {
        let mut states = self.states.clone();
        let hotkey = self.serving_hotkey();
        let verifier = hotkey
            .as_ref()
            .ok()
            .map(|hotkey| verifier_for(hotkey, &mut states));
        let bind_ip = parse_ip(&settings.ip).ok_or_else(|| Problem::BadIp {
            ip: settings.ip.clone(),
        });
        let external_ip = match &settings.external_ip {
            None => Ok(()),
            Some(ip) => parse_ip(ip)
                .map(|_| ())
                .ok_or_else(|| Problem::BadIp { ip: ip.clone() }),
        };
        let table = TableBuilder::collect(&states, &self.entries());
        let replay = match (&self.replay, &settings.replay_store) {
            (Some(store), _) => Ok(Some(store.clone())),
            (None, Some(url)) => replay_store(url, settings).map(Some),
            (None, None) => Ok(None),
        };
        let coldkey = self.serving_coldkey();
        let proxies = self.trusted();
        let tls = self.serving_tls(settings, hotkey.as_ref().ok());
        match (
            hotkey,
            verifier,
            bind_ip,
            external_ip,
            table,
            replay,
            coldkey,
            (proxies, tls),
        ) {
            (
                Ok(hotkey),
                Some(Ok(verifier)),
                Ok(_),
                Ok(()),
                Ok(built),
                Ok(replay),
                Ok(coldkey),
                (Ok(proxies), Ok(tls)),
            ) if self.problems.is_empty() => {
                if let Some(tls) = &tls {
                    tls.announce();
                }
                Ok(Plan {
                    built,
                    hotkey,
                    coldkey,
                    verifier,
                    replay,
                    proxies,
                    tls,
                })
            }
            (hotkey, verifier, bind_ip, external_ip, table, replay, coldkey, (proxies, tls)) => {
                let mut problems: Vec<Problem> =
                    self.problems.iter().cloned().map(Problem::from).collect();
                problems.extend(hotkey.err());
                problems.extend(coldkey.err());
                problems.extend(proxies.err());
                problems.extend(tls.err());
                problems.extend(replay.err());
                problems.extend(verifier.and_then(Result::err));
                problems.extend(bind_ip.err());
                problems.extend(external_ip.err());
                problems.extend(table.err().into_iter().flatten().map(Problem::from));
                Err(problems)
            }
        }
    }

    /// Opens the listening sockets whose addresses parse (a bad `--axon.ip` is the plan's
    /// problem); every one that cannot be opened is a problem.
    fn bind(&self, settings: &AxonConfig) -> Result<Sockets, Vec<Problem>> {
        descriptors::prepare(self.limits.max_connections);
        let open = |address: SocketAddr, name: String, reuse_port: bool| {
            listen::bind(address, reuse_port).map_err(|source| Problem::Bind {
                address: name,
                source: Arc::new(source),
            })
        };
        let synapse = parse_ip(&settings.ip)
            .map(|ip| SocketAddr::new(ip, settings.port))
            .map(|address| open(address, address.to_string(), settings.reuse_port));
        let operations = self
            .operations
            .map(|address| open(address, format!("{address} (operations)"), false));
        match (synapse, operations) {
            (Some(Ok(synapse)), None) => Ok(Sockets {
                synapse,
                operations: None,
            }),
            (Some(Ok(synapse)), Some(Ok(operations))) => Ok(Sockets {
                synapse,
                operations: Some(operations),
            }),
            (synapse, operations) => {
                let mut problems: Vec<Problem> =
                    synapse.and_then(Result::err).into_iter().collect();
                problems.extend(operations.and_then(Result::err));
                Err(problems)
            }
        }
    }

    /// Carries out `plan` on the bound `sockets`: starts the handler threads and spawns the
    /// listeners.
    fn launch(
        &self,
        settings: &AxonConfig,
        plan: Plan,
        sockets: Sockets,
        (external_ip, found_by): (IpAddr, String),
    ) -> Result<Serving, StartupError> {
        let fail = |problem| StartupError::new(vec![problem]);
        let threads = settings.max_workers;
        let pipeline_settings = pipeline::Settings {
            workers: settings.max_workers,
            waiting: settings.priority_maxsize,
            max_body: self.limits.max_body,
            max_json_depth: self.limits.max_json_depth,
            max_timeout: self.max_timeout,
            body_timeout: self.limits.body_timeout,
            unverified_per_address: self.limits.unverified_body_bytes_per_address,
            unverified_total: self.limits.unverified_body_bytes,
            auth: self.auth.clone(),
            replay: plan.replay,
            proxies: plan.proxies.clone(),
        };
        let Built { handlers, routes } = plan.built;
        let hotkey = plan.hotkey.ss58().to_owned();
        let shared = Shared::new(
            handlers,
            routes,
            plan.hotkey,
            plan.verifier,
            pipeline_settings,
        )
        .map_err(|source| {
            fail(Problem::HandlerThreads {
                threads,
                source: Arc::new(source),
            })
        })?;
        let shared = Arc::new(shared);
        let spawn_failed = |address: String| {
            move |source: std::io::Error| {
                fail(Problem::Bind {
                    address,
                    source: Arc::new(source),
                })
            }
        };
        let connections = Connections::new(
            self.limits.max_connections,
            self.limits.max_connections_per_address,
            plan.proxies.clone(),
        );
        let pipeline = {
            let shared = shared.clone();
            move |request, client| pipeline::handle(shared.clone(), request, client)
        };
        let proxies = (!plan.proxies.is_empty()).then(|| Arc::new(plan.proxies));
        let address = sockets.synapse.local_addr().map(|a| a.to_string());
        let address = address.unwrap_or_else(|_| settings.ip.clone());
        let listening = Listening::spawn(
            sockets.synapse,
            pipeline,
            &self.limits,
            &connections,
            proxies,
            plan.tls.as_ref().map(|tls| tls.acceptor.clone()),
        )
        .map_err(spawn_failed(address))?;
        let operations = match sockets.operations {
            None => None,
            Some(listener) => {
                let mut exposition = self.exposition.clone();
                exposition.extend(shared.replay.clone().map(operations::replay_store_lines));
                let app = operations::app(shared.clone(), connections.clone(), exposition);
                let few = Connections::new(
                    OPERATIONS_CONNECTIONS,
                    OPERATIONS_CONNECTIONS,
                    TrustedProxies::default(),
                );
                let listening =
                    Listening::spawn(listener, app, &Limits::default(), &few, None, None)
                        .map_err(spawn_failed("operations".into()))?;
                tracing::info!(address = %listening.local_addr(), "operations serving /metrics and /healthz");
                Some(listening)
            }
        };
        let port = settings
            .external_port
            .unwrap_or(listening.local_addr().port());
        let info = running::axon_info(hotkey, plan.coldkey, external_ip, port);
        let tls = plan.tls.map(|tls| tls.published);
        let serving = Serving::new(listening, operations, shared, info, tls);
        let synapses = serving.synapses();
        tracing::info!(
            address = %serving.local_addr(),
            announced = %SocketAddr::new(external_ip, serving.info().port),
            announced_from = %found_by,
            hotkey = %serving.info().hotkey,
            max_workers = settings.max_workers,
            synapses = %synapses.join(", "),
            "axon {} serving (bittensor {}.{}.{} protocol)",
            env!("CARGO_PKG_VERSION"),
            BITTENSOR_VERSION / 1_000_000,
            BITTENSOR_VERSION / 1_000 % 1_000,
            BITTENSOR_VERSION % 1_000,
        );
        Ok(serving)
    }
}

/// The address to announce, and how it was found (for the banner): the configured one, the
/// loopback address an axon bound to loopback serves on, or the one discovered (the only
/// I/O of this kind). An unparseable address is the plan's problem, not this one's.
async fn announced_ip(
    settings: &AxonConfig,
    discovery: &Discovery,
) -> Result<(IpAddr, String), Problem> {
    let bind_ip = parse_ip(&settings.ip);
    match (&settings.external_ip, bind_ip) {
        (Some(ip), _) => Ok((
            parse_ip(ip).unwrap_or(Ipv4Addr::UNSPECIFIED.into()),
            "--axon.external_ip".into(),
        )),
        (None, Some(ip)) if ip.is_loopback() => Ok((ip, "the loopback --axon.ip".into())),
        (None, None) => Ok((
            Ipv4Addr::UNSPECIFIED.into(),
            "nothing (--axon.ip is bad)".into(),
        )),
        (None, Some(_)) => {
            let found = discovery
                .discover()
                .await
                .map_err(|source| Problem::ExternalIp { source })?;
            if found.agreeing.len() < 2 {
                tracing::warn!(
                    ip = %found.ip,
                    "the external address comes from {found}; set --axon.external_ip to be sure"
                );
            }
            Ok((found.ip, format!("discovery: {found}")))
        }
    }
}

/// What [`Axon::start`] decided before any I/O.
struct Plan {
    built: Built,
    hotkey: Keypair,
    coldkey: Option<String>,
    verifier: Arc<Verifier>,
    replay: Option<ReplayStore>,
    proxies: TrustedProxies,
    tls: Option<PlannedTls>,
}

/// `0x` and the bytes in hex.
#[cfg(feature = "tls")]
fn hex_of(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The TLS the axon serves beside plain HTTP.
pub(super) struct PlannedTls {
    acceptor: tokio_rustls::TlsAcceptor,
    /// Its key as `serve_axon_tls` publishes it, or why it cannot be.
    pub(super) published: Result<Vec<u8>, &'static str>,
}

impl PlannedTls {
    /// Says, once at start, that TLS is served and which key a caller pins.
    fn announce(&self) {
        match &self.published {
            #[cfg(feature = "tls")]
            Ok(published) => tracing::info!(
                public_key = %hex_of(published),
                "TLS served beside plain HTTP (the key as `serve_axon_tls` publishes it)"
            ),
            #[cfg(not(feature = "tls"))]
            Ok(_) => {}
            Err(why) => tracing::info!(
                "TLS served beside plain HTTP; the key cannot be published on chain: it is {why}"
            ),
        }
    }
}

impl Axon {
    /// The TLS to serve, if any: the configuration given in code, else the files of
    /// `--axon.tls_cert` and `--axon.tls_key`, else (`--axon.tls_generate`) the key and
    /// certificate kept in `--axon.tls_dir`, made there on first start. Reads (and may
    /// write) those files: the plan's only file I/O. [`Axon::serve`] before `start` reads
    /// them too, to publish the key that `start` will serve.
    pub(super) fn serving_tls(
        &self,
        settings: &AxonConfig,
        hotkey: Option<&Keypair>,
    ) -> Result<Option<PlannedTls>, Problem> {
        #[cfg(not(feature = "tls"))]
        {
            let _ = hotkey;
            let asked =
                settings.tls_cert.is_some() || settings.tls_key.is_some() || settings.tls_generate;
            match asked {
                true => Err(Problem::TlsSettings {
                    reason: "--axon.tls_* asks for TLS, but this program was built without the axon crate's `tls` feature: enable it (features = [\"tls\"]), or remove the settings",
                }),
                false => Ok(None),
            }
        }
        #[cfg(feature = "tls")]
        {
            use crate::tls::TlsConfig;
            let failed = |e| Problem::Tls {
                source: Arc::new(e),
            };
            let config = match (&self.tls, &settings.tls_cert, &settings.tls_key) {
                (Some(tls), _, _) => tls.clone(),
                (None, Some(cert), Some(key)) => {
                    let (cert, key) = (
                        crate::keys::expand_home(cert),
                        crate::keys::expand_home(key),
                    );
                    TlsConfig::from_pem_files(cert, key).map_err(failed)?
                }
                (None, Some(_), None) | (None, None, Some(_)) => {
                    return Err(Problem::TlsSettings {
                        reason: "--axon.tls_cert and --axon.tls_key go together: give both PEM files, or --axon.tls_generate true",
                    })
                }
                (None, None, None) if settings.tls_generate => {
                    let dir = match (&settings.tls_dir, hotkey) {
                        (Some(dir), _) => crate::keys::expand_home(dir),
                        (None, Some(hotkey)) => TlsConfig::default_dir(hotkey.ss58()),
                        // No hotkey: that problem is reported on its own.
                        (None, None) => return Ok(None),
                    };
                    TlsConfig::generate_in(dir).map_err(failed)?
                }
                (None, None, None) => return Ok(None),
            };
            Ok(Some(PlannedTls {
                acceptor: config.acceptor(),
                published: config.public_key().published(),
            }))
        }
    }
}

/// The shared replay store the `--axon.replay_store*` settings name.
#[cfg(feature = "redis")]
fn replay_store(url: &str, settings: &AxonConfig) -> Result<ReplayStore, Problem> {
    let client_cert = match (&settings.replay_store_cert, &settings.replay_store_key) {
        (Some(cert), Some(key)) => Some((
            crate::keys::expand_home(cert),
            crate::keys::expand_home(key),
        )),
        (None, None) => None,
        _ => {
            return Err(Problem::ReplayStoreSettings {
                reason: "--axon.replay_store_cert and --axon.replay_store_key go together: give both PEM files, or neither",
            })
        }
    };
    let options = crate::replay::RedisOptions {
        cluster: settings.replay_store_cluster,
        sentinels: settings.replay_store_sentinels.clone(),
        ca: settings
            .replay_store_ca
            .as_deref()
            .map(crate::keys::expand_home),
        client_cert,
        ..Default::default()
    };
    let rule = match settings.replay_store_local_fallback {
        true => crate::replay::OnFailure::LocalOnly,
        false => crate::replay::OnFailure::Refuse,
    };
    ReplayStore::redis_with(url, options)
        .map(|store| store.on_failure(rule))
        .map_err(|source| Problem::ReplayStore { source })
}

/// Without the `redis` feature, a replay store asked for is a problem.
#[cfg(not(feature = "redis"))]
fn replay_store(_: &str, _: &AxonConfig) -> Result<ReplayStore, Problem> {
    Err(Problem::ReplayStoreSettings {
        reason: "--axon.replay_store asks for a shared replay store, but this program was built without the axon crate's `redis` feature: enable it (features = [\"redis\"]), or remove the setting",
    })
}

/// The listening sockets [`Axon::start`] opened.
struct Sockets {
    synapse: tokio::net::TcpListener,
    operations: Option<tokio::net::TcpListener>,
}

/// The default signature check for `hotkey`: the `Verifier` given as state (which must check
/// signatures addressed to `hotkey`), or a new one, given to handlers as state too.
fn verifier_for(hotkey: &Keypair, states: &mut States) -> Result<Arc<Verifier>, Problem> {
    match states.get::<Verifier>() {
        Some(given) if given.hotkey() != hotkey.ss58() => Err(Problem::VerifierHotkey {
            verifier: given.hotkey().to_owned(),
            hotkey: hotkey.ss58().to_owned(),
        }),
        Some(given) => Ok(given),
        None => {
            let made = Arc::new(Verifier::new(hotkey.ss58()));
            states.insert_arc(made.clone());
            Ok(made)
        }
    }
}

/// Open connections the operations listener takes at once (scrapers and probes).
const OPERATIONS_CONNECTIONS: usize = 16;

/// An IP as Python's config writes it: `[::]`, `::`, `0.0.0.0`, `127.0.0.1`.
pub(super) fn parse_ip(text: &str) -> Option<IpAddr> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse().ok()
}
