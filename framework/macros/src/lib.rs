//! Procedural macros of the nestling module container: `#[derive(Injectable)]` and
//! `#[discoverable]`. Use them through the `nestling` crate, which re-exports them.

mod discoverable;
mod injectable;

use proc_macro::TokenStream;

/// Derives `nestling::Injectable` for a struct.
///
/// - `#[inject]` on a field injects it: `Arc<T>`, `Arc<dyn Trait>`, or `Option<Arc<T>>` for an
///   optional dependency.
/// - `#[injectable(default = expr)]` on a field sets it from `expr`; other fields use
///   `Default::default()`.
/// - On the struct, `#[injectable(...)]` takes `interface = dyn Trait` (repeatable: the
///   provider also resolves as `Arc<dyn Trait>`), `hooks(on_module_init, ...)` (the lifecycle
///   hooks the type implements) and `transient`.
/// - shaku's vocabulary is understood too, so a struct can derive both `shaku::Component` and
///   `Injectable`: `#[shaku(interface = Trait)]`, `#[shaku(inject)]`, `#[shaku(default = expr)]`.
#[proc_macro_derive(Injectable, attributes(inject, injectable, shaku))]
pub fn derive_injectable(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    injectable::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Records the methods of an `impl` block marked `#[discover(kind = "...", key = "value", ...)]`
/// in nestling's link-time table, so that `DiscoveryService` finds them on built providers.
///
/// A discovered method takes `&self` and at most one more argument, may be `async`, and returns
/// a `Send + 'static` value; callers pass the argument and get the result as `Box<dyn Any>`.
#[proc_macro_attribute]
pub fn discoverable(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(input as syn::ItemImpl);
    discoverable::expand(args.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
