//! Behaviour of the driver: memoisation, discovery, immediate execution, parallel steps,
//! targeted steps and error mapping, without HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use nestling_inngest_protocol::hash_step_id;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::*;
use crate::MiddlewareStack;

struct Request {
    steps: Vec<(&'static str, Value)>,
    attempt: u32,
    max_attempts: u32,
    target: Option<String>,
    disable_immediate: bool,
    event: Value,
}

impl Default for Request {
    fn default() -> Self {
        Self {
            steps: Vec::new(),
            attempt: 0,
            max_attempts: 4,
            target: None,
            disable_immediate: false,
            event: json!({"name": "test/event", "data": {"n": 1}}),
        }
    }
}

fn invocation(request: Request) -> Invocation {
    invocation_with(request, MiddlewareStack::default())
}

fn invocation_with(request: Request, middleware: MiddlewareStack) -> Invocation {
    let steps: HashMap<String, Box<RawValue>> = request
        .steps
        .into_iter()
        .map(|(key, value)| {
            let raw = serde_json::value::to_raw_value(&value).unwrap();
            (hash_step_id(key), raw)
        })
        .collect();

    Invocation::new(InvocationParts {
        execution: ExecutionParams {
            app_id: "app".into(),
            function_id: "app-fn".into(),
            run_id: "01RUN".into(),
            attempt: request.attempt,
            max_attempts: request.max_attempts,
            disable_immediate_execution: request.disable_immediate,
            target: request.target,
            memo: crate::execution::Memo::from_steps(steps),
        },
        event: request.event.clone(),
        events: vec![request.event],
        events_api: None,
        middleware,
    })
}

fn ops(outcome: &ExecutionOutcome) -> Vec<Value> {
    match outcome {
        ExecutionOutcome::Steps { ops, .. } => ops
            .iter()
            .map(|op| serde_json::to_value(op).unwrap())
            .collect(),
        other => panic!("expected steps, got {other:?}"),
    }
}

async fn two_steps(ctx: Ctx<Value>) -> Result<Value, FunctionError> {
    let n: i64 = ctx.event.data["n"].as_i64().unwrap_or_default();
    let a: i64 = ctx
        .step
        .run("a", || async move { Ok::<_, FunctionError>(n + 1) })
        .await?;
    let b: i64 = ctx
        .step
        .run("b", || async move { Ok::<_, FunctionError>(a * 10) })
        .await?;
    Ok(json!({"a": a, "b": b}))
}

#[tokio::test]
async fn a_single_new_step_runs_at_once() {
    let outcome = run_handler(invocation(Request::default()), two_steps).await;
    let ops = ops(&outcome);

    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["op"], "StepRun");
    assert_eq!(ops[0]["id"], hash_step_id("a"));
    assert_eq!(ops[0]["data"], 2);
    assert_eq!(ops[0]["userland"], json!({"id": "a"}));
    assert_eq!(outcome.status(), 206);
}

#[tokio::test]
async fn memoised_steps_are_replayed_and_the_run_completes() {
    let request = Request {
        steps: vec![("a", json!({"data": 2})), ("b", json!({"data": 20}))],
        ..Request::default()
    };
    let outcome = run_handler(invocation(request), two_steps).await;

    let ExecutionOutcome::Complete(raw) = &outcome else {
        panic!("expected completion, got {outcome:?}");
    };
    assert_eq!(raw.get(), r#"{"a":2,"b":20}"#);
}

#[tokio::test]
async fn disabled_immediate_execution_plans_the_step() {
    let request = Request {
        disable_immediate: true,
        ..Request::default()
    };
    let ops = ops(&run_handler(invocation(request), two_steps).await);

    assert_eq!(ops[0]["op"], "StepPlanned");
    assert_eq!(ops[0]["data"], Value::Null);
}

async fn parallel(ctx: Ctx<Value>) -> Result<Value, FunctionError> {
    let (a, b) = futures::join!(
        ctx.step
            .run("par-a", || async { Ok::<_, FunctionError>("A".to_owned()) }),
        ctx.step
            .run("par-b", || async { Ok::<_, FunctionError>("B".to_owned()) }),
    );
    let (a, b) = (a?, b?);
    let after: String = ctx
        .step
        .run("after", || async move {
            Ok::<_, FunctionError>(format!("{a}{b}"))
        })
        .await?;
    Ok(json!(after))
}

#[tokio::test]
async fn steps_awaited_together_are_reported_together() {
    let ops = ops(&run_handler(invocation(Request::default()), parallel).await);

    let names: Vec<&str> = ops.iter().map(|op| op["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["par-a", "par-b"]);
    assert!(ops.iter().all(|op| op["op"] == "StepPlanned"));
}

#[tokio::test]
async fn a_targeted_step_runs_alone() {
    let request = Request {
        target: Some(hash_step_id("par-b")),
        disable_immediate: true,
        ..Request::default()
    };
    let ops = ops(&run_handler(invocation(request), parallel).await);

    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0]["op"].as_str(), ops[0]["data"].as_str()),
        (Some("StepRun"), Some("B"))
    );
}

