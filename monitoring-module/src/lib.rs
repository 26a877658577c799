//! Metrics and Prometheus exposition for Nestling Inngest apps.
//!
//! - [`MetricsRegistry`]: counters, gauges and histograms with labels, encoded in the Prometheus
//!   text format with correct `# TYPE` lines, escaped label values and real histogram buckets.
//! - [`FunctionMetrics`]: per-function run metrics under the names users of the NestJS package
//!   know (`inngest_function_executions_total{function_id,result}`,
//!   `inngest_function_execution_duration_seconds`), counting runs rather than re-entries.
//! - [`ProcessStats`]: the process's resident memory, CPU time and uptime.
//! - [`MonitoringService`] and [`InngestMonitoringModule`]: `GET /metrics` (Prometheus text),
//!   `GET /metrics/summary`, `/metrics/functions` and `/metrics/system` (JSON), the OpenAPI
//!   spec at `/docs/monitoring/openapi.json` and a docs UI at `/docs/monitoring`, and an
//!   OTLP/HTTP push of every metric when an endpoint is configured; settings come from the
//!   Inngest module's `monitoring` options. [`MonitoringMiddleware`] feeds the run metrics
//!   from the execution hooks.

mod config;
mod error;
mod function;
mod http;
mod middleware;
mod module;
mod otlp;
mod registry;
mod service;
mod system;

pub use config::MonitoringSettings;
pub use error::Error;
pub use function::{CallKind, ExecutionCall, FunctionMetrics, FunctionSummary, RunOutcome};
pub use http::{MonitoringApi, monitoring_spec};
pub use middleware::MonitoringMiddleware;
pub use module::InngestMonitoringModule;
pub use registry::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, MetricKind, MetricsRegistry,
    PROMETHEUS_CONTENT_TYPE, RUN_DURATION_BUCKETS,
};
pub use service::{MetricsSummary, MonitoringService, SummaryTotals, SystemSummary};
pub use system::{ProcessStats, register_process_metrics};
