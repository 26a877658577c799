//! The step tools: memoised, retried units of work inside a handler.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use futures::FutureExt;
use nestling_inngest_protocol::{MemoizedStep, Op, OpCode, format_duration, parse_duration};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::execution::outcome::ExecutedStep;
use crate::execution::state::{Claim, Execution};
use crate::{Event, FunctionError, IntoEvents, StepError, StepInfo};

/// The step tools of one run, reached as `ctx.step`.
///
/// Each tool takes a step id, unique within the function (reusing one is allowed: the
/// second use is told apart as `id:1`, the third as `id:2`, as the official SDKs do). Every
/// request from the executor runs the handler from the top; a step that already completed
/// returns its memoised result at once, and the first step that did not stops the request:
/// it is run (for [`run`](Self::run) and [`send_event`](Self::send_event)) or reported to the
/// executor (sleeps, waits, invokes), and the executor calls again later.
///
/// Steps awaited together, with `futures::join!`, `futures::future::join_all` or the like,
/// are reported together, and the executor runs them in parallel.
///
/// # Examples
///
/// ```no_run
/// use nestling_inngest::{Ctx, Event, FunctionError, WaitForEvent};
/// use serde_json::Value;
///
/// async fn onboard(ctx: Ctx<Value>) -> Result<String, FunctionError> {
///     let user_id: String = ctx
///         .step
///         .run("create-user", || async { Ok::<_, FunctionError>("u-1".to_owned()) })
///         .await?;
///
///     ctx.step.sleep("cool-down", "1h30m").await?;
///
///     let verified = ctx
///         .step
///         .wait_for_event::<Value>(
///             "wait-verified",
///             WaitForEvent::new("user.verified", "7d").matching("data.user_id"),
///         )
///         .await?;
///
///     let (a, b) = futures::join!(
///         ctx.step.run("left", || async { Ok::<_, FunctionError>(1) }),
///         ctx.step.run("right", || async { Ok::<_, FunctionError>(2) }),
///     );
///     let total: i32 = a? + b?;
///
///     ctx.step
///         .send_event("announce", Event::new("user.onboarded", serde_json::json!({ "id": user_id })))
///         .await?;
///
///     Ok(format!("verified: {}, total: {total}", verified.is_some()))
/// }
/// ```
#[derive(Clone)]
pub struct Step {
    exec: Arc<Execution>,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step")
            .field("run_id", &self.exec.run_id)
            .finish()
    }
}

/// A step's id, and optionally the name shown for it in the executor's UI.
///
/// A plain `&str` or `String` is a step id whose display name is the id itself.
///
/// # Examples
///
/// ```
/// use nestling_inngest::StepOptions;
///
/// let opts = StepOptions::new("send-email").name("Send the welcome email");
/// assert_eq!(opts.id(), "send-email");
/// ```
#[derive(Debug, Clone)]
pub struct StepOptions {
    id: String,
    name: Option<String>,
}

impl StepOptions {
    /// A step with this id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
        }
    }

    /// Sets the name shown in the executor's UI.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The step id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn display(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.clone())
    }
}

