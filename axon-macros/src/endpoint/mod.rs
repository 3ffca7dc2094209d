//! `#[axon::endpoint(METHOD "/path", ..)]`: parse the attribute and the function into a
//! [`parse::Endpoint`], collecting every error, then generate its registration.

mod generate;
pub mod parse;

use proc_macro2::TokenStream;

/// Expands the attribute.
pub fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    match parse::Endpoint::parse(args, input) {
        Ok(endpoint) => generate::generate(&endpoint),
        Err(fallback) => fallback,
    }
}
