//! The context a handler receives.

use std::sync::Arc;

use serde_json::Value;

use crate::Event;
use crate::execution::state::Execution;
use crate::execution::step::Step;

/// Everything a handler gets: the typed event, the batch, the run's identity, a logger and
/// the step tools.
///
/// `E` is the type of the event's `data`; an event that does not deserialise into it fails
/// the run at once (no retries), with a message naming the field.
///
/// # Examples
///
/// ```no_run
/// use nestling_inngest::{Ctx, FunctionError};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct UserCreated {
///     email: String,
/// }
///
/// async fn greet(ctx: Ctx<UserCreated>) -> Result<String, FunctionError> {
///     ctx.logger.info(format!("run {} attempt {}", ctx.run_id, ctx.attempt));
///     Ok(format!("hello {}", ctx.event.data.email))
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Ctx<E = Value> {
    /// The event that triggered the run (the first one of a batch).
    pub event: Event<E>,
    /// Every triggering event: one, or the whole batch for `batch_events` functions.
    pub events: Vec<Event<E>>,
    /// The run's id.
    pub run_id: String,
    /// 0-based attempt of this request.
    pub attempt: u32,
    /// How many attempts the executor makes in all (retries + 1).
    pub max_attempts: u32,
    /// Composite id of the function, `<app>-<function>`.
    pub function_id: String,
    /// The step tools.
    pub step: Step,
    /// A logger that stays quiet while memoised steps are replayed, so each line is logged
    /// once per run rather than once per request.
    pub logger: RunLogger,
}

impl<E> Ctx<E> {
    pub(crate) fn new(exec: &Arc<Execution>, event: Event<E>, events: Vec<Event<E>>) -> Self {
        Self {
            event,
            events,
            run_id: exec.run_id.clone(),
            attempt: exec.attempt,
            max_attempts: exec.max_attempts,
            function_id: exec.function_id.clone(),
            step: Step::new(Arc::clone(exec)),
            logger: RunLogger {
                exec: Arc::clone(exec),
            },
        }
    }
}

/// Logs through `tracing` with the run's fields, skipping lines while replaying.
///
/// Each request re-runs the handler from the top; lines written before the first
/// non-memoised step would otherwise repeat on every request. This logger only writes once
/// the handler has passed every memoised step.
#[derive(Clone)]
pub struct RunLogger {
    exec: Arc<Execution>,
}

impl std::fmt::Debug for RunLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLogger")
            .field("run_id", &self.exec.run_id)
            .finish()
    }
}

macro_rules! log_method {
    ($name:ident, $level:ident) => {
        #[doc = concat!("Logs at `", stringify!($level), "` level, unless replaying.")]
        pub fn $name(&self, message: impl AsRef<str>) {
            if self.enabled() {
                tracing::$name!(
                    target: "nestling_inngest::run",
                    function_id = %self.exec.function_id,
                    run_id = %self.exec.run_id,
                    attempt = self.exec.attempt,
                    "{}",
                    message.as_ref()
                );
            }
        }
    };
}

impl RunLogger {
    /// Whether lines are written now (the handler is past every memoised step).
    pub fn enabled(&self) -> bool {
        !self.exec.is_replaying()
    }

    log_method!(debug, DEBUG);
    log_method!(info, INFO);
    log_method!(warn, WARN);
    log_method!(error, ERROR);
}
