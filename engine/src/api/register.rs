//! `POST /fn/register`: an app syncs its functions.

use std::sync::Arc;

use nestling_inngest_protocol::FunctionConfig;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::{authorised, error_response, json_response};
use crate::core::Core;
use crate::error::Result;
use crate::function::FunctionDef;
use crate::store::{AppRow, FunctionRow, apps};

/// The kind this server reports in `X-Inngest-Server-Kind`.
pub(crate) const SERVER_KIND: &str = "dev";

#[handler]
pub(crate) async fn register(req: &Request, body: poem::Body, core: Data<&Arc<Core>>) -> Response {
    let core = core.0.clone();
    if let Some(expected) = req.header("x-inngest-expected-server-kind")
        && !expected.is_empty()
        && expected != SERVER_KIND
    {
        return error_response(
            StatusCode::BAD_REQUEST,
            format!("Expected server kind {expected}, got {SERVER_KIND}"),
        );
    }
    if !authorised(&core, req) {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "Invalid signing key: send Authorization: Bearer <signing key or its hash>",
        );
    }
    let bytes = match body.into_bytes().await {
        Ok(b) => b,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            );
        }
    };
    let payload: Value = match serde_json::from_slice(&bytes) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "the register body must be a JSON object",
            );
        }
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                format!("the register body is not valid JSON: {e}"),
            );
        }
    };
    let mut resp = match register_app(&core, payload) {
        Ok(Registered::Done {
            modified,
            app_id,
            sync_id,
        }) => json_response(
            StatusCode::OK,
            &json!({"ok": true, "modified": modified, "app_id": app_id, "sync_id": sync_id}),
        ),
        Ok(Registered::Invalid(message)) => error_response(StatusCode::BAD_REQUEST, message),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    resp.headers_mut().insert(
        "x-inngest-server-kind",
        poem::http::HeaderValue::from_static(SERVER_KIND),
    );
    resp
}

/// The result of a registration.
#[derive(Debug)]
pub(crate) enum Registered {
    Done {
        modified: bool,
        app_id: String,
        sync_id: String,
    },
    Invalid(String),
}

fn app_uuid(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("nestling-app:{name}").as_bytes(),
    )
    .to_string()
}

fn function_uuid(app_id: &str, slug: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("nestling-fn:{app_id}:{slug}").as_bytes(),
    )
    .to_string()
}

/// Validates and stores an app's config (also used for in-band sync answers).
pub(crate) fn register_app(core: &Core, mut payload: Value) -> Result<Registered> {
    let now = core.clock.now();
    let app_name = payload
        .get("appName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    if app_name.is_empty() {
        return Ok(Registered::Invalid(
            "appName is required: the SDK must send the app's id as `appName`".into(),
        ));
    }
    let url = payload
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if url::Url::parse(&url).is_err() {
        return Ok(Registered::Invalid(format!(
            "`url` must be the app's serve URL, got `{url}`"
        )));
    }

    if let Some(obj) = payload.as_object_mut() {
        obj.remove("featureObservations");
    }
    let checksum = crate::wire::sha256_hex(&crate::wire::canonical_json(&payload));
    let app_id = app_uuid(&app_name);
    let sync_id = uuid::Uuid::new_v4().to_string();

    let existing = core.store.read(|c| apps::app_by_name(c, &app_name))?;
    if existing
        .as_ref()
        .is_some_and(|a| a.checksum == checksum && a.error.is_none())
    {
        return Ok(Registered::Done {
            modified: false,
            app_id,
            sync_id,
        });
    }

    let fns = payload
        .get("functions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, f) in fns.iter().enumerate() {
        let slug = f
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let name = f
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let label = if slug.is_empty() {
            format!("functions[{i}]")
        } else {
            format!("function `{slug}`")
        };
        if slug.is_empty() {
            problems.push(format!("{label}: `id` is required"));
            continue;
        }
        if !seen.insert(slug.clone()) {
            problems.push(format!("{label}: the id is used twice"));
        }
        let row = FunctionRow {
            id: function_uuid(&app_id, &slug),
            app_id: app_id.clone(),
            slug: slug.clone(),
            name: name.clone(),
            config: f.clone(),
            version: 1,
            archived: false,
        };
        // The protocol crate checks the server's rules; the engine adds what needs CEL.
        // A function without triggers is accepted: JS registers invoke-only functions so.
        let checked: Vec<String> = match serde_json::from_value::<FunctionConfig>(f.clone()) {
            Ok(config) => config
                .problems()
                .into_iter()
                .map(|p| p.to_string())
                .filter(|p| !p.contains("needs at least one event or cron trigger"))
                .collect(),
            Err(e) => vec![format!("{label}: {e}")],
        };
        if !checked.is_empty() {
            problems.extend(checked);
        } else if let Err(errors) = FunctionDef::parse(&row, &core.exprs) {
            problems.extend(errors.into_iter().map(|e| format!("{label}: {e}")));
        }
        rows.push((slug, name, f.clone()));
    }
    if !problems.is_empty() {
        return Ok(Registered::Invalid(format!(
            "At least one function is invalid: {}",
            problems.join("; ")
        )));
    }

    let app = AppRow {
        id: app_id.clone(),
        name: app_name.clone(),
        url: url.clone(),
        sdk: payload
            .get("sdk")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        framework: payload
            .get("framework")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        app_version: payload
            .get("appVersion")
            .and_then(Value::as_str)
            .map(str::to_owned),
        checksum,
        synced_ms: now,
        error: None,
    };
    core.store.write(|tx| {
        apps::upsert_app(tx, &app)?;
        apps::replace_functions(tx, &app_id, &rows, |slug| function_uuid(&app_id, slug))?;
        apps::add_app_url(tx, &url, now)?;
        Ok(())
    })?;
    core.reload_functions()?;
    core.store
        .write(|tx| crate::executor::schedule_crons(core, tx, now))?;
    core.calls_held
        .store(false, std::sync::atomic::Ordering::Release);
    core.wake.notify_one();
    tracing::info!(target: "nestling_engine::registry", app = %app_name, functions = rows.len(), "app synced");

    Ok(Registered::Done {
        modified: true,
        app_id,
        sync_id,
    })
}
