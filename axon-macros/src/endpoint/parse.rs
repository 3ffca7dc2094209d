//! The model of an `#[axon::endpoint(..)]`: its arguments (method, path, options) and the
//! function's arguments, each checked while every error is collected.

use crate::errors::Errors;
use crate::handler::check;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, FnArg, Ident, ItemFn, Lit, LitStr, Meta, Token, Type};

/// The signature to write, for messages.
pub const EXAMPLE: &str =
    "async fn score(caller: axon::auth::Caller, Json(req): Json<Req>) -> Json<Resp>";

/// The methods an endpoint may have.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The options after the path.
const OPTIONS: &str =
    "`auth = btauth | epistula | [btauth, epistula]`, `crypto = sr25519 | ed25519 | [sr25519, ed25519]`, `unbound`, `timeout = <seconds>`, `max_body = <bytes>`, `blacklist = <fn>`, `priority = <fn>`";

/// What the attribute's arguments say.
pub struct Args {
    pub method: String,
    pub path: String,
    pub btauth: bool,
    pub epistula: bool,
    pub unbound: bool,
    /// The crypto types accepted (`sr25519`, `ed25519`), when narrowed.
    pub crypto: Option<Vec<String>>,
    pub timeout: Option<f64>,
    pub max_body: Option<u64>,
    pub blacklist: Option<syn::Path>,
    pub priority: Option<syn::Path>,
}

/// `POST "/path", options..` as written.
struct Raw {
    method: Ident,
    path: LitStr,
    options: Punctuated<Meta, Token![,]>,
}

impl Parse for Raw {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let method: Ident = input.parse()?;
        let path: LitStr = input.parse()?;
        let options = match input.is_empty() {
            true => Punctuated::new(),
            false => {
                input.parse::<Token![,]>()?;
                Punctuated::parse_terminated(input)?
            }
        };
        Ok(Raw {
            method,
            path,
            options,
        })
    }
}

/// How an argument of the function receives its value.
pub enum ArgKind {
    /// `axon::State<T>`: the state value of type `T`.
    State(Box<Type>),
    /// Anything else: an axum extractor (or the `Caller`).
    Extract,
}

/// One argument of the function.
pub struct Arg {
    pub ty: Type,
    pub kind: ArgKind,
}

/// A validated endpoint.
pub struct Endpoint {
    pub args: Args,
    pub item: ItemFn,
    pub inputs: Vec<Arg>,
}

