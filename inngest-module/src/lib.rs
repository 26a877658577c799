//! Inngest durable functions as Nestling service methods.
//!
//! The module tree below is shared by several people at once; each folder's `mod.rs` is the
//! front door that curates what it re-exports.

mod error;

pub mod client;
pub mod execution;
pub mod function;
pub mod middleware;
pub mod module;
pub mod options;
pub mod serve;
pub mod service;
pub mod telemetry;

pub use client::*;
pub use error::*;
pub use execution::*;
pub use function::*;
pub use middleware::*;
pub use module::*;
pub use options::*;
pub use serve::*;
pub use service::*;
pub use telemetry::*;

pub use nestling_inngest_macros::*;

/// Private API used by the code that this crate's macros generate. Not covered by semver.
#[doc(hidden)]
pub mod __private;

/// The README's Rust examples, compiled and run as doctests so that they cannot drift from the
/// API they show.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
