//! [`Axon`]: the miner's server, built from registered or attached handlers and state,
//! a hotkey and a config; [`start`](Axon::start) serves it.

mod connections;
mod descriptors;
pub mod external_ip;
mod limits;
mod listen;
mod operations;
#[cfg(feature = "chain")]
mod publish;
mod signal;

use crate::auth::{AuthConfig, Authenticator};
use crate::replay::{OnFailure, ReplayStore};
use connections::Connections;
pub use limits::Limits;
#[cfg(feature = "chain")]
pub use publish::{ServeError, Served};
pub use signal::shutdown_signal;

use crate::config::{AxonConfig, WalletConfig};
use crate::handler::{
    BlacklistFn, ForwardFn, HandlerInfo, HandlerKind, HandlerRuntime, PriorityFn, VerifyFn,
};
use crate::keys::{self, Keypair};
use crate::metrics::Metrics;
use crate::net::TrustedProxies;
use crate::pipeline::{self, Admission, BodyBudget, Identity, Shared, DEFAULT_MAX_TIMEOUT};
use crate::registry::{self, Built, Entry, Problem, StartupError, TableBuilder};
use crate::state::States;
use crate::table::Handlers;
use crate::verify::Verifier;
use crate::wire::{HeaderLimits, BITTENSOR_VERSION};
use crate::{AxonInfo, Synapse};
use listen::Listening;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::Location;
use std::sync::Arc;

/// A miner's axon: its handlers and the state they share.
///
/// Two ways to give it handlers, which may be mixed and end in the same table:
///
/// - [`Axon::from_registry`] collects every function marked [`#[axon::forward]`](crate::forward),
///   [`#[axon::blacklist]`](crate::blacklist), [`#[axon::priority]`](crate::priority) or
///   [`#[axon::verify]`](macro@crate::verify) anywhere in the program, library crates included.
/// - [`attach`](Axon::attach), [`blacklist`](Axon::blacklist), [`priority`](Axon::priority)
///   and [`verify`](Axon::verify) take closures, type-checked by the compiler. Python's
///   `axon.attach(forward_fn, blacklist_fn, priority_fn, verify_fn)` is
///   `axon.attach(f).blacklist(b).priority(p).verify(v)`.
///
/// [`handlers`](Axon::handlers) builds the table, or reports every problem at once: two
/// forwards for one synapse, a blacklist/priority/verify without a forward, a state a handler
/// needs but nobody provided. Python's built-in `Synapse` ping endpoint is always served.
///
/// ```
/// use axon::{Axon, Synapse};
///
/// #[axon::synapse]
/// pub struct Add { #[hash] pub a: i64, #[hash] pub b: i64, #[default] pub sum: Option<i64> }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handlers = Axon::new()
///     .attach(|mut s: Add| async move {
///         s.sum = Some(s.a + s.b);
///         s
///     })
///     .priority(|s: &Add| s.a as f64)
///     .handlers()
///     .unwrap();
/// assert_eq!(handlers.forward(Add::new(2, 3)).await.unwrap().sum, Some(5));
/// assert_eq!(handlers.priority(&Add::new(7, 0)).await, Some(7.0));
/// # }
/// ```
pub struct Axon {
    registry: bool,
    attached: Vec<Entry>,
    states: States,
    problems: Vec<Problem>,
    config: AxonConfig,
    hotkey: Option<Keypair>,
    coldkey: Option<String>,
    max_timeout: std::time::Duration,
    /// The signed-HTTP endpoints' rules.
    auth: AuthConfig,
    /// The replay store shared with other processes, given in code (the config's URL
    /// otherwise).
    replay: Option<ReplayStore>,
    limits: Limits,
    operations: Option<SocketAddr>,
    proxies: TrustedProxies,
    /// More lines of the `/metrics` exposition (the metagraph's).
    exposition: Vec<operations::Exposition>,
    running: Option<Running>,
}

/// A started axon: its listeners and the address it announces.
struct Running {
    listening: Listening,
    operations: Option<Listening>,
    external_ip: IpAddr,
    shared: Arc<Shared>,
}

