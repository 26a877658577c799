//! OTLP export of spans, configured by the `tracing` options or the standard `OTEL_*`
//! variables, and the subscriber that feeds it.
//!
//! The OTLP exporter of this workspace talks HTTP through async reqwest, which needs a Tokio
//! reactor; the SDK's batch processor exports from a plain thread, where there is none. So
//! spans are batched by [`ExportThread`]: a thread of its own running a one-thread Tokio
//! runtime. It works the same whatever runtime (or none) the app uses, and never blocks the
//! app's tasks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
#[cfg(feature = "otlp")]
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter, SpanProcessor};
use tokio::sync::mpsc;

use crate::TracingConfig;

/// How many finished spans may wait for export; more are dropped (and counted).
const MAX_QUEUED_SPANS: usize = 4096;
/// Spans sent in one export request at most.
const MAX_BATCH: usize = 512;
/// How long a span waits at most before its batch is sent.
const SCHEDULED_DELAY: Duration = Duration::from_millis(500);

/// Setting up telemetry failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The OTLP exporter could not be built (a bad endpoint, or an unusable `OTEL_*` value).
    #[error(
        "telemetry: cannot build the OTLP span exporter for {endpoint}: {message}; check \
         `tracing.otlp_endpoint` or OTEL_EXPORTER_OTLP_ENDPOINT"
    )]
    Exporter {
        /// The endpoint, or `OTEL_* variables` when it came from the environment.
        endpoint: String,
        /// What the exporter said.
        message: String,
    },

    /// Spans should be exported, but this build has no OTLP exporter: the `otlp` cargo
    /// feature of `nestling-inngest` is off.
    #[error(
        "telemetry: spans should be exported to {endpoint} (from {configured_by}), but this \
         build of nestling-inngest has no OTLP exporter: turn on its `otlp` cargo feature, or \
         unset {configured_by} (OTEL_TRACES_EXPORTER=none turns export off) and add your own \
         exporter's layer to the subscriber"
    )]
    ExportDisabled {
        /// The endpoint spans were meant for.
        endpoint: String,
        /// The option or variable that set it.
        configured_by: &'static str,
    },

    /// A global subscriber is already installed.
    #[error(
        "telemetry: a global tracing subscriber is already installed ({0}); add \
         `telemetry_layer(..)` to that subscriber instead of calling `init_telemetry`"
    )]
    Subscriber(String),

    /// Flushing or shutting down the exporter failed or timed out.
    #[error("telemetry: {0}")]
    Shutdown(String),
}

/// Where spans go: the endpoint from the options (an origin like `http://collector:4318`, to
/// which `/v1/traces` is added, or a full URL), or, when unset, what the `OTEL_*` variables
/// say. `None` when tracing is off, or no endpoint is set anywhere, or `OTEL_TRACES_EXPORTER`
/// is `none`.
pub fn otlp_traces_endpoint(config: &TracingConfig) -> Option<String> {
    otlp_traces_endpoint_with(config, |name| std::env::var(name).ok())
}

fn otlp_traces_endpoint_with(
    config: &TracingConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    if !config.enabled || env("OTEL_TRACES_EXPORTER").is_some_and(|value| value.trim() == "none") {
        return None;
    }
    if let Some(endpoint) = &config.otlp_endpoint {
        let endpoint = endpoint.trim_end_matches('/');
        return Some(if endpoint.ends_with("/v1/traces") {
            endpoint.to_owned()
        } else {
            format!("{endpoint}/v1/traces")
        });
    }
    if let Some(traces) = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").filter(|v| !v.trim().is_empty())
    {
        return Some(traces);
    }
    env("OTEL_EXPORTER_OTLP_ENDPOINT")
        .filter(|v| !v.trim().is_empty())
        .map(|endpoint| format!("{}/v1/traces", endpoint.trim_end_matches('/')))
}

/// A tracer provider exporting over OTLP/HTTP, named after `config.service_name`, or `None`
/// when [`otlp_traces_endpoint`] finds nowhere to send spans.
///
/// # Errors
/// [`TelemetryError::Exporter`] when the exporter cannot be built, and
/// [`TelemetryError::ExportDisabled`] when an endpoint is set but the crate's `otlp` feature
/// is off.
pub fn otlp_tracer_provider(
    config: &TracingConfig,
) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let Some(endpoint) = otlp_traces_endpoint(config) else {
        return Ok(None);
    };

    exporting_provider(config, endpoint).map(Some)
}

