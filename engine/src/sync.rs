//! Syncing apps by URL: a `PUT` to the app makes its SDK register with `/fn/register` (out of
//! band), or answer with its config directly (in band). Known URLs are pinged again on a timer.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::register::{Registered, SERVER_KIND, register_app};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::apps;

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// Whether the app's functions changed.
    pub modified: bool,
    /// The SDK's message.
    pub message: String,
}

/// Pings `url` so the app registers, and records the URL for polling.
pub(crate) async fn sync_url(core: &Core, url: &str) -> Result<SyncReport> {
    let now = core.clock.now();
    core.store.write(|tx| apps::add_app_url(tx, url, now))?;
    let result = ping(core, url).await;
    let error = result.as_ref().err().map(ToString::to_string);
    core.store
        .write(|tx| apps::set_app_url_error(tx, url, error.as_deref()))?;
    result
}

async fn ping(core: &Core, url: &str) -> Result<SyncReport> {
    let fail = |reason: String| Error::Sync {
        url: url.to_owned(),
        reason,
    };
    let body = crate::wire::canonical_json(&json!({"url": url}));
    let mut req = core
        .http
        .put(url)
        .header("Content-Type", "application/json")
        .header("X-Inngest-Server-Kind", SERVER_KIND)
        .timeout(std::time::Duration::from_secs(30));
    if let Some(key) = &core.config.signing_key {
        req = req.header(
            "X-Inngest-Signature",
            crate::wire::sign(&body, key, chrono::Utc::now().timestamp()),
        );
    }
    let resp = req
        .body(body)
        .send()
        .await
        .map_err(|e| fail(format!("the app did not answer: {e}")))?;
    let status = resp.status().as_u16();
    let in_band = resp
        .headers()
        .get("x-inngest-sync-kind")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "in_band");
    let text = resp
        .text()
        .await
        .map_err(|e| fail(format!("reading the answer failed: {e}")))?;
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));

    if in_band && status == 200 {
        // The SDK sent its whole config instead of calling /fn/register.
        let mut payload = answer.clone();
        payload["appName"] = answer.get("app_id").cloned().unwrap_or(Value::Null);
        payload["url"] = answer.get("url").cloned().unwrap_or_else(|| json!(url));
        return match register_app(core, payload)? {
            Registered::Done { modified, .. } => Ok(SyncReport {
                modified,
                message: "Successfully registered".into(),
            }),
            Registered::Invalid(reason) => Err(fail(reason)),
        };
    }

    let message = answer
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| text.chars().take(300).collect(), str::to_owned);
    if status != 200 {
        return Err(fail(format!("HTTP {status}: {message}")));
    }
    let modified = answer
        .get("modified")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    Ok(SyncReport { modified, message })
}

/// Pings every known app URL every `interval`.
pub(crate) async fn poll(
    core: Arc<Core>,
    interval: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        let urls = core.store.read(apps::app_urls).unwrap_or_default();
        for (url, _) in urls {
            if let Err(e) = sync_url(&core, &url).await {
                tracing::debug!(target: "nestling_engine::sync", url, error = %e, "app did not sync");
            }
        }
    }
}
