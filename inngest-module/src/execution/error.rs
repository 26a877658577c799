//! What a function or a step can fail with, and how each failure is retried.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use nestling_inngest_protocol::SerializedError;
use serde_json::Value;

/// When the executor may try a failed function or step again.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest::{FunctionError, Retry};
///
/// let err = FunctionError::retry_after("rate limited", Duration::from_secs(30));
/// assert_eq!(err.retry(), &Retry::After(Duration::from_secs(30).into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// Retry with the executor's backoff while attempts remain (the default).
    Backoff,
    /// Never retry: the failure is final at once.
    Never,
    /// Retry, but not before the given time.
    After(RetryAfter),
}

/// The earliest time of the next attempt, sent as the `Retry-After` header.
///
/// A delay is sent as whole seconds (rounded up), an instant as an ISO-8601 string, as the
/// official SDKs send them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest::RetryAfter;
///
/// assert_eq!(RetryAfter::from(Duration::from_millis(1500)).header_value(), "2");
/// let at = "2030-01-01T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
/// assert_eq!(RetryAfter::from(at).header_value(), "2030-01-01T00:00:00.000Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Wait this long from now.
    Delay(Duration),
    /// Wait until this instant.
    At(DateTime<Utc>),
}

impl RetryAfter {
    /// The value of the `Retry-After` header.
    pub fn header_value(&self) -> String {
        match self {
            Self::Delay(delay) => {
                let whole = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
                whole.to_string()
            }
            Self::At(at) => at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }
}

impl From<Duration> for RetryAfter {
    fn from(delay: Duration) -> Self {
        Self::Delay(delay)
    }
}

impl From<DateTime<Utc>> for RetryAfter {
    fn from(at: DateTime<Utc>) -> Self {
        Self::At(at)
    }
}

/// The error a function handler or a step body fails with.
///
/// It carries a name and a message, as the executor shows them, and a [`Retry`] policy. Any
/// `std::error::Error` converts into it (so `?` works on the usual errors), keeping the
/// policy of the three error types this crate knows:
///
/// - [`NonRetriableError`] → [`Retry::Never`];
/// - [`RetryAfterError`] → [`Retry::After`];
/// - [`StepError`] (a step that failed for good, propagated with `?`) → final, and reported
///   with the step's own error, as the official SDKs do;
/// - anything else → [`Retry::Backoff`], named `"Error"`.
///
/// `FunctionError` does not implement `std::error::Error` itself, which is what lets every
/// error convert into it.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{FunctionError, NonRetriableError, Retry};
///
/// fn parse(n: &str) -> Result<u32, FunctionError> {
///     Ok(n.parse::<u32>()?)
/// }
/// assert_eq!(parse("x").unwrap_err().retry(), &Retry::Backoff);
///
/// let fatal: FunctionError = NonRetriableError::new("account closed").into();
/// assert_eq!(fatal.name(), "NonRetriableError");
/// assert_eq!(fatal.retry(), &Retry::Never);
/// ```
#[derive(Debug, Clone)]
pub struct FunctionError {
    error: Box<SerializedError>,
    retry: Retry,
    from_step: bool,
}

impl FunctionError {
    /// A retryable error named `"Error"`.
    pub fn new(message: impl Into<String>) -> Self {
        Self::named("Error", message)
    }

    /// A retryable error with a name of your choice (shown in the executor's UI).
    pub fn named(name: impl Into<String>, message: impl Into<String>) -> Self {
        let name = name.into();
        let message = message.into();
        let mut error = SerializedError::new(name.clone(), message.clone());
        error.stack = Some(format!("{name}: {message}"));

        Self {
            error: Box::new(error),
            retry: Retry::Backoff,
            from_step: false,
        }
    }

    /// An error that is never retried (`NonRetriableError`).
    pub fn non_retriable(message: impl Into<String>) -> Self {
        Self::named("NonRetriableError", message).with_retry(Retry::Never)
    }

    /// An error that is retried, but not before `after` (`RetryAfterError`).
    pub fn retry_after(message: impl Into<String>, after: impl Into<RetryAfter>) -> Self {
        Self::named("RetryAfterError", message).with_retry(Retry::After(after.into()))
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Attaches JSON data to the error (sent as its `data` field).
    pub fn with_data(mut self, data: Value) -> Self {
        self.error.data = Some(data);
        self
    }

    /// The error's name, e.g. `"Error"` or `"NonRetriableError"`.
    pub fn name(&self) -> &str {
        &self.error.name
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.error.message
    }

    /// When the executor may retry.
    pub fn retry(&self) -> &Retry {
        &self.retry
    }

    /// Whether this error is a step's final failure that the handler propagated.
    pub fn is_step_failure(&self) -> bool {
        self.from_step
    }

    /// The error as it goes on the wire (`{name, message, stack, __serialized}`).
    pub fn to_serialized(&self) -> SerializedError {
        let mut error = (*self.error).clone();
        error.serialized = Some(true);
        error
    }

    /// Whether the executor must not retry, given the attempt that failed.
    pub(crate) fn is_final(&self, attempt: u32, max_attempts: u32) -> bool {
        self.from_step
            || self.retry == Retry::Never
            || attempt.saturating_add(1) >= max_attempts.max(1)
    }

    /// The `Retry-After` header value, if any.
    pub(crate) fn retry_after_header(&self) -> Option<String> {
        match &self.retry {
            Retry::After(after) => Some(after.header_value()),
            _ => None,
        }
    }

    fn from_std(error: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        let error = match error.downcast::<StepError>() {
            Ok(step) => return Self::from_step_error(*step),
            Err(other) => other,
        };
        let error = match error.downcast::<NonRetriableError>() {
            Ok(fatal) => return Self::non_retriable(fatal.message),
            Err(other) => other,
        };
        match error.downcast::<RetryAfterError>() {
            Ok(later) => Self::retry_after(later.message, later.after),
            Err(other) => Self::new(error_chain(other.as_ref())),
        }
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error.name, self.error.message)
    }
}

impl<E> From<E> for FunctionError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Self::from_std(Box::new(error))
    }
}