#[tokio::test]
async fn a_target_never_reached_is_reported_with_the_steps_found() {
    let request = Request {
        target: Some(hash_step_id("nowhere")),
        ..Request::default()
    };
    let outcome = run_handler(invocation(request), parallel).await;

    let ExecutionOutcome::StepNotFound { body } = &outcome else {
        panic!("expected step-not-found, got {outcome:?}");
    };
    assert_eq!(body["totalFoundSteps"], 2);
    assert_eq!(outcome.status(), 500);
}

async fn looped(ctx: Ctx<Value>) -> Result<Value, FunctionError> {
    let mut out = Vec::new();
    for i in 0..3 {
        out.push(
            ctx.step
                .run("loop", || async move { Ok::<_, FunctionError>(i) })
                .await?,
        );
    }
    Ok(json!(out))
}

#[tokio::test]
async fn repeated_ids_are_hashed_with_an_index() {
    let request = Request {
        steps: vec![("loop", json!({"data": 0}))],
        ..Request::default()
    };
    let ops = ops(&run_handler(invocation(request), looped).await);

    assert_eq!(ops[0]["id"], hash_step_id("loop:1"));
    assert_eq!(ops[0]["userland"], json!({"id": "loop", "index": 1}));
}

async fn failing(ctx: Ctx<Value>) -> Result<Value, FunctionError> {
    ctx.step
        .run("boom", || async {
            Err::<(), _>(FunctionError::new("kaboom"))
        })
        .await?;
    Ok(json!("unreachable"))
}

#[tokio::test]
async fn step_errors_are_retried_until_the_last_attempt() {
    let outcome = run_handler(invocation(Request::default()), failing).await;
    assert_eq!(ops(&outcome)[0]["op"], "StepError");
    assert_eq!(
        outcome.headers(),
        [("x-inngest-no-retry", "false".to_owned())]
    );

    let last = Request {
        attempt: 3,
        ..Request::default()
    };
    let outcome = run_handler(invocation(last), failing).await;
    let op = &ops(&outcome)[0];
    assert_eq!(op["op"], "StepFailed");
    assert_eq!(op["error"]["message"], "kaboom");
    assert_eq!(op["data"]["stack"], "");
    assert_eq!(
        outcome.headers(),
        [("x-inngest-no-retry", "true".to_owned())]
    );
}

#[tokio::test]
async fn a_propagated_step_failure_fails_the_run_for_good() {
    let stored = json!({"name": "TypeError", "message": "bad", "stack": "TypeError: bad"});
    let request = Request {
        steps: vec![("boom", json!({"error": stored}))],
        ..Request::default()
    };
    let outcome = run_handler(invocation(request), failing).await;

    assert_eq!(outcome.status(), 400);
    let body: Value = serde_json::from_slice(&outcome.body()).unwrap();
    assert_eq!(
        body,
        json!({"name": "TypeError", "message": "bad", "stack": "TypeError: bad", "__serialized": true})
    );
}

