//! The serve endpoint: the one URL the executor calls (`GET` introspection, `PUT` sync,
//! `POST` execution and the trust probe).

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use nestling_inngest_protocol::headers as h;
use nestling_inngest_protocol::signature::{event_key_hash, split_key_prefix};
use nestling_inngest_protocol::{
    AuthenticatedIntrospection, Capabilities, Event as WireEvent, InBandSyncRequest,
    InBandSyncResponse, Introspection, IntrospectionResponse, Mode, SigningKeys,
    hashed_signing_key,
};
use poem::http::Method;
use poem::{Endpoint, Request, Response};
use serde_json::{Value, json};

use crate::execution::EventSender;
use crate::serve::reply::{ReplyContext, error_body, reply, reply_json, unauthorized, unix_now};
use crate::{Error, FRAMEWORK, FunctionError, FunctionRegistry, InngestService, SDK_REGISTER_ID};

/// The HTTP endpoint Inngest calls, mounted by the module at the configured `path`.
///
/// It answers as the official SDKs do: `GET` with the introspection body, `PUT` by syncing
/// the app (out of band through `/fn/register`, or in band in the response), `POST` by
/// running the function named by `fnId` for one call request, and `POST ?probe=trust` with
/// an empty signed `200`. With a signing key (self-hosted Inngest, Inngest Cloud) every
/// request but an out-of-band `PUT` must carry a valid `X-Inngest-Signature`, and answers
/// are signed with the key that verified it.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use nestling_inngest::{DefaultInngestService, FunctionRegistry, InngestModuleOptions, ServeEndpoint};
/// use poem::{Endpoint, Request};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let options = InngestModuleOptions::new("shop").resolve(&BTreeMap::from([("INNGEST_DEV", "1")]))?;
/// let registry = FunctionRegistry::new();
/// let service = Arc::new(DefaultInngestService::new(options, Arc::new(registry.clone()))?);
/// let endpoint = ServeEndpoint::new(service, registry);
///
/// let response = endpoint.call(Request::builder().finish()).await.unwrap();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["x-inngest-sdk"], nestling_inngest::SDK_HEADER);
/// # Ok::<(), nestling_inngest::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct ServeEndpoint {
    pub(super) state: Arc<ServeState>,
}

impl std::fmt::Debug for ServeEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeEndpoint")
            .field("app_id", &self.state.service.options().app_id)
            .field("functions", &self.state.registry.len())
            .finish()
    }
}

pub(super) struct ServeState {
    pub(super) service: Arc<dyn InngestService>,
    pub(super) registry: FunctionRegistry,
    keys: Option<SigningKeys>,
    pub(super) events: Arc<dyn EventSender>,
}

/// The outcome of checking a request's signature.
enum Verified {
    /// Dev mode: nothing is checked, nothing is signed.
    NotRequired,
    /// The signature matched this key; the answer is signed with it.
    Key(String),
    /// The signature is missing or wrong.
    Failed,
}

/// The parts of a request the handlers read.
pub(super) struct Incoming {
    method: Method,
    pub(super) query: HashMap<String, String>,
    host: Option<String>,
    signature: Option<String>,
    sync_kind: Option<String>,
    pub(super) step_header: Option<String>,
    pub(super) body: Vec<u8>,
}

impl ServeEndpoint {
    /// An endpoint serving the functions of `registry` with the options and API client of
    /// `service`.
    pub fn new(service: Arc<dyn InngestService>, registry: FunctionRegistry) -> Self {
        let options = service.options();
        let keys = options.signing_key.as_ref().map(|key| {
            let keys = SigningKeys::new(key.clone());
            match &options.signing_key_fallback {
                Some(fallback) => keys.with_fallback(fallback.clone()),
                None => keys,
            }
        });
        let events: Arc<dyn EventSender> = Arc::new(ServiceEvents(Arc::clone(&service)));

        Self {
            state: Arc::new(ServeState {
                service,
                registry,
                keys,
                events,
            }),
        }
    }
}

impl Endpoint for ServeEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let signature = header(h::SIGNATURE);
        let sync_kind = header(h::SYNC_KIND);
        let step_header = header(h::STEP_ID);
        let server_kind = header(h::SERVER_KIND);
        let host = header("host");
        let query = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let method = req.method().clone();
        let body = match req.into_body().into_vec().await {
            Ok(body) => body,
            Err(err) => {
                let ctx = self.state.reply_context(None, server_kind);
                let message = format!("could not read the request body: {err}");
                return Ok(reply_json(&ctx, 400, &error_body(&message), &[]));
            }
        };

        let incoming = Incoming {
            method,
            query,
            host,
            signature,
            sync_kind,
            step_header,
            body,
        };
        Ok(self.state.handle(incoming, server_kind).await)
    }
}

