//! The Inngest indicator: is the integration up, and is it ready for work, in the app's
//! connection mode.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use nestling_inngest::{ConnectionMode, ConnectionState, InngestService, SyncOutcome};
use serde_json::{Value, json};

use crate::indicator::{HealthIndicator, IndicatorFuture, IndicatorResult};

/// The last call of each function, as the health module's execution hook saw it.
///
/// Fed by [`ExecutionLog::record`]; the module provides its hook as Inngest middleware so
/// that the detailed health report can show when each function last ran and how that went.
///
/// # Examples
///
/// ```
/// use nestling_health::{ExecutionLog, ExecutionOutcome};
///
/// let log = ExecutionLog::default();
/// log.record("shop-send-receipt", ExecutionOutcome::Completed);
/// assert!(log.last("shop-send-receipt").unwrap().succeeded());
/// assert!(log.last("shop-other").is_none());
/// ```
#[derive(Debug, Default)]
pub struct ExecutionLog {
    last: RwLock<HashMap<String, LastExecution>>,
}

/// How a call of a function ended, as far as the SDK can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExecutionOutcome {
    /// The handler returned a value: the run completed.
    Completed,
    /// The handler failed and the run will be retried.
    Retrying,
    /// The handler failed and the run failed with it (no retries left, or not retriable).
    Failed,
    /// The run was cancelled (known on the embedded engine only).
    Cancelled,
}

impl ExecutionOutcome {
    /// The name shown as `lastOutcome`: `completed`, `retrying`, `failed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The function's `status` after such a call: `failing` after a failure (final or
    /// not), `healthy` otherwise.
    pub fn status(self) -> &'static str {
        match self {
            Self::Retrying | Self::Failed => "failing",
            Self::Completed | Self::Cancelled => "healthy",
        }
    }
}

/// One function's last call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastExecution {
    /// When the call ended.
    pub at: SystemTime,
    /// How it ended.
    pub outcome: ExecutionOutcome,
}

impl LastExecution {
    /// Whether it ended without an error (cancelled runs included).
    pub fn succeeded(&self) -> bool {
        matches!(
            self.outcome,
            ExecutionOutcome::Completed | ExecutionOutcome::Cancelled
        )
    }
}

impl ExecutionLog {
    /// Records that a call of `function_id` just ended, and how.
    pub fn record(&self, function_id: &str, outcome: ExecutionOutcome) {
        let mut last = self
            .last
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        last.insert(
            function_id.to_owned(),
            LastExecution {
                at: SystemTime::now(),
                outcome,
            },
        );
    }

    /// The last call of `function_id`, if one was seen.
    pub fn last(&self, function_id: &str) -> Option<LastExecution> {
        let last = self
            .last
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        last.get(function_id).copied()
    }
}

/// Says whether Inngest works for this app, without sending anything: it reads the service's
/// mode, connection state and functions, so checking it costs nothing and changes nothing.
///
/// - serve mode: up as soon as the service exists (Inngest calls the app over HTTP);
/// - connect mode: up only while the connection is `ACTIVE`.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use nestling_health::InngestHealthIndicator;
/// use nestling_inngest::{ConnectionState, DefaultInngestService, InngestModuleOptions};
///
/// let env = BTreeMap::from([("INNGEST_DEV", "1"), ("INNGEST_MODE", "connect")]);
/// let options = InngestModuleOptions::new("worker").resolve(&env)?;
/// let service = Arc::new(DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new()))?);
/// let indicator = InngestHealthIndicator::new(service.clone());
///
/// let down = indicator.is_ready("inngest");
/// assert!(!down.is_up());
/// assert_eq!(down.details["connectionState"], "CLOSED");
///
/// service.set_connection_state(ConnectionState::Active);
/// assert!(indicator.is_healthy("inngest").is_up());
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Clone)]
pub struct InngestHealthIndicator {
    service: Arc<dyn InngestService>,
    executions: Option<Arc<ExecutionLog>>,
}

impl std::fmt::Debug for InngestHealthIndicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InngestHealthIndicator")
            .field("app_id", &self.service.options().app_id)
            .field("mode", &self.service.options().mode)
            .finish_non_exhaustive()
    }
}

impl InngestHealthIndicator {
    /// An indicator over the app's Inngest service.
    pub fn new(service: Arc<dyn InngestService>) -> Self {
        Self {
            service,
            executions: None,
        }
    }

    /// The Inngest service it reads.
    pub(crate) fn service(&self) -> &Arc<dyn InngestService> {
        &self.service
    }

    /// Also reports each function's last execution (in [`details`](Self::details)).
    pub fn with_execution_log(mut self, log: Arc<ExecutionLog>) -> Self {
        self.executions = Some(log);
        self
    }

    /// Whether the integration is up: in serve mode always, in connect mode while `ACTIVE`.
    pub fn is_healthy(&self, key: &str) -> IndicatorResult {
        let functions = self.service.function_count();
        match self.mode() {
            Mode::Serve => IndicatorResult::up(key)
                .with("message", "Inngest client is healthy")
                .with("mode", "serve")
                .with("functions", functions),
            Mode::Connect(state) if state.is_connected() => IndicatorResult::up(key)
                .with("message", "Inngest worker is connected")
                .with("mode", "connect")
                .with("connectionState", state.as_str())
                .with("functions", functions),
            Mode::Connect(state) => IndicatorResult::down_because(
                key,
                format!("Connection not active: {}", state.as_str()),
            )
            .with("mode", "connect")
            .with("connectionState", state.as_str())
            .with("functions", functions),
        }
    }

