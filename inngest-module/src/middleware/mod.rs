//! Middleware: hooks around each run and each step that can observe and transform them.
//!
//! A middleware implements [`InngestMiddleware`]; every hook has a default that does
//! nothing. Register one for every function by listing it in the module's options
//! (`middleware`) or by providing it as a provider, or for one function with
//! `#[use_middleware(name)]` (matched against [`InngestMiddleware::name`]).
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
//! Hooks are synchronous: they run on the request's task between polls of the handler, so
//! they must not block. Global middleware runs first, then per-function middleware, each
//! list in declaration order.
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

use std::sync::Arc;

use serde_json::Value;

use crate::FunctionError;

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
}

/// What a step hook knows about the step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StepInfo {
    /// The id the step was given in code.
    pub id: String,
    /// The hashed id the executor knows it by.
    pub hashed_id: String,
    /// What kind of step it is: `"run"` or `"sendEvent"`.
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
}
