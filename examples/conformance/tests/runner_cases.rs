//! The conformance runner's cases, played against the Rust fixture over loopback HTTP without
//! the Inngest CLI: this test plays the executor, sends the requests the dev server sends for
//! each case, and judges the answers the way the runner of `inngest alpha conformance run`
//! (v1.43.0, `pkg/conformance/runner/serve/runner.go`) judges them: the same expected ops, step
//! hashes, status codes and bodies, after the same normalisation of the ops.
//!
//! `scripts/conformance` runs the real runner with a real dev server; this test keeps the
//! fixture's side of the contract checked by `cargo test`, in well under a second.

use std::net::TcpListener;

use example_conformance::{APP_ID, create_app};
use serde_json::{Map, Value, json};

/// The step hashes the runner expects (SHA-1 of the step ids).
const FIRST_STEP: &str = "98bf98df193bcce7c33e6bc50927cf2ac21206cb";
const SLEEP: &str = "c3ca5f787365eae0dea86250e27d476406956478";
const SECOND_STEP: &str = "764e20ec975d4ef820d0f42e6a5833384bd7ee36";
const WAIT: &str = "daaad336276d15594d0e765f96c17cd746bf4971";

/// The fixture, listening on a free loopback port, and a client for it.
struct Fixture {
    url: String,
    client: reqwest::Client,
    _server: nestling::ServerHandle,
}

async fn start() -> Fixture {
    // The fixture advertises its serve port, so the port is chosen before the app is built.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let app = create_app(port).await.expect("the fixture builds");
    let server = app
        .start(format!("127.0.0.1:{port}"))
        .await
        .expect("the fixture listens");
    Fixture {
        url: format!("{}/api/inngest", server.url()),
        client: reqwest::Client::new(),
        _server: server,
    }
}

/// What the executor knows of a run between two requests.
struct Run {
    function: &'static str,
    event: Value,
    steps: Map<String, Value>,
    stack: Vec<String>,
    attempt: u32,
}

impl Run {
    fn new(function: &'static str, event: Value) -> Self {
        Self {
            function,
            event,
            steps: Map::new(),
            stack: Vec::new(),
            attempt: 0,
        }
    }

    /// Memoises a step's result, as the executor does before its next request.
    fn memo(&mut self, hash: &str, value: Value) {
        self.steps.insert(hash.to_owned(), value);
        self.stack.push(hash.to_owned());
    }

    fn body(&self) -> Value {
        json!({
            "event": self.event,
            "events": [self.event],
            "steps": self.steps,
            "ctx": {
                "fn_id": "797af375-9daa-5138-bd30-5c8277a68b8f",
                "run_id": "01M8Y4J1Y11JJW44MWPRVKPGWM",
                "env": "",
                "step_id": "step",
                "attempt": self.attempt,
                "max_attempts": 4,
                "stack": { "stack": self.stack, "current": self.stack.len() },
                "disable_immediate_execution": false,
                "use_api": false,
            },
            "version": 2,
            "use_api": false,
        })
    }
}

impl Fixture {
    /// Sends the run's next executor request; returns the status and the JSON body.
    async fn call(&self, run: &Run) -> (u16, Value) {
        let response = self
            .client
            .post(&self.url)
            .query(&[
                ("fnId", format!("{APP_ID}-{}", run.function)),
                ("stepId", "step".to_owned()),
            ])
            .json(&run.body())
            .send()
            .await
            .expect("the fixture answers");
        let status = response.status().as_u16();
        let body = response.json().await.expect("a JSON answer");
        (status, body)
    }

    /// Syncs in band, as the runner does first; returns the SDK's answer.
    async fn in_band_sync(&self) -> Value {
        let response = self
            .client
            .put(&self.url)
            .header("x-inngest-sync-kind", "in_band")
            .header("x-inngest-server-kind", "dev")
            .json(&json!({ "url": "http://127.0.0.1:9/runner-proxy" }))
            .send()
            .await
            .expect("the fixture answers the sync");
        assert_eq!(response.status().as_u16(), 200, "in-band sync");
        response.json().await.expect("a JSON sync answer")
    }

    /// Sends the next request and expects a 206 with exactly these ops, as the runner
    /// compares them (see [`runner_view`]).
    async fn expect_ops(&self, run: &Run, expected: Value) {
        let (status, body) = self.call(run).await;
        assert_eq!(
            status, 206,
            "{}: expected ops, got {status} {body}",
            run.function
        );
        let ops: Vec<Value> = body
            .as_array()
            .unwrap_or_else(|| panic!("{}: the 206 body is not an array: {body}", run.function))
            .iter()
            .map(runner_view)
            .collect();
        assert_eq!(Value::Array(ops), expected, "{}: ops", run.function);
    }
}

/// An op as the runner compares it: `timing`, `userland`, `metadata` and `displayName` dropped;
/// a Sleep with `opts.duration` renamed to that duration and its opts dropped; an error reduced
/// to its message. A field the SDK left out stays out, because the runner tells an absent
/// `data` or `opts` from a null or empty one.
fn runner_view(op: &Value) -> Value {
    let mut view = op.as_object().cloned().unwrap_or_default();
    for key in ["timing", "userland", "metadata", "displayName"] {
        view.remove(key);
    }
    let duration = view
        .get("opts")
        .and_then(|opts| opts.get("duration"))
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    if view.get("op") == Some(&json!("Sleep"))
        && let Some(duration) = duration
    {
        view.insert("name".to_owned(), json!(duration));
        view.remove("opts");
    }
    if let Some(error) = view.get("error").cloned() {
        view.insert("error".to_owned(), json!({ "message": error["message"] }));
    }
    Value::Object(view)
}