    /// Whether the app can take work now: in serve mode always, in connect mode while
    /// `ACTIVE`.
    pub fn is_ready(&self, key: &str) -> IndicatorResult {
        let functions = self.service.function_count();
        match self.mode() {
            Mode::Serve => IndicatorResult::up(key)
                .with("message", "Inngest is ready")
                .with("mode", "serve")
                .with("functionsRegistered", functions),
            Mode::Connect(state) if state.is_connected() => IndicatorResult::up(key)
                .with("message", "Inngest is ready")
                .with("mode", "connect")
                .with("functionsRegistered", functions)
                .with("connectionState", state.as_str()),
            Mode::Connect(state) => IndicatorResult::down_because(
                key,
                format!("Worker not ready: connection state is {}", state.as_str()),
            )
            .with("mode", "connect")
            .with("functionsRegistered", functions)
            .with("connectionState", state.as_str()),
        }
    }

    /// The `info.inngest` entry of `GET /health/inngest`: status, mode, function count,
    /// `lastSync` (when the server last accepted the app's registration, or null), with
    /// `lastSyncError` when a later attempt failed, and the connection state in connect mode.
    pub fn summary(&self, key: &str) -> IndicatorResult {
        let healthy = self.is_healthy(key);
        let mut result = if healthy.is_up() {
            IndicatorResult::up(key)
        } else {
            IndicatorResult::down(key)
        };
        if let Some(message) = healthy.details.get("message").filter(|_| !healthy.is_up()) {
            result = result.with("message", message.clone());
        }

        result = result
            .with("mode", self.mode_name())
            .with("functions", self.service.function_count());
        if let Mode::Connect(state) = self.mode() {
            result = result.with("connectionState", state.as_str());
        }
        // The time of the last registration the server accepted; when the latest attempt
        // failed after it, why (the app keeps running, and the server may sync it later).
        let last_success = self.service.last_successful_sync();
        result = result.with(
            "lastSync",
            last_success
                .as_ref()
                .map_or(Value::Null, |sync| Value::from(crate::rfc3339(sync.at))),
        );
        if let Some(last) = self.service.last_sync().filter(|sync| !sync.succeeded())
            && let SyncOutcome::Failed { message } = &last.outcome
        {
            result = result.with(
                "lastSyncError",
                json!({ "at": crate::rfc3339(last.at), "message": message }),
            );
        }
        result
    }

    /// Per-function status for the detailed report: id, name, `healthy` or `failing` (from
    /// the last execution seen, if any), when it was (`lastExecution`) and how it ended
    /// (`lastOutcome`: `completed`, `retrying`, `failed` or `cancelled`).
    pub fn details(&self) -> Vec<Value> {
        self.service
            .functions()
            .into_iter()
            .map(|function| {
                let last = self
                    .executions
                    .as_ref()
                    .and_then(|log| log.last(&function.id));
                json!({
                    "id": function.id,
                    "name": function.name,
                    "status": last.map_or("healthy", |last| last.outcome.status()),
                    "lastExecution": last.map(|last| crate::rfc3339(last.at)),
                    "lastOutcome": last.map(|last| last.outcome.as_str()),
                })
            })
            .collect()
    }

    /// This indicator as a liveness check reporting under `key`.
    pub fn liveness(&self, key: impl Into<String>) -> Arc<dyn HealthIndicator> {
        Arc::new(Check {
            indicator: self.clone(),
            key: key.into(),
            ready: false,
        })
    }

    /// This indicator as a readiness check reporting under `key`.
    pub fn readiness(&self, key: impl Into<String>) -> Arc<dyn HealthIndicator> {
        Arc::new(Check {
            indicator: self.clone(),
            key: key.into(),
            ready: true,
        })
    }

    fn mode(&self) -> Mode {
        match self.service.options().mode {
            ConnectionMode::Connect => Mode::Connect(self.service.connection_state()),
            _ => Mode::Serve,
        }
    }

    fn mode_name(&self) -> &'static str {
        match self.mode() {
            Mode::Serve => "serve",
            Mode::Connect(_) => "connect",
        }
    }
}

enum Mode {
    Serve,
    Connect(ConnectionState),
}

#[derive(Debug)]
struct Check {
    indicator: InngestHealthIndicator,
    key: String,
    ready: bool,
}

impl HealthIndicator for Check {
    fn check(&self) -> IndicatorFuture<'_> {
        let result = if self.ready {
            self.indicator.is_ready(&self.key)
        } else {
            self.indicator.is_healthy(&self.key)
        };
        Box::pin(std::future::ready(result))
    }
}

/// The execution hook that feeds an [`ExecutionLog`]: every call that returns is recorded
/// with how it ended (completed, failed for good or to be retried), and cancelled runs when
/// the SDK hears of them. The health module provides one over its service's log as Inngest
/// middleware, which the Inngest module runs for every function.
#[derive(Debug, Clone)]
pub struct HealthMiddleware {
    log: Arc<ExecutionLog>,
}

impl HealthMiddleware {
    /// A hook recording into `log`.
    pub fn new(log: Arc<ExecutionLog>) -> Self {
        Self { log }
    }
}

impl nestling_inngest::InngestMiddleware for HealthMiddleware {
    fn name(&self) -> &str {
        "nestling-health"
    }

    fn transform_output(
        &self,
        run: &nestling_inngest::RunInfo,
        output: &mut Result<Value, nestling_inngest::FunctionError>,
    ) {
        let outcome = match output {
            Ok(_) => ExecutionOutcome::Completed,
            Err(error) if run.is_final(error) => ExecutionOutcome::Failed,
            Err(_) => ExecutionOutcome::Retrying,
        };
        self.log.record(&run.function_id, outcome);
    }

    fn on_run_cancelled(&self, run: &nestling_inngest::CancelledRun) {
        self.log
            .record(&run.function_id, ExecutionOutcome::Cancelled);
    }
}
