//! `InngestClient` against a fake Inngest API over real loopback HTTP.
//!
//! The fake below (a small poem server) stands in for the Inngest server, which cannot be
//! installed here (the Go module proxy refuses the Inngest CLI). It answers the way the dev
//! server's source and the JS SDK fixtures (`shared/fixtures/js-sdk/v4/events_api_*.json`,
//! `register_*.json`, `use_api.json`) say it answers, records every request, and plays a
//! script of replies per path so tests can make it fail.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nestling_inngest::{
    Error, InngestClient, InngestModuleOptions, ResolvedOptions, RetryPolicy, SDK_HEADER,
};
use nestling_inngest_protocol::{Event, RegisterRequest, hashed_signing_key};
use parking_lot::Mutex;
use poem::http::{HeaderMap, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};
use serde_json::{Value, json};

/// Signing key of the JS SDK fixtures; its bearer form is captured in `v4/register_cloud.json`.
const FIXTURE_KEY: &str =
    "signkey-test-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const FIXTURE_BEARER: &str =
    "Bearer signkey-test-4884fdaafea47c29fea7159d0daddd9c085d6200e1359e85bb81736af6b7c837";
const FALLBACK_KEY: &str =
    "signkey-test-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// One request the fake received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: String,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

/// A scripted reply: status, body, extra headers.
type Reply = (u16, String, Vec<(&'static str, &'static str)>);

#[derive(Default)]
struct FakeState {
    log: Mutex<Vec<Recorded>>,
    script: Mutex<HashMap<String, VecDeque<Reply>>>,
}

/// The fake Inngest server.
struct FakeInngest {
    addr: SocketAddr,
    state: Arc<FakeState>,
}

impl FakeInngest {
    async fn start() -> Self {
        let state = Arc::new(FakeState::default());
        let app = {
            let state = Arc::clone(&state);
            poem::endpoint::make(move |req: Request| {
                let state = Arc::clone(&state);
                async move { answer(&state, req).await }
            })
        };

        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind loopback");
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("a socket address");
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));

        Self { addr, state }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues replies for `path`, used in order before the default reply.
    fn script(&self, path: &str, replies: impl IntoIterator<Item = Reply>) {
        self.state
            .script
            .lock()
            .entry(path.to_owned())
            .or_default()
            .extend(replies);
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.log.lock().clone()
    }
}

async fn answer(state: &FakeState, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = req.headers().clone();
    let body = req.into_body().into_string().await.unwrap_or_default();
    let event_count = match serde_json::from_str::<Value>(&body) {
        Ok(Value::Array(events)) => events.len(),
        Ok(Value::Object(_)) => 1,
        _ => 0,
    };
    state.log.lock().push(Recorded {
        method,
        path: path.clone(),
        query,
        headers,
        body,
    });

    let scripted = state
        .script
        .lock()
        .get_mut(&path)
        .and_then(VecDeque::pop_front);
    let (status, body, extra) = scripted.unwrap_or_else(|| default_reply(&path, event_count));
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).expect("valid status"))
        .header("Content-Type", "application/json")
        .header("X-Inngest-Server-Kind", "dev");
    for (name, value) in extra {
        response = response.header(name, value);
    }

    response.body(body)
}

/// What the dev server answers when nothing is scripted.
fn default_reply(path: &str, event_count: usize) -> Reply {
    let body = if path.starts_with("/e/") {
        let ids: Vec<String> = (0..event_count)
            .map(|i| format!("01JFAKE{i:019}"))
            .collect();
        json!({"ids": ids, "status": 200}).to_string()
    } else if path == "/fn/register" {
        r#"{"ok":true,"modified":true,"sync_id.omitempty":"6f1d7a4e","app_id":"a906d997"}"#
            .to_owned()
    } else if path.ends_with("/batch") {
        r#"[{"name":"demo/batch","data":{"i":1},"id":"01JEVENT","ts":1735689600000}]"#.to_owned()
    } else if path.ends_with("/actions") {
        r#"{"c2a3a6b6d29a2c5ae4d2a3d5d47fa47e8e4a8f1a":{"data":"done"}}"#.to_owned()
    } else {
        return (
            404,
            r#"{"error":"not found","status":404}"#.to_owned(),
            Vec::new(),
        );
    };

    (200, body, Vec::new())
}

