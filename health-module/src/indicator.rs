//! Health indicators and their results, in the manner of `@nestjs/terminus`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

/// Whether one indicator found its part up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorStatus {
    /// Working.
    Up,
    /// Not working.
    Down,
}

/// What an indicator reports: its key, up or down, and details that are shown under the key.
///
/// # Examples
///
/// ```
/// use nestling_health::{IndicatorResult, IndicatorStatus};
///
/// let result = IndicatorResult::up("db").with("latencyMs", 3);
/// assert_eq!(result.status, IndicatorStatus::Up);
/// assert_eq!(result.to_json()["status"], "up");
/// assert_eq!(result.to_json()["latencyMs"], 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorResult {
    /// The key the result is reported under (`info.<key>` or `error.<key>`).
    pub key: String,
    /// Up or down.
    pub status: IndicatorStatus,
    /// Further fields shown next to `status`.
    pub details: Map<String, Value>,
}

impl IndicatorResult {
    /// An up result with no details.
    pub fn up(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            status: IndicatorStatus::Up,
            details: Map::new(),
        }
    }

    /// A down result with no details.
    pub fn down(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            status: IndicatorStatus::Down,
            details: Map::new(),
        }
    }

    /// A down result saying why.
    pub fn down_because(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::down(key).with("message", message.into())
    }

    /// Adds a detail field.
    pub fn with(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(field.into(), value.into());
        self
    }

    /// Whether the status is up.
    pub fn is_up(&self) -> bool {
        self.status == IndicatorStatus::Up
    }

    /// The object shown under the key: `{"status": "up"|"down", ...details}`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert(
            "status".to_owned(),
            serde_json::to_value(self.status).unwrap_or(Value::Null),
        );
        object.extend(self.details.clone());
        Value::Object(object)
    }
}

/// A boxed future of an indicator result.
pub type IndicatorFuture<'a> = Pin<Box<dyn Future<Output = IndicatorResult> + Send + 'a>>;

/// Something that can say whether a part of the app works.
///
/// A check must only look: it must not send events, write, or change the state of what it
/// checks, because checks run on a timer and on every probe.
///
/// # Examples
///
/// ```
/// use nestling_health::{HealthIndicator, IndicatorFuture, IndicatorResult};
///
/// #[derive(Debug)]
/// struct Disk;
///
/// impl HealthIndicator for Disk {
///     fn check(&self) -> IndicatorFuture<'_> {
///         Box::pin(async { IndicatorResult::up("disk").with("freeGb", 12) })
///     }
/// }
/// ```
pub trait HealthIndicator: Send + Sync + fmt::Debug {
    /// Runs the check.
    fn check(&self) -> IndicatorFuture<'_>;
}

/// An indicator made of a closure, for one-off checks.
///
/// # Examples
///
/// ```
/// use nestling_health::{FnIndicator, HealthIndicator, IndicatorResult};
///
/// let queue = FnIndicator::new("queue", || async { IndicatorResult::up("queue").with("depth", 0) });
/// # tokio_test_block_on(async move { assert!(queue.check().await.is_up()) });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct FnIndicator {
    name: String,
    check: Arc<dyn Fn() -> IndicatorFuture<'static> + Send + Sync>,
}

impl FnIndicator {
    /// An indicator that runs `check`. `name` is used in debug output only; the result's own
    /// key is what is reported.
    pub fn new<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = IndicatorResult> + Send + 'static,
    {
        Self {
            name: name.into(),
            check: Arc::new(move || Box::pin(check())),
        }
    }
}

impl fmt::Debug for FnIndicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnIndicator")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl HealthIndicator for FnIndicator {
    fn check(&self) -> IndicatorFuture<'_> {
        (self.check)()
    }
}
