//! What each kind of handler may return, and how it becomes the axon's answer.
//!
//! The traits here are implemented for exactly the return types a handler may declare; the
//! handler attributes require them at the user's return type, so a wrong type is reported
//! there with a message saying what to return instead.

use super::{HandlerError, Reply, Streaming};

/// A blacklist's verdict. Python's blacklist returns `(bool, str)`: `(True, reason)` refuses
/// the request with `403 Forbidden. Key is blacklisted: {reason}.`. Return either shape.
///
/// ```
/// use axon::Blacklist;
///
/// let deny = Blacklist::Deny("unregistered hotkey".into());
/// assert!(deny.is_denied());
/// assert_eq!(deny.reason(), Some("unregistered hotkey"));
/// assert_eq!(Blacklist::from((false, String::from("ok"))), Blacklist::Allow);
/// assert_eq!(Blacklist::from((true, String::from("spam"))), Blacklist::Deny("spam".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blacklist {
    /// Serve the request.
    Allow,
    /// Refuse it with 403; the reason is sent to the dendrite.
    Deny(String),
}

impl Blacklist {
    /// Whether the request is refused.
    ///
    /// ```
    /// assert!(!axon::Blacklist::Allow.is_denied());
    /// ```
    pub fn is_denied(&self) -> bool {
        matches!(self, Blacklist::Deny(_))
    }

    /// The reason of a refusal.
    ///
    /// ```
    /// assert_eq!(axon::Blacklist::Allow.reason(), None);
    /// ```
    pub fn reason(&self) -> Option<&str> {
        match self {
            Blacklist::Allow => None,
            Blacklist::Deny(reason) => Some(reason),
        }
    }
}

/// Python's `(blacklisted, reason)`: the reason of an allowed request is dropped.
impl From<(bool, String)> for Blacklist {
    fn from((denied, reason): (bool, String)) -> Self {
        if denied {
            Blacklist::Deny(reason)
        } else {
            Blacklist::Allow
        }
    }
}

/// What a forward may return for synapse `S`: `S` itself, or `Result<S, E>` with
/// `E: Into<HandlerError>`; or a stream of chunks, [`Streaming<S>`] or
/// `Result<Streaming<S>, E>`; or either, decided while it runs, `Result<Reply<S>, E>`.
///
/// ```
/// use axon::handler::IntoForward;
///
/// let ok: Result<axon::BaseSynapse, axon::HandlerError> = Ok(axon::BaseSynapse::default());
/// assert!(IntoForward::<axon::BaseSynapse>::into_forward(ok).is_ok());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a forward of `{S}` can return",
    label = "return `{S}` or `Result<{S}, axon::HandlerError>` (or `axon::Streaming<{S}>` to stream)",
    note = "a forward returns the synapse it was given, with its output fields set"
)]
pub trait IntoForward<S> {
    /// The answer, or the error.
    fn into_forward(self) -> Result<Reply<S>, HandlerError>;
}

impl<S> IntoForward<S> for S {
    fn into_forward(self) -> Result<Reply<S>, HandlerError> {
        Ok(Reply::Synapse(self))
    }
}

impl<S, E: Into<HandlerError>> IntoForward<S> for Result<S, E> {
    fn into_forward(self) -> Result<Reply<S>, HandlerError> {
        self.map(Reply::Synapse).map_err(Into::into)
    }
}

impl<S> IntoForward<S> for Streaming<S> {
    fn into_forward(self) -> Result<Reply<S>, HandlerError> {
        Ok(Reply::Stream(self))
    }
}

impl<S, E: Into<HandlerError>> IntoForward<S> for Result<Streaming<S>, E> {
    fn into_forward(self) -> Result<Reply<S>, HandlerError> {
        self.map(Reply::Stream).map_err(Into::into)
    }
}

/// A forward that decides while it runs whether to answer whole or stream (a binding to
/// another language, whose functions may do either).
impl<S, E: Into<HandlerError>> IntoForward<S> for Result<Reply<S>, E> {
    fn into_forward(self) -> Result<Reply<S>, HandlerError> {
        self.map_err(Into::into)
    }
}

/// What a blacklist may return: `(bool, String)` (Python's shape) or [`Blacklist`].
///
/// ```
/// use axon::handler::IntoBlacklist;
///
/// assert!((true, String::from("no")).into_blacklist().is_denied());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a blacklist can return",
    label = "return `(bool, String)` (true refuses, with the reason) or `axon::Blacklist`"
)]
pub trait IntoBlacklist {
    /// The verdict.
    fn into_blacklist(self) -> Blacklist;
}

impl IntoBlacklist for Blacklist {
    fn into_blacklist(self) -> Blacklist {
        self
    }
}

impl IntoBlacklist for (bool, String) {
    fn into_blacklist(self) -> Blacklist {
        self.into()
    }
}

/// What a priority may return: `f64`, higher is served first (Python's `float`).
///
/// ```
/// use axon::handler::IntoPriority;
///
/// assert_eq!(2.5f64.into_priority(), 2.5);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a priority can return",
    label = "return `f64` (higher is served first)",
    note = "convert with `as f64` if you compute it as another number type"
)]
pub trait IntoPriority {
    /// The priority.
    fn into_priority(self) -> f64;
}

impl IntoPriority for f64 {
    fn into_priority(self) -> f64 {
        self
    }
}

/// What a verify may return: `Result<(), E>` with `E: Into<HandlerError>`; an error refuses
/// the request with `401 Not Verified with error: {message}`, as in Python.
///
/// ```
/// use axon::handler::IntoVerify;
///
/// let refused: Result<(), axon::HandlerError> = Err(axon::HandlerError::internal("stale"));
/// assert_eq!(refused.into_verify().unwrap_err().message(), "stale");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a verify can return",
    label = "return `Result<(), axon::HandlerError>`: `Err` refuses the request with 401"
)]
pub trait IntoVerify {
    /// `Ok` to go on, the reason otherwise.
    fn into_verify(self) -> Result<(), HandlerError>;
}

impl<E: Into<HandlerError>> IntoVerify for Result<(), E> {
    fn into_verify(self) -> Result<(), HandlerError> {
        self.map_err(Into::into)
    }
}
