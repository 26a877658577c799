//! The nested option groups: connect, tracing, monitoring and health.
//!
//! Each group comes in two forms: `XxxOptions`, what the user writes (every field optional, so an
//! unset field never hides an environment variable or a default), and `XxxConfig`, what
//! [`InngestModuleOptions::resolve`](crate::InngestModuleOptions::resolve) produces (every field
//! decided and validated).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use super::duration::deserialize_opt_duration;

/// Options of connect mode (a persistent WebSocket to the Inngest gateway instead of an HTTP
/// endpoint that Inngest calls).
///
/// The fields are those of the official SDKs' `connect()` (and of the NestJS seed); they are
/// validated now, while the connect transport itself is separate work.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest::ConnectOptions;
///
/// let connect = ConnectOptions::default()
///     .instance_id("worker-1")
///     .max_worker_concurrency(10)
///     .shutdown_timeout(Duration::from_secs(60));
/// assert_eq!(connect.instance_id.as_deref(), Some("worker-1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Unique id of this worker. Default: `INNGEST_INSTANCE_ID`, then the platform's instance id
    /// (`FLY_MACHINE_ID`, `RENDER_INSTANCE_ID`, `K_REVISION`, `HOSTNAME`), then a random ULID.
    #[serde(alias = "instanceId")]
    pub instance_id: Option<String>,
    /// Most executions this worker runs at once, announced to the gateway (at least 1).
    /// Default: `INNGEST_CONNECT_MAX_WORKER_CONCURRENCY`, else unlimited.
    #[serde(
        alias = "maxWorkerConcurrency",
        alias = "max_concurrency",
        alias = "maxConcurrency"
    )]
    pub max_worker_concurrency: Option<u64>,
    /// Gateway URL (`ws://` or `wss://`) replacing the one the start call returns.
    /// Default: `INNGEST_CONNECT_GATEWAY_URL`, else none.
    #[serde(alias = "gatewayUrl")]
    pub gateway_url: Option<String>,
    /// Run each execution on its own task, so one that panics or blocks cannot stall the
    /// connection's heartbeats. Default: `INNGEST_CONNECT_ISOLATE_EXECUTION`, else `false`.
    #[serde(alias = "isolateExecution")]
    pub isolate_execution: Option<bool>,
    /// How long a graceful shutdown waits for in-flight executions (non-zero; milliseconds or
    /// `"30s"` in configuration). Default: `INNGEST_SHUTDOWN_TIMEOUT`, else 30 s.
    #[serde(
        alias = "shutdownTimeout",
        deserialize_with = "deserialize_opt_duration"
    )]
    pub shutdown_timeout: Option<Duration>,
    /// Signals that start a graceful shutdown (`SIGTERM`, `SIGINT`, `SIGHUP`, `SIGQUIT`; an empty
    /// list disables signal handling). Default: `SIGTERM` and `SIGINT`.
    #[serde(alias = "handleShutdownSignals")]
    pub handle_shutdown_signals: Option<Vec<String>>,
}

impl ConnectOptions {
    /// Sets [`ConnectOptions::instance_id`].
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.instance_id = Some(id.into());
        self
    }

    /// Sets [`ConnectOptions::max_worker_concurrency`].
    pub fn max_worker_concurrency(mut self, limit: u64) -> Self {
        self.max_worker_concurrency = Some(limit);
        self
    }

    /// Sets [`ConnectOptions::gateway_url`].
    pub fn gateway_url(mut self, url: impl Into<String>) -> Self {
        self.gateway_url = Some(url.into());
        self
    }

    /// Sets [`ConnectOptions::isolate_execution`].
    pub fn isolate_execution(mut self, isolate: bool) -> Self {
        self.isolate_execution = Some(isolate);
        self
    }

    /// Sets [`ConnectOptions::shutdown_timeout`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Sets [`ConnectOptions::handle_shutdown_signals`].
    pub fn handle_shutdown_signals<I, S>(mut self, signals: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.handle_shutdown_signals = Some(signals.into_iter().map(Into::into).collect());
        self
    }
}