#[cfg(feature = "otlp")]
fn exporting_provider(
    config: &TracingConfig,
    endpoint: String,
) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint.clone())
        .build()
        .map_err(|error| TelemetryError::Exporter {
            endpoint: endpoint.clone(),
            message: error.to_string(),
        })?;

    let mut resource = Resource::builder();
    if !config.service_name.is_empty() {
        resource = resource.with_service_name(config.service_name.clone());
    }
    let provider = SdkTracerProvider::builder()
        .with_resource(resource.build())
        .with_span_processor(ExportThread::new(exporter))
        .build();
    tracing::debug!(target: "nestling_inngest::telemetry", %endpoint, "exporting spans over OTLP/HTTP");

    Ok(provider)
}

#[cfg(not(feature = "otlp"))]
fn exporting_provider(
    config: &TracingConfig,
    endpoint: String,
) -> Result<SdkTracerProvider, TelemetryError> {
    Err(TelemetryError::ExportDisabled {
        endpoint,
        configured_by: endpoint_setting(config, |name| std::env::var(name).ok()),
    })
}

/// The setting that chose the endpoint, in the order [`otlp_traces_endpoint`] reads them.
/// Resolved options fill `otlp_endpoint` from OTEL_EXPORTER_OTLP_ENDPOINT too, hence the
/// "or".
#[cfg_attr(
    feature = "otlp",
    expect(dead_code, reason = "named only when export is off")
)]
fn endpoint_setting(config: &TracingConfig, env: impl Fn(&str) -> Option<String>) -> &'static str {
    if config.otlp_endpoint.is_some() {
        "`tracing.otlp_endpoint` (or OTEL_EXPORTER_OTLP_ENDPOINT)"
    } else if env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some_and(|v| !v.trim().is_empty()) {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    } else {
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    }
}

/// The `tracing` layer that turns spans into OpenTelemetry spans of `provider`.
pub fn telemetry_layer<S>(
    provider: &SdkTracerProvider,
    config: &TracingConfig,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let name = if config.service_name.is_empty() {
        "nestling-inngest".to_owned()
    } else {
        config.service_name.clone()
    };
    tracing_opentelemetry::layer().with_tracer(provider.tracer(name))
}

/// Keeps the tracer provider alive; flushes and shuts it down on [`shutdown`](Self::shutdown)
/// or when dropped.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    /// Wraps a provider (built by [`otlp_tracer_provider`] or by hand).
    pub fn new(provider: SdkTracerProvider) -> Self {
        Self { provider }
    }

    /// The provider spans go to.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// Sends every finished span now.
    ///
    /// # Errors
    /// [`TelemetryError::Shutdown`] when the export fails or times out.
    pub fn force_flush(&self) -> Result<(), TelemetryError> {
        self.provider
            .force_flush()
            .map_err(|error| TelemetryError::Shutdown(error.to_string()))
    }

    /// Sends what is left and stops exporting (call it after the server has drained).
    ///
    /// # Errors
    /// [`TelemetryError::Shutdown`] when the last export fails or times out.
    pub fn shutdown(self) -> Result<(), TelemetryError> {
        let result = self
            .provider
            .shutdown()
            .map_err(|error| TelemetryError::Shutdown(error.to_string()));
        std::mem::forget(self);
        result
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs a global subscriber: an `EnvFilter` from `RUST_LOG` (default `info`), a `fmt`
/// layer and, when [`otlp_tracer_provider`] finds an endpoint, OpenTelemetry export. Also
/// installs the W3C trace-context propagator globally. Returns the guard to keep (and shut
/// down at exit) when export is on.
///
/// # Errors
/// [`TelemetryError::Exporter`] as for [`otlp_tracer_provider`], and
/// [`TelemetryError::Subscriber`] when a global subscriber is already installed.
pub fn init_telemetry(config: &TracingConfig) -> Result<Option<TelemetryGuard>, TelemetryError> {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = otlp_tracer_provider(config)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let otel = provider
        .as_ref()
        .map(|provider| telemetry_layer(provider, config));

    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer())
        .with(otel)
        .try_init()
        .map_err(|error| TelemetryError::Subscriber(error.to_string()))?;

    if let Some(provider) = &provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }

    Ok(provider.map(TelemetryGuard::new))
}

enum Message {
    Span(Box<SpanData>),
    Resource(Resource),
    Flush(std::sync::mpsc::Sender<OTelSdkResult>),
    Shutdown(std::sync::mpsc::Sender<OTelSdkResult>),
}

