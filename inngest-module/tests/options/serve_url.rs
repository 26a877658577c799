//! Where Inngest reaches the app: serve port, host or origin, mount path and advertised path.

use super::*;

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
fn a_global_prefix_reaches_the_sync_url_unless_serve_path_is_configured() {
    let defaulted = resolve(&app().path("/hooks"), &[]).with_global_prefix("/api");
    assert_eq!(
        defaulted.path, "/hooks",
        "the mount path stays relative to the prefix"
    );
    assert_eq!(defaulted.serve_path, "/api/hooks");
    assert_eq!(defaulted.serve_path_source, ValueSource::Default);

    let from_env =
        resolve(&app(), &[("INNGEST_SERVE_PATH", "/edge/inngest")]).with_global_prefix("/api");
    assert_eq!(from_env.serve_path, "/edge/inngest");
    assert_eq!(
        from_env.serve_path_source,
        ValueSource::Env("INNGEST_SERVE_PATH")
    );

    let explicit = resolve(&app().serve_path("/outside"), &[]).with_global_prefix("/api");
    assert_eq!(explicit.serve_path, "/outside");

    let no_prefix = resolve(&app(), &[]).with_global_prefix("");
    assert_eq!(no_prefix.serve_path, "/api/inngest");
}
