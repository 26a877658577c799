//! Connect-mode options: precedence, platform instance ids and defaults.

use super::*;

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
