//! The generated code: one entry in the container's link-time table per function and per
//! failure handler.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;

use crate::expand::{Companion, entry_ident};
use crate::json::Json;
use crate::method::FunctionMethod;

/// The entries for every function of one impl block.
pub(crate) fn entries(
    provider: &str,
    self_ty: &Type,
    functions: &[FunctionMethod],
    companions: &[Companion],
) -> TokenStream {
    let mut statics = Vec::new();

    for (index, function) in functions.iter().enumerate() {
        let method = function.ident.to_string();
        let spec = function.spec.to_json(&method).render();
        statics.push(entry(
            index,
            provider,
            self_ty,
            &function.ident,
            &function.context,
            &spec,
        ));
    }

    for (offset, companion) in companions.iter().enumerate() {
        let primary = &functions[companion.primary];
        let spec = failure_json(primary).render();
        let index = functions.len() + offset;
        statics.push(entry(
            index,
            provider,
            self_ty,
            &companion.handler,
            &companion.context,
            &spec,
        ));
    }

    quote! {
        const _: () = {
            #(#statics)*
        };
    }
}

/// The spec of the failure handler of `primary`: the JS SDK registers it as a function of its
/// own, `<id>-failure` named `<name> (failure)`. Its trigger needs the app id, which only the
/// runtime knows, so the spec names the primary function in `onFailure` and the runtime adds the
/// `inngest/function.failed` trigger and the single retry.
pub(crate) fn failure_json(primary: &FunctionMethod) -> Json {
    let method = primary.ident.to_string();
    let id = primary.spec.id_or(&method);
    let name = primary
        .spec
        .name
        .as_ref()
        .map_or_else(|| id.clone(), |name| name.value.clone());

    Json::object()
        .with("id", Json::str(format!("{id}-failure")))
        .with("name", Json::str(format!("{name} (failure)")))
        .with("triggers", Json::Array(Vec::new()))
        .with("onFailure", Json::str(id))
}

fn entry(
    index: usize,
    provider: &str,
    self_ty: &Type,
    method: &syn::Ident,
    context: &Type,
    spec: &str,
) -> TokenStream {
    let name = entry_ident(index, method, method.span());
    let method_name = syn::ext::IdentExt::unraw(method).to_string();

    // The call is spanned at the method so that a context type or return type the runtime does
    // not accept is reported there.
    let call = quote_spanned! {method.span()=>
        |instance, input| {
            ::nestling_inngest::__private::invoke_handler::<#self_ty, _, _, _, _>(
                instance,
                input,
                |service: ::std::sync::Arc<#self_ty>, ctx: #context| async move {
                    service.#method(ctx).await
                },
            )
        }
    };

    quote! {
        #[::nestling_inngest::__private::linkme::distributed_slice(::nestling_inngest::__private::METHOD_ENTRIES)]
        #[linkme(crate = ::nestling_inngest::__private::linkme)]
        static #name: ::nestling_inngest::__private::MethodEntry = ::nestling_inngest::__private::MethodEntry {
            provider: || ::core::any::TypeId::of::<#self_ty>(),
            provider_name: #provider,
            method: #method_name,
            kind: ::nestling_inngest::__private::FUNCTION_KIND,
            metadata: &[(::nestling_inngest::__private::SPEC_KEY, #spec)],
            call: #call,
        };
    }
}
