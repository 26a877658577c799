//! The in-process function runner: plays Inngest's executor against the SDK's real
//! execution code, one discovered function at a time.

mod outcome;
mod run;
mod transport;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use nestling::ApplicationContext;
use nestling_inngest::{
    FunctionRegistry, InngestService, RegisteredFunction, ResolvedOptions, ServeEndpoint,
};
use nestling_inngest_protocol::SerializedError;
use serde::Serialize;
use serde_json::{Value, json};

pub use outcome::{RetryRecord, RunOutcome, RunStatus, SleepRecord, StepRecord};

use crate::{MockInngestService, TestingError};
use transport::InProcessServe;

/// How deep invokes may nest before the runner stops (a function invoking itself).
const MAX_INVOKE_DEPTH: usize = 8;

/// Requests one run may take before the runner gives up.
const DEFAULT_MAX_REQUESTS: usize = 1_000;

/// A mocked step body: runs only if the function reaches the step, instead of the real body.
/// `Err(message)` fails the step for good with that message.
pub type StepHandler = Arc<dyn Fn() -> Result<Value, String> + Send + Sync>;

/// What a mocked step, wait or invoke resolves to.
#[derive(Clone)]
enum Mock {
    Value(Value),
    Error(SerializedError),
    Handler(StepHandler),
    /// A wait that times out (memoised as `null`).
    Timeout,
}

impl fmt::Debug for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(v) => f.debug_tuple("Value").field(v).finish(),
            Self::Error(e) => f.debug_tuple("Error").field(e).finish(),
            Self::Handler(_) => f.write_str("Handler"),
            Self::Timeout => f.write_str("Timeout"),
        }
    }
}

/// Runs an app's Inngest functions to completion in-process, the way `@inngest/test` does,
/// with what it leaves out: retries of steps and functions, every step result round-tripped
/// through JSON, sleeps that complete at once (and are recorded), waits answered by a stub or
/// timing out (never hanging), invokes of sibling functions, `step.send_event` recorded by a
/// [`MockInngestService`], and the failure handler run when a function fails.
///
/// The runner acts as the executor against the SDK's own serve endpoint, in-process through
/// [`ServeEndpoint::execute`] (the same replies as over HTTP, without a socket): it sends call
/// requests, memoises each step's result, re-enters after every step
/// like the server (targeting planned steps, with `disable_immediate_execution` once steps run
/// in parallel) and models attempts with the function's `retries`.
///
/// # Examples
///
/// ```
/// use nestling::{Module, ModuleDef, Provider};
/// use nestling_inngest::{functions, Ctx, FunctionError, InngestModule, InngestModuleOptions};
/// use nestling_testing::{RunStatus, TestingModule};
///
/// struct Greeter;
///
/// #[functions]
/// impl Greeter {
///     #[on_event("app/greet")]
///     async fn greet(&self, ctx: Ctx) -> Result<String, FunctionError> {
///         let name: String = ctx.step.run("lookup", || async { Ok::<_, FunctionError>("Ada".to_owned()) }).await?;
///         ctx.step.sleep("pause", "1h").await?;
///         Ok(format!("hello {name}"))
///     }
/// }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule")
///             .import(InngestModule::for_root(
///                 InngestModuleOptions::new("doc-app").dev(true).disable_auto_registration(true),
///             ))
///             .provider(Provider::value(Greeter))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let module = TestingModule::builder(AppModule).compile().await?;
/// module.init().await?;
/// let runner = module.runner().await?;
///
/// let outcome = runner.function("greet")?.execute().await?;
/// assert_eq!(outcome.status, RunStatus::Completed);
/// assert_eq!(outcome.output_as::<String>()?, "hello Ada");
/// assert_eq!(outcome.step_ids(), ["lookup", "pause"]);
/// assert_eq!(outcome.sleeps[0].raw, "1h");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct FunctionRunner {
    registry: FunctionRegistry,
    app_id: String,
    mock: Arc<MockInngestService>,
    serve: InProcessServe,
}

impl fmt::Debug for FunctionRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionRunner")
            .field("app_id", &self.app_id)
            .field("functions", &self.registry)
            .field("endpoint", self.serve.endpoint())
            .finish()
    }
}

impl FunctionRunner {
    /// A runner for the functions of an initialised application, with its own
    /// [`MockInngestService`] (read it with [`mock`](Self::mock)).
    ///
    /// # Errors
    ///
    /// [`TestingError::NoInngestModule`] when the app has no Inngest module.
    pub async fn new(context: &ApplicationContext) -> Result<Self, TestingError> {
        let app_id = app_id(context)?;
        let mock = Arc::new(MockInngestService::try_new(&app_id)?);

        Self::with_mock(context, mock).await
    }

