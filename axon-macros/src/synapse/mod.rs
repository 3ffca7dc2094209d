//! `#[synapse]` and `#[model]`: read the struct into a [`parse::Container`] while every
//! check collects its errors ([`attr`] for the attributes), then generate the `Synapse` /
//! `PyStr` / `InputObj` implementations. After an error the code is still generated from
//! what could be read, or the [`fallback`] stands in, so one mistake gives one message.

mod attr;
mod fallback;
mod generate;
pub mod parse;

use crate::errors::Errors;
use parse::{Container, Parsed};
use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[synapse]` or `#[model]`.
pub fn expand(kind: parse::Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::new();
    let parsed = Container::from_ast(kind, args, input, &mut errors);
    let errors = errors.finish().err().map(|e| e.to_compile_error());
    let code = match parsed {
        Parsed::Container(container) => generate::generate(&container),
        Parsed::Other(item) => fallback::generate(kind, &item),
        Parsed::Unreadable(input) => input,
    };
    quote!(#errors #code)
}