/// Resolved connect-mode settings (see [`ConnectOptions`] for each field's meaning).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::time::Duration;
/// use nestling_inngest::{InngestModuleOptions, ShutdownSignal};
///
/// let env = BTreeMap::from([("INNGEST_INSTANCE_ID", "pod-7")]);
/// let resolved = InngestModuleOptions::new("my-app").resolve(&env)?;
/// assert_eq!(resolved.connect.instance_id, "pod-7");
/// assert_eq!(resolved.connect.shutdown_timeout, Duration::from_secs(30));
/// assert_eq!(resolved.connect.handle_shutdown_signals, [ShutdownSignal::Term, ShutdownSignal::Int]);
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectConfig {
    /// Unique id of this worker.
    pub instance_id: String,
    /// Most executions at once, or `None` for no limit.
    pub max_worker_concurrency: Option<u64>,
    /// Gateway URL override.
    pub gateway_url: Option<String>,
    /// Whether each execution runs on its own task.
    pub isolate_execution: bool,
    /// Graceful shutdown timeout.
    pub shutdown_timeout: Duration,
    /// Signals that start a graceful shutdown.
    pub handle_shutdown_signals: Vec<ShutdownSignal>,
}

/// A process signal that starts a graceful shutdown in connect mode.
///
/// # Examples
///
/// ```
/// use nestling_inngest::ShutdownSignal;
///
/// assert_eq!("sigterm".parse::<ShutdownSignal>(), Ok(ShutdownSignal::Term));
/// assert_eq!(ShutdownSignal::Int.to_string(), "SIGINT");
/// assert!("SIGKILL".parse::<ShutdownSignal>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShutdownSignal {
    /// `SIGTERM`, what orchestrators send.
    Term,
    /// `SIGINT`, Ctrl-C.
    Int,
    /// `SIGHUP`.
    Hup,
    /// `SIGQUIT`.
    Quit,
}

impl ShutdownSignal {
    /// The conventional name, e.g. `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Term => "SIGTERM",
            Self::Int => "SIGINT",
            Self::Hup => "SIGHUP",
            Self::Quit => "SIGQUIT",
        }
    }
}

impl fmt::Display for ShutdownSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ShutdownSignal {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        match bare {
            "TERM" => Ok(Self::Term),
            "INT" => Ok(Self::Int),
            "HUP" => Ok(Self::Hup),
            "QUIT" => Ok(Self::Quit),
            _ => Err(format!(
                "`{text}` is not a signal Nestling can handle; use SIGTERM, SIGINT, SIGHUP or SIGQUIT"
            )),
        }
    }
}

/// OpenTelemetry tracing of runs and steps.
///
/// # Examples
///
/// ```
/// use nestling_inngest::TracingOptions;
///
/// let tracing = TracingOptions::default()
///     .enabled(true)
///     .service_name("orders")
///     .include_step_data(true)
///     .default_attribute("deployment.environment", "staging");
/// assert_eq!(tracing.default_attributes.unwrap()["deployment.environment"], "staging");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TracingOptions {
    /// Whether runs and steps are traced. Default `false`.
    pub enabled: Option<bool>,
    /// Service name of the spans. Default: `OTEL_SERVICE_NAME`, else the app id.
    #[serde(alias = "serviceName")]
    pub service_name: Option<String>,
    /// OTLP/HTTP collector endpoint. Default: `OTEL_EXPORTER_OTLP_ENDPOINT`, else none (spans
    /// go to whatever tracing subscriber the app installed).
    #[serde(alias = "otlpEndpoint")]
    pub otlp_endpoint: Option<String>,
    /// Record event payloads on spans (off by default: payloads may hold personal data).
    #[serde(alias = "includeEventData")]
    pub include_event_data: Option<bool>,
    /// Record step inputs and outputs on spans. Default `false`.
    #[serde(alias = "includeStepData")]
    pub include_step_data: Option<bool>,
    /// Propagation of W3C trace context into the events the app sends.
    #[serde(alias = "contextInjection")]
    pub context_injection: Option<ContextInjectionOptions>,
    /// Attributes added to every span.
    #[serde(alias = "defaultAttributes")]
    pub default_attributes: Option<BTreeMap<String, String>>,
}