impl From<&str> for StepOptions {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for StepOptions {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

impl From<&String> for StepOptions {
    fn from(id: &String) -> Self {
        Self::new(id.clone())
    }
}

/// A length of time: an Inngest time string (`"30s"`, `"1h30m"`, `"7d"`) or a `Duration`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest::TimeSpan;
///
/// assert_eq!(TimeSpan::from("90m").to_time_string().unwrap(), "1h30m");
/// assert_eq!(TimeSpan::from(Duration::from_secs(5415)).to_time_string().unwrap(), "1h30m15s");
/// assert!(TimeSpan::from("soon").to_time_string().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSpan {
    /// A time string, checked when the step runs.
    Text(String),
    /// A duration.
    Duration(Duration),
}

impl TimeSpan {
    /// The normalised time string the executor receives.
    ///
    /// # Errors
    ///
    /// The parse error, naming the character at fault, when the text is not a time string.
    pub fn to_time_string(&self) -> Result<String, nestling_inngest_protocol::ProtocolError> {
        let duration = match self {
            Self::Text(text) => parse_duration(text)?,
            Self::Duration(duration) => *duration,
        };
        Ok(format_duration(duration))
    }
}

impl From<&str> for TimeSpan {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for TimeSpan {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Duration> for TimeSpan {
    fn from(duration: Duration) -> Self {
        Self::Duration(duration)
    }
}

/// An instant to sleep until: a `chrono` UTC time, a `SystemTime` or an RFC 3339 string.
///
/// # Examples
///
/// ```
/// use nestling_inngest::Instant;
///
/// let at = Instant::from("2031-06-01T00:00:00Z");
/// assert_eq!(at.to_iso_string().unwrap(), "2031-06-01T00:00:00.000Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instant {
    /// An RFC 3339 string, checked when the step runs.
    Text(String),
    /// A UTC time.
    At(DateTime<Utc>),
}

impl Instant {
    /// The ISO-8601 string (milliseconds, `Z`) the executor receives, as the JS SDK sends it.
    ///
    /// # Errors
    ///
    /// The parse error when the text is not an RFC 3339 time.
    pub fn to_iso_string(&self) -> Result<String, chrono::ParseError> {
        let at = match self {
            Self::Text(text) => DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc),
            Self::At(at) => *at,
        };
        Ok(at.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl From<&str> for Instant {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Instant {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<DateTime<Utc>> for Instant {
    fn from(at: DateTime<Utc>) -> Self {
        Self::At(at)
    }
}

impl From<SystemTime> for Instant {
    fn from(at: SystemTime) -> Self {
        Self::At(at.into())
    }
}

/// What [`Step::wait_for_event`] waits for.
///
/// # Examples
///
/// ```
/// use nestling_inngest::WaitForEvent;
///
/// let wait = WaitForEvent::new("invoice.paid", "7d").matching("data.invoice_id");
/// let other = WaitForEvent::new("approval", "1d").expression("async.data.ok == true");
/// # let _ = (wait, other);
/// ```
#[derive(Debug, Clone)]
pub struct WaitForEvent {
    event: String,
    timeout: TimeSpan,
    condition: Option<String>,
}

impl WaitForEvent {
    /// Waits at most `timeout` for an event named `event`.
    pub fn new(event: impl Into<String>, timeout: impl Into<TimeSpan>) -> Self {
        Self {
            event: event.into(),
            timeout: timeout.into(),
            condition: None,
        }
    }

    /// Only accepts events for which this expression is true; `event` is the triggering
    /// event and `async` the candidate, e.g. `"async.data.id == event.data.id"`.
    pub fn expression(mut self, expression: impl Into<String>) -> Self {
        self.condition = Some(expression.into());
        self
    }

    /// Only accepts events whose `field` equals the triggering event's, e.g. `"data.user_id"`.
    pub fn matching(self, field: impl AsRef<str>) -> Self {
        let field = field.as_ref();
        self.expression(format!("event.{field} == async.{field}"))
    }
}

/// What [`Step::invoke`] calls.
///
/// # Examples
///
/// ```
/// use nestling_inngest::Invoke;
///
/// let call = Invoke::function("resize-image")
///     .data(serde_json::json!({"url": "https://example.com/a.png"}))
///     .timeout("10m");
/// # let _ = call;
/// ```
#[derive(Debug, Clone)]
pub struct Invoke {
    function: InvokeTarget,
    data: Result<Value, String>,
    timeout: Option<TimeSpan>,
}

#[derive(Debug, Clone)]
enum InvokeTarget {
    Local(String),
    Composite(String),
}

impl Invoke {
    /// Invokes a function of this app by its id (the `id` of its attribute).
    pub fn function(id: impl Into<String>) -> Self {
        Self::to(InvokeTarget::Local(id.into()))
    }

    /// Invokes any function by its composite id, `<app id>-<function id>`.
    pub fn function_id(composite_id: impl Into<String>) -> Self {
        Self::to(InvokeTarget::Composite(composite_id.into()))
    }

    fn to(function: InvokeTarget) -> Self {
        Self {
            function,
            data: Ok(json!({})),
            timeout: None,
        }
    }

    /// Sets the `data` of the event the invoked function receives.
    pub fn data(mut self, data: impl Serialize) -> Self {
        self.data = serde_json::to_value(data).map_err(|err| err.to_string());
        self
    }

    /// Gives up waiting after this long (the executor's default is one year).
    pub fn timeout(mut self, timeout: impl Into<TimeSpan>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }
}

impl Step {
    pub(crate) fn new(exec: Arc<Execution>) -> Self {
        Self { exec }
    }

    /// Runs `body` once for the whole run and returns its result, memoised.
    ///
    /// The body runs in its own request; if it fails it is retried (with the function's
    /// retries) before the handler sees a [`StepError`]. Return a [`NonRetriableError`]
    /// (`crate::NonRetriableError`) to fail at once, or a
    /// [`RetryAfterError`](crate::RetryAfterError) to choose the delay.
    ///
    /// # Errors
    ///
    /// A [`StepError`] when the step failed for good, or when its memoised result does not
    /// deserialise into `T`.
    pub fn run<S, T, E, F, Fut>(
        &self,
        step: S,
        body: F,
    ) -> impl Future<Output = Result<T, StepError>> + Send + use<S, T, E, F, Fut>
    where
        S: Into<StepOptions>,
        T: Serialize + DeserializeOwned + Send,
        E: Into<FunctionError>,
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        let step = step.into();
        let claim = self.exec.claim(&step.id);

        async move {
            if let Some(memo) = claim.memo() {
                return decode_data(&step.id, memo);
            }

            let planned =
                base_op(OpCode::StepPlanned, &claim, &step.id, &step).with_data(raw_null());
            claim.park(planned, true).await;

            let executed = execute_body(&claim, &step, "run", None, async move {
                let value = body().await.map_err(Into::into)?;
                serde_json::to_value(value).map_err(|err| {
                    FunctionError::non_retriable(format!(
                        "the step's result does not serialise to JSON: {err}"
                    ))
                })
            });
            match claim.execute(&step.id, executed).await {}
        }
    }

    /// Pauses the run for a time string (`"30s"`, `"1h30m"`, `"7d"`) or a `Duration`.
    ///
    /// # Errors
    ///
    /// A [`StepError`] when the time string does not parse.
    pub fn sleep<S, D>(
        &self,
        step: S,
        duration: D,
    ) -> impl Future<Output = Result<(), StepError>> + Send + use<S, D>
    where
        S: Into<StepOptions>,
        D: Into<TimeSpan>,
    {
        let step = step.into();
        let duration = duration.into().to_time_string();
        self.pause(step, move |step| {
            duration.map_err(|err| invalid_step(step, "InvalidDuration", err.to_string()))
        })
    }

    /// Pauses the run until an instant.
    ///
    /// # Errors
    ///
    /// A [`StepError`] when the instant's text does not parse as RFC 3339.
    pub fn sleep_until<S, I>(
        &self,
        step: S,
        until: I,
    ) -> impl Future<Output = Result<(), StepError>> + Send + use<S, I>
    where
        S: Into<StepOptions>,
        I: Into<Instant>,
    {
        let step = step.into();
        let until = until.into().to_iso_string();
        self.pause(step, move |step| {
            until.map_err(|err| {
                invalid_step(step, "InvalidDate", format!("not an RFC 3339 time: {err}"))
            })
        })
    }

    fn pause<F>(
        &self,
        step: StepOptions,
        name: F,
    ) -> impl Future<Output = Result<(), StepError>> + Send + use<F>
    where
        F: FnOnce(&str) -> Result<String, StepError> + Send,
    {
        let claim = self.exec.claim(&step.id);

        async move {
            if let Some(memo) = claim.memo() {
                return decode_memo(&step.id, memo).map(|_| ());
            }

            // The duration goes in `opts.duration`, where the server reads it first; the name
            // repeats it for servers and UIs that still read the name (the JS SDK v1/v2 way).
            let duration = name(&step.id)?;
            let op = base_op(OpCode::Sleep, &claim, &duration, &step)
                .with_opts(json!({ "duration": duration }))
                .with_data(raw_null());
            claim.park(op, false).await;
            Ok(())
        }
    }

    /// Waits for an event; `None` when the timeout passed first.
    ///
    /// # Errors
    ///
    /// A [`StepError`] when the timeout does not parse or the event does not deserialise
    /// into `Event<T>`.
    pub fn wait_for_event<T>(
        &self,
        step: impl Into<StepOptions>,
        wait: WaitForEvent,
    ) -> impl Future<Output = Result<Option<Event<T>>, StepError>> + Send
    where
        T: DeserializeOwned + Send,
    {
        let step = step.into();
        let claim = self.exec.claim(&step.id);

        async move {
            if let Some(memo) = claim.memo() {
                return match decode_memo(&step.id, memo)? {
                    Value::Null => Ok(None),
                    event => Event::from_json(event)
                        .map(Some)
                        .map_err(|msg| invalid_step(&step.id, "InvalidEvent", msg)),
                };
            }

            let WaitForEvent {
                event,
                timeout,
                condition,
            } = wait;
            let timeout = timeout
                .to_time_string()
                .map_err(|err| invalid_step(&step.id, "InvalidDuration", err.to_string()))?;
            // The event goes in `opts.event`, where the server reads it first, and the op is
            // named after the step, as the Go SDK and Inngest's conformance runner expect (the
            // JS SDK names it after the event and leaves `opts.event` out; the server accepts both).
            let mut opts = json!({ "event": event, "timeout": timeout });
            if let Some(condition) = condition {
                opts["if"] = Value::String(condition);
            }

            let op = base_op(OpCode::WaitForEvent, &claim, &step.id, &step)
                .with_opts(opts)
                .with_data(raw_null());
            claim.park(op, false).await;
            Ok(None)
        }
    }

    /// Sends one or more events and returns their ids, once for the whole run.
    ///
    /// # Errors
    ///
    /// A [`StepError`] when the events do not serialise or the Event API refused them after
    /// the step's retries.
    pub fn send_event<S, V>(
        &self,
        step: S,
        events: V,
    ) -> impl Future<Output = Result<Vec<String>, StepError>> + Send + use<S, V>
    where
        S: Into<StepOptions>,
        V: IntoEvents,
    {
        let step = step.into();
        let events = events.into_events();
        let claim = self.exec.claim(&step.id);

        async move {
            if let Some(memo) = claim.memo() {
                let sent: SentEvents = decode_data(&step.id, memo)?;
                return Ok(sent.ids);
            }

            let events = events.map_err(|err| {
                invalid_step(
                    &step.id,
                    "InvalidEvent",
                    format!("events do not serialise: {err}"),
                )
            })?;
            let opts = json!({ "type": "step.sendEvent" });
            let planned = base_op(OpCode::StepPlanned, &claim, "sendEvent", &step)
                .with_opts(opts.clone())
                .with_data(raw_null());
            claim.park(planned, true).await;

            let sender = claim.exec.services.events.clone();
            let executed = execute_body(&claim, &step, "sendEvent", Some(opts), async move {
                let Some(sender) = sender else {
                    return Err(FunctionError::non_retriable(
                        "no Event API is configured for this app, so step.send_event cannot send",
                    ));
                };
                let ids = sender.send_events(events).await?;
                Ok(json!({ "ids": ids }))
            });
            match claim.execute(&step.id, executed).await {}
        }
    }

    /// Invokes another function and returns its result.
    ///
    /// # Errors
    ///
    /// A [`StepError`] when the invoked function failed, the timeout passed, or its result
    /// does not deserialise into `T`.
    pub fn invoke<T>(
        &self,
        step: impl Into<StepOptions>,
        invoke: Invoke,
    ) -> impl Future<Output = Result<T, StepError>> + Send
    where
        T: DeserializeOwned + Send,
    {
        let step = step.into();
        let claim = self.exec.claim(&step.id);
        let app_id = self.exec.app_id.clone();

        async move {
            if let Some(memo) = claim.memo() {
                return match MemoizedStep::parse_str(memo) {
                    Ok(MemoizedStep::Null) => Err(StepError::new(
                        &step.id,
                        "InngestInvokeTimeoutError",
                        "timed out waiting for the invoked function to finish",
                    )),
                    _ => decode_data(&step.id, memo),
                };
            }

            let Invoke {
                function,
                data,
                timeout,
            } = invoke;
            let function_id = match function {
                InvokeTarget::Local(id) => format!("{app_id}-{id}"),
                InvokeTarget::Composite(id) => id,
            };
            let data = data.map_err(|msg| {
                invalid_step(
                    &step.id,
                    "InvalidPayload",
                    format!("data does not serialise: {msg}"),
                )
            })?;
            let mut opts = json!({ "function_id": function_id, "payload": { "data": data } });
            if let Some(timeout) = timeout {
                let timeout = timeout
                    .to_time_string()
                    .map_err(|err| invalid_step(&step.id, "InvalidDuration", err.to_string()))?;
                opts["timeout"] = Value::String(timeout);
            }

            let mut op = base_op(OpCode::InvokeFunction, &claim, "", &step)
                .with_opts(opts)
                .with_data(raw_null());
            op.name = None;
            claim.park(op, false).await;
            unreachable_after_park()
        }
    }
}

/// The ids the Event API returned, as `send_event` memoises them.
#[derive(serde::Deserialize)]
struct SentEvents {
    #[serde(default)]
    ids: Vec<String>,
}

/// A parked step that is never targeted never resumes; this only satisfies the types.
fn unreachable_after_park<T>() -> Result<T, StepError> {
    Err(StepError::new(
        "",
        "Error",
        "a reported step resumed in the same request",
    ))
}

fn base_op(code: OpCode, claim: &Claim, name: &str, step: &StepOptions) -> Op {
    Op::new(code, claim.hashed_id())
        .with_name(name)
        .with_display_name(step.display())
        .with_userland(step.id.clone(), claim.id.index)
}

fn raw_null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).unwrap_or_else(|_| unreachable!())
}

fn invalid_step(step: &str, name: &str, message: impl Into<String>) -> StepError {
    StepError::new(step, name, message)
}

/// The memoised value of a step as JSON, or its stored error. `step` is the step's id.
fn decode_memo(step: &str, memo: &str) -> Result<Value, StepError> {
    let memo = MemoizedStep::parse_str(memo)
        .map_err(|err| invalid_step(step, "InvalidMemo", err.to_string()))?;
    match memo {
        MemoizedStep::Error(error) => Err(StepError::from_serialized(step, error)),
        other => {
            let raw = other.value().map(RawValue::get).unwrap_or("null");
            serde_json::from_str(raw)
                .map_err(|err| invalid_step(step, "InvalidMemo", err.to_string()))
        }
    }
}

/// The memoised value of a step deserialised into `T`, or its stored error. `step` is the
/// step's id.
fn decode_data<T: DeserializeOwned>(step: &str, memo: &str) -> Result<T, StepError> {
    // The executor stores a step's result as `{"data":<value>}`. When the text between that
    // prefix and the last brace reads as exactly one `T`, it was a lone `data` key, which the
    // rule below unwraps to the same value: one parse instead of two.
    if let Some(value) = memo
        .strip_prefix(r#"{"data":"#)
        .and_then(|rest| rest.strip_suffix('}'))
        .and_then(|inner| serde_json::from_str(inner).ok())
    {
        return Ok(value);
    }

    let memo = MemoizedStep::parse_str(memo)
        .map_err(|err| invalid_step(step, "InvalidMemo", err.to_string()))?;
    match memo {
        MemoizedStep::Error(error) => Err(StepError::from_serialized(step, error)),
        other => {
            let raw = other.value().map(RawValue::get).unwrap_or("null");
            // Path tracking allocates for every key it passes, so it only runs again to
            // name the place of a mismatch once the plain parse has failed.
            serde_json::from_str(raw).map_err(|_| memo_mismatch::<T>(step, raw))
        }
    }
}

/// The error for a memoised result that does not fit `T`, naming where it does not.
fn memo_mismatch<T: DeserializeOwned>(step: &str, raw: &str) -> StepError {
    let mut de = serde_json::Deserializer::from_str(raw);
    let reason = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(err) => {
            let path = err.path().to_string();
            format!(
                "the memoised result does not fit the step's type at `{path}`: {}",
                err.into_inner()
            )
        }
        // The tracked parse stops after the value, where the plain one also rejects what
        // follows it; a memo is one JSON value, so this is not expected.
        Ok(_) => match serde_json::from_str::<T>(raw) {
            Err(err) => format!("the memoised result does not fit the step's type: {err}"),
            Ok(_) => "the memoised result does not fit the step's type".to_owned(),
        },
    };

    invalid_step(step, "InvalidMemo", reason)
}

/// Runs a step body in this request and builds the op that reports it.
///
/// `opts` is left out of the op when the step has none: the Go SDK and Inngest's conformance
/// runner send no `opts` on StepRun and StepError (the JS SDK sends `{}`; the server takes both).
async fn execute_body<Fut>(
    claim: &Claim,
    step: &StepOptions,
    kind: &'static str,
    opts: Option<Value>,
    body: Fut,
) -> ExecutedStep
where
    Fut: Future<Output = Result<Value, FunctionError>>,
{
    let exec = &claim.exec;
    let services = &exec.services;
    let info = StepInfo {
        id: step.id.clone(),
        hashed_id: claim.hashed_id(),
        kind,
    };
    services.middleware.before_step(&services.run, &info);

    let mut output = match AssertUnwindSafe(body).catch_unwind().await {
        Ok(output) => output,
        Err(panic) => Err(FunctionError::new(format!(
            "step `{}` panicked: {}",
            step.id,
            panic_message(panic.as_ref())
        ))),
    };
    services
        .middleware
        .transform_step_output(&services.run, &info, &mut output);

    let name = if kind == "sendEvent" {
        "sendEvent"
    } else {
        step.id.as_str()
    };
    let mut op = base_op(OpCode::StepRun, claim, name, step);
    op.opts = opts;

    match output {
        Ok(value) => {
            let data = serde_json::value::to_raw_value(&value).unwrap_or_else(|_| raw_null());
            ExecutedStep {
                op: op.with_data(data),
                no_retry: None,
                retry_after: None,
            }
        }
        Err(error) => {
            let final_failure = error.is_final(exec.attempt, exec.max_attempts);
            let serialized = error.to_serialized();
            if final_failure {
                let data = json!({
                    "__serialized": true,
                    "name": serialized.name,
                    "message": serialized.message,
                    "stack": "",
                });
                let data = serde_json::value::to_raw_value(&data).unwrap_or_else(|_| raw_null());
                op.op = OpCode::StepFailed;
                ExecutedStep {
                    op: op.with_error(serialized).with_data(data),
                    no_retry: Some(true),
                    retry_after: None,
                }
            } else {
                op.op = OpCode::StepError;
                ExecutedStep {
                    op: op.with_error(serialized).with_data(raw_null()),
                    no_retry: Some(false),
                    retry_after: error.retry_after_header(),
                }
            }
        }
    }
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}
