//! The execution hook that feeds the function metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use nestling_inngest::{FunctionError, FunctionInput, InngestMiddleware, Retry, RunInfo, StepInfo};
use serde_json::Value;

use crate::function::{ExecutionCall, RunOutcome};
use crate::service::MonitoringService;

/// Runs tracked for their step count at most; older entries are dropped first.
const TRACKED_RUNS: usize = 10_000;

/// Records every call, step and end of a function run into a [`MonitoringService`].
///
/// Register it with the Inngest module as a global middleware. The hooks do not say how many
/// memoised steps a call carries, so the count of steps this process saw complete stands in
/// for it (exact when one process serves the run).
///
/// A failed call is counted as a failed run only when its error is final by itself (a
/// non-retriable error): the hooks do not give the attempt limit, so a retriable error on
/// the last attempt leaves the run counted in flight.
#[derive(Debug, Clone)]
pub struct MonitoringMiddleware {
    service: Arc<MonitoringService>,
    steps_done: Arc<Mutex<HashMap<String, usize>>>,
}

impl MonitoringMiddleware {
    /// A hook feeding `service`.
    pub fn new(service: Arc<MonitoringService>) -> Self {
        Self {
            service,
            steps_done: Arc::default(),
        }
    }

    /// A call of `function_id` for `run_id` began (what `transform_input` records).
    pub fn call(&self, function_id: &str, run_id: &str, attempt: u32) {
        let stack_len = self.steps().get(run_id).copied().unwrap_or(0);
        self.service.record_call(ExecutionCall {
            function_id,
            run_id,
            attempt,
            stack_len,
        });
    }

    /// A step body ran (what `transform_step_output` records).
    pub fn step(&self, function_id: &str, run_id: &str, succeeded: bool) {
        self.service.record_step(function_id, run_id);
        if succeeded {
            let mut steps = self.steps();
            if steps.len() >= TRACKED_RUNS && !steps.contains_key(run_id) {
                steps.clear();
            }
            *steps.entry(run_id.to_owned()).or_insert(0) += 1;
        }
    }

    /// The handler returned (what `transform_output` records).
    pub fn output(&self, function_id: &str, run_id: &str, output: Result<(), &FunctionError>) {
        let outcome = match output {
            Ok(()) => RunOutcome::Completed,
            Err(error) if matches!(error.retry(), Retry::Never) => RunOutcome::Failed,
            Err(_) => return,
        };
        self.steps().remove(run_id);
        self.service.record_finish(function_id, run_id, outcome);
    }

    fn steps(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.steps_done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl InngestMiddleware for MonitoringMiddleware {
    fn name(&self) -> &str {
        "nestling-monitoring"
    }

    fn transform_input(&self, run: &RunInfo, _input: &mut FunctionInput) {
        self.call(&run.function_id, &run.run_id, run.attempt);
    }

    fn transform_step_output(
        &self,
        run: &RunInfo,
        _step: &StepInfo,
        output: &mut Result<Value, FunctionError>,
    ) {
        self.step(&run.function_id, &run.run_id, output.is_ok());
    }

    fn transform_output(&self, run: &RunInfo, output: &mut Result<Value, FunctionError>) {
        self.output(&run.function_id, &run.run_id, output.as_ref().map(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MonitoringSettings;

    #[test]
    fn a_three_step_run_seen_through_the_hooks_counts_once() {
        let service = MonitoringService::new(MonitoringSettings::default()).unwrap();
        let hooks = MonitoringMiddleware::new(Arc::clone(&service));

        // Call 1 runs step a; call 2 runs step b, which fails once and is retried; call 3
        // returns.
        hooks.call("app-f", "r1", 0);
        hooks.step("app-f", "r1", true);
        hooks.call("app-f", "r1", 0);
        hooks.step("app-f", "r1", false);
        hooks.call("app-f", "r1", 1);
        hooks.step("app-f", "r1", true);
        hooks.call("app-f", "r1", 0);
        hooks.output("app-f", "r1", Ok(()));

        let s = &service.functions().summaries()[0];
        assert_eq!((s.runs_started, s.completed, s.in_flight), (1, 1, 0));
        assert_eq!((s.steps_executed, s.retries), (3, 1));

        hooks.call("app-f", "r2", 0);
        hooks.output("app-f", "r2", Err(&FunctionError::new("try again")));
        assert_eq!(service.functions().summaries()[0].in_flight, 1);
        hooks.output(
            "app-f",
            "r2",
            Err(&FunctionError::non_retriable("bad input")),
        );
        let s = &service.functions().summaries()[0];
        assert_eq!((s.failed, s.in_flight), (1, 0));
    }
}
