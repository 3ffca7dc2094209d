//! `#[synapse]` and `#[model]`: parse the struct into a [`parse::Container`], validate it,
//! then generate the `Synapse` / `PyStr` / `InputObj` implementations.

mod generate;
pub mod parse;

use proc_macro2::TokenStream;

/// Expands `#[synapse]` or `#[model]`.
pub fn expand(kind: parse::Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    match parse::Container::parse(kind, args, input) {
        Ok(container) => generate::generate(&container),
        Err(fallback) => fallback,
    }
}
