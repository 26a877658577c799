//! The call request sent to an app: URL, headers and the JCS-canonical body.

use serde_json::{Map, Value, json};

use crate::core::Core;
use crate::function::FunctionDef;
use crate::store::{EventRow, RunRow};

/// State above this size is not inlined: the SDK fetches it through the `/v0/runs` API.
const INLINE_STATE_LIMIT: usize = 4 * 1024 * 1024;

/// A request ready to send.
#[derive(Debug)]
pub(crate) struct CallRequest {
    pub(crate) url: String,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// What a call needs to know about the job that asked for it.
#[derive(Debug, Clone)]
pub(crate) struct CallTarget {
    pub(crate) job_key: String,
    pub(crate) step_id: String,
    pub(crate) attempt: u32,
}

/// Sets `fnId` and `stepId` on the function's URL, keeping its other query parameters.
pub(crate) fn call_url(base: &str, slug: &str, step_id: &str) -> String {
    let Ok(mut url) = url::Url::parse(base) else {
        return base.to_owned();
    };
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "fnId" && k != "stepId")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("fnId", slug);
        q.append_pair("stepId", step_id);
    }
    url.to_string()
}

/// Builds the request body of §1.5 and its headers. The events and steps are moved into the
/// body, which is serialised once; only a body over [`INLINE_STATE_LIMIT`] is built a second
/// time, without them (`use_api`).
pub(crate) fn build(
    core: &Core,
    f: &FunctionDef,
    run: &RunRow,
    events: Vec<EventRow>,
    steps: Vec<(String, Value)>,
    target: &CallTarget,
) -> CallRequest {
    let stack: Vec<String> = steps.iter().map(|(h, _)| h.clone()).collect();
    let bodies: Vec<Value> = events.into_iter().map(|e| e.body).collect();
    let memo: Map<String, Value> = steps.into_iter().collect();
    let request_id = core.ulid();

    let mut body = body_json(f, run, target, &request_id, &stack, bodies, memo, false);
    if body.len() > INLINE_STATE_LIMIT {
        body = body_json(
            f,
            run,
            target,
            &request_id,
            &stack,
            Vec::new(),
            Map::new(),
            true,
        );
    }

    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("X-Run-ID", run.id.clone()),
        ("x-request-id", request_id),
        ("x-inngest-job-id", target.job_key.clone()),
        ("X-Inngest-Step-ID", target.step_id.clone()),
        (
            "User-Agent",
            format!("nestling-engine/{}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    if run.version > 0 {
        headers.push(("x-inngest-req-version", run.version.to_string()));
    }
    if let Some(key) = &core.config.signing_key {
        headers.push((
            "X-Inngest-Signature",
            crate::wire::sign(&body, key, chrono::Utc::now().timestamp()),
        ));
    }

    CallRequest {
        url: call_url(&f.url, &f.slug, &target.step_id),
        body,
        headers,
    }
}

/// The canonical body: with the events and memoised steps inline, or (`use_api`) without them,
/// for the SDK to fetch through the `/v0/runs` API.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per part of the body"
)]
fn body_json(
    f: &FunctionDef,
    run: &RunRow,
    target: &CallTarget,
    request_id: &str,
    stack: &[String],
    bodies: Vec<Value>,
    memo: Map<String, Value>,
    use_api: bool,
) -> Vec<u8> {
    let current = stack.len();
    let ctx = json!({
        "run_id": run.id,
        "fn_id": f.id,
        "env": "",
        "step_id": target.step_id,
        "attempt": target.attempt,
        "max_attempts": f.max_attempts,
        "stack": {"stack": stack, "current": current},
        "qi_id": target.job_key,
        "request_id": request_id,
        "job_id": target.job_key,
        "disable_immediate_execution": run.force_plan,
        "use_api": use_api,
    });
    let event = bodies.first().cloned().unwrap_or_else(|| json!({}));
    let body = json!({
        "event": event,
        "events": bodies,
        "steps": memo,
        "defers": {},
        "ctx": ctx,
        "version": run.version,
        "use_api": use_api,
    });
    crate::wire::canonical_json(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwrites_fn_and_step_ids() {
        let u = call_url(
            "http://h:3000/api/inngest?fnId=app-f&stepId=step&x=1",
            "app-f",
            "abc",
        );
        assert_eq!(u, "http://h:3000/api/inngest?x=1&fnId=app-f&stepId=abc");
    }
}
