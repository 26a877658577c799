//! `#[functions]` on an impl block: read every annotated method, emit one table entry each.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{ImplItem, ImplItemFn, ItemImpl, Type};

use crate::check;
use crate::errors::Errors;
use crate::method::{self, FunctionMethod};

/// Expands `#[functions]` applied to `item`, with `attr` the attribute's own arguments.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();

    if !attr.is_empty() {
        errors.push(
            attr.span(),
            "`#[functions]` takes no arguments; put options on the methods, such as \
             #[on_event(\"user.created\")]",
        );
    }
    let mut block: ItemImpl = match syn::parse2(item) {
        Ok(block) => block,
        Err(err) => {
            let message =
                "`#[functions]` goes on an inherent impl block, such as `impl UserService { ... }`";
            return syn::Error::new(err.span(), message).to_compile_error();
        }
    };

    let analysis = analyse(&mut block, &mut errors);
    let entries = match (&analysis.provider, errors.is_empty()) {
        (Some(provider), true) => crate::emit::entries(
            provider,
            &block.self_ty,
            &analysis.functions,
            &analysis.companions,
        ),
        _ => TokenStream::new(),
    };
    let compile_errors = errors.to_compile_errors();

    quote! {
        #block
        #entries
        #compile_errors
    }
}

/// What an impl block declares.
#[derive(Debug)]
pub(crate) struct Analysis {
    /// The provider's type name, if the block is one that can be registered.
    pub(crate) provider: Option<String>,
    pub(crate) functions: Vec<FunctionMethod>,
    pub(crate) companions: Vec<Companion>,
}

/// Reads every annotated method of `block`, removing our attributes from it.
pub(crate) fn analyse(block: &mut ItemImpl, errors: &mut Errors) -> Analysis {
    let provider = provider_of(block, errors);
    let (functions, methods) = read_methods(block, errors);
    let companions = failure_handlers(&functions, &methods, errors);
    check_unique_ids(&functions, errors);

    Analysis {
        provider,
        functions,
        companions,
    }
}

/// The provider's type name, after checking the impl block is one we can register.
fn provider_of(block: &ItemImpl, errors: &mut Errors) -> Option<String> {
    if let Some((_, path, _)) = &block.trait_ {
        errors.push(
            path.span(),
            "`#[functions]` goes on the service's own impl block (`impl UserService { ... }`), \
             not on a trait impl",
        );
        return None;
    }
    if !block.generics.params.is_empty() {
        errors.push(
            block.generics.span(),
            "`#[functions]` cannot register a generic service: discovery finds providers by their \
             concrete type; implement the functions on a concrete type",
        );
        return None;
    }
    match &*block.self_ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        other => {
            errors.push(
                other.span(),
                "`#[functions]` needs a named service type, such as `impl UserService { ... }`",
            );
            None
        }
    }
}

/// The failure handler of one function: the method `on_failure` names.
#[derive(Debug)]
pub(crate) struct Companion {
    /// Index of the primary function in the list `read_methods` returns.
    pub(crate) primary: usize,
    pub(crate) handler: syn::Ident,
    pub(crate) context: Type,
}

fn read_methods(
    block: &mut ItemImpl,
    errors: &mut Errors,
) -> (Vec<FunctionMethod>, Vec<ImplItemFn>) {
    let mut functions = Vec::new();
    let mut methods = Vec::new();

    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        if let Some(function) = method::read(method, errors) {
            functions.push(function);
        }
        methods.push(method.clone());
    }

    (functions, methods)
}

/// Each `on_failure` must name a method of the same block with a handler's signature.
fn failure_handlers(
    functions: &[FunctionMethod],
    methods: &[ImplItemFn],
    errors: &mut Errors,
) -> Vec<Companion> {
    let mut companions = Vec::new();
    let by_name: HashMap<String, &ImplItemFn> = methods
        .iter()
        .map(|m| (m.sig.ident.to_string(), m))
        .collect();

    for (primary, function) in functions.iter().enumerate() {
        let Some(target) = &function.spec.on_failure else {
            continue;
        };
        let Some(handler) = by_name.get(&target.to_string()) else {
            let names: Vec<&str> = by_name.keys().map(String::as_str).collect();
            let hint = match check::closest(&target.to_string(), &names) {
                Some(best) => format!("; did you mean `{best}`?"),
                None => format!(
                    "; add `async fn {target}(&self, ctx: Ctx<FunctionFailed<Event>>) -> Result<(), \
                     FunctionError>` to \
                     this impl block"
                ),
            };
            errors.push(
                target.span(),
                format!(
                    "`on_failure` names `{target}`, which is not a method of this impl block{hint}"
                ),
            );
            continue;
        };
        if *target == function.ident {
            errors.push(
                target.span(),
                "a function cannot be its own failure handler: the handler runs when every retry \
                 of the function has failed; name another method",
            );
            continue;
        }
        if let Some(context) = method::handler_context(handler, "a failure handler", errors) {
            companions.push(Companion {
                primary,
                handler: handler.sig.ident.clone(),
                context,
            });
        }
    }

    companions
}

/// Function ids are the keys of the app's registration; two methods may not share one.
fn check_unique_ids(functions: &[FunctionMethod], errors: &mut Errors) {
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for function in functions {
        let id = function.spec.id_or(&function.ident.to_string());
        let span = function
            .spec
            .id
            .as_ref()
            .map_or(function.ident.span(), |id| id.span);
        if let Some(first) = seen.get(&id) {
            errors.push(
                span,
                format!(
                    "the function id \"{id}\" is already used by `{first}` in this impl block; give \
                     one of them another `id`"
                ),
            );
        } else {
            seen.insert(id.clone(), &function.ident);
        }
        if function.spec.on_failure.is_some() {
            let failure_id = format!("{id}-failure");
            if let Some(first) = seen.get(&failure_id) {
                errors.push(
                    span,
                    format!(
                        "the failure handler of \"{id}\" registers as \"{failure_id}\", which `{first}` \
                         already uses; rename one of them"
                    ),
                );
            }
        }
    }
}

/// A name for the entry's `static`, unique within the expansion.
pub(crate) fn entry_ident(index: usize, method: &syn::Ident, span: Span) -> syn::Ident {
    let name = syn::ext::IdentExt::unraw(method).to_string().to_uppercase();
    format_ident!("__NESTLING_INNGEST_{}_{}", index, name, span = span)
}
