//! Resolution of the nested option groups: connect, tracing, monitoring, health.

use std::time::Duration;

use super::env::{EnvSource, env_vars as ev};
use super::problems::ValueSource;
use super::resolve::{Resolver, Sourced};
use super::sections::{
    ConnectConfig, ConnectOptions, ContextInjectionOptions, HealthConfig, HealthOptions,
    MonitoringConfig, MonitoringOptions, ShutdownSignal, TracingConfig, TracingOptions,
};
use super::values::{check_ws_url, parse_bool_strict, parse_origin};

impl<E: EnvSource> Resolver<'_, E> {
    pub(super) fn connect(&mut self, options: Option<&ConnectOptions>) -> ConnectConfig {
        let default = ConnectOptions::default();
        let ConnectOptions {
            instance_id,
            max_worker_concurrency,
            gateway_url,
            isolate_execution,
            shutdown_timeout,
            handle_shutdown_signals,
        } = options.unwrap_or(&default);

        let mut id_vars = vec![ev::INNGEST_INSTANCE_ID];
        id_vars.extend(ev::INSTANCE_ID_FALLBACKS);
        let instance_id = self
            .string(instance_id, &id_vars)
            .map_or_else(|| ulid::Ulid::new().to_string(), |id| id.value);

        let max_worker_concurrency = self.parsed(
            "connect.max_worker_concurrency",
            *max_worker_concurrency,
            &[ev::INNGEST_CONNECT_MAX_WORKER_CONCURRENCY],
            |text| {
                text.parse::<u64>()
                    .map_err(|_| format!("`{text}` is not a whole number"))
            },
        );
        if let Some(Sourced { value: 0, source }) = max_worker_concurrency {
            self.problem(
                "connect.max_worker_concurrency",
                source,
                "must be at least 1; leave it unset for no limit",
            );
        }

        let gateway_url = self.checked(
            "connect.gateway_url",
            gateway_url,
            &[ev::INNGEST_CONNECT_GATEWAY_URL],
            |url| check_ws_url(url).map(|()| url.to_owned()),
        );

        let isolate_execution = self
            .parsed(
                "connect.isolate_execution",
                *isolate_execution,
                &[ev::INNGEST_CONNECT_ISOLATE_EXECUTION],
                parse_bool_strict,
            )
            .is_some_and(|isolate| isolate.value);

        let shutdown_timeout = self.parsed(
            "connect.shutdown_timeout",
            *shutdown_timeout,
            &[ev::INNGEST_SHUTDOWN_TIMEOUT],
            super::duration::parse_duration,
        );
        if let Some(Sourced {
            value: Duration::ZERO,
            source,
        }) = shutdown_timeout
        {
            self.problem(
                "connect.shutdown_timeout",
                source,
                "must be longer than zero, or in-flight executions are cut off at once; the \
                 default is 30s",
            );
        }

        let mut signals = Vec::new();
        match handle_shutdown_signals {
            None => signals.extend([ShutdownSignal::Term, ShutdownSignal::Int]),
            Some(names) => {
                for name in names {
                    match name.parse::<ShutdownSignal>() {
                        Ok(signal) if !signals.contains(&signal) => signals.push(signal),
                        Ok(_) => {}
                        Err(message) => self.problem(
                            "connect.handle_shutdown_signals",
                            ValueSource::Option,
                            message,
                        ),
                    }
                }
            }
        }

        ConnectConfig {
            instance_id,
            max_worker_concurrency: max_worker_concurrency.map(|limit| limit.value),
            gateway_url,
            isolate_execution,
            shutdown_timeout: shutdown_timeout.map_or(Duration::from_secs(30), |t| t.value),
            handle_shutdown_signals: signals,
        }
    }

    pub(super) fn tracing(
        &mut self,
        options: Option<&TracingOptions>,
        app_id: Option<&str>,
    ) -> TracingConfig {
        let default = TracingOptions::default();
        let TracingOptions {
            enabled,
            service_name,
            otlp_endpoint,
            include_event_data,
            include_step_data,
            context_injection,
            default_attributes,
        } = options.unwrap_or(&default);
        let default_injection = ContextInjectionOptions::default();
        let ContextInjectionOptions {
            enabled: inject_enabled,
            field_name,
        } = context_injection.as_ref().unwrap_or(&default_injection);

        let service_name = self
            .string(service_name, &[ev::OTEL_SERVICE_NAME])
            .map(|name| name.value)
            .or_else(|| app_id.map(str::to_owned))
            .unwrap_or_default();

        #[cfg(not(feature = "otlp"))]
        if enabled.unwrap_or(false) && otlp_endpoint.is_some() {
            // Only the option: OTEL_EXPORTER_OTLP_ENDPOINT may be set for every process of a
            // deployment, and `otlp_tracer_provider` says what is missing if export is asked.
            self.problem(
                "tracing.otlp_endpoint",
                ValueSource::Option,
                "is set, but this build of nestling-inngest cannot export spans (its `otlp` \
                 cargo feature is off): turn the feature on, or remove the option and add your \
                 own exporter's layer to the subscriber",
            );
        }

        let otlp_endpoint = self.checked(
            "tracing.otlp_endpoint",
            otlp_endpoint,
            &[ev::OTEL_EXPORTER_OTLP_ENDPOINT],
            |endpoint| {
                parse_origin(endpoint)
                    .map(|_| endpoint.to_owned())
                    .map_err(|message| format!("`{endpoint}` is not usable: {message}"))
            },
        );

        let context_field_name = match field_name.as_deref().map(str::trim) {
            None => "traceContext".to_owned(),
            Some(name) if name.is_empty() || name == "_inngest" => {
                self.problem(
                    "tracing.context_injection.field_name",
                    ValueSource::Option,
                    "must be a non-empty field name other than `_inngest` (which Inngest strips \
                     from event data); the default is `traceContext`",
                );
                "traceContext".to_owned()
            }
            Some(name) => name.to_owned(),
        };

        TracingConfig {
            enabled: enabled.unwrap_or(false),
            service_name,
            otlp_endpoint,
            include_event_data: include_event_data.unwrap_or(false),
            include_step_data: include_step_data.unwrap_or(false),
            inject_context: inject_enabled.unwrap_or(true),
            context_field_name,
            default_attributes: default_attributes.clone().unwrap_or_default(),
        }
    }

    pub(super) fn monitoring(
        &mut self,
        options: Option<&MonitoringOptions>,
        tracing_enabled: bool,
    ) -> MonitoringConfig {
        let default = MonitoringOptions::default();
        let MonitoringOptions {
            enabled,
            collect_metrics,
            metrics_interval,
            enable_tracing,
        } = options.unwrap_or(&default);

        MonitoringConfig {
            enabled: enabled.unwrap_or(true),
            collect_metrics: collect_metrics.unwrap_or(true),
            metrics_interval: self.interval("monitoring.metrics_interval", *metrics_interval),
            enable_tracing: enable_tracing.unwrap_or(tracing_enabled),
        }
    }

    pub(super) fn health(&mut self, options: Option<&HealthOptions>) -> HealthConfig {
        let default = HealthOptions::default();
        let HealthOptions {
            enabled,
            path,
            include_details,
            enable_metrics,
            check_interval,
        } = options.unwrap_or(&default);

        HealthConfig {
            enabled: enabled.unwrap_or(true),
            path: self
                .path("health.path", path, &[])
                .unwrap_or_else(|| "/health/inngest".to_owned()),
            include_details: include_details.unwrap_or(false),
            enable_metrics: enable_metrics.unwrap_or(true),
            check_interval: self.interval("health.check_interval", *check_interval),
        }
    }

    /// An interval option: at least one second, 30 s by default.
    fn interval(&mut self, field: &str, explicit: Option<Duration>) -> Duration {
        match explicit {
            None => Duration::from_secs(30),
            Some(interval) if interval < Duration::from_secs(1) => {
                self.problem(
                    field,
                    ValueSource::Option,
                    format!(
                        "{interval:?} is too short; use at least 1s (the default is 30s) so \
                         sampling does not load the app"
                    ),
                );
                Duration::from_secs(30)
            }
            Some(interval) => interval,
        }
    }
}
