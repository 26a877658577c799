//! Middleware: hooks around each run and each step that can observe and transform them.
//!
//! A middleware implements [`InngestMiddleware`]; every hook has a default that does
//! nothing. Register one for every function by listing it in the module's options
//! (`middleware`), or by providing it from any module with [`MiddlewareProvider::global`]
//! (an injectable class, a factory or a value, found when the modules initialise), or for one
//! function with `#[use_middleware(name)]` (matched against [`InngestMiddleware::name`];
//! [`MiddlewareProvider::named`] makes a provided middleware available that way only).
//!
//! Each call request from the executor re-runs the handler from the top, so the hooks run
//! once per request, in this order:
//!
//! 1. [`transform_input`](InngestMiddleware::transform_input): the raw events, before they
//!    are deserialised into the handler's event type;
//! 2. [`before_execution`](InngestMiddleware::before_execution): when the handler reaches
//!    code that was not memoised (at once when nothing was);
//! 3. for a step whose body runs in this request: [`before_step`](InngestMiddleware::before_step),
//!    then [`transform_step_output`](InngestMiddleware::transform_step_output);
//! 4. [`after_execution`](InngestMiddleware::after_execution): when the handler returned or
//!    stopped at new steps;
//! 5. [`transform_output`](InngestMiddleware::transform_output): the handler's result, when
//!    it returned.
//!
//! Besides these, [`run_span`](InngestMiddleware::run_span) and
//! [`step_span`](InngestMiddleware::step_span) let a middleware choose the `tracing` span a
//! call and each step body run in (the module's tracing uses them), and
//! [`on_run_cancelled`](InngestMiddleware::on_run_cancelled) says that a run was cancelled,
//! when that can be known (see the hook).
//!
//! Hooks are synchronous: they run on the request's task between polls of the handler, so
//! they must not block.
//!
//! # Order
//!
//! For every function, hooks run in this order of middleware:
//!
//! 1. the module's tracing, when the `tracing` options turn it on (so every other hook runs
//!    inside the call's span);
//! 2. the `middleware` of the module's options, in the order given;
//! 3. middleware provided with [`MiddlewareProvider::global`], module by module in the
//!    container's initialisation order (a module's imports before the module), and within a
//!    module in the order its providers are declared; one whose name is already in the list
//!    is skipped, so listing it in the options too does not run it twice;
//! 4. the function's own `#[use_middleware(...)]`, in the order named.
//!
//! # Examples
//!
//! ```
//! use nestling_inngest::{FunctionError, InngestMiddleware, RunInfo};
//! use serde_json::Value;
//!
//! /// Wraps every successful result in `{"result": …}`.
//! struct Envelope;
//!
//! impl InngestMiddleware for Envelope {
//!     fn name(&self) -> &str {
//!         "envelope"
//!     }
//!
//!     fn transform_output(&self, _run: &RunInfo, output: &mut Result<Value, FunctionError>) {
//!         if let Ok(value) = output {
//!             *value = serde_json::json!({ "result": value.take() });
//!         }
//!     }
//! }
//! ```

mod provider;

use std::sync::Arc;

use serde_json::Value;

use crate::FunctionError;

pub use provider::MiddlewareProvider;
pub(crate) use provider::contributed_middleware;

/// What a hook knows about the run it is called for.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunInfo {
    /// The app's id.
    pub app_id: String,
    /// Composite function id, `<app>-<function>`.
    pub function_id: String,
    /// The run.
    pub run_id: String,
    /// 0-based attempt of this request.
    pub attempt: u32,
    /// How many attempts the run has in all: the function's retries plus one (or what the
    /// executor says, when it says).
    pub max_attempts: u32,
}

impl RunInfo {
    /// Whether `error`, returned by the handler in this request, ends the run: it is not
    /// retriable, it is a step's final failure, or this is the last attempt. It is what the
    /// SDK tells the executor (`X-Inngest-No-Retry`).
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest::{FunctionError, RunInfo};
    ///
    /// fn ends(run: &RunInfo) -> bool {
    ///     run.is_final(&FunctionError::new("timeout talking to the bank"))
    /// }
    /// # let _ = ends;
    /// ```
    pub fn is_final(&self, error: &FunctionError) -> bool {
        error.is_final(self.attempt, self.max_attempts)
    }
}

/// A run the executor cancelled (a `cancel_on` event, a timeout, the cancel API).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CancelledRun {
    /// The app's id.
    pub app_id: String,
    /// Composite function id, `<app>-<function>`.
    pub function_id: String,
    /// The run.
    pub run_id: String,
}

/// What a step hook knows about the step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StepInfo {
    /// The id the step was given in code.
    pub id: String,
    /// The hashed id the executor knows it by.
    pub hashed_id: String,
    /// What kind of step it is: `"run"` or `"sendEvent"` for a step whose body runs, or, for
    /// a step reported to the executor without running here, `"sleep"`, `"waitForEvent"`,
    /// `"invoke"` or `"planned"` (a step of a parallel group).
    pub kind: &'static str,
}

/// The raw input of a run, before it is deserialised for the handler.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FunctionInput {
    /// The triggering events (one, or the batch), as JSON.
    pub events: Vec<Value>,
}

