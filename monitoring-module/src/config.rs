//! What the monitoring module does, and where it serves it.

use std::time::Duration;

/// Settings of [`MonitoringService`](crate::MonitoringService).
///
/// [`InngestMonitoringModule`](crate::InngestMonitoringModule) fills the first four from the
/// Inngest module's `monitoring` options; the paths are this crate's own.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_monitoring::MonitoringSettings;
///
/// let config = MonitoringSettings { metrics_interval: Duration::from_secs(15), ..Default::default() };
/// assert_eq!(config.metrics_path, "/metrics");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringSettings {
    /// Serve the endpoints at all.
    pub enabled: bool,
    /// Record function runs; when off the endpoints serve only process metrics.
    pub collect_metrics: bool,
    /// How often process metrics are sampled in the background and, when OTLP export is on,
    /// pushed.
    pub metrics_interval: Duration,
    /// Whether run tracing is on (reported in the summary; tracing itself lives in
    /// `nestling-inngest`).
    pub enable_tracing: bool,
    /// Path of the Prometheus exposition; the JSON summaries sit below it (`/summary`,
    /// `/functions`, `/system`).
    pub metrics_path: String,
    /// Path of the documentation UI; the OpenAPI spec is served at `<docs_path>/openapi.json`.
    /// `None` serves neither.
    pub docs_path: Option<String>,
    /// OTLP/HTTP endpoint to push metrics to every `metrics_interval`; when `None`, the
    /// standard `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` decide,
    /// and without them nothing is pushed.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of pushed metrics.
    pub service_name: String,
}

impl Default for MonitoringSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            collect_metrics: true,
            metrics_interval: Duration::from_secs(30),
            enable_tracing: false,
            metrics_path: "/metrics".to_owned(),
            docs_path: Some("/docs/monitoring".to_owned()),
            otlp_endpoint: None,
            service_name: "nestling".to_owned(),
        }
    }
}

impl MonitoringSettings {
    /// Settings from the Inngest module's resolved `monitoring` options, paths at their
    /// defaults.
    pub fn from_inngest(config: &nestling_inngest::MonitoringConfig) -> Self {
        Self {
            enabled: config.enabled,
            collect_metrics: config.collect_metrics,
            metrics_interval: config.metrics_interval,
            enable_tracing: config.enable_tracing,
            ..Self::default()
        }
    }
}
