//! The web page at `/` and the JSON it polls, plus `/dev` and `/health`.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Html, Path};
use poem::{Response, handler};
use serde_json::{Value, json};

use super::runs::run_json;
use super::{error_response, json_response, rfc3339};
use crate::core::Core;
use crate::store::{apps, events, pauses, runs};

const PAGE: &str = include_str!("../ui/index.html");

#[handler]
pub(crate) fn page() -> Html<&'static str> {
    Html(PAGE)
}

#[handler]
pub(crate) fn health() -> Response {
    json_response(StatusCode::OK, &json!({"status": 200, "message": "OK"}))
}

#[handler]
pub(crate) fn dev_info(core: Data<&Arc<Core>>) -> Response {
    let result = core
        .store
        .read(|c| Ok((apps::apps(c)?, apps::app_urls(c)?)));
    match result {
        Ok((list, urls)) => {
            let functions: Vec<Value> = core
                .functions()
                .iter()
                .map(|f| json!({"id": f.id, "slug": f.slug, "name": f.name, "app_id": f.app_id}))
                .collect();
            json_response(
                StatusCode::OK,
                &json!({
                    "version": env!("CARGO_PKG_VERSION"),
                    "server": "nestling-engine",
                    "server_kind": "dev",
                    "startOpts": {"sdkURLs": core.config.apps, "database": core.config.database.display().to_string()},
                    "apps": list,
                    "app_urls": urls.iter().map(|(u, e)| json!({"url": u, "error": e})).collect::<Vec<_>>(),
                    "functions": functions,
                }),
            )
        }
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[handler]
pub(crate) fn overview(core: Data<&Arc<Core>>) -> Response {
    let result = core.store.read(|c| {
        let list = apps::apps(c)?;
        let evs = events::recent_events(c, 50)?;
        let recent = runs::recent_runs(c, 50)?;
        let event_runs: Vec<Value> = evs
            .iter()
            .map(|e| {
                let runs = events::runs_of_event(c, &e.id).unwrap_or_default();
                json!({"id": e.id, "name": e.name, "data": e.body.get("data"), "received_at": rfc3339(e.received_ms), "runs": runs})
            })
            .collect();
        Ok((list, event_runs, recent))
    });
    match result {
        Ok((list, evs, recent)) => {
            let functions: Vec<Value> = core
                .functions()
                .iter()
                .map(|f| {
                    let triggers: Vec<String> = f
                        .triggers
                        .iter()
                        .map(|t| match t {
                            crate::function::Trigger::Event { name, expression } => match expression {
                                Some(e) => format!("{name} if {e}"),
                                None => name.clone(),
                            },
                            crate::function::Trigger::Cron { cron, .. } => format!("cron {cron}"),
                        })
                        .collect();
                    json!({"id": f.id, "slug": f.slug, "name": f.name, "app_id": f.app_id, "triggers": triggers})
                })
                .collect();
            let runs: Vec<Value> = recent.iter().map(|r| run_json(r, None)).collect();
            json_response(
                StatusCode::OK,
                &json!({"apps": list, "functions": functions, "events": evs, "runs": runs}),
            )
        }
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[handler]
pub(crate) fn run_detail(Path(id): Path<String>, core: Data<&Arc<Core>>) -> Response {
    let result = core.store.read(|c| {
        let Some(run) = runs::run(c, &id)? else {
            return Ok(None);
        };
        let history = runs::history(c, &id)?;
        let steps = runs::steps(c, &id)?;
        let waiting = pauses::of_run(c, &id)?;
        let evs = events::events(c, &run.event_ids)?;
        Ok(Some((run, history, steps, waiting, evs)))
    });
    match result {
        Ok(Some((run, history, steps, waiting, evs))) => {
            let mut v = run_json(&run, None);
            v["history"] = json!(history);
            v["steps"] = json!(
                steps
                    .into_iter()
                    .map(|(h, val)| json!({"id": h, "value": val}))
                    .collect::<Vec<_>>()
            );
            v["pauses"] = json!(waiting.iter().map(|p| json!({"event": p.event_name, "if": p.expr, "expires_at": rfc3339(p.expires_ms)})).collect::<Vec<_>>());
            v["events"] = json!(evs.into_iter().map(|e| e.body).collect::<Vec<_>>());
            json_response(StatusCode::OK, &v)
        }
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("no run with id {id}")),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
