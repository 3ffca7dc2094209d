//! Endpoints declared at run time: what `#[axon::endpoint]` declares at compile time, for a
//! program that learns its routes when it runs (the Python package, a plugin loader).
//!
//! The declaration is checked as the attribute checks it (a method endpoints may have, a
//! path without query or spaces), with a [`DeclarationError`] instead of a compile error.
//! Once given to [`Axon::endpoint`](crate::Axon::endpoint), an [`Endpoint`] is served
//! exactly as a declared one: the same signature checks, pins, replay store, limits,
//! blacklist and priority before the signature, metrics and drain.

use super::{CallerFn, Declaration, EndpointResponse, Serve};
use crate::auth::{Caller, Crypto};
use crate::handler::{Blacklist, IntoBlacklist, IntoPriority};
use crate::HandlerError;
use axum::body::{Body, Bytes};
use axum::response::IntoResponse;
use http::Request;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// The methods an endpoint may have (the attribute's list).
pub(crate) const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Why a run-time declaration was refused.
///
/// ```
/// use axon::endpoint::Declaration;
/// let e = Declaration::parse("post", "/v1/score").unwrap_err();
/// assert_eq!(e.to_string(), "`post` is not an HTTP method an endpoint may have: write `POST`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeclarationError {
    /// Not one of GET, POST, PUT, PATCH, DELETE.
    Method(String),
    /// Not a path an endpoint may have.
    Path {
        /// The path given.
        path: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Epistula is signed with sr25519 only: an Epistula-only endpoint cannot accept only
    /// ed25519.
    EpistulaEd25519,
}

impl fmt::Display for DeclarationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeclarationError::Method(method) => {
                let upper = method.to_uppercase();
                match METHODS.contains(&upper.as_str()) {
                    true => write!(
                        f,
                        "`{method}` is not an HTTP method an endpoint may have: write `{upper}`"
                    ),
                    false => write!(
                        f,
                        "`{method}` is not an HTTP method an endpoint may have: write one of {}",
                        METHODS.join(", ")
                    ),
                }
            }
            DeclarationError::Path { path, problem } => {
                write!(f, "{path:?}: {problem}: write a path such as \"/v1/score\"")
            }
            DeclarationError::EpistulaEd25519 => f.write_str(
                "Epistula is signed with sr25519 only, so an endpoint that accepts only Epistula cannot accept only ed25519: accept btauth/1 too, or accept sr25519",
            ),
        }
    }
}

impl std::error::Error for DeclarationError {}

/// What is wrong with an endpoint's path, if anything (the attribute's rule).
pub(crate) fn path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("the path starts with `/`");
    }
    if path.contains(['?', '#']) {
        return Some("the path has no query or fragment (the query is signed and passed as sent)");
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("the path has no spaces or control characters");
    }
    None
}

impl Declaration {
    /// A declaration made at run time: `method` on `path`, with the defaults of
    /// [`new`](Declaration::new), checked as `#[axon::endpoint]` checks its arguments.
    /// The method, path and label are kept for the life of the process (once each,
    /// however many declarations name them): the table and the metrics name endpoints by
    /// `&'static str`, and a program declares a handful.
    ///
    /// ```
    /// use axon::endpoint::Declaration;
    /// let d = Declaration::parse("POST", "/v1/score").unwrap();
    /// assert_eq!((d.method(), d.path(), d.label()), ("POST", "/v1/score", "POST /v1/score"));
    /// assert!(Declaration::parse("POST", "v1/score").is_err());
    /// ```
    pub fn parse(method: &str, path: &str) -> Result<Declaration, DeclarationError> {
        let Some(method) = METHODS.iter().find(|m| **m == method) else {
            return Err(DeclarationError::Method(method.to_owned()));
        };
        if let Some(problem) = path_problem(path) {
            return Err(DeclarationError::Path {
                path: path.to_owned(),
                problem,
            });
        }
        let path = crate::wire::intern(path);
        let label = crate::wire::intern(&format!("{method} {path}"));
        Ok(Declaration::new(method, path, label))
    }