impl ServeState {
    pub(super) fn reply_context(
        &self,
        key: Option<String>,
        server_kind: Option<String>,
    ) -> ReplyContext {
        ReplyContext {
            signing_key: key,
            env: self.service.options().environment.clone(),
            server_kind,
        }
    }

    fn verify(&self, signature: Option<&str>, body: &[u8]) -> Verified {
        if !self.service.options().server.verifies_signatures() {
            return Verified::NotRequired;
        }
        let Some(keys) = &self.keys else {
            return Verified::Failed;
        };
        match keys.verify_request(signature, body, unix_now()) {
            Ok(which) => Verified::Key(keys.key(which).to_owned()),
            Err(err) => {
                tracing::debug!(target: "nestling_inngest::serve", error = %err, "rejected a request whose signature does not verify");
                Verified::Failed
            }
        }
    }

    async fn handle(&self, incoming: Incoming, server_kind: Option<String>) -> Response {
        let verified = match incoming.method {
            // An out-of-band sync is allowed unsigned, as both official SDKs allow it; it
            // only makes the SDK call the API with its own key.
            Method::PUT if !is_in_band(&incoming) => Verified::NotRequired,
            Method::GET | Method::PUT | Method::POST => {
                self.verify(incoming.signature.as_deref(), &incoming.body)
            }
            _ => Verified::NotRequired,
        };
        let key = match verified {
            Verified::Failed => return unauthorized(),
            Verified::Key(key) => Some(key),
            Verified::NotRequired => None,
        };
        let authenticated = key.is_some();
        let ctx = self.reply_context(key, server_kind.clone());

        match incoming.method {
            Method::GET => {
                let body =
                    serde_json::to_value(self.introspection(authenticated)).unwrap_or(Value::Null);
                reply_json(&ctx, 200, &body, &[])
            }
            Method::PUT if is_in_band(&incoming) => {
                self.in_band_sync(&ctx, &incoming, authenticated)
            }
            Method::PUT => self.out_of_band_sync(&ctx, &incoming, server_kind).await,
            Method::POST => match incoming.query.get("probe") {
                Some(probe) if probe == "trust" => reply(&ctx, 200, Vec::new(), &[]),
                Some(probe) => {
                    let message = format!("Unknown probe \"{probe}\"");
                    reply_json(&ctx, 400, &error_body(&message), &[])
                }
                None => self.execute_post(&ctx, incoming).await,
            },
            _ => reply_json(&ctx, 405, &json!({"message": "Method not allowed"}), &[]),
        }
    }

    fn introspection(&self, authenticated: bool) -> IntrospectionResponse {
        let options = self.service.options();
        let verifies = options.server.verifies_signatures();
        let mut base = Introspection::new(
            if verifies { Mode::Cloud } else { Mode::Dev },
            self.registry.len(),
        );
        base.has_event_key = options.event_key.is_some();
        base.has_signing_key = options.signing_key.is_some();
        if verifies {
            base.has_signing_key_fallback = Some(options.signing_key_fallback.is_some());
        }
        if !authenticated {
            return IntrospectionResponse::Unauthenticated(base);
        }

        base.authentication_succeeded = Some(Some(true));
        let short_hash = |key: &Option<String>| {
            let hashed = hashed_signing_key(key.as_deref()?).ok()?;
            let (_, hex) = split_key_prefix(&hashed);
            Some(hex.chars().take(12).collect::<String>())
        };
        IntrospectionResponse::Authenticated(Box::new(AuthenticatedIntrospection {
            base,
            api_origin: options.api_origin.clone(),
            app_id: options.app_id.clone(),
            capabilities: Capabilities::serve(),
            env: options.environment.clone(),
            event_api_origin: options.event_api_origin.clone(),
            event_key_hash: options.event_key.as_deref().map(event_key_hash),
            framework: FRAMEWORK.to_owned(),
            sdk_language: "rust".to_owned(),
            sdk_version: env!("CARGO_PKG_VERSION").to_owned(),
            serve_origin: Some(options.serve_origin()),
            serve_path: Some(options.serve_path.clone()),
            signing_key_hash: short_hash(&options.signing_key),
            signing_key_fallback_hash: short_hash(&options.signing_key_fallback),
        }))
    }

