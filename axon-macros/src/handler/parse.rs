//! The internal model of a handler function, and the order of its checks
//! ([`check`](super::check) holds each one).

use super::check;
use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, ItemFn, Type};

/// Which attribute is running.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Forward,
    Blacklist,
    Priority,
    Verify,
}

impl Kind {
    /// The attribute's name, as the user writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Forward => "forward",
            Kind::Blacklist => "blacklist",
            Kind::Priority => "priority",
            Kind::Verify => "verify",
        }
    }

    /// "a forward", "a blacklist", ...
    pub(super) fn article(self) -> String {
        format!("a {}", self.name())
    }

    /// What it returns, for messages.
    pub(super) fn returns(self, synapse: &str) -> String {
        match self {
            Kind::Forward => format!(
                "`{synapse}` (or `Result<{synapse}, axon::HandlerError>`, or `axon::Streaming<{synapse}>` to stream)"
            ),
            Kind::Blacklist => {
                "`(bool, String)` (true refuses, with the reason) or `axon::Blacklist`".into()
            }
            Kind::Priority => "`f64` (higher is served first)".into(),
            Kind::Verify => "`Result<(), axon::HandlerError>`".into(),
        }
    }

    /// The signature to write, for messages.
    pub(super) fn example(self, synapse: &str) -> String {
        match self {
            Kind::Forward => format!("async fn forward(synapse: {synapse}) -> {synapse}"),
            Kind::Blacklist => format!("fn blacklist(synapse: &{synapse}) -> (bool, String)"),
            Kind::Priority => format!("fn priority(synapse: &{synapse}) -> f64"),
            Kind::Verify => {
                format!("fn verify(synapse: &{synapse}) -> Result<(), axon::HandlerError>")
            }
        }
    }

    /// Whether it takes the synapse by value (forward) or by reference (the checks).
    pub(super) fn by_value(self) -> bool {
        self == Kind::Forward
    }
}

/// How a state argument receives its value.
pub enum StateKind {
    /// `&T`.
    Borrow,
    /// `axon::State<T>`.
    Handle,
}

/// A state argument (any argument after the synapse).
pub struct StateArg {
    /// `T`.
    pub ty: Type,
    pub kind: StateKind,
}

/// A validated handler.
pub struct Handler {
    pub kind: Kind,
    pub item: ItemFn,
    /// The synapse type the attribute names, if it names one.
    pub named: Option<Type>,
    /// The synapse type (without the `&` of a check).
    pub synapse: Type,
    pub states: Vec<StateArg>,
    /// The declared return type.
    pub output: Type,
    pub is_async: bool,
}

impl Handler {
    pub fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }
}

impl Handler {
    /// Parses and validates `#[axon::<kind>(args)] input`, collecting every error. On error,
    /// the tokens to emit: every error, then the function unchanged, so that nothing else in
    /// the program fails because of it (one mistake, one message).
    pub fn parse(
        kind: Kind,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<Handler, TokenStream> {
        let item = check::item(kind, input)?;
        let mut errors = Errors::new();
        let named = check::named(kind, args, &mut errors);
        let sig = &item.sig;
        check::qualifiers(
            &kind.example("MySynapse"),
            "one concrete synapse type",
            sig,
            &mut errors,
        );
        let typed = check::receiver(sig, &mut errors);
        let synapse = check::synapse_arg(kind, sig, &typed, &mut errors);
        let shown = check::synapse_shown(synapse.as_ref(), &typed);
        let states = check::state_args(&typed, &mut errors);
        let output = check::output(kind, sig, &shown, &mut errors);
        match (errors.finish(), synapse, output) {
            (Ok(()), Some(synapse), Some(output)) => Ok(Handler {
                kind,
                is_async: item.sig.asyncness.is_some(),
                item,
                named,
                synapse,
                states,
                output,
            }),
            (result, _, _) => {
                let e = result.err().map(|e| e.to_compile_error());
                Err(quote!(#e #item))
            }
        }
    }
}
