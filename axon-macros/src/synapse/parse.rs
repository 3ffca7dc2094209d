//! The internal model of a `#[synapse]` / `#[model]` struct, and its validation.

use crate::errors::Errors;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, LitStr, Meta, Type, Visibility};

/// Which macro is running.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Synapse,
    Model,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Synapse => "#[synapse]",
            Kind::Model => "#[model]",
        }
    }
}

/// The fields `#[synapse]` adds (Python's `bittensor.Synapse` fields).
pub const COMMON_FIELDS: [&str; 7] = [
    "name",
    "timeout",
    "total_size",
    "header_size",
    "dendrite",
    "axon",
    "computed_body_hash",
];

/// A validated struct.
pub struct Container {
    pub kind: Kind,
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// The route name (synapse only): `name = "..."` or the struct's name.
    pub route_name: String,
    /// `max_body = N` (synapse only): this synapse's own body limit in bytes.
    pub max_body: Option<Expr>,
    /// The hashed fields in hash order (Python names).
    pub hash_fields: Vec<HashField>,
    pub fields: Vec<Field>,
}

/// One hashed field.
pub struct HashField {
    pub py_name: String,
    pub member: Ident,
    /// The type, for spans and turbofish; `None` for a common field.
    pub ty: Option<Type>,
}

/// A user field.
pub struct Field {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub py_name: String,
    pub ty: Type,
    pub default: FieldDefault,
}

/// How a field gets its value when the input lacks it.
pub enum FieldDefault {
    /// No default: required, as in pydantic.
    Required,
    /// `#[default]`: `Default::default()`.
    Trait,
    /// `#[default(expr)]`.
    Expr(Box<Expr>),
}

struct Args {
    name: Option<LitStr>,
    max_body: Option<Expr>,
    hash_fields: Option<(Span, Vec<LitStr>)>,
}

fn parse_args(kind: Kind, args: TokenStream, errors: &mut Errors) -> Args {
    let mut out = Args {
        name: None,
        max_body: None,
        hash_fields: None,
    };
    if args.is_empty() {
        return out;
    }
    if kind == Kind::Model {
        errors.push(&args, "#[model] takes no arguments: write `#[axon::model]`");
        return out;
    }
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            let lit: LitStr = meta.value()?.parse()?;
            out.name = Some(lit);
            Ok(())
        } else if meta.path.is_ident("max_body") {
            let expr: Expr = meta.value()?.parse()?;
            match &expr {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) if n.base10_parse::<u64>().ok() == Some(0) => {
                    return Err(syn::Error::new_spanned(
                        n,
                        "max_body is the largest body in bytes and must be at least 1: write e.g. `max_body = 64 * 1024 * 1024`",
                    ));
                }
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => {
                    return Err(syn::Error::new_spanned(
                        s,
                        "max_body takes a number of bytes, not a string: write e.g. `max_body = 64 * 1024 * 1024`",
                    ));
                }
                _ => {}
            }
            out.max_body = Some(expr);
            Ok(())
        } else if meta.path.is_ident("hash_fields") {
            let span = meta.path.span();
            let array: syn::ExprArray = meta.value()?.parse()?;
            let mut names = Vec::new();
            for elem in &array.elems {
                match elem {
                    Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => names.push(s.clone()),
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "hash_fields takes field names as strings: `hash_fields = [\"text\", \"n\"]`",
                        ))
                    }
                }
            }
            out.hash_fields = Some((span, names));
            Ok(())
        } else {
            Err(meta.error(
                "unknown #[synapse] argument: write `name = \"PythonClassName\"`, `hash_fields = [\"field\", ...]` or `max_body = BYTES`",
            ))
        }
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push_err(e);
    }
    out
}