#[tokio::test]
async fn the_runner_finds_every_fixture_function_in_the_in_band_sync() {
    let fixture = start().await;
    let sync = fixture.in_band_sync().await;

    assert_eq!(sync["app_id"], APP_ID);
    let ids: Vec<&str> = sync["functions"]
        .as_array()
        .expect("a function list")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    // The runner looks each case's function up by its slug or a `-<slug>` suffix.
    for slug in [
        "test-suite-simple-fn",
        "test-suite-step-test",
        "test-suite-retry-test",
        "test-suite-cancel-test",
        "test-suite-wait-for-event",
    ] {
        assert!(
            ids.iter().any(|id| id.ends_with(&format!("-{slug}"))),
            "no function for `{slug}` in {ids:?}"
        );
    }
}

#[tokio::test]
async fn basic_invoke_answers_at_once() {
    let fixture = start().await;
    let run = Run::new(
        "test-suite-simple-fn",
        json!({ "name": "tests/function.test", "data": { "test": true }, "user": {} }),
    );

    let (status, body) = fixture.call(&run).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "name": "tests/function.test", "body": "ok" }));
}

#[tokio::test]
async fn steps_serial_reports_a_step_a_sleep_and_a_step() {
    let fixture = start().await;
    let mut run = Run::new(
        "test-suite-step-test",
        json!({
            "name": "tests/step.test",
            "data": { "steps": { "ok": "yes" } },
            "user": { "email": "test@example.com" },
        }),
    );

    fixture
        .expect_ops(
            &run,
            json!([{ "op": "StepRun", "id": FIRST_STEP, "name": "first step", "data": "first step" }]),
        )
        .await;
    run.memo(FIRST_STEP, json!({ "data": "first step" }));

    fixture
        .expect_ops(
            &run,
            json!([{ "op": "Sleep", "id": SLEEP, "name": "2s", "data": null }]),
        )
        .await;
    run.memo(SLEEP, Value::Null);

    fixture
        .expect_ops(
            &run,
            json!([{
                "op": "StepRun",
                "id": SECOND_STEP,
                "name": "second step",
                "data": { "first": "first step", "second": true },
            }]),
        )
        .await;
    run.memo(
        SECOND_STEP,
        json!({ "data": { "first": "first step", "second": true } }),
    );

    let (status, body) = fixture.call(&run).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "body": "ok", "name": "tests/step.test" }));
}

#[tokio::test]
async fn retry_basic_fails_the_step_then_the_function_once() {
    let fixture = start().await;
    let mut run = Run::new(
        "test-suite-retry-test",
        json!({
            "name": "tests/retry.test",
            "data": { "steps": { "ok": "yes" } },
            "user": { "email": "test@example.com" },
        }),
    );

    fixture
        .expect_ops(
            &run,
            json!([{
                "op": "StepError",
                "id": FIRST_STEP,
                "name": "first step",
                "error": { "message": "broken" },
                "data": null,
            }]),
        )
        .await;

    run.attempt = 1;
    fixture
        .expect_ops(
            &run,
            json!([{ "op": "StepRun", "id": FIRST_STEP, "name": "first step", "data": "yes: 2" }]),
        )
        .await;
    run.memo(FIRST_STEP, json!({ "data": "yes: 2" }));

    run.attempt = 0;
    let (status, body) = fixture.call(&run).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["message"], "broken func");
    assert!(
        [None, Some(""), Some("Error")].contains(&body["name"].as_str()),
        "the runner accepts no error name but `Error`: {body}"
    );

    run.attempt = 1;
    let (status, body) = fixture.call(&run).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "body": "ok", "name": "tests/retry.test" }));
}

#[tokio::test]
async fn cancel_basic_sleeps_ten_seconds() {
    let fixture = start().await;
    let run = Run::new(
        "test-suite-cancel-test",
        json!({
            "name": "tests/cancel.test",
            "data": { "request_id": "123", "whatever": "this doesn't matter my friend" },
            "user": {},
        }),
    );

    fixture
        .expect_ops(
            &run,
            json!([{ "op": "Sleep", "id": SLEEP, "name": "10s", "data": null }]),
        )
        .await;

    let sync = fixture.in_band_sync().await;
    let cancel = sync["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == format!("{APP_ID}-test-suite-cancel-test"))
        .map(|f| f["cancel"].clone())
        .expect("the cancel function is synced");
    assert_eq!(
        cancel,
        json!([{ "event": "cancel/please", "if": "async.data.request_id == event.data.request_id" }])
    );
}

#[tokio::test]
async fn wait_for_event_basic_waits_then_returns_the_event_data() {
    let fixture = start().await;
    let mut run = Run::new(
        "test-suite-wait-for-event",
        json!({ "name": "tests/wait.test", "data": { "id": "123" }, "user": {} }),
    );

    fixture
        .expect_ops(
            &run,
            json!([{
                "op": "WaitForEvent",
                "id": WAIT,
                "name": "wait",
                "data": null,
                "opts": {
                    "event": "test/resume",
                    "if": "async.data.resume == true && async.data.id == event.data.id",
                    "timeout": "10s",
                },
            }]),
        )
        .await;

    run.memo(
        WAIT,
        json!({
            "id": "resume",
            "name": "test/resume",
            "data": { "id": "123", "resume": true },
            "ts": 1_796_292_615_507_u64,
            "user": {},
        }),
    );
    let (status, body) = fixture.call(&run).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "result": { "id": "123", "resume": true } }));
}