    /// A runner whose `step.send_event` records into `mock` (share the one installed in the
    /// app, so that events sent by services and by steps land together).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub async fn with_mock(
        context: &ApplicationContext,
        mock: Arc<MockInngestService>,
    ) -> Result<Self, TestingError> {
        let registry =
            context
                .try_get::<FunctionRegistry>()
                .map_err(|_| TestingError::NoInngestModule {
                    missing: "FunctionRegistry",
                })?;
        let app_id = app_id(context)?;

        Self::from_registry((*registry).clone(), &app_id, mock).await
    }

    /// A runner for the functions of `registry`, as the app `app_id`.
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for runners that need to set something up.
    pub async fn from_registry(
        registry: FunctionRegistry,
        app_id: &str,
        mock: Arc<MockInngestService>,
    ) -> Result<Self, TestingError> {
        mock.attach_registry(registry.clone());
        let service: Arc<dyn InngestService> = Arc::clone(&mock) as Arc<dyn InngestService>;
        let serve = InProcessServe::new(service, registry.clone());

        Ok(Self {
            registry,
            app_id: app_id.to_owned(),
            mock,
            serve,
        })
    }

    /// The mock that records `step.send_event`.
    pub fn mock(&self) -> &Arc<MockInngestService> {
        &self.mock
    }

    /// The serve endpoint the runner calls: the SDK's own, serving `registry` with the mock
    /// service. Serve it over HTTP (it is a poem endpoint) to drive the same functions through
    /// a real socket.
    pub fn endpoint(&self) -> &ServeEndpoint {
        self.serve.endpoint()
    }

    /// The composite ids of the app's functions, in discovery order.
    pub fn function_ids(&self) -> Vec<String> {
        self.registry
            .functions()
            .iter()
            .map(|f| f.spec().composite_id(&self.app_id))
            .collect()
    }

    /// Prepares a run of the function `id` (bare, as in the attribute, or composite).
    ///
    /// # Errors
    ///
    /// [`TestingError::UnknownFunction`] listing the app's functions.
    pub fn function(&self, id: &str) -> Result<TestRun<'_>, TestingError> {
        let function = self.find(id)?;

        Ok(TestRun {
            runner: self,
            function,
            events: Vec::new(),
            steps: HashMap::new(),
            waits: HashMap::new(),
            invokes: HashMap::new(),
            max_requests: DEFAULT_MAX_REQUESTS,
            run_on_failure: true,
        })
    }

    fn find(&self, id: &str) -> Result<Arc<RegisteredFunction>, TestingError> {
        let composite = if id.starts_with(&format!("{}-", self.app_id))
            && self.registry.find(&self.app_id, id).is_some()
        {
            id.to_owned()
        } else {
            format!("{}-{id}", self.app_id)
        };

        self.registry
            .find(&self.app_id, &composite)
            .ok_or_else(|| TestingError::UnknownFunction {
                id: id.to_owned(),
                known: {
                    let ids = self.function_ids();
                    if ids.is_empty() {
                        "none".to_owned()
                    } else {
                        ids.join(", ")
                    }
                },
            })
    }

    fn failure_handler(&self, bare_id: &str) -> Option<Arc<RegisteredFunction>> {
        self.registry
            .functions()
            .into_iter()
            .find(|f| f.spec().on_failure() == Some(bare_id))
    }
}

fn app_id(context: &ApplicationContext) -> Result<String, TestingError> {
    let options =
        context
            .try_get::<ResolvedOptions>()
            .map_err(|_| TestingError::NoInngestModule {
                missing: "ResolvedOptions",
            })?;

    Ok(options.app_id.clone())
}

