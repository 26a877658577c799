//! A tiny Inngest SDK written by hand for the engine's tests: a poem server that serves one
//! app's functions over the serve protocol (PUT sync, POST calls), memoises steps from the
//! request, and answers with the same status codes, headers and ops as the official SDKs.
//! Step ids are hashed with the protocol crate. Functions are plain Rust closures.

#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    missing_debug_implementations
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use nestling_inngest_protocol::{COMPLETE_STEP_ID, hash_step_id};
use parking_lot::Mutex;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{EndpointExt, Request, Response, Route, handler};
use serde_json::{Map, Value, json};

/// How a function call ends early.
pub enum Flow {
    /// 206 with these ops.
    Ops(Vec<Value>, Option<(bool, Option<String>)>),
    /// A non-2xx answer with a serialized error.
    Fail {
        status: u16,
        error: Value,
        no_retry: bool,
        retry_after: Option<String>,
    },
    /// A raw answer (for broken-app tests).
    Raw {
        status: u16,
        body: String,
        sdk_header: bool,
    },
    /// Sleep this long before answering 200 null (for timeout tests).
    Hang(Duration),
}

pub type Body = Arc<dyn Fn(&mut Ctx) -> Result<Value, Flow> + Send + Sync>;

/// One function of the test app.
#[derive(Clone)]
pub struct AppFn {
    pub id: String,
    pub config: Value,
    pub body: Body,
}

impl AppFn {
    /// A function triggered by `event`, with extra config merged in (flow control, retries).
    pub fn new(
        id: &str,
        event: &str,
        body: impl Fn(&mut Ctx) -> Result<Value, Flow> + Send + Sync + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            config: json!({"triggers": [{"event": event}]}),
            body: Arc::new(body),
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.config[key] = value;
        self
    }
}

/// What the app saw.
#[derive(Default)]
pub struct Seen {
    /// Every call request body, in arrival order.
    pub calls: Vec<Value>,
    /// How often each named step body ran.
    pub executions: HashMap<String, u32>,
    /// Calls in flight now and at most, per function.
    pub inflight: HashMap<String, (u32, u32)>,
}

pub struct AppState {
    pub name: String,
    pub engine_url: String,
    pub serve_url: Mutex<String>,
    pub functions: Vec<AppFn>,
    pub seen: Mutex<Seen>,
    pub signing_key: Option<String>,
    pub version: i64,
}

/// The running test app.
pub struct TestApp {
    pub state: Arc<AppState>,
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl TestApp {
    pub async fn start(name: &str, engine_url: &str, functions: Vec<AppFn>) -> Self {
        Self::start_with(name, engine_url, functions, None).await
    }

    pub async fn start_with(
        name: &str,
        engine_url: &str,
        functions: Vec<AppFn>,
        signing_key: Option<String>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}/api/inngest");
        let state = Arc::new(AppState {
            name: name.into(),
            engine_url: engine_url.trim_end_matches('/').into(),
            serve_url: Mutex::new(url.clone()),
            functions,
            seen: Mutex::new(Seen::default()),
            signing_key,
            version: 2,
        });
        let app = Route::new()
            .at("/api/inngest", poem::put(sync).post(call))
            .with(poem::middleware::AddData::new(state.clone()));
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async move {
                        let _ = rx.await;
                    },
                    Some(Duration::from_millis(100)),
                )
                .await;
        });
        Self { state, url, stop }
    }

    pub fn executions(&self, step: &str) -> u32 {
        self.state
            .seen
            .lock()
            .executions
            .get(step)
            .copied()
            .unwrap_or(0)
    }

    pub fn calls(&self) -> Vec<Value> {
        self.state.seen.lock().calls.clone()
    }

    pub fn max_inflight(&self, fn_id: &str) -> u32 {
        self.state
            .seen
            .lock()
            .inflight
            .get(fn_id)
            .map_or(0, |(_, m)| *m)
    }

    pub fn stop(self) {
        let _ = self.stop.send(());
    }
}

