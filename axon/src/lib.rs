//! # axon
//!
//! A Bittensor axon (the miner's HTTP server) in Rust that speaks the Python protocol byte
//! for byte, so the Python `bittensor.Dendrite` of any validator calls it unchanged.
//!
//! Declare a synapse with [`#[synapse]`](synapse): it reads and writes the exact headers,
//! JSON and body hash of the Python class of the same name and fields ([`wire`]). Declare
//! its handlers with [`#[forward]`](macro@forward), [`#[blacklist]`](macro@blacklist),
//! [`#[priority]`](macro@priority) and [`#[verify]`](macro@verify), whose signatures are
//! checked at compile time, and [`Axon::from_registry`] finds them all ([`handler`]).
//!
//! ```
//! use axon::Synapse;
//!
//! /// Python: `class Echo(bt.Synapse): text: str; n: int; out: Optional[str] = None`
//! ///         `required_hash_fields = ("text", "n")`
//! #[axon::synapse]
//! pub struct Echo {
//!     #[hash]
//!     pub text: String,
//!     #[hash]
//!     pub n: i64,
//!     #[default]
//!     pub out: Option<String>,
//! }
//!
//! let mut echo = Echo::new("abc".into(), 2);
//! echo.out = Some(echo.text.chars().rev().collect());
//! assert_eq!(echo.dendrite.hotkey, None); // the common fields are plain fields
//! assert_eq!(echo.timeout, Some(12.0));
//! let body = String::from_utf8(echo.to_json().unwrap()).unwrap();
//! assert!(body.starts_with(r#"{"name":"Echo","timeout":12.0,"total_size":0,"#));
//! assert!(body.ends_with(r#""text":"abc","n":2,"out":"cba"}"#));
//! ```

extern crate self as axon;

// The modules from the bottom up: each imports only from itself and those declared before
// it (ARCHITECTURE.md; `tests/architecture.rs` checks it). One layer per paragraph, so
// rustfmt keeps the order.

// The protocol: the wire codec and the signed messages, keys, and the axon's chain record.
pub mod wire;

pub mod keys;

#[cfg(feature = "chain")]
pub mod chain;

mod uuid;

mod axon_info;

// Leaves that know nothing of synapses: networking, task helpers, the metrics tables.
mod net;

mod task;

mod metrics;

// The replay store shared between processes (Redis).
pub mod replay;

// Handlers and their checks.
pub mod handler;

pub mod verify;

pub mod auth;

// The client side: synapses, and signed HTTP (on `auth`).
pub mod dendrite;

#[cfg(feature = "chain")]
pub mod metagraph;

mod state;

// Signed-HTTP endpoints: declaration, table, policies, extraction (on `auth`, `handler`,
// `state`).
pub mod endpoint;

mod table;

// Serving: the request pipeline, the registry that builds its table and routes, the
// configuration, and the server that binds it all.
mod pipeline;

mod registry;

pub mod config;

#[cfg(feature = "logging")]
pub mod logging;

mod server;

pub use axon_info::AxonInfo;
pub use handler::{Blacklist, HandlerError, HandlerInfo, HandlerKind, Streaming};
/// HTTP status codes, for [`HandlerError::new`].
pub use http::StatusCode;
#[cfg(feature = "chain")]
pub use metagraph::Metagraph;
pub use net::TrustedProxies;
pub use pipeline::Load;
pub use registry::HandlerProblem;
pub use server::{external_ip, shutdown_signal, Axon, Limits, Problem, Serving, StartupError};
#[cfg(feature = "chain")]
pub use server::{ServeError, Served};
pub use state::State;
pub use table::{Handlers, Route};