impl Axon {
    /// An axon with no handlers but the built-in `Synapse` ping endpoint; add closures with
    /// [`attach`](Axon::attach).
    ///
    /// ```
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// assert_eq!(handlers.synapses().collect::<Vec<_>>(), ["Synapse"]);
    /// ```
    pub fn new() -> Self {
        Axon {
            registry: false,
            attached: Vec::new(),
            states: States::default(),
            problems: Vec::new(),
            config: AxonConfig::default(),
            hotkey: None,
            coldkey: None,
            max_timeout: DEFAULT_MAX_TIMEOUT,
            auth: AuthConfig::default(),
            replay: None,
            limits: Limits::default(),
            operations: None,
            proxies: TrustedProxies::default(),
            exposition: Vec::new(),
            running: None,
        }
    }

    /// An axon with every handler declared with the handler attributes in the program.
    ///
    /// Handlers in a library crate are found once the binary links that crate. Using any
    /// item of it links it; a library used for nothing but its handlers needs one line,
    /// `use my_handlers as _;`, because rustc does not link a dependency the code never
    /// mentions (tested in `tests/registry_link.rs`).
    ///
    /// ```
    /// use axon::{Axon, Synapse};
    ///
    /// #[axon::synapse]
    /// pub struct Ping2 { #[default] pub n: i64 }
    ///
    /// #[axon::forward]
    /// async fn pong(mut s: Ping2) -> Ping2 {
    ///     s.n += 1;
    ///     s
    /// }
    ///
    /// let handlers = Axon::from_registry().handlers().unwrap();
    /// assert!(handlers.route("Ping2").unwrap().forward.name().ends_with("::pong"));
    /// ```
    pub fn from_registry() -> Self {
        let mut axon = Axon::new();
        axon.registry = true;
        axon
    }

