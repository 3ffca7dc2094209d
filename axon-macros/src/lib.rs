//! Procedural macros of the [`axon`](https://docs.rs/axon) crate. Use them through `axon`
//! (`#[axon::synapse]`, `#[axon::model]`, `#[axon::forward]`, `#[axon::blacklist]`,
//! `#[axon::priority]`, `#[axon::verify]`); the generated code calls into `axon` only.
//!
//! Each macro parses its input into a small model, validates it while collecting every
//! error (each spanned at the offending tokens), then generates code.

use proc_macro::TokenStream;

mod endpoint;
mod errors;
mod handler;
mod synapse;

/// Makes a struct a synapse: see `axon::synapse` for the documentation.
#[proc_macro_attribute]
pub fn synapse(args: TokenStream, input: TokenStream) -> TokenStream {
    synapse::expand(synapse::parse::Kind::Synapse, args.into(), input.into()).into()
}

/// Makes a struct a nested pydantic model: see `axon::model` for the documentation.
#[proc_macro_attribute]
pub fn model(args: TokenStream, input: TokenStream) -> TokenStream {
    synapse::expand(synapse::parse::Kind::Model, args.into(), input.into()).into()
}

/// Registers a forward: see `axon::forward` for the documentation.
#[proc_macro_attribute]
pub fn forward(args: TokenStream, input: TokenStream) -> TokenStream {
    handler::expand(handler::parse::Kind::Forward, args.into(), input.into()).into()
}

/// Registers a blacklist: see `axon::blacklist` for the documentation.
#[proc_macro_attribute]
pub fn blacklist(args: TokenStream, input: TokenStream) -> TokenStream {
    handler::expand(handler::parse::Kind::Blacklist, args.into(), input.into()).into()
}

/// Registers a priority: see `axon::priority` for the documentation.
#[proc_macro_attribute]
pub fn priority(args: TokenStream, input: TokenStream) -> TokenStream {
    handler::expand(handler::parse::Kind::Priority, args.into(), input.into()).into()
}

/// Registers a verify: see `axon::verify` for the documentation.
#[proc_macro_attribute]
pub fn verify(args: TokenStream, input: TokenStream) -> TokenStream {
    handler::expand(handler::parse::Kind::Verify, args.into(), input.into()).into()
}

/// Registers a signed-HTTP endpoint: see `axon::endpoint` for the documentation.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, input: TokenStream) -> TokenStream {
    endpoint::expand(args.into(), input.into()).into()
}
