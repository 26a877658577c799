//! The app's identity and run mode: id, mode, environment, version, flags and when the app registers itself.

use super::*;

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
