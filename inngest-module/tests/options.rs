//! Option resolution: precedence (explicit option > environment > default) for every option
//! and variable, the server-kind rules, and validation errors that name the field.
//!
//! The environment is injected as a map, so no test touches the process environment.

use std::collections::BTreeMap;
use std::time::Duration;

use nestling_inngest::{
    ConnectOptions, ConnectionMode, ContextInjectionOptions, Error, HealthOptions,
    InngestModuleOptions, MonitoringOptions, OptionProblems, ResolvedOptions, ServerKind,
    ShutdownSignal, TracingOptions, ValueSource,
};

const KEY: &str = "signkey-prod-0123456789abcdef";

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn resolve(options: &InngestModuleOptions, pairs: &[(&str, &str)]) -> ResolvedOptions {
    options
        .resolve(&env(pairs))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn problems(options: &InngestModuleOptions, pairs: &[(&str, &str)]) -> OptionProblems {
    match options.resolve(&env(pairs)) {
        Err(Error::InvalidOptions(problems)) => problems,
        other => panic!("expected invalid options, got {other:?}"),
    }
}

fn app() -> InngestModuleOptions {
    InngestModuleOptions::new("app")
}

/// One row of a precedence table: the option value (if set), the environment, the expected
/// resolved value.
type Row<'a, T> = (Option<T>, &'a [(&'a str, &'a str)], &'a str);

fn check_string_precedence<T: Clone>(
    rows: &[Row<'_, T>],
    set: impl Fn(InngestModuleOptions, T) -> InngestModuleOptions,
    read: impl Fn(&ResolvedOptions) -> String,
) {
    for (explicit, pairs, expected) in rows {
        let options = match explicit {
            Some(value) => set(app(), value.clone()),
            None => app(),
        };
        let resolved = resolve(&options, pairs);
        assert_eq!(
            read(&resolved),
            *expected,
            "option set: {}, env {pairs:?}",
            explicit.is_some()
        );
    }
}

#[test]
fn id_comes_from_the_option_then_inngest_app_id() {
    let from_option = resolve(
        &InngestModuleOptions::new("shop"),
        &[("INNGEST_APP_ID", "x")],
    );
    assert_eq!(from_option.app_id, "shop");

    let from_env = resolve(&InngestModuleOptions::default(), &[("INNGEST_APP_ID", "x")]);
    assert_eq!(from_env.app_id, "x");

    let missing = problems(&InngestModuleOptions::default(), &[]);
    let problem = missing.for_field("id").expect("id problem");
    assert!(
        problem.message.contains("InngestModuleOptions::new"),
        "{problem}"
    );
}

#[test]
fn event_key_precedence() {
    let rows: &[Row<'_, &str>] = &[
        (Some("opt"), &[("INNGEST_EVENT_KEY", "env")], "opt"),
        (None, &[("INNGEST_EVENT_KEY", "env")], "env"),
        (Some(""), &[("INNGEST_EVENT_KEY", "env")], "env"),
        (None, &[], "-"),
    ];
    check_string_precedence(rows, InngestModuleOptions::event_key, |r| {
        r.event_key.clone().unwrap_or_else(|| "-".to_owned())
    });
}

#[test]
fn signing_key_and_fallback_precedence() {
    let other = "signkey-prod-abcd";
    let both = resolve(
        &app().signing_key(KEY),
        &[
            ("INNGEST_SIGNING_KEY", other),
            ("INNGEST_SIGNING_KEY_FALLBACK", other),
        ],
    );
    assert_eq!(both.signing_key.as_deref(), Some(KEY));
    assert_eq!(both.signing_key_fallback.as_deref(), Some(other));

    let from_env = resolve(&app(), &[("INNGEST_SIGNING_KEY", other)]);
    assert_eq!(from_env.signing_key.as_deref(), Some(other));
    assert_eq!(from_env.signing_key_fallback, None);

    let explicit_fallback = resolve(
        &app().signing_key(KEY).signing_key_fallback(other),
        &[("INNGEST_SIGNING_KEY_FALLBACK", KEY)],
    );
    assert_eq!(
        explicit_fallback.signing_key_fallback.as_deref(),
        Some(other)
    );
}

#[test]
fn api_and_event_origins_follow_the_js_precedence() {
    // (option base_url, env, expected api origin, expected event origin)
    let rows: &[(Option<&str>, &[(&str, &str)], &str, &str)] = &[
        (
            Some("http://opt:1"),
            &[
                ("INNGEST_API_BASE_URL", "http://api:2"),
                ("INNGEST_EVENT_API_BASE_URL", "http://ev:3"),
                ("INNGEST_BASE_URL", "http://base:4"),
                ("INNGEST_DEV", "http://dev:5"),
            ],
            "http://opt:1",
            "http://opt:1",
        ),
        (
            None,
            &[
                ("INNGEST_API_BASE_URL", "http://api:2"),
                ("INNGEST_EVENT_API_BASE_URL", "http://ev:3"),
                ("INNGEST_BASE_URL", "http://base:4"),
            ],
            "http://api:2",
            "http://ev:3",
        ),
        (
            None,
            &[
                ("INNGEST_API_BASE_URL", "http://api:2"),
                ("INNGEST_BASE_URL", "http://base:4"),
            ],
            "http://api:2",
            "http://base:4",
        ),
        (
            None,
            &[
                ("INNGEST_BASE_URL", "http://base:4/"),
                ("INNGEST_DEV", "http://dev:5"),
            ],
            "http://base:4",
            "http://base:4",
        ),
        (
            None,
            &[("INNGEST_DEV", "dev:5")],
            "http://dev:5",
            "http://dev:5",
        ),
        (
            None,
            &[("INNGEST_DEV", "1")],
            "http://127.0.0.1:8288",
            "http://127.0.0.1:8288",
        ),
        (None, &[], "http://127.0.0.1:8288", "http://127.0.0.1:8288"),
        (
            None,
            &[("INNGEST_SIGNING_KEY", KEY)],
            "https://api.inngest.com",
            "https://inn.gs",
        ),
    ];

    for (explicit, pairs, api, events) in rows {
        let options = match explicit {
            Some(url) => app().base_url(*url),
            None => app(),
        };
        let resolved = resolve(&options, pairs);
        assert_eq!(
            (
                resolved.api_origin.as_str(),
                resolved.event_api_origin.as_str()
            ),
            (*api, *events),
            "base_url {explicit:?}, env {pairs:?}"
        );
    }
}

#[test]
fn server_kind_rules() {
    let cloud_url = ("INNGEST_BASE_URL", "https://api.inngest.com");
    let own_url = ("INNGEST_BASE_URL", "http://inngest.internal:8288");
    let key = ("INNGEST_SIGNING_KEY", KEY);
    // (dev option, env, expected)
    let rows: &[(Option<bool>, &[(&str, &str)], ServerKind)] = &[
        (None, &[], ServerKind::Embedded),
        (None, &[("INNGEST_DEV", "1")], ServerKind::DevServer),
        (None, &[("INNGEST_DEV", "TRUE")], ServerKind::DevServer),
        (
            None,
            &[("INNGEST_DEV", "http://localhost:9999")],
            ServerKind::DevServer,
        ),
        (None, &[("INNGEST_DEV", "1"), key], ServerKind::DevServer),
        (None, &[("INNGEST_DEV", "0"), key], ServerKind::Cloud),
        (
            None,
            &[("INNGEST_DEV", "false"), key, own_url],
            ServerKind::SelfHosted,
        ),
        (None, &[own_url], ServerKind::DevServer),
        (None, &[own_url, key], ServerKind::SelfHosted),
        (None, &[cloud_url, key], ServerKind::Cloud),
        (None, &[key], ServerKind::Cloud),
        (
            Some(true),
            &[("INNGEST_DEV", "0"), key],
            ServerKind::DevServer,
        ),
        (Some(false), &[("INNGEST_DEV", "1"), key], ServerKind::Cloud),
        (Some(false), &[own_url, key], ServerKind::SelfHosted),
    ];

    for (dev, pairs, expected) in rows {
        let options = match dev {
            Some(dev) => app().dev(*dev),
            None => app(),
        };
        let resolved = resolve(&options, pairs);
        assert_eq!(resolved.server, *expected, "dev {dev:?}, env {pairs:?}");
        assert_eq!(
            resolved.embedded_engine(),
            *expected == ServerKind::Embedded
        );
        assert_eq!(
            resolved.server.verifies_signatures(),
            matches!(expected, ServerKind::SelfHosted | ServerKind::Cloud)
        );
    }
}

#[test]
fn cloud_and_self_hosted_require_a_signing_key() {
    for pairs in [
        &[("INNGEST_DEV", "0")][..],
        &[
            ("INNGEST_DEV", "0"),
            ("INNGEST_BASE_URL", "http://inngest:8288"),
        ][..],
        &[("INNGEST_BASE_URL", "https://api.inngest.com")][..],
    ] {
        let found = problems(&app(), pairs);
        let problem = found.for_field("signing_key").expect("signing key problem");
        assert!(problem.message.contains("INNGEST_SIGNING_KEY"), "{problem}");
        assert!(problem.message.contains("INNGEST_DEV=1"), "{problem}");
    }
}

#[test]
fn serve_port_precedence() {
    let rows: &[(Option<u16>, &[(&str, &str)], u16, ValueSource)] = &[
        (
            Some(1111),
            &[("INNGEST_SERVE_PORT", "2222"), ("PORT", "3333")],
            1111,
            ValueSource::Option,
        ),
        (
            None,
            &[("INNGEST_SERVE_PORT", "2222"), ("PORT", "3333")],
            2222,
            ValueSource::Env("INNGEST_SERVE_PORT"),
        ),
        (None, &[("PORT", "3333")], 3333, ValueSource::Env("PORT")),
        (None, &[("PORT", "")], 3000, ValueSource::Default),
        (None, &[], 3000, ValueSource::Default),
    ];

    for (explicit, pairs, port, source) in rows {
        let options = match explicit {
            Some(port) => app().serve_port(*port),
            None => app(),
        };
        let resolved = resolve(&options, pairs);
        assert_eq!(
            (resolved.serve_port, resolved.serve_port_source),
            (*port, *source)
        );
    }
}

#[test]
fn serve_origin_precedence_and_forms() {
    let rows: &[(Option<&str>, Option<&str>, &[(&str, &str)], &str)] = &[
        (
            Some("https://origin.example.com"),
            Some("host"),
            &[
                ("INNGEST_SERVE_ORIGIN", "env-origin"),
                ("INNGEST_SERVE_HOST", "env-host"),
            ],
            "https://origin.example.com",
        ),
        (
            None,
            Some("host"),
            &[("INNGEST_SERVE_ORIGIN", "env-origin")],
            "http://host:3000",
        ),
        (
            None,
            None,
            &[
                ("INNGEST_SERVE_ORIGIN", "env-origin"),
                ("INNGEST_SERVE_HOST", "env-host"),
            ],
            "http://env-origin:3000",
        ),
        (
            None,
            None,
            &[("INNGEST_SERVE_HOST", "env-host")],
            "http://env-host:3000",
        ),
        (None, None, &[("PORT", "8080")], "http://localhost:8080"),
        (
            None,
            Some("app:9000"),
            &[("PORT", "8080")],
            "http://app:9000",
        ),
        (
            None,
            Some("https://app.example.com/"),
            &[("PORT", "8080")],
            "https://app.example.com",
        ),
    ];

    for (origin, host, pairs, expected) in rows {
        let mut options = app();
        if let Some(origin) = origin {
            options = options.serve_origin(*origin);
        }
        if let Some(host) = host {
            options = options.serve_host(*host);
        }
        assert_eq!(
            resolve(&options, pairs).serve_origin(),
            *expected,
            "{origin:?} {host:?} {pairs:?}"
        );
    }
}

#[test]
fn path_and_serve_path_precedence() {
    let rows: &[(Option<&str>, Option<&str>, &[(&str, &str)], &str, &str)] = &[
        (None, None, &[], "/api/inngest", "/api/inngest"),
        (
            None,
            None,
            &[("INNGEST_PATH", "inngest")],
            "/inngest",
            "/inngest",
        ),
        (
            Some("/api/v2/inngest/"),
            None,
            &[("INNGEST_PATH", "/x")],
            "/api/v2/inngest",
            "/api/v2/inngest",
        ),
        (
            None,
            None,
            &[("INNGEST_PATH", "/x"), ("INNGEST_SERVE_PATH", "/public/x")],
            "/x",
            "/public/x",
        ),
        (
            Some("/x"),
            Some("/proxied/x"),
            &[("INNGEST_SERVE_PATH", "/public/x")],
            "/x",
            "/proxied/x",
        ),
    ];

    for (path, serve_path, pairs, mount, advertised) in rows {
        let mut options = app();
        if let Some(path) = path {
            options = options.path(*path);
        }
        if let Some(serve_path) = serve_path {
            options = options.serve_path(*serve_path);
        }
        let resolved = resolve(&options, pairs);
        assert_eq!(
            (resolved.path.as_str(), resolved.serve_path.as_str()),
            (*mount, *advertised)
        );
    }

    let resolved = resolve(
        &app().serve_host("app").serve_port(4000),
        &[("INNGEST_SERVE_PATH", "p")],
    );
    assert_eq!(resolved.serve_url(), "http://app:4000/p");
}

#[test]
fn mode_environment_version_and_flags() {
    let dev = ("INNGEST_DEV", "1");
    assert_eq!(resolve(&app(), &[dev]).mode, ConnectionMode::Serve);
    assert_eq!(
        resolve(&app(), &[dev, ("INNGEST_MODE", "CONNECT")]).mode,
        ConnectionMode::Connect
    );
    assert_eq!(
        resolve(
            &app().mode(ConnectionMode::Serve),
            &[dev, ("INNGEST_MODE", "connect")]
        )
        .mode,
        ConnectionMode::Serve
    );

    let rows: &[Row<'_, &str>] = &[
        (Some("opt"), &[("INNGEST_ENV", "env")], "opt"),
        (None, &[("INNGEST_ENV", "env")], "env"),
        (None, &[], "-"),
    ];
    check_string_precedence(rows, InngestModuleOptions::environment, |r| {
        r.environment.clone().unwrap_or_else(|| "-".to_owned())
    });

    let rows: &[Row<'_, &str>] = &[
        (Some("1.2.3"), &[("INNGEST_APP_VERSION", "9")], "1.2.3"),
        (None, &[("INNGEST_APP_VERSION", "9")], "9"),
        (None, &[], "-"),
    ];
    check_string_precedence(rows, InngestModuleOptions::app_version, |r| {
        r.app_version.clone().unwrap_or_else(|| "-".to_owned())
    });

    let defaults = resolve(&app(), &[]);
    assert!(!defaults.is_global && !defaults.disable_auto_registration);
    let set = resolve(&app().is_global(true).disable_auto_registration(true), &[]);
    assert!(set.is_global && set.disable_auto_registration);
}

#[test]
fn auto_registration_applies_to_serve_mode_outside_cloud() {
    let key = ("INNGEST_SIGNING_KEY", KEY);
    assert!(resolve(&app(), &[("INNGEST_DEV", "1")]).auto_registers());
    assert!(resolve(&app(), &[("INNGEST_BASE_URL", "http://i:8288"), key]).auto_registers());
    assert!(
        !resolve(&app(), &[key]).auto_registers(),
        "Cloud syncs from its side"
    );
    assert!(!resolve(&app().disable_auto_registration(true), &[]).auto_registers());
    assert!(
        !resolve(&app(), &[("INNGEST_DEV", "1"), ("INNGEST_MODE", "connect")]).auto_registers()
    );
}

#[test]
fn connect_options_precedence_and_defaults() {
    let dev = ("INNGEST_DEV", "1");
    let all_env: &[(&str, &str)] = &[
        dev,
        ("INNGEST_INSTANCE_ID", "env-id"),
        ("HOSTNAME", "host-id"),
        ("INNGEST_CONNECT_MAX_WORKER_CONCURRENCY", "7"),
        ("INNGEST_CONNECT_GATEWAY_URL", "ws://gw:8289/v0/connect"),
        ("INNGEST_CONNECT_ISOLATE_EXECUTION", "true"),
        ("INNGEST_SHUTDOWN_TIMEOUT", "45000"),
    ];

    let from_env = resolve(&app(), all_env).connect;
    assert_eq!(from_env.instance_id, "env-id");
    assert_eq!(from_env.max_worker_concurrency, Some(7));
    assert_eq!(
        from_env.gateway_url.as_deref(),
        Some("ws://gw:8289/v0/connect")
    );
    assert!(from_env.isolate_execution);
    assert_eq!(from_env.shutdown_timeout, Duration::from_secs(45));

    let explicit = ConnectOptions::default()
        .instance_id("opt-id")
        .max_worker_concurrency(3)
        .gateway_url("wss://gw.example.com/v0/connect")
        .isolate_execution(false)
        .shutdown_timeout(Duration::from_secs(5))
        .handle_shutdown_signals(["SIGTERM", "term", "hup"]);
    let from_options = resolve(&app().connect(explicit), all_env).connect;
    assert_eq!(from_options.instance_id, "opt-id");
    assert_eq!(from_options.max_worker_concurrency, Some(3));
    assert_eq!(
        from_options.gateway_url.as_deref(),
        Some("wss://gw.example.com/v0/connect")
    );
    assert!(!from_options.isolate_execution);
    assert_eq!(from_options.shutdown_timeout, Duration::from_secs(5));
    assert_eq!(
        from_options.handle_shutdown_signals,
        [ShutdownSignal::Term, ShutdownSignal::Hup]
    );

    // Platform ids come before HOSTNAME, which is set almost everywhere.
    let fly = resolve(&app(), &[("HOSTNAME", "h"), ("FLY_MACHINE_ID", "fly-1")]).connect;
    assert_eq!(fly.instance_id, "fly-1");
    let host = resolve(&app(), &[("HOSTNAME", "h")]).connect;
    assert_eq!(host.instance_id, "h");

    let defaults = resolve(&app(), &[]).connect;
    assert_eq!(defaults.instance_id.len(), 26, "a random ULID");
    assert_eq!(defaults.max_worker_concurrency, None);
    assert_eq!(defaults.shutdown_timeout, Duration::from_secs(30));
    assert_eq!(
        defaults.handle_shutdown_signals,
        [ShutdownSignal::Term, ShutdownSignal::Int]
    );

    let no_signals = resolve(
        &app().connect(ConnectOptions::default().handle_shutdown_signals(Vec::<String>::new())),
        &[],
    );
    assert!(no_signals.connect.handle_shutdown_signals.is_empty());
}

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

#[test]
fn options_deserialise_from_configuration() {
    let options: InngestModuleOptions = serde_json::from_value(serde_json::json!({
        "id": "from-config",
        "eventKey": "k",
        "base_url": "http://inngest:8288",
        "isGlobal": true,
        "mode": "Connect",
        "servePort": 4000,
        "serveHost": "app",
        "disableAutoRegistration": true,
        "connect": {"maxConcurrency": 4, "shutdownTimeout": "1m30s", "isolateExecution": true},
        "tracing": {"enabled": true, "contextInjection": {"fieldName": "tc"}},
        "monitoring": {"metricsInterval": 15000},
        "health": {"checkInterval": "2m", "includeDetails": true}
    }))
    .expect("deserialises");

    let resolved = resolve(&options, &[]);
    assert_eq!(resolved.app_id, "from-config");
    assert_eq!(resolved.server, ServerKind::DevServer);
    assert_eq!(resolved.mode, ConnectionMode::Connect);
    assert!(resolved.is_global && resolved.disable_auto_registration);
    assert_eq!(resolved.serve_origin(), "http://app:4000");
    assert_eq!(resolved.connect.max_worker_concurrency, Some(4));
    assert_eq!(resolved.connect.shutdown_timeout, Duration::from_secs(90));
    assert_eq!(resolved.tracing.context_field_name, "tc");
    assert_eq!(
        resolved.monitoring.metrics_interval,
        Duration::from_secs(15)
    );
    assert_eq!(resolved.health.check_interval, Duration::from_secs(120));

    let bad_mode = serde_json::from_str::<InngestModuleOptions>(r#"{"mode":"ws"}"#).unwrap_err();
    assert!(
        bad_mode.to_string().contains("`serve` or `connect`"),
        "{bad_mode}"
    );
    let bad_duration =
        serde_json::from_str::<InngestModuleOptions>(r#"{"health":{"checkInterval":"soon"}}"#)
            .unwrap_err();
    assert!(
        bad_duration.to_string().contains("not a duration"),
        "{bad_duration}"
    );
    let typo = serde_json::from_str::<InngestModuleOptions>(r#"{"tracing":{"servicename":"x"}}"#)
        .unwrap_err();
    assert!(
        typo.to_string().contains("unknown field `servicename`"),
        "{typo}"
    );
}

#[test]
fn debug_output_redacts_keys() {
    let options = app()
        .event_key("event-secret")
        .signing_key("signkey-prod-aaaa0001")
        .signing_key_fallback("signkey-prod-bbbb0002");
    let resolved = resolve(&options, &[]);

    for text in [format!("{options:?}"), format!("{resolved:?}")] {
        assert!(text.contains("<redacted>"), "{text}");
        for secret in ["event-secret", "aaaa0001", "bbbb0002"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}

#[test]
fn event_key_placeholder_only_in_dev_setups() {
    let dev = resolve(&app(), &[("INNGEST_DEV", "1")]);
    assert_eq!(
        dev.event_key_or_placeholder().ok(),
        Some("NO_EVENT_KEY_SET")
    );
    let cloud = resolve(&app(), &[("INNGEST_SIGNING_KEY", KEY)]);
    assert!(matches!(
        cloud.event_key_or_placeholder(),
        Err(Error::MissingEventKey {
            server: ServerKind::Cloud
        })
    ));
    let keyed = resolve(&app().event_key("k"), &[("INNGEST_SIGNING_KEY", KEY)]);
    assert_eq!(keyed.event_key_or_placeholder().ok(), Some("k"));
}

/// What a `for_root_async` factory does: read the options from the config module, then
/// resolve them against the environment.
#[test]
fn options_read_from_the_config_service() {
    use std::collections::HashMap;

    use nestling::{ConfigOptions, ConfigService};

    let config = ConfigService::load(
        &ConfigOptions::new()
            .without_files()
            .set_default("inngest.id", "configured-app")
            .set_default("inngest.base_url", "http://inngest:8288")
            .set_default("inngest.health.check_interval", "45s")
            .env_vars(HashMap::from([
                ("APP_INNGEST__SERVE_PORT".to_owned(), "4321".to_owned()),
                (
                    "APP_INNGEST__CONNECT__MAX_WORKER_CONCURRENCY".to_owned(),
                    "8".to_owned(),
                ),
            ])),
    )
    .expect("config loads");

    let options: InngestModuleOptions = config.get("inngest").expect("options deserialise");
    let resolved = resolve(&options, &[("INNGEST_SERVE_PORT", "9999")]);

    assert_eq!(resolved.app_id, "configured-app");
    assert_eq!(resolved.api_origin, "http://inngest:8288");
    assert_eq!(
        resolved.serve_port, 4321,
        "the config value is an explicit option"
    );
    assert_eq!(resolved.connect.max_worker_concurrency, Some(8));
    assert_eq!(resolved.health.check_interval, Duration::from_secs(45));
}
