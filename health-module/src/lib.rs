//! Health endpoints and indicators for Nestling Inngest apps.
//!
//! - [`HealthIndicator`]: something that says whether a part of the app is up, with details;
//!   [`FnIndicator`] makes one from a closure, [`MemoryIndicator`] checks resident memory,
//!   [`EngineStorageIndicator`] the embedded engine's database (added to readiness when the
//!   app runs on the embedded engine).
//! - [`HealthChecks`]: the liveness and readiness indicators, checked together (concurrently,
//!   with a timeout each) and reported in the shape of `@nestjs/terminus`, 200 when up and 503
//!   when down; optionally re-checked in the background on an interval.
//! - [`InngestHealthIndicator`]: `is_healthy(key)` / `is_ready(key)` for the Inngest
//!   integration, aware of the connection mode; it reads state and never sends events.
//! - [`HealthService`] and [`InngestHealthModule`]: `GET /health/inngest` (`?details=true`
//!   adds memory and per-function status), `GET /health/live`, `GET /health/ready`, the
//!   OpenAPI spec at `/docs/health/openapi.json` and a docs UI at `/docs/health`, configured
//!   from the Inngest module's `health` options. [`HealthMiddleware`] feeds the last
//!   execution of each function; the module provides it as Inngest middleware, so the
//!   Inngest module runs it for every function without further wiring.

mod check;
mod error;
mod http;
mod indicator;
mod indicators;
mod module;
mod service;
mod settings;

pub use check::{
    DEFAULT_CHECK_TIMEOUT, HealthChecks, HealthReport, HealthState, Probe, run_indicators,
};
pub use error::Error;
pub use http::HealthApi;
pub use indicator::{
    FnIndicator, HealthIndicator, IndicatorFuture, IndicatorResult, IndicatorStatus,
};
pub use indicators::{
    DEFAULT_MEMORY_LIMIT_BYTES, EngineStorageIndicator, ExecutionLog, ExecutionOutcome,
    HealthMiddleware, InngestHealthIndicator, LastExecution, MemoryIndicator,
};
pub use module::InngestHealthModule;
pub use service::{ENGINE_STORAGE_KEY, HealthService, INNGEST_KEY, MEMORY_KEY};
pub use settings::HealthSettings;

/// Formats a time as RFC 3339 in UTC with second precision.
pub(crate) fn rfc3339(at: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