impl TracingOptions {
    /// Sets [`TracingOptions::enabled`].
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Sets [`TracingOptions::service_name`].
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets [`TracingOptions::otlp_endpoint`].
    pub fn otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(endpoint.into());
        self
    }

    /// Sets [`TracingOptions::include_event_data`].
    pub fn include_event_data(mut self, include: bool) -> Self {
        self.include_event_data = Some(include);
        self
    }

    /// Sets [`TracingOptions::include_step_data`].
    pub fn include_step_data(mut self, include: bool) -> Self {
        self.include_step_data = Some(include);
        self
    }

    /// Sets [`TracingOptions::context_injection`].
    pub fn context_injection(mut self, injection: ContextInjectionOptions) -> Self {
        self.context_injection = Some(injection);
        self
    }

    /// Adds one entry to [`TracingOptions::default_attributes`].
    pub fn default_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_attributes
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }
}

/// Where sent events carry the sender's trace context.
///
/// # Examples
///
/// ```
/// use nestling_inngest::ContextInjectionOptions;
///
/// let injection = ContextInjectionOptions::default().field_name("trace");
/// assert_eq!(injection.field_name.as_deref(), Some("trace"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ContextInjectionOptions {
    /// Whether trace context is injected (when tracing is enabled). Default `true`.
    pub enabled: Option<bool>,
    /// Field of `data` that receives it. Default `traceContext`.
    #[serde(alias = "fieldName")]
    pub field_name: Option<String>,
}

impl ContextInjectionOptions {
    /// Sets [`ContextInjectionOptions::enabled`].
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Sets [`ContextInjectionOptions::field_name`].
    pub fn field_name(mut self, name: impl Into<String>) -> Self {
        self.field_name = Some(name.into());
        self
    }
}

/// Resolved tracing settings (see [`TracingOptions`]).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::InngestModuleOptions;
///
/// let env = BTreeMap::from([("OTEL_SERVICE_NAME", "billing")]);
/// let resolved = InngestModuleOptions::new("my-app").resolve(&env)?;
/// assert_eq!(resolved.tracing.service_name, "billing");
/// assert_eq!(resolved.tracing.context_field_name, "traceContext");
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TracingConfig {
    /// Whether tracing is on.
    pub enabled: bool,
    /// Service name of the spans.
    pub service_name: String,
    /// OTLP/HTTP collector endpoint, if any.
    pub otlp_endpoint: Option<String>,
    /// Record event payloads on spans.
    pub include_event_data: bool,
    /// Record step inputs and outputs on spans.
    pub include_step_data: bool,
    /// Whether trace context is injected into sent events.
    pub inject_context: bool,
    /// Field of `data` that receives the trace context.
    pub context_field_name: String,
    /// Attributes added to every span.
    pub default_attributes: BTreeMap<String, String>,
}

/// Metrics collection, read by the monitoring module.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest::MonitoringOptions;
///
/// let monitoring = MonitoringOptions::default().metrics_interval(Duration::from_secs(15));
/// assert_eq!(monitoring.metrics_interval, Some(Duration::from_secs(15)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MonitoringOptions {
    /// Whether monitoring runs. Default `true`.
    pub enabled: Option<bool>,
    /// Whether run and step metrics are collected. Default `true`.
    #[serde(alias = "collectMetrics")]
    pub collect_metrics: Option<bool>,
    /// How often gauges are sampled (at least 1 s). Default 30 s.
    #[serde(
        alias = "metricsInterval",
        deserialize_with = "deserialize_opt_duration"
    )]
    pub metrics_interval: Option<Duration>,
    /// Whether monitoring links metrics to traces. Default: whether tracing is enabled.
    #[serde(alias = "enableTracing")]
    pub enable_tracing: Option<bool>,
}

