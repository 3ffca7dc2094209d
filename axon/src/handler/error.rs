//! [`HandlerError`]: what a handler returns to refuse or fail a request.

use http::StatusCode;
use std::fmt;

/// A handler's refusal or failure: the status and message the dendrite sees.
///
/// The Rust twin of raising a Python `SynapseException` whose synapse carries a status code.
/// Build one with [`HandlerError::new`] to answer with your own status and message, or let
/// `?` convert any [`std::error::Error`]: that becomes an *internal* error, answered
/// `500 Internal Server Error #<id>` with the details kept for your log, never sent.
///
/// ```
/// use axon::HandlerError;
/// use axon::StatusCode;
///
/// let refused = HandlerError::new(StatusCode::TOO_MANY_REQUESTS, "one request per block");
/// assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(refused.message(), "one request per block");
/// assert!(!refused.is_internal());
///
/// fn parse(s: &str) -> Result<i64, HandlerError> {
///     Ok(s.parse::<i64>()?) // a ParseIntError becomes an internal error
/// }
/// let failed = parse("x").unwrap_err();
/// assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert!(failed.is_internal());
/// assert_eq!(failed.message(), "invalid digit found in string"); // for the log only
/// ```
pub struct HandlerError {
    status: StatusCode,
    message: String,
    internal: bool,
}

impl HandlerError {
    /// An error answered with `status` and `message`. A status that is not an error (below
    /// 400) would tell the dendrite it succeeded, so it is answered as 500 instead.
    ///
    /// ```
    /// use axon::HandlerError;
    /// use axon::StatusCode;
    ///
    /// assert_eq!(HandlerError::new(StatusCode::OK, "x").status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let status = if status.as_u16() >= 400 {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        HandlerError {
            status,
            message: message.into(),
            internal: false,
        }
    }

    /// An internal error: answered `500 Internal Server Error #<id>`; `detail` is only logged.
    ///
    /// ```
    /// let e = axon::HandlerError::internal("model not loaded");
    /// assert!(e.is_internal());
    /// assert_eq!(e.message(), "model not loaded");
    /// ```
    pub fn internal(detail: impl fmt::Display) -> Self {
        HandlerError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: detail.to_string(),
            internal: true,
        }
    }

    /// The status the dendrite sees.
    ///
    /// ```
    /// let e = axon::HandlerError::new(http::StatusCode::CONFLICT, "busy");
    /// assert_eq!(e.status().as_u16(), 409);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message: sent to the dendrite, unless the error [is internal](Self::is_internal).
    ///
    /// ```
    /// assert_eq!(axon::HandlerError::new(http::StatusCode::CONFLICT, "busy").message(), "busy");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the message stays in the log (an error converted with `?`, or
    /// [`HandlerError::internal`]).
    ///
    /// ```
    /// assert!(!axon::HandlerError::new(http::StatusCode::CONFLICT, "busy").is_internal());
    /// ```
    pub fn is_internal(&self) -> bool {
        self.internal
    }
}

/// Any error converts with `?` into an internal error (500, details logged, never sent).
impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(e: E) -> Self {
        HandlerError::internal(e)
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("status", &self.status.as_u16())
            .field("message", &self.message)
            .field("internal", &self.internal)
            .finish()
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}