fn is_python_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Container {
    /// Parses and validates. On failure, returns the errors followed by the struct with the
    /// macro's own attributes removed, so that one mistake does not cascade.
    pub fn parse(
        kind: Kind,
        args: TokenStream,
        input: TokenStream,
    ) -> Result<Container, TokenStream> {
        let mut errors = Errors::default();
        let args = parse_args(kind, args, &mut errors);
        let item: syn::DeriveInput = match syn::parse2(input.clone()) {
            Ok(item) => item,
            Err(e) => {
                let e = e.to_compile_error();
                return Err(quote!(#e #input));
            }
        };
        let what = kind.attr();
        let named = match &item.data {
            syn::Data::Struct(s) => match &s.fields {
                syn::Fields::Named(named) => Some(named.named.iter().cloned().collect::<Vec<_>>()),
                syn::Fields::Unnamed(f) => {
                    errors.push(
                        f,
                        format!("{what} needs named fields, as a pydantic model has: write `struct {} {{ text: String }}`", item.ident),
                    );
                    None
                }
                syn::Fields::Unit => {
                    errors.push(
                        &item.ident,
                        format!("{what} needs a struct with braces: write `struct {} {{}}` (fields optional)", item.ident),
                    );
                    None
                }
            },
            syn::Data::Enum(e) => {
                errors.push(
                    e.enum_token,
                    format!("{what} goes on a struct with named fields, not an enum: a Python synapse is a pydantic model class"),
                );
                None
            }
            syn::Data::Union(u) => {
                errors.push(
                    u.union_token,
                    format!("{what} goes on a struct with named fields, not a union"),
                );
                None
            }
        };
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            errors.push(
                &item.generics,
                format!("{what} structs cannot be generic: the Python class has fixed field types; write one struct per type"),
            );
        }

        let attrs = container_attrs(kind, &item.attrs, &mut errors);
        let route_name = match &args.name {
            Some(lit) if !is_python_identifier(&lit.value()) => {
                errors.push(lit, "the route name is a Python class name: letters, digits and `_`, not starting with a digit");
                lit.value()
            }
            Some(lit) => lit.value(),
            None => item.ident.to_string(),
        };

        let mut fields = Vec::new();
        let mut hash_marked = Vec::new();
        for f in named.unwrap_or_default() {
            if let Some((field, hash)) = parse_field(kind, f, &mut errors) {
                if hash {
                    hash_marked.push(fields.len());
                }
                fields.push(field);
            }
        }

        let hash_fields = match args.hash_fields {
            Some((span, names)) => {
                if !hash_marked.is_empty() {
                    errors.push_at(
                        span,
                        "use either `hash_fields = [...]` or `#[hash]` on fields, not both",
                    );
                }
                let mut out: Vec<HashField> = Vec::new();
                for lit in names {
                    let name = lit.value();
                    if out.iter().any(|h| h.py_name == name) {
                        errors.push(&lit, format!("`{name}` is listed twice in hash_fields"));
                    } else if let Some(f) = fields.iter().find(|f| f.py_name == name) {
                        out.push(HashField {
                            py_name: name,
                            member: f.ident.clone(),
                            ty: Some(f.ty.clone()),
                        });
                    } else if COMMON_FIELDS.contains(&name.as_str()) {
                        out.push(HashField {
                            py_name: name.clone(),
                            member: Ident::new(&name, lit.span()),
                            ty: None,
                        });
                    } else {
                        let known: Vec<&str> = fields.iter().map(|f| f.py_name.as_str()).collect();
                        errors.push(
                            &lit,
                            format!(
                                "no field `{name}` in `{}`; its fields are: {}",
                                item.ident,
                                known.join(", ")
                            ),
                        );
                    }
                }
                out
            }
            None => hash_marked
                .into_iter()
                .map(|i| HashField {
                    py_name: fields[i].py_name.clone(),
                    member: fields[i].ident.clone(),
                    ty: Some(fields[i].ty.clone()),
                })
                .collect(),
        };

        if let Err(e) = errors.finish() {
            let e = e.to_compile_error();
            let stripped = strip(&item);
            return Err(quote!(#e #stripped));
        }
        Ok(Container {
            kind,
            attrs,
            vis: item.vis,
            ident: item.ident,
            route_name,
            max_body: args.max_body,
            hash_fields,
            fields,
        })
    }
}

/// The container's attributes to keep, refusing the ones the macro owns.
fn container_attrs(kind: Kind, attrs: &[Attribute], errors: &mut Errors) -> Vec<Attribute> {
    let what = kind.attr();
    for attr in attrs {
        if attr.path().is_ident("serde") {
            errors.push(attr, format!("{what} writes the serde attributes itself so the JSON stays pydantic's: remove this `#[serde(...)]`"));
        }
        if attr.path().is_ident("derive") {
            let _ = attr.parse_nested_meta(|meta| {
                let last = meta.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                if last == "Serialize" || last == "Deserialize" {
                    errors.push(&meta.path, format!("remove `{last}`: {what} derives serde itself (pydantic-compatible)"));
                } else if last == "Default" && kind == Kind::Synapse {
                    errors.push(
                        &meta.path,
                        "remove `Default`: #[synapse] implements it with Python's defaults when no field is required, and `new(..)` otherwise",
                    );
                }
                Ok(())
            });
        }
    }
    attrs.to_vec()
}

/// Parses one field; returns it with whether it is `#[hash]`ed.
fn parse_field(kind: Kind, f: syn::Field, errors: &mut Errors) -> Option<(Field, bool)> {
    let ident = f.ident.clone()?;
    let py_name = ident.to_string().trim_start_matches("r#").to_owned();
    if kind == Kind::Synapse && COMMON_FIELDS.contains(&py_name.as_str()) {
        errors.push(
            &ident,
            format!("`{py_name}` is a field every synapse has and #[synapse] adds it: remove this one and read `s.{py_name}`"),
        );
    }
    let mut hash = false;
    let mut default = FieldDefault::Required;
    let mut keep = Vec::new();
    for attr in f.attrs {
        if attr.path().is_ident("hash") {
            if kind == Kind::Model {
                errors.push(&attr, "#[hash] marks synapse fields; a #[model] is hashed whole, through the synapse field that holds it");
            } else if !matches!(attr.meta, Meta::Path(_)) {
                errors.push(&attr.meta, "write `#[hash]` with no arguments; the hash order is the fields' order (or use `#[synapse(hash_fields = [...])]`)");
            } else if hash {
                errors.push(&attr, "this field is already `#[hash]`");
            }
            hash = true;
        } else if attr.path().is_ident("default") {
            match &attr.meta {
                Meta::Path(_) => default = FieldDefault::Trait,
                Meta::List(list) => match list.parse_args::<Expr>() {
                    Ok(expr) => default = FieldDefault::Expr(Box::new(expr)),
                    Err(e) => errors.push_err(e),
                },
                Meta::NameValue(nv) => errors.push(
                    nv,
                    "write `#[default(expr)]`, or `#[default]` for `Default::default()`",
                ),
            }
        } else if attr.path().is_ident("serde") {
            errors.push(
                &attr,
                format!("{} owns the serde attributes so the JSON stays pydantic's: for a default write `#[default]` or `#[default(expr)]`", kind.attr()),
            );
        } else {
            keep.push(attr);
        }
    }
    Some((
        Field {
            attrs: keep,
            vis: f.vis,
            ident,
            py_name,
            ty: f.ty,
            default,
        },
        hash,
    ))
}

/// The struct without the attributes the macro owns (emitted beside errors, so that one
/// mistake is reported once).
fn strip(item: &syn::DeriveInput) -> syn::DeriveInput {
    let owned = |a: &Attribute| {
        ["hash", "default", "serde"]
            .iter()
            .any(|name| a.path().is_ident(name))
    };
    let mut item = item.clone();
    item.attrs.retain(|a| !owned(a));
    if let syn::Data::Struct(s) = &mut item.data {
        for f in s.fields.iter_mut() {
            f.attrs.retain(|a| !owned(a));
        }
    }
    item
}
