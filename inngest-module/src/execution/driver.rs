//! Runs a handler for one call request and decides what to answer.
//!
//! The handler future is polled until it returns or settles. It settles when it is pending,
//! no step body is running, and at least one new step has been found: every step future
//! that reached an unmemoised step is parked. Then, as the official SDKs do:
//!
//! - if the request targets a step (`stepId`), that step ran (or the answer says it was not
//!   found);
//! - if exactly one new step was found, it is a `run`-like step, and immediate execution is
//!   not disabled, it is run now and reported as `StepRun` (or `StepError`/`StepFailed`);
//! - otherwise every new step is reported, in the order the handler reached them.

use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use futures::FutureExt;
use nestling_inngest_protocol::{Op, OpCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::execution::context::Ctx;
use crate::execution::invocation::Invocation;
use crate::execution::outcome::ExecutionOutcome;
use crate::execution::state::{Execution, Settled, step_kind};
use crate::execution::step::panic_message;
use crate::{Event, FunctionError, FunctionInput, StepInfo};

/// What a handler may return: `Result<T, E>` where `T` serialises to JSON and `E` converts
/// into a [`FunctionError`] (any `std::error::Error` does).
///
/// # Examples
///
/// ```
/// use nestling_inngest::{FunctionError, IntoFunctionResult};
///
/// let ok: Result<u32, FunctionError> = Ok(7);
/// assert_eq!(ok.into_function_result().unwrap(), serde_json::json!(7));
///
/// let failed: Result<(), std::io::Error> = Err(std::io::Error::other("disk full"));
/// assert_eq!(failed.into_function_result().unwrap_err().message(), "disk full");
/// ```
pub trait IntoFunctionResult {
    /// The handler's value as JSON, or its error.
    ///
    /// # Errors
    ///
    /// The handler's error, or a non-retriable error if the value does not serialise.
    fn into_function_result(self) -> Result<Value, FunctionError>;
}

impl<T, E> IntoFunctionResult for Result<T, E>
where
    T: Serialize,
    E: Into<FunctionError>,
{
    fn into_function_result(self) -> Result<Value, FunctionError> {
        let value = self.map_err(Into::into)?;
        serde_json::to_value(value).map_err(|err| {
            FunctionError::non_retriable(format!(
                "the function's result does not serialise to JSON: {err}"
            ))
        })
    }
}

/// Builds the handler's context from an invocation and runs the handler to an outcome.
pub(crate) async fn run_handler<E, F, Fut, R>(
    invocation: Invocation,
    handler: F,
) -> ExecutionOutcome
where
    E: DeserializeOwned + Send + 'static,
    F: FnOnce(Ctx<E>) -> Fut + Send,
    Fut: Future<Output = R> + Send,
    R: IntoFunctionResult,
{
    let Invocation {
        exec,
        event,
        events,
    } = invocation;
    let services = Arc::clone(&exec.services);

    let mut input = FunctionInput {
        events: if events.is_empty() {
            vec![event]
        } else {
            events
        },
    };
    services
        .middleware
        .transform_input(&services.run, &mut input);
    let span = services
        .middleware
        .run_span(&services.run, &input)
        .unwrap_or_else(tracing::Span::none);

    async move {
        let ctx = match typed_events::<E>(input.events) {
            Ok((event, events)) => Ctx::new(&exec, event, events),
            Err(message) => {
                let error = FunctionError::non_retriable(message);
                let mut output = Err(error);
                services
                    .middleware
                    .transform_output(&services.run, &mut output);
                return match output {
                    Err(error) => ExecutionOutcome::Failed {
                        error: error.to_serialized(),
                        no_retry: true,
                        retry_after: None,
                    },
                    Ok(_) => returned(&exec, output),
                };
            }
        };

        drive(
            &exec,
            async move { handler(ctx).await.into_function_result() },
        )
        .await
    }
    .instrument(span)
    .await
}

/// Deserialises the events into the handler's type; the error names the event and field.
///
/// `Event<E>` need not be `Clone`, so the first event is deserialised a second time for
/// `ctx.event` (from the same borrowed value: nothing is copied first).
fn typed_events<E: DeserializeOwned>(raw: Vec<Value>) -> Result<(Event<E>, Vec<Event<E>>), String> {
    let many = raw.len() > 1;
    let decode = |index: usize, value: &Value| {
        Event::<E>::from_json_ref(value).map_err(|reason| {
            let name = value
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let which = if many {
                format!("event #{index} ({name:?})")
            } else {
                format!("event {name:?}")
            };
            format!(
                "{which} does not match the handler's event type `{}`: {reason}",
                std::any::type_name::<E>()
            )
        })
    };

    let Some(first) = raw.first() else {
        return Err("the call request carries no event".to_owned());
    };
    let first = decode(0, first)?;
    let events = raw
        .iter()
        .enumerate()
        .map(|(index, value)| decode(index, value))
        .collect::<Result<Vec<_>, _>>()?;

    Ok((first, events))
}

/// Polls the handler until it returns or settles, and turns that into an outcome.
pub(crate) async fn drive<Fut>(exec: &Arc<Execution>, handler: Fut) -> ExecutionOutcome
where
    Fut: Future<Output = Result<Value, FunctionError>> + Send,
{
    exec.announce_if_fresh();

    let mut handler = pin!(AssertUnwindSafe(handler).catch_unwind());
    let finished = poll_fn(|cx| match handler.as_mut().poll(cx) {
        Poll::Ready(result) => Poll::Ready(Finish::Returned(result)),
        Poll::Pending => match exec.settle() {
            Settled::Busy => Poll::Pending,
            settled => Poll::Ready(Finish::Settled(settled)),
        },
    })
    .await;

    let services = &exec.services;
    services.middleware.after_execution(&services.run);

    match finished {
        Finish::Returned(result) => {
            let mut output = result.unwrap_or_else(|panic| {
                Err(FunctionError::new(format!(
                    "the handler panicked: {}",
                    panic_message(panic.as_ref())
                )))
            });
            services
                .middleware
                .transform_output(&services.run, &mut output);
            returned(exec, output)
        }
        Finish::Settled(Settled::Executed(step)) => (*step).into(),
        Finish::Settled(Settled::Report(ops)) => {
            report_spans(exec, &ops);
            ExecutionOutcome::Steps {
                ops,
                no_retry: None,
                retry_after: None,
            }
        }
        Finish::Settled(Settled::TargetMissing { target, found }) => {
            let listed: Vec<String> = found
                .iter()
                .map(|op| {
                    format!(
                        "{} ({})",
                        op.display_name.as_deref().unwrap_or(&op.id),
                        op.id
                    )
                })
                .collect();
            let found_steps: Vec<Value> = found
                .iter()
                .map(|op| json!({"id": op.id, "name": op.name, "displayName": op.display_name}))
                .collect();
            ExecutionOutcome::StepNotFound {
                body: json!({
                    "error": format!(
                        "Could not find step \"{target}\" to run. Found new steps: \n{}.",
                        listed.join(", ")
                    ),
                    "requestedStep": target,
                    "foundSteps": found_steps,
                    "totalFoundSteps": found.len(),
                }),
            }
        }
        Finish::Settled(Settled::Busy) => ExecutionOutcome::Internal {
            message: "the execution stopped without an answer".to_owned(),
        },
    }
}

/// Opens and closes at once the span of each step reported without running here (sleeps,
/// waits, invokes, the steps of a parallel group), so a trace shows where the run stopped.
fn report_spans(exec: &Execution, ops: &[Op]) {
    let services = &exec.services;
    for op in ops {
        let info = StepInfo {
            id: op
                .userland
                .as_ref()
                .map_or_else(|| op.id.clone(), |userland| userland.id.clone()),
            hashed_id: op.id.clone(),
            kind: match op.op {
                OpCode::StepPlanned => "planned",
                _ => step_kind(op),
            },
        };
        drop(services.middleware.step_span(&services.run, &info));
    }
}

enum Finish {
    Returned(std::thread::Result<Result<Value, FunctionError>>),
    Settled(Settled),
}

fn returned(exec: &Execution, output: Result<Value, FunctionError>) -> ExecutionOutcome {
    match output {
        Ok(value) => match serde_json::value::to_raw_value(&value) {
            Ok(raw) => ExecutionOutcome::Complete(raw),
            Err(err) => ExecutionOutcome::Internal {
                message: format!("the function's result does not serialise: {err}"),
            },
        },
        Err(error) => {
            let no_retry = error.is_final(exec.attempt, exec.max_attempts);
            ExecutionOutcome::Failed {
                error: error.to_serialized(),
                no_retry,
                retry_after: if no_retry {
                    None
                } else {
                    error.retry_after_header()
                },
            }
        }
    }
}
