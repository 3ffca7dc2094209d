//! [`Handlers`]: the table of every synapse's forward, blacklist, priority and verify, with
//! state resolved. The pipeline runs handlers through it; tests can call it in-process.
//! It knows nothing of HTTP: the registry builds it, and the pipeline's routes beside it.

use crate::endpoint::{EndpointRoute, Endpoints};
use crate::handler::{
    Blacklist, Check, Forward, HandlerError, HandlerInfo, HandlerKind, Reply, Watch,
};
use crate::task::{join_failure, AbortOnDrop, CatchUnwind};
use crate::Synapse;
use http::StatusCode;
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use tracing::{Instrument, Span};

/// The built-in ping endpoint's forward (`Synapse`, unless the program serves its own). It
/// runs no user code: it is answered inline, without a worker, so a validator's ping is
/// answered at once however busy the workers are.
pub(crate) const PING: HandlerInfo =
    HandlerInfo::new(HandlerKind::Forward, "axon::ping", file!(), line!());

/// One handler in the table: where it comes from, and the function (absent only while the
/// table is built, when a state it needs was not provided).
pub(crate) struct Slot<H> {
    pub(crate) info: HandlerInfo,
    pub(crate) hook: Option<H>,
    /// Times the polls of its async code.
    pub(crate) watch: Watch,
}

impl<H> Slot<H> {
    pub(crate) fn new(info: HandlerInfo, hook: Option<H>) -> Self {
        Slot {
            info,
            hook,
            watch: Watch::new(info),
        }
    }
}

/// The handlers of synapse type `S`.
pub(crate) struct Endpoint<S> {
    pub(crate) forward: Option<Slot<Forward<S>>>,
    pub(crate) blacklist: Option<Slot<Check<S, Blacklist>>>,
    pub(crate) priority: Option<Slot<Check<S, f64>>>,
    pub(crate) verify: Option<Slot<Check<S, Result<(), HandlerError>>>>,
}

impl<S> Default for Endpoint<S> {
    fn default() -> Self {
        Endpoint {
            forward: None,
            blacklist: None,
            priority: None,
            verify: None,
        }
    }
}

/// An [`Endpoint`] of any synapse type.
pub(crate) trait AnyEndpoint: Send + Sync + 'static {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The Rust type of the synapse.
    fn synapse_type(&self) -> &'static str;
    /// The forward, if any.
    fn forward_info(&self) -> Option<HandlerInfo>;
    /// The blacklist, priority and verify present.
    fn checks(&self) -> [Option<HandlerInfo>; 3];
    /// The watch over the forward, if any.
    fn forward_watch(&self) -> Option<&Watch>;
}

impl<S: Synapse> AnyEndpoint for Endpoint<S> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn synapse_type(&self) -> &'static str {
        std::any::type_name::<S>()
    }
    fn forward_info(&self) -> Option<HandlerInfo> {
        self.forward.as_ref().map(|s| s.info)
    }
    fn checks(&self) -> [Option<HandlerInfo>; 3] {
        [
            self.blacklist.as_ref().map(|s| s.info),
            self.priority.as_ref().map(|s| s.info),
            self.verify.as_ref().map(|s| s.info),
        ]
    }
    fn forward_watch(&self) -> Option<&Watch> {
        Some(&self.forward.as_ref()?.watch)
    }
}

/// A served synapse and its handlers, as [`Handlers::routes`] lists them.
///
/// ```
/// use axon::Axon;
///
/// let handlers = Axon::new().handlers().unwrap();
/// let ping = handlers.route("Synapse").unwrap(); // Python's built-in ping endpoint
/// assert_eq!(ping.synapse, "Synapse");
/// assert_eq!(ping.forward.name(), "axon::ping");
/// assert_eq!(ping.verify, None); // the default signature check applies
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// The synapse (route) name: the URL path `/{synapse}`.
    pub synapse: &'static str,
    /// The Rust type of the synapse.
    pub synapse_type: &'static str,
    /// The forward.
    pub forward: HandlerInfo,
    /// The blacklist, if any.
    pub blacklist: Option<HandlerInfo>,
    /// The priority, if any.
    pub priority: Option<HandlerInfo>,
    /// The verify replacing the default signature check, if any.
    pub verify: Option<HandlerInfo>,
}