fn resolve(options: InngestModuleOptions, env: &[(&str, &str)]) -> ResolvedOptions {
    let env: BTreeMap<&str, &str> = env.iter().copied().collect();
    options.resolve(&env).expect("valid options")
}

/// A dev-server setup pointing at the fake.
fn dev_options(fake: &FakeInngest) -> ResolvedOptions {
    resolve(
        InngestModuleOptions::new("golden-app").base_url(fake.origin()),
        &[],
    )
}

/// A self-hosted setup (signing key, verified) pointing at the fake.
fn self_hosted(fake: &FakeInngest, fallback: bool) -> ResolvedOptions {
    let mut options = InngestModuleOptions::new("golden-app")
        .base_url(fake.origin())
        .signing_key(FIXTURE_KEY)
        .event_key("test-event-key-0123456789")
        .environment("feature-x");
    if fallback {
        options = options.signing_key_fallback(FALLBACK_KEY);
    }

    resolve(options, &[])
}

fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::new(attempts, Duration::from_millis(1)).max_delay(Duration::from_millis(20))
}

fn client(options: &ResolvedOptions, attempts: u32) -> InngestClient {
    InngestClient::new(options)
        .expect("client")
        .with_retry(fast_retry(attempts))
}

fn reply(status: u16, body: &str) -> Reply {
    (status, body.to_owned(), Vec::new())
}

#[tokio::test]
async fn send_one_event_to_the_dev_server_with_the_placeholder_key() {
    let fake = FakeInngest::start().await;
    let client = client(&dev_options(&fake), 1);

    let ids = client
        .send_events(&[Event::new("demo/hello", json!({"who": "world"}))])
        .await
        .expect("sent");

    assert_eq!(ids, ["01JFAKE0000000000000000000"]);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.path, "/e/NO_EVENT_KEY_SET",
        "the JS SDK's dev placeholder"
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("x-inngest-sdk"), Some(SDK_HEADER));
    assert_eq!(sent.header("user-agent"), Some(SDK_HEADER));
    assert!(SDK_HEADER.starts_with("nestling-inngest:v") && SDK_HEADER.matches(':').count() == 1);
    // The JS SDK sends `Authorization: Bearer undefined` here; no key means no header.
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("x-inngest-env"), None);

    let body = sent.json();
    assert_eq!(
        body.as_array().map(Vec::len),
        Some(1),
        "always an array, as JS sends it"
    );
    assert_eq!(body[0]["name"], "demo/hello");
    assert_eq!(body[0]["data"], json!({"who": "world"}));

    let seed = sent.header("x-inngest-event-id-seed").expect("seed header");
    let (millis, entropy) = seed.split_once(',').expect("`<millis>,<entropy>`");
    assert_eq!(
        body[0]["ts"].as_i64().map(|ts| ts.to_string()).as_deref(),
        Some(millis)
    );
    assert_eq!(entropy.len(), 16);
}

#[tokio::test]
async fn send_many_keeps_given_fields_and_uses_the_event_key_and_env() {
    let fake = FakeInngest::start().await;
    let client = client(&self_hosted(&fake, false), 1);
    let mut second = Event::new("demo/batch", json!({"i": 2}));
    second.id = Some("my-idempotency-id".to_owned());
    second.ts = Some(1_735_689_600_000);
    let events = [
        Event::new("demo/batch", json!({"i": 1})),
        second,
        Event::new("demo/batch", json!({"i": 3})),
    ];

    let ids = client.send_events(&events).await.expect("sent");

    assert_eq!(ids.len(), 3);
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/e/test-event-key-0123456789");
    assert_eq!(sent.header("x-inngest-env"), Some("feature-x"));
    assert_eq!(
        sent.header("authorization"),
        None,
        "the event API authenticates by key"
    );
    let body = sent.json();
    assert_eq!(body[1]["id"], "my-idempotency-id");
    assert_eq!(body[1]["ts"], 1_735_689_600_000_i64, "a given ts is kept");
    assert!(
        body[2]["ts"]
            .as_i64()
            .is_some_and(|ts| ts > 1_735_689_600_000)
    );
}

