//! The Rust conformance fixture: the functions Inngest's SDK conformance runner
//! (`inngest alpha conformance run --transport serve`) drives, written with Nestling.
//!
//! It is the counterpart of the Go SDK's fixture app: the same function ids, triggers, step
//! names and return values, because the runner checks the exact opcodes, step ids (hashes of
//! the step names) and results it sees pass through its proxy. One function per case:
//!
//! | case | function id | event |
//! |---|---|---|
//! | `basic-invoke` | `test-suite-simple-fn` | `tests/function.test` |
//! | `steps-serial` | `test-suite-step-test` | `tests/step.test` |
//! | `retry-basic` | `test-suite-retry-test` | `tests/retry.test` |
//! | `cancel-basic` | `test-suite-cancel-test` | `tests/cancel.test` |
//! | `wait-for-event-basic` | `test-suite-wait-for-event` | `tests/wait.test` |
//!
//! `serve-introspection` needs no function: the runner syncs the app in band and finds them.

use std::sync::atomic::{AtomicU32, Ordering};

use nestling::{Injectable, Module, ModuleDef, NestlingApplication, Provider};
use nestling_inngest::{
    Ctx, FunctionError, InngestModule, InngestModuleOptions, WaitForEvent, functions,
};
use serde_json::{Value, json};

/// The app id the fixture syncs as; the runtime prefixes it to every function id.
pub const APP_ID: &str = "conformance-rust";

/// How many times the retry case's step body ran: the runner expects the first attempt to fail
/// and the retry to succeed. Process-wide because the runner starts a fresh fixture per run.
static RETRY_STEP_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// How many times the retry case's function body ran past its step: the runner expects it to
/// fail once after the step succeeded, then to return normally.
static RETRY_FUNCTION_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// The service whose methods are the fixture's functions.
#[derive(Debug, Default, Injectable)]
pub struct ConformanceService;

/// What most cases return: the triggering event's name and `"ok"`.
fn ok_body(event_name: &str) -> Value {
    json!({ "name": event_name, "body": "ok" })
}

#[functions]
impl ConformanceService {
    /// `basic-invoke`: no steps, answers at once.
    #[on_event("tests/function.test", id = "test-suite-simple-fn")]
    async fn simple(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        Ok(ok_body(&ctx.event.name))
    }

    /// `steps-serial`: a step, a two-second sleep, a step that reads the first one's result.
    #[on_event("tests/step.test", id = "test-suite-step-test")]
    async fn steps(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let first: String = ctx
            .step
            .run("first step", || async {
                Ok::<_, FunctionError>("first step".to_owned())
            })
            .await?;

        ctx.step.sleep("sleep", "2s").await?;

        let _second: Value = ctx
            .step
            .run("second step", move || async move {
                Ok::<_, FunctionError>(json!({ "first": first, "second": true }))
            })
            .await?;

        Ok(ok_body(&ctx.event.name))
    }

    /// `retry-basic`: the step fails on its first attempt, then the function body fails once
    /// after the step succeeded; each is retried.
    #[on_event("tests/retry.test", id = "test-suite-retry-test")]
    async fn retry(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let _first: String = ctx
            .step
            .run("first step", || async {
                match RETRY_STEP_ATTEMPTS.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(FunctionError::new("broken")),
                    _ => Ok("yes: 2".to_owned()),
                }
            })
            .await?;

        if RETRY_FUNCTION_ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(FunctionError::new("broken func"));
        }

        Ok(ok_body(&ctx.event.name))
    }

    /// `cancel-basic`: sleeps ten seconds; a matching `cancel/please` cancels it meanwhile.
    #[on_event("tests/cancel.test", id = "test-suite-cancel-test")]
    #[cancel_on(
        event = "cancel/please",
        if = "async.data.request_id == event.data.request_id"
    )]
    async fn cancel(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        ctx.step.sleep("sleep", "10s").await?;

        let _after: String = ctx
            .step
            .run("After the sleep", || async {
                Ok::<_, FunctionError>(
                    "This should be cancelled if a matching cancel event is received".to_owned(),
                )
            })
            .await?;

        Ok(ok_body(&ctx.event.name))
    }

    /// `wait-for-event-basic`: waits up to ten seconds for a matching `test/resume` and
    /// returns its data under `result` (an empty object when none came).
    #[on_event("tests/wait.test", id = "test-suite-wait-for-event")]
    async fn wait(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let wait = WaitForEvent::new("test/resume", "10s")
            .expression("async.data.resume == true && async.data.id == event.data.id");
        let resumed = ctx.step.wait_for_event::<Value>("wait", wait).await?;

        Ok(match resumed {
            Some(event) => json!({ "result": event.data }),
            None => json!({}),
        })
    }
}

/// The root module: the Inngest module, the functions and a `/health` route the runner's
/// wrapper polls to know the fixture listens.
#[derive(Debug)]
pub struct AppModule {
    options: InngestModuleOptions,
}

impl AppModule {
    /// The module with these Inngest options.
    pub fn new(options: InngestModuleOptions) -> Self {
        Self { options }
    }
}

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(self.options.clone()))
            .provider(Provider::class::<ConformanceService>())
            .route("/health", |_ctx| Ok(poem::get(health)))
    }
}

#[poem::handler]
fn health() -> &'static str {
    "ok"
}

/// The fixture's Inngest options, configured as the Go fixture is: dev mode (the conformance
/// runner signs its requests with the signing key all the same), no registration at start-up
/// (the runner syncs the app itself, through its proxy), and the serve URL on `serve_port`.
/// The event key, signing key and server URL come from `INNGEST_EVENT_KEY`,
/// `INNGEST_SIGNING_KEY` and `INNGEST_BASE_URL`.
pub fn options(serve_port: u16) -> InngestModuleOptions {
    InngestModuleOptions::new(APP_ID)
        .dev(true)
        .disable_auto_registration(true)
        .serve_host("127.0.0.1")
        .serve_port(serve_port)
}

/// Builds the application.
///
/// # Errors
///
/// Any start-up error of the container or the Inngest module.
pub async fn create_app(serve_port: u16) -> Result<NestlingApplication, nestling::Error> {
    NestlingApplication::create(AppModule::new(options(serve_port))).await
}
