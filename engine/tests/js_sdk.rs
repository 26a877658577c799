//! The official Inngest JS SDK under the engine.
//!
//! Each test starts an engine in-process (real HTTP on loopback, a real SQLite file), starts the
//! test app of `js/sdk-app` (the official `inngest` npm package serving through its own Node
//! handler, v3 or v4) pointed at it, syncs the app, sends one event per scenario over the event
//! API and follows the runs over the REST API (`GET /v1/events/{id}/runs`, `GET /v1/runs/{id}`)
//! until they end, then asserts each run's status and output. The app also reports when each
//! step body really executed (`GET /observed`), which checks retries and memoisation from the
//! SDK's side. `js/sdk-app/README.md` lists the functions and their expected outcomes.
//!
//! The tests skip, saying why, only when `node` or `js/sdk-app/node_modules` is missing
//! (`scripts/setup.d/js-sdk` installs the latter). Every wait is bounded.
//!
//! Events are sent and runs read through the same client as the differential tests
//! (`common/inngest_dev.rs`'s `Api`), pointed at the engine.

#[path = "common/inngest_dev.rs"]
mod inngest_dev;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;
use inngest_dev::{Api, ServerKind};
use nestling_engine::{Engine, EngineConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The longest any one scenario may take, sleeps and retries included.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(45);
/// The longest a whole test may take: start-up, sync and every scenario.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the REST API is polled.
const POLL: Duration = Duration::from_millis(100);
/// The app id of `js/sdk-app`; function ids are `<APP_ID>-<slug>`.
const APP_ID: &str = "js-sdk-app";
/// How much of the app's stderr a failure report shows.
const STDERR_TAIL: usize = 6000;

type Outcome = Result<(), String>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_v3_functions_run_to_their_expected_outcome() {
    drive("v3", Checkpointing::SdkDefault).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_v4_functions_run_to_their_expected_outcome() {
    drive("v4", Checkpointing::SdkDefault).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_v4_without_checkpointing_runs_to_the_same_outcomes() {
    drive("v4", Checkpointing::Off).await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkpointing {
    /// v4 checkpoints whenever the executor's request carries `ctx.fn_id`.
    SdkDefault,
    /// `checkpointing: false` on the client: one step per request, as v3 does.
    Off,
}

fn sdk_app_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../js/sdk-app")
}

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|out| out.status.success()) {
        return Some("`node` is not on PATH".to_owned());
    }

    let modules = sdk_app_dir().join("node_modules");
    if !modules.join("inngest").is_dir() || !modules.join("inngest-v4").is_dir() {
        return Some(format!(
            "{} has no `inngest` and `inngest-v4`; run scripts/setup.d/js-sdk",
            modules.display()
        ));
    }

    None
}

async fn drive(sdk: &'static str, checkpointing: Checkpointing) {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: the JS SDK {sdk} test needs Node and the SDK: {reason}");
        return;
    }

    // The app's stderr (the SDK's own error logs) is kept for the failure report.
    let stderr = Arc::new(Mutex::new(String::new()));
    let failures =
        match tokio::time::timeout(TEST_TIMEOUT, run_all(sdk, checkpointing, stderr.clone())).await
        {
            Ok(Ok(failures)) => failures,
            Ok(Err(setup)) => vec![format!("setup: {setup}")],
            Err(_) => vec![format!("the whole test took longer than {TEST_TIMEOUT:?}")],
        };

    let stderr = stderr.lock().map(|s| s.clone()).unwrap_or_default();
    let start = stderr.len().saturating_sub(STDERR_TAIL);
    let start = (start..stderr.len())
        .find(|&i| stderr.is_char_boundary(i))
        .unwrap_or(stderr.len());
    let tail = &stderr[start..];
    assert!(
        failures.is_empty(),
        "JS SDK {sdk} ({checkpointing:?}) under the engine: {} scenario(s) failed:\n- {}\n\
         the end of the app's stderr:\n{tail}",
        failures.len(),
        failures.join("\n- ")
    );
}

