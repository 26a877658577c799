//! The monitoring service: the registry, the function metrics and the summaries built on them.

use std::sync::{Arc, Mutex};

use poem_openapi::Object;

use crate::config::MonitoringSettings;
use crate::function::{ExecutionCall, FunctionMetrics, FunctionSummary, RunOutcome};
use crate::otlp::{OtlpMetrics, metrics_endpoint};
use crate::registry::MetricsRegistry;
use crate::system::{ProcessStats, register_process_metrics};
use crate::{CallKind, Error};

/// Finished runs above this error rate (percent) make the summary report `healthy: false`.
const HEALTHY_ERROR_RATE: f64 = 5.0;

/// Totals over all functions, as in the seed package's API metrics.
#[derive(Debug, Clone, PartialEq, Object, serde::Serialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct SummaryTotals {
    /// `true` while the error rate stays below 5 %.
    pub healthy: bool,
    /// Functions registered or seen.
    pub total_functions: u64,
    /// Finished runs.
    pub total_executions: u64,
    /// Runs in flight.
    pub in_flight: u64,
    /// Failed runs as a percentage of finished runs.
    pub error_rate: f64,
}

/// The process part of the summary.
#[derive(Debug, Clone, PartialEq, Object, serde::Serialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct SystemSummary {
    /// Resident memory in MiB (absent where `/proc` cannot be read).
    pub memory_mb: Option<f64>,
    /// CPU time in seconds.
    pub cpu_seconds: Option<f64>,
    /// Time since the process started, in milliseconds.
    pub uptime_ms: Option<u64>,
}

/// `GET <metrics>/summary`: totals, per-function counters and process figures.
#[derive(Debug, Clone, PartialEq, Object, serde::Serialize)]
#[oai(rename_all = "camelCase")]
#[serde(rename_all = "camelCase")]
pub struct MetricsSummary {
    /// Totals over all functions.
    pub summary: SummaryTotals,
    /// One entry per function, sorted by id.
    pub functions: Vec<FunctionSummary>,
    /// Process figures.
    pub system: SystemSummary,
    /// Whether run tracing is switched on.
    pub tracing_enabled: bool,
}

/// Metrics of an app: a registry for user metrics, per-function run metrics and process
/// metrics, with the Prometheus exposition and JSON summaries built from them.
///
/// # Examples
///
/// ```
/// use nestling_monitoring::{MonitoringSettings, MonitoringService};
///
/// let monitoring = MonitoringService::new(MonitoringSettings::default()).unwrap();
/// let signups = monitoring.registry().counter("app_signups_total", "Sign-ups").unwrap();
/// signups.inc();
/// assert!(monitoring.prometheus().contains("app_signups_total 1"));
/// ```
#[derive(Debug)]
pub struct MonitoringService {
    config: MonitoringSettings,
    registry: MetricsRegistry,
    functions: FunctionMetrics,
    sampler: Mutex<Option<tokio::task::JoinHandle<()>>>,
    otlp: Arc<Mutex<Option<OtlpMetrics>>>,
}

impl MonitoringService {
    /// A service with its metric families registered in a new registry.
    ///
    /// # Errors
    /// [`Error::Conflict`] cannot happen on a new registry; the `Result` is for
    /// [`MonitoringService::with_registry`]'s sake.
    pub fn new(config: MonitoringSettings) -> Result<Arc<Self>, Error> {
        Self::with_registry(config, MetricsRegistry::new())
    }

    /// A service that records into an existing registry (shared with other parts of the app).
    ///
    /// # Errors
    /// [`Error::Conflict`] when the registry already holds one of the module's metric names
    /// with another type.
    pub fn with_registry(
        config: MonitoringSettings,
        registry: MetricsRegistry,
    ) -> Result<Arc<Self>, Error> {
        Self::build(config, registry).map(Arc::new)
    }

    /// The service as a value, for the module's provider.
    pub(crate) fn build(
        config: MonitoringSettings,
        registry: MetricsRegistry,
    ) -> Result<Self, Error> {
        let functions = FunctionMetrics::new(&registry)?;
        register_process_metrics(&registry)?;

        Ok(Self {
            config,
            registry,
            functions,
            sampler: Mutex::new(None),
            otlp: Arc::default(),
        })
    }

    /// The settings the service runs with.
    pub fn config(&self) -> &MonitoringSettings {
        &self.config
    }

