//! Signed-HTTP endpoints: plain HTTP routes authenticated by bittensor 11's `btauth/1` or
//! Epistula v2 ([`auth`](crate::auth)), served beside the synapses on the same port.
//!
//! Declare one with [`#[axon::endpoint]`](macro@crate::endpoint): an `async fn` whose arguments
//! are the verified [`Caller`], [`State<T>`](crate::State) values and ordinary axum
//! extractors (the body extractor last), and whose answer is any `IntoResponse`.
//!
//! | piece | what it is |
//! |---|---|
//! | [`Declaration`] | method, path, accepted schemes and crypto types, receiver rule, timeout, body limit |
//! | [`Endpoint`] | an endpoint built at run time (a [`Declaration::parse`]d declaration and a closure), for [`Axon::endpoint`](crate::Axon::endpoint) |
//! | [`EndpointRoute`] | a served endpoint as [`Handlers::endpoints`](crate::Handlers) lists it |
//! | `policy` | a blacklist or priority over the claimed [`Caller`], with state (`CallerCheck`) |
//! | `extract` | how the generated code runs the extractors and converts the answer |

mod extract;
pub(crate) mod policy;
mod runtime;

pub(crate) use extract::Refused;
pub use extract::{EndpointBody, EndpointPart, EndpointResponse};
pub use policy::{CallerCheck, CallerFn};
pub use runtime::{DeclarationError, Endpoint};

use crate::auth::{Caller, Crypto, Scheme};
use crate::handler::{Blacklist, BoxFuture, HandlerInfo};
use axum::body::Body;
use axum::response::Response;
use http::Request;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What an endpoint's attribute declares.
///
/// ```
/// use axon::endpoint::Declaration;
/// let d = Declaration::new("POST", "/v1/score", "POST /v1/score").epistula(false);
/// assert_eq!((d.method(), d.path(), d.accepts_btauth(), d.accepts_epistula()), ("POST", "/v1/score", true, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Declaration {
    method: &'static str,
    path: &'static str,
    label: &'static str,
    btauth: bool,
    epistula: bool,
    unbound: bool,
    /// The crypto types accepted; `None`: every one.
    crypto: Option<&'static [Crypto]>,
    timeout: Option<Duration>,
    max_body: Option<usize>,
}

impl Declaration {
    /// `method` on `path`, both schemes accepted, receiver required, the axon's timeout
    /// (12 s) and body limit. `label` names it in metrics and logs (`"POST /v1/score"`).
    pub const fn new(method: &'static str, path: &'static str, label: &'static str) -> Self {
        Declaration {
            method,
            path,
            label,
            btauth: true,
            epistula: true,
            unbound: false,
            crypto: None,
            timeout: None,
            max_body: None,
        }
    }

    /// Whether btauth/1 requests are accepted.
    pub const fn btauth(mut self, accepted: bool) -> Self {
        self.btauth = accepted;
        self
    }

    /// Whether Epistula requests are accepted.
    pub const fn epistula(mut self, accepted: bool) -> Self {
        self.epistula = accepted;
        self
    }

    /// Accepts requests bound to no receiver (one bound to another hotkey is still refused).
    pub const fn unbound(mut self, allowed: bool) -> Self {
        self.unbound = allowed;
        self
    }

    /// Accepts senders of these crypto types only (by the crypto type the server expects of
    /// each sender: [`AuthConfig::pins`](crate::auth::AuthConfig::pins)); every type when
    /// not called.
    ///
    /// ```
    /// use axon::{auth::Crypto, endpoint::Declaration};
    /// let d = Declaration::new("POST", "/v1/x", "POST /v1/x").crypto(&[Crypto::Ed25519]);
    /// assert!(d.accepts_crypto(Crypto::Ed25519) && !d.accepts_crypto(Crypto::Sr25519));
    /// ```
    pub const fn crypto(mut self, accepted: &'static [Crypto]) -> Self {
        self.crypto = Some(accepted);
        self
    }

