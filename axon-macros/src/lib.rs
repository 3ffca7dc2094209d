//! Procedural macros of the [`axon`](https://docs.rs/axon) crate. Use them through `axon`
//! (`#[axon::synapse]`, `#[axon::model]`); the generated code calls into `axon` only.
//!
//! Each macro parses its input into a small model ([`parse`]), validates it while collecting
//! every error (each spanned at the offending tokens), then generates code.

use proc_macro::TokenStream;

mod generate;
mod parse;

/// Makes a struct a synapse: see `axon::synapse` for the documentation.
#[proc_macro_attribute]
pub fn synapse(args: TokenStream, input: TokenStream) -> TokenStream {
    expand(parse::Kind::Synapse, args, input)
}

/// Makes a struct a nested pydantic model: see `axon::model` for the documentation.
#[proc_macro_attribute]
pub fn model(args: TokenStream, input: TokenStream) -> TokenStream {
    expand(parse::Kind::Model, args, input)
}

fn expand(kind: parse::Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    match parse::Container::parse(kind, args.into(), input.into()) {
        Ok(container) => generate::generate(&container).into(),
        Err(fallback) => fallback.into(),
    }
}