    /// The registry, where user counters, gauges and histograms are created.
    pub fn registry(&self) -> &MetricsRegistry {
        &self.registry
    }

    /// The per-function run metrics.
    pub fn functions(&self) -> &FunctionMetrics {
        &self.functions
    }

    /// Records a call of a function (no-op when `collect_metrics` is off).
    pub fn record_call(&self, call: ExecutionCall<'_>) -> Option<CallKind> {
        self.config
            .collect_metrics
            .then(|| self.functions.call_started(call))
    }

    /// Records a step that ran (no-op when `collect_metrics` is off).
    pub fn record_step(&self, function_id: &str, run_id: &str) {
        if self.config.collect_metrics {
            self.functions.step_executed(function_id, run_id);
        }
    }

    /// Records the end of a run (no-op when `collect_metrics` is off).
    pub fn record_finish(&self, function_id: &str, run_id: &str, outcome: RunOutcome) {
        if self.config.collect_metrics {
            self.functions.run_finished(function_id, run_id, outcome);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn prometheus(&self) -> String {
        self.registry.encode_prometheus()
    }

    /// The JSON summary: totals, functions and process figures.
    pub fn summary(&self) -> MetricsSummary {
        let functions = self.functions.summaries();
        let total_executions: u64 = functions.iter().map(|f| f.executions).sum();
        let failed: u64 = functions.iter().map(|f| f.failed).sum();
        let error_rate = if total_executions == 0 {
            0.0
        } else {
            failed as f64 / total_executions as f64 * 100.0
        };
        let stats = ProcessStats::read().ok();

        MetricsSummary {
            summary: SummaryTotals {
                healthy: error_rate < HEALTHY_ERROR_RATE,
                total_functions: functions.len() as u64,
                total_executions,
                in_flight: functions.iter().map(|f| f.in_flight).sum(),
                error_rate,
            },
            system: SystemSummary {
                memory_mb: stats
                    .as_ref()
                    .map(|s| s.resident_memory_bytes as f64 / 1_048_576.0),
                cpu_seconds: stats.as_ref().map(ProcessStats::cpu_seconds),
                uptime_ms: stats.as_ref().map(|s| (s.uptime_seconds * 1000.0) as u64),
            },
            functions,
            tracing_enabled: self.config.enable_tracing,
        }
    }

    /// Starts sampling process metrics every `metrics_interval` in the background and, when
    /// an OTLP endpoint is configured (settings or `OTEL_*`), pushing every metric there on the
    /// same interval (once; later calls do nothing). Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`Error::Otlp`] when the OTLP exporter cannot be built; sampling runs anyway.
    pub fn start_sampler(&self) -> Result<(), Error> {
        let mut sampler = self
            .sampler
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sampler.is_some() {
            return Ok(());
        }

        let period = self
            .config
            .metrics_interval
            .max(std::time::Duration::from_millis(100));
        let endpoint = metrics_endpoint(self.config.otlp_endpoint.as_deref(), |name| {
            std::env::var(name).ok()
        });
        let started = match &endpoint {
            Some(endpoint) => {
                OtlpMetrics::start(&self.registry, endpoint, period, &self.config.service_name)
                    .map(Some)
            }
            None => Ok(None),
        };
        let result = started
            .as_ref()
            .map(|_| ())
            .map_err(|error| Error::Otlp(error.to_string()));
        *self
            .otlp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = started.ok().flatten();

        let registry = self.registry.clone();
        let otlp = Arc::clone(&self.otlp);
        *sampler = Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                // Encoding runs the collectors, which refresh the sampled gauges.
                let _ = registry.encode_prometheus();
                if let Some(otlp) = otlp
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .as_ref()
                {
                    otlp.mirror(&registry);
                }
            }
        }));

        result
    }

    /// Stops the background sampler, if it runs.
    pub fn stop_sampler(&self) {
        let mut sampler = self
            .sampler
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(handle) = sampler.take() {
            handle.abort();
        }
        drop(sampler);

        if let Some(otlp) = self.take_otlp() {
            // The provider's shutdown waits for the reader thread's last push.
            otlp.shutdown();
        }
    }

    /// Takes the OTLP push out of the service, to shut it down elsewhere.
    pub(crate) fn take_otlp(&self) -> Option<OtlpMetrics> {
        self.otlp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl Drop for MonitoringService {
    fn drop(&mut self) {
        self.stop_sampler();
    }
}
