//! What `#[synapse]` / `#[model]` emit beside their errors for an item they cannot model
//! (an enum, a tuple or generic struct): the item as written, and the traits the macro
//! promised, implemented with bodies that never run (thiserror's `fallback`). The program
//! then type-checks against them, so the macro's error is the only one: a forward taking
//! the type does not add "`Echo` is not a synapse".

use super::parse::Kind;
use proc_macro2::TokenStream;
use quote::quote;

/// The item and its placeholder impls (none for a generic item, which they cannot name).
pub fn generate(kind: Kind, item: &syn::DeriveInput) -> TokenStream {
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return quote!(#item);
    }
    let ident = &item.ident;
    let serde = quote! {
        impl ::axon::__private::serde::Serialize for #ident {
            fn serialize<__S: ::axon::__private::serde::Serializer>(
                &self,
                _: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                ::core::unreachable!()
            }
        }
        impl<'de> ::axon::__private::serde::Deserialize<'de> for #ident {
            fn deserialize<__D: ::axon::__private::serde::Deserializer<'de>>(
                _: __D,
            ) -> ::core::result::Result<Self, __D::Error> {
                ::core::unreachable!()
            }
        }
    };
    let promised = match kind {
        Kind::Synapse => {
            let name = ident.to_string();
            quote! {
                impl ::axon::Synapse for #ident {
                    const NAME: &'static str = #name;
                    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[];
                    const REQUIRED_FIELDS: &'static [&'static str] = &[];
                    fn common(&self) -> ::axon::wire::Common<'_> {
                        ::core::unreachable!()
                    }
                    fn common_mut(&mut self) -> ::axon::wire::CommonMut<'_> {
                        ::core::unreachable!()
                    }
                    fn hash_fields(&self, _: &mut ::axon::wire::BodyHasher) {}
                    fn input_objs(&self, _: &mut ::axon::wire::InputObjs<'_>) {}
                    fn from_header_parts(
                        _: ::axon::wire::HeaderParts<'_>,
                    ) -> ::core::result::Result<Self, ::axon::wire::HeaderError> {
                        ::core::unreachable!()
                    }
                }
            }
        }
        Kind::Model => quote! {
            impl ::axon::PyStr for #ident {
                fn py_repr(&self, _: &mut ::std::string::String) {}
            }
            impl ::axon::wire::InputObj for #ident {
                fn input_obj_json(&self) -> ::core::option::Option<&'static str> {
                    ::core::option::Option::None
                }
            }
        },
    };
    quote! {
        #item
        #serde
        #promised
    }
}
