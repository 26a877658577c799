//! Testing tools for Nestling apps: a testing module builder with provider overrides, a mock
//! Inngest service, an in-process function runner and a test engine.
//!
//! | tool | for |
//! |---|---|
//! | [`TestingModule`] | NestJS's `Test.createTestingModule`: build the module under test (or a list of providers), override providers by value or factory, `compile()` without hooks, then `init()`/`close()` |
//! | [`MockInngestService`] | an `InngestService` that records sent events with generated ids, lists the app's functions and never leaves the process |
//! | [`FunctionRunner`] | runs one Inngest function to its end against the SDK's real execution code, like `@inngest/test`, with retries, sleeps, waits, invokes, sent events, step mocks and the failure handler |
//! | [`TestEngine`] | the embedded durable engine on a free port and a temporary SQLite file, with "send an event and wait for its runs" helpers that time out instead of hanging |
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use nestling::{Injectable, Module, ModuleDef, Provider};
//! use nestling_inngest::{InngestModule, InngestModuleOptions, InngestService, InngestServiceExt};
//! use nestling_testing::{MockInngestService, TestingModule};
//!
//! #[derive(Injectable)]
//! struct Signup {
//!     #[inject]
//!     inngest: Arc<dyn InngestService>,
//! }
//!
//! impl Signup {
//!     async fn register(&self, email: &str) -> Result<String, nestling_inngest::Error> {
//!         self.inngest.send_data("user.created", &serde_json::json!({ "email": email })).await
//!     }
//! }
//!
//! struct AppModule;
//! impl Module for AppModule {
//!     fn define(&self) -> ModuleDef {
//!         ModuleDef::new("AppModule")
//!             .import(InngestModule::for_root(
//!                 InngestModuleOptions::new("shop").dev(true).is_global(true),
//!             ))
//!             .provider(Provider::class::<Signup>())
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let mock = Arc::new(MockInngestService::new("shop"));
//! let module = TestingModule::builder(AppModule).mock_inngest(mock.clone()).compile().await?;
//!
//! let id = module.get::<Signup>().register("ada@example.com").await?;
//! let sent = mock.events_named("user.created");
//! assert_eq!(sent[0].id, id);
//! assert_eq!(sent[0].event.data["email"], "ada@example.com");
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

//! # What the function runner does not model
//!
//! The runner plays the executor for one run at a time. It does not evaluate CEL: a wait's
//! `if` is not checked against the answer you give, and trigger `if`s are not checked against
//! the event. Flow control (concurrency, throttle, rate limit, debounce, batching, priority,
//! idempotency), `cancel_on` and cron schedules are the engine's work: test them on a
//! [`TestEngine`]. Sleeps and `sleep_until` complete at once, with their durations or
//! instants recorded, and no clock is moved for the code under test. `step.fetch`, AI
//! inference and signals fail their step with a message saying they are not supported.
//!
//! The runner calls the SDK in-process through `ServeEndpoint::execute`, the code path of the
//! serve endpoint's POST without the socket, so the answers are the ones Inngest would get.

#![allow(
    clippy::result_large_err,
    reason = "`TestingError` wraps the container's error, which carries owned names for its \
              messages; tests match on it and boxing would only make that clumsy"
)]

mod engine;
mod error;
mod mock_service;
mod module;
mod runner;
mod stand_in;

pub use engine::TestEngine;
pub use error::TestingError;
pub use mock_service::{MockInngestService, SentEvent};
pub use module::{ProviderOverride, TestingModule, TestingModuleBuilder};
pub use runner::{
    FunctionRunner, RetryRecord, RunOutcome, RunStatus, SleepRecord, StepHandler, StepRecord,
    TestRun,
};
pub use stand_in::InngestStandInModule;
