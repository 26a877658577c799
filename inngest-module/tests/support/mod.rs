//! Test support: the golden app served over real loopback HTTP, and a capture server standing
//! in for the Inngest API (it records what the SDK sends and answers as the dev server does).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support code"
)]

pub(crate) mod golden_app;

use std::any::TypeId;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use nestling::discovery::{Instance, METHOD_ENTRIES};
use nestling_inngest::__private::FUNCTION_KIND;
use nestling_inngest::{
    DefaultInngestService, FunctionRegistry, InngestModuleOptions, MiddlewarePool, ServeEndpoint,
};
use parking_lot::Mutex;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::{Endpoint, EndpointExt, Request, Response, Route, Server};
use serde_json::{Value, json};

/// One request the SDK made to the capture server.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Captured {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The stand-in for the Inngest API.
#[derive(Clone, Default)]
pub(crate) struct Capture {
    pub(crate) requests: Arc<Mutex<Vec<Captured>>>,
    /// Replies to `/e/{key}`, in order; generated ids when empty.
    pub(crate) event_replies: Arc<Mutex<VecDeque<Value>>>,
}

impl Capture {
    pub(crate) fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.requests.lock())
    }
}

async fn bind(endpoint: impl Endpoint + 'static) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor).run(endpoint).await;
    });
    addr
}

/// Starts the capture server and returns its origin.
pub(crate) async fn start_capture(capture: Capture) -> String {
    let state = capture.clone();
    let endpoint = poem::endpoint::make(move |req: Request| {
        let state = state.clone();
        async move { capture_reply(&state, req).await }
    });
    let addr = bind(endpoint).await;
    format!("http://{addr}")
}

async fn capture_reply(state: &Capture, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let bytes = req.into_body().into_vec().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    state.requests.lock().push(Captured {
        method,
        path: path.clone(),
        query,
        headers,
        body: body.clone(),
    });

    let reply = if path == "/fn/register" {
        json!({"ok": true, "modified": true, "app_id": "a906d997-e2eb-56e8-8b38-9f90544e39dd"})
    } else if path.starts_with("/e/") {
        let count = body.as_array().map_or(1, Vec::len);
        state.event_replies.lock().pop_front().unwrap_or_else(|| {
            let ids: Vec<String> = (0..count).map(|i| format!("01JCAPTURED{i:015}")).collect();
            json!({"ids": ids, "status": 200})
        })
    } else if path.ends_with("/batch") {
        json!([])
    } else if path.ends_with("/actions") {
        json!({})
    } else {
        json!({"error": "not found", "status": 404})
    };
    Response::builder()
        .content_type("application/json")
        .header("X-Inngest-Server-Kind", "dev")
        .body(reply.to_string())
}

/// How the golden app runs.
pub(crate) struct AppMode {
    pub(crate) dev: bool,
    pub(crate) signing_key: Option<&'static str>,
    pub(crate) signing_key_fallback: Option<&'static str>,
    pub(crate) event_key: Option<&'static str>,
}

/// Serves the golden app at `/api/inngest` on a loopback port; returns its origin.
pub(crate) async fn start_golden_app(mode: AppMode, api_origin: &str) -> String {
    let mut options = InngestModuleOptions::new("golden-app")
        .dev(mode.dev)
        .base_url(api_origin.to_owned());
    if let Some(key) = mode.signing_key {
        options = options.signing_key(key.to_owned());
    }
    if let Some(key) = mode.signing_key_fallback {
        options = options.signing_key_fallback(key.to_owned());
    }
    if let Some(key) = mode.event_key {
        options = options.event_key(key.to_owned());
    }
    let resolved = options
        .resolve(&std::collections::BTreeMap::<&str, &str>::new())
        .unwrap();

    let registry = FunctionRegistry::new();
    let instance: Instance = Arc::new(golden_app::GoldenApp);
    let pool = MiddlewarePool::default();
    for entry in METHOD_ENTRIES.iter() {
        if entry.kind == FUNCTION_KIND
            && (entry.provider)() == TypeId::of::<golden_app::GoldenApp>()
        {
            registry.add(entry, Arc::clone(&instance), &pool).unwrap();
        }
    }

    let service =
        Arc::new(DefaultInngestService::new(resolved, Arc::new(registry.clone())).unwrap());
    let app = Route::new()
        .at("/api/inngest", ServeEndpoint::new(service, registry))
        .map_to_response();
    let addr = bind(app).await;
    format!("http://{addr}")
}
