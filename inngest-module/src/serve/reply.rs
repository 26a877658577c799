//! Building responses: the headers every answer carries, signing, and the 401 answer.

use std::sync::LazyLock;

use nestling_inngest_protocol::headers as h;
use nestling_inngest_protocol::sign;
use poem::Response;
use poem::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
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

/// What the serve endpoint answers: status, headers and body, exactly as they go on the
/// wire. [`ServeEndpoint::execute`](crate::ServeEndpoint::execute) returns it for an
/// in-process call; the HTTP endpoint sends it as the response.
///
/// # Examples
///
/// See [`ServeEndpoint::execute`](crate::ServeEndpoint::execute).
#[derive(Debug, Clone)]
pub struct ExecutionReply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl ExecutionReply {
    /// The HTTP status: 200 with the function's output, 206 with ops, 400 or 500 on failure.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// Every header, as sent (`X-Inngest-SDK`, `X-Inngest-Req-Version`, `X-Inngest-No-Retry`,
    /// `Retry-After`, ...).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether `X-Inngest-No-Retry` is set, and to what.
    pub fn no_retry(&self) -> Option<bool> {
        self.header(h::NO_RETRY)
            .map(|value| value.eq_ignore_ascii_case("true"))
    }

    /// The `Retry-After` header, as sent (seconds or an HTTP date).
    pub fn retry_after(&self) -> Option<&str> {
        self.header(h::RETRY_AFTER)
    }

    /// The body, as sent (JSON).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body, parsed.
    ///
    /// # Errors
    ///
    /// When the body is not JSON (an empty trust-probe answer, for instance).
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body, as owned bytes.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The HTTP response carrying this reply.
    pub fn into_response(self) -> Response {
        let Self {
            status,
            headers,
            body,
        } = self;
        let mut response = Response::builder().status(status).body(body);
        *response.headers_mut() = headers;

        response
    }
}

/// A JSON answer with the SDK's headers, signed when the request was verified.
pub(crate) fn reply_parts(
    ctx: &ReplyContext,
    status: u16,
    body: Vec<u8>,
    extra: &[(&'static str, String)],
) -> ExecutionReply {
    let mut headers = sdk_headers().clone();
    let mut set = |name: &str, value: &str| {
        if let (Ok(name), Some(value)) = (HeaderName::try_from(name), header_value(value)) {
            headers.insert(name, value);
        }
    };

    if let Some(env) = ctx.env.as_deref() {
        set(h::ENV, env);
    }
    if let Some(kind) = ctx.server_kind.as_deref() {
        set(h::EXPECTED_SERVER_KIND, kind);
    }
    for (name, value) in extra {
        set(name, value);
    }
    if let Some(key) = &ctx.signing_key {
        set(h::SIGNATURE, &sign(&body, key, unix_now()));
    }

    ExecutionReply {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body,
    }
}

/// The headers every answer starts with, built once: checking and copying their names and
/// values again for every answer was a good part of the cost of a short one.
fn sdk_headers() -> &'static HeaderMap {
    static HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| {
        let mut headers = HeaderMap::new();
        let fixed = [
            ("content-type", "application/json"),
            (poem::http::header::USER_AGENT.as_str(), SDK_HEADER),
            (h::SDK, SDK_HEADER),
            (h::SDK_HANDLED, "true"),
            (h::FRAMEWORK, FRAMEWORK),
            (h::REQ_VERSION, EXECUTION_VERSION),
        ];
        for (name, value) in fixed {
            if let (Ok(name), Some(value)) = (HeaderName::try_from(name), header_value(value)) {
                headers.insert(name, value);
            }
        }
        headers
    });

    &HEADERS
}

/// [`reply_parts`] as an HTTP response.
pub(crate) fn reply(
    ctx: &ReplyContext,
    status: u16,
    body: Vec<u8>,
    extra: &[(&'static str, String)],
) -> Response {
    reply_parts(ctx, status, body, extra).into_response()
}

/// A JSON value answer.
pub(crate) fn reply_json(
    ctx: &ReplyContext,
    status: u16,
    body: &Value,
    extra: &[(&'static str, String)],
) -> Response {
    reply_json_parts(ctx, status, body, extra).into_response()
}

/// A JSON value answer, before it becomes a response.
pub(crate) fn reply_json_parts(
    ctx: &ReplyContext,
    status: u16,
    body: &Value,
    extra: &[(&'static str, String)],
) -> ExecutionReply {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    reply_parts(ctx, status, bytes, extra)
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
