//! The attributes of a `#[synapse]` / `#[model]` struct: the macro's arguments, the
//! container's own attributes, and each field's `#[hash]` / `#[default]`. Each parser
//! pushes what it refuses and returns what it could read.

use super::parse::{FieldDefault, Kind};
use crate::errors::Errors;
use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, LitStr, Meta};

/// `#[synapse(name = "..", hash_fields = [..], max_body = N, timeout = SECONDS)]`.
#[derive(Default)]
pub struct Args {
    pub name: Option<LitStr>,
    pub max_body: Option<Expr>,
    pub hash_fields: Option<(Span, Vec<LitStr>)>,
    /// The default timeout in seconds, as a Python subclass redeclares it.
    pub timeout: Option<f64>,
}

/// The macro's arguments (a `#[model]` takes none).
pub fn args(kind: Kind, args: TokenStream, errors: &mut Errors) -> Args {
    let mut out = Args::default();
    if args.is_empty() {
        return out;
    }
    if kind == Kind::Model {
        errors.push(&args, "#[model] takes no arguments: write `#[axon::model]`");
        return out;
    }
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            out.name = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("max_body") {
            out.max_body = Some(max_body(&meta)?);
        } else if meta.path.is_ident("hash_fields") {
            out.hash_fields = Some((meta.path.span(), hash_field_names(&meta)?));
        } else if meta.path.is_ident("timeout") {
            out.timeout = Some(timeout(&meta)?);
        } else {
            return Err(meta.error(
                "unknown #[synapse] argument: write `name = \"PythonClassName\"`, `hash_fields = [\"field\", ...]`, `max_body = BYTES` or `timeout = SECONDS`",
            ));
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push_err(e);
    }
    out
}

/// `max_body = N`: an expression of bytes, not zero, not a string.
fn max_body(meta: &ParseNestedMeta<'_>) -> syn::Result<Expr> {
    let expr: Expr = meta.value()?.parse()?;
    match &expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) if n.base10_parse::<u64>().ok() == Some(0) => Err(syn::Error::new_spanned(
            n,
            "max_body is the largest body in bytes and must be at least 1: write e.g. `max_body = 64 * 1024 * 1024`",
        )),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Err(syn::Error::new_spanned(
            s,
            "max_body takes a number of bytes, not a string: write e.g. `max_body = 64 * 1024 * 1024`",
        )),
        _ => Ok(expr),
    }
}

/// `timeout = 60.0` (or `60`): the default timeout in seconds, a positive number.
fn timeout(meta: &ParseNestedMeta<'_>) -> syn::Result<f64> {
    let expr: Expr = meta.value()?.parse()?;
    let seconds = match &expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>().ok(),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => n.base10_parse::<u64>().ok().map(|n| n as f64),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(syn::Error::new_spanned(
            &expr,
            "timeout is the synapse's default timeout in seconds, a positive number: write e.g. `timeout = 60.0` (Python: `timeout: float = 60.0`)",
        )),
    }
}

/// `hash_fields = ["a", "b"]`: field names as strings.
fn hash_field_names(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<LitStr>> {
    let array: syn::ExprArray = meta.value()?.parse()?;
    array
        .elems
        .iter()
        .map(|elem| match elem {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Ok(s.clone()),
            other => Err(syn::Error::new_spanned(
                other,
                "hash_fields takes field names as strings: `hash_fields = [\"text\", \"n\"]`",
            )),
        })
        .collect()
}

/// The container's attributes to keep: every one but those the macro owns (`#[serde]`, and
/// `Serialize`, `Deserialize` and, for a synapse, `Default` in a derive), which are refused.
pub fn container(kind: Kind, attrs: &[Attribute], errors: &mut Errors) -> Vec<Attribute> {
    let what = kind.attr();
    let mut kept = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("serde") {
            errors.push(attr, format!("{what} writes the serde attributes itself so the JSON stays pydantic's: remove this `#[serde(...)]`"));
        } else if attr.path().is_ident("derive") {
            kept.extend(derive(kind, attr, errors));
        } else {
            kept.push(attr.clone());
        }
    }
    kept
}

/// A `#[derive(..)]` without the derives the macro writes itself.
fn derive(kind: Kind, attr: &Attribute, errors: &mut Errors) -> Option<Attribute> {
    let what = kind.attr();
    let mut paths = Vec::new();
    let parsed = attr.parse_nested_meta(|meta| {
        let last = meta.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if last == "Serialize" || last == "Deserialize" {
            errors.push(&meta.path, format!("remove `{last}`: {what} derives serde itself (pydantic-compatible)"));
        } else if last == "Default" && kind == Kind::Synapse {
            errors.push(
                &meta.path,
                "remove `Default`: #[synapse] implements it with Python's defaults when no field is required, and `new(..)` otherwise",
            );
        } else {
            paths.push(meta.path);
        }
        Ok(())
    });
    if parsed.is_err() {
        // Not ours to judge: rustc reports a malformed derive.
        return Some(attr.clone());
    }
    (!paths.is_empty()).then(|| syn::parse_quote!(#[derive(#(#paths),*)]))
}

/// What a field's attributes say.
pub struct FieldAttrs {
    pub hash: bool,
    pub default: FieldDefault,
    /// The attributes the macro does not own.
    pub kept: Vec<Attribute>,
}

/// A field's `#[hash]` and `#[default]`; a `#[serde]` is refused.
pub fn field(kind: Kind, attrs: Vec<Attribute>, errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs {
        hash: false,
        default: FieldDefault::Required,
        kept: Vec::new(),
    };
    for attr in attrs {
        if attr.path().is_ident("hash") {
            hash(kind, &attr, out.hash, errors);
            out.hash = kind == Kind::Synapse;
        } else if attr.path().is_ident("default") {
            out.default = default(&attr, errors);
        } else if attr.path().is_ident("serde") {
            errors.push(
                &attr,
                format!("{} owns the serde attributes so the JSON stays pydantic's: for a default write `#[default]` or `#[default(expr)]`", kind.attr()),
            );
        } else {
            out.kept.push(attr);
        }
    }
    out
}

/// `#[hash]`: bare, once, on a synapse field.
fn hash(kind: Kind, attr: &Attribute, already: bool, errors: &mut Errors) {
    if kind == Kind::Model {
        errors.push(attr, "#[hash] marks synapse fields; a #[model] is hashed whole, through the synapse field that holds it");
    } else if !matches!(attr.meta, Meta::Path(_)) {
        errors.push(&attr.meta, "write `#[hash]` with no arguments; the hash order is the fields' order (or use `#[synapse(hash_fields = [...])]`)");
    } else if already {
        errors.push(attr, "this field is already `#[hash]`");
    }
}

/// `#[default]` or `#[default(expr)]`.
fn default(attr: &Attribute, errors: &mut Errors) -> FieldDefault {
    match &attr.meta {
        Meta::Path(_) => FieldDefault::Trait,
        Meta::List(list) => match list.parse_args::<Expr>() {
            Ok(expr) => FieldDefault::Expr(Box::new(expr)),
            Err(e) => {
                errors.push_err(e);
                FieldDefault::Required
            }
        },
        Meta::NameValue(nv) => {
            errors.push(
                nv,
                "write `#[default(expr)]`, or `#[default]` for `Default::default()`",
            );
            FieldDefault::Required
        }
    }
}

/// The macro's own attributes, removed from an item emitted as it is.
pub fn is_owned(attr: &Attribute) -> bool {
    ["hash", "default", "serde"]
        .iter()
        .any(|name| attr.path().is_ident(name))
}
