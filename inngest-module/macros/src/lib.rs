//! Procedural macros that declare Inngest functions on Nestling services.
//!
//! Use them through `nestling_inngest`, which re-exports [`functions`]. The attributes on the
//! methods (`#[on_event]`, `#[on_cron]`, `#[concurrency]`, ...) are read and removed by
//! `#[functions]`, so they need no import; see [`functions`] for all of them.
//!
//! Every check that the Inngest server would make when the app syncs is made here, while the
//! code compiles, with the offending argument underlined.

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

#[doc = include_str!("docs/functions.md")]
#[proc_macro_attribute]
pub fn functions(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}

#[cfg(test)]
mod tests;
