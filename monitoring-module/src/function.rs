//! Per-function run metrics: runs started, finished by outcome, steps, retries, runs in flight
//! and a run-duration histogram.
//!
//! A durable run is re-entered once per step (the SDK replays it with the memoised step results),
//! so counting calls would count each run many times. Calls are classified instead: a call with
//! attempt 0 and an empty step stack starts a run; later calls are re-entries, and a call with an
//! attempt above 0 that was not seen before for that point of the run is a retry. A run is
//! counted as finished once, whatever the number of final calls the server sends.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use serde::Serialize;

use crate::Error;
use crate::registry::{CounterVec, GaugeVec, HistogramVec, MetricsRegistry, RUN_DURATION_BUCKETS};

/// How many finished run ids are remembered to ignore repeated final calls.
const FINISHED_RUNS_REMEMBERED: usize = 10_000;

/// What the SDK reports when it calls a function for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutionCall<'a> {
    /// The function's id as registered (`<app>-<fn>`).
    pub function_id: &'a str,
    /// The run id.
    pub run_id: &'a str,
    /// The attempt number of the step about to run, from 0.
    pub attempt: u32,
    /// How many memoised steps the call carries (0 on the run's first call).
    pub stack_len: usize,
}

/// How a call was classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// The first call of a run: counted in runs started and in flight.
    NewRun,
    /// A replay of a run already counted (or started before this process).
    Reentry,
    /// A new attempt after a failure.
    Retry,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The function returned a value.
    Completed,
    /// The function failed and no retries are left.
    Failed,
    /// The run was cancelled.
    Cancelled,
}

