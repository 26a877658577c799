//! Validation: every bad value named by field and source, all at once, and empty values never masking anything.

use super::*;

#[test]
fn bad_environment_values_name_the_field_and_the_variable() {
    // (env, field, variable, words the message must contain)
    let rows: &[(&[(&str, &str)], &str, &str, &str)] = &[
        (
            &[("INNGEST_SERVE_PORT", "eighty")],
            "serve_port",
            "INNGEST_SERVE_PORT",
            "1 to 65535",
        ),
        (&[("PORT", "0")], "serve_port", "PORT", "1 to 65535"),
        (&[("PORT", "70000")], "serve_port", "PORT", "1 to 65535"),
        (
            &[("INNGEST_BASE_URL", "localhost:8288")],
            "base_url",
            "INNGEST_BASE_URL",
            "http://",
        ),
        (
            &[("INNGEST_API_BASE_URL", "ftp://x")],
            "base_url",
            "INNGEST_API_BASE_URL",
            "http://",
        ),
        (
            &[("INNGEST_DEV", "http://")],
            "dev",
            "INNGEST_DEV",
            "1/true/0/false",
        ),
        (
            &[("INNGEST_MODE", "websocket")],
            "mode",
            "INNGEST_MODE",
            "`serve` or `connect`",
        ),
        (
            &[("INNGEST_SIGNING_KEY", "sk_live_123")],
            "signing_key",
            "INNGEST_SIGNING_KEY",
            "hex",
        ),
        (
            &[("INNGEST_SIGNING_KEY_FALLBACK", "signkey-prod-xyz")],
            "signing_key_fallback",
            "INNGEST_SIGNING_KEY_FALLBACK",
            "hex",
        ),
        (
            &[("INNGEST_SERVE_ORIGIN", "has space")],
            "serve_host",
            "INNGEST_SERVE_ORIGIN",
            "host",
        ),
        (
            &[("INNGEST_PATH", "/a?b")],
            "path",
            "INNGEST_PATH",
            "/api/inngest",
        ),
        (
            &[("INNGEST_SERVE_PATH", "http://x/y")],
            "serve_path",
            "INNGEST_SERVE_PATH",
            "path",
        ),
        (
            &[("INNGEST_CONNECT_MAX_WORKER_CONCURRENCY", "0")],
            "connect.max_worker_concurrency",
            "INNGEST_CONNECT_MAX_WORKER_CONCURRENCY",
            "at least 1",
        ),
        (
            &[("INNGEST_CONNECT_MAX_WORKER_CONCURRENCY", "-3")],
            "connect.max_worker_concurrency",
            "INNGEST_CONNECT_MAX_WORKER_CONCURRENCY",
            "whole number",
        ),
        (
            &[("INNGEST_CONNECT_GATEWAY_URL", "http://gw")],
            "connect.gateway_url",
            "INNGEST_CONNECT_GATEWAY_URL",
            "ws://",
        ),
        (
            &[("INNGEST_CONNECT_ISOLATE_EXECUTION", "yes")],
            "connect.isolate_execution",
            "INNGEST_CONNECT_ISOLATE_EXECUTION",
            "1, true, 0 or false",
        ),
        (
            &[("INNGEST_SHUTDOWN_TIMEOUT", "soon")],
            "connect.shutdown_timeout",
            "INNGEST_SHUTDOWN_TIMEOUT",
            "duration",
        ),
        (
            &[("INNGEST_SHUTDOWN_TIMEOUT", "0")],
            "connect.shutdown_timeout",
            "INNGEST_SHUTDOWN_TIMEOUT",
            "longer than zero",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
            "tracing.otlp_endpoint",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://",
        ),
    ];

    for (pairs, field, var, words) in rows {
        let found = problems(&app(), pairs);
        let problem = found
            .for_field(field)
            .unwrap_or_else(|| panic!("no problem for `{field}` with {pairs:?}: {found}"));
        assert_eq!(problem.source, ValueSource::Env(var), "{pairs:?}");
        let text = problem.to_string();
        assert!(
            text.starts_with(&format!("`{field}` (from environment variable {var})")),
            "{text}"
        );
        assert!(text.contains(words), "{pairs:?}: {text}");
    }
}

