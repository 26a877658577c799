//! What a run in the function runner produced.

use std::time::Duration;

use nestling_inngest_protocol::{OpCode, SerializedError};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// The function returned a value.
    Completed,
    /// The function failed after its retries (or at once, for a non-retriable error).
    Failed,
}

/// One step of a run, as the executor saw it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StepRecord {
    /// The id the code gave the step (`userland.id`), e.g. `"charge-card"`.
    pub id: String,
    /// The hashed id sent on the wire.
    pub hashed_id: String,
    /// The op that settled the step: `StepRun`, `StepFailed`, `Sleep`, `WaitForEvent`,
    /// `InvokeFunction`, or `StepPlanned` for a mocked step.
    pub op: OpCode,
    /// The op's `name` (a sleep's duration); for a wait, the awaited event's name.
    pub name: Option<String>,
    /// The op's `opts` (timeouts, `if`, the invoked function and payload, …).
    pub opts: Option<Value>,
    /// The value memoised for the step's success (`data`), if it succeeded.
    pub output: Option<Value>,
    /// The error memoised for the step's failure, if it failed for good.
    pub error: Option<SerializedError>,
    /// How many times its body ran (retries included); 0 for mocked and non-run steps.
    pub attempts: u32,
    /// Whether a step mock, wait answer or invoke stub gave its result.
    pub mocked: bool,
    /// The run of the invoked function, for an invoke that ran a sibling function.
    pub invoked: Option<Box<RunOutcome>>,
}

/// A sleep the run asked for; the runner completes it at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepRecord {
    /// The step id.
    pub step: String,
    /// The duration or instant as the SDK sent it (`"30s"`, `"2030-01-01T00:00:00Z"`).
    pub raw: String,
    /// The duration, when `raw` is a duration.
    pub duration: Option<Duration>,
}

/// A retry the runner made, where the real executor would have waited `delay`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryRecord {
    /// The step that errored, or `None` when the function itself failed.
    pub step: Option<String>,
    /// The attempt that failed (0-based).
    pub attempt: u32,
    /// The error.
    pub message: String,
    /// The delay the server would wait: the `Retry-After` the SDK asked for, else Inngest's
    /// backoff table (without jitter).
    pub delay: Duration,
}

/// The result of [`TestRun::execute`](crate::TestRun::execute).
///
/// # Examples
///
/// ```
/// use nestling_testing::{RunOutcome, RunStatus};
///
/// let outcome = RunOutcome::completed_with(serde_json::json!({"total": 3}));
/// assert_eq!(outcome.status, RunStatus::Completed);
/// assert_eq!(outcome.output_as::<serde_json::Value>().unwrap()["total"], 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The composite id of the function that ran.
    pub function_id: String,
    /// The synthetic run id.
    pub run_id: String,
    /// How it ended.
    pub status: RunStatus,
    /// The return value, when completed.
    pub output: Option<Value>,
    /// The final error, when failed.
    pub error: Option<SerializedError>,
    /// The steps in the order they settled.
    pub steps: Vec<StepRecord>,
    /// Every sleep, in order (each completed at once).
    pub sleeps: Vec<SleepRecord>,
    /// Every retry, of steps and of the function.
    pub retries: Vec<RetryRecord>,
    /// How many call requests the run took.
    pub requests: usize,
    /// The run of the failure handler (`#[on_failure]`), when the function failed and has one.
    pub on_failure: Option<Box<RunOutcome>>,
}

impl RunOutcome {
    /// A completed outcome with no steps, for building expectations in tests.
    pub fn completed_with(output: Value) -> Self {
        Self {
            function_id: String::new(),
            run_id: String::new(),
            status: RunStatus::Completed,
            output: Some(output),
            error: None,
            steps: Vec::new(),
            sleeps: Vec::new(),
            retries: Vec::new(),
            requests: 0,
            on_failure: None,
        }
    }

    /// Whether the function returned a value.
    pub fn is_completed(&self) -> bool {
        self.status == RunStatus::Completed
    }

    /// The return value, deserialised.
    ///
    /// # Errors
    ///
    /// When the run did not complete, or the value does not deserialise into `T`.
    pub fn output_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let Some(output) = &self.output else {
            return Err(serde::de::Error::custom(format!(
                "the run did not complete: {}",
                self.error
                    .as_ref()
                    .map_or_else(|| "no error recorded".to_owned(), ToString::to_string)
            )));
        };
        serde_json::from_value(output.clone())
    }

    /// The step with this id (the first use of it).
    pub fn step(&self, id: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The step ids in the order they settled.
    pub fn step_ids(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.id.as_str()).collect()
    }

    /// Each step as `(id, op)`, in the order they settled.
    pub fn step_ops(&self) -> Vec<(&str, OpCode)> {
        self.steps.iter().map(|s| (s.id.as_str(), s.op)).collect()
    }
}
