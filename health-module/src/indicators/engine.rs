//! The engine storage indicator: does the embedded engine's database answer.

use std::sync::Arc;

use nestling_inngest::{EngineStorageReport, InngestService};

use crate::indicator::{HealthIndicator, IndicatorFuture, IndicatorResult};

/// Says whether the embedded engine's storage works, through
/// [`InngestService::engine_storage`]: a read-only probe that times a one-row lookup on the
/// engine's connection and checks that its SQLite file is still there and writable.
///
/// Up with the figures (`latencyMs`, `database`, `databaseBytes`, `walBytes`) when the
/// storage answers, down with the probe's message when it does not. An app that talks to an
/// outside Inngest server has no engine storage; the indicator then reports up with
/// `embedded: false`, and the health module does not add it at all.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use nestling_health::{EngineStorageIndicator, HealthIndicator};
/// use nestling_inngest::{DefaultInngestService, InngestModuleOptions};
///
/// let options = InngestModuleOptions::new("shop").resolve(&BTreeMap::from([("INNGEST_DEV", "1")]))?;
/// let service = Arc::new(DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new()))?);
/// let indicator = EngineStorageIndicator::new("engine", service);
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let result = indicator.check().await;
/// assert!(result.is_up());
/// assert_eq!(result.details["embedded"], false);
/// # });
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Clone)]
pub struct EngineStorageIndicator {
    key: String,
    service: Arc<dyn InngestService>,
}

impl std::fmt::Debug for EngineStorageIndicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineStorageIndicator")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl EngineStorageIndicator {
    /// An indicator reporting under `key` on the storage of `service`'s embedded engine.
    pub fn new(key: impl Into<String>, service: Arc<dyn InngestService>) -> Self {
        Self {
            key: key.into(),
            service,
        }
    }

    /// The result for a probe's report (`None`: no embedded engine), apart from running it.
    pub fn evaluate(&self, report: Option<&EngineStorageReport>) -> IndicatorResult {
        let Some(report) = report else {
            return IndicatorResult::up(&self.key)
                .with("embedded", false)
                .with("message", "the app talks to an outside Inngest server");
        };

        let latency_ms = (report.latency.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        let result = match &report.problem {
            None => IndicatorResult::up(&self.key),
            Some(problem) => IndicatorResult::down_because(&self.key, problem.clone()),
        };
        let mut result = result
            .with("embedded", true)
            .with("database", report.database.display().to_string())
            .with("latencyMs", latency_ms);
        if let Some(bytes) = report.database_bytes {
            result = result.with("databaseBytes", bytes);
        }
        if let Some(bytes) = report.wal_bytes {
            result = result.with("walBytes", bytes);
        }
        result
    }
}

impl HealthIndicator for EngineStorageIndicator {
    fn check(&self) -> IndicatorFuture<'_> {
        Box::pin(async move {
            // The probe takes the engine's database lock; keep it off the async workers.
            let service = Arc::clone(&self.service);
            match tokio::task::spawn_blocking(move || service.engine_storage()).await {
                Ok(report) => self.evaluate(report.as_ref()),
                Err(error) => IndicatorResult::down_because(
                    &self.key,
                    format!("the storage probe did not finish: {error}"),
                ),
            }
        })
    }
}
