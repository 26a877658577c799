//! `#[derive(Injectable)]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, GenericArgument, PathArguments, Type};

const HOOKS: [&str; 6] = [
    "on_module_init",
    "on_application_bootstrap",
    "on_application_listen",
    "on_module_destroy",
    "before_application_shutdown",
    "on_application_shutdown",
];

#[derive(Default)]
struct StructOptions {
    interfaces: Vec<Type>,
    hooks: Vec<syn::Ident>,
    transient: bool,
}

fn struct_options(input: &DeriveInput) -> syn::Result<StructOptions> {
    let mut options = StructOptions::default();
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("injectable"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("interface") {
                options.interfaces.push(meta.value()?.parse()?);
            } else if meta.path.is_ident("transient") {
                options.transient = true;
            } else if meta.path.is_ident("hooks") {
                meta.parse_nested_meta(|hook| {
                    let Some(ident) = hook.path.get_ident() else {
                        return Err(hook.error("expected a hook name such as `on_module_init`"));
                    };
                    if !HOOKS.contains(&ident.to_string().as_str()) {
                        return Err(hook.error(format!(
                            "unknown lifecycle hook `{ident}`; expected one of: {}",
                            HOOKS.join(", ")
                        )));
                    }
                    options.hooks.push(ident.clone());
                    Ok(())
                })?;
            } else {
                return Err(meta.error(
                    "unknown `injectable` option; expected `interface = dyn Trait`, \
                     `hooks(...)` or `transient`",
                ));
            }
            Ok(())
        })?;
    }
    // shaku's vocabulary, so that one struct can derive both `shaku::Component` and
    // `Injectable`: `#[shaku(interface = Trait)]` names the trait without `dyn`.
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("shaku")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("interface") {
                let ty: Type = meta.value()?.parse()?;
                options.interfaces.push(match ty {
                    Type::Path(path) => syn::parse_quote!(dyn #path),
                    other => other,
                });
            } else if meta.input.peek(syn::Token![=]) {
                // Other shaku options are shaku's business; skip their values.
                meta.value()?.parse::<Expr>()?;
            }
            Ok(())
        })?;
    }

    Ok(options)
}

enum FieldInit {
    Inject,
    Default(Option<Expr>),
}

fn field_init(field: &syn::Field) -> syn::Result<FieldInit> {
    let mut init = FieldInit::Default(None);
    for attr in &field.attrs {
        if attr.path().is_ident("inject") {
            if !matches!(attr.meta, syn::Meta::Path(_)) {
                return Err(syn::Error::new(
                    attr.span(),
                    "`#[inject]` takes no arguments; use `Option<Arc<T>>` for an optional dependency",
                ));
            }
            check_injectable_type(&field.ty)?;
            init = FieldInit::Inject;
        } else if attr.path().is_ident("shaku") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("inject") {
                    check_injectable_type(&field.ty)?;
                    init = FieldInit::Inject;
                } else if meta.path.is_ident("default") {
                    init = FieldInit::Default(Some(meta.value()?.parse()?));
                } else if meta.path.is_ident("provide") {
                    return Err(meta.error(
                        "shaku providers (`#[shaku(provide)]`) can't be injected by nestling; \
                         make the dependency a transient nestling provider and `#[inject]` it",
                    ));
                } else if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<Expr>()?;
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("injectable") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    init = FieldInit::Default(Some(meta.value()?.parse()?));
                    Ok(())
                } else {
                    Err(meta.error("unknown field option; expected `default = expr`"))
                }
            })?;
        }
    }

    Ok(init)
}

/// The last path segment of `ty` if it is `name<...>`, with its single generic type.
fn generic_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

fn check_injectable_type(ty: &Type) -> syn::Result<()> {
    let inner = generic_of(ty, "Option").unwrap_or(ty);
    if generic_of(inner, "Arc").is_some() {
        return Ok(());
    }

    Err(syn::Error::new(
        ty.span(),
        "an `#[inject]` field must be `Arc<T>`, `Arc<dyn Trait>` or `Option<Arc<T>>`",
    ))
}

/// Groups types into nested tuples of at most twelve, the arity `Dependencies` covers.
fn nest(items: Vec<TokenStream>) -> TokenStream {
    if items.len() <= 12 {
        return quote!((#(#items,)*));
    }
    let chunks: Vec<TokenStream> = items.chunks(12).map(|c| nest(c.to_vec())).collect();

    nest(chunks)
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "`Injectable` can't be derived for a generic type; implement `nestling::Injectable` \
             by hand for each concrete type",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.span(),
            "`Injectable` can only be derived for a struct",
        ));
    };
    let options = struct_options(input)?;

    let mut dep_types = Vec::new();
    let mut dep_bindings = Vec::new();
    let mut inits = Vec::new();
    for (index, field) in data.fields.iter().enumerate() {
        let binding = format_ident!("__dep_{index}");
        let value = match field_init(field)? {
            FieldInit::Inject => {
                let ty = &field.ty;
                dep_types.push(quote!(#ty));
                dep_bindings.push(quote!(#binding));
                quote!(#binding)
            }
            FieldInit::Default(Some(expr)) => quote!(#expr),
            FieldInit::Default(None) => quote!(::core::default::Default::default()),
        };
        inits.push(match &field.ident {
            Some(ident) => quote!(#ident: #value),
            None => value,
        });
    }
    let construct = match &data.fields {
        Fields::Named(_) => quote!(Self { #(#inits),* }),
        Fields::Unnamed(_) => quote!(Self ( #(#inits),* )),
        Fields::Unit => quote!(Self),
    };
    let deps_type = nest(dep_types);
    let deps_pattern = nest(dep_bindings);

    let interfaces = options
        .interfaces
        .iter()
        .map(|interface| quote!(let provider = provider.bind::<#interface>(|instance| instance);));
    let hooks = options
        .hooks
        .iter()
        .map(|hook| quote!(let provider = provider.#hook();));
    let transient = options
        .transient
        .then(|| quote!(let provider = provider.transient();));

    Ok(quote! {
        impl ::nestling::Injectable for #name {
            type Deps = #deps_type;

            #[allow(clippy::unused_unit)]
            fn construct(
                deps: Self::Deps,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<Self, ::nestling::BoxError>,
            > + ::core::marker::Send {
                let #deps_pattern = deps;
                ::core::future::ready(::core::result::Result::Ok(#construct))
            }

            fn configure(
                provider: ::nestling::ProviderBuilder<Self>,
            ) -> ::nestling::ProviderBuilder<Self> {
                #(#interfaces)*
                #(#hooks)*
                #transient
                provider
            }
        }
    })
}
