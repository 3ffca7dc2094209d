//! Code generation from a validated [`Container`]. Everything generated calls into `axon`.

use super::parse::{Container, Field, FieldDefault, Kind};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn generate(c: &Container) -> TokenStream {
    match c.kind {
        Kind::Synapse => synapse(c),
        Kind::Model => model(c),
    }
}

/// The user fields with their serde attributes.
fn fields(c: &Container) -> Vec<TokenStream> {
    let ident = &c.ident;
    c.fields
        .iter()
        .map(|f| {
            let Field {
                attrs,
                vis,
                ident: name,
                ty,
                ..
            } = f;
            let serde_attr = match &f.default {
                FieldDefault::Required => {
                    quote!(#[serde(deserialize_with = "::axon::__private::required")])
                }
                FieldDefault::Trait => quote!(#[serde(default)]),
                FieldDefault::Expr(_) => {
                    let path = format!("{ident}::{}", default_fn(f));
                    quote!(#[serde(default = #path)])
                }
            };
            quote!(#(#attrs)* #serde_attr #vis #name: #ty)
        })
        .collect()
}

fn default_fn(f: &Field) -> syn::Ident {
    format_ident!("__axon_default_{}", f.py_name)
}

/// The value of a defaulted field, or `None` for a required one.
fn default_value(f: &Field) -> Option<TokenStream> {
    match &f.default {
        FieldDefault::Required => None,
        FieldDefault::Trait => Some(quote!(::core::default::Default::default())),
        FieldDefault::Expr(_) => {
            let func = default_fn(f);
            Some(quote!(Self::#func()))
        }
    }
}

/// Hidden functions for `#[default(expr)]`.
fn default_fns(c: &Container) -> Vec<TokenStream> {
    c.fields
        .iter()
        .filter_map(|f| match &f.default {
            FieldDefault::Expr(expr) => {
                let func = default_fn(f);
                let ty = &f.ty;
                Some(quote!(#[doc(hidden)] fn #func() -> #ty { #expr }))
            }
            _ => None,
        })
        .collect()
}

/// `new(required..)` (and `Default` when nothing is required), like Python's `Model(...)`.
fn constructor(c: &Container, common_values: TokenStream) -> TokenStream {
    let Container { vis, ident, .. } = c;
    let required = required(c);
    let params = required.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(#name: #ty)
    });
    let values = c.fields.iter().map(|f| {
        let name = &f.ident;
        match default_value(f) {
            Some(v) => quote!(#name: #v),
            None => quote!(#name),
        }
    });
    let names: Vec<&str> = required.iter().map(|f| f.py_name.as_str()).collect();
    let doc = format!(
        "A `{ident}` with {} and every other field at its Python default.",
        if names.is_empty() {
            "no required fields".to_owned()
        } else {
            format!("the required fields ({})", names.join(", "))
        }
    );
    let default_impl = required.is_empty().then(|| {
        quote! {
            impl ::core::default::Default for #ident {
                fn default() -> Self { Self::new() }
            }
        }
    });
    let defaults = default_fns(c);
    quote! {
        impl #ident {
            #[doc = #doc]
            #[allow(clippy::too_many_arguments)]
            #vis fn new(#(#params),*) -> Self {
                Self { #common_values #(#values,)* }
            }
            #(#defaults)*
        }
        #default_impl
    }
}

fn synapse(c: &Container) -> TokenStream {
    let definition = synapse_struct(c);
    let constructor = constructor(
        c,
        quote! {
            name: Self::__axon_name(),
            timeout: Self::__axon_timeout(),
            total_size: ::axon::__private::default_size(),
            header_size: ::axon::__private::default_size(),
            dendrite: ::core::default::Default::default(),
            axon: ::core::default::Default::default(),
            computed_body_hash: ::axon::__private::default_body_hash(),
        },
    );
    let names = route_name_fns(c);
    let implementation = synapse_impl(c);
    quote! {
        #definition
        #constructor
        #names
        #implementation
    }
}

/// The struct: the common fields (Python's `bittensor.Synapse`), then the user's.
fn synapse_struct(c: &Container) -> TokenStream {
    let Container {
        attrs, vis, ident, ..
    } = c;
    let user_fields = fields(c);
    let name_default = format!("{ident}::__axon_name");
    let name_de = format!("{ident}::__axon_route_name");
    let timeout_default = format!("{ident}::__axon_timeout");
    quote! {
        #[derive(::axon::__private::serde::Serialize, ::axon::__private::serde::Deserialize)]
        #[serde(crate = "::axon::__private::serde")]
        #(#attrs)*
        #vis struct #ident {
            /// The route name (Python's class name); always `Synapse::NAME` once parsed.
            #[serde(default = #name_default, deserialize_with = #name_de)]
            pub name: ::core::option::Option<::std::string::String>,
            /// The request timeout in seconds (default 12.0).
            #[serde(default = #timeout_default, deserialize_with = "::axon::wire::coerce::opt_float")]
            pub timeout: ::core::option::Option<f64>,
            /// Total size of the request, informational (default 0).
            #[serde(default = "::axon::__private::default_size", deserialize_with = "::axon::wire::coerce::opt_int")]
            pub total_size: ::core::option::Option<i64>,
            /// Size of the headers, informational (default 0).
            #[serde(default = "::axon::__private::default_size", deserialize_with = "::axon::wire::coerce::opt_int")]
            pub header_size: ::core::option::Option<i64>,
            /// The calling side (the validator's dendrite).
            #[serde(default, deserialize_with = "::axon::__private::null_as_default")]
            pub dendrite: ::axon::TerminalInfo,
            /// The serving side (this axon).
            #[serde(default, deserialize_with = "::axon::__private::null_as_default")]
            pub axon: ::axon::TerminalInfo,
            /// The body hash the dendrite signed (default `""`).
            #[serde(default = "::axon::__private::default_body_hash")]
            pub computed_body_hash: ::core::option::Option<::std::string::String>,
            #(#user_fields,)*
        }
    }
}

/// `name` is always the route name: its default, and its deserializer ignoring the input;
/// and the default timeout (Python's 12.0, or `timeout = SECONDS`).
fn route_name_fns(c: &Container) -> TokenStream {
    let Container {
        ident, route_name, ..
    } = c;
    let timeout = match c.timeout {
        Some(seconds) => quote!(::core::option::Option::Some(#seconds)),
        None => quote!(::axon::__private::default_timeout()),
    };
    quote! {
        impl #ident {
            #[doc(hidden)]
            fn __axon_timeout() -> ::core::option::Option<f64> {
                #timeout
            }
            #[doc(hidden)]
            fn __axon_name() -> ::core::option::Option<::std::string::String> {
                ::core::option::Option::Some(::std::string::String::from(#route_name))
            }
            #[doc(hidden)]
            fn __axon_route_name<'de, D: ::axon::__private::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<::core::option::Option<::std::string::String>, D::Error> {
                ::axon::__private::route_name(d, #route_name)
            }
        }
    }
}

/// `impl Synapse`: names, the hash, the input placeholders, and reading the headers.
fn synapse_impl(c: &Container) -> TokenStream {
    let Container {
        ident, route_name, ..
    } = c;
    let max_body = c.max_body.as_ref().map(|n| {
        quote_spanned! {n.span()=>
            const MAX_BODY: ::core::option::Option<usize> = ::core::option::Option::Some(#n);
        }
    });
    let required = required(c);
    let required_names = required.iter().map(|f| f.py_name.as_str());
    let hash_names = c.hash_fields.iter().map(|h| h.py_name.as_str());
    let hash_calls = c.hash_fields.iter().map(|h| {
        let member = &h.member;
        match &h.ty {
            Some(ty) => quote_spanned!(ty.span()=> ::axon::__private::hash_field::<#ty>(__hasher, &self.#member);),
            None => quote!(::axon::__private::hash_field(__hasher, &self.#member);),
        }
    });
    let input_obj_calls = required.iter().map(|f| {
        let (name, ty, py) = (&f.ident, &f.ty, &f.py_name);
        quote_spanned!(ty.span()=> __out.field::<#ty>(#py, &self.#name);)
    });
    let common = |r: TokenStream| {
        quote! {
            name: #r self.name, timeout: #r self.timeout, total_size: #r self.total_size,
            header_size: #r self.header_size, dendrite: #r self.dendrite, axon: #r self.axon,
            computed_body_hash: #r self.computed_body_hash,
        }
    };
    let common_ref = common(quote!(&));
    let common_mut = common(quote!(&mut));
    let from_header_parts = from_header_parts(c);
    quote! {
        impl ::axon::Synapse for #ident {
            const NAME: &'static str = #route_name;
            const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[#(#hash_names),*];
            const REQUIRED_FIELDS: &'static [&'static str] = &[#(#required_names),*];
            #max_body

            fn common(&self) -> ::axon::wire::Common<'_> {
                ::axon::wire::Common { #common_ref }
            }
            fn common_mut(&mut self) -> ::axon::wire::CommonMut<'_> {
                ::axon::wire::CommonMut { #common_mut }
            }
            fn hash_fields(&self, __hasher: &mut ::axon::wire::BodyHasher) {
                #(#hash_calls)*
            }
            fn input_objs(&self, __out: &mut ::axon::wire::InputObjs<'_>) {
                #(#input_obj_calls)*
            }
            #from_header_parts
        }
    }
}

/// The fields without a default.
fn required(c: &Container) -> Vec<&Field> {
    c.fields
        .iter()
        .filter(|f| matches!(f.default, FieldDefault::Required))
        .collect()
}

/// `from_header_parts`: the common fields from the headers, a required field from its
/// placeholder, a defaulted one from its header when sent.
fn from_header_parts(c: &Container) -> TokenStream {
    let locals = c.fields.iter().map(|f| {
        let (ty, py) = (&f.ty, &f.py_name);
        let local = format_ident!("__field_{}", f.py_name);
        match default_value(f) {
            None => quote_spanned!(ty.span()=> let #local = __parts.required::<#ty>(#py)?;),
            Some(v) => quote_spanned!(ty.span()=>
                let #local = match __parts.input::<#ty>(#py)? { ::core::option::Option::Some(v) => v, ::core::option::Option::None => #v };
            ),
        }
    });
    let values = c.fields.iter().map(|f| {
        let name = &f.ident;
        let local = format_ident!("__field_{}", f.py_name);
        quote!(#name: #local)
    });
    quote! {
        fn from_header_parts(
            __parts: ::axon::wire::HeaderParts<'_>,
        ) -> ::core::result::Result<Self, ::axon::wire::HeaderError> {
            #(#locals)*
            ::core::result::Result::Ok(Self {
                name: Self::__axon_name(),
                timeout: __parts.timeout,
                total_size: __parts.total_size,
                header_size: __parts.header_size,
                computed_body_hash: __parts.computed_body_hash,
                dendrite: __parts.dendrite,
                axon: __parts.axon,
                #(#values,)*
            })
        }
    }
}

fn model(c: &Container) -> TokenStream {
    let Container {
        attrs, vis, ident, ..
    } = c;
    let user_fields = fields(c);
    let constructor = constructor(c, quote!());
    let entries = c.fields.iter().map(|f| {
        let (name, ty, py) = (&f.ident, &f.ty, &f.py_name);
        quote_spanned!(ty.span()=> (#py, ::axon::__private::as_py_str::<#ty>(&self.#name)))
    });
    quote! {
        #[derive(::axon::__private::serde::Serialize, ::axon::__private::serde::Deserialize)]
        #[serde(crate = "::axon::__private::serde")]
        #(#attrs)*
        #vis struct #ident {
            #(#user_fields,)*
        }

        #constructor

        impl ::axon::PyStr for #ident {
            fn py_repr(&self, out: &mut ::std::string::String) {
                ::axon::__private::write_model(out, &[#(#entries),*])
            }
        }

        impl ::axon::wire::InputObj for #ident {
            fn input_obj_json(&self) -> ::core::option::Option<&'static str> {
                ::core::option::Option::Some("{}")
            }
        }
    }
}