    fn in_band_sync(
        &self,
        ctx: &ReplyContext,
        incoming: &Incoming,
        authenticated: bool,
    ) -> Response {
        let request: InBandSyncRequest = match serde_json::from_slice(&incoming.body) {
            Ok(request) => request,
            Err(err) => {
                let body = json!({
                    "code": "invalid_request",
                    "message": format!("an in-band sync body must be exactly {{\"url\": \"...\"}}: {err}"),
                });
                return reply_json(ctx, 400, &body, &[]);
            }
        };

        let options = self.service.options();
        let response = InBandSyncResponse {
            app_id: options.app_id.clone(),
            app_version: options.app_version.clone(),
            capabilities: Some(Capabilities::serve()),
            env: options.environment.clone(),
            framework: FRAMEWORK.to_owned(),
            functions: self.registry.configs(&options.app_id, &request.url),
            inspection: self.introspection(authenticated),
            platform: None,
            sdk_author: "nestling".to_owned(),
            sdk_language: "rust".to_owned(),
            sdk_version: env!("CARGO_PKG_VERSION").to_owned(),
            sdk: Some(SDK_REGISTER_ID.to_owned()),
            url: request.url,
            feature_observations: None,
        };
        // The server takes the functions from this answer without replying, so the sync
        // counts as done once it is answered.
        self.service.synced_in_band(&response.url);
        let body = serde_json::to_value(response).unwrap_or(Value::Null);
        reply_json(
            ctx,
            200,
            &body,
            &[(h::SYNC_KIND, h::SYNC_KIND_IN_BAND.to_owned())],
        )
    }

    async fn out_of_band_sync(
        &self,
        ctx: &ReplyContext,
        incoming: &Incoming,
        server_kind: Option<String>,
    ) -> Response {
        let url = self.serve_url(incoming.host.as_deref());
        let deploy_id = incoming.query.get("deployId").map(String::as_str);
        let sync_kind = [(h::SYNC_KIND, h::SYNC_KIND_OUT_OF_BAND.to_owned())];

        match self
            .service
            .sync(&url, deploy_id, server_kind.as_deref())
            .await
        {
            Ok(registered) => {
                let status = registered.status.unwrap_or(200);
                let message = registered
                    .error
                    .clone()
                    .unwrap_or_else(|| "Successfully registered".to_owned());
                let body = json!({"message": message, "modified": registered.modified});
                reply_json(ctx, status, &body, &sync_kind)
            }
            Err(err) => {
                tracing::warn!(target: "nestling_inngest::serve", %url, error = %err, "sync failed");
                let status = match &err {
                    Error::ApiStatus { status, .. } => *status,
                    _ => 500,
                };
                let body = json!({"message": err.to_string(), "modified": false});
                reply_json(ctx, status, &body, &sync_kind)
            }
        }
    }

    /// The URL to advertise: the configured serve host, or, when none was configured, the
    /// host the sync request was sent to (as the JS SDK derives it from the request).
    fn serve_url(&self, host: Option<&str>) -> String {
        let options = self.service.options();
        match host {
            Some(host) if options.serve_host == "localhost" && !host.is_empty() => {
                format!("http://{host}{}", options.serve_path)
            }
            _ => options.serve_url(),
        }
    }
}

fn is_in_band(incoming: &Incoming) -> bool {
    incoming
        .sync_kind
        .as_deref()
        .is_some_and(|kind| kind.eq_ignore_ascii_case(h::SYNC_KIND_IN_BAND))
}

/// `step.send_event` through the service's API client.
struct ServiceEvents(Arc<dyn InngestService>);

impl EventSender for ServiceEvents {
    fn send_events(
        &self,
        events: Vec<Value>,
    ) -> BoxFuture<'static, Result<Vec<String>, FunctionError>> {
        let service = Arc::clone(&self.0);
        Box::pin(async move {
            let events = events
                .into_iter()
                .map(serde_json::from_value::<WireEvent>)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| FunctionError::non_retriable(format!("invalid event: {err}")))?;
            service
                .send_many(events)
                .await
                .map_err(|err| FunctionError::new(err.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use poem::http::Method;

    use super::*;
    use crate::{DefaultInngestService, InngestModuleOptions};

    #[tokio::test]
    async fn an_answered_in_band_sync_is_recorded_as_the_last_sync() {
        let options = InngestModuleOptions::new("shop")
            .resolve(&BTreeMap::from([("INNGEST_DEV", "1")]))
            .unwrap();
        let registry = FunctionRegistry::new();
        let service =
            Arc::new(DefaultInngestService::new(options, Arc::new(registry.clone())).unwrap());
        let endpoint =
            ServeEndpoint::new(Arc::clone(&service) as Arc<dyn InngestService>, registry);
        assert!(service.last_sync().is_none());

        let bad = Request::builder()
            .method(Method::PUT)
            .header(h::SYNC_KIND, h::SYNC_KIND_IN_BAND)
            .body("not json");
        assert_eq!(endpoint.call(bad).await.unwrap().status(), 400);
        assert!(
            service.last_sync().is_none(),
            "a rejected sync is not recorded"
        );

        let sync = Request::builder()
            .method(Method::PUT)
            .header(h::SYNC_KIND, h::SYNC_KIND_IN_BAND)
            .body(r#"{"url": "http://app:3000/api/inngest"}"#);
        let response = endpoint.call(sync).await.unwrap();
        assert_eq!(response.status(), 200);
        let recorded = service.last_sync().expect("the answered sync is recorded");
        assert_eq!(recorded.url, "http://app:3000/api/inngest");
        assert!(recorded.succeeded(), "{recorded:?}");
    }
}
