//! The cargo features `embedded-engine` and `otlp`: with a feature off, the options that need
//! it still parse, and choosing them fails with an error that names the option and the
//! feature; everything else resolves as with the feature on.
//!
//! The tests of a feature that is off run only in a build without it:
//! `cargo test -p nestling-inngest --no-default-features --test options -- features::`
//! (`.ci/run` does). The other tests of this crate assume the default features.

use super::*;

/// Every option that resolves the same with or without the features: an outside server is
/// named, and tracing goes through `tracing` with no exporter.
#[test]
fn an_app_served_by_an_outside_server_needs_neither_feature() {
    let options = app().tracing(TracingOptions::default().enabled(true));

    for pairs in [
        &[("INNGEST_DEV", "1")][..],
        &[("INNGEST_BASE_URL", "http://inngest:8288")],
        &[("INNGEST_SIGNING_KEY", KEY)],
    ] {
        let resolved = resolve(&options, pairs);
        assert!(!resolved.embedded_engine(), "{pairs:?}");
        assert!(resolved.tracing.enabled);
    }
}

#[cfg(not(feature = "embedded-engine"))]
#[test]
fn no_server_without_the_embedded_engine_names_base_url_and_the_feature() {
    let problems = problems(&app(), &[]);

    let problem = problems
        .for_field("base_url")
        .unwrap_or_else(|| panic!("no problem named base_url: {problems}"));
    assert_eq!(problem.source, ValueSource::Default);
    let message = problem.to_string();
    for words in [
        "`embedded-engine` cargo feature",
        "INNGEST_DEV",
        "turn the feature on",
    ] {
        assert!(message.contains(words), "{words:?} missing from: {message}");
    }
}

#[cfg(not(feature = "embedded-engine"))]
#[tokio::test]
async fn an_app_with_no_server_fails_to_start_without_the_embedded_engine() {
    // The module reads the process environment, which must not name a server for this test.
    let named: Vec<&str> = [
        "INNGEST_DEV",
        "INNGEST_BASE_URL",
        "INNGEST_API_BASE_URL",
        "INNGEST_EVENT_API_BASE_URL",
        "INNGEST_SIGNING_KEY",
    ]
    .into_iter()
    .filter(|name| std::env::var_os(name).is_some())
    .collect();
    assert!(named.is_empty(), "unset {named:?} to run this test");

    struct AppModule;
    impl nestling::Module for AppModule {
        fn define(&self) -> nestling::ModuleDef {
            nestling::ModuleDef::new("AppModule").import(nestling_inngest::InngestModule::for_root(
                app().disable_auto_registration(true),
            ))
        }
    }

    let error = match nestling::NestlingApplication::create(AppModule).await {
        Ok(_) => panic!("start-up must fail with no server and no embedded engine"),
        Err(error) => error.to_string(),
    };
    for words in ["base_url", "embedded-engine"] {
        assert!(error.contains(words), "{words:?} missing from: {error}");
    }
}

#[cfg(not(feature = "otlp"))]
#[test]
fn an_otlp_endpoint_option_without_the_otlp_feature_names_the_option_and_the_feature() {
    let options = app().tracing(
        TracingOptions::default()
            .enabled(true)
            .otlp_endpoint("http://collector:4318"),
    );
    let problems = problems(&options, &[("INNGEST_DEV", "1")]);

    let problem = problems
        .for_field("tracing.otlp_endpoint")
        .unwrap_or_else(|| panic!("no problem named tracing.otlp_endpoint: {problems}"));
    assert_eq!(problem.source, ValueSource::Option);
    assert!(
        problem.to_string().contains("`otlp` cargo feature"),
        "{problem}"
    );

    // With tracing off nothing would be exported, so the endpoint is only kept.
    let quiet = app().tracing(TracingOptions::default().otlp_endpoint("http://collector:4318"));
    resolve(&quiet, &[("INNGEST_DEV", "1")]);
}

#[cfg(not(feature = "otlp"))]
#[test]
fn export_asked_by_the_standard_variable_without_the_otlp_feature_is_an_error() {
    // OTEL_EXPORTER_OTLP_ENDPOINT may be set for every process of a deployment, so it resolves;
    // asking for an exporter then says what is missing.
    let options = app().tracing(TracingOptions::default().enabled(true));
    let resolved = resolve(
        &options,
        &[
            ("INNGEST_DEV", "1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ],
    );

    let error = nestling_inngest::otlp_tracer_provider(&resolved.tracing)
        .expect_err("no exporter can be built without the otlp feature");
    assert!(
        matches!(
            &error,
            nestling_inngest::TelemetryError::ExportDisabled { endpoint, .. }
                if endpoint == "http://collector:4318/v1/traces"
        ),
        "{error:?}"
    );
    let message = error.to_string();
    for words in ["`otlp` cargo feature", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
        assert!(message.contains(words), "{words:?} missing from: {message}");
    }

    // Nowhere to send spans is not an error.
    let local = resolve(&options, &[("INNGEST_DEV", "1")]);
    assert!(
        nestling_inngest::otlp_tracer_provider(&local.tracing)
            .map(|p| p.is_none())
            .unwrap_or(false)
    );
}
