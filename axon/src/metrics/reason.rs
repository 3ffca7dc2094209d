//! The refusal label set: why a request was not served, one label per reason.

/// Why a request was not served, as the metrics count it (`axon_refusals_total{reason}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// 404: no such synapse.
    NotFound,
    /// 405: a method other than POST or GET.
    Method,
    /// 400: the synapse headers do not parse.
    BadHeaders,
    /// 403: the blacklist refused it.
    Blacklisted,
    /// 401: the signature (or a custom verify) refused it.
    Unverified,
    /// 503: the queue is full, or the axon is stopping.
    Overloaded,
    /// 408: its timeout passed.
    Timeout,
    /// 413: the body is over the limit.
    TooLarge,
    /// 400: the body does not parse as the synapse.
    BadBody,
    /// 400: the body is not the one signed.
    BodyHash,
    /// A handler's own error status (below 500).
    Handler,
    /// 5xx: a handler failed or panicked.
    Failed,
    /// 503: the shared replay store did not answer (fail closed).
    ReplayStore,
    /// 503: signed-HTTP bodies not yet verified hold their budget (per address or in all).
    BodyBudget,
}

impl Reason {
    /// Every reason, in the order the metrics list them.
    pub(crate) const ALL: [Reason; 14] = [
        Reason::NotFound,
        Reason::Method,
        Reason::BadHeaders,
        Reason::Blacklisted,
        Reason::Unverified,
        Reason::Overloaded,
        Reason::Timeout,
        Reason::TooLarge,
        Reason::BadBody,
        Reason::BodyHash,
        Reason::Handler,
        Reason::Failed,
        Reason::ReplayStore,
        Reason::BodyBudget,
    ];

    /// The metric label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Reason::NotFound => "not_found",
            Reason::Method => "method",
            Reason::BadHeaders => "bad_headers",
            Reason::Blacklisted => "blacklisted",
            Reason::Unverified => "unverified",
            Reason::Overloaded => "overloaded",
            Reason::Timeout => "timeout",
            Reason::TooLarge => "too_large",
            Reason::BadBody => "bad_body",
            Reason::BodyHash => "body_hash",
            Reason::Handler => "handler",
            Reason::Failed => "failed",
            Reason::ReplayStore => "replay_store",
            Reason::BodyBudget => "body_budget",
        }
    }
}