/// Starts the engine and the app, then runs every scenario at once; returns the failures.
async fn run_all(
    sdk: &'static str,
    checkpointing: Checkpointing,
    stderr: Arc<Mutex<String>>,
) -> Result<Vec<String>, String> {
    let database = std::env::temp_dir().join(format!(
        "nestling-js-sdk-{sdk}-{checkpointing:?}-{}-{}.sqlite",
        std::process::id(),
        ulid::Ulid::new()
    ));
    let engine = Engine::start(
        EngineConfig::default()
            .with_bind("127.0.0.1:0".parse().map_err(|e| format!("{e}"))?)
            .with_database(&database)
            .with_retry_interval(Duration::from_millis(200))
            .with_poll_interval(None)
            .with_call_timeout(Duration::from_secs(30)),
    )
    .await
    .map_err(|e| format!("the engine did not start: {e}"))?;

    let app = App::start(sdk, &engine.url(), checkpointing, stderr).await?;
    let sync = tokio::time::timeout(Duration::from_secs(20), engine.sync_app(&app.serve_url))
        .await
        .map_err(|_| "syncing the app took longer than 20 s".to_owned())?
        .map_err(|e| format!("syncing {} failed: {e}", app.serve_url))?;
    if !sync.modified {
        return Err(format!(
            "the first sync of the app changed nothing: {sync:?}"
        ));
    }

    let h = Harness {
        api: Api::new(ServerKind::Nestling, &engine.url())?,
        app,
        sdk,
    };

    let scenarios: Vec<(&str, futures::future::BoxFuture<'_, Outcome>)> = vec![
        ("multi-step", Box::pin(multi_step(&h))),
        ("sleep", Box::pin(sleep(&h))),
        ("wait-for-event received", Box::pin(wait_received(&h))),
        ("wait-for-event timeout", Box::pin(wait_timeout(&h))),
        ("send-event", Box::pin(send_event(&h))),
        ("invoke", Box::pin(invoke(&h))),
        ("invoke-error", Box::pin(invoke_error(&h))),
        ("parallel", Box::pin(parallel(&h))),
        ("retry-then-succeed", Box::pin(retry_then_succeed(&h))),
        ("step-error-caught", Box::pin(step_error_caught(&h))),
        ("step-error", Box::pin(step_error(&h))),
        ("non-retriable", Box::pin(non_retriable(&h))),
        ("retry-after", Box::pin(retry_after(&h))),
        ("fn-throws", Box::pin(fn_throws(&h))),
        ("on-failure", Box::pin(on_failure(&h))),
        ("cancel-on", Box::pin(cancel_on(&h))),
        ("batch", Box::pin(batch(&h))),
        ("cron (invoked)", Box::pin(cron_invoked(&h))),
    ];
    let (names, futures): (Vec<_>, Vec<_>) = scenarios.into_iter().unzip();
    let bounded = futures.into_iter().map(|f| async move {
        tokio::time::timeout(SCENARIO_TIMEOUT, f)
            .await
            .unwrap_or_else(|_| Err(format!("did not finish within {SCENARIO_TIMEOUT:?}")))
    });
    let outcomes = join_all(bounded).await;

    let failures = names
        .iter()
        .zip(outcomes)
        .filter_map(|(name, outcome)| outcome.err().map(|e| format!("{name}: {e}")))
        .collect();

    drop(h);
    engine.shutdown().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = database.clone().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }

    Ok(failures)
}

/// The Node process serving `js/sdk-app`; killed when dropped.
struct App {
    _child: Child,
    serve_url: String,
    origin: String,
}