/// Makes a struct a synapse: the Rust twin of a Python `bittensor.Synapse` subclass.
///
/// `#[synapse]` adds the common fields (`name`, `timeout`, `total_size`, `header_size`,
/// `dendrite`, `axon`, `computed_body_hash`) as plain public fields, derives serde so the JSON
/// is pydantic's, and implements [`Synapse`]: the route name, `to_headers`, `from_headers`,
/// `body_hash`, `to_json` and `from_json`. It also generates `new(required fields..)` and,
/// when no field is required, `Default`.
///
/// Mapping a Python class field by field:
///
/// | Python | Rust |
/// |---|---|
/// | `text: str` (no default: required) | `pub text: String` |
/// | `out: Optional[str] = None` | `#[default] pub out: Option<String>` |
/// | `k: int = 5` | `#[default(5)] pub k: i64` |
/// | `required_hash_fields = ("text", "n")` | `#[hash]` on `text` and `n` (in that order) |
/// | any other order | `#[synapse(hash_fields = ["n", "text"])]` |
/// | class name differs from the struct's | `#[synapse(name = "TextGen")]` |
/// | `dict[str, float]` | `indexmap::IndexMap<String, f64>` (Python keeps insertion order) |
/// | a nested `BaseModel` | a struct marked [`#[model]`](model) |
/// | `timeout: float = 60.0` (a subclass's own default timeout) | `#[synapse(timeout = 60.0)]` |
/// | (no Python equivalent) a body limit for this synapse alone | `#[synapse(max_body = 64 * 1024 * 1024)]` ([`Synapse::MAX_BODY`]) |
///
/// A required field (no default) gets a `bt_header_input_obj_*` header holding an empty value
/// of its type, as Python sends; its type must implement [`wire::InputObj`]. A hashed field's
/// type must implement [`PyStr`]. Enums, tuple structs, generics, `#[serde]` attributes and
/// fields named like a common field are refused at compile time with a message saying what
/// to write instead.
///
/// ```
/// use axon::Synapse;
///
/// #[axon::model]
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct Context {
///     #[default]
///     pub lang: String,
/// }
///
/// #[axon::synapse(name = "TextGen", hash_fields = ["prompt", "max_tokens"])]
/// #[derive(Debug, Clone, PartialEq)]
/// pub struct TextGenSynapse {
///     pub prompt: String,
///     #[default(64)]
///     pub max_tokens: u32,
///     #[default]
///     pub context: Context,
///     #[default]
///     pub completion: Option<String>,
/// }
///
/// let req = TextGenSynapse::new("Once upon".into());
/// assert_eq!(TextGenSynapse::NAME, "TextGen");
/// assert_eq!(TextGenSynapse::REQUIRED_FIELDS, ["prompt"]);
/// let headers = req.to_headers();
/// assert_eq!(headers.get("bt_header_input_obj_prompt"), Some("IiI="));
///
/// let map = headers.to_header_map().unwrap();
/// let from_headers = TextGenSynapse::from_headers(&map).unwrap();
/// assert_eq!(from_headers.prompt, ""); // the placeholder; the body carries the value
/// assert_eq!(from_headers.computed_body_hash.as_deref(), Some(req.body_hash().as_str()));
/// ```
pub use axon_macros::synapse;

/// Registers a function as the forward of its synapse: the handler that answers requests.
///
/// The function takes the synapse **by value** and returns it (with its output fields set),
/// or `Result<S, E>` with `E: Into<`[`HandlerError`]`>` to answer with an error status. It may
/// be `async fn` (run as a task) or plain `fn` (run on a blocking thread, so a slow one never
/// stalls the server). [`Axon::from_registry`] finds it, wherever it is in the program.
///
/// Arguments after the synapse are shared state, filled from [`Axon::state`]: `&T` borrows
/// the value for the call, [`State<T>`](State) is an owned handle. A missing state is a
/// startup error naming the handler and the type.
///
/// The signature is checked at compile time, with the error at the offending tokens and a
/// message saying what to write: `self` receivers, generic parameters, a synapse taken by
/// reference, a type that is not a synapse, a wrong or missing return type, a state argument
/// that is neither `&T` nor `State<T>`. The attribute may name its synapse,
/// `#[axon::forward(Echo)]`, which must then be the argument's type.
///
/// ```
/// use axon::{Axon, HandlerError, Synapse};
/// use axon::StatusCode;
///
/// #[axon::synapse]
/// #[derive(Debug)]
/// pub struct Square { #[hash] pub x: i64, #[default] pub y: Option<i64> }
///
/// #[axon::forward]
/// async fn square(mut s: Square) -> Result<Square, HandlerError> {
///     let y = s.x.checked_mul(s.x)
///         .ok_or_else(|| HandlerError::new(StatusCode::BAD_REQUEST, "x is too large"))?;
///     s.y = Some(y);
///     Ok(s)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handlers = Axon::from_registry().handlers().unwrap();
/// assert_eq!(handlers.forward(Square::new(12)).await.unwrap().y, Some(144));
/// let err = handlers.forward(Square::new(i64::MAX)).await.unwrap_err();
/// assert_eq!((err.status().as_u16(), err.message()), (400, "x is too large"));
/// # }
/// ```
pub use axon_macros::forward;
/// Makes a struct a nested pydantic model, usable as a synapse field type.
///
/// Fields follow the same rules as [`#[synapse]`](synapse) (`#[default]`,
/// `#[default(expr)]`, required otherwise). The model implements [`PyStr`] as the dict that
/// `model_dump()` makes of it (`{'a': 1, 'b': 'x'}`, which is what Python hashes, not the
/// `a=1 b='x'` of `str(model)`), and [`wire::InputObj`] as `{}`.
///
/// ```
/// use axon::PyStr;
///
/// #[axon::model]
/// pub struct Inner {
///     #[default(1)]
///     pub a: i64,
///     #[default("x".into())]
///     pub b: String,
/// }
///
/// assert_eq!(Inner::default().to_py_str(), "{'a': 1, 'b': 'x'}");
/// ```
pub use axon_macros::model;

/// Registers a function as the blacklist of its synapse: it runs first, on the synapse
/// read from the headers (the body is not read yet), and refuses a request with
/// `403 Forbidden. Key is blacklisted: {reason}.`. It sees who calls (`dendrite.hotkey`,
/// `timeout`, ...) but not what they sent: required fields still hold their placeholders
/// (`""`, `0`, `[]`), as in Python.
///
/// It takes `&S` and returns `(bool, String)` (Python's shape: `true` refuses) or
/// [`Blacklist`]; `fn` or `async fn`; state arguments as for [`forward`](macro@forward).
/// A blacklist needs a forward for the same synapse, or the axon refuses to start.
///
/// ```
/// use axon::{Axon, Blacklist, Synapse};
/// use std::collections::HashSet;
///
/// #[axon::synapse]
/// pub struct Job { #[default] pub id: i64 }
///
/// #[axon::forward]
/// fn job(s: Job) -> Job { s }
///
/// pub struct Allowed(HashSet<String>);
///
/// #[axon::blacklist(Job)]
/// fn only_allowed(s: &Job, allowed: &Allowed) -> Blacklist {
///     match &s.dendrite.hotkey {
///         Some(k) if allowed.0.contains(k) => Blacklist::Allow,
///         _ => Blacklist::Deny("hotkey not allowed".into()),
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let allowed = Allowed(HashSet::from(["5Grw".to_string()]));
/// let handlers = Axon::from_registry().state(allowed).handlers().unwrap();
/// let mut req = Job::default();
/// assert!(handlers.blacklist(&req).await.is_denied());
/// req.dendrite.hotkey = Some("5Grw".into());
/// assert_eq!(handlers.blacklist(&req).await, Blacklist::Allow);
/// # }
/// ```
pub use axon_macros::blacklist;

/// Registers a function as the priority of its synapse: `&S -> f64`, higher is served first
/// when requests wait for a worker. Like the blacklist, it sees the synapse read from the
/// headers only. `fn` or `async fn`; state arguments as for [`forward`](macro@forward).
///
/// At most `max_workers` requests are served at once; the others wait in a queue served by
/// priority, highest first and first come first served among equals (`NaN` counts as the
/// lowest). A synapse without a priority counts as `0.0`.
///
/// ```
/// use axon::{Axon, Synapse};
///
/// #[axon::synapse]
/// pub struct Job { #[default] pub id: i64 }
///
/// #[axon::forward]
/// fn job(s: Job) -> Job { s }
///
/// #[axon::priority]
/// async fn by_id(s: &Job) -> f64 {
///     s.id as f64
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handlers = Axon::from_registry().handlers().unwrap();
/// assert_eq!(handlers.priority(&Job { id: 7, ..Job::default() }).await, Some(7.0));
/// # }
/// ```
pub use axon_macros::priority;

/// Registers a function as the verify of its synapse: `&S -> Result<(), E>`; an error
/// refuses the request with `401 Not Verified with error: {message}` (or the error's own
/// status, and 500 for an internal error). It runs after the blacklist, on the synapse read
/// from the headers.
///
/// # A custom verify replaces the signature check
///
/// **Exactly as in Python, a verify replaces the default check for its synapse**: the
/// sr25519 signature of the dendrite, the nonce window and the replay protection are then
/// *not* applied to that synapse unless your function applies them. Requests of that synapse
/// are only as authenticated as your function makes them. To keep the default check and add
/// your own rules, take the axon's [`&Verifier`](verify::Verifier) as a state argument and
/// call it first: `default.verify(synapse)?;` (see [`verify`](mod@verify)).
///
/// `fn` or `async fn`; state arguments as for [`forward`](macro@forward).
///
/// ```
/// use axon::{Axon, HandlerError, Synapse};
/// use axon::StatusCode;
///
/// #[axon::synapse]
/// pub struct Job { #[default] pub id: i64 }
///
/// #[axon::forward]
/// fn job(s: Job) -> Job { s }
///
/// #[axon::verify]
/// fn positive_ids(s: &Job) -> Result<(), HandlerError> {
///     if s.id < 0 {
///         return Err(HandlerError::new(StatusCode::UNAUTHORIZED, "negative id"));
///     }
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handlers = Axon::from_registry().handlers().unwrap();
/// let refused = handlers.custom_verify(&Job { id: -1, ..Job::default() }).await.unwrap();
/// assert_eq!(refused.unwrap_err().message(), "negative id");
/// # }
/// ```
pub use axon_macros::verify;

/// Registers an `async fn` as a signed-HTTP endpoint: `#[axon::endpoint(METHOD "/path",
/// options..)]`, served beside the synapses on the same port for bittensor 11 validators
/// (`btauth/1`) and Epistula subnets.
///
/// Its arguments are the verified [`auth::Caller`], [`State<T>`] values given with
/// [`Axon::state`], axum extractors of the request's head (`HeaderMap`, `Query<T>`, ...) and
/// last the body (`axum::Json<T>`, `Bytes`, `String`); it answers with any
/// `axum::response::IntoResponse` (a [`HandlerError`] answers with its status and
/// `{"message": ..}`).
///
/// | option | meaning | default |
/// |---|---|---|
/// | `auth = btauth`, `auth = epistula`, `auth = [btauth, epistula]` | the schemes accepted | both |
/// | `unbound` | accept requests bound to no receiver (bound to another hotkey is still refused) | receiver required |
/// | `timeout = 30` | seconds from arrival to answer (408 beyond) | 12 s |
/// | `max_body = 65536` | bytes (413 beyond) | the axon's `max_body` |
/// | `blacklist = f` | `fn f(&Caller, &A, &B) -> Blacklist` (or `(bool, String)`), before the signature; `A`, `B`: state | none |
/// | `priority = f` | `fn f(&Caller, &A, &B) -> f64`: its place in the queue | 0 |
///
/// The request runs the synapse's pipeline: headers (400/401), blacklist (403), admission
/// by priority (503/408), the body read within its limit (413), then the signature over it
/// and the replay store (401), then the handler. See [`endpoint`](mod@endpoint).
///
/// ```
/// use axon::auth::{Caller, Scheme};
/// use axon::Axon;
/// use axum::Json;
///
/// #[derive(serde::Deserialize)]
/// pub struct Ask { pub text: String }
///
/// #[derive(serde::Serialize)]
/// pub struct Answer { pub text: String, pub out: String, pub by: String }
///
/// #[axon::endpoint(POST "/v1/echo", auth = [btauth, epistula])]
/// async fn echo(caller: Caller, Json(ask): Json<Ask>) -> Json<Answer> {
///     let out = ask.text.chars().rev().collect();
///     Json(Answer { text: ask.text, out, by: caller.hotkey })
/// }
///
/// let handlers = Axon::from_registry().handlers().unwrap();
/// let route = &handlers.endpoints()[0];
/// assert_eq!(route.declaration.label(), "POST /v1/echo");
/// assert!(route.declaration.accepts(Scheme::Epistula));
/// ```
pub use axon_macros::endpoint;
pub use wire::{BaseSynapse, PyStr, Synapse, TerminalInfo};

/// Support for the code `#[synapse]` and `#[model]` generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    use serde::de::{Deserialize, Deserializer, IgnoredAny};

    /// A required field: missing is an error even for `Option` (pydantic's rule).
    pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }

    /// `null` reads as the default (pydantic allows `None` for `Optional[TerminalInfo]`).
    pub fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
        d: D,
    ) -> Result<T, D::Error> {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }

    /// `name` is always the route name, whatever the body says (pydantic's `set_name_type`).
    pub fn route_name<'de, D: Deserializer<'de>>(
        d: D,
        name: &str,
    ) -> Result<Option<String>, D::Error> {
        IgnoredAny::deserialize(d)?;
        Ok(Some(name.to_owned()))
    }

    pub fn default_timeout() -> Option<f64> {
        Some(12.0)
    }

    pub fn default_size() -> Option<i64> {
        Some(0)
    }

    pub fn default_body_hash() -> Option<String> {
        Some(String::new())
    }

    /// A model field as a `&dyn PyStr`, checked at the user's type.
    pub fn as_py_str<T: crate::PyStr>(v: &T) -> &dyn crate::PyStr {
        v
    }

    /// Writes a model as the dict `model_dump()` makes of it.
    pub fn write_model(out: &mut String, fields: &[(&str, &dyn crate::PyStr)]) {
        crate::wire::write_dict_entries(out, fields)
    }

    pub use crate::handler::hook::{
        check_async, check_inline, forward_async, forward_blocking, Check, Forward,
    };
    /// The JSON nesting guard the pipeline applies before parsing a body (for the fuzz
    /// targets, which check that it keeps `from_json` within its stack).
    pub use crate::wire::json::nested_deeper_than;
    use crate::{HandlerInfo, HandlerKind};

    /// Where a registered handler comes from.
    pub const fn handler_info(
        kind: HandlerKind,
        name: &'static str,
        file: &'static str,
        line: u32,
    ) -> HandlerInfo {
        HandlerInfo::new(kind, name, file, line)
    }
    use crate::handler::{IntoBlacklist, IntoPriority, IntoVerify};
    pub use crate::registry::{Registration, TableBuilder};

    /// The name of `S` when it is a synapse, `None` otherwise, without a trait bound (so
    /// a type that is not a synapse is reported once, where the table needs it): the
    /// generated code calls `(&NameOf::<S>::NEW).synapse_name()` with both traits in scope,
    /// and method lookup picks [`KnownName`] when `S: Synapse` holds, [`NoName`] otherwise.
    pub struct NameOf<S>(core::marker::PhantomData<S>);

    impl<S> NameOf<S> {
        pub const NEW: Self = NameOf(core::marker::PhantomData);
    }

    pub trait KnownName {
        fn synapse_name(&self) -> Option<&'static str>;
    }

    impl<S: crate::Synapse> KnownName for NameOf<S> {
        fn synapse_name(&self) -> Option<&'static str> {
            Some(S::NAME)
        }
    }

    pub trait NoName {
        fn synapse_name(&self) -> Option<&'static str> {
            None
        }
    }

    impl<S> NoName for &NameOf<S> {}
    pub use inventory;

    /// A blacklist's result, converted where the user wrote its return type.
    pub fn into_blacklist<R: IntoBlacklist>(r: R) -> crate::Blacklist {
        r.into_blacklist()
    }

    /// A priority's result, converted where the user wrote its return type.
    pub fn into_priority<R: IntoPriority>(r: R) -> f64 {
        r.into_priority()
    }

    /// A verify's result, converted where the user wrote its return type.
    pub fn into_verify<R: IntoVerify>(r: R) -> Result<(), crate::HandlerError> {
        r.into_verify()
    }

    /// Checks, at the user's argument, that it takes the synapse the attribute names.
    pub fn named_synapse<Named, Taken: SameSynapse<Named>>() {}

    /// `Self` is the synapse `S`.
    #[diagnostic::on_unimplemented(
        message = "this handler takes `{Self}` but its attribute names `{S}`",
        label = "expected `{S}` here",
        note = "write the synapse the attribute names, or change the attribute"
    )]
    pub trait SameSynapse<S> {}
    impl<S> SameSynapse<S> for S {}

    /// An endpoint's request, as its generated handler takes it.
    pub type EndpointRequest = http::Request<axum::body::Body>;

    /// Reads an endpoint argument from the request's head, its bound at the user's type.
    pub async fn endpoint_part<T: crate::endpoint::EndpointPart>(
        parts: &mut http::request::Parts,
    ) -> Result<T, axum::response::Response> {
        T::extract(parts).await
    }

    /// Reads an endpoint's last argument (the body), its bound at the user's type.
    pub async fn endpoint_body<T: crate::endpoint::EndpointBody<M>, M>(
        request: EndpointRequest,
    ) -> Result<T, axum::response::Response> {
        T::extract(request).await
    }

    /// An endpoint's answer, converted where the user wrote its return type.
    pub fn endpoint_respond<R: crate::endpoint::EndpointResponse>(
        r: R,
    ) -> axum::response::Response {
        r.respond()
    }

    /// An endpoint's generated handler, erased.
    pub fn endpoint_serve<F, Fut>(f: F) -> crate::endpoint::Serve
    where
        F: Fn(EndpointRequest) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = axum::response::Response> + Send + 'static,
    {
        std::sync::Arc::new(move |request| Box::pin(f(request)))
    }

    /// Wraps a state value for a `State<T>` argument.
    pub fn state_handle<T: ?Sized>(arc: std::sync::Arc<T>) -> crate::State<T> {
        crate::State::from_arc(arc)
    }

    /// Checks, at the user's type, that a hashed field renders like Python's `str()`.
    pub fn hash_field<T: crate::PyStr + ?Sized>(h: &mut crate::wire::BodyHasher, v: &T) {
        h.field(v)
    }
}