    /// Gives handlers a shared value: a handler argument `&T` or [`State<T>`](crate::State)
    /// after the synapse receives it. One value per type.
    ///
    /// ```
    /// use axon::{Axon, Synapse};
    ///
    /// #[axon::synapse]
    /// pub struct Greet { #[default] pub text: String }
    ///
    /// pub struct Greeting(&'static str);
    ///
    /// #[axon::forward]
    /// fn greet(mut s: Greet, greeting: &Greeting) -> Greet {
    ///     s.text = format!("{} {}", greeting.0, s.text);
    ///     s
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Without the state the axon refuses to start, naming the handler and the type.
    /// let err = Axon::from_registry().handlers().unwrap_err().to_string();
    /// assert!(err.contains("needs state `rust_out::Greeting`"), "{err}");
    ///
    /// let handlers = Axon::from_registry().state(Greeting("hello")).handlers().unwrap();
    /// let out = handlers.forward(Greet { text: "bob".into(), ..Greet::default() }).await;
    /// assert_eq!(out.unwrap().text, "hello bob");
    /// # }
    /// ```
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        if !self.states.insert(value) {
            self.problems.push(Problem::DuplicateState {
                state: std::any::type_name::<T>(),
            });
        }
        self
    }

    /// Gives the axon a [`Metagraph`](crate::Metagraph): handlers read it as `&Metagraph`
    /// (the policies in a `#[blacklist]` or `#[priority]`), and `/metrics` shows its age,
    /// whether it is stale and the requests refused for it (feature `chain`).
    #[cfg(feature = "chain")]
    pub fn metagraph(mut self, metagraph: crate::Metagraph) -> Self {
        let shown = metagraph.clone();
        self.exposition
            .push(Arc::new(move |out: &mut String| shown.render_metrics(out)));
        self.state(metagraph)
    }

    /// [`state`](Axon::state) for a value the caller keeps a handle on: handlers and the
    /// caller share the same `Arc`.
    ///
    /// ```
    /// use std::sync::{atomic::{AtomicU64, Ordering}, Arc};
    ///
    /// let counter = Arc::new(AtomicU64::new(0));
    /// let axon = axon::Axon::new().state_arc(counter.clone());
    /// # let _ = axon;
    /// counter.fetch_add(1, Ordering::Relaxed); // seen by every handler taking `&AtomicU64`
    /// ```
    pub fn state_arc<T: Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        if self.states.get::<T>().is_some() {
            self.problems.push(Problem::DuplicateState {
                state: std::any::type_name::<T>(),
            });
        }
        self.states.insert_arc(value);
        self
    }

    /// Adds an entry for a closure of `kind`, located at the caller of the public method.
    fn push<F>(
        &mut self,
        kind: HandlerKind,
        location: &'static Location<'static>,
        register: impl Fn(&mut TableBuilder<'_>) + Send + Sync + 'static,
    ) {
        let info = HandlerInfo::new(
            kind,
            std::any::type_name::<F>(),
            location.file(),
            location.line(),
        );
        self.attached.push(Entry {
            info,
            register: Arc::new(register),
        });
    }

    /// Attaches `forward` as the forward of its synapse type: a closure or function taking
    /// the synapse by value and returning it (or `Result<S, E>`), plain or async.
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse};
    ///
    /// // Replaces the built-in ping endpoint.
    /// let handlers = Axon::new().attach(|s: BaseSynapse| async move { s }).handlers().unwrap();
    /// assert!(handlers.route("Synapse").unwrap().forward.name().contains("{{closure}}"));
    /// ```
    #[track_caller]
    pub fn attach<S: Synapse, M, F: ForwardFn<S, M>>(mut self, forward: F) -> Self {
        let hook = forward.into_forward_handler();
        self.push::<F>(HandlerKind::Forward, Location::caller(), move |t| {
            t.forward::<S>(Some(hook.clone()))
        });
        self
    }

    /// Attaches a blacklist: `Fn(&S) -> (bool, String)` or `-> Blacklist`, plain or async.
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse};
    ///
    /// let axon = Axon::new().blacklist(|s: &BaseSynapse| (s.dendrite.hotkey.is_none(), "no hotkey".to_string()));
    /// assert!(axon.handlers().unwrap().route("Synapse").unwrap().blacklist.is_some());
    /// ```
    #[track_caller]
    pub fn blacklist<S: Synapse, M, F: BlacklistFn<S, M>>(mut self, blacklist: F) -> Self {
        let hook = blacklist.into_blacklist_handler();
        self.push::<F>(HandlerKind::Blacklist, Location::caller(), move |t| {
            t.blacklist::<S>(Some(hook.clone()))
        });
        self
    }

    /// Attaches a priority: `Fn(&S) -> f64` (higher is served first), plain or async.
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse};
    ///
    /// let axon = Axon::new().priority(|_: &BaseSynapse| 1.0);
    /// assert!(axon.handlers().unwrap().route("Synapse").unwrap().priority.is_some());
    /// ```
    #[track_caller]
    pub fn priority<S: Synapse, M, F: PriorityFn<S, M>>(mut self, priority: F) -> Self {
        let hook = priority.into_priority_handler();
        self.push::<F>(HandlerKind::Priority, Location::caller(), move |t| {
            t.priority::<S>(Some(hook.clone()))
        });
        self
    }

    /// Attaches a verify: `Fn(&S) -> Result<(), E>`, plain or async.
    ///
    /// **It replaces the default signature check for `S`**, exactly as in Python: requests
    /// of `S` are then only as authenticated as this function makes them.
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse, HandlerError};
    ///
    /// let axon = Axon::new().verify(|_: &BaseSynapse| Ok::<(), HandlerError>(()));
    /// assert!(axon.handlers().unwrap().route("Synapse").unwrap().verify.is_some());
    /// ```
    #[track_caller]
    pub fn verify<S: Synapse, M, F: VerifyFn<S, M>>(mut self, verify: F) -> Self {
        let hook = verify.into_verify_handler();
        self.push::<F>(HandlerKind::Verify, Location::caller(), move |t| {
            t.verify::<S>(Some(hook.clone()))
        });
        self
    }

    /// Builds the handler table: registered handlers (by source location), then attached
    /// closures (in attach order), then the ping endpoint unless `Synapse` has a forward.
    /// Fails with every [`Problem`] at once.
    ///
    /// ```
    /// use axon::{Axon, BaseSynapse, Problem};
    ///
    /// let err = Axon::new()
    ///     .attach(|s: BaseSynapse| s)
    ///     .attach(|s: BaseSynapse| s)
    ///     .state(1u8)
    ///     .state(2u8)
    ///     .handlers()
    ///     .unwrap_err();
    /// assert_eq!(err.problems().len(), 2);
    /// ```
    pub fn handlers(&self) -> Result<Handlers, StartupError> {
        let built = TableBuilder::build(&self.states, &self.entries(), self.problems.clone())?;
        Ok(built.handlers)
    }

    /// Registered handlers (by source location), then attached closures (in order).
    fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        if self.registry {
            entries.extend(registry::registrations().into_iter().map(Entry::from));
        }
        entries.extend(self.attached.iter().map(|e| Entry {
            info: e.info,
            register: e.register.clone(),
        }));
        entries
    }
}

