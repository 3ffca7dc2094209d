//! Stage 2: the route. `POST /{SynapseName}` (Python also accepts GET) picks the synapse
//! type; anything else is refused before a header is read.

use super::refusal::Refusal;
use super::ServeFn;
use crate::metrics::Reason;
use crate::table::Handlers;
use crate::wire::{HeaderError, HeaderLimits, HeaderParts, SynapseSchema};
use crate::{DynamicSynapse, Synapse};
use http::{HeaderMap, Method, StatusCode};
use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;

/// A synapse type as the pipeline serves it: its route name, and how a request's headers
/// become its synapse. A compiled type knows both statically ([`Compiled`]); a run-time
/// type ([`SynapseSchema`]) holds them. Every later stage works on the synapse itself.
pub(crate) trait Kind: Clone + Send + Sync + 'static {
    type Synapse: Synapse;
    /// The route name: `POST /{name}`.
    fn name(&self) -> &'static str;
    /// The synapse a request's headers describe.
    fn read_headers(
        &self,
        map: &HeaderMap,
        limits: &HeaderLimits,
    ) -> Result<Self::Synapse, HeaderError>;
}

/// The compiled synapse type `S`.
pub(crate) struct Compiled<S>(PhantomData<fn() -> S>);

impl<S> Compiled<S> {
    pub(crate) fn new() -> Self {
        Compiled(PhantomData)
    }
}

impl<S> Clone for Compiled<S> {
    fn clone(&self) -> Self {
        Compiled(PhantomData)
    }
}

impl<S: Synapse> Kind for Compiled<S> {
    type Synapse = S;
    fn name(&self) -> &'static str {
        S::NAME
    }
    fn read_headers(&self, map: &HeaderMap, limits: &HeaderLimits) -> Result<S, HeaderError> {
        S::from_headers_with(map, limits)
    }
}

impl Kind for SynapseSchema {
    type Synapse = DynamicSynapse;
    fn name(&self) -> &'static str {
        SynapseSchema::name(self)
    }
    fn read_headers(
        &self,
        map: &HeaderMap,
        limits: &HeaderLimits,
    ) -> Result<DynamicSynapse, HeaderError> {
        self.from_header_parts(HeaderParts::from_map_with(map, limits)?)
    }
}

/// The served synapse names and the stages of each: built by the registry beside the
/// handler table, one entry per synapse type that has a forward.
#[derive(Default)]
pub(crate) struct Routes(HashMap<&'static str, ServeFn>);

impl Routes {
    /// Routes the name of `kind` to its stages.
    pub(crate) fn add<K: Kind>(&mut self, kind: K) {
        self.0.insert(kind.name(), super::serve(kind));
    }

    /// The served name and stages of the synapse `name`.
    fn get(&self, name: &str) -> Option<(&'static str, &ServeFn)> {
        self.0
            .get_key_value(name)
            .map(|(name, serve)| (*name, serve))
    }
}

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
pub(crate) fn lookup<'r>(
    routes: &'r Routes,
    handlers: &Handlers,
    method: &Method,
    path: &str,
) -> Result<(&'static str, &'r ServeFn), Refusal> {
    let name = name(path);
    let Some(found) = routes.get(name) else {
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
    use crate::{Axon, BaseSynapse};

    #[test]
    fn unknown_names_list_the_served_synapses() {
        let handlers = Axon::new().handlers().unwrap();
        let mut routes = Routes::default();
        routes.add(Compiled::<BaseSynapse>::new());
        assert!(lookup(&routes, &handlers, &Method::POST, "/Synapse").is_ok());
        assert!(lookup(&routes, &handlers, &Method::GET, "/Synapse").is_ok());
        let err = lookup(&routes, &handlers, &Method::POST, "/Nope")
            .err()
            .unwrap();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (
                404,
                "Synapse name 'Nope' not found. Available synapses ['Synapse']"
            )
        );
        let err = lookup(&routes, &handlers, &Method::POST, "/Synapse/x")
            .err()
            .unwrap();
        assert_eq!(err.status, 404);
        let long = format!("/{}é{}", "a".repeat(63), "b".repeat(10_000));
        let err = lookup(&routes, &handlers, &Method::POST, &long)
            .err()
            .unwrap();
        assert_eq!(
            err.message,
            format!(
                "Synapse name '{}...' not found. Available synapses ['Synapse']",
                "a".repeat(63)
            )
        );
        let err = lookup(&routes, &handlers, &Method::PUT, "/Synapse")
            .err()
            .unwrap();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (405, "Method PUT not allowed: call POST /Synapse")
        );
    }
}
