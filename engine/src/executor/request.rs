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

/// Builds the request body of §1.5 and its headers.
pub(crate) fn build(
    core: &Core,
    f: &FunctionDef,
    run: &RunRow,
    events: &[EventRow],
    steps: &[(String, Value)],
    target: &CallTarget,
) -> CallRequest {
    let bodies: Vec<Value> = events.iter().map(|e| e.body.clone()).collect();
    let stack: Vec<&str> = steps.iter().map(|(h, _)| h.as_str()).collect();
    let mut memo = Map::new();
    for (h, v) in steps {
        memo.insert(h.clone(), v.clone());
    }

    let inline_size: usize = bodies
        .iter()
        .chain(memo.values())
        .map(|v| v.to_string().len())
        .sum();
    let use_api = inline_size > INLINE_STATE_LIMIT;
    let request_id = core.ulid();

    let ctx = json!({
        "run_id": run.id,
        "fn_id": f.id,
        "env": "",
        "step_id": target.step_id,
        "attempt": target.attempt,
        "max_attempts": f.max_attempts,
        "stack": {"stack": stack, "current": stack.len()},
        "qi_id": target.job_key,
        "request_id": request_id,
        "job_id": target.job_key,
        "disable_immediate_execution": run.force_plan,
        "use_api": use_api,
    });
    let body = json!({
        "event": if use_api { json!({}) } else { bodies.first().cloned().unwrap_or_else(|| json!({})) },
        "events": if use_api { Vec::new() } else { bodies },
        "steps": if use_api { Map::new() } else { memo },
        "defers": {},
        "ctx": ctx,
        "version": run.version,
        "use_api": use_api,
    });
    let body = crate::wire::canonical_json(&body);

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
