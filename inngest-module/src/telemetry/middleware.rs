//! The middleware through which the execution driver traces runs and steps.

use std::sync::Arc;

use serde_json::Value;

use super::spans::{RunSpanFields, record_run_result, record_step_result, run_span, step_span};
use crate::{FunctionError, FunctionInput, InngestMiddleware, RunInfo, StepInfo, TracingConfig};

/// Traces every call of a run and every step with the spans of [`run_span`] and
/// [`step_span`], honouring the `tracing` options: the run's parent comes from the trace
/// context its events carry (`data.<context_field_name>`), event data is recorded only with
/// `include_event_data`, step output only with `include_step_data`, and the default
/// attributes go on every span.
///
/// The Inngest module puts it first among the middleware when tracing is on, so the other
/// hooks, the handler and the steps run inside its spans and events sent from a step carry
/// the step's context. Use it yourself only when you build a
/// [`ServeEndpoint`](crate::ServeEndpoint) by hand.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::{InngestMiddleware, InngestModuleOptions, TracingMiddleware, TracingOptions};
///
/// let options = InngestModuleOptions::new("shop")
///     .tracing(TracingOptions::default().enabled(true))
///     .resolve(&BTreeMap::from([("INNGEST_DEV", "1")]))?;
/// let tracing = TracingMiddleware::from_config(&options.tracing).expect("tracing is on");
/// assert_eq!(tracing.name(), "nestling-tracing");
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TracingMiddleware {
    config: Arc<TracingConfig>,
}

impl TracingMiddleware {
    /// The name it is listed under.
    pub const NAME: &'static str = "nestling-tracing";

    /// Traces with `config`, whether or not it says tracing is on.
    pub fn new(config: TracingConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The middleware the `tracing` options ask for, or `None` when tracing is off.
    pub fn from_config(config: &TracingConfig) -> Option<Self> {
        config.enabled.then(|| Self::new(config.clone()))
    }
}

impl InngestMiddleware for TracingMiddleware {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run_span(&self, run: &RunInfo, input: &FunctionInput) -> Option<tracing::Span> {
        let fields = RunSpanFields {
            app_id: &run.app_id,
            function_id: &run.function_id,
            run_id: &run.run_id,
            attempt: run.attempt,
            events: &input.events,
        };
        Some(run_span(fields, &self.config))
    }

    fn step_span(&self, run: &RunInfo, step: &StepInfo) -> Option<tracing::Span> {
        Some(step_span(
            &tracing::Span::current(),
            &run.run_id,
            &step.id,
            &step.hashed_id,
            step.kind,
            &self.config,
        ))
    }

    fn transform_step_output(
        &self,
        _run: &RunInfo,
        _step: &StepInfo,
        output: &mut Result<Value, FunctionError>,
    ) {
        // The driver runs this hook inside the step's span.
        let result = output.as_ref().map_err(FunctionError::message);
        record_step_result(&tracing::Span::current(), result, &self.config);
    }

    fn transform_output(&self, _run: &RunInfo, output: &mut Result<Value, FunctionError>) {
        // Only a call that returned has a result; one that stopped at steps leaves the status
        // unset, as an OK status could not be turned into an error later.
        let result = output.as_ref().map(|_| ()).map_err(FunctionError::message);
        record_run_result(&tracing::Span::current(), result);
    }
}
