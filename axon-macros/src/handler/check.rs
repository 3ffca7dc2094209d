//! The checks of a handler's signature, each a small function named after what it decides
//! (axum-macros' `debug_handler` style). Each pushes its errors, spanned at the user's
//! tokens with what to write instead, and returns what it could read so later checks still
//! run: every mistake is reported at once.

use super::parse::{Kind, StateArg, StateKind};
use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{FnArg, GenericArgument, ItemFn, PathArguments, ReturnType, Signature, Type};

/// The function the attribute is on; anything else is an error, emitted with the item
/// unchanged.
pub fn item(kind: Kind, input: TokenStream) -> Result<ItemFn, TokenStream> {
    let attr = format!("#[axon::{}]", kind.name());
    match syn::parse2::<syn::Item>(input.clone()) {
        Ok(syn::Item::Fn(f)) => Ok(f),
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
            Err(quote!(#e #input))
        }
        Err(e) => {
            let e = e.to_compile_error();
            Err(quote!(#e #input))
        }
    }
}

/// The synapse type the attribute names, `#[axon::forward(Echo)]`, if any.
pub fn named(kind: Kind, args: TokenStream, errors: &mut Errors) -> Option<Type> {
    if args.is_empty() {
        return None;
    }
    match syn::parse2::<Type>(args.clone()) {
        Ok(t) => Some(t),
        Err(_) => {
            let name = kind.name();
            errors.push(
                &args,
                format!(
                    "#[axon::{name}] takes at most the synapse type: write `#[axon::{name}]` or `#[axon::{name}(MySynapse)]`"
                ),
            );
            None
        }
    }
}

/// No `unsafe`, ABI, variadic or generic parameters; `example` is the signature to write.
/// `registered` says what the axon registers it for (`one concrete synapse type`).
pub fn qualifiers(example: &str, registered: &str, sig: &Signature, errors: &mut Errors) {
    if let Some(u) = &sig.unsafety {
        errors.push(
            u,
            "a handler cannot be `unsafe fn`: the axon calls it from safe code; remove `unsafe`",
        );
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
                "a handler cannot be generic: the axon registers it for {registered}; write that type, e.g. `{example}`"
            ),
        );
    }
}

/// No `self`; the types of the other arguments, in order.
pub fn receiver<'a>(sig: &'a Signature, errors: &mut Errors) -> Vec<&'a Type> {
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
    typed
}

/// The synapse type: the first argument, by value for a forward, by shared reference for
/// the checks.
pub fn synapse_arg(
    kind: Kind,
    sig: &Signature,
    typed: &[&Type],
    errors: &mut Errors,
) -> Option<Type> {
    let Some(&ty) = typed.first() else {
        if sig.receiver().is_none() {
            let how = if kind.by_value() {
                "by value"
            } else {
                "by reference"
            };
            errors.push_at(
                sig.paren_token.span.join(),
                format!(
                    "{} takes the synapse {how}: `{}`",
                    kind.article(),
                    kind.example("MySynapse")
                ),
            );
        }
        return None;
    };
    if has_impl_trait(ty) {
        errors.push(
            ty,
            format!(
                "a handler cannot be generic: name the synapse type instead of `impl ..`, e.g. `{}`",
                kind.example("MySynapse")
            ),
        );
        return None;
    }
    let refused = match (kind.by_value(), ty) {
        (true, Type::Reference(r)) => format!(
            "a forward takes the synapse by value and returns it: write `synapse: {}`",
            show(&r.elem)
        ),
        (true, other) => return Some(other.clone()),
        (false, Type::Reference(r)) if r.mutability.is_none() => return Some((*r.elem).clone()),
        (false, Type::Reference(r)) => format!(
            "{} only reads the synapse: write `synapse: &{}`",
            kind.article(),
            show(&r.elem)
        ),
        (false, other) => format!(
            "{} takes the synapse by reference: write `synapse: &{}`",
            kind.article(),
            show(other)
        ),
    };
    errors.push(ty, refused);
    None
}

/// The synapse as messages name it, even when its argument was refused.
pub fn synapse_shown(synapse: Option<&Type>, typed: &[&Type]) -> String {
    match (synapse, typed.first()) {
        (Some(s), _) => show(s),
        (None, Some(Type::Reference(r))) => show(&r.elem),
        (None, Some(t)) => show(t),
        (None, None) => "MySynapse".into(),
    }
}

/// The arguments after the synapse: shared state, `&T` or `axon::State<T>`.
pub fn state_args(typed: &[&Type], errors: &mut Errors) -> Vec<StateArg> {
    let mut states = Vec::new();
    for &ty in typed.iter().skip(1) {
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
    states
}

/// The declared return type: present, and not `impl ..`.
pub fn output(kind: Kind, sig: &Signature, synapse: &str, errors: &mut Errors) -> Option<Type> {
    match &sig.output {
        ReturnType::Type(_, ty) if has_impl_trait(ty) => {
            let instead = match kind {
                Kind::Forward => format!(
                    "return `{synapse}`, or `axon::Streaming<{synapse}>` to send the answer in chunks (`axon::Streaming::new(synapse, |chunks| async move {{ chunks.send(..).await }})`)"
                ),
                _ => format!("return {}", kind.returns(synapse)),
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
            let write = match kind {
                Kind::Forward => synapse.to_owned(),
                Kind::Blacklist => "(bool, String)".into(),
                Kind::Priority => "f64".into(),
                Kind::Verify => "Result<(), axon::HandlerError>".into(),
            };
            errors.push_at(
                sig.paren_token.span.close(),
                format!(
                    "{} returns {}: add `-> {write}` after the arguments",
                    kind.article(),
                    kind.returns(synapse),
                ),
            );
            None
        }
    }
}

/// Renders a type for a message: `crate::Echo`, `&Echo`, `Vec<u8>`.
pub fn show(tokens: impl ToTokens) -> String {
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
pub fn has_impl_trait(ty: &Type) -> bool {
    ty.to_token_stream()
        .into_iter()
        .any(|t| matches!(t, proc_macro2::TokenTree::Ident(ref i) if i == "impl"))
}

/// `T` of `State<T>` / `axon::State<T>`.
pub fn state_handle(ty: &Type) -> Option<Type> {
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
