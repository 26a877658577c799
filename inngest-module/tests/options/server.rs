//! The Inngest server: API and event origins and the server-kind rules.

use super::*;

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
