//! [`Axon`], the builder: its handlers (registered or attached) and the state they share.
//! The serving settings are in `settings.rs`, the start in `start.rs`.

use super::external_ip::Discovery;
use super::operations::Exposition;
use super::running::Serving;
use super::settings::{Overrides, Wallet};
use super::{Limits, Problem, StartupError};
use crate::auth::AuthConfig;
use crate::config::AxonConfig;
use crate::handler::{BlacklistFn, ForwardFn, HandlerInfo, HandlerKind, PriorityFn, VerifyFn};
use crate::keys::Keypair;
use crate::net::{ProxyError, TrustedProxies};
use crate::pipeline::DEFAULT_MAX_TIMEOUT;
use crate::registry::{self, Entry, HandlerProblem, TableBuilder};
use crate::replay::ReplayStore;
use crate::state::States;
use crate::table::Handlers;
use crate::{DynamicSynapse, Synapse, SynapseSchema};
use std::fmt;
use std::net::SocketAddr;
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
    pub(super) registry: bool,
    pub(super) attached: Vec<Entry>,
    pub(super) states: States,
    /// Problems found while building (two states of one type).
    pub(super) problems: Vec<HandlerProblem>,
    /// The network settings given with `config` (the defaults otherwise).
    pub(super) config: AxonConfig,
    /// The network settings given one by one, which win over `config`'s.
    pub(super) overrides: Overrides,
    /// The hotkey and coldkey given one by one, which win over the wallet's.
    pub(super) hotkey: Option<Keypair>,
    pub(super) coldkey: Option<String>,
    pub(super) wallet: Option<Wallet>,
    pub(super) max_timeout: std::time::Duration,
    /// The signed-HTTP endpoints' rules.
    pub(super) auth: AuthConfig,
    /// The replay store shared with other processes, given in code (the config's URL
    /// otherwise).
    pub(super) replay: Option<ReplayStore>,
    pub(super) limits: Limits,
    pub(super) operations: Option<SocketAddr>,
    /// How to discover the external address (bittensor's HTTPS services by default).
    pub(super) discovery: Discovery,
    /// The trusted proxies given in code (the config's otherwise), or why they do not parse.
    pub(super) proxies: Option<Result<TrustedProxies, ProxyError>>,
    /// More lines of the `/metrics` exposition (the metagraph's).
    pub(super) exposition: Vec<Exposition>,
    /// The TLS certificate given in code (the config's files otherwise).
    #[cfg(feature = "tls")]
    pub(super) tls: Option<crate::tls::TlsConfig>,
    /// The running server, once started.
    pub(super) serving: Option<Serving>,
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
            overrides: Overrides::default(),
            hotkey: None,
            coldkey: None,
            wallet: None,
            max_timeout: DEFAULT_MAX_TIMEOUT,
            auth: AuthConfig::default(),
            replay: None,
            limits: Limits::default(),
            operations: None,
            discovery: Discovery::default(),
            proxies: None,
            exposition: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
            serving: None,
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
            self.problems.push(HandlerProblem::DuplicateState {
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
            self.problems.push(HandlerProblem::DuplicateState {
                state: std::any::type_name::<T>(),
            });
        }
        self.states.insert_arc(value);
        self
    }

    /// Adds an entry for a closure of `kind`, located at the caller of the public method.
    fn push<F, S: Synapse>(
        &mut self,
        kind: HandlerKind,
        location: &'static Location<'static>,
        register: impl Fn(&mut TableBuilder<'_>) + Send + Sync + 'static,
    ) {
        self.push_named::<F>(S::NAME, kind, location, register)
    }

    /// [`push`](Self::push) for the synapse `synapse`.
    fn push_named<F>(
        &mut self,
        synapse: &'static str,
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
            synapse: Some(synapse),
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
        self.push::<F, S>(HandlerKind::Forward, Location::caller(), move |t| {
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
        self.push::<F, S>(HandlerKind::Blacklist, Location::caller(), move |t| {
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
        self.push::<F, S>(HandlerKind::Priority, Location::caller(), move |t| {
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
        self.push::<F, S>(HandlerKind::Verify, Location::caller(), move |t| {
            t.verify::<S>(Some(hook.clone()))
        });
        self
    }

    /// Attaches `forward` as the forward of the run-time synapse type `schema`
    /// ([`SynapseSchema`]): served at `POST /{name}` exactly as a `#[synapse]` struct of the
    /// same name and fields is. A closure or function taking the [`DynamicSynapse`] by
    /// value and returning it (or `Result<_, E>`, or a streaming answer), plain or async.
    ///
    /// ```
    /// use axon::{Axon, DynamicSynapse, SynapseSchema};
    /// use serde_json::json;
    ///
    /// let echo = SynapseSchema::builder("Echo").required("text").hash(["text"]).build().unwrap();
    /// let handlers = Axon::new()
    ///     .attach_dynamic(&echo, |mut s: DynamicSynapse| {
    ///         let text = s.get("text").cloned().unwrap_or_default();
    ///         s.set("text", json!(format!("{}!", text.as_str().unwrap_or("")))).unwrap();
    ///         s
    ///     })
    ///     .handlers()
    ///     .unwrap();
    /// assert_eq!(handlers.synapses().collect::<Vec<_>>(), ["Synapse", "Echo"]);
    /// assert!(handlers.route("Echo").unwrap().synapse_type.ends_with("DynamicSynapse"));
    /// ```
    #[track_caller]
    pub fn attach_dynamic<M, F: ForwardFn<DynamicSynapse, M>>(
        mut self,
        schema: &SynapseSchema,
        forward: F,
    ) -> Self {
        let hook = forward.into_forward_handler();
        let schema = schema.clone();
        let location = Location::caller();
        self.push_named::<F>(schema.name(), HandlerKind::Forward, location, move |t| {
            t.forward_of(schema.clone(), Some(hook.clone()))
        });
        self
    }

    /// Serves a signed-HTTP endpoint built at run time, as `#[axon::endpoint]` serves one
    /// declared in code (see [`Endpoint`](crate::endpoint::Endpoint)). Two endpoints with
    /// one method and path are a startup problem.
    ///
    /// ```
    /// use axon::auth::Caller;
    /// use axon::endpoint::{Declaration, Endpoint};
    /// use axon::Axon;
    /// use axum::body::Bytes;
    ///
    /// let declaration = Declaration::parse("POST", "/v1/echo").unwrap().epistula(false);
    /// let echo = Endpoint::new(declaration, |_: Caller, body: Bytes| async move { body });
    /// let handlers = Axon::new().endpoint(echo).handlers().unwrap();
    /// assert_eq!(handlers.endpoints().len(), 1);
    /// ```
    #[track_caller]
    pub fn endpoint(mut self, endpoint: crate::endpoint::Endpoint) -> Self {
        let location = Location::caller();
        let info = HandlerInfo::new(
            HandlerKind::Endpoint,
            endpoint.handler,
            location.file(),
            location.line(),
        );
        let crate::endpoint::Endpoint {
            declaration,
            serve,
            blacklist,
            priority,
            ..
        } = endpoint;
        self.attached.push(Entry {
            info,
            synapse: None,
            register: Arc::new(move |t| {
                t.signed_endpoint(
                    declaration,
                    Some(serve.clone()),
                    Some(blacklist.clone()),
                    Some(priority.clone()),
                )
            }),
        });
        self
    }

    /// [`blacklist`](Axon::blacklist) for the run-time synapse type `schema`.
    #[track_caller]
    pub fn blacklist_dynamic<M, F: BlacklistFn<DynamicSynapse, M>>(
        mut self,
        schema: &SynapseSchema,
        blacklist: F,
    ) -> Self {
        let hook = blacklist.into_blacklist_handler();
        let name = schema.name();
        self.push_named::<F>(name, HandlerKind::Blacklist, Location::caller(), move |t| {
            t.blacklist_of(name, Some(hook.clone()))
        });
        self
    }

    /// [`priority`](Axon::priority) for the run-time synapse type `schema`.
    #[track_caller]
    pub fn priority_dynamic<M, F: PriorityFn<DynamicSynapse, M>>(
        mut self,
        schema: &SynapseSchema,
        priority: F,
    ) -> Self {
        let hook = priority.into_priority_handler();
        let name = schema.name();
        self.push_named::<F>(name, HandlerKind::Priority, Location::caller(), move |t| {
            t.priority_of(name, Some(hook.clone()))
        });
        self
    }

    /// [`verify`](Axon::verify) for the run-time synapse type `schema`: it replaces the
    /// default signature check for that type.
    #[track_caller]
    pub fn verify_dynamic<M, F: VerifyFn<DynamicSynapse, M>>(
        mut self,
        schema: &SynapseSchema,
        verify: F,
    ) -> Self {
        let hook = verify.into_verify_handler();
        let name = schema.name();
        self.push_named::<F>(name, HandlerKind::Verify, Location::caller(), move |t| {
            t.verify_of(name, Some(hook.clone()))
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
        let built = TableBuilder::collect(&self.states, &self.entries());
        match (built, self.problems.is_empty()) {
            (Ok(built), true) => Ok(built.handlers),
            (built, _) => {
                let mut problems = self.problems.clone();
                problems.extend(built.err().into_iter().flatten());
                Err(StartupError::new(
                    problems.into_iter().map(Problem::from).collect(),
                ))
            }
        }
    }

    /// Registered handlers (by source location), then attached closures (in order).
    pub(super) fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        if self.registry {
            entries.extend(registry::registrations().into_iter().map(Entry::from));
        }
        entries.extend(self.attached.iter().map(|e| Entry {
            info: e.info,
            synapse: e.synapse,
            register: e.register.clone(),
        }));
        entries
    }

    /// The synapses served, as [`Display`](fmt::Display) lists them without building the
    /// table: the running table's once started, otherwise `Synapse` (the built-in ping) and
    /// every synapse with a forward.
    fn synapse_names(&self) -> Vec<&'static str> {
        if let Some(serving) = &self.serving {
            return serving.synapses();
        }
        let mut names: Vec<&'static str> = self
            .entries()
            .iter()
            .filter(|e| e.info.kind() == HandlerKind::Forward)
            .filter_map(|e| e.synapse)
            .filter(|name| *name != "Synapse")
            .collect();
        names.sort_unstable();
        names.dedup();
        names.insert(0, "Synapse");
        names
    }
}

impl Default for Axon {
    fn default() -> Self {
        Axon::new()
    }
}

impl fmt::Display for Axon {
    /// Python's `str(axon)`: `Axon(ip, port, hotkey, started|stopped, [synapses])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = self.settings();
        let synapses: Vec<String> = self
            .synapse_names()
            .iter()
            .map(|n| format!("'{n}'"))
            .collect();
        let port = self.local_addr().map_or(settings.port, |a| a.port());
        write!(
            f,
            "Axon({}, {}, {}, {}, [{}])",
            settings.ip,
            port,
            self.hotkey_given().map_or("None", |k| k.ss58()),
            if self.started() { "started" } else { "stopped" },
            synapses.join(", ")
        )
    }
}

impl fmt::Debug for Axon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Axon")
            .field("registry", &self.registry)
            .field("config", &self.settings())
            .field("hotkey", &self.hotkey_given().map(|k| k.ss58()))
            .field("started", &self.started())
            .field(
                "attached",
                &self.attached.iter().map(|e| e.info).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Axon, BaseSynapse};

    #[crate::synapse]
    pub struct Shown {
        #[default]
        pub n: i64,
    }

    #[test]
    fn display_lists_the_synapses_with_a_forward_without_building_the_table() {
        let axon = Axon::new()
            .attach(|s: Shown| s)
            .priority(|_: &BaseSynapse| 1.0)
            .state(1u8)
            .state(2u8);
        // The table would not build (two states of one type); what is known is shown, and
        // the problem waits for `start`.
        assert!(axon.handlers().is_err());
        assert_eq!(
            axon.to_string(),
            "Axon([::], 8091, None, stopped, ['Synapse', 'Shown'])"
        );
    }
}
