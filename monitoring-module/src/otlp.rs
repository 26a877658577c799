//! OTLP export of the registry's metrics, pushed every metrics interval.
//!
//! Every family is mirrored by an OpenTelemetry observable instrument whose callback reads
//! the registry when the SDK collects: counters as counters, gauges as gauges. OpenTelemetry
//! has no asynchronous histogram, so a histogram is pushed as its `<name>_sum` and
//! `<name>_count` counters; its buckets are in the Prometheus exposition.
//!
//! The workspace's OTLP exporter uses async reqwest, which needs a Tokio reactor, while the
//! SDK's periodic reader exports from a plain thread; [`RuntimeExporter`] gives that thread a
//! one-thread runtime of its own to run the export on.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};

use crate::Error;
use crate::registry::{MetricKind, MetricsRegistry};

/// Where metrics go: `endpoint` (an origin, to which `/v1/metrics` is added, or a full URL),
/// else `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` plus
/// `/v1/metrics`. `None` when none is set or `OTEL_METRICS_EXPORTER` is `none`.
pub(crate) fn metrics_endpoint(
    endpoint: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    if env("OTEL_METRICS_EXPORTER").is_some_and(|value| value.trim() == "none") {
        return None;
    }
    let with_path = |origin: &str| {
        let origin = origin.trim_end_matches('/');
        if origin.ends_with("/v1/metrics") {
            origin.to_owned()
        } else {
            format!("{origin}/v1/metrics")
        }
    };
    if let Some(endpoint) = endpoint {
        return Some(with_path(endpoint));
    }
    if let Some(metrics) =
        env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").filter(|v| !v.trim().is_empty())
    {
        return Some(metrics);
    }
    env("OTEL_EXPORTER_OTLP_ENDPOINT")
        .filter(|v| !v.trim().is_empty())
        .map(|v| with_path(&v))
}

/// A running OTLP push of one registry.
#[derive(Debug)]
pub(crate) struct OtlpMetrics {
    provider: SdkMeterProvider,
    meter: Meter,
    mirrored: Mutex<HashSet<String>>,
}

impl OtlpMetrics {
    /// Starts pushing `registry` to `endpoint` every `interval`.
    pub(crate) fn start(
        registry: &MetricsRegistry,
        endpoint: &str,
        interval: Duration,
        service_name: &str,
    ) -> Result<Self, Error> {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()
            .map_err(|error| Error::Otlp(format!("{endpoint}: {error}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::Otlp(format!("cannot build the export runtime: {error}")))?;
        let reader = PeriodicReader::builder(RuntimeExporter {
            inner: exporter,
            runtime,
        })
        .with_interval(interval)
        .build();
        let provider = SdkMeterProvider::builder()
            .with_resource(
                Resource::builder()
                    .with_service_name(service_name.to_owned())
                    .build(),
            )
            .with_reader(reader)
            .build();
        let meter = provider.meter("nestling-monitoring");

        let otlp = Self {
            provider,
            meter,
            mirrored: Mutex::new(HashSet::new()),
        };
        otlp.mirror(registry);
        Ok(otlp)
    }

    /// Adds instruments for families registered since the last call.
    pub(crate) fn mirror(&self, registry: &MetricsRegistry) {
        let mut mirrored = self
            .mirrored
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, kind, help) in registry.families() {
            if !mirrored.insert(name.clone()) {
                continue;
            }
            let registry = registry.clone();
            match kind {
                MetricKind::Counter => {
                    let family = name.clone();
                    let _ = self
                        .meter
                        .f64_observable_counter(name)
                        .with_description(help)
                        .with_callback(move |observer| {
                            for series in registry.series_values(&family) {
                                observer.observe(series.value, &attributes(&series.labels));
                            }
                        })
                        .build();
                }
                MetricKind::Gauge => {
                    let family = name.clone();
                    let _ = self
                        .meter
                        .f64_observable_gauge(name)
                        .with_description(help)
                        .with_callback(move |observer| {
                            for series in registry.series_values(&family) {
                                observer.observe(series.value, &attributes(&series.labels));
                            }
                        })
                        .build();
                }
                MetricKind::Histogram => {
                    let (family, counts) = (name.clone(), registry.clone());
                    let _ = self
                        .meter
                        .f64_observable_counter(format!("{name}_sum"))
                        .with_description(help.clone())
                        .with_callback(move |observer| {
                            for series in registry.series_values(&family) {
                                observer.observe(series.value, &attributes(&series.labels));
                            }
                        })
                        .build();
                    let family = name.clone();
                    let _ = self
                        .meter
                        .u64_observable_counter(format!("{name}_count"))
                        .with_description(help)
                        .with_callback(move |observer| {
                            for series in counts.series_values(&family) {
                                observer.observe(
                                    series.count.unwrap_or(0),
                                    &attributes(&series.labels),
                                );
                            }
                        })
                        .build();
                }
            }
        }
    }

    /// Pushes what was collected so far, then stops.
    pub(crate) fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }
}

fn attributes(labels: &[(String, String)]) -> Vec<KeyValue> {
    labels
        .iter()
        .map(|(key, value)| KeyValue::new(key.clone(), value.clone()))
        .collect()
}

/// Runs the OTLP exporter's async export on a runtime of its own, from the periodic reader's
/// thread (which has none).
#[derive(Debug)]
struct RuntimeExporter {
    inner: opentelemetry_otlp::MetricExporter,
    runtime: tokio::runtime::Runtime,
}

impl PushMetricExporter for RuntimeExporter {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        // The periodic reader calls this on its own thread, never inside a Tokio runtime, so
        // blocking on this exporter's runtime is allowed there.
        std::future::ready(self.runtime.block_on(self.inner.export(metrics)))
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_comes_from_settings_then_the_standard_variables() {
        let none = |_: &str| None;
        assert_eq!(
            metrics_endpoint(Some("http://c:4318/"), none).unwrap(),
            "http://c:4318/v1/metrics"
        );
        assert!(metrics_endpoint(None, none).is_none());
        let generic = |name: &str| {
            (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://g:4318".to_owned())
        };
        assert_eq!(
            metrics_endpoint(None, generic).unwrap(),
            "http://g:4318/v1/metrics"
        );
        let off = |name: &str| (name == "OTEL_METRICS_EXPORTER").then(|| "none".to_owned());
        assert!(metrics_endpoint(Some("http://c:4318"), off).is_none());
    }
}