/// The handler table of an axon: built by [`Axon::handlers`](crate::Axon::handlers) once
/// every handler is found and every state it needs is provided.
///
/// Besides serving, it runs handlers in-process, which is how to unit-test a miner's
/// handlers with their state but without HTTP. Call it inside a tokio runtime: a plain `fn`
/// forward runs on tokio's blocking pool.
///
/// ```
/// use axon::{Axon, Blacklist, Synapse};
///
/// #[axon::synapse]
/// pub struct Echo { #[hash] pub text: String, #[default] pub out: Option<String> }
///
/// #[axon::forward]
/// fn echo(mut s: Echo) -> Echo {
///     s.out = Some(s.text.chars().rev().collect());
///     s
/// }
///
/// #[axon::blacklist]
/// fn no_empty(s: &Echo) -> (bool, String) {
///     (s.text.is_empty(), "empty text".into())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handlers = Axon::from_registry().handlers().unwrap();
/// assert_eq!(handlers.synapses().collect::<Vec<_>>(), ["Synapse", "Echo"]);
/// assert_eq!(handlers.blacklist(&Echo::new("".into())).await, Blacklist::Deny("empty text".into()));
/// let out = handlers.forward(Echo::new("abc".into())).await.unwrap();
/// assert_eq!(out.out.as_deref(), Some("cba"));
/// # }
/// ```
pub struct Handlers {
    endpoints: BTreeMap<&'static str, Box<dyn AnyEndpoint>>,
    signed: Endpoints,
}

impl Handlers {
    pub(crate) fn new(
        endpoints: BTreeMap<&'static str, Box<dyn AnyEndpoint>>,
        signed: Endpoints,
    ) -> Self {
        Handlers { endpoints, signed }
    }

    /// The signed-HTTP endpoints ([`#[axon::endpoint]`](macro@crate::endpoint)), by path then
    /// method.
    ///
    /// ```
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// assert!(handlers.endpoints().is_empty());
    /// ```
    pub fn endpoints(&self) -> Vec<EndpointRoute> {
        self.signed.routes()
    }

    /// The signed-HTTP endpoints' table.
    pub(crate) fn signed(&self) -> &Endpoints {
        &self.signed
    }

    /// The served synapse names: `Synapse` (the ping endpoint) first, then by name, as
    /// the 404 answer lists them.
    ///
    /// ```
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// assert_eq!(handlers.synapses().collect::<Vec<_>>(), ["Synapse"]);
    /// ```
    pub fn synapses(&self) -> impl Iterator<Item = &'static str> + '_ {
        let ping = self.endpoints.keys().copied().filter(|n| *n == "Synapse");
        ping.chain(self.endpoints.keys().copied().filter(|n| *n != "Synapse"))
    }