#[test]
fn bad_explicit_values_name_the_field() {
    let rows: Vec<(InngestModuleOptions, &str, &str)> = vec![
        (app().base_url("not a url"), "base_url", "http://"),
        (
            app().serve_port(0),
            "serve_port",
            "register_with_dev_server",
        ),
        (app().serve_host("ftp://x"), "serve_host", "http(s)"),
        (app().serve_origin("a b"), "serve_origin", "host"),
        (app().signing_key("signkey-prod-"), "signing_key", "hex"),
        (
            app().connect(ConnectOptions::default().max_worker_concurrency(0)),
            "connect.max_worker_concurrency",
            "at least 1",
        ),
        (
            app().connect(ConnectOptions::default().shutdown_timeout(Duration::ZERO)),
            "connect.shutdown_timeout",
            "longer than zero",
        ),
        (
            app().connect(ConnectOptions::default().handle_shutdown_signals(["SIGKILL"])),
            "connect.handle_shutdown_signals",
            "SIGTERM",
        ),
        (
            app().tracing(
                TracingOptions::default()
                    .context_injection(ContextInjectionOptions::default().field_name("_inngest")),
            ),
            "tracing.context_injection.field_name",
            "traceContext",
        ),
        (
            app().monitoring(
                MonitoringOptions::default().metrics_interval(Duration::from_millis(10)),
            ),
            "monitoring.metrics_interval",
            "at least 1s",
        ),
        (
            app().health(HealthOptions::default().check_interval(Duration::from_millis(999))),
            "health.check_interval",
            "at least 1s",
        ),
        (
            app().health(HealthOptions::default().path("/h?x")),
            "health.path",
            "path",
        ),
        (
            app().mode(ConnectionMode::Connect),
            "mode",
            "connect mode needs an Inngest server",
        ),
    ];

    for (options, field, words) in rows {
        let found = problems(&options, &[]);
        let problem = found
            .for_field(field)
            .unwrap_or_else(|| panic!("no problem for `{field}`: {found}"));
        assert!(problem.to_string().contains(words), "{problem}");
    }
}

#[test]
fn every_problem_is_reported_at_once_and_secrets_stay_out() {
    let secret = "signkey-prod-SECRETnothex";
    let err = InngestModuleOptions::default()
        .resolve(&env(&[
            ("INNGEST_SIGNING_KEY", secret),
            ("INNGEST_SERVE_PORT", "x"),
            ("INNGEST_BASE_URL", "nope"),
        ]))
        .unwrap_err();

    let text = err.to_string();
    assert!(
        text.starts_with("invalid options of the Inngest module:"),
        "{text}"
    );
    for field in ["`id`", "`signing_key`", "`serve_port`", "`base_url`"] {
        assert!(text.contains(field), "{field} missing from {text}");
    }
    assert_eq!(
        text.matches("`base_url`").count(),
        1,
        "one bad INNGEST_BASE_URL, one message"
    );
    assert!(!text.contains("SECRET"), "the signing key leaked: {text}");
}

#[test]
fn empty_values_never_mask_anything() {
    let resolved = resolve(
        &app().base_url("  ").event_key("").signing_key(""),
        &[
            ("INNGEST_EVENT_KEY", "env-key"),
            ("INNGEST_BASE_URL", ""),
            ("INNGEST_SIGNING_KEY", " "),
            ("INNGEST_DEV", ""),
        ],
    );
    assert_eq!(resolved.event_key.as_deref(), Some("env-key"));
    assert_eq!(resolved.server, ServerKind::Embedded);
}
