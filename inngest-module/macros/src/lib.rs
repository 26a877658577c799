//! Procedural macros that declare Inngest functions on Nestling services.
//!
//! Use them through `nestling_inngest`, which re-exports [`functions`]; the attributes on the
//! methods are read by it and need no import.

mod args;
mod check;
mod emit;
mod errors;
mod expand;
mod fields;
mod json;
mod method;
mod options;
mod rules;
mod spec;
mod triggers;

use proc_macro::TokenStream;

/// Declares the annotated methods of a service's impl block as Inngest functions.
#[proc_macro_attribute]
pub fn functions(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}

#[cfg(test)]
mod tests;