impl Endpoint {
    /// Parses and validates the attribute and its function, collecting every error; on
    /// error, the errors and the function unchanged.
    pub fn parse(args: TokenStream, input: TokenStream) -> Result<Endpoint, TokenStream> {
        let item = match syn::parse2::<ItemFn>(input.clone()) {
            Ok(item) => item,
            Err(_) => {
                let e = syn::Error::new(
                    Span::call_site(),
                    format!("#[axon::endpoint] goes on an async function: `{EXAMPLE}`"),
                )
                .to_compile_error();
                return Err(quote!(#e #input));
            }
        };
        let mut errors = Errors::new();
        let parsed = attribute(args, &mut errors);
        let sig = &item.sig;
        check::qualifiers(EXAMPLE, "one route", sig, &mut errors);
        if sig.asyncness.is_none() {
            errors.push(
                sig.fn_token,
                "an endpoint is an `async fn` (its extractors and answer are axum's): write `async fn`; for CPU-heavy work call `tokio::task::spawn_blocking` inside",
            );
        }
        let inputs = inputs(sig, &mut errors);
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            if matches!(**ty, Type::Reference(_)) {
                errors.push(
                    ty,
                    "an endpoint answers with an owned value: return `Json<T>`, `String` or any `IntoResponse`, not a reference",
                );
            }
        }
        match (errors.finish(), parsed) {
            (Ok(()), Some(args)) => Ok(Endpoint { args, item, inputs }),
            (result, _) => {
                let e = result.err().map(|e| e.to_compile_error());
                Err(quote!(#e #item))
            }
        }
    }
}

/// The attribute's arguments.
fn attribute(args: TokenStream, errors: &mut Errors) -> Option<Args> {
    let raw = match syn::parse2::<Raw>(args.clone()) {
        Ok(raw) => raw,
        Err(e) => {
            let at = if args.is_empty() {
                Span::call_site()
            } else {
                e.span()
            };
            errors.push_at(
                at,
                format!(
                    "#[axon::endpoint] takes a method and a path, then options: `#[axon::endpoint(POST \"/v1/score\")]`; the options are {OPTIONS}"
                ),
            );
            return None;
        }
    };
    let method = raw.method.to_string();
    if !METHODS.contains(&method.as_str()) {
        let upper = method.to_uppercase();
        let hint = match METHODS.contains(&upper.as_str()) {
            true => format!("write `{upper}`"),
            false => format!("write one of {}", METHODS.join(", ")),
        };
        errors.push(
            &raw.method,
            format!("`{method}` is not an HTTP method an endpoint may have: {hint}"),
        );
    }
    let path = raw.path.value();
    if let Some(problem) = path_problem(&path) {
        errors.push(
            &raw.path,
            format!("{problem}: write a path such as \"/v1/score\""),
        );
    }
    let mut out = Args {
        method,
        path,
        btauth: true,
        epistula: true,
        unbound: false,
        crypto: None,
        timeout: None,
        max_body: None,
        blacklist: None,
        priority: None,
    };
    for option in &raw.options {
        self::option(option, &mut out, errors);
    }
    if let (Some(crypto), false) = (&out.crypto, out.btauth) {
        if !crypto.iter().any(|c| c == "sr25519") {
            let at = raw
                .options
                .iter()
                .find(|m| m.path().is_ident("crypto"))
                .expect("a crypto option was read");
            errors.push(
                at,
                "Epistula is signed with sr25519 only, so an endpoint that accepts only Epistula cannot accept only ed25519: add `auth = [btauth, epistula]`, or accept sr25519",
            );
        }
    }
    Some(out)
}

/// What is wrong with a path, if anything.
fn path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("the path starts with `/`");
    }
    if path.contains(['?', '#']) {
        return Some("the path has no query or fragment (the query is signed and passed as sent)");
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("the path has no spaces or control characters");
    }
    None
}

/// One option after the path.
fn option(meta: &Meta, out: &mut Args, errors: &mut Errors) {
    let key = meta
        .path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    match (key.as_str(), meta) {
        ("unbound", Meta::Path(_)) => out.unbound = true,
        ("auth", Meta::NameValue(nv)) => match schemes(&nv.value) {
            Some((btauth, epistula)) => (out.btauth, out.epistula) = (btauth, epistula),
            None => errors.push(
                &nv.value,
                "`auth` names the schemes the endpoint accepts: `auth = btauth`, `auth = epistula` or `auth = [btauth, epistula]`",
            ),
        },
        ("crypto", Meta::NameValue(nv)) => match crypto_types(&nv.value) {
            Some(types) => out.crypto = Some(types),
            None => errors.push(
                &nv.value,
                "`crypto` names the senders' crypto types the endpoint accepts: `crypto = sr25519`, `crypto = ed25519` or `crypto = [sr25519, ed25519]`",
            ),
        },
        ("timeout", Meta::NameValue(nv)) => match number(&nv.value) {
            Some(t) if t > 0.0 && t.is_finite() => out.timeout = Some(t),
            _ => errors.push(&nv.value, "`timeout` is a number of seconds above 0: `timeout = 30`"),
        },
        ("max_body", Meta::NameValue(nv)) => match number(&nv.value) {
            Some(n) if n >= 1.0 && n.fract() == 0.0 => out.max_body = Some(n as u64),
            _ => errors.push(&nv.value, "`max_body` is a whole number of bytes: `max_body = 65536`"),
        },
        ("blacklist" | "priority", Meta::NameValue(nv)) => match &nv.value {
            Expr::Path(p) if p.qself.is_none() => {
                let slot = match key.as_str() {
                    "blacklist" => &mut out.blacklist,
                    _ => &mut out.priority,
                };
                *slot = Some(p.path.clone());
            }
            other => errors.push(
                other,
                format!("`{key}` names a function: `{key} = my_{key}`, with `fn my_{key}(caller: &axon::auth::Caller, ..)`"),
            ),
        },
        _ => errors.push(meta, format!("unknown option: the options are {OPTIONS}")),
    }
}

/// `btauth`, `epistula` or a non-empty list of them.
fn schemes(value: &Expr) -> Option<(bool, bool)> {
    let names: Vec<&Expr> = match value {
        Expr::Array(a) if !a.elems.is_empty() => a.elems.iter().collect(),
        Expr::Path(_) => vec![value],
        _ => return None,
    };
    let mut found = (false, false);
    for name in names {
        let Expr::Path(p) = name else { return None };
        match p.path.get_ident()?.to_string().as_str() {
            "btauth" => found.0 = true,
            "epistula" => found.1 = true,
            _ => return None,
        }
    }
    Some(found)
}

/// `sr25519`, `ed25519` or a non-empty list of them, each once.
fn crypto_types(value: &Expr) -> Option<Vec<String>> {
    let names: Vec<&Expr> = match value {
        Expr::Array(a) if !a.elems.is_empty() => a.elems.iter().collect(),
        Expr::Path(_) => vec![value],
        _ => return None,
    };
    let mut found = Vec::new();
    for name in names {
        let Expr::Path(p) = name else { return None };
        let name = p.path.get_ident()?.to_string();
        if !matches!(name.as_str(), "sr25519" | "ed25519") || found.contains(&name) {
            return None;
        }
        found.push(name);
    }
    Some(found)
}

/// An integer or float literal.
fn number(value: &Expr) -> Option<f64> {
    let Expr::Lit(lit) = value else { return None };
    match &lit.lit {
        Lit::Int(i) => i.base10_parse::<f64>().ok(),
        Lit::Float(f) => f.base10_parse::<f64>().ok(),
        _ => None,
    }
}

/// The function's arguments: `axon::State<T>` or an extractor; no `self`, no `&T`, no
/// `impl ..`.
fn inputs(sig: &syn::Signature, errors: &mut Errors) -> Vec<Arg> {
    let mut args = Vec::new();
    for input in &sig.inputs {
        let FnArg::Typed(t) = input else {
            errors.push(input, "an endpoint is a free function, not a method: remove `self` (reach shared data through `axon::State<T>`)");
            continue;
        };
        let ty = &*t.ty;
        if check::has_impl_trait(ty) {
            errors.push(
                ty,
                "an endpoint cannot be generic: name the argument's type",
            );
            continue;
        }
        if let Type::Reference(r) = ty {
            errors.push(
                ty,
                format!(
                    "an endpoint's arguments are owned: take shared state as `axon::State<{}>`, the caller as `axon::auth::Caller`",
                    check::show(&r.elem)
                ),
            );
            continue;
        }
        let kind = match check::state_handle(ty) {
            Some(inner) => ArgKind::State(Box::new(inner)),
            None => ArgKind::Extract,
        };
        args.push(Arg {
            ty: ty.clone(),
            kind,
        });
    }
    args
}