    /// [`crypto`](Declaration::crypto) from a run-time list (an empty list: every type),
    /// refusing what the attribute refuses.
    ///
    /// ```
    /// use axon::{auth::Crypto, endpoint::Declaration};
    /// let d = Declaration::parse("POST", "/v1/x").unwrap().epistula(false);
    /// let d = d.accept_crypto(&[Crypto::Ed25519]).unwrap();
    /// assert_eq!(d.declared_crypto(), Some(&[Crypto::Ed25519][..]));
    /// ```
    pub fn accept_crypto(self, accepted: &[Crypto]) -> Result<Declaration, DeclarationError> {
        const SR: &[Crypto] = &[Crypto::Sr25519];
        const ED: &[Crypto] = &[Crypto::Ed25519];
        const BOTH: &[Crypto] = &[Crypto::Sr25519, Crypto::Ed25519];
        let (sr, ed) = (
            accepted.contains(&Crypto::Sr25519),
            accepted.contains(&Crypto::Ed25519),
        );
        let narrowed = match (sr, ed) {
            (false, false) | (true, true) => BOTH,
            (true, false) => SR,
            (false, true) => ED,
        };
        if narrowed == ED && !self.accepts_btauth() {
            return Err(DeclarationError::EpistulaEd25519);
        }
        Ok(match narrowed == BOTH {
            true => self,
            false => self.crypto(narrowed),
        })
    }
}

/// A signed-HTTP endpoint built at run time: a [`Declaration`], the handler (the verified
/// [`Caller`] and the raw body, to any answer axum can send), and optionally a blacklist
/// and a priority over the claimed caller, run before the signature is checked.
///
/// ```
/// use axon::auth::Caller;
/// use axon::endpoint::{Declaration, Endpoint};
/// use axon::{Axon, Blacklist};
/// use axum::body::Bytes;
///
/// let score = Endpoint::new(Declaration::parse("POST", "/v1/score").unwrap(), |caller: Caller, body: Bytes| async move {
///     format!("{} sent {} bytes", caller.hotkey, body.len())
/// })
/// .blacklist(|caller: &Caller| match caller.hotkey.starts_with('5') {
///     true => Blacklist::Allow,
///     false => Blacklist::Deny("unknown".into()),
/// });
/// let handlers = Axon::new().endpoint(score).handlers().unwrap();
/// let served = handlers.endpoints();
/// assert_eq!(served[0].declaration.label(), "POST /v1/score");
/// assert!(served[0].blacklist && !served[0].priority);
/// ```
pub struct Endpoint {
    pub(crate) declaration: Declaration,
    pub(crate) handler: &'static str,
    pub(crate) serve: Serve,
    pub(crate) blacklist: Option<CallerFn<Blacklist>>,
    pub(crate) priority: Option<CallerFn<f64>>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("declaration", &self.declaration)
            .field("handler", &self.handler)
            .field("blacklist", &self.blacklist.is_some())
            .field("priority", &self.priority.is_some())
            .finish()
    }
}

impl Endpoint {
    /// The endpoint `declaration`, answered by `handler(caller, body)`: a plain closure
    /// returning a future, whose output is any `IntoResponse` (`String`, `Json<T>`,
    /// `(StatusCode, String)`, `Result<_, HandlerError>`, ...).
    pub fn new<F, Fut, R>(declaration: Declaration, handler: F) -> Self
    where
        F: Fn(Caller, Bytes) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: EndpointResponse,
    {
        let handler = Arc::new(handler);
        let serve: Serve = Arc::new(move |request: Request<Body>| {
            let handler = handler.clone();
            Box::pin(async move {
                let Some(caller) = request.extensions().get::<Caller>().cloned() else {
                    return HandlerError::internal("no verified caller in the request")
                        .into_response();
                };
                // Read already, within the endpoint's limit: this only collects it.
                let body = match axum::body::to_bytes(request.into_body(), usize::MAX).await {
                    Ok(body) => body,
                    Err(e) => return HandlerError::internal(e).into_response(),
                };
                handler(caller, body).await.respond()
            })
        });
        Endpoint {
            declaration,
            handler: std::any::type_name::<F>(),
            serve,
            blacklist: None,
            priority: None,
        }
    }

    /// Refuses callers before their signature is checked (403 with the reason): a
    /// function of the claimed caller returning [`Blacklist`] or `(bool, String)`.
    pub fn blacklist<R: IntoBlacklist + 'static>(
        mut self,
        check: impl Fn(&Caller) -> R + Send + Sync + 'static,
    ) -> Self {
        self.blacklist = Some(Arc::new(move |c: &Caller| check(c).into_blacklist()));
        self
    }

    /// Orders the callers waiting for a worker (higher first): a function of the claimed
    /// caller returning a number.
    pub fn priority<R: IntoPriority + 'static>(
        mut self,
        check: impl Fn(&Caller) -> R + Send + Sync + 'static,
    ) -> Self {
        self.priority = Some(Arc::new(move |c: &Caller| check(c).into_priority()));
        self
    }

    /// What it declares.
    pub fn declaration(&self) -> &Declaration {
        &self.declaration
    }
}