#[tokio::test]
async fn self_hosted_without_an_event_key_fails_before_sending() {
    let fake = FakeInngest::start().await;
    let options = resolve(
        InngestModuleOptions::new("golden-app")
            .base_url(fake.origin())
            .signing_key(FIXTURE_KEY),
        &[],
    );
    let client = client(&options, 1);

    let err = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .unwrap_err();

    assert!(matches!(err, Error::MissingEventKey { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("self-hosted Inngest") && text.contains("INNGEST_EVENT_KEY"),
        "{text}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn invalid_events_are_refused_before_sending() {
    let fake = FakeInngest::start().await;
    let client = client(&dev_options(&fake), 1);

    let err = client
        .send_events(&[
            Event::new("demo/ok", json!({})),
            Event::new("inngest/function.failed", json!({})),
        ])
        .await
        .unwrap_err();

    assert!(matches!(err, Error::InvalidEvent(_)), "{err:?}");
    assert!(err.to_string().contains("event #1: field `name`"), "{err}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_seed_and_body() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/e/NO_EVENT_KEY_SET",
        [
            reply(500, r#"{"error":"storage failed","status":500}"#),
            reply(502, "bad gateway"),
        ],
    );
    let client = client(&dev_options(&fake), 5);

    let ids = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .expect("third attempt succeeds");

    assert_eq!(ids.len(), 1);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let seeds: Vec<_> = requests
        .iter()
        .map(|r| r.header("x-inngest-event-id-seed").map(str::to_owned))
        .collect();
    assert!(seeds[0].is_some());
    assert!(
        seeds.iter().all(|s| *s == seeds[0]),
        "one seed across retries: {seeds:?}"
    );
    assert!(requests.iter().all(|r| r.body == requests[0].body));
}

#[tokio::test]
async fn too_many_requests_is_retried_honouring_retry_after() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/e/NO_EVENT_KEY_SET",
        [(
            429,
            r#"{"error":"rate limited","status":429}"#.to_owned(),
            vec![("Retry-After", "0")],
        )],
    );
    let client = client(&dev_options(&fake), 3);

    client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .expect("retried after the 429");

    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn persistent_server_errors_end_in_an_error_naming_status_and_body() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/e/NO_EVENT_KEY_SET",
        (0..3).map(|_| reply(503, r#"{"error":"draining","status":503}"#)),
    );
    let client = client(&dev_options(&fake), 3);

    let err = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .unwrap_err();

    assert_eq!(fake.requests().len(), 3);
    let Error::ApiStatus {
        status, attempts, ..
    } = &err
    else {
        panic!("expected ApiStatus, got {err:?}");
    };
    assert_eq!((*status, *attempts), (503, 3));
    let text = err.to_string();
    assert!(text.contains("send events"), "{text}");
    assert!(
        text.contains("HTTP 503") && text.contains("draining"),
        "{text}"
    );
    assert!(text.contains("/e/<event key>"), "{text}");
}

#[tokio::test]
async fn client_errors_are_not_retried_and_hide_the_event_key() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/e/test-event-key-0123456789",
        [reply(
            401,
            r#"{"status":401,"error":"Event key not found"}"#,
        )],
    );
    let client = client(&self_hosted(&fake, false), 5);

    let err = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .unwrap_err();

    assert_eq!(fake.requests().len(), 1, "a 401 is not retried");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401") && text.contains("Event key not found"),
        "{text}"
    );
    assert!(
        text.contains("check `event_key` / INNGEST_EVENT_KEY"),
        "{text}"
    );
    assert!(
        !text.contains("test-event-key-0123456789"),
        "key leaked: {text}"
    );
}

#[tokio::test]
async fn a_failure_status_inside_a_200_body_is_an_error() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/e/NO_EVENT_KEY_SET",
        [reply(
            200,
            r#"{"ids":[],"status":400,"error":"event name is empty"}"#,
        )],
    );
    let client = client(&dev_options(&fake), 3);

    let err = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .unwrap_err();

    assert!(
        matches!(err, Error::ApiStatus { status: 400, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("event name is empty"), "{err}");
}

#[tokio::test]
async fn an_unreadable_reply_is_reported_with_an_excerpt() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/e/NO_EVENT_KEY_SET",
        [reply(200, "<html>proxy login</html>")],
    );
    let client = client(&dev_options(&fake), 1);

    let err = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .unwrap_err();

    assert!(matches!(err, Error::ApiResponse { .. }), "{err:?}");
    assert!(
        err.to_string().contains("<html>proxy login</html>"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported() {
    // Bind a port, then free it, so that nothing listens there.
    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        socket.local_addr().expect("addr").port()
    };
    let options = resolve(
        InngestModuleOptions::new("golden-app").base_url(format!("http://127.0.0.1:{port}")),
        &[("INNGEST_EVENT_KEY", "secret-event-key")],
    );
    let client = client(&options, 3);

    let err = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .unwrap_err();

    let Error::ApiUnreachable { attempts, .. } = &err else {
        panic!("expected ApiUnreachable, got {err:?}");
    };
    assert_eq!(*attempts, 3);
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{port}/e/<event key>")),
        "{text}"
    );
    assert!(text.contains("INNGEST_BASE_URL"), "{text}");
    assert!(!text.contains("secret-event-key"), "key leaked: {text}");
}