impl App {
    async fn start(
        sdk: &str,
        engine_url: &str,
        checkpointing: Checkpointing,
        stderr: Arc<Mutex<String>>,
    ) -> Result<Self, String> {
        let mut command = Command::new("node");
        command
            .arg("app.mjs")
            .args(["--sdk", sdk])
            .current_dir(sdk_app_dir())
            .env("PORT", "0")
            .env("INNGEST_BASE_URL", engine_url)
            .env("INNGEST_DEV", "1")
            .env("LOG_LEVEL", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if checkpointing == Checkpointing::Off {
            command.env("CHECKPOINTING", "off");
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("starting node failed: {e}"))?;

        let stdout = child.stdout.take().ok_or("node's stdout is not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .map_err(|_| "the app did not print its port within 20 s".to_owned())?
            .map_err(|e| format!("reading the app's stdout failed: {e}"))?
            .ok_or("the app exited before printing its port")?;
        // Keep reading both pipes so that the app never writes into a closed or full one.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if let Some(err) = child.stderr.take() {
            let mut err_lines = BufReader::new(err).lines();
            tokio::spawn(async move {
                while let Ok(Some(line)) = err_lines.next_line().await {
                    if let Ok(mut kept) = stderr.lock() {
                        kept.push_str(&line);
                        kept.push('\n');
                    }
                }
            });
        }

        let listening: Value = serde_json::from_str(&first)
            .map_err(|e| format!("the app's first line {first:?} is not JSON: {e}"))?;
        let serve_url = listening["serveUrl"]
            .as_str()
            .ok_or_else(|| format!("the app's first line has no serveUrl: {first}"))?
            .to_owned();
        let origin = serve_url.trim_end_matches("/api/inngest").to_owned();

        Ok(Self {
            _child: child,
            serve_url,
            origin,
        })
    }
}

/// What the scenarios share: the engine's API and the app.
struct Harness {
    api: Api,
    app: App,
    sdk: &'static str,
}

impl Harness {
    /// The run once it has ended. `Api::finished` also waits for the final status to hold for
    /// a while, because the dev server may flash `Failed` between retries; the engine writes a
    /// final status once, in the transaction that ends the run, so the first one seen here is
    /// the last and the scenarios need not pay that wait.
    async fn finished(&self, run_id: &str) -> Result<Value, String> {
        loop {
            let run = self.api.run(run_id).await?;
            if run["status"] != "Running" {
                return Ok(run);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends an event and waits for the run it started to end.
    async fn outcome(&self, name: &str, data: Value) -> Result<Value, String> {
        let event = self.api.send_one(name, data).await?;
        let run = self.api.run_of(&event).await?;
        self.finished(&run).await
    }

    async fn observed(&self) -> Result<Value, String> {
        self.api
            .get_absolute(&format!("{}/observed", self.app.origin))
            .await
    }

    /// When the app executed one step body of one run (ms timestamps).
    async fn executions(&self, slug: &str, run_id: &str, step: &str) -> Result<Vec<u64>, String> {
        let observed = self.observed().await?;
        Ok(observed["executions"][format!("{slug}/{run_id}/{step}")]
            .as_array()
            .map(|times| times.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default())
    }

    async fn expect_executions(&self, slug: &str, run: &Value, step: &str, want: usize) -> Outcome {
        let run_id = run["run_id"].as_str().unwrap_or_default();
        let got = self.executions(slug, run_id, step).await?.len();
        check(got == want, || {
            format!("step `{step}` of run {run_id} executed {got} time(s), expected {want}")
        })
    }
}

fn check(ok: bool, message: impl FnOnce() -> String) -> Outcome {
    if ok { Ok(()) } else { Err(message()) }
}

fn expect_status(run: &Value, status: &str) -> Outcome {
    check(run["status"] == status, || {
        format!("expected status {status}, the run is {run}")
    })
}

fn expect_output(run: &Value, output: &Value) -> Outcome {
    expect_status(run, "Completed")?;
    check(&run["output"] == output, || {
        format!("expected output {output}, the run is {run}")
    })
}

fn expect_failure(run: &Value, message: &str) -> Outcome {
    expect_status(run, "Failed")?;
    check(run["output"].to_string().contains(message), || {
        format!("expected the failure to say {message:?}, the run is {run}")
    })
}

async fn multi_step(h: &Harness) -> Outcome {
    let run = h.outcome("js/multi.step", json!({ "n": 2 })).await?;
    expect_output(
        &run,
        &json!({ "first": { "n": 2 }, "second": 3, "loop": [0, 10, 20] }),
    )?;
    for step in ["first", "second", "loop:0", "loop:1", "loop:2"] {
        h.expect_executions("multi-step", &run, step, 1).await?;
    }
    Ok(())
}

async fn sleep(h: &Harness) -> Outcome {
    let until = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    let until_text = until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let run = h
        .outcome("js/sleep", json!({ "nap": "1s", "until": until_text }))
        .await?;
    expect_output(
        &run,
        &json!({ "before": "before", "after": "after", "until": until_text }),
    )?;

    let run_id = run["run_id"].as_str().unwrap_or_default();
    let after = h.executions("sleep", run_id, "after").await?;
    let woke = after.first().copied().unwrap_or(0);
    let deadline = u64::try_from(until.timestamp_millis()).unwrap_or(u64::MAX);
    check(woke + 50 >= deadline, || {
        format!("the step after sleepUntil ran at {woke} ms, before the deadline {deadline} ms")
    })
}

async fn wait_received(h: &Harness) -> Outcome {
    let request_id = format!("req-{}-received", h.sdk);
    let event = h
        .api
        .send_one(
            "js/wait.start",
            json!({ "requestId": request_id, "timeout": "30s" }),
        )
        .await?;
    let run_id = h.api.run_of(&event).await?;

    // The approval only counts once the run waits for it, and nothing outside the engine says
    // when that is, so it is sent again until the run ends; a late copy matches nothing.
    let deadline = Instant::now() + Duration::from_secs(20);
    let run = loop {
        let run = h.api.run(&run_id).await?;
        if run["status"] != "Running" {
            break run;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the run still waits 20 s after the first approval: {run}"
            ));
        }
        h.api
            .send_one(
                "js/wait.approved",
                json!({ "requestId": request_id, "by": "alice" }),
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    expect_output(&run, &json!({ "approved": true, "by": "alice" }))
}

async fn wait_timeout(h: &Harness) -> Outcome {
    let started = Instant::now();
    let request_id = format!("req-{}-timeout", h.sdk);
    let run = h
        .outcome(
            "js/wait.start",
            json!({ "requestId": request_id, "timeout": "2s" }),
        )
        .await?;
    expect_output(&run, &json!({ "approved": false, "by": null }))?;
    check(started.elapsed() >= Duration::from_secs(2), || {
        format!(
            "the wait timed out after {:?}, before its 2 s timeout",
            started.elapsed()
        )
    })
}

async fn send_event(h: &Harness) -> Outcome {
    let order = format!("order-{}", h.sdk);
    let run = h.outcome("js/send", json!({ "orderId": order })).await?;
    expect_status(&run, "Completed")?;
    let ids = run["output"]["ids"].as_array().cloned().unwrap_or_default();
    let [sent] = ids.as_slice() else {
        return Err(format!(
            "expected the ids of one sent event, the run is {run}"
        ));
    };

    let sent = sent
        .as_str()
        .ok_or_else(|| format!("the sent event id is not a string: {sent}"))?;
    let receiver = h.api.run_of(sent).await?;
    let receiver = h.finished(&receiver).await?;
    expect_output(&receiver, &json!({ "orderId": order }))?;
    check(
        receiver["function_slug"]
            .as_str()
            .is_some_and(|s| s.ends_with("sent-receiver")),
        || format!("the sent event started {receiver}, not sent-receiver"),
    )
}

async fn invoke(h: &Harness) -> Outcome {
    let run = h.outcome("js/invoke", json!({ "x": 21 })).await?;
    expect_output(&run, &json!({ "child": { "doubled": 42 } }))
}

async fn invoke_error(h: &Harness) -> Outcome {
    let run = h.outcome("js/invoke.error", json!({})).await?;
    expect_status(&run, "Completed")?;
    check(run["output"]["caught"] == true, || {
        format!("the invoke error was not caught: {run}")
    })?;
    check(
        run["output"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("child refused")),
        || format!("the caught invoke error does not carry the child's message: {run}"),
    )
}

async fn parallel(h: &Harness) -> Outcome {
    let run = h.outcome("js/parallel", json!({})).await?;
    expect_output(&run, &json!({ "joined": "ABC" }))?;
    for step in ["par-a", "par-b", "par-c", "join"] {
        h.expect_executions("parallel", &run, step, 1).await?;
    }
    Ok(())
}

async fn retry_then_succeed(h: &Harness) -> Outcome {
    let run = h.outcome("js/flaky", json!({})).await?;
    expect_output(&run, &json!({ "result": { "succeededOnAttempt": 1 } }))?;
    h.expect_executions("retry-then-succeed", &run, "flaky", 2)
        .await
}

async fn step_error_caught(h: &Harness) -> Outcome {
    let run = h.outcome("js/step.error.caught", json!({})).await?;
    expect_output(&run, &json!({ "caught": true, "message": "bad input" }))?;
    h.expect_executions("step-error-caught", &run, "bad-input", 1)
        .await
}

async fn step_error(h: &Harness) -> Outcome {
    let run = h.outcome("js/step.error", json!({})).await?;
    expect_failure(&run, "kaboom")?;
    h.expect_executions("step-error", &run, "always-fails", 2)
        .await
}

async fn non_retriable(h: &Harness) -> Outcome {
    let run = h.outcome("js/non.retriable", json!({})).await?;
    expect_failure(&run, "no retry wanted")?;
    h.expect_executions("non-retriable", &run, "fatal", 1).await
}

async fn retry_after(h: &Harness) -> Outcome {
    let run = h.outcome("js/retry.after", json!({})).await?;
    expect_output(&run, &json!({ "result": { "attempt": 1 } }))?;

    let run_id = run["run_id"].as_str().unwrap_or_default();
    let times = h.executions("retry-after", run_id, "rate-limited").await?;
    let [first, second] = times.as_slice() else {
        return Err(format!(
            "the step executed {} time(s), expected 2",
            times.len()
        ));
    };
    let gap = second.saturating_sub(*first);
    check(gap >= 900, || {
        format!("the retry came {gap} ms after a RetryAfterError of 1 s")
    })
}

async fn fn_throws(h: &Harness) -> Outcome {
    let run = h.outcome("js/fn.throws", json!({})).await?;
    expect_failure(&run, "function failed on purpose")?;
    h.expect_executions("fn-throws", &run, "body", 2).await
}

async fn on_failure(h: &Harness) -> Outcome {
    let run = h.outcome("js/with.failure", json!({})).await?;
    expect_failure(&run, "primary failed")?;
    let run_id = run["run_id"].as_str().unwrap_or_default().to_owned();

    let deadline = Instant::now() + Duration::from_secs(15);
    let failure_run = loop {
        if let Some(id) = h.observed().await?["failureRuns"][&run_id].as_str() {
            break id.to_owned();
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no on-failure handler ran for run {run_id} within 15 s"
            ));
        }
        tokio::time::sleep(POLL).await;
    };

    let handled = h.finished(&failure_run).await?;
    expect_output(
        &handled,
        &json!({ "cleaned": { "original": "js/with.failure", "message": "primary failed" } }),
    )
}

async fn cancel_on(h: &Harness) -> Outcome {
    let order = format!("cancel-{}", h.sdk);
    let event = h
        .api
        .send_one("js/cancel.start", json!({ "orderId": order }))
        .await?;
    let run_id = h.api.run_of(&event).await?;

    let deadline = Instant::now() + Duration::from_secs(15);
    while h
        .executions("cancel-on", &run_id, "started")
        .await?
        .is_empty()
    {
        if Instant::now() > deadline {
            return Err("the cancellable run did not start its first step within 15 s".to_owned());
        }
        tokio::time::sleep(POLL).await;
    }

    // As with the approval above: sent again until the run ends.
    let deadline = Instant::now() + Duration::from_secs(15);
    let run = loop {
        let run = h.api.run(&run_id).await?;
        if run["status"] != "Running" {
            break run;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the run is still running 15 s after the cancel event: {run}"
            ));
        }
        h.api
            .send_one("js/cancel.stop", json!({ "orderId": order }))
            .await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    expect_status(&run, "Cancelled")?;
    h.expect_executions("cancel-on", &run, "never", 0).await
}

async fn batch(h: &Harness) -> Outcome {
    let items: Vec<Value> = (1..=3)
        .map(|n| json!({ "name": "js/batch.item", "data": { "n": n } }))
        .collect();
    let ids = h.api.send(Value::Array(items)).await?;

    let mut runs = Vec::new();
    for id in &ids {
        runs.push(h.api.run_of(id).await?);
    }
    check(runs.iter().all(|r| *r == runs[0]), || {
        format!("the 3 events went to different runs: {runs:?}")
    })?;

    let run = h.finished(&runs[0]).await?;
    expect_output(&run, &json!({ "count": 3, "total": 6 }))
}

/// A cron function run by hand (the engine's `/invoke/{slug}`, the dev server's "Invoke" button),
/// so the test need not wait for the next minute.
async fn cron_invoked(h: &Harness) -> Outcome {
    let answer = h
        .api
        .post(&format!("/invoke/{APP_ID}-cron"), &json!({ "data": {} }))
        .await?;
    let event = answer["id"]
        .as_str()
        .ok_or_else(|| format!("the invoke API answered {answer}"))?;
    let run = h.api.run_of(event).await?;
    let run = h.finished(&run).await?;
    expect_status(&run, "Completed")?;
    check(run["output"]["tick"] == "tock", || {
        format!("expected tick \"tock\", the run is {run}")
    })
}
