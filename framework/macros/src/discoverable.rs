//! `#[discoverable]` on an `impl` block, with `#[discover(...)]` on its methods.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, Lit, ReturnType};

struct Discovered {
    kind: String,
    metadata: Vec<(String, String)>,
}

fn parse_discover(attr: &syn::Attribute) -> syn::Result<Discovered> {
    let mut kind = None;
    let mut metadata = Vec::new();
    attr.parse_nested_meta(|meta| {
        let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
            return Err(meta.error("expected `key = \"value\"`"));
        };
        let value = match meta.value()?.parse::<Lit>()? {
            Lit::Str(s) => s.value(),
            Lit::Int(i) => i.base10_digits().to_owned(),
            Lit::Bool(b) => b.value.to_string(),
            Lit::Float(f) => f.base10_digits().to_owned(),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "metadata values must be string, integer, float or bool literals",
                ));
            }
        };
        if key == "kind" {
            kind = Some(value);
        } else {
            metadata.push((key, value));
        }
        Ok(())
    })?;
    let Some(kind) = kind else {
        return Err(syn::Error::new(
            attr.span(),
            "`#[discover]` needs `kind = \"...\"`, the namespace its consumer looks for",
        ));
    };

    Ok(Discovered { kind, metadata })
}

fn entry(
    self_ty: &syn::Type,
    provider_name: &str,
    method: &ImplItemFn,
    discovered: &Discovered,
) -> syn::Result<TokenStream> {
    let sig = &method.sig;
    let name = &sig.ident;
    let method_name = name.to_string();
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some() && receiver.mutability.is_none() => {}
        _ => {
            return Err(syn::Error::new(
                sig.span(),
                "a discovered method must take `&self`: it is called on the shared instance",
            ));
        }
    }
    let input: Vec<&FnArg> = inputs.collect();
    if input.len() > 1 {
        return Err(syn::Error::new(
            input[1].span(),
            "a discovered method takes at most one argument besides `&self`; group several in a struct",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a discovered method can't be generic",
        ));
    }

    let awaited = sig.asyncness.map(|_| quote!(.await));
    let (take_input, call) = match input.first() {
        Some(FnArg::Typed(typed)) => {
            let ty = &typed.ty;
            let expected = format!("an input of type `{}`", quote!(#ty));
            (
                quote! {
                    let input: #ty = match input.downcast::<#ty>() {
                        ::core::result::Result::Ok(input) => *input,
                        ::core::result::Result::Err(_) => {
                            return ::std::boxed::Box::new(::nestling::__private::CallMismatch {
                                provider: #provider_name,
                                method: #method_name,
                                expected: ::std::string::String::from(#expected),
                            }) as ::nestling::__private::Erased;
                        }
                    };
                },
                quote!(this.#name(input) #awaited),
            )
        }
        _ => (quote!(let _ = input;), quote!(this.#name() #awaited)),
    };
    if let ReturnType::Type(_, ty) = &sig.output
        && let syn::Type::Reference(reference) = &**ty
        && reference
            .lifetime
            .as_ref()
            .is_none_or(|l| l.ident != "static")
    {
        return Err(syn::Error::new(
            ty.span(),
            "a discovered method must return an owned value (it is boxed and sent to the caller)",
        ));
    }

    let kind = &discovered.kind;
    let keys = discovered.metadata.iter().map(|(k, _)| k);
    let values = discovered.metadata.iter().map(|(_, v)| v);
    let entry_ident = format_ident!("__NESTLING_ENTRY_{}", name.to_string().to_uppercase());
    let call_ident = format_ident!("__nestling_call_{}", name);
    let instance_expected = format!("an instance of `{provider_name}`");

    Ok(quote! {
        fn #call_ident(
            instance: ::nestling::__private::Instance,
            input: ::nestling::__private::Erased,
        ) -> ::nestling::__private::futures::future::BoxFuture<'static, ::nestling::__private::Erased> {
            ::std::boxed::Box::pin(async move {
                let this = match instance.downcast::<#self_ty>() {
                    ::core::result::Result::Ok(this) => this,
                    ::core::result::Result::Err(_) => {
                        return ::std::boxed::Box::new(::nestling::__private::CallMismatch {
                            provider: #provider_name,
                            method: #method_name,
                            expected: ::std::string::String::from(#instance_expected),
                        }) as ::nestling::__private::Erased;
                    }
                };
                #take_input
                let output = #call;
                ::std::boxed::Box::new(output) as ::nestling::__private::Erased
            })
        }

        #[::nestling::__private::linkme::distributed_slice(::nestling::__private::METHOD_ENTRIES)]
        #[linkme(crate = ::nestling::__private::linkme)]
        static #entry_ident: ::nestling::__private::MethodEntry = ::nestling::__private::MethodEntry {
            provider: __nestling_provider_type_id,
            provider_name: #provider_name,
            method: #method_name,
            kind: #kind,
            metadata: &[#((#keys, #values)),*],
            call: #call_ident,
        };
    })
}

pub(crate) fn expand(args: TokenStream, mut item: ItemImpl) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new(
            args.span(),
            "`#[discoverable]` takes no arguments; put them on the methods' `#[discover(...)]`",
        ));
    }
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            "`#[discoverable]` can't be used on a generic impl: discovery matches providers by \
             their concrete type",
        ));
    }
    if let Some((_, path, _)) = &item.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "`#[discoverable]` goes on an inherent impl block (`impl MyService { .. }`)",
        ));
    }

    let self_ty = (*item.self_ty).clone();
    let provider_name = quote!(#self_ty).to_string().replace(' ', "");
    let mut entries = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let mut found = Vec::new();
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut method.attrs) {
            if attr.path().is_ident("discover") {
                found.push(parse_discover(&attr)?);
            } else {
                kept.push(attr);
            }
        }
        method.attrs = kept;
        for discovered in &found {
            entries.push(entry(&self_ty, &provider_name, method, discovered)?);
        }
    }
    if entries.is_empty() {
        return Err(syn::Error::new(
            item.self_ty.span(),
            "`#[discoverable]` found no method marked `#[discover(kind = \"...\")]`",
        ));
    }

    Ok(quote! {
        #item

        const _: () = {
            fn __nestling_provider_type_id() -> ::core::any::TypeId {
                ::core::any::TypeId::of::<#self_ty>()
            }

            #(#entries)*
        };
    })
}
