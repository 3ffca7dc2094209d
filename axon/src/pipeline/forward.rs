//! Stage 9: the forward. A plain `fn` runs on the blocking pool and an `async fn` as its
//! own task, so a panic is caught there and becomes a 500.

use super::Refusal;
use crate::handler::Reply;
use crate::{Handlers, Synapse};

/// Runs the forward of `S`; a handler error keeps its status and message, an internal one
/// becomes `Internal Server Error #<id>` with its cause logged.
pub(crate) async fn run<S: Synapse>(handlers: &Handlers, synapse: S) -> Result<Reply<S>, Refusal> {
    handlers.reply(synapse).await.map_err(Refusal::from_handler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Axon, BaseSynapse, HandlerError, StatusCode};

    #[tokio::test(flavor = "current_thread")]
    async fn errors_keep_their_status_and_panics_hide_their_message() {
        let handlers = Axon::new()
            .attach(|s: BaseSynapse| async move {
                match s.dendrite.hotkey.as_deref() {
                    Some("panic") => panic!("secret detail"),
                    Some("busy") => Err(HandlerError::new(StatusCode::TOO_MANY_REQUESTS, "busy")),
                    _ => Ok(s),
                }
            })
            .handlers()
            .unwrap();
        let with = |hotkey: &str| {
            let mut s = BaseSynapse::default();
            s.dendrite.hotkey = Some(hotkey.into());
            s
        };
        let busy = run(&handlers, with("busy")).await.unwrap_err();
        assert_eq!((busy.status.as_u16(), busy.message.as_str()), (429, "busy"));
        let panicked = run(&handlers, with("panic")).await.unwrap_err();
        assert_eq!(panicked.status, 500);
        assert!(!panicked.message.contains("secret"), "{}", panicked.message);
        assert!(panicked.detail.unwrap().contains("secret detail"));
        assert!(run(&handlers, with("fine")).await.is_ok());
    }
}
