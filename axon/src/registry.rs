//! The handler registry: what the handler attributes submit through `inventory`, and the
//! builder that turns registrations and attached closures into one [`Handlers`] table and
//! the pipeline's routes beside it, collecting every [`HandlerProblem`] on the way.

use crate::endpoint::{
    policy, CallerCheck, CallerFn, Declaration, Endpoints, Entry as SignedEntry, Serve,
};
use crate::handler::{
    Blacklist, Check, Forward, HandlerError, HandlerInfo, IntoBlacklist, IntoPriority,
};
use crate::pipeline::{Compiled, Kind, Routes};
use crate::state::States;
use crate::table::{AnyEndpoint, Endpoint, Handlers, Slot, PING};
use crate::{BaseSynapse, Synapse};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// One handler declared with an attribute, as `inventory` collects it. Not a public API.
#[doc(hidden)]
pub struct Registration {
    info: HandlerInfo,
    /// The name of the synapse it is for, when it is for one.
    synapse: fn() -> Option<&'static str>,
    register: fn(&mut TableBuilder<'_>),
}

fn no_synapse() -> Option<&'static str> {
    None
}

impl Registration {
    #[doc(hidden)]
    pub const fn new(info: HandlerInfo, register: fn(&mut TableBuilder<'_>)) -> Self {
        Registration {
            info,
            synapse: no_synapse,
            register,
        }
    }

    /// The synapse a handler is for: `name` reads its name (see `__private::NameOf`).
    #[doc(hidden)]
    pub const fn synapse(mut self, name: fn() -> Option<&'static str>) -> Self {
        self.synapse = name;
        self
    }
}

inventory::collect!(Registration);

/// Every handler declared with an attribute in the program, in a stable order (by source
/// location), so "first" and "second" in a [`HandlerProblem`] do not depend on link order.
pub(crate) fn registrations() -> Vec<&'static Registration> {
    let mut all: Vec<&'static Registration> = inventory::iter::<Registration>().collect();
    all.sort_by_key(|r| (r.info.file(), r.info.line(), r.info.name(), r.info.kind()));
    all
}

/// A handler to add to the table: a registration, or a closure given to `attach`.
pub(crate) struct Entry {
    pub(crate) info: HandlerInfo,
    /// The synapse it is for (none for a signed-HTTP endpoint).
    pub(crate) synapse: Option<&'static str>,
    pub(crate) register: Arc<dyn Fn(&mut TableBuilder<'_>) + Send + Sync>,
}

impl From<&'static Registration> for Entry {
    fn from(r: &'static Registration) -> Self {
        Entry {
            info: r.info,
            synapse: (r.synapse)(),
            register: Arc::new(r.register),
        }
    }
}

/// Why the handler table cannot be built: two handlers for one slot, a handler without a
/// forward, a missing state. [`StartupError`](crate::StartupError) lists them with the
/// server's own problems.
///
/// ```
/// use axon::{Axon, BaseSynapse, HandlerProblem, Problem};
///
/// let err = Axon::new().attach(|s: BaseSynapse| s).attach(|s: BaseSynapse| s).handlers().unwrap_err();
/// assert!(matches!(
///     err.problems(),
///     [Problem::Handlers(HandlerProblem::DuplicateHandler { synapse: "Synapse", .. })]
/// ));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandlerProblem {
    /// Two handlers of the same kind for one synapse.
    DuplicateHandler {
        /// The synapse name.
        synapse: &'static str,
        /// The one found first (by source location; closures after attributes).
        first: HandlerInfo,
        /// The other.
        second: HandlerInfo,
    },
    /// A blacklist, priority or verify for a synapse that has no forward.
    NoForward {
        /// The synapse name.
        synapse: &'static str,
        /// The orphan handler.
        handler: HandlerInfo,
    },
    /// A handler takes a state argument whose type was never given to `Axon::state`.
    MissingState {
        /// The handler.
        handler: HandlerInfo,
        /// The state type.
        state: &'static str,
    },
    /// Two different Rust types claim the same synapse name.
    NameClash {
        /// The synapse name.
        synapse: &'static str,
        /// The type registered first.
        first_type: &'static str,
        /// The other type.
        second_type: &'static str,
        /// The handler of the other type.
        handler: HandlerInfo,
    },
    /// `Axon::state` was given two values of one type.
    DuplicateState {
        /// The state type.
        state: &'static str,
    },
    /// Two endpoints with one method and path.
    DuplicateEndpoint {
        /// `"{method} {path}"`.
        endpoint: &'static str,
        /// The one found first.
        first: HandlerInfo,
        /// The other.
        second: HandlerInfo,
    },
    /// An endpoint's path is a served synapse's route.
    EndpointClash {
        /// The endpoint.
        handler: HandlerInfo,
        /// Its path.
        path: &'static str,
        /// The synapse served there.
        synapse: &'static str,
    },
}