pub fn config_of(state: &AppState, url: &str) -> Value {
    let fns: Vec<Value> = state
        .functions
        .iter()
        .map(|f| {
            let slug = format!("{}-{}", state.name, f.id);
            let mut c = json!({
                "id": slug,
                "name": f.id,
                "steps": {"step": {"id": "step", "name": "step", "runtime": {"type": "http", "url": format!("{url}?fnId={slug}&stepId=step")}}},
            });
            for (k, v) in f.config.as_object().unwrap() {
                if k == "retries" {
                    c["steps"]["step"]["retries"] = json!({"attempts": v});
                } else {
                    c[k] = v.clone();
                }
            }
            c
        })
        .collect();
    json!({"url": url, "v": "0.1", "deployType": "ping", "sdk": "rust-test:v0.0.1", "framework": "poem", "appName": state.name, "functions": fns})
}

#[handler]
async fn sync(state: Data<&Arc<AppState>>) -> Response {
    let url = state.serve_url.lock().clone();
    let body = config_of(&state, &url);
    let resp = reqwest::Client::new()
        .post(format!("{}/fn/register", state.engine_url))
        .json(&body)
        .send()
        .await;
    let (status, msg) = match resp {
        Ok(r) => {
            let s = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (s, v)
        }
        Err(e) => (500, json!({"error": e.to_string()})),
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("x-inngest-sdk", "rust-test:v0.0.1")
        .content_type("application/json")
        .body(json!({"message": msg.get("error").cloned().unwrap_or(json!("Successfully registered")), "modified": msg.get("modified")}).to_string())
}

#[derive(serde::Deserialize)]
struct CallQuery {
    #[serde(rename = "fnId")]
    fn_id: String,
    #[serde(rename = "stepId")]
    step_id: Option<String>,
}

fn respond(status: u16, body: &Value, extra: &[(&str, String)], version: i64) -> Response {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("x-inngest-sdk", "rust-test:v0.0.1")
        .header("x-inngest-req-version", version.to_string())
        .content_type("application/json");
    for (k, v) in extra {
        b = b.header(*k, v.as_str());
    }
    b.body(body.to_string())
}

#[handler]
async fn call(
    req: &Request,
    Query(q): Query<CallQuery>,
    body: poem::Body,
    state: Data<&Arc<AppState>>,
) -> Response {
    let state = state.0.clone();
    let bytes = body.into_bytes().await.unwrap();
    if let Some(key) = &state.signing_key {
        let header = req.header("x-inngest-signature");
        let keys = nestling_inngest_protocol::SigningKeys::new(key.clone());
        if keys
            .verify_request(header, &bytes, chrono::Utc::now().timestamp())
            .is_err()
        {
            return Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .body("{\"message\":\"Unauthorized\"}");
        }
    }
    let payload: Value = serde_json::from_slice(&bytes).unwrap();
    let slug = q.fn_id.clone();
    let short = slug
        .strip_prefix(&format!("{}-", state.name))
        .unwrap_or(&slug)
        .to_owned();
    let Some(f) = state.functions.iter().find(|f| f.id == short).cloned() else {
        return respond(
            500,
            &json!({"message": format!("no function {slug}")}),
            &[],
            state.version,
        );
    };
    {
        let mut seen = state.seen.lock();
        seen.calls.push(payload.clone());
        let e = seen.inflight.entry(short.clone()).or_default();
        e.0 += 1;
        e.1 = e.1.max(e.0);
    }
    let mut ctx = Ctx::new(
        &payload,
        q.step_id.unwrap_or_else(|| "step".into()),
        state.clone(),
    );
    let result = (f.body)(&mut ctx);
    let version = state.version;
    let out = match result {
        Ok(v) => respond(200, &v, &[], version),
        Err(Flow::Ops(ops, retry)) => {
            let mut extra = Vec::new();
            if let Some((no_retry, after)) = retry {
                extra.push(("x-inngest-no-retry", no_retry.to_string()));
                if let Some(a) = after {
                    extra.push(("retry-after", a));
                }
            }
            respond(206, &Value::Array(ops), &extra, version)
        }
        Err(Flow::Fail {
            status,
            error,
            no_retry,
            retry_after,
        }) => {
            let mut extra = vec![("x-inngest-no-retry", no_retry.to_string())];
            if let Some(a) = retry_after {
                extra.push(("retry-after", a));
            }
            respond(status, &error, &extra, version)
        }
        Err(Flow::Raw {
            status,
            body,
            sdk_header,
        }) => {
            let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap());
            if sdk_header {
                b = b.header("x-inngest-sdk", "rust-test:v0.0.1");
            }
            b.body(body)
        }
        Err(Flow::Hang(d)) => {
            tokio::time::sleep(d).await;
            respond(200, &Value::Null, &[], version)
        }
    };
    let mut seen = state.seen.lock();
    if let Some(e) = seen.inflight.get_mut(&short) {
        e.0 -= 1;
    }
    out
}

