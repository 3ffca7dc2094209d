//! `#[forward]`, `#[blacklist]`, `#[priority]` and `#[verify]`: parse the function into a
//! [`parse::Handler`] while [`check`] validates its signature piece by piece, then generate
//! its checks and registration.

pub mod check;
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
