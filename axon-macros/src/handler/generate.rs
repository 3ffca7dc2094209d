//! Generates, next to the user's unchanged function, the signature checks (spanned at the
//! user's tokens) and the `inventory` registration that builds its handler-table entry.

use super::parse::{Handler, Kind, StateKind};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn generate(h: &Handler) -> TokenStream {
    let item = &h.item;
    let ident = h.ident();
    let synapse = &h.synapse;
    let output = &h.output;
    let s_span = synapse.span();
    let o_span = output.span();
    let s = quote_spanned!(s_span=> #synapse);

    // Each bound is required once, at the user's tokens: `S: Synapse` where the table takes
    // the hook, the return type where the result is converted, `T: StateValue` where a
    // state is looked up, and here the synapse the attribute names.
    let named_check = h.named.as_ref().map(|named| {
        quote_spanned! {s_span=>
            #[allow(dead_code)]
            fn __axon_check() {
                ::axon::__private::named_synapse::<#named, #synapse>();
            }
        }
    });

    // State lookups, and the arguments passed after the synapse.
    let vars: Vec<_> = (0..h.states.len())
        .map(|i| format_ident!("__axon_state_{}", i))
        .collect();
    let lookups = h.states.iter().zip(&vars).map(|(st, var)| {
        let ty = &st.ty;
        quote_spanned! {ty.span()=> let #var = table.state::<#ty>(); }
    });
    let args: Vec<_> = h
        .states
        .iter()
        .zip(&vars)
        .map(|(st, var)| match st.kind {
            StateKind::Borrow => quote!(&*#var),
            StateKind::Handle => quote!(::axon::__private::state_handle(#var.clone())),
        })
        .collect();
    // An async handler's future owns clones of the state handles.
    let clones = if h.is_async {
        quote!(#(let #vars = #vars.clone();)*)
    } else {
        quote!()
    };

    let call = quote!(#ident(__axon_synapse #(, #args)*));
    let call = if h.is_async {
        quote!(#call.await)
    } else {
        call
    };
    let conv = |method: TokenStream| {
        let output = quote_spanned!(o_span=> #output);
        quote! { ::axon::__private::#method::<#output>(#call) }
    };
    let hook = match (h.kind, h.is_async) {
        (Kind::Forward, false) => quote_spanned! {o_span=>
            ::axon::__private::forward_blocking::<#s, _, _>(move |__axon_synapse: #s| #call)
        },
        (Kind::Forward, true) => quote_spanned! {o_span=>
            ::axon::__private::forward_async::<#s, _, _>(move |__axon_synapse: #s| {
                #clones
                async move { #call }
            })
        },
        (kind, is_async) => {
            let result = match kind {
                Kind::Blacklist => conv(quote!(into_blacklist)),
                Kind::Priority => conv(quote!(into_priority)),
                _ => conv(quote!(into_verify)),
            };
            if is_async {
                quote! {
                    ::axon::__private::check_async::<#s, _, _>(move |__axon_synapse: &#s| {
                        #clones
                        ::std::boxed::Box::pin(async move { #result })
                    })
                }
            } else {
                quote! {
                    ::axon::__private::check_inline::<#s, _, _>(move |__axon_synapse: &#s| #result)
                }
            }
        }
    };
    let method = format_ident!("{}", h.kind.name());
    let kind = format_ident!(
        "{}",
        match h.kind {
            Kind::Forward => "Forward",
            Kind::Blacklist => "Blacklist",
            Kind::Priority => "Priority",
            Kind::Verify => "Verify",
        }
    );
    let some_vars = vars.iter().map(|v| quote!(::std::option::Option::Some(#v)));

    quote! {
        #item

        #[doc(hidden)]
        const _: () = {
            #named_check

            fn __axon_register(table: &mut ::axon::__private::TableBuilder<'_>) {
                #(#lookups)*
                #[allow(unused_parens)]
                let hook = match (#(#vars),*) {
                    (#(#some_vars),*) => ::std::option::Option::Some(#hook),
                    #[allow(unreachable_patterns)]
                    _ => ::std::option::Option::None,
                };
                table.#method::<#s>(hook);
            }

            ::axon::__private::inventory::submit! {
                ::axon::__private::Registration::new(
                    ::axon::HandlerInfo::new(
                        ::axon::HandlerKind::#kind,
                        ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                        ::core::file!(),
                        ::core::line!(),
                    ),
                    __axon_register,
                )
            }
        };
    }
}
