//! The in-process function runner against the SDK's real serve endpoint, called through
//! `ServeEndpoint::execute`; one test serves that endpoint over loopback HTTP and checks that
//! a real `POST` gets the very reply the runner works from.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use nestling_inngest_protocol::OpCode;
use nestling_testing::{
    FunctionRunner, MockInngestService, RunStatus, TestingError, TestingModule,
};
use serde_json::json;
use support::{APP, Counters, Receipt, ShopModule};

/// The initialised shop module and a runner for its functions; the module must outlive the
/// runner's use, so both are returned.
async fn runner() -> (Arc<Counters>, TestingModule, FunctionRunner) {
    let counters = Arc::new(Counters::default());
    let module = TestingModule::builder(ShopModule::new(Arc::clone(&counters)))
        .compile()
        .await
        .expect("the shop module compiles");
    module.init().await.expect("the shop module initialises");
    let runner = module.runner().await.expect("a runner for the shop module");
    (counters, module, runner)
}

#[tokio::test]
async fn runs_steps_sleep_wait_and_send_in_order() {
    let (counters, _module, runner) = runner().await;

    let outcome = runner
        .function("fulfil-order")
        .unwrap()
        .event_data("shop/order.placed", json!({"order": 7, "amount": 1250}))
        .execute()
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Completed, "{:?}", outcome.error);
    assert_eq!(
        outcome.output_as::<Receipt>().unwrap(),
        Receipt {
            order: 7,
            charged: 1250,
            confirmed: false
        }
    );
    assert_eq!(
        outcome.step_ops(),
        [
            ("charge-card", OpCode::StepRun),
            ("cool-off", OpCode::Sleep),
            ("await-confirmation", OpCode::WaitForEvent),
            ("notify", OpCode::StepRun),
        ]
    );
    assert_eq!(
        counters.charge.load(Ordering::SeqCst),
        1,
        "memoised, run once"
    );
    assert_eq!(outcome.sleeps.len(), 1);
    assert_eq!(outcome.sleeps[0].raw, "2h");
    assert_eq!(outcome.sleeps[0].duration, Some(Duration::from_secs(7200)));

    let wait = outcome.step("await-confirmation").unwrap();
    assert_eq!(wait.name.as_deref(), Some("shop/order.confirmed"));
    assert_eq!(wait.opts.as_ref().unwrap()["timeout"], "1d");
    assert_eq!(wait.output, Some(serde_json::Value::Null), "timed out");

    let sent = runner.mock().events_named("shop/receipt.sent");
    assert_eq!(sent.len(), 1, "step.send_event is recorded, not sent");
    assert_eq!(sent[0].event.data, json!({"order": 7}));
    let notify = outcome.step("notify").unwrap();
    assert_eq!(notify.output.as_ref().unwrap()["ids"][0], json!(sent[0].id));
    assert!(
        outcome.requests >= 5,
        "one request per step and the last: {}",
        outcome.requests
    );
}

#[tokio::test]
async fn a_wait_answered_by_a_stub_resumes_with_the_event() {
    let (_counters, _module, runner) = runner().await;

    let outcome = runner
        .function("shop-fulfil-order")
        .unwrap()
        .event_data("shop/order.placed", json!({"order": 8, "amount": 5}))
        .answer_wait("await-confirmation", json!({"order": 8}))
        .execute()
        .await
        .unwrap();

    assert!(outcome.output_as::<Receipt>().unwrap().confirmed);
    let wait = outcome.step("await-confirmation").unwrap();
    assert!(wait.mocked);
    assert_eq!(wait.output.as_ref().unwrap()["data"]["order"], 8);
    assert_eq!(
        wait.output.as_ref().unwrap()["name"],
        "shop/order.confirmed"
    );
}

