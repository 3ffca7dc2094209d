//! The internal model of a handler function, and the validation of its signature.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{FnArg, GenericArgument, Ident, ItemFn, PathArguments, ReturnType, Type};

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
    fn article(self) -> String {
        format!("a {}", self.name())
    }

    /// What it returns, for messages.
    fn returns(self, synapse: &str) -> String {
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
    fn example(self, synapse: &str) -> String {
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
    fn by_value(self) -> bool {
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

/// Renders a type for a message: `crate::Echo`, `&Echo`, `Vec<u8>`.
fn show(tokens: impl ToTokens) -> String {
    let mut s = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" ,", ","),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// Whether a type contains `impl Trait` (an anonymous generic parameter).
fn has_impl_trait(ty: &Type) -> bool {
    ty.to_token_stream()
        .into_iter()
        .any(|t| matches!(t, proc_macro2::TokenTree::Ident(ref i) if i == "impl"))
}

/// `T` of `State<T>` / `axon::State<T>`.
fn state_handle(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident != "State" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(t)] => Some(t.clone()),
        _ => None,
    }
}

impl Handler {
    /// Parses and validates `#[axon::<kind>(args)] input`. On error, the tokens to emit:
    /// every error, then the function unchanged (so nothing else fails because of it).
    pub fn parse(
        kind: Kind,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<Handler, TokenStream> {
        let mut errors = Errors::default();
        let attr = format!("#[axon::{}]", kind.name());

        let item = match syn::parse2::<syn::Item>(input.clone()) {
            Ok(syn::Item::Fn(f)) => f,
            Ok(other) => {
                let what = other
                    .to_token_stream()
                    .into_iter()
                    .take(2)
                    .collect::<TokenStream>();
                let e = syn::Error::new_spanned(
                    what,
                    format!("{attr} goes on a function: `{}`", kind.example("MySynapse")),
                )
                .to_compile_error();
                return Err(quote!(#e #input));
            }
            Err(e) => {
                let e = e.to_compile_error();
                return Err(quote!(#e #input));
            }
        };

        let named = if args.is_empty() {
            None
        } else {
            match syn::parse2::<Type>(args.clone()) {
                Ok(t) => Some(t),
                Err(_) => {
                    errors.push(
                        &args,
                        format!(
                            "{attr} takes at most the synapse type: write `#[axon::{}]` or `#[axon::{}(MySynapse)]`",
                            kind.name(),
                            kind.name()
                        ),
                    );
                    None
                }
            }
        };

        let sig = &item.sig;
        if let Some(u) = &sig.unsafety {
            errors.push(u, "a handler cannot be `unsafe fn`: the axon calls it from safe code; remove `unsafe`");
        }
        if let Some(abi) = &sig.abi {
            errors.push(abi, "a handler cannot have an ABI: remove the `extern`");
        }
        if let Some(v) = &sig.variadic {
            errors.push(v, "a handler cannot be variadic: remove the `...`");
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            let span = if sig.generics.params.is_empty() {
                sig.generics.where_clause.to_token_stream()
            } else {
                sig.generics.to_token_stream()
            };
            errors.push(
                span,
                format!(
                    "a handler cannot be generic: the axon registers it for one concrete synapse type; write that type, e.g. `{}`",
                    kind.example("MySynapse")
                ),
            );
        }

        // The synapse argument, then state arguments.
        let mut typed = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(r) => errors.push(
                    r,
                    "a handler is a free function, not a method: remove `self` (move the function out of the `impl` block; reach shared data through a state argument `&T`)",
                ),
                FnArg::Typed(t) => typed.push(&*t.ty),
            }
        }
        let has_receiver = sig.receiver().is_some();

        let mut synapse = None;
        match typed.first() {
            None if !has_receiver => errors.push_at(
                sig.paren_token.span.join(),
                format!(
                    "{} takes the synapse {}: `{}`",
                    kind.article(),
                    if kind.by_value() {
                        "by value"
                    } else {
                        "by reference"
                    },
                    kind.example("MySynapse")
                ),
            ),
            None => {}
            Some(ty) => {
                let ty = *ty;
                if has_impl_trait(ty) {
                    errors.push(
                        ty,
                        format!(
                            "a handler cannot be generic: name the synapse type instead of `impl ..`, e.g. `{}`",
                            kind.example("MySynapse")
                        ),
                    );
                } else {
                    match (kind.by_value(), ty) {
                        (true, Type::Reference(r)) => errors.push(
                            ty,
                            format!(
                                "a forward takes the synapse by value and returns it: write `synapse: {}`",
                                show(&r.elem)
                            ),
                        ),
                        (true, other) => synapse = Some(other.clone()),
                        (false, Type::Reference(r)) if r.mutability.is_none() => {
                            synapse = Some((*r.elem).clone())
                        }
                        (false, Type::Reference(r)) => errors.push(
                            ty,
                            format!(
                                "{} only reads the synapse: write `synapse: &{}`",
                                kind.article(),
                                show(&r.elem)
                            ),
                        ),
                        (false, other) => errors.push(
                            ty,
                            format!(
                                "{} takes the synapse by reference: write `synapse: &{}`",
                                kind.article(),
                                show(other)
                            ),
                        ),
                    }
                }
            }
        }
        let synapse_shown = match (&synapse, typed.first()) {
            (Some(s), _) => show(s),
            (None, Some(Type::Reference(r))) => show(&r.elem),
            (None, Some(t)) => show(t),
            (None, None) => "MySynapse".into(),
        };

        let mut states = Vec::new();
        for ty in typed.iter().skip(1) {
            let ty = *ty;
            if has_impl_trait(ty) {
                errors.push(ty, "a handler cannot be generic: a state argument names its type, `&T` or `axon::State<T>`");
                continue;
            }
            match ty {
                Type::Reference(r) if r.mutability.is_none() => states.push(StateArg {
                    ty: (*r.elem).clone(),
                    kind: StateKind::Borrow,
                }),
                Type::Reference(r) => errors.push(
                    ty,
                    format!(
                        "state is shared by every request: take `&{}` (put a `Mutex` inside it to mutate)",
                        show(&r.elem)
                    ),
                ),
                other => match state_handle(other) {
                    Some(t) => states.push(StateArg {
                        ty: t,
                        kind: StateKind::Handle,
                    }),
                    None => errors.push(
                        ty,
                        format!(
                            "arguments after the synapse are shared state given with `.state(value)` on the axon: write `&{0}` or `axon::State<{0}>`",
                            show(other)
                        ),
                    ),
                },
            }
        }

        let output = match &sig.output {
            ReturnType::Type(_, ty) if has_impl_trait(ty) => {
                let instead = match kind {
                    Kind::Forward => format!(
                        "return `{synapse_shown}`, or `axon::Streaming<{synapse_shown}>` to send the answer in chunks (`axon::Streaming::new(synapse, |chunks| async move {{ chunks.send(..).await }})`)"
                    ),
                    _ => format!("return {}", kind.returns(&synapse_shown)),
                };
                errors.push(
                    ty,
                    format!(
                        "{} cannot return `impl ..`: the axon needs the concrete type; {instead}",
                        kind.article()
                    ),
                );
                None
            }
            ReturnType::Type(_, ty) => Some((**ty).clone()),
            ReturnType::Default => {
                errors.push_at(
                    sig.paren_token.span.close(),
                    format!(
                        "{} returns {}: add `-> {}` after the arguments",
                        kind.article(),
                        kind.returns(&synapse_shown),
                        match kind {
                            Kind::Forward => synapse_shown.clone(),
                            Kind::Blacklist => "(bool, String)".into(),
                            Kind::Priority => "f64".into(),
                            Kind::Verify => "Result<(), axon::HandlerError>".into(),
                        }
                    ),
                );
                None
            }
        };

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
