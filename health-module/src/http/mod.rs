//! The HTTP surface: the Inngest report, liveness and readiness, the OpenAPI spec and docs UI.
//!
//! The operations are declared with `poem-openapi` at their default paths; each is mounted at
//! its configured path by an endpoint that hands the request to the declared operation, and
//! the served spec is rewritten to the configured paths.

mod rewrite;

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, IntoEndpoint, Route};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, Tags};
use serde_json::Value;

use crate::check::{HealthReport, Probe};
use crate::service::HealthService;
use rewrite::{Rewrite, docs_endpoint};

const INNGEST_PATH: &str = "/health/inngest";
const LIVENESS_PATH: &str = "/health/live";
const READINESS_PATH: &str = "/health/ready";

#[derive(Tags)]
enum ApiTags {
    /// Liveness, readiness and the health of the Inngest integration.
    Health,
}

/// A probe's outcome, in the shape of `@nestjs/terminus`.
#[derive(Debug, Object)]
struct ProbeBody {
    /// `ok`, `error`, or `shutting_down` (readiness during shutdown).
    status: String,
    /// The indicators that are up, by key.
    info: BTreeMap<String, Value>,
    /// The indicators that are down, by key.
    error: BTreeMap<String, Value>,
    /// Every indicator, by key.
    details: BTreeMap<String, Value>,
}

/// The health of the Inngest integration.
#[derive(Debug, Object)]
struct InngestHealthBody {
    /// `ok` or `error`.
    status: String,
    /// `inngest` when up: status, mode, functions, lastSync and, in connect mode,
    /// connectionState.
    info: BTreeMap<String, Value>,
    /// `inngest` when down, with a message.
    error: BTreeMap<String, Value>,
    /// With `?details=true`: `memory` (used, limit, percentage) and `functions` (id, name,
    /// status, lastExecution).
    details: Option<Value>,
}

#[derive(ApiResponse)]
enum ProbeResponse {
    /// Every indicator is up.
    #[oai(status = 200)]
    Up(Json<ProbeBody>),
    /// An indicator is down, or the app is shutting down.
    #[oai(status = 503)]
    Down(Json<ProbeBody>),
}

#[derive(ApiResponse)]
enum InngestResponse {
    /// The integration is up.
    #[oai(status = 200)]
    Up(Json<InngestHealthBody>),
    /// The integration is down (in connect mode: not connected).
    #[oai(status = 503)]
    Down(Json<InngestHealthBody>),
    /// The app has no Inngest service.
    #[oai(status = 404)]
    Missing,
}

/// The health endpoints, described for OpenAPI.
#[derive(Debug, Clone)]
pub struct HealthApi {
    service: Arc<HealthService>,
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Inngest health
    ///
    /// Whether the Inngest integration is up: mode, function count, last sync and, in connect
    /// mode, the connection state. Reads state only; it sends nothing to Inngest.
    #[oai(path = "/health/inngest", method = "get")]
    async fn inngest(
        &self,
        /// Add memory and per-function status (ignored when details are switched off).
        details: Query<Option<bool>>,
    ) -> InngestResponse {
        let Some((up, body)) = self
            .service
            .inngest_report(details.0.unwrap_or(false))
            .await
        else {
            return InngestResponse::Missing;
        };

        let object = |key: &str| -> BTreeMap<String, Value> {
            body[key]
                .as_object()
                .map(|map| map.clone().into_iter().collect())
                .unwrap_or_default()
        };
        let body = InngestHealthBody {
            status: body["status"].as_str().unwrap_or("error").to_owned(),
            info: object("info"),
            error: object("error"),
            details: body.get("details").cloned(),
        };
        if up {
            InngestResponse::Up(Json(body))
        } else {
            InngestResponse::Down(Json(body))
        }
    }

    /// Liveness
    ///
    /// Whether the process should keep running: memory under its limit and, with Inngest,
    /// the integration up. Answered from the latest background check.
    #[oai(path = "/health/live", method = "get")]
    async fn liveness(&self) -> ProbeResponse {
        probe_response(self.service.checks().check(Probe::Liveness).await)
    }

    /// Readiness
    ///
    /// Whether the app should receive work now: with Inngest in connect mode, only while the
    /// connection is `ACTIVE`; `shutting_down` during shutdown. Answered from the latest
    /// background check.
    #[oai(path = "/health/ready", method = "get")]
    async fn readiness(&self) -> ProbeResponse {
        probe_response(self.service.checks().check(Probe::Readiness).await)
    }
}

fn probe_response(report: HealthReport) -> ProbeResponse {
    let json = report.to_json();
    let object = |key: &str| -> BTreeMap<String, Value> {
        json[key]
            .as_object()
            .map(|map| map.clone().into_iter().collect())
            .unwrap_or_default()
    };
    let body = ProbeBody {
        status: report.status.as_str().to_owned(),
        info: object("info"),
        error: object("error"),
        details: object("details"),
    };

    if report.http_status() == 200 {
        ProbeResponse::Up(Json(body))
    } else {
        ProbeResponse::Down(Json(body))
    }
}

impl HealthService {
    /// The endpoints to nest at the app's root, by path: the Inngest report (when there is an
    /// Inngest service), liveness, readiness and, when `docs_path` is set, the docs (UI at the
    /// path, spec at `<path>/openapi.json`). Empty when the module is disabled.
    pub fn endpoints(self: &Arc<Self>) -> Vec<(String, BoxEndpoint<'static>)> {
        let settings = self.settings();
        if !settings.enabled {
            return Vec::new();
        }

        let api = self.openapi();
        let mounted = self.mounted();
        let spec = rewrite::spec_with_paths(&api.spec(), &mounted);
        let ui = api.swagger_ui_html().replacen(&api.spec(), &spec, 1);
        let operations = Arc::new(api.into_endpoint().map_to_response().boxed());

        let mut endpoints: Vec<(String, BoxEndpoint<'static>)> = mounted
            .into_iter()
            .map(|(declared, path)| {
                let endpoint = Rewrite::new(declared, Arc::clone(&operations)).boxed();
                (path, endpoint)
            })
            .collect();
        if let Some(docs) = &settings.docs_path {
            endpoints.push((
                docs.trim_end_matches('/').to_owned(),
                docs_endpoint(spec, ui),
            ));
        }

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

    /// The OpenAPI document of the endpoints, at their configured paths.
    pub fn spec(self: &Arc<Self>) -> String {
        rewrite::spec_with_paths(&self.openapi().spec(), &self.mounted())
    }

    fn openapi(self: &Arc<Self>) -> OpenApiService<HealthApi, ()> {
        let api = HealthApi {
            service: Arc::clone(self),
        };
        OpenApiService::new(api, "Nestling health", env!("CARGO_PKG_VERSION"))
    }

    /// Each declared operation path with the path it is served at.
    fn mounted(&self) -> Vec<(&'static str, String)> {
        let settings = self.settings();
        let mut mounted = Vec::new();
        if self.inngest().is_some() {
            mounted.push((INNGEST_PATH, settings.path.clone()));
        }
        mounted.push((LIVENESS_PATH, settings.liveness_path.clone()));
        mounted.push((READINESS_PATH, settings.readiness_path.clone()));
        mounted
    }
}
