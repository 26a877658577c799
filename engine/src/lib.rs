//! Embedded durable executor that speaks the Inngest protocol, also a standalone dev server.
//!
//! `nestling-engine` is a single-machine Inngest executor. It serves the dev server's API
//! (`/fn/register`, `/e/{key}`, `/v1/events/{id}/runs`, `/v1/runs/{id}` …) so the official
//! SDKs and Nestling's own work against it unchanged, keeps every event, run, step result,
//! sleep, wait and schedule in one SQLite file, and drives functions by calling the apps over
//! HTTP exactly as Inngest does. A run survives a killed process and resumes from its last
//! stored step. To grow past one machine, point the app at self-hosted Inngest or Inngest
//! Cloud instead.
//!
//! # Quick start
//!
//! ```
//! use nestling_engine::{Engine, EngineConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), nestling_engine::Error> {
//! let db = std::env::temp_dir().join(format!("nestling-quickstart-{}.sqlite", std::process::id()));
//! let engine = Engine::start(
//!     EngineConfig::default().with_bind("127.0.0.1:0".parse().unwrap()).with_database(db),
//! )
//! .await?;
//! // Point an SDK at `engine.url()`, then: engine.sync_app("http://127.0.0.1:3000/api/inngest").await?;
//! println!("events go to {}/e/<key>", engine.url());
//! engine.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The `nestling-dev` binary runs the same engine standalone: `nestling-dev -u URL`.
//!
//! # What it implements
//!
//! Trigger matching with wildcards and CEL `if` expressions, cron triggers, the full step loop
//! (`StepRun`, `StepPlanned`, `Sleep`, `WaitForEvent`, `InvokeFunction`, `StepError`,
//! `StepFailed`, `RunComplete`, `DiscoveryRequest`), retries on the server's backoff table,
//! parallel steps with coalesced discovery, `cancel_on` and the cancel API, lifecycle events
//! (`inngest/function.finished`, `.failed`, `.cancelled`), JS v4 async checkpoints, and flow
//! control: idempotency, debounce, throttle, rate limit, concurrency with keys, batching,
//! priority, timeouts and singleton. `step.ai`/`step.fetch` gateways and signals are not
//! implemented; such ops fail their step with a message saying so.

mod api;
mod clock;
mod config;
mod core;
mod cron;
mod engine;
mod error;
mod executor;
mod expr;
mod flow;
mod function;
mod ingest;
mod lifecycle;
mod probe;
mod scheduler;
mod store;
mod sync;
mod wire;

pub use config::{DEFAULT_PORT, EngineConfig};
pub use engine::{Engine, EngineHandle, RunSummary};
pub use error::{Error, Result};
pub use probe::StorageReport;
pub use store::RunStatus;
pub use sync::SyncReport;