impl RunOutcome {
    /// The `result` label value (`success` and `failure` are the names the seed package used).
    pub fn label(self) -> &'static str {
        match self {
            Self::Completed => "success",
            Self::Failed => "failure",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The counters of one function, for the JSON summaries.
#[derive(Debug, Clone, PartialEq, Serialize, poem_openapi::Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename_all = "camelCase")]
pub struct FunctionSummary {
    /// The function id.
    pub id: String,
    /// Runs started in this process.
    pub runs_started: u64,
    /// Runs that completed.
    pub completed: u64,
    /// Runs that failed after their last retry.
    pub failed: u64,
    /// Runs that were cancelled.
    pub cancelled: u64,
    /// Finished runs (completed + failed + cancelled); the seed's `executions`.
    pub executions: u64,
    /// Runs started and not finished yet.
    pub in_flight: u64,
    /// Steps executed (memoised replays are not counted).
    pub steps_executed: u64,
    /// Retried attempts.
    pub retries: u64,
    /// Mean run duration in milliseconds over runs whose start was seen, if any.
    pub avg_duration_ms: Option<f64>,
    /// Failed runs as a percentage of finished runs.
    pub error_rate: f64,
    /// When the function was last called, as RFC 3339.
    pub last_executed: Option<String>,
}

#[derive(Debug)]
struct RunState {
    started: Option<Instant>,
    seen_attempts: HashSet<(usize, u32)>,
}

#[derive(Debug, Default)]
struct Book {
    runs: HashMap<String, RunState>,
    finished: HashSet<String>,
    finished_order: VecDeque<String>,
    functions: HashMap<String, SystemTime>,
}

/// Records function runs into a [`MetricsRegistry`] under the seed package's metric names.
///
/// # Examples
///
/// ```
/// use nestling_monitoring::{CallKind, ExecutionCall, FunctionMetrics, MetricsRegistry, RunOutcome};
///
/// let registry = MetricsRegistry::new();
/// let metrics = FunctionMetrics::new(&registry).unwrap();
///
/// let first = ExecutionCall { function_id: "app-f", run_id: "r1", attempt: 0, stack_len: 0 };
/// assert_eq!(metrics.call_started(first), CallKind::NewRun);
/// metrics.step_executed("app-f", "r1");
/// let replay = ExecutionCall { stack_len: 1, ..first };
/// assert_eq!(metrics.call_started(replay), CallKind::Reentry);
/// assert!(metrics.run_finished("app-f", "r1", RunOutcome::Completed));
///
/// let summary = &metrics.summaries()[0];
/// assert_eq!((summary.runs_started, summary.completed, summary.steps_executed), (1, 1, 1));
/// ```
#[derive(Debug)]
pub struct FunctionMetrics {
    executions: CounterVec,
    started: CounterVec,
    steps: CounterVec,
    retries: CounterVec,
    in_flight: GaugeVec,
    duration: HistogramVec,
    book: Mutex<Book>,
}

impl FunctionMetrics {
    /// Registers the function metric families in `registry`.
    ///
    /// # Errors
    /// [`Error::Conflict`] when one of the names is already used by another kind of metric.
    pub fn new(registry: &MetricsRegistry) -> Result<Self, Error> {
        let id = &["function_id"];
        Ok(Self {
            executions: registry.counter_vec(
                "inngest_function_executions_total",
                "Total number of finished function runs, by result",
                &["function_id", "result"],
            )?,
            started: registry.counter_vec(
                "inngest_function_runs_started_total",
                "Total number of function runs started",
                id,
            )?,
            steps: registry.counter_vec(
                "inngest_function_steps_executed_total",
                "Total number of steps executed (memoised replays excluded)",
                id,
            )?,
            retries: registry.counter_vec(
                "inngest_function_retries_total",
                "Total number of retried attempts",
                id,
            )?,
            in_flight: registry.gauge_vec(
                "inngest_function_runs_in_flight",
                "Function runs started and not finished yet",
                id,
            )?,
            duration: registry.histogram_vec(
                "inngest_function_execution_duration_seconds",
                "Duration of function runs from their first call to their end",
                id,
                RUN_DURATION_BUCKETS,
            )?,
            book: Mutex::new(Book::default()),
        })
    }

    /// Creates the function's series at zero, so dashboards see every registered function.
    pub fn register_function(&self, function_id: &str) {
        for outcome in [
            RunOutcome::Completed,
            RunOutcome::Failed,
            RunOutcome::Cancelled,
        ] {
            let _ = self.executions.with_labels(&[function_id, outcome.label()]);
        }
        let _ = self.started.with_labels(&[function_id]);
        let _ = self.steps.with_labels(&[function_id]);
        let _ = self.retries.with_labels(&[function_id]);
        let _ = self.in_flight.with_labels(&[function_id]);
        let _ = self.duration.with_labels(&[function_id]);

        self.book()
            .functions
            .entry(function_id.to_owned())
            .or_insert(SystemTime::UNIX_EPOCH);
    }

    /// Classifies a call of a function and counts it.
    pub fn call_started(&self, call: ExecutionCall<'_>) -> CallKind {
        let ExecutionCall {
            function_id,
            run_id,
            attempt,
            stack_len,
        } = call;
        self.register_function(function_id);

        let mut book = self.book();
        book.functions
            .insert(function_id.to_owned(), SystemTime::now());
        if book.finished.contains(run_id) {
            return CallKind::Reentry;
        }

        let is_first_call = attempt == 0 && stack_len == 0;
        let kind = match book.runs.get_mut(run_id) {
            None if is_first_call => {
                let mut seen_attempts = HashSet::new();
                seen_attempts.insert((0, 0));
                book.runs.insert(
                    run_id.to_owned(),
                    RunState {
                        started: Some(Instant::now()),
                        seen_attempts,
                    },
                );
                CallKind::NewRun
            }
            None => {
                // A run that began before this process did: its start cannot be counted again.
                let mut seen_attempts = HashSet::new();
                seen_attempts.insert((stack_len, attempt));
                book.runs.insert(
                    run_id.to_owned(),
                    RunState {
                        started: None,
                        seen_attempts,
                    },
                );
                if attempt > 0 {
                    CallKind::Retry
                } else {
                    CallKind::Reentry
                }
            }
            Some(state) => {
                let new_point = state.seen_attempts.insert((stack_len, attempt));
                if attempt > 0 && new_point {
                    CallKind::Retry
                } else {
                    CallKind::Reentry
                }
            }
        };
        drop(book);

        match kind {
            CallKind::NewRun => {
                self.started_counter(function_id).inc();
                self.in_flight_gauge(function_id).inc();
            }
            CallKind::Retry => self.retries_counter(function_id).inc(),
            CallKind::Reentry => {}
        }

        kind
    }

    /// Counts a step that really ran (not a memoised replay).
    pub fn step_executed(&self, function_id: &str, run_id: &str) {
        let _ = run_id;
        if let Ok(counter) = self.steps.with_labels(&[function_id]) {
            counter.inc();
        }
    }

    /// Counts the end of a run once; returns `false` when the run was already counted.
    pub fn run_finished(&self, function_id: &str, run_id: &str, outcome: RunOutcome) -> bool {
        let mut book = self.book();
        if book.finished.contains(run_id) {
            return false;
        }

        let state = book.runs.remove(run_id);
        book.finished.insert(run_id.to_owned());
        book.finished_order.push_back(run_id.to_owned());
        if book.finished_order.len() > FINISHED_RUNS_REMEMBERED
            && let Some(oldest) = book.finished_order.pop_front()
        {
            book.finished.remove(&oldest);
        }
        drop(book);

        if let Ok(counter) = self.executions.with_labels(&[function_id, outcome.label()]) {
            counter.inc();
        }
        if let Some(started) = state.and_then(|state| state.started) {
            self.in_flight_gauge(function_id).dec();
            if let Ok(histogram) = self.duration.with_labels(&[function_id]) {
                histogram.observe(started.elapsed().as_secs_f64());
            }
        }

        true
    }

    /// The counters of every function seen or registered, sorted by id.
    pub fn summaries(&self) -> Vec<FunctionSummary> {
        let mut functions: Vec<(String, SystemTime)> = self
            .book()
            .functions
            .iter()
            .map(|(id, at)| (id.clone(), *at))
            .collect();
        functions.sort();

        functions
            .into_iter()
            .map(|(id, last)| {
                let outcome = |o: RunOutcome| {
                    self.executions
                        .with_labels(&[&id, o.label()])
                        .map_or(0, |c| c.get() as u64)
                };
                let (completed, failed, cancelled) = (
                    outcome(RunOutcome::Completed),
                    outcome(RunOutcome::Failed),
                    outcome(RunOutcome::Cancelled),
                );
                let executions = completed + failed + cancelled;
                let histogram = self.duration.with_labels(&[&id]).ok();
                let avg_duration_ms = histogram
                    .filter(|h| h.count() > 0)
                    .map(|h| h.sum() / h.count() as f64 * 1000.0);

                FunctionSummary {
                    runs_started: self.started_counter(&id).get() as u64,
                    in_flight: self.in_flight_gauge(&id).get().max(0.0) as u64,
                    steps_executed: self.steps.with_labels(&[&id]).map_or(0, |c| c.get() as u64),
                    retries: self.retries_counter(&id).get() as u64,
                    error_rate: if executions == 0 {
                        0.0
                    } else {
                        failed as f64 / executions as f64 * 100.0
                    },
                    last_executed: (last != SystemTime::UNIX_EPOCH).then(|| rfc3339(last)),
                    id,
                    completed,
                    failed,
                    cancelled,
                    executions,
                    avg_duration_ms,
                }
            })
            .collect()
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    // The families below take one label and are given one value, so `with_labels` cannot fail.
    fn started_counter(&self, id: &str) -> crate::Counter {
        self.started
            .with_labels(&[id])
            .unwrap_or_else(|_| unreachable!("one label, one value"))
    }

    fn retries_counter(&self, id: &str) -> crate::Counter {
        self.retries
            .with_labels(&[id])
            .unwrap_or_else(|_| unreachable!("one label, one value"))
    }

    fn in_flight_gauge(&self, id: &str) -> crate::Gauge {
        self.in_flight
            .with_labels(&[id])
            .unwrap_or_else(|_| unreachable!("one label, one value"))
    }
}

/// Formats a time as RFC 3339 in UTC with second precision.
pub(crate) fn rfc3339(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn call<'a>(run_id: &'a str, attempt: u32, stack_len: usize) -> ExecutionCall<'a> {
        ExecutionCall {
            function_id: "app-f",
            run_id,
            attempt,
            stack_len,
        }
    }

    #[test]
    fn a_replayed_run_is_counted_once() {
        let registry = MetricsRegistry::new();
        let metrics = FunctionMetrics::new(&registry).unwrap();

        // Three steps: the first call plus three re-entries, the last of which completes.
        assert_eq!(metrics.call_started(call("r1", 0, 0)), CallKind::NewRun);
        metrics.step_executed("app-f", "r1");
        for stack in 1..=3 {
            assert_eq!(
                metrics.call_started(call("r1", 0, stack)),
                CallKind::Reentry
            );
            if stack < 3 {
                metrics.step_executed("app-f", "r1");
            }
        }
        assert!(metrics.run_finished("app-f", "r1", RunOutcome::Completed));
        // The server may repeat the final call (for example after a timeout).
        assert_eq!(metrics.call_started(call("r1", 0, 3)), CallKind::Reentry);
        assert!(!metrics.run_finished("app-f", "r1", RunOutcome::Completed));

        let s = &metrics.summaries()[0];
        assert_eq!(
            (s.runs_started, s.executions, s.completed, s.in_flight),
            (1, 1, 1, 0)
        );
        assert_eq!(s.steps_executed, 3);
        assert!(s.avg_duration_ms.is_some());
    }

    #[test]
    fn retries_are_counted_per_new_attempt_and_failures_once() {
        let registry = MetricsRegistry::new();
        let metrics = FunctionMetrics::new(&registry).unwrap();

        metrics.call_started(call("r2", 0, 0));
        assert_eq!(metrics.call_started(call("r2", 1, 0)), CallKind::Retry);
        // The same attempt delivered twice is not a second retry.
        assert_eq!(metrics.call_started(call("r2", 1, 0)), CallKind::Reentry);
        assert_eq!(metrics.call_started(call("r2", 2, 0)), CallKind::Retry);
        metrics.run_finished("app-f", "r2", RunOutcome::Failed);

        metrics.call_started(call("r3", 0, 0));
        metrics.run_finished("app-f", "r3", RunOutcome::Cancelled);

        let s = &metrics.summaries()[0];
        assert_eq!(
            (s.retries, s.failed, s.cancelled, s.runs_started),
            (2, 1, 1, 2)
        );
        assert_eq!(s.error_rate, 50.0);
    }

    #[test]
    fn a_run_started_before_this_process_is_not_counted_as_started() {
        let registry = MetricsRegistry::new();
        let metrics = FunctionMetrics::new(&registry).unwrap();

        assert_eq!(metrics.call_started(call("old", 0, 2)), CallKind::Reentry);
        metrics.run_finished("app-f", "old", RunOutcome::Completed);

        let s = &metrics.summaries()[0];
        assert_eq!((s.runs_started, s.completed, s.in_flight), (0, 1, 0));
        assert_eq!(s.avg_duration_ms, None);
    }

    #[test]
    fn registered_functions_show_zeros_in_the_exposition() {
        let registry = MetricsRegistry::new();
        let metrics = FunctionMetrics::new(&registry).unwrap();
        metrics.register_function("app-idle");

        let text = registry.encode_prometheus();
        assert!(text.contains(
            "inngest_function_executions_total{function_id=\"app-idle\",result=\"success\"} 0"
        ));
        assert!(text.contains(
            "inngest_function_execution_duration_seconds_count{function_id=\"app-idle\"} 0"
        ));
        assert_eq!(metrics.summaries()[0].last_executed, None);
    }

    #[test]
    fn times_are_formatted_as_rfc3339() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_705_314_600);
        assert_eq!(rfc3339(at), "2024-01-15T10:30:00Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }
}
