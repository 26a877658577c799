//! Sending a call and reading the app's answer: 200 completes, 206 carries ops, anything else
//! (or a response without `X-Inngest-SDK`, or a network failure) is an error, retried unless
//! the app says `X-Inngest-No-Retry: true`.

use serde_json::{Value, json};

use super::request::CallRequest;
use crate::core::Core;

/// What the app answered.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// 200: the function returned this value.
    Complete(Value),
    /// 206: ops to act on, with the retry headers that apply to a `StepError` among them.
    Ops {
        ops: Vec<Value>,
        no_retry: bool,
        retry_after_ms: Option<i64>,
    },
    /// The call failed.
    Error {
        error: Value,
        retryable: bool,
        retry_after_ms: Option<i64>,
    },
}

/// The answer plus the request version the SDK chose.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) outcome: Outcome,
    pub(crate) version: Option<i64>,
}

fn engine_error(message: String) -> Value {
    json!({"name": "Error", "message": message})
}

/// `Retry-After` (seconds or a date, clamped to 1 s … 24 h), compressed by the time scale.
fn retry_after(core: &Core, value: Option<&str>) -> Option<i64> {
    let d = nestling_inngest_protocol::headers::parse_retry_after(value?, chrono::Utc::now())?;
    Some(core.clock.scaled(d))
}

/// Sends `req` and classifies the answer. Never fails: every problem becomes an error outcome.
pub(crate) async fn send(core: &Core, req: CallRequest) -> Answer {
    let mut builder = core.http.post(&req.url).body(req.body);
    for (k, v) in &req.headers {
        builder = builder.header(*k, v);
    }
    let resp = match builder.send().await {
        Ok(r) => r,
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out"
            } else {
                "failed"
            };
            let message = format!("calling the app at {} {what}: {e}", req.url);
            return Answer {
                outcome: Outcome::Error {
                    error: engine_error(message),
                    retryable: true,
                    retry_after_ms: None,
                },
                version: None,
            };
        }
    };

    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let has_sdk = header("x-inngest-sdk").is_some();
    let version = header("x-inngest-req-version").and_then(|v| v.trim().parse::<i64>().ok());
    let no_retry = header("x-inngest-no-retry").map(|v| v.trim().eq_ignore_ascii_case("true"));
    let retry_after_ms = retry_after(core, header("retry-after").as_deref());
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            let message = format!("reading the app's answer failed: {e}");
            return Answer {
                outcome: Outcome::Error {
                    error: engine_error(message),
                    retryable: true,
                    retry_after_ms: None,
                },
                version,
            };
        }
    };

    let outcome = if !has_sdk {
        let snippet: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        Outcome::Error {
            error: engine_error(format!(
                "the app answered HTTP {status} without an X-Inngest-SDK header, so the answer did not come from an Inngest SDK (body: {snippet})"
            )),
            retryable: true,
            retry_after_ms: None,
        }
    } else {
        classify(status, &bytes, no_retry, retry_after_ms)
    };
    Answer { outcome, version }
}

fn classify(
    status: u16,
    bytes: &[u8],
    no_retry: Option<bool>,
    retry_after_ms: Option<i64>,
) -> Outcome {
    match status {
        200 => {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Outcome::Complete(Value::Null);
            }
            let value = serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()));
            Outcome::Complete(value)
        }
        206 => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Array(ops)) => Outcome::Ops {
                ops,
                no_retry: no_retry == Some(true),
                retry_after_ms,
            },
            Ok(op @ Value::Object(_)) => Outcome::Ops {
                ops: vec![op],
                no_retry: no_retry == Some(true),
                retry_after_ms,
            },
            Ok(other) => Outcome::Error {
                error: engine_error(format!(
                    "the app answered 206 with {other}, not a list of ops"
                )),
                retryable: true,
                retry_after_ms: None,
            },
            Err(e) => Outcome::Error {
                error: engine_error(format!("the app answered 206 with invalid JSON: {e}")),
                retryable: true,
                retry_after_ms: None,
            },
        },
        _ => {
            let error = match serde_json::from_slice::<Value>(bytes) {
                Ok(v @ Value::Object(_)) => v,
                Ok(v) => engine_error(format!("the app answered HTTP {status}: {v}")),
                Err(_) => {
                    let text: String = String::from_utf8_lossy(bytes).chars().take(500).collect();
                    engine_error(format!("the app answered HTTP {status}: {text}"))
                }
            };
            // Without the header, old SDKs meant "4xx: do not retry".
            let retryable = match no_retry {
                Some(v) => !v,
                None => !(400..500).contains(&status),
            };
            Outcome::Error {
                error,
                retryable,
                retry_after_ms,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_answers() {
        assert!(
            matches!(classify(200, b"{\"a\":1}", None, None), Outcome::Complete(v) if v["a"] == 1)
        );
        assert!(matches!(
            classify(200, b"", None, None),
            Outcome::Complete(Value::Null)
        ));
        assert!(
            matches!(classify(206, b"[{\"op\":\"StepRun\"}]", None, None), Outcome::Ops { ops, .. } if ops.len() == 1)
        );
        assert!(matches!(
            classify(206, b"nope", None, None),
            Outcome::Error {
                retryable: true,
                ..
            }
        ));
        assert!(matches!(
            classify(500, b"{}", Some(false), None),
            Outcome::Error {
                retryable: true,
                ..
            }
        ));
        assert!(matches!(
            classify(400, b"{}", Some(true), None),
            Outcome::Error {
                retryable: false,
                ..
            }
        ));
        assert!(matches!(
            classify(400, b"{}", None, None),
            Outcome::Error {
                retryable: false,
                ..
            }
        ));
        assert!(matches!(
            classify(500, b"<html>", None, Some(5)),
            Outcome::Error {
                retryable: true,
                retry_after_ms: Some(5),
                ..
            }
        ));
    }
}