/// A TCP front that closes its first `drops` connections at once and relays the others to
/// `target`: a network failure the client must retry through.
async fn flaky_front(target: SocketAddr, drops: usize) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut seen = 0;
        while let Ok((mut inbound, _)) = listener.accept().await {
            seen += 1;
            if seen <= drops {
                drop(inbound);
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });

    addr
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let fake = FakeInngest::start().await;
    let front = flaky_front(fake.addr, 1).await;
    let options = resolve(
        InngestModuleOptions::new("golden-app").base_url(format!("http://{front}")),
        &[],
    );
    let client = client(&options, 3);

    let ids = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await
        .expect("the second connection gets through");

    assert_eq!(ids.len(), 1);
    assert_eq!(
        fake.requests().len(),
        1,
        "the dropped attempt never reached the server"
    );
}

fn register_request(url: &str) -> RegisterRequest {
    serde_json::from_value(json!({
        "url": url,
        "v": "0.1",
        "deployType": "ping",
        "sdk": "rust:v0.1.0",
        "framework": "poem",
        "appName": "golden-app",
        "functions": [{
            "id": "golden-app-hello",
            "name": "hello",
            "triggers": [{"event": "demo/hello"}],
            "steps": {"step": {"id": "step", "name": "step", "runtime": {
                "type": "http", "url": format!("{url}?fnId=golden-app-hello&stepId=step")}}}
        }]
    }))
    .expect("register request")
}

#[tokio::test]
async fn register_posts_the_body_with_the_hashed_key_and_sync_headers() {
    let fake = FakeInngest::start().await;
    let client = client(&self_hosted(&fake, false), 1);
    let request = register_request("http://127.0.0.1:3000/api/inngest");

    let response = client
        .register(&request, Some("deploy-123"), Some("dev"))
        .await
        .expect("registered");

    assert!(response.ok && response.modified);
    assert_eq!(response.sync_id.as_deref(), Some("6f1d7a4e"));
    let sent = &fake.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/fn/register")
    );
    assert_eq!(sent.query.as_deref(), Some("deployId=deploy-123"));
    assert_eq!(sent.header("authorization"), Some(FIXTURE_BEARER));
    assert_eq!(sent.header("x-inngest-sync-kind"), Some("out_of_band"));
    assert_eq!(sent.header("x-inngest-expected-server-kind"), Some("dev"));
    assert_eq!(sent.header("x-inngest-env"), Some("feature-x"));
    assert_eq!(sent.header("x-inngest-sdk"), Some(SDK_HEADER));
    assert_eq!(sent.json(), serde_json::to_value(&request).expect("json"));
}

#[tokio::test]
async fn register_drops_an_undefined_deploy_id_and_a_missing_key() {
    let fake = FakeInngest::start().await;
    let client = client(&dev_options(&fake), 1);

    client
        .register(
            &register_request("http://a/api/inngest"),
            Some("undefined"),
            None,
        )
        .await
        .expect("registered");

    let sent = &fake.requests()[0];
    assert_eq!(
        sent.query, None,
        "JS treats the literal `undefined` as absent"
    );
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("x-inngest-expected-server-kind"), None);
}

#[tokio::test]
async fn register_retries_once_with_the_fallback_key_on_401() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/fn/register",
        [reply(
            401,
            r#"{"error":"Authentication failed","status":401}"#,
        )],
    );
    let client = client(&self_hosted(&fake, true), 1);

    client
        .register(&register_request("http://a/api/inngest"), None, None)
        .await
        .expect("the fallback key is accepted");

    let auth: Vec<_> = fake
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    let fallback = format!("Bearer {}", hashed_signing_key(FALLBACK_KEY).expect("hash"));
    assert_eq!(auth, [Some(FIXTURE_BEARER.to_owned()), Some(fallback)]);
}

