//! Inngest durable functions as Nestling service methods.
//!
//! The module tree below is shared by several people at once; each folder's `mod.rs` is the
//! front door that curates what it re-exports.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `embedded-engine` | on | the embedded durable engine (`nestling-engine`, SQLite), started in-process when no Inngest server is configured |
//! | `otlp` | on | span export over OTLP/HTTP for [`init_telemetry`] and [`otlp_tracer_provider`] |
//!
//! An app always served by an outside server (the dev server, self-hosted Inngest, Inngest
//! Cloud) can turn both off (`default-features = false`) for a smaller binary and less
//! memory; tracing spans, trace-context propagation, serve and connect mode work the same.
//! Options that need a feature that is off still parse, and resolving them fails with an
//! error naming the option and the feature: no server configured without `embedded-engine`
//! ([`Error::InvalidOptions`] on `base_url`, or [`Error::FeatureDisabled`] for options built
//! by hand), `tracing.otlp_endpoint` with tracing on without `otlp`
//! ([`TelemetryError::ExportDisabled`] when the endpoint comes from the `OTEL_*` variables).

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
