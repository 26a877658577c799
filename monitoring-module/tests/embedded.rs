//! Run metrics from real runs: the Inngest module runs the monitoring middleware (provided by
//! the monitoring module) for every function, on the embedded engine, and the counts are read
//! back over HTTP.
//!
//! The app starts the embedded engine itself, as a user's app does; `scripts/test` exports
//! `NESTLING_ENGINE_ADDR=127.0.0.1:0` so that it binds a free port.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nestling::{Injectable, Module, ModuleDef, NestlingApplication, Provider};
use nestling_inngest::{
    Ctx, FunctionError, InngestModule, InngestModuleOptions, InngestService, InngestServiceExt,
    MonitoringOptions, WaitForEvent, functions,
};
use nestling_monitoring::InngestMonitoringModule;
use serde_json::{Value, json};

/// Three functions: one that fails once and is retried, one that fails for good, one that
/// waits until it is cancelled.
#[derive(Debug, Default, Injectable)]
struct Jobs;

#[functions]
impl Jobs {
    #[function(id = "flaky", event = "mon/flaky")]
    async fn flaky(&self, ctx: Ctx) -> Result<&'static str, FunctionError> {
        if ctx.attempt == 0 {
            // The engine waits at least a second before a retry.
            return Err(FunctionError::retry_after(
                "the bank timed out",
                Duration::from_secs(1),
            ));
        }
        Ok("paid")
    }

    #[function(id = "doomed", event = "mon/doomed")]
    #[retries(0)]
    async fn doomed(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        // Retriable in itself, but with no retries left this attempt ends the run.
        Err(FunctionError::new("the card is declined"))
    }

    #[function(id = "patient", event = "mon/patient")]
    async fn patient(&self, ctx: Ctx) -> Result<bool, FunctionError> {
        let answer = ctx
            .step
            .wait_for_event::<Value>("wait", WaitForEvent::new("mon/never", "1h"))
            .await?;
        Ok(answer.is_some())
    }
}

struct AppModule {
    app_id: String,
}

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        let options = InngestModuleOptions::new(self.app_id.clone())
            .is_global(true)
            .monitoring(MonitoringOptions::default().collect_metrics(true));
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(options))
            .import(InngestMonitoringModule)
            .provider(Provider::class::<Jobs>())
    }
}

async fn functions_json(url: &str) -> Vec<Value> {
    reqwest::get(format!("{url}/metrics/functions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `/metrics/functions` until `done` holds for the function's summary.
async fn wait_for(url: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        let functions = functions_json(url).await;
        if let Some(summary) = functions.into_iter().find(|f| f["id"] == id) {
            if done(&summary) {
                return summary;
            }
            last = summary;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{id} never reached the expected counts; last seen {last}");
}

fn remove_database(app_id: &str) {
    let db = PathBuf::from(".nestling").join(format!("{app_id}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_final_failures_and_cancellations_are_counted_from_real_runs() {
    assert!(
        std::env::var("NESTLING_ENGINE_ADDR").is_ok(),
        "run the tests through scripts/test, or export NESTLING_ENGINE_ADDR=127.0.0.1:0, so \
         that the embedded engine binds a free port"
    );
    let app_id = format!("monitoring-embedded-{}", std::process::id());
    let app = NestlingApplication::create(AppModule {
        app_id: app_id.clone(),
    })
    .await
    .unwrap();
    let inngest: Arc<dyn InngestService> = app.get::<dyn InngestService>();
    let server = app.start("127.0.0.1:0").await.unwrap();
    let url = server.url();

    for name in ["mon/flaky", "mon/doomed"] {
        inngest.send_data(name, &json!({})).await.unwrap();
    }
    let patient_event = inngest.send_data("mon/patient", &json!({})).await.unwrap();

    let flaky = wait_for(&url, &format!("{app_id}-flaky"), |s| s["completed"] == 1).await;
    assert_eq!(flaky["retries"], 1, "{flaky}");
    assert_eq!(
        (flaky["runsStarted"].clone(), flaky["inFlight"].clone()),
        (json!(1), json!(0))
    );

    // A retriable error on the last attempt fails the run: nothing stays in flight.
    let doomed = wait_for(&url, &format!("{app_id}-doomed"), |s| s["failed"] == 1).await;
    assert_eq!(doomed["inFlight"], 0, "{doomed}");
    assert_eq!(doomed["retries"], 0, "{doomed}");

    // The waiting run is in flight until the engine cancels it, which the SDK hears of
    // through the engine's run endings.
    let patient_id = format!("{app_id}-patient");
    wait_for(&url, &patient_id, |s| s["inFlight"] == 1).await;
    let api = &inngest.options().api_origin;
    let http = reqwest::Client::new();
    let mut run_id = None;
    for _ in 0..200 {
        let runs: Value = http
            .get(format!("{api}/v1/events/{patient_event}/runs"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null);
        run_id = runs["data"]
            .as_array()
            .and_then(|runs| runs.first())
            .and_then(|run| run["run_id"].as_str())
            .map(str::to_owned);
        if run_id.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let run_id = run_id.expect("the engine lists the waiting run");
    let cancelled = http
        .delete(format!("{api}/v1/runs/{run_id}"))
        .send()
        .await
        .unwrap();
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    let patient = wait_for(&url, &patient_id, |s| s["cancelled"] == 1).await;
    assert_eq!(patient["inFlight"], 0, "{patient}");

    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(&format!(
        "inngest_function_executions_total{{function_id=\"{patient_id}\",result=\"cancelled\"}} 1"
    )));

    server.close().await.unwrap();
    remove_database(&app_id);
}
