//! The event API (`POST /e/{key}`, `POST /invoke/{slug}`) and the REST reads of events.

use std::sync::Arc;

use base64::Engine as _;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::runs::run_json;
use super::{error_response, json_response, rfc3339};
use crate::clock::now_ms;
use crate::core::Core;
use crate::error::Result;
use crate::ingest;
use crate::store::{events, runs};

/// Most events accepted in one request, as on the server.
const MAX_EVENTS: usize = 5000;
/// Largest accepted request body.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Ids from `x-inngest-event-id-seed: <millis>,<base64 of 10 bytes>`, so that an SDK retrying a
/// send gets the same ids back.
fn seeded_ids(seed: Option<&str>, count: usize) -> Option<Vec<String>> {
    let (ms, entropy) = seed?.split_once(',')?;
    let ms: u64 = ms.trim().parse().ok()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(entropy.trim())
        .ok()?;
    if bytes.len() != 10 {
        return None;
    }
    let mut random: u128 = 0;
    for b in bytes {
        random = (random << 8) | u128::from(b);
    }
    Some(
        (0..count)
            .map(|i| {
                ulid::Ulid::from_parts(ms, random.wrapping_add(i as u128) & ((1u128 << 80) - 1))
                    .to_string()
            })
            .collect(),
    )
}

/// Stores the events in `body` (one object or an array) in one transaction and acts on them.
/// Returns the ids stored and, on a bad event, the reason (events before it are kept, as on
/// the server).
pub(crate) fn accept_events(
    core: &Core,
    body: &[u8],
    seed: Option<&str>,
) -> Result<(Vec<String>, Option<String>)> {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Ok((Vec::new(), Some(format!("the body is not valid JSON: {e}")))),
    };
    let list = match parsed {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        _ => {
            return Ok((
                Vec::new(),
                Some("the body must be an event object or an array of events".into()),
            ));
        }
    };
    if list.is_empty() {
        return Ok((
            Vec::new(),
            Some("no events: send an event object or a non-empty array".into()),
        ));
    }
    if list.len() > MAX_EVENTS {
        return Ok((
            Vec::new(),
            Some(format!(
                "{} events in one request; at most {MAX_EVENTS} are accepted",
                list.len()
            )),
        ));
    }
    let now = core.clock.now();
    let seeded = seeded_ids(seed, list.len());

    let out = core.store.write(|tx| {
        let mut ids = Vec::new();
        for (i, raw) in list.iter().enumerate() {
            let event = match ingest::normalise(raw, true, now) {
                Ok(e) => e,
                Err(reason) => return Ok((ids, Some(format!("event {i}: {reason}")))),
            };
            let id = seeded
                .as_ref()
                .map_or_else(|| core.ulid(), |s| s[i].clone());
            if events::event(tx, &id)?.is_some() {
                // A retried send with the same seed: already stored.
                ids.push(id);
                continue;
            }
            ingest::ingest(core, tx, event, id.clone(), now)?;
            ids.push(id);
        }
        Ok((ids, None))
    })?;
    core.wake.notify_one();
    Ok(out)
}

#[handler]
pub(crate) async fn send(
    req: &Request,
    Path(key): Path<String>,
    body: poem::Body,
    core: Data<&Arc<Core>>,
) -> Response {
    let core = core.0.clone();
    if !core.config.event_keys.is_empty() && !core.config.event_keys.contains(&key) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"status": 401, "error": "Event key not found"}),
        );
    }
    let bytes = match body.into_bytes_limit(MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"ids": [], "status": 400, "error": format!("cannot read the body: {e}")}),
            );
        }
    };
    match accept_events(&core, &bytes, req.header("x-inngest-event-id-seed")) {
        Ok((ids, None)) => json_response(StatusCode::OK, &json!({"ids": ids, "status": 200})),
        Ok((ids, Some(error))) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"ids": ids, "status": 400, "error": error}),
        ),
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"ids": [], "status": 500, "error": e.to_string()}),
        ),
    }
}