    /// The longest a request may take from arrival to answer (capped by the axon's
    /// `max_timeout`).
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest body accepted (413 beyond it).
    pub const fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The path, matched exactly (the query aside).
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// `"{method} {path}"`: its name in metrics and logs.
    pub fn label(&self) -> &'static str {
        self.label
    }

    /// Whether btauth/1 is accepted.
    pub fn accepts_btauth(&self) -> bool {
        self.btauth
    }

    /// Whether Epistula is accepted.
    pub fn accepts_epistula(&self) -> bool {
        self.epistula
    }

    /// Whether `scheme` is accepted.
    pub fn accepts(&self, scheme: Scheme) -> bool {
        match scheme {
            Scheme::Btauth => self.btauth,
            Scheme::Epistula => self.epistula,
        }
    }

    /// Whether senders of `crypto` are accepted.
    pub fn accepts_crypto(&self, crypto: Crypto) -> bool {
        self.crypto
            .is_none_or(|accepted| accepted.contains(&crypto))
    }

    /// The crypto types accepted, when narrowed.
    pub fn declared_crypto(&self) -> Option<&'static [Crypto]> {
        self.crypto
    }

    /// Whether requests bound to no receiver are accepted.
    pub fn allows_unbound(&self) -> bool {
        self.unbound
    }

    /// The declared timeout, if any.
    pub fn declared_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The declared body limit, if any.
    pub fn declared_max_body(&self) -> Option<usize> {
        self.max_body
    }
}

/// An endpoint's handler, erased: the request (body read and verified, the [`Caller`] in
/// its extensions) to the answer.
pub type Serve = Arc<dyn Fn(Request<Body>) -> BoxFuture<'static, Response> + Send + Sync>;

/// A served endpoint, as [`Handlers::endpoints`](crate::Handlers::endpoints) lists it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EndpointRoute {
    /// What its attribute declares.
    pub declaration: Declaration,
    /// The handler.
    pub handler: HandlerInfo,
    /// Whether a blacklist runs before the signature.
    pub blacklist: bool,
    /// Whether a priority orders it in the queue.
    pub priority: bool,
}

/// One endpoint in the table.
pub(crate) struct Entry {
    pub(crate) declaration: Declaration,
    pub(crate) info: HandlerInfo,
    pub(crate) serve: Serve,
    pub(crate) blacklist: Option<CallerFn<Blacklist>>,
    pub(crate) priority: Option<CallerFn<f64>>,
}

/// Every endpoint, by path then method.
#[derive(Default)]
pub(crate) struct Endpoints {
    entries: Vec<Arc<Entry>>,
    by_path: HashMap<&'static str, Vec<usize>>,
}

/// What a path and method find.
pub(crate) enum Found<'a> {
    /// The endpoint.
    Endpoint(&'a Arc<Entry>),
    /// The path is an endpoint's, not with this method: the methods it has.
    Method(Vec<&'static str>),
    /// No endpoint has this path.
    None,
}

impl Endpoints {
    pub(crate) fn add(&mut self, entry: Entry) {
        let path = entry.declaration.path;
        self.by_path
            .entry(path)
            .or_default()
            .push(self.entries.len());
        self.entries.push(Arc::new(entry));
    }

    /// The endpoint with `method` and `path`, if it is served.
    pub(crate) fn get(&self, method: &str, path: &str) -> Option<&Arc<Entry>> {
        match self.find(method, path) {
            Found::Endpoint(entry) => Some(entry),
            _ => None,
        }
    }

    pub(crate) fn find(&self, method: &str, path: &str) -> Found<'_> {
        let Some(indices) = self.by_path.get(path) else {
            return Found::None;
        };
        let entries = indices.iter().map(|&i| &self.entries[i]);
        match entries.clone().find(|e| e.declaration.method == method) {
            Some(entry) => Found::Endpoint(entry),
            None => Found::Method(entries.map(|e| e.declaration.method).collect()),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every endpoint, by path then method.
    pub(crate) fn routes(&self) -> Vec<EndpointRoute> {
        let mut routes: Vec<EndpointRoute> = self
            .entries
            .iter()
            .map(|e| EndpointRoute {
                declaration: e.declaration,
                handler: e.info,
                blacklist: e.blacklist.is_some(),
                priority: e.priority.is_some(),
            })
            .collect();
        routes.sort_by_key(|r| (r.declaration.path, r.declaration.method));
        routes
    }

    /// The largest body any endpoint accepts, `default` for those that declare none.
    pub(crate) fn largest_body(&self, default: usize) -> usize {
        self.entries
            .iter()
            .map(|e| e.declaration.declared_max_body().unwrap_or(default))
            .max()
            .unwrap_or(0)
    }

    /// The metrics labels of every endpoint.
    pub(crate) fn labels(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.declaration.label)
    }
}

/// The verified sender, as a handler argument: the pipeline puts it in the request's
/// extensions once the signature and replay checks pass.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = (http::StatusCode, &'static str);

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or((
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "no verified caller: this handler runs only behind the axon's signature check",
        ))
    }
}
