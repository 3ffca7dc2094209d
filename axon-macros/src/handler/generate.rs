//! Generates, next to the user's unchanged function, the signature checks (spanned at the
//! user's tokens) and the `inventory` registration that builds its handler-table entry.
//!
//! Each bound is required once, at the user's tokens: `S: Synapse` where the table takes the
//! hook, the return type where the result is converted, `T: StateValue` where a state is
//! looked up, and the synapse the attribute names in a check of its own.

use super::parse::{Handler, Kind, StateKind};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn generate(h: &Handler) -> TokenStream {
    let item = &h.item;
    let named_check = named_check(h);
    let registration = registration(h);
    quote! {
        #item

        #[doc(hidden)]
        const _: () = {
            #named_check
            #registration
        };
    }
}

/// `#[axon::forward(Echo)]`: the argument's type is the one named.
fn named_check(h: &Handler) -> Option<TokenStream> {
    let synapse = &h.synapse;
    h.named.as_ref().map(|named| {
        quote_spanned! {synapse.span()=>
            #[allow(dead_code)]
            fn __axon_check() {
                ::axon::__private::named_synapse::<#named, #synapse>();
            }
        }
    })
}

/// The variables holding the state handles, one per state argument.
fn state_vars(h: &Handler) -> Vec<Ident> {
    (0..h.states.len())
        .map(|i| format_ident!("__axon_state_{}", i))
        .collect()
}

/// The call of the user's function with the synapse and the state arguments.
fn call(h: &Handler, vars: &[Ident]) -> TokenStream {
    let ident = h.ident();
    let args = h.states.iter().zip(vars).map(|(st, var)| match st.kind {
        StateKind::Borrow => quote!(&*#var),
        StateKind::Handle => quote!(::axon::__private::state_handle(#var.clone())),
    });
    let call = quote!(#ident(__axon_synapse #(, #args)*));
    match h.is_async {
        true => quote!(#call.await),
        false => call,
    }
}

/// The handler-table hook that runs the function: a forward (blocking or async) or a check
/// whose result is converted where the user wrote its return type.
fn hook(h: &Handler, vars: &[Ident]) -> TokenStream {
    let synapse = &h.synapse;
    let s = quote_spanned!(synapse.span()=> #synapse);
    let o_span = h.output.span();
    let call = call(h, vars);
    // An async handler's future owns clones of the state handles.
    let clones = match h.is_async {
        true => quote!(#(let #vars = #vars.clone();)*),
        false => quote!(),
    };
    let convert = |method: TokenStream| {
        let output = &h.output;
        let output = quote_spanned!(o_span=> #output);
        quote! { ::axon::__private::#method::<#output>(#call) }
    };
    match (h.kind, h.is_async) {
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
                Kind::Blacklist => convert(quote!(into_blacklist)),
                Kind::Priority => convert(quote!(into_priority)),
                _ => convert(quote!(into_verify)),
            };
            match is_async {
                true => quote! {
                    ::axon::__private::check_async::<#s, _, _>(move |__axon_synapse: &#s| {
                        #clones
                        ::std::boxed::Box::pin(async move { #result })
                    })
                },
                false => quote! {
                    ::axon::__private::check_inline::<#s, _, _>(move |__axon_synapse: &#s| #result)
                },
            }
        }
    }
}

/// The registration: looks the states up, builds the hook, and submits it to `inventory`.
fn registration(h: &Handler) -> TokenStream {
    let ident = h.ident();
    let s = &h.synapse;
    let vars = state_vars(h);
    let lookups = h.states.iter().zip(&vars).map(|(st, var)| {
        let ty = &st.ty;
        quote_spanned! {ty.span()=> let #var = table.state::<#ty>(); }
    });
    let some_vars = vars.iter().map(|v| quote!(::std::option::Option::Some(#v)));
    let hook = hook(h, &vars);
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
    quote! {
        /// The synapse's name, for `Display` before the table is built. Read without
        /// requiring `Synapse` (a type that is not one is reported once, by the table).
        fn __axon_synapse() -> ::std::option::Option<&'static str> {
            #[allow(unused_imports)]
            use ::axon::__private::{KnownName as _, NoName as _};
            (&::axon::__private::NameOf::<#s>::NEW).synapse_name()
        }

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
                ::axon::__private::handler_info(
                    ::axon::HandlerKind::#kind,
                    ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                    ::core::file!(),
                    ::core::line!(),
                ),
                __axon_register,
            )
            .synapse(__axon_synapse)
        }
    }
}
