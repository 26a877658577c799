//! The HTTP surface: Prometheus exposition, JSON summaries, OpenAPI spec and docs UI.

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi, OpenApiService, Tags};

use crate::registry::PROMETHEUS_CONTENT_TYPE;
use crate::service::{MetricsSummary, MonitoringService};
use crate::{FunctionSummary, ProcessStats};

#[derive(Tags)]
enum ApiTags {
    /// Metrics of Inngest functions and of the process.
    Monitoring,
}

#[derive(ApiResponse)]
enum PrometheusResponse {
    /// The Prometheus text exposition format, version 0.0.4.
    #[oai(
        status = 200,
        content_type = "text/plain; version=0.0.4; charset=utf-8"
    )]
    Ok(PlainText<String>),
}

#[derive(ApiResponse)]
enum SystemResponse {
    /// Resident memory, CPU time and uptime of the process.
    #[oai(status = 200)]
    Ok(Json<ProcessStats>),
    /// The process statistics cannot be read on this system (no `/proc`).
    #[oai(status = 503)]
    Unavailable(PlainText<String>),
}

/// The monitoring endpoints, described for OpenAPI. Paths are relative to the metrics path.
#[derive(Debug, Clone)]
pub struct MonitoringApi {
    service: Arc<MonitoringService>,
}

#[OpenApi(tag = "ApiTags::Monitoring")]
impl MonitoringApi {
    /// Prometheus metrics
    ///
    /// Every metric in the text exposition format: per-function run counters and the
    /// run-duration histogram, process memory, CPU time and uptime, and the app's own metrics.
    #[oai(path = "/", method = "get")]
    async fn prometheus(&self) -> PrometheusResponse {
        PrometheusResponse::Ok(PlainText(self.service.prometheus()))
    }

    /// Metrics summary
    ///
    /// Totals over all functions (healthy while the error rate is under 5 %), one entry per
    /// function and process figures.
    #[oai(path = "/summary", method = "get")]
    async fn summary(&self) -> Json<MetricsSummary> {
        Json(self.service.summary())
    }

    /// Function metrics
    ///
    /// Runs started, completed, failed and cancelled, steps, retries and mean duration, per
    /// function.
    #[oai(path = "/functions", method = "get")]
    async fn functions(&self) -> Json<Vec<FunctionSummary>> {
        Json(self.service.functions().summaries())
    }

    /// System metrics
    ///
    /// The process's resident and virtual memory, CPU time, uptime, threads and pid.
    #[oai(path = "/system", method = "get")]
    async fn system(&self) -> SystemResponse {
        match ProcessStats::read() {
            Ok(stats) => SystemResponse::Ok(Json(stats)),
            Err(error) => SystemResponse::Unavailable(PlainText(error.to_string())),
        }
    }
}

impl MonitoringApi {
    /// The API over a monitoring service.
    pub fn new(service: Arc<MonitoringService>) -> Self {
        Self { service }
    }
}

/// The OpenAPI document of the monitoring endpoints, with paths under `metrics_path`.
pub(crate) fn openapi(service: &Arc<MonitoringService>) -> OpenApiService<MonitoringApi, ()> {
    let metrics_path = service.config().metrics_path.clone();
    OpenApiService::new(
        MonitoringApi::new(Arc::clone(service)),
        "Nestling monitoring",
        env!("CARGO_PKG_VERSION"),
    )
    .url_prefix(metrics_path)
}

impl MonitoringService {
    /// The endpoints to nest at the app's root, by path: the metrics endpoints at
    /// `metrics_path` and, when `docs_path` is set, the docs UI there with the spec at
    /// `<docs_path>/openapi.json`. Empty when the module is disabled.
    pub fn endpoints(self: &Arc<Self>) -> Vec<(String, BoxEndpoint<'static>)> {
        let config = self.config();
        if !config.enabled {
            return Vec::new();
        }
        let api = openapi(self);
        let mut endpoints = Vec::new();

        if let Some(docs) = &config.docs_path {
            let spec = spec_without_trailing_slashes(&api.spec());
            // The UI page embeds the spec verbatim; swap in the corrected one.
            let ui = api.swagger_ui_html().replacen(&api.spec(), &spec, 1);
            let ui = poem::endpoint::make_sync(move |_| poem::web::Html(ui.clone()));
            let docs_route = Route::new()
                .at("/", ui)
                .at("/openapi.json", json_endpoint(spec));
            endpoints.push((
                docs.trim_end_matches('/').to_owned(),
                docs_route.map_to_response().boxed(),
            ));
        }

        // Prometheus is picky about the content type of the exposition; say it even if a proxy
        // or client asked for something else.
        let metrics = api
            .into_endpoint()
            .map_to_response()
            .after(|resp| async move {
                let mut resp = resp?;
                if resp
                    .content_type()
                    .is_some_and(|ct| ct.starts_with("text/plain"))
                {
                    resp.headers_mut().insert(
                        poem::http::header::CONTENT_TYPE,
                        poem::http::HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
                    );
                }
                Ok(resp)
            });
        endpoints.insert(0, (config.metrics_path.clone(), metrics.boxed()));

        endpoints
    }

    /// [`endpoints`](Self::endpoints) nested in one route, to serve on their own.
    pub fn routes(self: &Arc<Self>) -> Route {
        self.endpoints()
            .into_iter()
            .fold(Route::new(), |route, (path, endpoint)| {
                route.nest(path, endpoint)
            })
    }
}

/// The spec of the monitoring endpoints as JSON (what `<docs_path>/openapi.json` serves).
pub fn monitoring_spec(service: &Arc<MonitoringService>) -> String {
    spec_without_trailing_slashes(&openapi(service).spec())
}

/// The exposition is the API's `/` path, which poem-openapi writes under the prefix with a
/// trailing slash (`/metrics/`), while it is served, and scraped, without one.
fn spec_without_trailing_slashes(spec: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(spec) else {
        return spec.to_owned();
    };
    if let Some(paths) = doc
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    {
        let renamed: serde_json::Map<String, serde_json::Value> = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| match path.strip_suffix('/') {
                Some(trimmed) if !trimmed.is_empty() => (trimmed.to_owned(), item),
                _ => (path, item),
            })
            .collect();
        *paths = renamed;
    }

    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| spec.to_owned())
}

fn json_endpoint(body: String) -> impl Endpoint {
    poem::endpoint::make_sync(move |_| {
        poem::Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(body.clone())
    })
}
