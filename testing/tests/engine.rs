//! The shop app served over loopback HTTP and run by the embedded engine (real SQLite file,
//! real HTTP both ways), through `TestEngine`.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use nestling_engine::{RunStatus, RunSummary};
use nestling_testing::{TestEngine, TestingError, TestingModule};
use serde_json::json;
use support::{APP, Counters, ShopModule};

const LIMIT: Duration = Duration::from_secs(20);

/// An engine whose clock runs 100 000 times faster: the two-hour sleep takes 72 ms and the
/// one-day wait times out in under a second.
async fn engine() -> TestEngine {
    TestEngine::start_with(|config| config.with_time_scale(0.000_01))
        .await
        .expect("the test engine starts")
}

/// Sends an event that starts one run, and returns that run once it ended.
async fn run_one(engine: &TestEngine, event: serde_json::Value) -> RunSummary {
    let mut runs = engine.send_and_wait(event, 1, LIMIT).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.remove(0)
}

#[tokio::test]
async fn the_engine_runs_the_shop_functions_served_over_loopback() {
    let engine = engine().await;
    let counters = Arc::new(Counters::default());
    let mut module = ShopModule::new(Arc::clone(&counters));
    // Automatic registration stays on: once listening, the app registers itself with the
    // engine at the port it really got.
    module.options = engine.inngest_options(APP).is_global(true);

    let app = TestingModule::builder(module)
        .create_application()
        .await
        .expect("the app builds");
    let server = app.start("127.0.0.1:0").await.expect("the app listens");

    // Steps, a sleep, a wait that times out and a sent event.
    let run = run_one(
        &engine,
        json!({"name": "shop/order.placed", "data": {"order": 3, "amount": 40}}),
    )
    .await;
    assert_eq!(run.function, format!("{APP}-fulfil-order"));
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    assert_eq!(
        run.output,
        Some(json!({"order": 3, "charged": 40, "confirmed": false}))
    );
    assert_eq!(counters.charge.load(Ordering::SeqCst), 1);

    // Parallel steps.
    let run = run_one(&engine, json!({"name": "shop/quote.requested", "data": {}})).await;
    assert_eq!(run.output, Some(json!(120)), "{:?}", run.error);

    // A step retried twice by the engine.
    let run = run_one(&engine, json!({"name": "shop/sync.requested", "data": {}})).await;
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    assert_eq!(run.output, Some(json!(3)));
    assert_eq!(counters.flaky.load(Ordering::SeqCst), 3);

    // Invoke of a sibling function.
    let run = run_one(
        &engine,
        json!({"name": "shop/invoice.requested", "data": {}}),
    )
    .await;
    assert_eq!(run.output, Some(json!({"rate": 20})), "{:?}", run.error);

    // A failing function, retried once, fails with its message.
    let run = run_one(&engine, json!({"name": "shop/audit.requested", "data": {}})).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.error
            .as_ref()
            .unwrap()
            .to_string()
            .contains("ledger unavailable"),
        "{:?}",
        run.error
    );

    server.close().await.unwrap();
    let database = engine.database().to_owned();
    assert!(database.exists(), "the engine wrote its SQLite file");
    engine.shutdown().await;
    assert!(
        !database.exists(),
        "shutdown removes the temporary database"
    );
}

#[tokio::test]
async fn waiting_for_runs_that_never_come_times_out_with_a_reason() {
    let engine = engine().await;

    let err = engine
        .send_and_wait(
            json!({"name": "shop/nobody.listens", "data": {}}),
            1,
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();

    assert!(matches!(err, TestingError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("found 0"), "{err}");
    engine.shutdown().await;
}

#[tokio::test]
async fn a_bad_event_is_refused_with_the_engine_reason() {
    let engine = engine().await;

    let err = engine.send(json!({"data": {}})).await.unwrap_err();

    assert!(matches!(err, TestingError::Engine(_)), "{err}");
    assert!(err.to_string().contains("name"), "{err}");
    engine.shutdown().await;
}
