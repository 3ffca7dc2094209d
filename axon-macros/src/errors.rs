//! Collecting errors so a macro reports all of them at once (as serde_derive does).

use proc_macro2::Span;
use quote::ToTokens;

/// Every error found so far, each spanned at the user's offending tokens.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    /// An error spanned at `tokens`.
    pub fn push(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.push_err(syn::Error::new_spanned(tokens, msg));
    }

    /// An error at `span`.
    pub fn push_at(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push_err(syn::Error::new(span, msg));
    }

    /// An error syn produced.
    pub fn push_err(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// `Err` with every error when there is one.
    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}