/// The function's view of one call.
pub struct Ctx {
    pub event: Value,
    pub events: Vec<Value>,
    pub attempt: u64,
    pub max_attempts: u64,
    steps: Map<String, Value>,
    target: String,
    disable_immediate: bool,
    counts: HashMap<String, u32>,
    state: Arc<AppState>,
}

fn error_json(message: &str) -> Value {
    json!({"name": "Error", "message": message, "stack": format!("Error: {message}")})
}

impl Ctx {
    fn new(payload: &Value, target: String, state: Arc<AppState>) -> Self {
        let ctx = &payload["ctx"];
        Self {
            event: payload["event"].clone(),
            events: payload["events"].as_array().cloned().unwrap_or_default(),
            attempt: ctx["attempt"].as_u64().unwrap_or(0),
            max_attempts: ctx["max_attempts"].as_u64().unwrap_or(1),
            steps: payload["steps"].as_object().cloned().unwrap_or_default(),
            target,
            disable_immediate: ctx["disable_immediate_execution"]
                .as_bool()
                .unwrap_or(false),
            counts: HashMap::new(),
            state,
        }
    }

    fn hash(&mut self, id: &str) -> String {
        let n = self.counts.entry(id.to_owned()).or_insert(0);
        let key = if *n == 0 {
            id.to_owned()
        } else {
            format!("{id}:{n}")
        };
        *n += 1;
        hash_step_id(&key)
    }

    /// Unwraps a memoised value: `{"data": x}` → x, `{"error": e}` → the function fails
    /// non-retriably as the SDKs do when a failed step's error is not caught.
    fn memo(&self, hash: &str) -> Option<Result<Value, Flow>> {
        let v = self.steps.get(hash)?;
        Some(match v {
            Value::Object(o) if o.len() == 1 && o.contains_key("data") => Ok(o["data"].clone()),
            Value::Object(o) if o.len() == 1 && o.contains_key("error") => Err(Flow::Fail {
                status: 400,
                error: o["error"].clone(),
                no_retry: true,
                retry_after: None,
            }),
            other => Ok(other.clone()),
        })
    }

    /// Whether a failed step's memo is an error (for functions that catch step errors).
    pub fn step_failed(&mut self, id: &str) -> Option<Value> {
        let hash = hash_step_id(id);
        self.steps.get(&hash).and_then(|v| v.get("error").cloned())
    }

    fn execute(
        &mut self,
        id: &str,
        hash: &str,
        f: impl FnOnce(u64) -> Result<Value, String>,
    ) -> Flow {
        *self
            .state
            .seen
            .lock()
            .executions
            .entry(id.to_owned())
            .or_default() += 1;
        match f(self.attempt) {
            Ok(v) => Flow::Ops(
                vec![
                    json!({"id": hash, "op": "StepRun", "name": id, "displayName": id, "data": v}),
                ],
                None,
            ),
            Err(msg) => {
                let last = self.attempt + 1 >= self.max_attempts;
                let op = if last { "StepFailed" } else { "StepError" };
                Flow::Ops(
                    vec![json!({"id": hash, "op": op, "name": id, "error": error_json(&msg)})],
                    Some((last, None)),
                )
            }
        }
    }

