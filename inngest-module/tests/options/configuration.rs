//! Options read from configuration, as a `for_root_async` factory does with the config service.

use super::*;

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