/// Hooks around runs and steps. See the [module documentation](self) for when each runs.
pub trait InngestMiddleware: Send + Sync + 'static {
    /// The name `#[use_middleware(...)]` refers to.
    fn name(&self) -> &str;

    /// Changes the events before the handler sees them.
    fn transform_input(&self, run: &RunInfo, input: &mut FunctionInput) {
        let _ = (run, input);
    }

    /// The handler reached code that was not memoised.
    fn before_execution(&self, run: &RunInfo) {
        let _ = run;
    }

    /// The handler returned, or stopped at steps to report.
    fn after_execution(&self, run: &RunInfo) {
        let _ = run;
    }

    /// Changes the handler's result (its value or its error).
    fn transform_output(&self, run: &RunInfo, output: &mut Result<Value, FunctionError>) {
        let _ = (run, output);
    }

    /// A step's body is about to run.
    fn before_step(&self, run: &RunInfo, step: &StepInfo) {
        let _ = (run, step);
    }

    /// Changes what a step's body produced, before it is reported to the executor.
    fn transform_step_output(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        output: &mut Result<Value, FunctionError>,
    ) {
        let _ = (run, step, output);
    }

    /// The span this call of the run executes in. The first middleware that returns one wins;
    /// the execution driver enters it for the rest of the call, so the handler, the steps and
    /// every later hook run inside it. Asked once per call, after
    /// [`transform_input`](Self::transform_input).
    fn run_span(&self, run: &RunInfo, input: &FunctionInput) -> Option<tracing::Span> {
        let _ = (run, input);
        None
    }

    /// The span a step runs in: a step whose body runs in this request is instrumented with
    /// it (so [`before_step`](Self::before_step) and
    /// [`transform_step_output`](Self::transform_step_output) run inside it), and a step that
    /// is only reported to the executor gets it opened and closed at once. The first
    /// middleware that returns one wins. It is asked inside the run's span.
    fn step_span(&self, run: &RunInfo, step: &StepInfo) -> Option<tracing::Span> {
        let _ = (run, step);
        None
    }

    /// The run was cancelled.
    ///
    /// The serve protocol never tells the SDK: a cancelled run is simply not called again
    /// (and a call in flight has its answer ignored). So this hook is called only where the
    /// SDK can know, which today is the embedded engine, whose run endings the module
    /// watches. With the Inngest dev server, self-hosted Inngest or Inngest Cloud it is never
    /// called, and a cancelled run stays "in flight" for middleware that counts runs; those
    /// servers announce cancellations as `inngest/function.cancelled` events, which a
    /// function of the app can be triggered by.
    fn on_run_cancelled(&self, run: &CancelledRun) {
        let _ = run;
    }
}

/// The middleware that applies to one function, in the order hooks run.
#[derive(Clone, Default)]
pub struct MiddlewareStack {
    layers: Vec<Arc<dyn InngestMiddleware>>,
}

impl std::fmt::Debug for MiddlewareStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.layers.iter().map(|m| m.name().to_owned()))
            .finish()
    }
}

impl MiddlewareStack {
    /// A stack running `layers` in order.
    pub fn new(layers: Vec<Arc<dyn InngestMiddleware>>) -> Self {
        Self { layers }
    }

    /// Whether the stack has no middleware.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The names of the middleware, in order.
    pub fn names(&self) -> Vec<String> {
        self.layers.iter().map(|m| m.name().to_owned()).collect()
    }

    pub(crate) fn transform_input(&self, run: &RunInfo, input: &mut FunctionInput) {
        self.layers
            .iter()
            .for_each(|m| m.transform_input(run, input));
    }

    pub(crate) fn before_execution(&self, run: &RunInfo) {
        self.layers.iter().for_each(|m| m.before_execution(run));
    }

    pub(crate) fn after_execution(&self, run: &RunInfo) {
        self.layers.iter().for_each(|m| m.after_execution(run));
    }

    pub(crate) fn transform_output(
        &self,
        run: &RunInfo,
        output: &mut Result<Value, FunctionError>,
    ) {
        self.layers
            .iter()
            .for_each(|m| m.transform_output(run, output));
    }

    pub(crate) fn before_step(&self, run: &RunInfo, step: &StepInfo) {
        self.layers.iter().for_each(|m| m.before_step(run, step));
    }

    pub(crate) fn transform_step_output(
        &self,
        run: &RunInfo,
        step: &StepInfo,
        output: &mut Result<Value, FunctionError>,
    ) {
        self.layers
            .iter()
            .for_each(|m| m.transform_step_output(run, step, output));
    }

    pub(crate) fn run_span(&self, run: &RunInfo, input: &FunctionInput) -> Option<tracing::Span> {
        self.layers.iter().find_map(|m| m.run_span(run, input))
    }

    pub(crate) fn step_span(&self, run: &RunInfo, step: &StepInfo) -> Option<tracing::Span> {
        self.layers.iter().find_map(|m| m.step_span(run, step))
    }

    /// Tells every middleware of the stack that a run was cancelled.
    pub fn on_run_cancelled(&self, run: &CancelledRun) {
        self.layers.iter().for_each(|m| m.on_run_cancelled(run));
    }
}
