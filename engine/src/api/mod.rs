//! The HTTP API, in the real dev server's shapes: app registration, the event API, the REST
//! API for runs and events, the SDK state and checkpoint APIs, `/dev`, and the web page.

mod events;
pub(crate) mod register;
mod runs;
mod ui;

use std::sync::Arc;

use poem::http::StatusCode;
use poem::middleware::AddData;
use poem::{EndpointExt, Request, Response, Route, get, post};
use serde_json::{Value, json};

use crate::core::Core;

pub(crate) use events::accept_events;

/// All routes, with the core attached.
pub(crate) fn routes(core: Arc<Core>) -> impl poem::Endpoint + 'static {
    Route::new()
        .at("/", get(ui::page))
        .at("/dev", get(ui::dev_info))
        .at("/health", get(ui::health))
        .at("/ui/api/overview", get(ui::overview))
        .at("/ui/api/runs/:id", get(ui::run_detail))
        .at("/fn/register", post(register::register))
        .at("/e/:key", post(events::send))
        .at("/invoke/:slug", post(events::invoke))
        .at("/v1/events", get(events::list_events))
        .at("/v1/events/:id", get(events::get_one))
        .at("/v1/events/:id/runs", get(events::runs_of_event))
        .at("/v1/runs/:id", get(runs::get_run).delete(runs::cancel_run))
        .at("/v0/runs/:id/batch", get(runs::batch))
        .at("/v0/runs/:id/actions", get(runs::actions))
        .at("/v1/checkpoint/:id/async", post(runs::checkpoint))
        .with(AddData::new(core))
}

/// A JSON response with a status.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// The server's public error shape: `{"error": …, "status": …}`.
pub(crate) fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({"error": message.into(), "status": status.as_u16()}),
    )
}

/// When a signing key is set, the SDK-facing APIs need `Authorization: Bearer <key>` with the
/// plain or hashed key (prefix optional), as the server accepts either.
pub(crate) fn authorised(core: &Core, req: &Request) -> bool {
    let keys: Vec<&String> = [&core.config.signing_key, &core.config.signing_key_fallback]
        .into_iter()
        .flatten()
        .collect();
    if keys.is_empty() {
        return true;
    }
    let Some(token) = req.header("authorization").and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return false;
    };
    let token = token.trim();
    keys.iter().any(|k| {
        let hashed = crate::wire::hashed_key(k);
        let bare = |s: &str| s.rsplit('-').next().unwrap_or(s).to_owned();
        token == k.as_str()
            || token == hashed
            || bare(token) == bare(k)
            || bare(token) == bare(&hashed)
    })
}

/// RFC 3339 text of a millisecond timestamp.
pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