#[tokio::test]
async fn register_rejected_by_both_keys_names_the_signing_key() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/fn/register",
        (0..2).map(|_| reply(403, r#"{"error":"forbidden","status":403}"#)),
    );
    let client = client(&self_hosted(&fake, true), 1);

    let err = client
        .register(&register_request("http://a/api/inngest"), None, None)
        .await
        .unwrap_err();

    assert_eq!(
        fake.requests().len(),
        2,
        "primary, then fallback, then stop"
    );
    let text = err.to_string();
    assert!(text.starts_with("register functions:"), "{text}");
    assert!(
        text.contains("HTTP 403") && text.contains("INNGEST_SIGNING_KEY"),
        "{text}"
    );
}

#[tokio::test]
async fn register_errors_carry_the_servers_message() {
    let fake = FakeInngest::start().await;
    fake.script(
        "/fn/register",
        [reply(
            400,
            r#"{"error":"Expected server kind cloud, got dev","status":400}"#,
        )],
    );
    let client = client(&dev_options(&fake), 3);

    let err = client
        .register(
            &register_request("http://a/api/inngest"),
            None,
            Some("cloud"),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            Error::ApiStatus {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("Expected server kind cloud, got dev"),
        "{err}"
    );
}

#[tokio::test]
async fn use_api_loads_the_batch_and_the_step_results() {
    let fake = FakeInngest::start().await;
    let client = client(&self_hosted(&fake, false), 1);

    let events = client
        .run_batch("01JGGVSAG00000000000010011")
        .await
        .expect("batch");
    let steps = client
        .run_actions("01JGGVSAG00000000000010011")
        .await
        .expect("actions");

    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name, "demo/batch");
    assert_eq!(
        steps["c2a3a6b6d29a2c5ae4d2a3d5d47fa47e8e4a8f1a"].get(),
        r#"{"data":"done"}"#
    );
    let requests = fake.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path,
        "/v0/runs/01JGGVSAG00000000000010011/batch"
    );
    assert_eq!(
        requests[1].path,
        "/v0/runs/01JGGVSAG00000000000010011/actions"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(FIXTURE_BEARER))
    );
}

#[tokio::test]
async fn a_base_url_path_prefix_is_kept() {
    let fake = FakeInngest::start().await;
    let options = resolve(
        InngestModuleOptions::new("golden-app").base_url(format!("{}/inngest/", fake.origin())),
        &[],
    );
    let client = client(&options, 1);

    // The fake answers 404 for unknown paths; the path is what matters here.
    let _ = client
        .send_events(&[Event::new("demo/hello", json!({}))])
        .await;
    let _ = client.run_batch("r1").await;

    let paths: Vec<_> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/inngest/e/NO_EVENT_KEY_SET", "/inngest/v0/runs/r1/batch"]
    );
}

#[tokio::test]
async fn checkpoints_are_posted_once_and_a_409_means_stale() {
    let fake = FakeInngest::start().await;
    let path = "/v1/checkpoint/01JRUN/async";
    fake.script(
        path,
        [
            reply(200, "{}"),
            reply(409, r#"{"error":"stale","status":409}"#),
            reply(500, r#"{"error":"boom","status":500}"#),
        ],
    );
    let client = client(&self_hosted(&fake, false), 5);
    let body = json!({"run_id": "01JRUN", "fn_id": "f", "steps": []});

    let accepted = client
        .checkpoint_async("01JRUN", &body)
        .await
        .expect("accepted");
    let stale = client
        .checkpoint_async("01JRUN", &body)
        .await
        .expect("stale");
    let failed = client.checkpoint_async("01JRUN", &body).await.unwrap_err();

    assert_eq!(accepted, nestling_inngest::CheckpointOutcome::Accepted);
    assert_eq!(stale, nestling_inngest::CheckpointOutcome::Stale);
    assert!(
        matches!(
            failed,
            Error::ApiStatus {
                status: 500,
                attempts: 1,
                ..
            }
        ),
        "{failed:?}"
    );
    let requests = fake.requests();
    assert_eq!(
        requests.len(),
        3,
        "no retries: the caller falls back to its 206"
    );
    assert_eq!(requests[0].path, path);
    assert_eq!(requests[0].header("authorization"), Some(FIXTURE_BEARER));
    assert_eq!(requests[0].json(), body);
}