impl fmt::Display for HandlerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerProblem::DuplicateHandler {
                synapse,
                first,
                second,
            } => write!(
                f,
                "synapse `{synapse}` has two {kind}s: {first} and {second}; keep one",
                kind = first.kind(),
            ),
            HandlerProblem::NoForward { synapse, handler } => write!(
                f,
                "{handler} is for synapse `{synapse}`, which has no forward: add a \
                 `#[axon::forward]` for it, or remove the {kind}",
                kind = handler.kind(),
            ),
            HandlerProblem::MissingState { handler, state } => write!(
                f,
                "{handler} needs state `{state}`, which was not provided: call \
                 `.state(value)` with a `{state}` on the axon"
            ),
            HandlerProblem::NameClash {
                synapse,
                first_type,
                second_type,
                handler,
            } => write!(
                f,
                "synapse name `{synapse}` is used by two types, `{first_type}` and \
                 `{second_type}` (by {handler}): give one another name with \
                 `#[synapse(name = \"..\")]`"
            ),
            HandlerProblem::DuplicateState { state } => write!(
                f,
                "state `{state}` was provided twice: give one value per type (wrap them in \
                 distinct types to keep both)"
            ),
            HandlerProblem::DuplicateEndpoint {
                endpoint,
                first,
                second,
            } => write!(
                f,
                "endpoint `{endpoint}` is declared twice: {first} and {second}; keep one"
            ),
            HandlerProblem::EndpointClash {
                handler,
                path,
                synapse,
            } => write!(
                f,
                "{handler} is on `{path}`, where synapse `{synapse}` is served: give the \
                 endpoint another path (a prefix such as `/v1/..` keeps them apart)"
            ),
        }
    }
}

impl std::error::Error for HandlerProblem {}

/// The handler of Python's built-in `Synapse` endpoint: answers the synapse it was given.
/// It runs no user code, so the pipeline answers it without a worker (see [`PING`]).
fn ping(synapse: BaseSynapse) -> BaseSynapse {
    synapse
}

/// Builds the handler table. The generated registration functions call it; not a public API.
#[doc(hidden)]
pub struct TableBuilder<'a> {
    states: &'a States,
    current: HandlerInfo,
    endpoints: BTreeMap<&'static str, Box<dyn AnyEndpoint>>,
    signed: Endpoints,
    routes: Routes,
    problems: Vec<HandlerProblem>,
}

/// A handler table and the routes to its synapses.
pub(crate) struct Built {
    pub(crate) handlers: Handlers,
    pub(crate) routes: Routes,
}

impl<'a> TableBuilder<'a> {
    /// The table and routes of `entries`, or the problems of the table alone.
    pub(crate) fn collect(
        states: &'a States,
        entries: &[Entry],
    ) -> Result<Built, Vec<HandlerProblem>> {
        let ping_info = PING;
        let mut table = TableBuilder {
            states,
            current: ping_info,
            endpoints: BTreeMap::new(),
            signed: Endpoints::default(),
            routes: Routes::default(),
            problems: Vec::new(),
        };
        for entry in entries {
            table.current = entry.info;
            (entry.register)(&mut table);
        }
        // The ping endpoint, unless the program serves its own `Synapse`.
        let has_ping = table
            .endpoints
            .get("Synapse")
            .and_then(|e| e.forward_info());
        if has_ping.is_none() {
            table.current = ping_info;
            table.forward::<BaseSynapse>(Some(crate::handler::hook::forward_async(
                |s| async move { ping(s) },
            )));
        }
        for (name, endpoint) in &table.endpoints {
            if endpoint.forward_info().is_none() {
                for handler in endpoint.checks().into_iter().flatten() {
                    table.problems.push(HandlerProblem::NoForward {
                        synapse: name,
                        handler,
                    });
                }
            }
        }
        for route in table.signed.routes() {
            let path = route.declaration.path();
            let synapse = path
                .strip_prefix('/')
                .and_then(|n| table.endpoints.get_key_value(n));
            if let Some((synapse, _)) = synapse {
                table.problems.push(HandlerProblem::EndpointClash {
                    handler: route.handler,
                    path,
                    synapse,
                });
            }
        }
        if !table.problems.is_empty() {
            return Err(table.problems);
        }
        Ok(Built {
            handlers: Handlers::new(table.endpoints, table.signed),
            routes: table.routes,
        })
    }

    pub fn state<T: crate::handler::StateValue>(&mut self) -> Option<Arc<T>> {
        let found = self.states.get::<T>();
        if found.is_none() {
            self.problems.push(HandlerProblem::MissingState {
                handler: self.current,
                state: std::any::type_name::<T>(),
            });
        }
        found
    }

    /// The endpoint of the synapse `name` of type `S`, created if new; `None` (and a
    /// problem) if another type holds the name.
    fn endpoint<S: Synapse>(&mut self, name: &'static str) -> Option<&mut Endpoint<S>> {
        let endpoint = self
            .endpoints
            .entry(name)
            .or_insert_with(|| Box::new(Endpoint::<S>::default()));
        if endpoint.as_any().is::<Endpoint<S>>() {
            return endpoint.as_any_mut().downcast_mut();
        }
        let first_type = endpoint.synapse_type();
        self.problems.push(HandlerProblem::NameClash {
            synapse: name,
            first_type,
            second_type: std::any::type_name::<S>(),
            handler: self.current,
        });
        None
    }

