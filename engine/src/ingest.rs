//! Events in: validation, storage, resuming pauses, and starting the runs they trigger.

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use crate::core::Core;
use crate::error::Result;
use crate::lifecycle::{self, StartOptions};
use crate::store::{EventRow, PauseKind, events, pauses, runs};
use crate::{flow, store};

/// Prefix of names reserved for the engine's own events.
pub(crate) const INTERNAL_PREFIX: &str = "inngest/";
pub(crate) const FN_INVOKED: &str = "inngest/function.invoked";
pub(crate) const FN_FINISHED: &str = "inngest/function.finished";
pub(crate) const FN_FAILED: &str = "inngest/function.failed";
pub(crate) const FN_CANCELLED: &str = "inngest/function.cancelled";
pub(crate) const SCHEDULED: &str = "inngest/scheduled.timer";

/// Earliest and latest accepted `ts`: 1980 to 2100, as on the server.
const TS_MIN: i64 = 315_532_800_000;
const TS_MAX: i64 = 4_102_444_800_000;

/// Checks and normalises one event sent to the event API. `external` events may not use the
/// reserved `inngest/` names and lose `data._inngest`.
pub(crate) fn normalise(
    raw: &Value,
    external: bool,
    now: i64,
) -> std::result::Result<Value, String> {
    let Some(obj) = raw.as_object() else {
        return Err(format!(
            "an event must be a JSON object, got {}",
            kind_of(raw)
        ));
    };
    let name = match obj.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err("the event has no `name`; every event needs a non-empty name".into());
        }
        Some(other) => return Err(format!("`name` must be a string, got {}", kind_of(other))),
    };
    if external && name.starts_with(INTERNAL_PREFIX) {
        return Err(format!(
            "event name `{name}` is reserved: names starting with `inngest/` are internal"
        ));
    }
    let mut data = match obj.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(d)) => d.clone(),
        Some(other) => return Err(format!("`data` must be an object, got {}", kind_of(other))),
    };
    if external {
        data.remove("_inngest");
    }
    let user = match obj.get("user") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(u)) => Value::Object(u.clone()),
        Some(other) => return Err(format!("`user` must be an object, got {}", kind_of(other))),
    };
    let ts = match obj.get("ts") {
        None | Some(Value::Null) => now,
        Some(Value::Number(n)) => match n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)) {
            Some(0) => now,
            Some(t) if (TS_MIN..=TS_MAX).contains(&t) => t,
            _ => {
                return Err(format!(
                    "`ts` {n} is out of range: use milliseconds since the epoch"
                ));
            }
        },
        Some(other) => {
            return Err(format!(
                "`ts` must be a number of milliseconds, got {}",
                kind_of(other)
            ));
        }
    };
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("`id` must be a string, got {}", kind_of(other))),
    };

    let mut event = json!({"name": name, "data": data, "user": user, "ts": ts});
    if let Some(id) = id {
        event["id"] = Value::String(id);
    }
    if let Some(v) = obj.get("v").and_then(Value::as_str) {
        event["v"] = Value::String(v.to_owned());
    }
    Ok(event)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Stores a normalised event under `internal_id` and acts on it. Returns the stored row.
pub(crate) fn ingest(
    core: &Core,
    tx: &Connection,
    mut event: Value,
    internal_id: String,
    now: i64,
) -> Result<EventRow> {
    let had_id = event.get("id").is_some();
    if !had_id {
        event["id"] = Value::String(internal_id.clone());
    }
    let name = event["name"].as_str().unwrap_or_default().to_owned();
    let row = EventRow {
        id: internal_id,
        name: name.clone(),
        body: event,
        received_ms: now,
    };
    events::insert_event(tx, &row)?;

    resume_pauses(core, tx, &row, now)?;

    if name == FN_INVOKED {
        let target = row
            .body
            .pointer("/data/_inngest/fn_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let correlation = row
            .body
            .pointer("/data/_inngest/correlation_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match core.function(target)? {
            Some(f) => {
                let opts = StartOptions {
                    correlation_id: correlation,
                    ..StartOptions::default()
                };
                flow::admit(core, tx, &f, vec![row.clone()], now, opts)?;
            }
            None => {
                tracing::warn!(target: "nestling_engine::ingest", function = target, "invoke of an unknown function")
            }
        }
        return Ok(row);
    }

    let lifecycle = matches!(name.as_str(), FN_FINISHED | FN_FAILED | FN_CANCELLED);
    for f in core.functions().iter() {
        if f.triggered_by(&name, &row.body, &core.exprs) {
            let opts = StartOptions {
                lifecycle,
                external_id: had_id,
                ..StartOptions::default()
            };
            flow::schedule(core, tx, f, row.clone(), now, opts)?;
        }
    }
    Ok(row)
}

/// Resumes waits and invokes this event satisfies, and cancels runs it cancels.
fn resume_pauses(core: &Core, tx: &Connection, event: &EventRow, now: i64) -> Result<()> {
    if event.name == FN_FINISHED
        && let Some(corr) = event
            .body
            .pointer("/data/correlation_id")
            .and_then(Value::as_str)
        && let Some(p) = pauses::by_correlation(tx, corr)?
    {
        let data = &event.body["data"];
        let value = match data.get("error") {
            Some(err) if !err.is_null() => json!({"error": err}),
            _ => json!({"data": data.get("result").cloned().unwrap_or(Value::Null)}),
        };
        lifecycle::resume_pause(core, tx, &p, value, "InvokeFinished", now)?;
    }

    for p in pauses::by_event(tx, &event.name, now)? {
        if p.kind == PauseKind::Invoke {
            continue;
        }
        let Some(run) = runs::run(tx, &p.run_id)? else {
            pauses::delete(tx, &p.id)?;
            continue;
        };
        if run.status != store::RunStatus::Running || run.event_ids.contains(&event.id) {
            continue;
        }
        if let Some(src) = &p.expr {
            let trigger = events::event(tx, run.event_ids.first().map_or("", String::as_str))?
                .map_or(Value::Null, |e| e.body);
            if !core
                .exprs
                .truthy(src, &[("event", &trigger), ("async", &event.body)])
            {
                continue;
            }
        }
        match p.kind {
            PauseKind::Wait => {
                lifecycle::resume_pause(core, tx, &p, event.body.clone(), "WaitMatched", now)?;
            }
            PauseKind::Cancel => {
                // Only events received after the run started count.
                if event.id.as_str() > run.id.as_str() {
                    let reason = json!({"name": "Cancelled", "message": format!("cancelled by event {} ({})", event.name, event.id)});
                    lifecycle::cancel(core, tx, &run, reason, now)?;
                }
            }
            PauseKind::Invoke => {}
        }
    }
    Ok(())
}