#[tokio::test]
async fn a_mocked_step_never_runs_its_body_and_its_value_round_trips() {
    let (counters, _module, runner) = runner().await;

    let outcome = runner
        .function("fulfil-order")
        .unwrap()
        .event_data("shop/order.placed", json!({"order": 9, "amount": 10}))
        .mock_step("charge-card", 999u32)
        .execute()
        .await
        .unwrap();

    assert_eq!(outcome.output_as::<Receipt>().unwrap().charged, 999);
    assert_eq!(counters.charge.load(Ordering::SeqCst), 0);
    let charge = outcome.step("charge-card").unwrap();
    assert!(charge.mocked);
    assert_eq!(charge.attempts, 0);
    // The unmocked send step still ran (planned, then targeted).
    assert_eq!(runner.mock().events_named("shop/receipt.sent").len(), 1);
}

#[tokio::test]
async fn a_mock_of_the_wrong_type_fails_the_step_as_the_sdk_decodes_it() {
    let (_counters, _module, runner) = runner().await;

    let outcome = runner
        .function("fulfil-order")
        .unwrap()
        .event_data("shop/order.placed", json!({"order": 9, "amount": 10}))
        .mock_step("charge-card", "not a number")
        .execute()
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    let error = outcome.error.unwrap();
    assert!(
        error.message.contains("charge-card") || error.message.contains("invalid type"),
        "{error:?}"
    );
}

#[tokio::test]
async fn parallel_steps_are_planned_then_targeted_one_by_one() {
    let (_counters, _module, runner) = runner().await;

    let outcome = runner.function("quote").unwrap().execute().await.unwrap();

    assert_eq!(outcome.output_as::<u32>().unwrap(), 120);
    let mut first_two: Vec<&str> = outcome.step_ids()[..2].to_vec();
    first_two.sort_unstable();
    assert_eq!(first_two, ["price", "tax"]);
    assert_eq!(outcome.step_ids()[2], "total");
    assert!(outcome.steps.iter().all(|s| s.op == OpCode::StepRun));
    // Discovery finds both, each is targeted, discovery plans `total` (immediate execution
    // is off once steps ran in parallel), it is targeted, and the last discovery returns.
    assert_eq!(outcome.requests, 6);
}

#[tokio::test]
async fn a_failing_step_is_retried_until_it_succeeds() {
    let (counters, _module, runner) = runner().await;

    let outcome = runner
        .function("flaky-sync")
        .unwrap()
        .execute()
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Completed, "{:?}", outcome.error);
    assert_eq!(outcome.output_as::<u32>().unwrap(), 3);
    assert_eq!(counters.flaky.load(Ordering::SeqCst), 3);
    assert_eq!(outcome.retries.len(), 2);
    assert_eq!(outcome.retries[0].step.as_deref(), Some("call-erp"));
    assert_eq!(outcome.retries[0].message, "ERP timeout #1");
    assert_eq!(
        outcome.retries[0].delay,
        Duration::from_secs(15),
        "server backoff, attempt 0"
    );
    assert_eq!(outcome.retries[1].delay, Duration::from_secs(30));
    assert_eq!(outcome.step("call-erp").unwrap().attempts, 3);
}

