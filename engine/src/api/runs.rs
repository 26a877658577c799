//! Runs over REST (`GET`/`DELETE /v1/runs/{id}`), the SDK's state API for large runs
//! (`/v0/runs/{id}/batch`, `/actions`) and JS v4's async checkpoints.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Map, Value, json};

use super::events::envelope;
use super::{authorised, error_response, json_response, rfc3339};
use crate::core::Core;
use crate::lifecycle::history;
use crate::store::{RunRow, RunStatus, events, runs};

/// A run as the REST API shows it.
///
/// `output` is what the run ended with, as the dev server shows it: the return value of a
/// completed run, the error of a failed one, and `{}` for a cancelled run. The dev server
/// reads `output` from the run's finish record, and a cancellation finishes a run without
/// one; the engine does the same here. Why a run was cancelled (an event, the API, a
/// timeout, a newer singleton) is kept in its history, shown on the run's page of the UI
/// (`/ui/api/runs/{id}`, a `FunctionCancelled` row), and in
/// [`RunSummary::error`](crate::RunSummary::error).
pub(crate) fn run_json(run: &RunRow, event_id: Option<&str>) -> Value {
    let output = match run.status {
        RunStatus::Failed => run.error.clone(),
        RunStatus::Cancelled => Some(json!({})),
        RunStatus::Completed | RunStatus::Running => run.output.clone(),
    };
    let mut v = json!({
        "run_id": run.id,
        "run_started_at": rfc3339(run.started_ms.unwrap_or(run.created_ms)),
        "function_id": run.function_id,
        "function_slug": run.function_slug,
        "function_version": 1,
        "environment_id": "00000000-0000-0000-0000-000000000000",
        "event_id": event_id.map(str::to_owned).or_else(|| run.event_ids.first().cloned()),
        "status": run.status.as_str(),
        "ended_at": run.ended_ms.map(rfc3339),
        "output": output,
    });
    if let Some(b) = &run.meta.batch_id {
        v["batch_id"] = json!(b);
    }
    if let Some(c) = &run.meta.cron {
        v["cron"] = json!(c);
    }
    v
}

fn valid_id(id: &str) -> Option<Response> {
    ulid::Ulid::from_string(id)
        .is_err()
        .then(|| error_response(StatusCode::BAD_REQUEST, format!("Invalid run ID: {id}")))
}

#[handler]
pub(crate) fn get_run(Path(id): Path<String>, core: Data<&Arc<Core>>) -> Response {
    if let Some(bad) = valid_id(&id) {
        return bad;
    }
    match core.store.read(|c| runs::run(c, &id)) {
        Ok(Some(run)) => json_response(StatusCode::OK, &envelope(run_json(&run, None))),
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("no run with id {id}")),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[handler]
pub(crate) fn cancel_run(Path(id): Path<String>, core: Data<&Arc<Core>>) -> Response {
    if let Some(bad) = valid_id(&id) {
        return bad;
    }
    match crate::engine::cancel_run(&core, &id) {
        Ok(Some(run)) => json_response(StatusCode::OK, &envelope(run_json(&run, None))),
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("no run with id {id}")),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[handler]
pub(crate) fn batch(req: &Request, Path(id): Path<String>, core: Data<&Arc<Core>>) -> Response {
    if !authorised(&core, req) {
        return error_response(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let result = core.store.read(|c| {
        let Some(run) = runs::run(c, &id)? else {
            return Ok(None);
        };
        Ok(Some(events::events(c, &run.event_ids)?))
    });
    match result {
        Ok(Some(evs)) => json_response(
            StatusCode::OK,
            &Value::Array(evs.into_iter().map(|e| e.body).collect()),
        ),
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("no run with id {id}")),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[handler]
pub(crate) fn actions(req: &Request, Path(id): Path<String>, core: Data<&Arc<Core>>) -> Response {
    if !authorised(&core, req) {
        return error_response(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let result = core.store.read(|c| {
        if runs::run(c, &id)?.is_none() {
            return Ok(None);
        }
        Ok(Some(runs::steps(c, &id)?))
    });
    match result {
        Ok(Some(steps)) => {
            let map: Map<String, Value> = steps.into_iter().collect();
            json_response(StatusCode::OK, &Value::Object(map))
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("no run with id {id}")),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /v1/checkpoint/{runId}/async`: JS v4 reports steps it ran inside one call. Each
/// `StepRun` is memoised as `{"data": …}` (duplicates are ignored); the call that sent them is
/// still in flight and its answer drives the run on. 409 tells the SDK the run is over.
#[handler]
pub(crate) async fn checkpoint(
    req: &Request,
    Path(id): Path<String>,
    body: poem::Body,
    core: Data<&Arc<Core>>,
) -> Response {
    let core = core.0.clone();
    if !authorised(&core, req) {
        return error_response(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let bytes = body.into_bytes().await.unwrap_or_default();
    let payload: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                format!("the checkpoint body is not valid JSON: {e}"),
            );
        }
    };
    let now = core.clock.now();
    let result = core.store.write(|tx| {
        let Some(run) = runs::run(tx, &id)? else {
            return Ok(Some(StatusCode::NOT_FOUND));
        };
        if run.status != RunStatus::Running {
            return Ok(Some(StatusCode::CONFLICT));
        }
        // Checkpoints come during the run's first call, before its answer marks it started.
        crate::executor::started(tx, &run.id, &run.function_slug, now)?;
        for op in payload
            .get("steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if op.get("op").and_then(Value::as_str) != Some("StepRun") {
                continue;
            }
            let Some(hash) = op.get("id").and_then(Value::as_str) else {
                continue;
            };
            let data = op.get("data").cloned().unwrap_or(Value::Null);
            let name = op
                .get("displayName")
                .or_else(|| op.get("name"))
                .and_then(Value::as_str);
            let value = json!({"data": data});
            if runs::insert_step(tx, &run.id, hash, &value)? {
                history(
                    tx,
                    &run.id,
                    now,
                    "StepCompleted",
                    Some(hash),
                    name,
                    None,
                    Some(value),
                )?;
            }
        }
        Ok(None)
    });
    match result {
        Ok(None) => json_response(StatusCode::OK, &json!({})),
        Ok(Some(StatusCode::CONFLICT)) => {
            error_response(StatusCode::CONFLICT, format!("run {id} has already ended"))
        }
        Ok(Some(status)) => error_response(status, format!("no run with id {id}")),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
