//! Stage 4: the synapse's blacklist (403 with its reason).

use super::refusal::Refusal;
use crate::metrics::Reason;
use crate::{Blacklist, Handlers, Synapse};
use http::StatusCode;

/// Runs the blacklist of `S`, if any; a denial is 403 with Python's message
/// `Forbidden. Key is blacklisted: {reason}.`
pub(crate) async fn check<S: Synapse>(handlers: &Handlers, synapse: &S) -> Result<(), Refusal> {
    match handlers.blacklist(synapse).await {
        Blacklist::Allow => Ok(()),
        Blacklist::Deny(reason) => Err(Refusal::new(
            Reason::Blacklisted,
            StatusCode::FORBIDDEN,
            format!("Forbidden. Key is blacklisted: {reason}."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Axon, BaseSynapse};

    #[tokio::test(flavor = "current_thread")]
    async fn a_denial_is_403_with_pythons_message() {
        let handlers = Axon::new()
            .blacklist(|s: &BaseSynapse| (s.dendrite.hotkey.is_none(), "who are you".to_string()))
            .handlers()
            .unwrap();
        let err = check(&handlers, &BaseSynapse::default()).await.unwrap_err();
        assert_eq!(err.status, 403);
        assert_eq!(err.message, "Forbidden. Key is blacklisted: who are you.");
        let mut known = BaseSynapse::default();
        known.dendrite.hotkey = Some("5F".into());
        assert!(check(&handlers, &known).await.is_ok());
    }
}