#[tokio::test]
async fn a_non_retriable_step_fails_the_run_and_runs_the_failure_handler() {
    let (counters, _module, runner) = runner().await;

    let outcome = runner.function("refund").unwrap().execute().await.unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    assert!(
        outcome.retries.is_empty(),
        "non-retriable: {:?}",
        outcome.retries
    );
    let step = outcome.step("call-bank").unwrap();
    assert_eq!(step.op, OpCode::StepFailed);
    assert_eq!(step.error.as_ref().unwrap().message, "card closed");
    assert!(
        outcome
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("card closed")
    );

    let handler = outcome.on_failure.expect("the failure handler ran");
    assert_eq!(handler.function_id, format!("{APP}-refund-failure"));
    assert_eq!(
        handler.output_as::<String>().unwrap(),
        "alerted about card closed"
    );
    assert_eq!(counters.failures_seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failing_function_is_retried_then_fails_with_its_error() {
    let (_counters, _module, runner) = runner().await;

    let outcome = runner.function("audit").unwrap().execute().await.unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(
        outcome.error.as_ref().unwrap().message,
        "ledger unavailable"
    );
    assert_eq!(outcome.retries.len(), 1, "retries(1): two attempts");
    assert_eq!(outcome.retries[0].step, None);
    assert!(outcome.on_failure.is_none());
}

#[tokio::test]
async fn invoke_runs_the_sibling_function_or_a_stub() {
    let (_counters, _module, runner) = runner().await;

    let outcome = runner.function("invoice").unwrap().execute().await.unwrap();
    assert_eq!(outcome.output, Some(json!({"rate": 20})));
    let invoke = outcome.step("get-rate").unwrap();
    assert_eq!(invoke.op, OpCode::InvokeFunction);
    assert_eq!(
        invoke.opts.as_ref().unwrap()["function_id"],
        "shop-tax-rate"
    );
    let nested = invoke.invoked.as_ref().expect("the sibling ran");
    assert_eq!(nested.function_id, "shop-tax-rate");
    assert!(nested.is_completed());

    let stubbed = runner
        .function("invoice")
        .unwrap()
        .stub_invoke("tax-rate", 5)
        .execute()
        .await
        .unwrap();
    assert_eq!(stubbed.output, Some(json!({"rate": 5})));
    assert!(stubbed.step("get-rate").unwrap().invoked.is_none());

    let failed = runner
        .function("invoice")
        .unwrap()
        .stub_invoke_error("get-rate", "rates service down")
        .execute()
        .await
        .unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.unwrap().message.contains("rates service down"));
}

#[tokio::test]
async fn the_runner_shares_the_installed_mock_and_names_unknown_functions() {
    let counters = Arc::new(Counters::default());
    let mock = Arc::new(MockInngestService::new(APP));
    let module = TestingModule::builder(ShopModule::new(Arc::clone(&counters)))
        .mock_inngest(Arc::clone(&mock))
        .compile()
        .await
        .unwrap();
    module.init().await.unwrap();
    let runner = module.runner().await.unwrap();

    runner
        .function("fulfil-order")
        .unwrap()
        .event_data("shop/order.placed", json!({"order": 1, "amount": 1}))
        .execute()
        .await
        .unwrap();
    assert_eq!(mock.events_named("shop/receipt.sent").len(), 1);

    use nestling_inngest::InngestService;
    assert_eq!(mock.function_count(), runner.function_ids().len());
    assert!(mock.functions().iter().any(|f| f.id == "shop-quote"));

    let err = runner.function("nope").unwrap_err();
    assert!(matches!(err, TestingError::UnknownFunction { .. }));
    assert!(err.to_string().contains("shop-quote"), "{err}");
}

#[tokio::test]
async fn a_runner_needs_an_initialised_inngest_module() {
    let module = TestingModule::create(nestling::ModuleDef::new("Bare"))
        .compile()
        .await
        .unwrap();
    let err = module.runner().await.unwrap_err();
    assert!(matches!(err, TestingError::NoInngestModule { .. }), "{err}");
}

#[tokio::test]
async fn a_retry_after_from_the_step_is_the_recorded_delay() {
    let (counters, _module, runner) = runner().await;

    let outcome = runner.function("export").unwrap().execute().await.unwrap();

    assert_eq!(outcome.output_as::<String>().unwrap(), "exported");
    assert_eq!(counters.throttled.load(Ordering::SeqCst), 2);
    assert_eq!(outcome.retries.len(), 1);
    assert_eq!(outcome.retries[0].delay, Duration::from_secs(90));
}

#[tokio::test]
async fn a_run_over_its_request_budget_stops_with_an_error() {
    let (_counters, _module, runner) = runner().await;

    let err = runner
        .function("fulfil-order")
        .unwrap()
        .event_data("shop/order.placed", json!({"order": 1, "amount": 1}))
        .max_requests(2)
        .execute()
        .await
        .unwrap_err();

    assert!(
        matches!(err, TestingError::TooManyRequests { requests: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("shop-fulfil-order"), "{err}");
}

#[tokio::test]
async fn a_lazy_step_mock_runs_only_when_the_function_reaches_it() {
    let (_counters, _module, runner) = runner().await;
    let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = Arc::clone(&calls);

    let outcome = runner
        .function("audit")
        .unwrap()
        .mock_step_with("never-reached", move || {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok(json!(1))
        })
        .execute()
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert!(outcome.steps.is_empty());
}

#[tokio::test]
async fn a_lazy_step_mock_that_fails_fails_the_step_without_running_the_body() {
    let (counters, _module, runner) = runner().await;

    let outcome = runner
        .function("fulfil-order")
        .unwrap()
        .event_data("shop/order.placed", json!({"order": 2, "amount": 3}))
        .mock_step_with("charge-card", || Err("card declined".to_owned()))
        .execute()
        .await
        .unwrap();

    assert_eq!(outcome.status, RunStatus::Failed);
    let charge = outcome.step("charge-card").unwrap();
    assert!(charge.mocked);
    assert_eq!(charge.error.as_ref().unwrap().message, "card declined");
    assert_eq!(counters.charge.load(Ordering::SeqCst), 0);
    assert!(
        outcome.step("cool-off").is_none(),
        "the run stopped at the failed step"
    );
}

/// One HTTP/1.1 exchange on a fresh loopback connection: status, headers (lower-cased names)
/// and body. Hand-written so the test needs no HTTP client crate; the endpoint answers with
/// a `content-length`, which is all this reads.
async fn post(
    addr: std::net::SocketAddr,
    path_and_query: &str,
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let head = format!(
        "POST {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();

    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    assert!(
        !headers.iter().any(|(name, _)| name == "transfer-encoding"),
        "this reader expects a content-length: {headers:?}"
    );

    (status, headers, raw[split + 4..].to_vec())
}

#[tokio::test]
async fn a_real_http_post_gets_the_reply_the_runner_works_from() {
    let (counters, _module, runner) = runner().await;
    let endpoint = runner.endpoint().clone();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    let served = tokio::spawn(
        poem::Server::new_with_acceptor(acceptor)
            .run(poem::Route::new().at("/api/inngest", endpoint.clone())),
    );

    let request = json!({
        "event": {"name": "shop/order.placed", "data": {"order": 3, "amount": 40}},
        "events": [{"name": "shop/order.placed", "data": {"order": 3, "amount": 40}}],
        "steps": {},
        "ctx": {"run_id": "01HTTPRUN", "attempt": 0, "step_id": "step"},
        "version": 2
    });
    let bytes = serde_json::to_vec(&request).unwrap();
    let (status, headers, body) = post(
        addr,
        &format!("/api/inngest?fnId={APP}-fulfil-order&stepId=step"),
        &bytes,
    )
    .await;

    let parsed = nestling_inngest::CallRequest::from_slice(&bytes).unwrap();
    let reply = endpoint
        .execute(&format!("{APP}-fulfil-order"), Some("step"), parsed)
        .await;

    assert_eq!(status, 206, "{}", String::from_utf8_lossy(&body));
    assert_eq!(reply.status(), status);
    assert_eq!(reply.body(), body, "the same ops, byte for byte");
    for name in [
        "x-inngest-sdk",
        "x-inngest-req-version",
        "x-inngest-framework",
        "content-type",
    ] {
        let sent = headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        assert_eq!(reply.header(name), sent, "{name}");
        assert!(sent.is_some(), "{name} is sent over HTTP");
    }
    let ops: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ops[0]["displayName"], "charge-card");
    assert_eq!(ops[0]["data"], 40);
    assert_eq!(
        counters.charge.load(Ordering::SeqCst),
        2,
        "the step ran once per call"
    );

    // A function the app does not have is answered the same way on both paths.
    let (status, _, body) = post(addr, "/api/inngest?fnId=nope", &bytes).await;
    let reply = endpoint
        .execute(
            "nope",
            None,
            nestling_inngest::CallRequest::from_slice(&bytes).unwrap(),
        )
        .await;
    assert_eq!((status, body.as_slice()), (reply.status(), reply.body()));
    assert_eq!(status, 500);

    served.abort();
}
