//! The health service: the probes, the Inngest indicator and the detailed Inngest report.

use std::sync::Arc;

use nestling_inngest::InngestService;
use serde_json::{Map, Value, json};

use crate::HealthIndicator;
use crate::check::{HealthChecks, Probe};
use crate::error::Error;
use crate::indicators::{
    EngineStorageIndicator, ExecutionLog, InngestHealthIndicator, MemoryIndicator,
};
use crate::settings::HealthSettings;

/// The key the Inngest indicator reports under.
pub const INNGEST_KEY: &str = "inngest";

/// The key the memory indicator reports under.
pub const MEMORY_KEY: &str = "memory";

/// The key the embedded engine's storage indicator reports under.
pub const ENGINE_STORAGE_KEY: &str = "engineStorage";

/// Health of an app: liveness and readiness probes users extend with their own indicators,
/// and, when built over an [`InngestService`], the Inngest health report.
///
/// Built by [`InngestHealthModule`](crate::InngestHealthModule) from the Inngest module's
/// options, or directly:
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use nestling_health::{FnIndicator, HealthService, HealthSettings, IndicatorResult, Probe};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let health = HealthService::new(HealthSettings::default()).unwrap();
/// health.checks().add(Probe::Readiness, Arc::new(FnIndicator::new("db", || async {
///     IndicatorResult::up("db")
/// })));
/// let report = health.checks().check(Probe::Readiness).await;
/// assert_eq!(report.to_json()["info"]["db"]["status"], "up");
/// # });
/// ```
#[derive(Debug)]
pub struct HealthService {
    settings: HealthSettings,
    checks: Arc<HealthChecks>,
    inngest: Option<InngestHealthIndicator>,
    memory: MemoryIndicator,
    executions: Arc<ExecutionLog>,
    storage: std::sync::OnceLock<EngineStorageIndicator>,
}

impl HealthService {
    /// Probes with the memory indicator on liveness and nothing else.
    ///
    /// # Errors
    /// As [`HealthSettings::validate`].
    pub fn new(settings: HealthSettings) -> Result<Arc<Self>, Error> {
        Self::build(settings, None).map(Arc::new)
    }

    /// Probes with the memory indicator and the Inngest indicator (`is_healthy` on liveness,
    /// `is_ready` on readiness), and the Inngest report at `settings.path`.
    ///
    /// # Errors
    /// As [`HealthSettings::validate`].
    pub fn for_inngest(
        settings: HealthSettings,
        service: Arc<dyn InngestService>,
    ) -> Result<Arc<Self>, Error> {
        Self::build(settings, Some(service)).map(Arc::new)
    }

    pub(crate) fn build(
        settings: HealthSettings,
        service: Option<Arc<dyn InngestService>>,
    ) -> Result<Self, Error> {
        settings.validate()?;

        let memory = match settings.memory_limit_bytes {
            Some(limit) => MemoryIndicator::new(MEMORY_KEY, limit),
            None => MemoryIndicator::from_environment(MEMORY_KEY),
        };
        let executions = Arc::new(ExecutionLog::default());
        let checks = HealthChecks::new();
        checks.add(Probe::Liveness, Arc::new(memory.clone()));

        let inngest = service.as_ref().map(|service| {
            InngestHealthIndicator::new(Arc::clone(service))
                .with_execution_log(Arc::clone(&executions))
        });
        if let Some(inngest) = &inngest {
            checks.add(Probe::Liveness, inngest.liveness(INNGEST_KEY));
            checks.add(Probe::Readiness, inngest.readiness(INNGEST_KEY));
        }

        Ok(Self {
            settings,
            checks,
            inngest,
            memory,
            executions,
            storage: std::sync::OnceLock::new(),
        })
    }

    /// The settings the service runs with.
    pub fn settings(&self) -> &HealthSettings {
        &self.settings
    }

    /// The probes, to add indicators to or to check.
    pub fn checks(&self) -> &Arc<HealthChecks> {
        &self.checks
    }

    /// The Inngest indicator, when the service was built over an Inngest service.
    pub fn inngest(&self) -> Option<&InngestHealthIndicator> {
        self.inngest.as_ref()
    }

    /// The log of each function's last execution, fed by the execution hook.
    pub fn execution_log(&self) -> &Arc<ExecutionLog> {
        &self.executions
    }

    /// Adds the embedded engine's storage indicator to readiness when the app runs on the
    /// embedded engine, and starts the background checks on the configured interval.
    ///
    /// The module calls it at bootstrap, once the Inngest module has initialised and knows
    /// whether its engine runs.
    pub fn start(&self) {
        self.attach_engine_storage();
        self.checks.start_background(self.settings.check_interval);
    }

    /// The embedded engine's storage indicator, once [`start`](Self::start) found the
    /// engine.
    pub fn engine_storage(&self) -> Option<&EngineStorageIndicator> {
        self.storage.get()
    }

    fn attach_engine_storage(&self) {
        let Some(service) = self.inngest.as_ref().map(InngestHealthIndicator::service) else {
            return;
        };
        if self.storage.get().is_some() || service.engine_storage().is_none() {
            return;
        }
        let indicator = EngineStorageIndicator::new(ENGINE_STORAGE_KEY, Arc::clone(service));
        if self.storage.set(indicator.clone()).is_ok() {
            self.checks.add(Probe::Readiness, Arc::new(indicator));
        }
    }

    /// Stops the background checks and turns readiness to `shutting_down`.
    pub fn shutdown(&self) {
        self.checks.begin_shutdown();
        self.checks.stop_background();
    }

    /// The Inngest report and whether it is up: `{status, info: {inngest}, error: {inngest}}`,
    /// plus `details: {memory, functions}` when `details` is asked for and allowed. `None`
    /// without an Inngest service.
    pub async fn inngest_report(&self, details: bool) -> Option<(bool, Value)> {
        let inngest = self.inngest.as_ref()?;
        let summary = inngest.summary(INNGEST_KEY);
        let up = summary.is_up();

        let (mut info, mut error) = (Map::new(), Map::new());
        if up { &mut info } else { &mut error }.insert(INNGEST_KEY.to_owned(), summary.to_json());
        let mut body =
            json!({ "status": if up { "ok" } else { "error" }, "info": info, "error": error });

        if details && self.settings.include_details {
            let mut extra = Map::new();
            if self.settings.enable_metrics {
                let memory = self.memory.check().await;
                let mut figures = memory.details.clone();
                figures.insert("status".to_owned(), json!(memory.status));
                extra.insert(MEMORY_KEY.to_owned(), Value::Object(figures));
            }
            extra.insert("functions".to_owned(), Value::Array(inngest.details()));
            if let Some(storage) = self.storage.get() {
                let result = storage.check().await;
                extra.insert(ENGINE_STORAGE_KEY.to_owned(), result.to_json());
            }
            body["details"] = Value::Object(extra);
        }

        Some((up, body))
    }
}
