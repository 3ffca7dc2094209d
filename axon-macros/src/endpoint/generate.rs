//! Generates, next to the user's unchanged function, its registration: the state it
//! takes looked up at start, its blacklist and priority bound, and a handler that runs
//! each extractor with its bound required at the user's argument type.

use super::parse::{ArgKind, Endpoint};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn generate(e: &Endpoint) -> TokenStream {
    let item = &e.item;
    let ident = &item.sig.ident;
    let a = &e.args;
    let (method, path) = (&a.method, &a.path);
    let label = format!("{method} {path}");
    let (btauth, epistula, unbound) = (a.btauth, a.epistula, a.unbound);
    let timeout = a
        .timeout
        .map(|t| quote!(.timeout(::std::time::Duration::from_secs_f64(#t))));
    let crypto = a.crypto.as_ref().map(|types| {
        let variants = types.iter().map(|t| match t.as_str() {
            "ed25519" => quote!(::axon::auth::Crypto::Ed25519),
            _ => quote!(::axon::auth::Crypto::Sr25519),
        });
        quote!(.crypto(&[#(#variants),*]))
    });
    let max_body = a.max_body.map(|n| {
        let n = n as usize;
        quote!(.max_body(#n))
    });
    let policy = |path: &Option<syn::Path>, method: &str| {
        let method = format_ident!("{}", method);
        match path {
            Some(p) => quote_spanned!(p.span()=> table.#method(#p)),
            None => quote!(::std::option::Option::Some(::std::option::Option::None)),
        }
    };
    let blacklist = policy(&a.blacklist, "caller_blacklist");
    let priority = policy(&a.priority, "caller_priority");

    let states: Vec<_> = e
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(i, arg)| match &arg.kind {
            ArgKind::State(t) => Some((format_ident!("__axon_state_{}", i), t)),
            ArgKind::Extract => None,
        })
        .collect();
    let lookups = states.iter().map(|(var, ty)| {
        quote_spanned! {ty.span()=> let #var = table.state::<#ty>(); }
    });
    let state_vars: Vec<_> = states.iter().map(|(v, _)| v.clone()).collect();
    let some_vars = state_vars
        .iter()
        .map(|v| quote!(::std::option::Option::Some(#v)));

    let last_extract = e
        .inputs
        .iter()
        .rposition(|arg| matches!(arg.kind, ArgKind::Extract));
    let mut extracts = Vec::new();
    let mut call_args = Vec::new();
    for (i, arg) in e.inputs.iter().enumerate() {
        let ty = &arg.ty;
        match &arg.kind {
            ArgKind::State(_) => {
                let var = format_ident!("__axon_state_{}", i);
                call_args.push(quote!(::axon::__private::state_handle(#var.clone())));
            }
            ArgKind::Extract if Some(i) == last_extract => {
                let var = format_ident!("__axon_arg_{}", i);
                let extract = quote_spanned! {ty.span()=>
                    <#ty as ::axon::endpoint::EndpointBody<_>>::extract(__axon_request).await
                };
                extracts.push(quote! {
                    let __axon_request = ::axon::__private::EndpointRequest::from_parts(__axon_parts, __axon_body);
                    let #var = match #extract {
                        ::std::result::Result::Ok(v) => v,
                        ::std::result::Result::Err(r) => return r,
                    };
                });
                call_args.push(quote!(#var));
            }
            ArgKind::Extract => {
                let var = format_ident!("__axon_arg_{}", i);
                let extract = quote_spanned! {ty.span()=>
                    <#ty as ::axon::endpoint::EndpointPart>::extract(&mut __axon_parts).await
                };
                extracts.push(quote! {
                    let #var = match #extract {
                        ::std::result::Result::Ok(v) => v,
                        ::std::result::Result::Err(r) => return r,
                    };
                });
                call_args.push(quote!(#var));
            }
        }
    }
    let respond_span = match &item.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => ident.span(),
    };
    let respond = quote_spanned! {respond_span=>
        ::axon::__private::endpoint_respond(#ident(#(#call_args),*).await)
    };
    let serve = quote_spanned! {ident.span()=>
        ::axon::__private::endpoint_serve(move |__axon_request: ::axon::__private::EndpointRequest| {
            #(let #state_vars = #state_vars.clone();)*
            async move {
                #[allow(unused_mut, unused_variables)]
                let (mut __axon_parts, __axon_body) = __axon_request.into_parts();
                #(#extracts)*
                #respond
            }
        })
    };
    quote! {
        #item

        #[doc(hidden)]
        const _: () = {
            fn __axon_register(table: &mut ::axon::__private::TableBuilder<'_>) {
                #(#lookups)*
                let __axon_blacklist = #blacklist;
                let __axon_priority = #priority;
                #[allow(unused_parens)]
                let __axon_serve = match (#(#state_vars),*) {
                    (#(#some_vars),*) => ::std::option::Option::Some(#serve),
                    #[allow(unreachable_patterns)]
                    _ => ::std::option::Option::None,
                };
                let declaration = ::axon::endpoint::Declaration::new(#method, #path, #label)
                    .btauth(#btauth)
                    .epistula(#epistula)
                    .unbound(#unbound)
                    #crypto
                    #timeout
                    #max_body;
                table.signed_endpoint(declaration, __axon_serve, __axon_blacklist, __axon_priority);
            }

            ::axon::__private::inventory::submit! {
                ::axon::__private::Registration::new(
                    ::axon::__private::handler_info(
                        ::axon::HandlerKind::Endpoint,
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