/// `POST /invoke/{slug}`: starts one function directly with the body as its event data.
#[handler]
pub(crate) async fn invoke(
    Path(slug): Path<String>,
    body: poem::Body,
    core: Data<&Arc<Core>>,
) -> Response {
    let core = core.0.clone();
    let f = match core.function(&slug) {
        Ok(Some(f)) => f,
        Ok(None) => {
            return error_response(
                StatusCode::NOT_FOUND,
                format!("no function `{slug}` is registered; sync the app that defines it"),
            );
        }
        Err(e) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let bytes = body.into_bytes_limit(MAX_BODY).await.unwrap_or_default();
    let raw: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    format!("the body is not valid JSON: {e}"),
                );
            }
        }
    };
    let mut data = raw
        .get("data")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    data["_inngest"] = json!({"fn_id": f.slug});
    let now = core.clock.now();
    let event = json!({"name": ingest::FN_INVOKED, "data": data, "user": {}, "ts": now});
    let result = core.store.write(|tx| {
        let id = core.ulid();
        ingest::ingest(&core, tx, event, id.clone(), now)?;
        Ok(id)
    });
    core.wake.notify_one();
    match result {
        Ok(id) => json_response(StatusCode::OK, &json!({"id": id, "status": 200})),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn event_json(e: &events::EventRow) -> Value {
    json!({
        "internal_id": e.id,
        "id": e.body.get("id"),
        "name": e.name,
        "data": e.body.get("data"),
        "user": e.body.get("user"),
        "ts": e.body.get("ts"),
        "v": e.body.get("v"),
        "received_at": rfc3339(e.received_ms),
    })
}

/// The `{data, metadata}` envelope of the REST API.
pub(crate) fn envelope(data: Value) -> Value {
    let now = rfc3339(now_ms());
    json!({"data": data, "metadata": {"fetched_at": now, "cached_until": now}})
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ListQuery {
    limit: Option<i64>,
    name: Option<String>,
}

#[handler]
pub(crate) fn list_events(Query(q): Query<ListQuery>, core: Data<&Arc<Core>>) -> Response {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    match core.store.read(|c| events::recent_events(c, limit * 4)) {
        Ok(evs) => {
            let data: Vec<Value> = evs
                .iter()
                .filter(|e| q.name.as_deref().is_none_or(|n| n == e.name))
                .take(limit as usize)
                .map(event_json)
                .collect();
            json_response(StatusCode::OK, &envelope(Value::Array(data)))
        }
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[handler]
pub(crate) fn get_one(Path(id): Path<String>, core: Data<&Arc<Core>>) -> Response {
    if ulid::Ulid::from_string(&id).is_err() {
        return error_response(StatusCode::BAD_REQUEST, format!("Invalid event ID: {id}"));
    }
    match core.store.read(|c| events::event(c, &id)) {
        Ok(Some(e)) => json_response(StatusCode::OK, &envelope(event_json(&e))),
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("no event with id {id}")),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[handler]
pub(crate) fn runs_of_event(Path(id): Path<String>, core: Data<&Arc<Core>>) -> Response {
    if ulid::Ulid::from_string(&id).is_err() {
        return error_response(StatusCode::BAD_REQUEST, format!("Invalid event ID: {id}"));
    }
    let result = core.store.read(|c| {
        let mut out = Vec::new();
        for run_id in events::runs_of_event(c, &id)? {
            if let Some(run) = runs::run(c, &run_id)? {
                out.push(run_json(&run, Some(&id)));
            }
        }
        Ok(out)
    });
    match result {
        Ok(list) => json_response(StatusCode::OK, &envelope(Value::Array(list))),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_give_stable_ids() {
        let a = seeded_ids(Some("1700000000000,AAECAwQFBgcICQ=="), 2).unwrap();
        let b = seeded_ids(Some("1700000000000,AAECAwQFBgcICQ=="), 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
        assert!(seeded_ids(Some("nope"), 1).is_none());
    }
}