/// Serving: identity, network settings, start and stop.
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
    /// one, its public coldkey. A hotkey that cannot be loaded is reported by
    /// [`start`](Axon::start) with the other problems.
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
        match Keypair::from_wallet(&wallet.path, &wallet.name, &wallet.hotkey) {
            Ok(hotkey) => self.hotkey = Some(hotkey),
            Err(e) => self.problems.push(Problem::Hotkey {
                error: e.to_string(),
            }),
        }
        if let Ok(coldkey) = keys::coldkeypub(&wallet.path, &wallet.name) {
            self.coldkey = Some(coldkey);
        }
        self
    }

    /// The network settings (Python's `config.axon`): port, ip, external ip and port,
    /// max_workers.
    ///
    /// ```
    /// let (config, _) = axon::config::Config::parse(["--axon.port=9000".to_string()], |_| None).unwrap();
    /// let axon = axon::Axon::new().config(config.axon);
    /// assert!(axon.to_string().starts_with("Axon([::], 9000, None, stopped, "));
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
        self.config.port = port;
        self
    }

    /// The local address (`--axon.ip`, `[::]`: every IPv6 and IPv4 address).
    ///
    /// ```
    /// assert!(axon::Axon::new().ip("127.0.0.1").to_string().starts_with("Axon(127.0.0.1, "));
    /// ```
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.config.ip = ip.into();
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
        self.config.external_ip = Some(ip.into());
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
        self.config.external_port = Some(port);
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
        self.config.max_workers = max_workers;
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
        self.config.priority_maxsize = max_waiting;
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

    /// The extra `/metrics` lines: the metagraph's, and the shared replay store's.
    fn exposition(&self, store: Option<ReplayStore>) -> Vec<operations::Exposition> {
        let mut all = self.exposition.clone();
        if let Some(store) = store {
            all.push(Arc::new(move |out: &mut String| {
                use std::fmt::Write;
                let _ = write!(
                    out,
                    "# HELP axon_replay_store_up Whether the shared replay store ({store}) answered the last request.\n\
                     # TYPE axon_replay_store_up gauge\naxon_replay_store_up {}\n\
                     # HELP axon_replay_store_failures_total Requests refused 503 because the shared replay store did not answer.\n\
                     # TYPE axon_replay_store_failures_total counter\naxon_replay_store_failures_total {}\n",
                    u8::from(store.is_up()),
                    store.failures()
                );
            }));
        }
        all
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
    /// or network is reported by [`start`](Axon::start).
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
        match TrustedProxies::parse(proxies) {
            Ok(proxies) => self.proxies = proxies,
            Err(error) => self.problems.push(Problem::BadProxy { error }),
        }
        self
    }

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
        if let Some(running) = &self.running {
            return Err(StartupError::new(vec![Problem::AlreadyStarted {
                address: running.listening.local_addr().to_string(),
            }]));
        }
        // Every problem in one pass: the plan's, the sockets', the external IP's.
        let plan = self.plan();
        let sockets = self.bind();
        let external_ip = self.announced_ip().await;
        match (plan, sockets, external_ip) {
            (Ok(plan), Ok(sockets), Ok(external_ip)) => {
                self.running = Some(self.launch(plan, sockets, external_ip)?);
                Ok(self)
            }
            (plan, sockets, external_ip) => {
                let mut problems = plan
                    .err()
                    .map(|e| e.problems().to_vec())
                    .unwrap_or_default();
                problems.extend(sockets.err().into_iter().flatten());
                problems.extend(external_ip.err());
                Err(StartupError::new(problems))
            }
        }
    }

    /// Everything [`start`](Axon::start) needs, decided without I/O: every problem at once.
    fn plan(&self) -> Result<Plan, StartupError> {
        let mut states = self.states.clone();
        // A wallet whose hotkey could not be loaded is its own problem, not also "no hotkey".
        let unloadable = |p: &Problem| matches!(p, Problem::Hotkey { .. });
        let hotkey = match &self.hotkey {
            Some(hotkey) => Ok(hotkey.clone()),
            None if self.problems.iter().any(unloadable) => Err(None),
            None => Err(Some(Problem::NoHotkey)),
        };
        let verifier = hotkey
            .as_ref()
            .ok()
            .map(|hotkey| verifier_for(hotkey, &mut states));
        let bind_ip = parse_ip(&self.config.ip).ok_or_else(|| Problem::BadIp {
            ip: self.config.ip.clone(),
        });
        let external_ip = match &self.config.external_ip {
            None => Ok(()),
            Some(ip) => parse_ip(ip)
                .map(|_| ())
                .ok_or_else(|| Problem::BadIp { ip: ip.clone() }),
        };
        let table = TableBuilder::collect(&states, &self.entries());
        let replay = match (&self.replay, &self.config.replay_store) {
            (Some(store), _) => Ok(Some(store.clone())),
            (None, Some(url)) => {
                let rule = match self.config.replay_store_local_fallback {
                    true => OnFailure::LocalOnly,
                    false => OnFailure::Refuse,
                };
                ReplayStore::redis(url)
                    .map(|store| Some(store.on_failure(rule)))
                    .map_err(|e| Problem::ReplayStore {
                        error: e.to_string(),
                    })
            }
            (None, None) => Ok(None),
        };
        match (hotkey, verifier, bind_ip, external_ip, table, replay) {
            (Ok(hotkey), Some(Ok(verifier)), Ok(_), Ok(()), Ok(built), Ok(replay))
                if self.problems.is_empty() =>
            {
                Ok(Plan {
                    built,
                    hotkey,
                    verifier,
                    replay,
                })
            }
            (hotkey, verifier, bind_ip, external_ip, table, replay) => {
                let mut problems = self.problems.clone();
                problems.extend(replay.err());
                problems.extend(hotkey.err().flatten());
                problems.extend(verifier.and_then(Result::err));
                problems.extend(bind_ip.err());
                problems.extend(external_ip.err());
                problems.extend(table.err().into_iter().flatten());
                Err(StartupError::new(problems))
            }
        }
    }

    /// Opens the listening sockets whose addresses parse (a bad `--axon.ip` is the plan's
    /// problem); every one that cannot be opened is a problem.
    fn bind(&self) -> Result<Sockets, Vec<Problem>> {
        descriptors::prepare(self.limits.max_connections);
        let open = |address: SocketAddr, name: String, reuse_port: bool| {
            listen::bind(address, reuse_port).map_err(|e| Problem::Bind {
                address: name,
                error: e.to_string(),
            })
        };
        let synapse = parse_ip(&self.config.ip)
            .map(|ip| SocketAddr::new(ip, self.config.port))
            .map(|address| open(address, address.to_string(), self.config.reuse_port));
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

    /// The address to announce: the configured one, the loopback address an axon bound to
    /// loopback serves on, or the one discovered (the only I/O of this kind). An
    /// unparseable address is the plan's problem, not this one's.
    async fn announced_ip(&self) -> Result<IpAddr, Problem> {
        let bind_ip = parse_ip(&self.config.ip);
        match (&self.config.external_ip, bind_ip) {
            (Some(ip), _) => Ok(parse_ip(ip).unwrap_or(Ipv4Addr::UNSPECIFIED.into())),
            (None, Some(ip)) if ip.is_loopback() => Ok(ip),
            (None, None) => Ok(Ipv4Addr::UNSPECIFIED.into()),
            (None, Some(_)) => {
                external_ip::discover(external_ip::DEFAULT_SERVICES, external_ip::DEFAULT_TIMEOUT)
                    .await
                    .map_err(|error| Problem::ExternalIp { error })
            }
        }
    }

    /// Carries out `plan` on the bound `sockets`: starts the handler threads and spawns the
    /// listeners.
    fn launch(
        &self,
        plan: Plan,
        sockets: Sockets,
        external_ip: IpAddr,
    ) -> Result<Running, StartupError> {
        let fail = |problem| StartupError::new(vec![problem]);
        let threads = self.config.max_workers;
        let handler_runtime = HandlerRuntime::new(threads).map_err(|e| {
            fail(Problem::HandlerThreads {
                threads,
                error: e.to_string(),
            })
        })?;
        let spawn_failed = |address: String| {
            move |e: std::io::Error| {
                fail(Problem::Bind {
                    address,
                    error: e.to_string(),
                })
            }
        };
        let names: Vec<&'static str> = plan.built.handlers.synapses().collect();
        let endpoints: Vec<&'static str> = plan.built.handlers.signed().labels().collect();
        let largest_body = plan
            .built
            .handlers
            .signed()
            .largest_body(self.limits.max_body);
        let unverified = BodyBudget::new(
            self.limits.unverified_body_bytes_per_address,
            self.limits.unverified_body_bytes,
            largest_body,
        );
        let (store, retention) = plan.verifier.store();
        let auth =
            Authenticator::sharing(plan.verifier.hotkey(), self.auth.clone(), store, retention);
        let shared = Arc::new(Shared {
            handlers: plan.built.handlers,
            routes: plan.built.routes,
            handler_runtime,
            identity: Identity::new(plan.hotkey),
            verifier: plan.verifier,
            auth: Arc::new(auth),
            replay: plan.replay,
            admission: Admission::new(self.config.max_workers, self.config.priority_maxsize),
            max_body: self.limits.max_body,
            max_json_depth: self.limits.max_json_depth,
            header_limits: HeaderLimits::default(),
            max_timeout: self.max_timeout,
            metrics: Arc::new(Metrics::with_endpoints(names, endpoints)),
            proxies: self.proxies.clone(),
            unverified,
            body_timeout: self.limits.body_timeout,
        });
        let connections = Connections::new(
            self.limits.max_connections,
            self.limits.max_connections_per_address,
            self.proxies.clone(),
        );
        let pipeline = {
            let shared = shared.clone();
            move |request, client| pipeline::handle(shared.clone(), request, client)
        };
        let proxies = (!self.proxies.is_empty()).then(|| Arc::new(self.proxies.clone()));
        let address = sockets.synapse.local_addr().map(|a| a.to_string());
        let address = address.unwrap_or_else(|_| self.config.ip.clone());
        let listening = Listening::spawn(
            sockets.synapse,
            pipeline,
            &self.limits,
            &connections,
            proxies,
        )
        .map_err(spawn_failed(address))?;
        let operations = match sockets.operations {
            None => None,
            Some(listener) => {
                let app = operations::app(
                    shared.clone(),
                    connections.clone(),
                    self.exposition(shared.replay.clone()),
                );
                let few = Connections::new(
                    OPERATIONS_CONNECTIONS,
                    OPERATIONS_CONNECTIONS,
                    TrustedProxies::default(),
                );
                let listening = Listening::spawn(listener, app, &Limits::default(), &few, None)
                    .map_err(spawn_failed("operations".into()))?;
                tracing::info!(address = %listening.local_addr(), "operations serving /metrics and /healthz");
                Some(listening)
            }
        };
        let synapses: Vec<&str> = shared.handlers.synapses().collect();
        let announced = self
            .config
            .external_port
            .unwrap_or(listening.local_addr().port());
        tracing::info!(
            address = %listening.local_addr(),
            announced = %SocketAddr::new(external_ip, announced),
            hotkey = self.hotkey.as_ref().map_or("None", |k| k.ss58()),
            max_workers = self.config.max_workers,
            synapses = %synapses.join(", "),
            "axon {} serving (bittensor {}.{}.{} protocol)",
            env!("CARGO_PKG_VERSION"),
            BITTENSOR_VERSION / 1_000_000,
            BITTENSOR_VERSION / 1_000 % 1_000,
            BITTENSOR_VERSION % 1_000,
        );
        Ok(Running {
            listening,
            operations,
            external_ip,
            shared,
        })
    }

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
        if let Some(running) = self.running.take() {
            running.shared.metrics.set_draining();
            tracing::info!("axon draining");
            running.listening.stop().await;
            if let Some(operations) = running.operations {
                operations.stop().await;
            }
            tracing::info!("axon stopped");
        }
        self
    }

    /// Whether the axon is serving (Python's `started`).
    ///
    /// ```
    /// assert!(!axon::Axon::new().started());
    /// ```
    pub fn started(&self) -> bool {
        self.running.is_some()
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
    pub fn load(&self) -> Option<crate::Load> {
        Some(self.running.as_ref()?.shared.admission.load())
    }

    /// Where the operations listener listens, once started with
    /// [`operations`](Axon::operations).
    ///
    /// ```
    /// assert_eq!(axon::Axon::new().operations_addr(), None);
    /// ```
    pub fn operations_addr(&self) -> Option<SocketAddr> {
        self.running
            .as_ref()?
            .operations
            .as_ref()
            .map(|l| l.local_addr())
    }

    /// Where the axon listens, once started.
    ///
    /// ```
    /// assert_eq!(axon::Axon::new().local_addr(), None);
    /// ```
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().map(|r| r.listening.local_addr())
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
        let hotkey = self.hotkey.as_ref()?;
        let ip = match (&self.running, &self.config.external_ip) {
            (Some(running), _) => running.external_ip,
            (None, Some(ip)) => parse_ip(ip)?,
            (None, None) => parse_ip(&self.config.ip).filter(IpAddr::is_loopback)?,
        };
        let port = self.config.external_port.unwrap_or_else(|| {
            self.local_addr()
                .map_or(self.config.port, |addr| addr.port())
        });
        Some(AxonInfo {
            version: BITTENSOR_VERSION,
            ip: ip.to_string(),
            port,
            ip_type: if ip.is_ipv4() { 4 } else { 6 },
            hotkey: hotkey.ss58().to_owned(),
            coldkey: self.coldkey.clone(),
            protocol: 4,
            placeholder1: 0,
            placeholder2: 0,
        })
    }
}

