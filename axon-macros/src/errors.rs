//! Collecting errors so a macro reports all of them at once (serde_derive's `Ctxt`): each
//! check pushes what it finds and goes on; [`Errors::finish`] hands them over. Dropping a
//! collector without finishing it is a bug in the macro (an error would be lost), and
//! panics.

use proc_macro2::Span;
use quote::ToTokens;

/// Every error found so far, each spanned at the user's offending tokens.
pub struct Errors {
    /// `None` once finished.
    found: Option<Vec<syn::Error>>,
}

impl Errors {
    /// An empty collector; it must be [`finish`](Errors::finish)ed.
    pub fn new() -> Self {
        Errors {
            found: Some(Vec::new()),
        }
    }

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
        self.found
            .as_mut()
            .expect("errors pushed after finish")
            .push(e);
    }

    /// `Err` with every error when there is one.
    pub fn finish(mut self) -> Result<(), syn::Error> {
        let found = self.found.take().expect("finished twice");
        let mut all = found.into_iter();
        match all.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(all);
                Err(first)
            }
        }
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if self.found.is_some() && !std::thread::panicking() {
            panic!("axon-macros: errors dropped without being finished");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finishing_hands_over_every_error() {
        let mut errors = Errors::new();
        errors.push_at(Span::call_site(), "first");
        errors.push_at(Span::call_site(), "second");
        let all = errors.finish().unwrap_err();
        let messages: Vec<String> = all.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
        assert!(Errors::new().finish().is_ok());
    }

    #[test]
    #[should_panic(expected = "errors dropped without being finished")]
    fn errors_dropped_unfinished_panic() {
        let mut errors = Errors::new();
        errors.push_at(Span::call_site(), "lost");
    }
}
