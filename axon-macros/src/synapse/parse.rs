//! The internal model of a `#[synapse]` / `#[model]` struct, read from the user's struct
//! while every check pushes what it refuses.
//!
//! The model is built even when a check fails, from what could be read (a clashing field
//! left out, a refused derive removed, an unknown hash field skipped), so the code generated
//! beside the errors keeps the rest of the program compiling: one mistake, one message.

use super::attr;
use crate::errors::Errors;
use proc_macro2::TokenStream;
use syn::{Attribute, Expr, Ident, LitStr, Type, Visibility};

/// Which macro is running.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Synapse,
    Model,
}

impl Kind {
    pub(super) fn attr(self) -> &'static str {
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

/// What the macro read.
pub enum Parsed {
    /// A struct with named fields (its model, whether or not a check failed).
    Container(Container),
    /// Another item (an enum, a tuple or generic struct): emitted as it is, without the
    /// macro's attributes; the fallback implements the traits it promised.
    Other(syn::DeriveInput),
    /// Not an item syn can read: rustc reports it.
    Unreadable(TokenStream),
}

/// A struct as the macro generates it.
pub struct Container {
    pub kind: Kind,
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// The route name (synapse only): `name = "..."` or the struct's name.
    pub route_name: String,
    /// `max_body = N` (synapse only): this synapse's own body limit in bytes.
    pub max_body: Option<Expr>,
    /// `timeout = SECONDS` (synapse only): its default timeout, instead of Python's 12.0.
    pub timeout: Option<f64>,
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

impl Container {
    /// Reads `#[synapse(args)] input` (or `#[model]`), pushing every error into `errors`.
    pub fn from_ast(
        kind: Kind,
        args: TokenStream,
        input: TokenStream,
        errors: &mut Errors,
    ) -> Parsed {
        let args = attr::args(kind, args, errors);
        let item: syn::DeriveInput = match syn::parse2(input.clone()) {
            Ok(item) => item,
            Err(e) => {
                errors.push_err(e);
                return Parsed::Unreadable(input);
            }
        };
        let named = named_fields(kind, &item, errors);
        let generic = check_not_generic(kind, &item, errors);
        let Some(named) = named.filter(|_| !generic) else {
            return Parsed::Other(strip(item));
        };
        let attrs = attr::container(kind, &item.attrs, errors);
        let route_name = route_name(args.name.as_ref(), &item.ident, errors);
        let (fields, hash_marked) = fields(kind, named, errors);
        let hash_fields = hash_fields(args.hash_fields, hash_marked, &fields, &item.ident, errors);
        Parsed::Container(Container {
            kind,
            attrs,
            vis: item.vis,
            ident: item.ident,
            route_name,
            max_body: args.max_body,
            timeout: args.timeout,
            hash_fields,
            fields,
        })
    }
}

/// The named fields of a struct; anything else is refused.
fn named_fields(
    kind: Kind,
    item: &syn::DeriveInput,
    errors: &mut Errors,
) -> Option<Vec<syn::Field>> {
    let what = kind.attr();
    let ident = &item.ident;
    match &item.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(named) => return Some(named.named.iter().cloned().collect()),
            syn::Fields::Unnamed(f) => errors.push(
                f,
                format!("{what} needs named fields, as a pydantic model has: write `struct {ident} {{ text: String }}`"),
            ),
            syn::Fields::Unit => errors.push(
                ident,
                format!("{what} needs a struct with braces: write `struct {ident} {{}}` (fields optional)"),
            ),
        },
        syn::Data::Enum(e) => errors.push(
            e.enum_token,
            format!("{what} goes on a struct with named fields, not an enum: a Python synapse is a pydantic model class"),
        ),
        syn::Data::Union(u) => errors.push(
            u.union_token,
            format!("{what} goes on a struct with named fields, not a union"),
        ),
    }
    None
}

/// No generic parameters: a Python class has fixed field types. Whether it has some.
fn check_not_generic(kind: Kind, item: &syn::DeriveInput, errors: &mut Errors) -> bool {
    let generic = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
    if generic {
        errors.push(
            &item.generics,
            format!("{} structs cannot be generic: the Python class has fixed field types; write one struct per type", kind.attr()),
        );
    }
    generic
}

/// The route name: `name = ".."` (a Python identifier) or the struct's name.
fn route_name(name: Option<&LitStr>, ident: &Ident, errors: &mut Errors) -> String {
    let Some(lit) = name else {
        return ident.to_string();
    };
    if !is_python_identifier(&lit.value()) {
        errors.push(lit, "the route name is a Python class name: letters, digits and `_`, not starting with a digit");
    }
    lit.value()
}

fn is_python_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The user fields (a field named like a common one refused and left out), and the indices
/// of those marked `#[hash]`.
fn fields(kind: Kind, named: Vec<syn::Field>, errors: &mut Errors) -> (Vec<Field>, Vec<usize>) {
    let mut fields = Vec::new();
    let mut hash_marked = Vec::new();
    for f in named {
        let Some(ident) = f.ident.clone() else {
            continue;
        };
        let py_name = ident.to_string().trim_start_matches("r#").to_owned();
        let common = kind == Kind::Synapse && COMMON_FIELDS.contains(&py_name.as_str());
        if common {
            let instead = match py_name.as_str() {
                "timeout" => "; to change its default as a Python subclass does (`timeout: float = 60.0`), write `#[synapse(timeout = 60.0)]`",
                _ => "",
            };
            errors.push(
                &ident,
                format!("`{py_name}` is a field every synapse has and #[synapse] adds it: remove this one and read `s.{py_name}`{instead}"),
            );
        }
        let attrs = attr::field(kind, f.attrs, errors);
        if common {
            continue;
        }
        if attrs.hash {
            hash_marked.push(fields.len());
        }
        fields.push(Field {
            attrs: attrs.kept,
            vis: f.vis,
            ident,
            py_name,
            ty: f.ty,
            default: attrs.default,
        });
    }
    (fields, hash_marked)
}

/// The hashed fields in order: `hash_fields = [..]` (each a field or a common field, once)
/// or the `#[hash]` fields, not both.
fn hash_fields(
    listed: Option<(proc_macro2::Span, Vec<LitStr>)>,
    marked: Vec<usize>,
    fields: &[Field],
    ident: &Ident,
    errors: &mut Errors,
) -> Vec<HashField> {
    let of = |f: &Field| HashField {
        py_name: f.py_name.clone(),
        member: f.ident.clone(),
        ty: Some(f.ty.clone()),
    };
    let Some((span, names)) = listed else {
        return marked.into_iter().map(|i| of(&fields[i])).collect();
    };
    if !marked.is_empty() {
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
            out.push(of(f));
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
                    "no field `{name}` in `{ident}`; its fields are: {}",
                    known.join(", ")
                ),
            );
        }
    }
    out
}

/// The item without the attributes the macro owns.
fn strip(mut item: syn::DeriveInput) -> syn::DeriveInput {
    item.attrs.retain(|a| !attr::is_owned(a));
    let fields: Box<dyn Iterator<Item = &mut syn::Field>> = match &mut item.data {
        syn::Data::Struct(s) => Box::new(s.fields.iter_mut()),
        syn::Data::Enum(e) => Box::new(e.variants.iter_mut().flat_map(|v| v.fields.iter_mut())),
        syn::Data::Union(u) => Box::new(u.fields.named.iter_mut()),
    };
    for f in fields {
        f.attrs.retain(|a| !attr::is_owned(a));
    }
    item
}
