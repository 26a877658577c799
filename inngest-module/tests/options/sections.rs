//! The nested groups: tracing, monitoring and health.

use super::*;

#[test]
fn tracing_monitoring_and_health_defaults_and_overrides() {
    let defaults = resolve(&app(), &[]);
    assert!(!defaults.tracing.enabled);
    assert_eq!(defaults.tracing.service_name, "app");
    assert_eq!(defaults.tracing.otlp_endpoint, None);
    assert!(defaults.tracing.inject_context);
    assert_eq!(defaults.tracing.context_field_name, "traceContext");
    assert!(defaults.monitoring.enabled && defaults.monitoring.collect_metrics);
    assert_eq!(
        defaults.monitoring.metrics_interval,
        Duration::from_secs(30)
    );
    assert!(!defaults.monitoring.enable_tracing);
    assert!(defaults.health.enabled && !defaults.health.include_details);
    assert_eq!(defaults.health.path, "/health/inngest");

    let env_only = resolve(
        &app(),
        &[
            ("OTEL_SERVICE_NAME", "otel-name"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ],
    );
    assert_eq!(env_only.tracing.service_name, "otel-name");
    assert_eq!(
        env_only.tracing.otlp_endpoint.as_deref(),
        Some("http://collector:4318")
    );

    let options = app()
        .tracing(
            TracingOptions::default()
                .enabled(true)
                .service_name("svc")
                .otlp_endpoint("http://other:4318")
                .include_event_data(true)
                .include_step_data(true)
                .context_injection(ContextInjectionOptions::default().field_name("trace"))
                .default_attribute("service.version", "1.0.0"),
        )
        .monitoring(MonitoringOptions::default().metrics_interval(Duration::from_secs(15)))
        .health(
            HealthOptions::default()
                .path("healthz")
                .include_details(true)
                .check_interval(Duration::from_secs(60)),
        );
    let set = resolve(&options, &[("OTEL_SERVICE_NAME", "otel-name")]);
    assert_eq!(set.tracing.service_name, "svc");
    assert_eq!(
        set.tracing.otlp_endpoint.as_deref(),
        Some("http://other:4318")
    );
    assert!(set.tracing.include_event_data && set.tracing.include_step_data);
    assert_eq!(set.tracing.context_field_name, "trace");
    assert_eq!(set.tracing.default_attributes["service.version"], "1.0.0");
    assert!(set.monitoring.enable_tracing, "follows tracing.enabled");
    assert_eq!(set.monitoring.metrics_interval, Duration::from_secs(15));
    assert_eq!(set.health.path, "/healthz");
    assert_eq!(set.health.check_interval, Duration::from_secs(60));
}