/// The message of an error followed by its sources, `"outer: inner"`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message
}

/// A failure that must not be retried.
///
/// Return it (or convert it with `?`) from a handler or a step body to fail at once.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{FunctionError, NonRetriableError};
///
/// fn charge(amount: i64) -> Result<(), FunctionError> {
///     if amount < 0 {
///         return Err(NonRetriableError::new("negative amount").into());
///     }
///     Ok(())
/// }
/// assert_eq!(charge(-1).unwrap_err().name(), "NonRetriableError");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct NonRetriableError {
    message: String,
}

impl NonRetriableError {
    /// Creates the error.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// A failure to retry no earlier than a given delay or instant.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest::{FunctionError, Retry, RetryAfterError};
///
/// let err: FunctionError = RetryAfterError::new("slow down", Duration::from_secs(30)).into();
/// assert!(matches!(err.retry(), Retry::After(_)));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RetryAfterError {
    message: String,
    after: RetryAfter,
}

impl RetryAfterError {
    /// Creates the error.
    pub fn new(message: impl Into<String>, after: impl Into<RetryAfter>) -> Self {
        Self {
            message: message.into(),
            after: after.into(),
        }
    }
}

/// The final failure of a step, as the handler sees it.
///
/// Returned by [`Step::run`](crate::Step::run) once the step has used up its attempts (or
/// failed with a [`NonRetriableError`]), and by [`Step::invoke`](crate::Step::invoke) when
/// the invoked function failed. Catch it to recover, or propagate it with `?`: the run then
/// fails for good with the step's error, as with the official SDKs.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{FunctionError, StepError};
///
/// let err = StepError::new("charge", "Error", "card declined");
/// assert_eq!(err.to_string(), "step `charge` failed: Error: card declined");
/// let propagated: FunctionError = err.into();
/// assert!(propagated.is_step_failure());
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("step `{step}` failed: {}: {}", .error.name, .error.message)]
pub struct StepError {
    step: String,
    error: Box<SerializedError>,
}

impl StepError {
    /// Creates a step error by hand (useful in tests of handlers).
    pub fn new(
        step: impl Into<String>,
        name: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            step: step.into(),
            error: Box::new(SerializedError::new(name, message)),
        }
    }

    pub(crate) fn from_serialized(step: &str, error: SerializedError) -> Self {
        Self {
            step: step.to_owned(),
            error: Box::new(error),
        }
    }

    /// The id of the step that failed.
    pub fn step(&self) -> &str {
        &self.step
    }

    /// The error's name, e.g. `"Error"` or `"NonRetriableError"`.
    pub fn name(&self) -> &str {
        &self.error.name
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        &self.error.message
    }

    /// The error exactly as the executor stored it.
    pub fn serialized(&self) -> &SerializedError {
        &self.error
    }
}

impl FunctionError {
    /// A step's final failure, propagated by the handler: final, reported with the step's
    /// own error.
    fn from_step_error(step: StepError) -> Self {
        Self {
            error: step.error,
            retry: Retry::Never,
            from_step: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_errors_keep_their_policy() {
        let plain: FunctionError = std::io::Error::other("disk").into();
        assert_eq!((plain.name(), plain.retry()), ("Error", &Retry::Backoff));

        let fatal: FunctionError = NonRetriableError::new("no").into();
        assert!(fatal.is_final(0, 4));

        let later: FunctionError = RetryAfterError::new("wait", Duration::from_secs(30)).into();
        assert_eq!(later.retry_after_header().as_deref(), Some("30"));
        assert!(!later.is_final(0, 4));
        assert!(later.is_final(3, 4));
    }

    #[test]
    fn step_failures_are_final_and_keep_the_step_error() {
        let err: FunctionError = StepError::new("s", "TypeError", "bad").into();
        assert!(err.is_final(0, 10));
        let wire = serde_json::to_value(err.to_serialized()).unwrap();
        assert_eq!(wire["name"], "TypeError");
        assert_eq!(wire["__serialized"], true);
    }
}
