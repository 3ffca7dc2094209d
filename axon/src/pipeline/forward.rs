//! Stage 8: the forward. A plain `fn` on the handler runtime's blocking pool; an `async fn`
//! on the handler runtime or inline, as its watch decides (`handler::watch`), so handler
//! code that blocks cannot stall the I/O; a panic is caught and becomes a 500.

use super::refusal::Refusal;
use crate::handler::Reply;
use crate::{Handlers, Synapse};
use tokio::runtime::Handle;

/// Runs the forward of `S`; a handler error keeps its status and message, an internal one
/// becomes `Internal Server Error #<id>` with its cause logged.
pub(crate) async fn run<S: Synapse>(
    handlers: &Handlers,
    synapse: S,
    runtime: &Handle,
) -> Result<Reply<S>, Refusal> {
    handlers
        .reply_on(synapse, runtime)
        .await
        .map_err(Refusal::from_handler)
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
        let busy = run(&handlers, with("busy"), &Handle::current())
            .await
            .unwrap_err();
        assert_eq!((busy.status.as_u16(), busy.message.as_str()), (429, "busy"));
        let panicked = run(&handlers, with("panic"), &Handle::current())
            .await
            .unwrap_err();
        assert_eq!(panicked.status, 500);
        assert!(!panicked.message.contains("secret"), "{}", panicked.message);
        assert!(panicked.detail.unwrap().contains("secret detail"));
        assert!(run(&handlers, with("fine"), &Handle::current())
            .await
            .is_ok());
    }
}
