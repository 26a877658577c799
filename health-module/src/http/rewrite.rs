//! Serving operations declared at fixed paths under the paths the user configured.

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::{StatusCode, Uri};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};

/// Hands every request for its mount point to the operation declared at `declared`.
pub(super) struct Rewrite {
    declared: &'static str,
    operations: Arc<BoxEndpoint<'static, Response>>,
}

impl Rewrite {
    pub(super) fn new(
        declared: &'static str,
        operations: Arc<BoxEndpoint<'static, Response>>,
    ) -> Self {
        Self {
            declared,
            operations,
        }
    }
}

impl Endpoint for Rewrite {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        // Nested at the configured path, the rest of the path must be empty: `/health/live/x`
        // is not the probe.
        if !matches!(req.uri().path(), "" | "/") {
            return Ok(StatusCode::NOT_FOUND.into_response());
        }

        let target = match req.uri().query() {
            Some(query) => format!("{}?{query}", self.declared),
            None => self.declared.to_owned(),
        };
        *req.uri_mut() = target
            .parse::<Uri>()
            .map_err(|_| poem::Error::from_status(StatusCode::BAD_REQUEST))?;
        self.operations.call(req).await
    }
}

/// The spec with each declared path renamed to where it is mounted, and declared paths that
/// are not mounted removed.
pub(super) fn spec_with_paths(spec: &str, mounted: &[(&'static str, String)]) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(spec) else {
        return spec.to_owned();
    };
    if let Some(paths) = doc
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    {
        let declared = std::mem::take(paths);
        for (path, item) in declared {
            if let Some((_, target)) = mounted.iter().find(|(from, _)| *from == path) {
                paths.insert(target.clone(), item);
            }
        }
    }

    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| spec.to_owned())
}

/// The docs: the UI at the mount point and the spec at `openapi.json` below it.
pub(super) fn docs_endpoint(spec: String, ui: String) -> BoxEndpoint<'static> {
    let spec = poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(spec.clone())
    });
    let ui = poem::endpoint::make_sync(move |_| poem::web::Html(ui.clone()));

    Route::new()
        .at("/", ui)
        .at("/openapi.json", spec)
        .map_to_response()
        .boxed()
}
