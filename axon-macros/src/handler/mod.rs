//! `#[forward]`, `#[blacklist]`, `#[priority]` and `#[verify]`: parse the function into a
//! [`parse::Handler`], validate its signature, then generate its checks and registration.

mod generate;
pub mod parse;

use proc_macro2::TokenStream;

/// Expands a handler attribute.
pub fn expand(kind: parse::Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    match parse::Handler::parse(kind, args, input) {
        Ok(handler) => generate::generate(&handler),
        Err(fallback) => fallback,
    }
}