impl MonitoringOptions {
    /// Sets [`MonitoringOptions::enabled`].
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Sets [`MonitoringOptions::collect_metrics`].
    pub fn collect_metrics(mut self, collect: bool) -> Self {
        self.collect_metrics = Some(collect);
        self
    }

    /// Sets [`MonitoringOptions::metrics_interval`].
    pub fn metrics_interval(mut self, interval: Duration) -> Self {
        self.metrics_interval = Some(interval);
        self
    }

    /// Sets [`MonitoringOptions::enable_tracing`].
    pub fn enable_tracing(mut self, enable: bool) -> Self {
        self.enable_tracing = Some(enable);
        self
    }
}

/// Resolved monitoring settings (see [`MonitoringOptions`]).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::InngestModuleOptions;
///
/// let resolved = InngestModuleOptions::new("my-app").resolve(&BTreeMap::<&str, &str>::new())?;
/// assert!(resolved.monitoring.enabled);
/// assert!(!resolved.monitoring.enable_tracing, "follows tracing.enabled");
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MonitoringConfig {
    /// Whether monitoring runs.
    pub enabled: bool,
    /// Whether metrics are collected.
    pub collect_metrics: bool,
    /// Sampling interval.
    pub metrics_interval: Duration,
    /// Whether metrics are linked to traces.
    pub enable_tracing: bool,
}

/// The health endpoint, read by the health module.
///
/// # Examples
///
/// ```
/// use nestling_inngest::HealthOptions;
///
/// let health = HealthOptions::default().path("/healthz/inngest").include_details(true);
/// assert_eq!(health.path.as_deref(), Some("/healthz/inngest"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HealthOptions {
    /// Whether the health endpoint is served. Default `true`.
    pub enabled: Option<bool>,
    /// Path of the endpoint. Default `/health/inngest`.
    pub path: Option<String>,
    /// Whether the body lists per-function details. Default `false` (they reveal internals).
    #[serde(alias = "includeDetails")]
    pub include_details: Option<bool>,
    /// Whether the body includes metrics. Default `true`.
    #[serde(alias = "enableMetrics")]
    pub enable_metrics: Option<bool>,
    /// How often the health state is refreshed (at least 1 s). Default 30 s.
    #[serde(alias = "checkInterval", deserialize_with = "deserialize_opt_duration")]
    pub check_interval: Option<Duration>,
}

impl HealthOptions {
    /// Sets [`HealthOptions::enabled`].
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Sets [`HealthOptions::path`].
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets [`HealthOptions::include_details`].
    pub fn include_details(mut self, include: bool) -> Self {
        self.include_details = Some(include);
        self
    }

    /// Sets [`HealthOptions::enable_metrics`].
    pub fn enable_metrics(mut self, enable: bool) -> Self {
        self.enable_metrics = Some(enable);
        self
    }

    /// Sets [`HealthOptions::check_interval`].
    pub fn check_interval(mut self, interval: Duration) -> Self {
        self.check_interval = Some(interval);
        self
    }
}

/// Resolved health settings (see [`HealthOptions`]).
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::InngestModuleOptions;
///
/// let resolved = InngestModuleOptions::new("my-app").resolve(&BTreeMap::<&str, &str>::new())?;
/// assert_eq!(resolved.health.path, "/health/inngest");
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthConfig {
    /// Whether the endpoint is served.
    pub enabled: bool,
    /// Path of the endpoint.
    pub path: String,
    /// Whether per-function details are included.
    pub include_details: bool,
    /// Whether metrics are included.
    pub enable_metrics: bool,
    /// Refresh interval.
    pub check_interval: Duration,
}
