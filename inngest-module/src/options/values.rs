//! Parsers and checks of single option values, shared by resolution and `ResolvedOptions`.

use url::Url;

/// The JS SDKs' boolean reading: `1`/`true` and `0`/`false`, any case.
pub(super) fn parse_js_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

pub(super) fn parse_bool_strict(text: &str) -> Result<bool, String> {
    parse_js_bool(text).ok_or_else(|| format!("`{text}` is not a boolean; use 1, true, 0 or false"))
}

pub(super) fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!(
            "`{text}` is not a port number; use a whole number from 1 to 65535"
        )),
    }
}

/// An `http(s)` URL without query or fragment, returned without its trailing slash.
pub(super) fn parse_origin(text: &str) -> Result<String, &'static str> {
    let url = Url::parse(text.trim())
        .map_err(|_| "not a URL; write it in full, e.g. `http://localhost:8288`")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http:// and https:// URLs are supported");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(
            "remove the query string and fragment; give only the origin (and a path prefix)",
        );
    }

    Ok(url.as_str().trim_end_matches('/').to_owned())
}

pub(super) fn is_cloud_origin(origin: &str) -> bool {
    let Ok(url) = Url::parse(origin) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();

    host == "inn.gs" || host == "inngest.com" || host.ends_with(".inngest.com")
}

pub(super) fn check_ws_url(text: &str) -> Result<(), String> {
    let url = Url::parse(text).map_err(|_| {
        format!(
            "`{text}` is not a URL; write it in full, e.g. `wss://gateway.example.com/v0/connect`"
        )
    })?;
    if !matches!(url.scheme(), "ws" | "wss") || url.host_str().is_none() {
        return Err(format!(
            "`{text}` must be a ws:// or wss:// URL with a host"
        ));
    }

    Ok(())
}

pub(super) fn normalize_path(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.contains(['?', '#', ' ']) || trimmed.contains("://") {
        return Err(format!(
            "`{text}` is not a path; give only the path, e.g. `/api/inngest`"
        ));
    }
    let path = format!("/{}", trimmed.trim_matches('/'));

    Ok(path)
}

/// `host` is either a full `http(s)` origin or a host name (optionally `host:port`).
pub(super) fn check_serve_host(host: &str, port: u16) -> Result<(), String> {
    let candidate = origin_from_host(host, port);
    let message = |why: &str| {
        format!(
            "`{host}` {why}; give a host name (`my-app`) or a full origin \
             (`https://my-app.example.com`)"
        )
    };
    match Url::parse(&candidate) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
            if url.query().is_some() || url.fragment().is_some() {
                return Err(message("has a query string or fragment"));
            }
            Ok(())
        }
        Ok(_) => Err(message("is not an http(s) origin")),
        Err(_) => Err(message("is not a valid host")),
    }
}

pub(super) fn origin_from_host(host: &str, port: u16) -> String {
    let host = host.trim().trim_end_matches('/');
    if host.contains("://") {
        return host.to_owned();
    }
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(name, port)| !name.is_empty() && port.parse::<u16>().is_ok());

    if has_port {
        format!("http://{host}")
    } else {
        format!("http://{host}:{port}")
    }
}

/// A signing key must be hex after an optional `signkey-<env>-` prefix: the protocol
/// hex-decodes it to compute the bearer token, so a key it cannot hash is rejected here.
pub(super) fn check_signing_key(key: &str) -> Result<(), String> {
    let usable = !nestling_inngest_protocol::strip_key_prefix(key).is_empty()
        && nestling_inngest_protocol::hashed_signing_key(key).is_ok();
    if usable {
        return Ok(());
    }

    Err(
        "is not a signing key: expected `signkey-<env>-` followed by an even number of hex \
         digits, as the Inngest dashboard shows it; check for a truncated or mis-pasted value"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_the_trailing_slash_and_keep_a_prefix() {
        assert_eq!(
            parse_origin("http://localhost:8288/"),
            Ok("http://localhost:8288".into())
        );
        assert_eq!(
            parse_origin("https://x.dev/inngest/"),
            Ok("https://x.dev/inngest".into())
        );
        assert!(parse_origin("localhost:8288").is_err());
        assert!(parse_origin("ftp://x").is_err());
        assert!(parse_origin("http://x/?a=1").is_err());
    }

    #[test]
    fn cloud_hosts() {
        assert!(is_cloud_origin("https://api.inngest.com"));
        assert!(is_cloud_origin("https://inn.gs"));
        assert!(!is_cloud_origin("https://inngest.example.com"));
        assert!(!is_cloud_origin("http://notinngest.com"));
    }

    #[test]
    fn serve_hosts() {
        assert_eq!(origin_from_host("app", 3000), "http://app:3000");
        assert_eq!(origin_from_host("app:8080", 3000), "http://app:8080");
        assert_eq!(
            origin_from_host("https://a.example.com/", 3000),
            "https://a.example.com"
        );
        assert!(check_serve_host("has space", 1).is_err());
        assert!(check_serve_host("ftp://a", 1).is_err());
    }

    #[test]
    fn signing_key_shapes() {
        assert!(check_signing_key("signkey-prod-0a1B").is_ok());
        assert!(check_signing_key("signkey-branch_x-00").is_ok());
        assert!(check_signing_key("abcd").is_ok());
        assert!(check_signing_key("signkey-prod-abc").is_err(), "odd length");
        assert!(check_signing_key("signkey-prod-").is_err());
        assert!(check_signing_key("sk_live_123").is_err());
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize_path("inngest"), Ok("/inngest".into()));
        assert_eq!(normalize_path("/api/inngest/"), Ok("/api/inngest".into()));
        assert!(normalize_path("/a?b").is_err());
    }
}
