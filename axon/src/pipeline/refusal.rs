//! [`Refusal`]: why a stage stopped a request, as the client sees it and as the log sees it.

use crate::metrics::Reason;
use crate::uuid::uuid4;
use crate::HandlerError;
use http::StatusCode;

/// How a refusal is logged: a client's fault is a warning, the server's an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Severity {
    /// Refused: bad, unauthorized or unwanted input (4xx, or 503 when overloaded).
    Refused,
    /// Failed: a handler failed or panicked (5xx).
    Failed,
}

/// A stage's answer instead of a forward: the status and `{"message"}` the client gets,
/// and a detail for the log only.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) reason: Reason,
    pub(crate) severity: Severity,
    /// What the log shows beyond the message (an internal error's cause).
    pub(crate) detail: Option<String>,
}

impl Refusal {
    /// A refusal for `reason` with `status` and `message`, logged as a warning.
    pub(crate) fn new(reason: Reason, status: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
            reason,
            severity: Severity::Refused,
            detail: None,
        }
    }

    /// The same refusal, counted under `reason`.
    pub(crate) fn because(mut self, reason: Reason) -> Self {
        self.reason = reason;
        self
    }

    /// A server-side failure: 500 `Internal Server Error #<id>` to the client (Python's
    /// message), the cause and the same id in the log.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("Internal Server Error #{}", uuid4()),
            reason: Reason::Failed,
            severity: Severity::Failed,
            detail: Some(detail.into()),
        }
    }

    /// 408 for a request that outlived its `timeout`; `when` says where it was.
    pub(crate) fn expired(timeout: std::time::Duration, when: &str) -> Self {
        Refusal::new(
            Reason::Timeout,
            StatusCode::REQUEST_TIMEOUT,
            format!("Request timed out after {}s {when}", timeout.as_secs_f64()),
        )
    }

    /// A handler's error: its own status and message, or an internal failure whose
    /// message stays in the log.
    pub(crate) fn from_handler(error: HandlerError) -> Self {
        if error.is_internal() {
            return Refusal::internal(error.message());
        }
        let mut refusal = Refusal::new(Reason::Handler, error.status(), error.message());
        if error.status().is_server_error() {
            refusal.severity = Severity::Failed;
            refusal.reason = Reason::Failed;
        }
        refusal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause_behind_an_id() {
        let r = Refusal::from_handler(HandlerError::internal("db password wrong"));
        assert_eq!(r.status, 500);
        assert!(
            r.message.starts_with("Internal Server Error #"),
            "{}",
            r.message
        );
        assert!(!r.message.contains("password"));
        assert_eq!(r.detail.as_deref(), Some("db password wrong"));
        assert_eq!(r.severity, Severity::Failed);
    }

    #[test]
    fn handler_statuses_pass_through() {
        let r = Refusal::from_handler(HandlerError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "slow down",
        ));
        assert_eq!((r.status.as_u16(), r.message.as_str()), (429, "slow down"));
        assert_eq!(r.severity, Severity::Refused);
        let r = Refusal::from_handler(HandlerError::new(StatusCode::BAD_GATEWAY, "upstream"));
        assert_eq!(r.severity, Severity::Failed);
    }
}