    /// Puts `hook` in `slot`, or records a duplicate.
    fn fill<H>(
        &mut self,
        name: &'static str,
        hook: Option<H>,
        slot: impl FnOnce(&mut Self) -> Option<&mut Option<Slot<H>>>,
    ) {
        let info = self.current;
        let first = match slot(self) {
            None => return,
            Some(Some(existing)) => existing.info,
            Some(empty) => {
                *empty = Some(Slot::new(info, hook));
                return;
            }
        };
        self.problems.push(HandlerProblem::DuplicateHandler {
            synapse: name,
            first,
            second: info,
        });
    }

    /// Registers the forward of `S` (`None`: a state it needs is missing).
    pub fn forward<S: Synapse>(&mut self, hook: Option<Forward<S>>) {
        self.forward_of(Compiled::<S>::new(), hook);
    }

    /// Registers the forward of the synapse type `kind`.
    pub(crate) fn forward_of<K: Kind>(&mut self, kind: K, hook: Option<Forward<K::Synapse>>) {
        let name = kind.name();
        self.fill(name, hook, |t| Some(&mut t.endpoint(name)?.forward));
        self.routes.add(kind);
    }

    /// Registers the blacklist of `S`.
    pub fn blacklist<S: Synapse>(&mut self, hook: Option<Check<S, Blacklist>>) {
        self.blacklist_of(S::NAME, hook);
    }

    /// Registers the blacklist of the synapse `name` of type `S`.
    pub(crate) fn blacklist_of<S: Synapse>(
        &mut self,
        name: &'static str,
        hook: Option<Check<S, Blacklist>>,
    ) {
        self.fill(name, hook, |t| Some(&mut t.endpoint(name)?.blacklist));
    }

    /// Registers the priority of `S`.
    pub fn priority<S: Synapse>(&mut self, hook: Option<Check<S, f64>>) {
        self.priority_of(S::NAME, hook);
    }

    /// Registers the priority of the synapse `name` of type `S`.
    pub(crate) fn priority_of<S: Synapse>(
        &mut self,
        name: &'static str,
        hook: Option<Check<S, f64>>,
    ) {
        self.fill(name, hook, |t| Some(&mut t.endpoint(name)?.priority));
    }

    /// Registers a signed-HTTP endpoint (`serve` is `None` when a state it needs is
    /// missing, `blacklist` and `priority` when theirs are).
    pub fn signed_endpoint(
        &mut self,
        declaration: Declaration,
        serve: Option<Serve>,
        blacklist: Option<Option<CallerFn<Blacklist>>>,
        priority: Option<Option<CallerFn<f64>>>,
    ) {
        let info = self.current;
        let first = self
            .signed
            .get(declaration.method(), declaration.path())
            .map(|e| e.info);
        if let Some(first) = first {
            self.problems.push(HandlerProblem::DuplicateEndpoint {
                endpoint: declaration.label(),
                first,
                second: info,
            });
            return;
        }
        if let (Some(serve), Some(blacklist), Some(priority)) = (serve, blacklist, priority) {
            self.signed.add(SignedEntry {
                declaration,
                info,
                serve,
                blacklist,
                priority,
            });
        }
    }

    /// An endpoint's blacklist with its state bound: `Some(None)` when it has none, `None`
    /// (and a problem) when its state is missing.
    pub fn caller_blacklist<A, R: IntoBlacklist + 'static>(
        &mut self,
        check: impl CallerCheck<A, R>,
    ) -> Option<Option<CallerFn<Blacklist>>> {
        self.bound(check).map(|f| Some(policy::blacklist(f)))
    }

    /// An endpoint's priority with its state bound, as [`caller_blacklist`](Self::caller_blacklist).
    pub fn caller_priority<A, R: IntoPriority + 'static>(
        &mut self,
        check: impl CallerCheck<A, R>,
    ) -> Option<Option<CallerFn<f64>>> {
        self.bound(check).map(|f| Some(policy::priority(f)))
    }

    fn bound<A, R>(&mut self, check: impl CallerCheck<A, R>) -> Option<CallerFn<R>> {
        match check.bind(self.states) {
            Ok(f) => Some(f),
            Err(state) => {
                self.problems.push(HandlerProblem::MissingState {
                    handler: self.current,
                    state,
                });
                None
            }
        }
    }

    /// Registers the verify of `S`.
    pub fn verify<S: Synapse>(&mut self, hook: Option<Check<S, Result<(), HandlerError>>>) {
        self.verify_of(S::NAME, hook);
    }

    /// Registers the verify of the synapse `name` of type `S`.
    pub(crate) fn verify_of<S: Synapse>(
        &mut self,
        name: &'static str,
        hook: Option<Check<S, Result<(), HandlerError>>>,
    ) {
        self.fill(name, hook, |t| Some(&mut t.endpoint(name)?.verify));
    }
}
