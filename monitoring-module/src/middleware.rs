//! The execution hook that feeds the function metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use nestling_inngest::{
    CancelledRun, FunctionError, FunctionInput, InngestMiddleware, RunInfo, StepInfo,
};
use serde_json::Value;

use crate::function::{ExecutionCall, RunOutcome};
use crate::service::MonitoringService;

/// Runs tracked for their step count at most; older entries are dropped first.
const TRACKED_RUNS: usize = 10_000;

/// Records every call, step and end of a function run into a [`MonitoringService`].
///
/// The monitoring module provides it as Inngest middleware, so the Inngest module runs it
/// for every function. The hooks do not say how many memoised steps a call carries, so the
/// count of steps this process saw complete stands in for it (exact when one process serves
/// the run).
///
/// A failed call is counted as a failed run when its error ends the run
/// ([`RunInfo::is_final`]: not retriable, or on the run's last attempt); an earlier failure
/// leaves the run in flight, and the next attempt counts as a retry. A cancelled run is
/// counted when the SDK hears of it ([`InngestMiddleware::on_run_cancelled`]): on the
/// embedded engine; with an outside Inngest server the SDK is never told, and such a run
/// stays counted in flight.
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

    /// The handler returned (what `transform_output` records): `Ok` completed the run,
    /// `Err(true)` failed it for good, `Err(false)` failed an attempt that will be retried.
    pub fn output(&self, function_id: &str, run_id: &str, output: Result<(), bool>) {
        let outcome = match output {
            Ok(()) => RunOutcome::Completed,
            Err(true) => RunOutcome::Failed,
            Err(false) => return,
        };
        self.finish(function_id, run_id, outcome);
    }

    /// The run was cancelled (what `on_run_cancelled` records).
    pub fn cancelled(&self, function_id: &str, run_id: &str) {
        self.finish(function_id, run_id, RunOutcome::Cancelled);
    }

    fn finish(&self, function_id: &str, run_id: &str, outcome: RunOutcome) {
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
        let output = match output {
            Ok(_) => Ok(()),
            Err(error) => Err(run.is_final(error)),
        };
        self.output(&run.function_id, &run.run_id, output);
    }

    fn on_run_cancelled(&self, run: &CancelledRun) {
        self.cancelled(&run.function_id, &run.run_id);
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
        hooks.output("app-f", "r2", Err(false));
        assert_eq!(service.functions().summaries()[0].in_flight, 1);
        hooks.call("app-f", "r2", 1);
        hooks.output("app-f", "r2", Err(true));
        let s = &service.functions().summaries()[0];
        assert_eq!((s.failed, s.in_flight, s.retries), (1, 0, 2));

        hooks.call("app-f", "r3", 0);
        hooks.cancelled("app-f", "r3");
        let s = &service.functions().summaries()[0];
        assert_eq!((s.cancelled, s.in_flight), (1, 0));
    }
}
