//! Event and signing keys: precedence, what each server kind requires, the dev placeholder, redaction.

use super::*;

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