/// A span processor that batches finished spans and exports them from its own thread, which
/// runs a one-thread Tokio runtime for the async HTTP client.
#[derive(Debug)]
pub struct ExportThread {
    sender: mpsc::UnboundedSender<Message>,
    queued: Arc<AtomicUsize>,
    dropped: AtomicUsize,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl ExportThread {
    /// Starts the export thread for `exporter`.
    ///
    /// # Panics
    /// When the operating system cannot start a thread or the thread cannot build its
    /// runtime, as `std::thread::spawn` does.
    pub fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&queued);
        let thread = std::thread::Builder::new()
            .name("nestling-otlp-export".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the span export thread needs a Tokio runtime");
                runtime.block_on(export_loop(exporter, receiver, counter));
            })
            .expect("the span export thread could not be started");

        Self {
            sender,
            queued,
            dropped: AtomicUsize::new(0),
            thread: Mutex::new(Some(thread)),
        }
    }

    fn request(
        &self,
        make: impl FnOnce(std::sync::mpsc::Sender<OTelSdkResult>) -> Message,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (reply, answer) = std::sync::mpsc::channel();
        if self.sender.send(make(reply)).is_err() {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        answer
            .recv_timeout(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout))?
    }
}

impl SpanProcessor for ExportThread {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.queued.fetch_add(1, Ordering::Relaxed) >= MAX_QUEUED_SPANS {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(target: "nestling_inngest::telemetry", dropped, "span export queue is full; dropping spans");
            }
            return;
        }
        if self.sender.send(Message::Span(Box::new(span))).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.request(Message::Flush, Duration::from_secs(10))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.request(Message::Shutdown, timeout);
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            // The thread ends right after answering; a timed-out one is left to finish alone.
            if result.is_ok() {
                let _ = thread.join();
            }
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        let _ = self.sender.send(Message::Resource(resource.clone()));
    }
}

async fn export_loop<E: SpanExporter>(
    mut exporter: E,
    mut receiver: mpsc::UnboundedReceiver<Message>,
    queued: Arc<AtomicUsize>,
) {
    let mut batch: Vec<SpanData> = Vec::new();
    let mut ticks = tokio::time::interval(SCHEDULED_DELAY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            message = receiver.recv() => match message {
                Some(Message::Span(span)) => {
                    queued.fetch_sub(1, Ordering::Relaxed);
                    batch.push(*span);
                    if batch.len() >= MAX_BATCH {
                        let _ = export(&exporter, &mut batch).await;
                    }
                }
                Some(Message::Resource(resource)) => exporter.set_resource(&resource),
                Some(Message::Flush(reply)) => {
                    let _ = reply.send(export(&exporter, &mut batch).await);
                }
                Some(Message::Shutdown(reply)) => {
                    let result = export(&exporter, &mut batch).await;
                    let _ = reply.send(result.and(exporter.shutdown()));
                    break;
                }
                None => {
                    let _ = export(&exporter, &mut batch).await;
                    let _ = exporter.shutdown();
                    break;
                }
            },
            _ = ticks.tick() => {
                if !batch.is_empty() {
                    let _ = export(&exporter, &mut batch).await;
                }
            }
        }
    }
}

async fn export<E: SpanExporter>(exporter: &E, batch: &mut Vec<SpanData>) -> OTelSdkResult {
    if batch.is_empty() {
        return Ok(());
    }
    let spans = std::mem::take(batch);
    let count = spans.len();
    let result = exporter.export(spans).await;
    if let Err(error) = &result {
        tracing::debug!(target: "nestling_inngest::telemetry", count, %error, "span export failed");
    }
    result
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(enabled: bool, endpoint: Option<&str>) -> TracingConfig {
        TracingConfig {
            enabled,
            service_name: "svc".to_owned(),
            otlp_endpoint: endpoint.map(str::to_owned),
            include_event_data: false,
            include_step_data: false,
            inject_context: true,
            context_field_name: "traceContext".to_owned(),
            default_attributes: Default::default(),
        }
    }

    #[test]
    fn the_endpoint_comes_from_options_then_the_standard_variables() {
        let env: HashMap<&str, &str> = HashMap::from([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:4318/custom",
            ),
        ]);
        let lookup = |name: &str| env.get(name).map(|v| (*v).to_owned());

        let with_option = config(true, Some("http://local:4318"));
        assert_eq!(
            otlp_traces_endpoint_with(&with_option, lookup).unwrap(),
            "http://local:4318/v1/traces"
        );
        assert_eq!(
            otlp_traces_endpoint_with(&config(true, None), lookup).unwrap(),
            "http://traces:4318/custom"
        );
        let generic = |name: &str| {
            (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://c:4318/".to_owned())
        };
        assert_eq!(
            otlp_traces_endpoint_with(&config(true, None), generic).unwrap(),
            "http://c:4318/v1/traces"
        );

        assert!(otlp_traces_endpoint_with(&config(false, Some("http://x:1")), lookup).is_none());
        let none = |name: &str| (name == "OTEL_TRACES_EXPORTER").then(|| "none".to_owned());
        assert!(otlp_traces_endpoint_with(&config(true, Some("http://x:1")), none).is_none());
        assert!(otlp_traces_endpoint_with(&config(true, None), |_| None).is_none());
    }
}