/// One run to prepare: events, step mocks, wait answers, invoke stubs. Finish with
/// [`execute`](Self::execute).
///
/// Mocks are keyed by the step id the code gives (`ctx.step.run("charge", ..)` → `"charge"`);
/// every use of a repeated id gets the same mock. A wait with no answer times out (its `if`
/// expression is not evaluated: the answer is taken as matching); an invoke with no stub runs
/// the sibling function of the same app.
///
/// # Examples
///
/// ```
/// use nestling::{Module, ModuleDef, Provider};
/// use nestling_inngest::{functions, Ctx, FunctionError, InngestModule, InngestModuleOptions, Invoke, WaitForEvent};
/// use nestling_testing::TestingModule;
/// use serde_json::{json, Value};
///
/// struct Billing;
///
/// #[functions]
/// impl Billing {
///     #[on_event("billing/invoice.created")]
///     async fn collect(&self, ctx: Ctx) -> Result<Value, FunctionError> {
///         let amount: u32 = ctx.step.run("price", || async { Ok::<_, FunctionError>(10) }).await?;
///         let paid = ctx
///             .step
///             .wait_for_event::<Value>("paid", WaitForEvent::new("billing/paid", "7d"))
///             .await?;
///         let receipt: String = ctx.step.invoke("receipt", Invoke::function("make-receipt")).await?;
///         Ok(json!({ "amount": amount, "paid": paid.is_some(), "receipt": receipt }))
///     }
///
///     #[on_event("billing/receipt.requested")]
///     async fn make_receipt(&self, _ctx: Ctx) -> Result<String, FunctionError> {
///         Ok("real receipt".into())
///     }
/// }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule")
///             .import(InngestModule::for_root(
///                 InngestModuleOptions::new("billing").dev(true).disable_auto_registration(true),
///             ))
///             .provider(Provider::value(Billing))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let module = TestingModule::builder(AppModule).compile().await?;
/// module.init().await?;
/// let runner = module.runner().await?;
///
/// let outcome = runner
///     .function("collect")?
///     .event_data("billing/invoice.created", json!({ "invoice": 1 }))
///     .mock_step("price", 99)
///     .answer_wait("paid", json!({ "invoice": 1 }))
///     .stub_invoke("make-receipt", "stub receipt")
///     .execute()
///     .await?;
/// assert_eq!(outcome.output, Some(json!({ "amount": 99, "paid": true, "receipt": "stub receipt" })));
/// assert!(outcome.steps.iter().all(|step| step.mocked));
///
/// // Without the stubs, the wait times out and the sibling function really runs.
/// let outcome = runner.function("collect")?.execute().await?;
/// assert_eq!(outcome.output, Some(json!({ "amount": 10, "paid": false, "receipt": "real receipt" })));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct TestRun<'r> {
    runner: &'r FunctionRunner,
    function: Arc<RegisteredFunction>,
    events: Vec<Value>,
    steps: HashMap<String, Mock>,
    waits: HashMap<String, Mock>,
    invokes: HashMap<String, Mock>,
    max_requests: usize,
    run_on_failure: bool,
}

impl fmt::Debug for TestRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRun")
            .field("function", &self.function.spec().id())
            .field("events", &self.events.len())
            .field("steps", &self.steps.keys().collect::<Vec<_>>())
            .field("waits", &self.waits.keys().collect::<Vec<_>>())
            .field("invokes", &self.invokes.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<'r> TestRun<'r> {
    /// Triggers the run with this event (`{"name": .., "data": ..}`; `id` and `ts` are
    /// filled in when missing). Call it several times for a batch. Without any, the run gets
    /// an `inngest/function.invoked` event with empty data.
    pub fn event(mut self, event: Value) -> Self {
        self.events.push(event);
        self
    }

    /// Triggers the run with an event of this name and data.
    pub fn event_data(self, name: &str, data: impl Serialize) -> Self {
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        self.event(json!({"name": name, "data": data}))
    }

    /// The step `id` returns `value` (through a JSON round trip) without running its body.
    pub fn mock_step(mut self, id: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.steps.insert(id.to_owned(), Mock::Value(value));
        self
    }

    /// The step `id` fails for good with this message without running its body.
    pub fn mock_step_error(mut self, id: &str, message: &str) -> Self {
        self.steps.insert(
            id.to_owned(),
            Mock::Error(SerializedError::new("Error", message)),
        );
        self
    }

    /// The step `id` runs `handler` instead of its body, only if the function reaches it;
    /// `Err(message)` fails the step for good.
    pub fn mock_step_with(
        mut self,
        id: &str,
        handler: impl Fn() -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        self.steps
            .insert(id.to_owned(), Mock::Handler(Arc::new(handler)));
        self
    }

    /// The wait with step id (or event name) `key` receives this event's data as if an event
    /// of the awaited name had arrived.
    pub fn answer_wait(mut self, key: &str, data: impl Serialize) -> Self {
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        self.waits.insert(key.to_owned(), Mock::Value(data));
        self
    }

    /// The wait with step id (or event name) `key` times out (the default for every wait).
    pub fn timeout_wait(mut self, key: &str) -> Self {
        self.waits.insert(key.to_owned(), Mock::Timeout);
        self
    }

    /// The invoke with step id (or invoked function id, bare or composite) `key` returns
    /// `value` instead of running the function.
    pub fn stub_invoke(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.invokes.insert(key.to_owned(), Mock::Value(value));
        self
    }

    /// The invoke with step id (or function id) `key` fails with this message.
    pub fn stub_invoke_error(mut self, key: &str, message: &str) -> Self {
        self.invokes.insert(
            key.to_owned(),
            Mock::Error(SerializedError::new("Error", message)),
        );
        self
    }

    /// The most call requests the run may take (1000 by default).
    pub fn max_requests(mut self, max: usize) -> Self {
        self.max_requests = max;
        self
    }

    /// Does not run the failure handler when the function fails.
    pub fn skip_on_failure(mut self) -> Self {
        self.run_on_failure = false;
        self
    }

    /// Runs the function to its end.
    ///
    /// # Errors
    ///
    /// A [`TestingError`] when the runner itself cannot go on (the endpoint answered
    /// something unusable, too many requests); a failing function is not an error but an
    /// outcome with [`RunStatus::Failed`].
    pub async fn execute(self) -> Result<RunOutcome, TestingError> {
        run::execute(self, 0).await
    }
}