    /// `step.run`.
    pub fn run(
        &mut self,
        id: &str,
        f: impl FnOnce(u64) -> Result<Value, String>,
    ) -> Result<Value, Flow> {
        let hash = self.hash(id);
        if let Some(m) = self.memo(&hash) {
            return m;
        }
        if self.target == hash || (self.target == "step" && !self.disable_immediate) {
            return Err(self.execute(id, &hash, f));
        }
        Err(Flow::Ops(
            vec![json!({"id": hash, "op": "StepPlanned", "name": id, "displayName": id})],
            None,
        ))
    }

    /// `Promise.all` of run steps that return their own id's value from `f`.
    pub fn parallel(
        &mut self,
        ids: &[&str],
        f: impl Fn(&str) -> Value,
    ) -> Result<Vec<Value>, Flow> {
        let hashes: Vec<String> = ids.iter().map(|id| self.hash(id)).collect();
        let mut out = Vec::new();
        let mut pending = Vec::new();
        for (id, h) in ids.iter().zip(&hashes) {
            match self.memo(h) {
                Some(m) => out.push(m?),
                None => pending.push((*id, h.clone())),
            }
        }
        if pending.is_empty() {
            return Ok(out);
        }
        if let Some((id, h)) = pending.iter().find(|(_, h)| *h == self.target).cloned() {
            return Err(self.execute(id, &h, |_| Ok(f(id))));
        }
        let ops = pending
            .iter()
            .map(|(id, h)| json!({"id": h, "op": "StepPlanned", "name": id, "displayName": id}))
            .collect();
        Err(Flow::Ops(ops, None))
    }

    /// `step.sleep` (a time string) or `step.sleepUntil` (an RFC 3339 instant).
    pub fn sleep(&mut self, id: &str, duration: &str) -> Result<(), Flow> {
        let hash = self.hash(id);
        if self.steps.contains_key(&hash) {
            return Ok(());
        }
        Err(Flow::Ops(
            vec![
                json!({"id": hash, "op": "Sleep", "name": duration, "displayName": id, "opts": {"duration": duration}}),
            ],
            None,
        ))
    }

    /// `step.waitForEvent`: the matched event, or `None` on timeout.
    pub fn wait_for_event(
        &mut self,
        id: &str,
        event: &str,
        timeout: &str,
        cond: Option<&str>,
    ) -> Result<Option<Value>, Flow> {
        let hash = self.hash(id);
        if let Some(v) = self.steps.get(&hash) {
            return Ok((!v.is_null()).then(|| v.clone()));
        }
        let mut opts = json!({"timeout": timeout});
        if let Some(c) = cond {
            opts["if"] = json!(c);
        }
        Err(Flow::Ops(
            vec![
                json!({"id": hash, "op": "WaitForEvent", "name": event, "displayName": id, "opts": opts}),
            ],
            None,
        ))
    }

    /// `step.invoke`: the child's output.
    pub fn invoke(&mut self, id: &str, function_id: &str, data: Value) -> Result<Value, Flow> {
        let hash = self.hash(id);
        if let Some(m) = self.memo(&hash) {
            return m;
        }
        let opts = json!({"function_id": function_id, "payload": {"data": data}, "timeout": "1h"});
        Err(Flow::Ops(
            vec![
                json!({"id": hash, "op": "InvokeFunction", "name": id, "displayName": id, "opts": opts}),
            ],
            None,
        ))
    }

    /// A function-level error (thrown outside steps).
    pub fn fail(&self, message: &str, no_retry: bool) -> Flow {
        Flow::Fail {
            status: if no_retry { 400 } else { 500 },
            error: error_json(message),
            no_retry,
            retry_after: None,
        }
    }

    /// The id of the function-level completion op.
    pub fn complete_id() -> &'static str {
        COMPLETE_STEP_ID
    }
}

/// A fresh database path under the target dir.
pub fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nestling-engine-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}-{}.sqlite", ulid::Ulid::new()))
}

/// `GET url` answered with JSON, or a panic naming the URL.
pub async fn get_json(url: String) -> Value {
    let resp = reqwest::get(&url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    resp.json()
        .await
        .unwrap_or_else(|e| panic!("GET {url} answered no JSON: {e}"))
}

/// Polls `f` until it returns Some, or panics after `timeout`.
pub async fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
