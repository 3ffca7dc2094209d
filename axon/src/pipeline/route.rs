//! Stage 1: the route. `POST /{SynapseName}` (Python also accepts GET) picks the synapse
//! type; anything else is refused before a header is read.

use super::{Reason, Refusal, ServeFn};
use crate::Handlers;
use http::{Method, StatusCode};
use std::borrow::Cow;

/// The synapse name a path asks for: everything after the leading `/`.
pub(crate) fn name(path: &str) -> &str {
    path.strip_prefix('/').unwrap_or(path)
}

/// The longest requested name repeated in an answer or the log.
const SHOWN_NAME: usize = 64;

/// `name` as repeated back in an answer or the log: at most 64 bytes, then `...`, so a
/// client cannot make the axon echo a long path into every refusal.
pub(crate) fn shown(name: &str) -> Cow<'_, str> {
    if name.len() <= SHOWN_NAME {
        return Cow::Borrowed(name);
    }
    let mut end = SHOWN_NAME;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}...", &name[..end]))
}

/// The served name and the stages of the synapse `path` names: 404 with Python's message listing the
/// served synapses when none, 405 for a method other than POST or GET.
pub(crate) fn lookup(
    handlers: &Handlers,
    method: &Method,
    path: &str,
) -> Result<(&'static str, ServeFn), Refusal> {
    let name = name(path);
    let Some(found) = handlers.serve_fn(name) else {
        let not_found = Refusal::from_handler(handlers.not_found(&shown(name)));
        return Err(not_found.because(Reason::NotFound));
    };
    if method != Method::POST && method != Method::GET {
        return Err(Refusal::new(
            Reason::Method,
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method {method} not allowed: call POST /{name}"),
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Axon;

    #[test]
    fn unknown_names_list_the_served_synapses() {
        let handlers = Axon::new().handlers().unwrap();
        assert!(lookup(&handlers, &Method::POST, "/Synapse").is_ok());
        assert!(lookup(&handlers, &Method::GET, "/Synapse").is_ok());
        let err = lookup(&handlers, &Method::POST, "/Nope").err().unwrap();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (
                404,
                "Synapse name 'Nope' not found. Available synapses ['Synapse']"
            )
        );
        let err = lookup(&handlers, &Method::POST, "/Synapse/x")
            .err()
            .unwrap();
        assert_eq!(err.status, 404);
        let long = format!("/{}é{}", "a".repeat(63), "b".repeat(10_000));
        let err = lookup(&handlers, &Method::POST, &long).err().unwrap();
        assert_eq!(
            err.message,
            format!(
                "Synapse name '{}...' not found. Available synapses ['Synapse']",
                "a".repeat(63)
            )
        );
        let err = lookup(&handlers, &Method::PUT, "/Synapse").err().unwrap();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (405, "Method PUT not allowed: call POST /Synapse")
        );
    }
}