async fn sleeper(ctx: Ctx<Value>) -> Result<Value, FunctionError> {
    ctx.step.sleep("nap", "90m").await?;
    ctx.step
        .sleep_until("until", "2031-06-01T00:00:00Z")
        .await?;
    Ok(json!("slept"))
}

#[tokio::test]
async fn sleeps_report_a_normalised_time() {
    let ops = ops(&run_handler(invocation(Request::default()), sleeper).await);
    assert_eq!(
        (ops[0]["op"].as_str(), ops[0]["name"].as_str()),
        (Some("Sleep"), Some("1h30m"))
    );

    let request = Request {
        steps: vec![("nap", Value::Null)],
        ..Request::default()
    };
    let ops = self::ops(&run_handler(invocation(request), sleeper).await);
    assert_eq!(ops[0]["name"], "2031-06-01T00:00:00.000Z");
}

#[derive(Debug, serde::Deserialize)]
struct Typed {
    #[expect(dead_code, reason = "only deserialised")]
    email: String,
}

#[tokio::test]
async fn an_event_that_does_not_fit_fails_without_retries() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let outcome = run_handler(
        invocation(Request::default()),
        move |_ctx: Ctx<Typed>| async move {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok::<_, FunctionError>(())
        },
    )
    .await;

    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(outcome.status(), 400);
    let body: Value = serde_json::from_slice(&outcome.body()).unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("missing field `email`"), "{message}");
}

#[tokio::test]
async fn function_errors_map_to_status_and_headers() {
    let retryable = run_handler(invocation(Request::default()), |_ctx: Ctx| async {
        Err::<(), _>(RetryAfterError::new(
            "later",
            std::time::Duration::from_secs(30),
        ))
    })
    .await;
    assert_eq!(retryable.status(), 500);
    assert_eq!(
        retryable.headers(),
        [
            ("x-inngest-no-retry", "false".to_owned()),
            ("retry-after", "30".to_owned())
        ]
    );

    let fatal = run_handler(invocation(Request::default()), |_ctx: Ctx| async {
        Err::<(), _>(NonRetriableError::new("fatal"))
    })
    .await;
    assert_eq!(fatal.status(), 400);

    let panicked = run_handler(invocation(Request::default()), |_ctx: Ctx| async {
        if true {
            panic!("oops");
        }
        Ok::<(), FunctionError>(())
    })
    .await;
    assert_eq!(panicked.status(), 500);
}

/// Doubles `data.n` on the way in, adds 1000 to every step result, and wraps the output.
struct Shaping {
    calls: Arc<parking_lot::Mutex<Vec<&'static str>>>,
}

impl crate::InngestMiddleware for Shaping {
    fn name(&self) -> &str {
        "shaping"
    }

    fn transform_input(&self, _run: &crate::RunInfo, input: &mut crate::FunctionInput) {
        self.calls.lock().push("input");
        for event in &mut input.events {
            let n = event["data"]["n"].as_i64().unwrap_or_default();
            event["data"]["n"] = json!(n * 2);
        }
    }

    fn before_execution(&self, _run: &crate::RunInfo) {
        self.calls.lock().push("before");
    }

    fn after_execution(&self, _run: &crate::RunInfo) {
        self.calls.lock().push("after");
    }

    fn transform_step_output(
        &self,
        _run: &crate::RunInfo,
        step: &crate::StepInfo,
        output: &mut Result<Value, FunctionError>,
    ) {
        self.calls
            .lock()
            .push(if step.id == "a" { "step a" } else { "step" });
        if let Ok(value) = output {
            *value = json!(value.as_i64().unwrap_or_default() + 1000);
        }
    }

    fn transform_output(&self, _run: &crate::RunInfo, output: &mut Result<Value, FunctionError>) {
        self.calls.lock().push("output");
        if let Ok(value) = output {
            *value = json!({ "wrapped": value.take() });
        }
    }
}