    /// Every route, in the order of [`synapses`](Self::synapses).
    ///
    /// ```
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// assert_eq!(handlers.routes().count(), 1);
    /// ```
    pub fn routes(&self) -> impl Iterator<Item = Route> + '_ {
        self.synapses().filter_map(|name| self.route(name))
    }

    /// The route of one synapse name.
    ///
    /// ```
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// assert!(handlers.route("Nope").is_none());
    /// ```
    pub fn route(&self, synapse: &str) -> Option<Route> {
        let (name, endpoint) = self.endpoints.get_key_value(synapse)?;
        let [blacklist, priority, verify] = endpoint.checks();
        Some(Route {
            synapse: name,
            synapse_type: endpoint.synapse_type(),
            forward: endpoint.forward_info()?,
            blacklist,
            priority,
            verify,
        })
    }

    /// The handlers of the synapse type `S` served at `route`.
    fn endpoint<S: Synapse>(&self, route: &str) -> Option<&Endpoint<S>> {
        self.endpoints.get(route)?.as_any().downcast_ref()
    }

    /// The answer when `S` is not served: Python's 404 message.
    pub(crate) fn not_found(&self, name: &str) -> HandlerError {
        let names: Vec<String> = self.synapses().map(|n| format!("'{n}'")).collect();
        HandlerError::new(
            StatusCode::NOT_FOUND,
            format!(
                "Synapse name '{name}' not found. Available synapses [{}]",
                names.join(", ")
            ),
        )
    }

    /// Runs the forward of `S` on the current runtime: an `async fn` as a task, a plain `fn`
    /// on the blocking pool.
    /// A panic becomes an internal error; an unserved `S` gives 404 with Python's message.
    /// A streaming forward's answer is an error here: call [`reply`](Handlers::reply).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// let pong = handlers.forward(axon::BaseSynapse::default()).await.unwrap();
    /// assert_eq!(pong.name.as_deref(), Some("Synapse"));
    /// # }
    /// ```
    pub async fn forward<S: Synapse>(&self, synapse: S) -> Result<S, HandlerError> {
        let route = synapse.route();
        match self.reply(synapse).await? {
            Reply::Synapse(out) => Ok(out),
            Reply::Stream(_) => Err(HandlerError::internal(format!(
                "the forward of {} streams: call Handlers::reply to read its chunks",
                route
            ))),
        }
    }

    /// Runs the forward of `S` as [`forward`](Handlers::forward) does, and returns its
    /// answer whole or as a stream.
    ///
    /// ```
    /// use axon::handler::Reply;
    /// use axon::{BaseSynapse, Streaming};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handlers = axon::Axon::new()
    ///     .attach(|s: BaseSynapse| Streaming::new(s, |chunks| async move { chunks.send("hi").await }))
    ///     .handlers()
    ///     .unwrap();
    /// let reply = handlers.reply(BaseSynapse::default()).await.unwrap();
    /// assert!(matches!(reply, Reply::Stream(_)));
    /// assert!(handlers.forward(BaseSynapse::default()).await.is_err());
    /// # }
    /// ```
    pub async fn reply<S: Synapse>(&self, synapse: S) -> Result<Reply<S>, HandlerError> {
        self.reply_on(synapse, &tokio::runtime::Handle::current())
            .await
    }

    /// [`reply`](Handlers::reply), the forward's code run on `runtime` (a running axon's
    /// handler runtime) where it must be: a plain `fn` on its blocking pool, an async one
    /// as a task there while in probation or once seen blocking (`handler::watch`).
    pub(crate) async fn reply_on<S: Synapse>(
        &self,
        synapse: S,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Reply<S>, HandlerError> {
        let route = synapse.route();
        let slot = self.endpoint::<S>(route).and_then(|e| e.forward.as_ref());
        let Some((forward, slot)) = slot.and_then(|s| Some((s.hook.clone()?, s))) else {
            return Err(self.not_found(route));
        };
        let watch = &slot.watch;
        // Dropping this future (a timeout) cancels an async forward at its next `.await`;
        // a blocking one cannot be interrupted and finishes on its own thread, its result
        // discarded. An async forward runs on `runtime` until its watch has seen it never
        // hold its thread, then here, in the request's task (see `handler::watch`). Either
        // way it runs in the caller's span (the request's), so its own lines carry it: inline
        // it already is; on another thread it takes the span along.
        let joined = match forward {
            Forward::Async(f) if slot.info == PING => return f(synapse).await,
            Forward::Blocking(f) => {
                let span = Span::current();
                runtime
                    .spawn_blocking(move || span.in_scope(|| f(synapse)))
                    .await
            }
            Forward::Async(f) if watch.offload() => {
                let task = watch.watch(f(synapse)).instrument(Span::current());
                AbortOnDrop(runtime.spawn(task)).await
            }
            Forward::Async(f) => {
                let polled = CatchUnwind(Box::pin(watch.watch(f(synapse)))).await;
                return polled.unwrap_or_else(|panic| {
                    Err(HandlerError::internal(format!("the forward {panic}")))
                });
            }
        };
        joined.unwrap_or_else(|e| Err(HandlerError::internal(join_failure(e))))
    }

    /// Whether the synapse `route` has a custom verify (which replaces the default check).
    pub(crate) fn has_custom_verify(&self, route: &str) -> bool {
        self.endpoints
            .get(route)
            .is_some_and(|e| e.checks()[2].is_some())
    }

    /// Whether the synapse `route` is served by the built-in ping, which needs no worker.
    pub(crate) fn is_ping(&self, route: &str) -> bool {
        let forward = self.endpoints.get(route).and_then(|e| e.forward_info());
        forward.is_some_and(|info| info == PING)
    }

    /// The watch over the forward of the synapse `route`, which its stream producer is
    /// timed by too.
    pub(crate) fn forward_watch(&self, route: &str) -> Option<&Watch> {
        self.endpoints.get(route)?.forward_watch()
    }

    /// Runs the blacklist of `S`; [`Blacklist::Allow`] when it has none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// let verdict = handlers.blacklist(&axon::BaseSynapse::default()).await;
    /// assert_eq!(verdict, axon::Blacklist::Allow);
    /// # }
    /// ```
    pub async fn blacklist<S: Synapse>(&self, synapse: &S) -> Blacklist {
        match self
            .endpoint::<S>(synapse.route())
            .and_then(|e| e.blacklist.as_ref()?.hook.as_ref())
        {
            Some(check) => check.run(synapse).await,
            None => Blacklist::Allow,
        }
    }

    /// Runs the priority of `S`; `None` when it has none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// assert_eq!(handlers.priority(&axon::BaseSynapse::default()).await, None);
    /// # }
    /// ```
    pub async fn priority<S: Synapse>(&self, synapse: &S) -> Option<f64> {
        let check = self
            .endpoint::<S>(synapse.route())?
            .priority
            .as_ref()?
            .hook
            .as_ref()?;
        Some(check.run(synapse).await)
    }

    /// Runs the custom verify of `S`; `None` when it has none, in which case the axon's
    /// default signature check applies.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let handlers = axon::Axon::new().handlers().unwrap();
    /// assert!(handlers.custom_verify(&axon::BaseSynapse::default()).await.is_none());
    /// # }
    /// ```
    pub async fn custom_verify<S: Synapse>(&self, synapse: &S) -> Option<Result<(), HandlerError>> {
        let check = self
            .endpoint::<S>(synapse.route())?
            .verify
            .as_ref()?
            .hook
            .as_ref()?;
        Some(check.run(synapse).await)
    }
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.routes()).finish()?;
        match self.signed.is_empty() {
            true => Ok(()),
            false => f.debug_list().entries(self.endpoints()).finish(),
        }
    }
}
