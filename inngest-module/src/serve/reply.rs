//! Building responses: the headers every answer carries, signing, and the 401 answer.

use nestling_inngest_protocol::headers as h;
use nestling_inngest_protocol::sign;
use poem::Response;
use poem::http::{HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::{FRAMEWORK, SDK_HEADER};

/// The execution version this SDK runs and answers with.
pub(crate) const EXECUTION_VERSION: &str = "2";

/// What every answer (but a 401) says about the SDK, plus the request facts it echoes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplyContext {
    /// The key that verified the request, used to sign the answer.
    pub(crate) signing_key: Option<String>,
    /// `X-Inngest-Env`.
    pub(crate) env: Option<String>,
    /// The request's `X-Inngest-Server-Kind`, echoed as `X-Inngest-Expected-Server-Kind`.
    pub(crate) server_kind: Option<String>,
}

/// A JSON answer with the SDK's headers, signed when the request was verified.
pub(crate) fn reply(
    ctx: &ReplyContext,
    status: u16,
    body: Vec<u8>,
    extra: &[(&'static str, String)],
) -> Response {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .header(poem::http::header::USER_AGENT, SDK_HEADER)
        .header(h::SDK, SDK_HEADER)
        .header(h::SDK_HANDLED, "true")
        .header(h::FRAMEWORK, FRAMEWORK)
        .header(h::REQ_VERSION, EXECUTION_VERSION);

    if let Some(env) = ctx.env.as_deref().and_then(header_value) {
        response = response.header(h::ENV, env);
    }
    if let Some(kind) = ctx.server_kind.as_deref().and_then(header_value) {
        response = response.header(h::EXPECTED_SERVER_KIND, kind);
    }
    for (name, value) in extra {
        if let Some(value) = header_value(value) {
            response = response.header(*name, value);
        }
    }
    if let Some(key) = &ctx.signing_key {
        let signature = sign(&body, key, unix_now());
        if let Some(value) = header_value(&signature) {
            response = response.header(h::SIGNATURE, value);
        }
    }

    response.body(body)
}

/// A JSON value answer.
pub(crate) fn reply_json(
    ctx: &ReplyContext,
    status: u16,
    body: &Value,
    extra: &[(&'static str, String)],
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    reply(ctx, status, bytes, extra)
}

/// `401 {"message":"Unauthorized"}`, without the headers that identify the SDK, as the
/// official SDKs answer a request whose signature does not verify.
pub(crate) fn unauthorized() -> Response {
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .content_type("application/json")
        .header(h::SDK_HANDLED, "true")
        .body(json!({"message": "Unauthorized"}).to_string())
}

/// The error body the JS SDK sends for its own failures (`{name, message, stack, …}`).
pub(crate) fn error_body(message: &str) -> Value {
    json!({
        "name": "Error",
        "message": message,
        "stack": format!("Error: {message}"),
        "__serialized": true,
    })
}

fn header_value(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value).ok()
}

pub(crate) fn unix_now() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_secs()).unwrap_or(i64::MAX)
}