#[tokio::test]
async fn middleware_transforms_input_steps_and_output() {
    let calls = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let stack = MiddlewareStack::new(vec![Arc::new(Shaping {
        calls: Arc::clone(&calls),
    })]);

    let outcome = run_handler(
        invocation_with(Request::default(), stack.clone()),
        two_steps,
    )
    .await;
    assert_eq!(
        ops(&outcome)[0]["data"],
        1003,
        "input doubled to 2, step 2+1 shaped to 1003"
    );
    assert_eq!(*calls.lock(), ["input", "before", "step a", "after"]);

    calls.lock().clear();
    let done = Request {
        steps: vec![("a", json!({"data": 3})), ("b", json!({"data": 30}))],
        ..Request::default()
    };
    let outcome = run_handler(invocation_with(done, stack), two_steps).await;
    let ExecutionOutcome::Complete(raw) = &outcome else {
        panic!("expected completion, got {outcome:?}");
    };
    assert_eq!(raw.get(), r#"{"wrapped":{"a":3,"b":30}}"#);
    assert_eq!(*calls.lock(), ["input", "before", "after", "output"]);
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct Pair {
    x: i64,
}

async fn typed_step(ctx: Ctx<Value>) -> Result<Value, FunctionError> {
    let pair: Pair = ctx
        .step
        .run("pair", || async { Ok::<_, FunctionError>(Pair { x: 1 }) })
        .await?;
    let next: i64 = ctx
        .step
        .run("next", || async move { Ok::<_, FunctionError>(pair.x + 1) })
        .await?;
    Ok(json!(next))
}

fn failure(outcome: &ExecutionOutcome) -> (&str, &str) {
    match outcome {
        ExecutionOutcome::Failed { error, .. } => (&error.name, &error.message),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_claimed_memo_that_does_not_fit_names_the_step_and_the_field() {
    let request = Request {
        steps: vec![("pair", json!({"data": {"x": "not a number"}}))],
        ..Request::default()
    };
    let outcome = run_handler(invocation(request), typed_step).await;

    let (name, message) = failure(&outcome);
    assert_eq!(name, "InvalidMemo", "{message}");
    assert!(
        message.contains("does not fit the step's type at `x`"),
        "{message}"
    );
    assert!(message.contains("expected i64"), "{message}");
}

#[tokio::test]
async fn a_claimed_error_memo_without_an_error_object_is_invalid() {
    let request = Request {
        steps: vec![("pair", json!({"error": "just a string"}))],
        ..Request::default()
    };
    let outcome = run_handler(invocation(request), typed_step).await;

    let (name, message) = failure(&outcome);
    assert_eq!(name, "InvalidMemo", "{message}");
    assert!(message.contains("memoised step error"), "{message}");
}

#[tokio::test]
async fn a_malformed_memo_no_step_claims_is_not_read() {
    let request = Request {
        steps: vec![
            ("pair", json!({"data": {"x": 4}})),
            ("never-reached", json!({"error": 5})),
        ],
        ..Request::default()
    };
    let ops = ops(&run_handler(invocation(request), typed_step).await);

    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["id"], hash_step_id("next"));
    assert_eq!(ops[0]["data"], 5);
}

#[tokio::test]
async fn a_data_memo_reads_the_same_however_it_is_written() {
    for memo in [
        r#"{"data":{"x":4}}"#,
        r#"{ "data" : { "x" : 4 } }"#,
        r#"{"type":"data","data":{"x":4}}"#,
    ] {
        let request = Request {
            steps: vec![("pair", serde_json::from_str(memo).unwrap())],
            ..Request::default()
        };
        let ops = ops(&run_handler(invocation(request), typed_step).await);
        assert_eq!(ops[0]["data"], 5, "{memo}");
    }

    // A second key beside `data` means the memo is the value itself, which is no `Pair`.
    let request = Request {
        steps: vec![("pair", json!({"data": {"x": 4}, "other": 1}))],
        ..Request::default()
    };
    let outcome = run_handler(invocation(request), typed_step).await;
    assert_eq!(failure(&outcome).0, "InvalidMemo");
}
