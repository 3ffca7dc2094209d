//! Handlers: the forward, blacklist, priority and verify functions of a synapse.
//!
//! Declare them with the attributes [`#[axon::forward]`](crate::forward),
//! [`#[axon::blacklist]`](crate::blacklist), [`#[axon::priority]`](crate::priority) and
//! [`#[axon::verify]`](macro@crate::verify), which check their signatures at compile time and
//! register them for [`Axon::from_registry`](crate::Axon::from_registry); or attach closures
//! with [`Axon::attach`](crate::Axon::attach) and friends. Both end in the same
//! [`Handlers`](crate::Handlers) table.
//!
//! | kind | takes | returns | Python |
//! |---|---|---|---|
//! | forward | `S` | `S` or `Result<S, E>` | `forward_fn(synapse) -> synapse` |
//! | streaming forward | `S` | [`Streaming<S>`] or `Result<Streaming<S>, E>` | `forward_fn(synapse) -> BTStreamingResponse` |
//! | blacklist | `&S` | `(bool, String)` or [`Blacklist`] | `blacklist_fn(synapse) -> (bool, str)` |
//! | priority | `&S` | `f64` | `priority_fn(synapse) -> float` |
//! | verify | `&S` | `Result<(), E>` | `verify_fn(synapse) -> None` (raises to refuse) |
//!
//! `E` is any type with `Into<HandlerError>`: [`HandlerError`] itself, or any
//! `std::error::Error` (an internal error). Each may be `fn` or `async fn`. A running axon
//! runs a plain `fn` forward on a blocking thread, and keeps an async forward that blocks
//! its thread away from its I/O (every poll is timed; see `watch`), so handler code cannot
//! stall the server; an async forward that holds its thread for 100 ms or more without
//! yielding is reported once in the log: make it a plain `fn`, or wrap the blocking call in
//! `tokio::task::spawn_blocking`.

mod closure;
mod error;
pub(crate) mod hook;
mod outcome;
mod runtime;
mod stream;
mod watch;

pub use closure::{BlacklistFn, ForwardFn, PriorityFn, VerifyFn};
pub use error::HandlerError;
pub(crate) use hook::{Check, Forward};
pub use outcome::{Blacklist, IntoBlacklist, IntoForward, IntoPriority, IntoVerify};
pub(crate) use runtime::HandlerRuntime;
pub use stream::{Chunks, Disconnected, IntoChunk, IntoStreamEnd, Reply, Streaming};
pub(crate) use watch::Watch;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future (the erased form of an `async fn` handler).
#[doc(hidden)]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The four kinds of handler.
///
/// ```
/// assert_eq!(axon::HandlerKind::Forward.to_string(), "forward");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HandlerKind {
    /// Produces the response.
    Forward,
    /// Refuses requests (403) before anything else runs.
    Blacklist,
    /// Orders waiting requests.
    Priority,
    /// Replaces the default signature check (401 on refusal).
    Verify,
    /// Answers a signed-HTTP endpoint (btauth/1, Epistula).
    Endpoint,
}

impl fmt::Display for HandlerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandlerKind::Forward => "forward",
            HandlerKind::Blacklist => "blacklist",
            HandlerKind::Priority => "priority",
            HandlerKind::Verify => "verify",
            HandlerKind::Endpoint => "endpoint",
        })
    }
}

/// Where a handler comes from: its kind, its path (`my_miner::handlers::echo`, or a
/// closure's type name) and the source line that declared or attached it. Startup errors
/// and [`Route`](crate::Route)s name handlers with it.
///
/// ```
/// # use axon::Synapse;
/// # #[axon::synapse] pub struct Echo { #[default] pub text: String }
/// let handlers = axon::Axon::new().attach(|s: Echo| s).handlers().unwrap();
/// let forward = handlers.route("Echo").unwrap().forward;
/// assert_eq!(forward.kind(), axon::HandlerKind::Forward);
/// assert!(forward.file().ends_with(".rs"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HandlerInfo {
    kind: HandlerKind,
    name: &'static str,
    file: &'static str,
    line: u32,
}

impl HandlerInfo {
    pub(crate) const fn new(
        kind: HandlerKind,
        name: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        HandlerInfo {
            kind,
            name,
            file,
            line,
        }
    }

    /// The kind of handler.
    ///
    /// ```
    /// # use axon::Synapse;
    /// # #[axon::synapse] pub struct Echo { #[default] pub text: String }
    /// # let handlers = axon::Axon::new().attach(|s: Echo| s).handlers().unwrap();
    /// assert_eq!(handlers.route("Echo").unwrap().forward.kind(), axon::HandlerKind::Forward);
    /// ```
    pub fn kind(&self) -> HandlerKind {
        self.kind
    }

    /// The function's path (`crate::module::function`), or a closure's type name.
    ///
    /// ```
    /// # use axon::Synapse;
    /// # #[axon::synapse] pub struct Echo { #[default] pub text: String }
    /// # let handlers = axon::Axon::new().attach(|s: Echo| s).handlers().unwrap();
    /// assert!(handlers.route("Echo").unwrap().forward.name().contains("{{closure}}"));
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The source file that declared or attached the handler.
    ///
    /// ```
    /// # use axon::Synapse;
    /// # #[axon::synapse] pub struct Echo { #[default] pub text: String }
    /// # let handlers = axon::Axon::new().attach(|s: Echo| s).handlers().unwrap();
    /// assert!(handlers.route("Echo").unwrap().forward.file().ends_with(".rs"));
    /// ```
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line in [`file`](Self::file).
    ///
    /// ```
    /// # use axon::Synapse;
    /// # #[axon::synapse] pub struct Echo { #[default] pub text: String }
    /// # let handlers = axon::Axon::new().attach(|s: Echo| s).handlers().unwrap();
    /// assert!(handlers.route("Echo").unwrap().forward.line() > 0);
    /// ```
    pub fn line(&self) -> u32 {
        self.line
    }
}

impl fmt::Display for HandlerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}` ({}:{})",
            self.kind, self.name, self.file, self.line
        )
    }
}

/// A value handlers can share through [`Axon::state`](crate::Axon::state): it is read by
/// many requests at once, so it must be `Send + Sync + 'static`.
///
/// ```
/// fn shareable<T: axon::handler::StateValue>() {}
/// shareable::<std::sync::Mutex<Vec<u8>>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be shared between requests as state",
    label = "state must be `Send + Sync + 'static`",
    note = "wrap it: `std::sync::Mutex<{Self}>` for `Send`-only data, or own the data instead of borrowing it"
)]
pub trait StateValue: Send + Sync + 'static {}

impl<T: Send + Sync + 'static> StateValue for T {}