/// What [`Axon::start`] decided before any I/O.
struct Plan {
    built: Built,
    hotkey: Keypair,
    verifier: Arc<Verifier>,
    replay: Option<ReplayStore>,
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
fn parse_ip(text: &str) -> Option<IpAddr> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse().ok()
}

impl Drop for Axon {
    /// An axon dropped while serving stops accepting at once (Python's `__del__` stops it);
    /// requests in flight still finish. Call [`stop`](Axon::stop) to wait for them.
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.listening.stop_now();
            if let Some(operations) = running.operations {
                operations.stop_now();
            }
        }
    }
}

impl fmt::Display for Axon {
    /// Python's `str(axon)`: `Axon(ip, port, hotkey, started|stopped, [synapses])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let synapses: Vec<String> = match self.handlers() {
            Ok(handlers) => handlers.synapses().map(|n| format!("'{n}'")).collect(),
            Err(_) => Vec::new(),
        };
        let port = self.local_addr().map_or(self.config.port, |a| a.port());
        write!(
            f,
            "Axon({}, {}, {}, {}, [{}])",
            self.config.ip,
            port,
            self.hotkey.as_ref().map_or("None", |k| k.ss58()),
            if self.started() { "started" } else { "stopped" },
            synapses.join(", ")
        )
    }
}

impl Default for Axon {
    fn default() -> Self {
        Axon::new()
    }
}

impl fmt::Debug for Axon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Axon")
            .field("registry", &self.registry)
            .field("config", &self.config)
            .field("hotkey", &self.hotkey.as_ref().map(|k| k.ss58()))
            .field("started", &self.started())
            .field(
                "attached",
                &self.attached.iter().map(|e| e.info).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
