//! The engine end to end: a real engine (loopback HTTP, a SQLite file) drives a hand-written
//! protocol app (see `common/`) through the step loop, retries, sleeps, waits, invokes,
//! cancellation, lifecycle events and flow control, and refuses bad input with reasons.

mod common;

use std::time::Duration;

use common::{AppFn, Flow, TestApp, eventually, get_json, temp_db};
use nestling_engine::{Engine, EngineConfig, EngineHandle, RunStatus, RunSummary};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

async fn engine(name: &str) -> EngineHandle {
    engine_with(name, |c| c).await
}

async fn engine_with(name: &str, f: impl FnOnce(EngineConfig) -> EngineConfig) -> EngineHandle {
    let config = EngineConfig::default()
        .with_bind("127.0.0.1:0".parse().unwrap())
        .with_database(temp_db(name))
        .with_time_scale(0.001)
        .with_retry_interval(Duration::from_millis(10))
        .with_poll_interval(None);
    Engine::start(f(config)).await.unwrap()
}

async fn app(engine: &EngineHandle, fns: Vec<AppFn>) -> TestApp {
    let app = TestApp::start("app", &engine.url(), fns).await;
    let report = engine.sync_app(&app.url).await.unwrap();
    assert!(report.modified, "{report:?}");
    app
}

async fn send(engine: &EngineHandle, event: Value) -> String {
    engine.send_events(event).await.unwrap().remove(0)
}

async fn one_run(engine: &EngineHandle, event_id: &str) -> RunSummary {
    let run = eventually("a run for the event", WAIT, || {
        engine.runs_for_event(event_id).unwrap().pop()
    })
    .await;
    engine.wait_for_run(&run.id, WAIT).await.unwrap()
}

fn three_steps() -> AppFn {
    AppFn::new("three", "test/three", |ctx| {
        let n = ctx.event["data"]["n"].as_i64().unwrap_or(0);
        let a = ctx.run("a", |_| Ok(json!(n + 1)))?;
        let b = ctx.run("b", |_| Ok(json!(a.as_i64().unwrap() * 10)))?;
        let c = ctx.run("c", |_| Ok(json!("done")))?;
        Ok(json!({"a": a, "b": b, "c": c}))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_step_function_runs_each_step_once_and_completes() {
    let engine = engine("three").await;
    let app = app(&engine, vec![three_steps()]).await;

    let id = send(&engine, json!({"name": "test/three", "data": {"n": 4}})).await;
    let run = one_run(&engine, &id).await;

    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_eq!(run.output, Some(json!({"a": 5, "b": 50, "c": "done"})));
    assert_eq!(run.function, "app-three");
    for step in ["a", "b", "c"] {
        assert_eq!(app.executions(step), 1, "step {step}");
    }

    // The last call carried every step memoised, in order, with a JCS body.
    let calls = app.calls();
    let last = calls.last().unwrap();
    assert_eq!(last["ctx"]["stack"]["stack"].as_array().unwrap().len(), 3);
    assert_eq!(last["ctx"]["stack"]["current"], 3);
    assert_eq!(last["event"]["data"]["n"], 4);
    assert_eq!(last["ctx"]["fn_id"].as_str().unwrap().len(), 36);
    assert_eq!(
        last["version"], 2,
        "the SDK's X-Inngest-Req-Version is kept"
    );

    // The REST API shows the same, in the dev server's shapes.
    let runs: Value = get_json(format!("{}/v1/events/{id}/runs", engine.url())).await;
    assert_eq!(runs["data"][0]["run_id"], json!(run.id));
    assert_eq!(runs["data"][0]["status"], "Completed");
    let one: Value = get_json(format!("{}/v1/runs/{}", engine.url(), run.id)).await;
    assert_eq!(one["data"]["output"]["b"], 50);
    assert!(one["data"]["ended_at"].is_string());

    // Finishing emitted inngest/function.finished.
    let events: Value = get_json(format!(
        "{}/v1/events?name=inngest/function.finished",
        engine.url()
    ))
    .await;
    assert_eq!(events["data"][0]["data"]["run_id"], json!(run.id));
    assert_eq!(events["data"][0]["data"]["result"]["c"], "done");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_is_retried_then_fails_the_run_with_its_reason() {
    let engine = engine("retry").await;
    let flaky = AppFn::new("flaky", "test/flaky", |ctx| {
        let v = ctx.run("sometimes", |attempt| {
            if attempt < 2 {
                Err(format!("boom {attempt}"))
            } else {
                Ok(json!("ok"))
            }
        })?;
        Ok(v)
    })
    .with("retries", json!(3));
    let broken = AppFn::new("broken", "test/broken", |ctx| {
        ctx.run("never", |attempt| {
            Err::<Value, _>(format!("always fails (attempt {attempt})"))
        })?;
        Ok(json!("unreachable"))
    })
    .with("retries", json!(2));
    let app = app(&engine, vec![flaky, broken]).await;

    let ok = one_run(&engine, &send(&engine, json!({"name": "test/flaky"})).await).await;
    assert_eq!(ok.status, RunStatus::Completed);
    assert_eq!(ok.output, Some(json!("ok")));
    assert_eq!(app.executions("sometimes"), 3);

    let bad = one_run(
        &engine,
        &send(&engine, json!({"name": "test/broken"})).await,
    )
    .await;
    assert_eq!(bad.status, RunStatus::Failed);
    assert_eq!(app.executions("never"), 3, "retries 2 = 3 attempts");
    let msg = bad.error.unwrap()["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("always fails (attempt 2)"), "{msg}");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_errors_respect_no_retry_and_broken_apps_fail_with_a_reason() {
    let engine = engine_with("broken", |c| {
        c.with_call_timeout(Duration::from_millis(500))
    })
    .await;
    let fns = vec![
        AppFn::new("non-retriable", "test/nr", |ctx| {
            Err(ctx.fail("bad input", true))
        })
        .with("retries", json!(5)),
        AppFn::new("retriable", "test/r", |ctx| {
            if ctx.attempt < 1 {
                Err(ctx.fail("transient", false))
            } else {
                Ok(json!("second try"))
            }
        }),
        AppFn::new("html", "test/html", |_| {
            Err(Flow::Raw {
                status: 500,
                body: "<html>proxy error</html>".into(),
                sdk_header: false,
            })
        })
        .with("retries", json!(1)),
        AppFn::new("nosdk", "test/nosdk", |_| {
            Err(Flow::Raw {
                status: 200,
                body: "{}".into(),
                sdk_header: false,
            })
        })
        .with("retries", json!(0)),
        AppFn::new("badjson", "test/badjson", |_| {
            Err(Flow::Raw {
                status: 206,
                body: "[{not json".into(),
                sdk_header: true,
            })
        })
        .with("retries", json!(1)),
        AppFn::new("slow", "test/slow", |_| {
            Err(Flow::Hang(Duration::from_secs(3)))
        })
        .with("retries", json!(0)),
    ];
    let app = app(&engine, fns).await;

    let nr = one_run(&engine, &send(&engine, json!({"name": "test/nr"})).await).await;
    assert_eq!(nr.status, RunStatus::Failed);
    assert_eq!(nr.error.as_ref().unwrap()["message"], "bad input");
    let r = one_run(&engine, &send(&engine, json!({"name": "test/r"})).await).await;
    assert_eq!(r.output, Some(json!("second try")));

    for (name, needle) in [
        ("html", "without an X-Inngest-SDK header"),
        ("nosdk", "X-Inngest-SDK"),
        ("badjson", "invalid JSON"),
        ("slow", "timed out"),
    ] {
        let run = one_run(
            &engine,
            &send(&engine, json!({"name": format!("test/{name}")})).await,
        )
        .await;
        assert_eq!(run.status, RunStatus::Failed, "{name}");
        let msg = run.error.unwrap()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(needle), "{name}: {msg}");
    }
    let calls_html = app
        .calls()
        .iter()
        .filter(|c| c["event"]["name"] == "test/html")
        .count();
    assert_eq!(calls_html, 2, "retries 1 = 2 attempts");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleeps_waits_and_timeouts_resume_the_run() {
    let engine = engine("waits").await;
    let fns = vec![
        AppFn::new("sleeper", "test/sleep", |ctx| {
            ctx.sleep("nap", "1h")?;
            let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
            ctx.sleep("until", &until)?;
            Ok(json!("rested"))
        }),
        AppFn::new("waiter", "test/wait", |ctx| {
            let got = ctx.wait_for_event(
                "approval",
                "test/approved",
                "1h",
                Some("event.data.id == async.data.id"),
            )?;
            Ok(json!({"approved_by": got.map(|e| e["data"]["by"].clone())}))
        }),
        AppFn::new("impatient", "test/impatient", |ctx| {
            let got = ctx.wait_for_event("never", "test/never", "2s", None)?;
            Ok(json!({"timed_out": got.is_none()}))
        }),
    ];
    let _app = app(&engine, fns).await;

    let started = std::time::Instant::now();
    let slept = one_run(&engine, &send(&engine, json!({"name": "test/sleep"})).await).await;
    assert_eq!(slept.output, Some(json!("rested")));
    assert!(
        started.elapsed() >= Duration::from_millis(3600),
        "1 h at scale 0.001 is 3.6 s"
    );

    let wait_id = send(&engine, json!({"name": "test/wait", "data": {"id": "u1"}})).await;
    let run = eventually("the waiting run", WAIT, || {
        engine.runs_for_event(&wait_id).unwrap().pop()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(
        &engine,
        json!({"name": "test/approved", "data": {"id": "u2", "by": "mallory"}}),
    )
    .await;
    send(
        &engine,
        json!({"name": "test/approved", "data": {"id": "u1", "by": "alice"}}),
    )
    .await;
    let done = engine.wait_for_run(&run.id, WAIT).await.unwrap();
    assert_eq!(done.output, Some(json!({"approved_by": "alice"})));

    let t = one_run(
        &engine,
        &send(&engine, json!({"name": "test/impatient"})).await,
    )
    .await;
    assert_eq!(t.output, Some(json!({"timed_out": true})));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_returns_the_child_output_and_failures_trigger_on_failure() {
    let engine = engine("invoke").await;
    let fns = vec![
        AppFn::new("parent", "test/parent", |ctx| {
            let child = ctx.invoke("call-child", "app-child", json!({"x": 21}))?;
            let missing = ctx.invoke("call-missing", "app-nope", json!({}));
            Ok(json!({"child": child, "missing_failed": missing.is_err()}))
        }),
        AppFn::new("child", "test/child", |ctx| {
            let x = ctx.event["data"]["x"].as_i64().unwrap_or(0);
            ctx.run("double", |_| Ok(json!(x * 2)))
        }),
        AppFn::new("doomed", "test/doomed", |ctx| Err(ctx.fail("doomed to fail", true))),
        AppFn::new("on-failure", "inngest/function.failed", |ctx| {
            Ok(json!({"failed": ctx.event["data"]["function_id"], "why": ctx.event["data"]["error"]["message"]}))
        })
        .with("triggers", json!([{"event": "inngest/function.failed", "expression": "event.data.function_id == 'app-doomed'"}])),
    ];
    let _app = app(&engine, fns).await;

    let parent = one_run(
        &engine,
        &send(&engine, json!({"name": "test/parent"})).await,
    )
    .await;
    // Invoking a function that does not exist fails that step; the function sees the error.
    assert_eq!(
        parent.output,
        Some(json!({"child": 42, "missing_failed": true})),
        "{parent:?}"
    );

    let doomed_event = send(&engine, json!({"name": "test/doomed"})).await;
    let doomed = one_run(&engine, &doomed_event).await;
    assert_eq!(doomed.status, RunStatus::Failed);
    let handler = eventually("the on-failure run", WAIT, || {
        engine
            .runs_for_event(&failed_event_id(&engine, &doomed.id)?)
            .ok()?
            .into_iter()
            .find(|r| r.function == "app-on-failure")
    })
    .await;
    let handler = engine.wait_for_run(&handler.id, WAIT).await.unwrap();
    assert_eq!(
        handler.output,
        Some(json!({"failed": "app-doomed", "why": "doomed to fail"}))
    );
    engine.shutdown().await;
}

fn failed_event_id(engine: &EngineHandle, run_id: &str) -> Option<String> {
    let url = format!(
        "{}/v1/events?name=inngest/function.failed&limit=50",
        engine.url()
    );
    let body: Value = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { reqwest::get(url).await.ok()?.json().await.ok() })
    })
    .join()
    .ok()??;
    body["data"]
        .as_array()?
        .iter()
        .find(|e| e["data"]["run_id"] == run_id)
        .and_then(|e| e["internal_id"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_steps_are_planned_run_separately_and_coalesced() {
    let engine = engine("parallel").await;
    let fns = vec![AppFn::new("fan", "test/fan", |ctx| {
        let vals = ctx.parallel(&["left", "right", "middle"], |id| json!(id.len()))?;
        let after = ctx.run("after", |_| Ok(json!("joined")))?;
        Ok(json!({"vals": vals, "after": after}))
    })];
    let app = app(&engine, fns).await;
    let run = one_run(&engine, &send(&engine, json!({"name": "test/fan"})).await).await;
    assert_eq!(
        run.output,
        Some(json!({"vals": [4, 5, 6], "after": "joined"})),
        "{run:?}"
    );
    for s in ["left", "right", "middle", "after"] {
        assert_eq!(app.executions(s), 1, "{s}");
    }
    // One discovery after the three targeted calls (v2 coalescing), with immediate execution
    // off; then the step after the group runs as its own planned call.
    let calls = app.calls();
    let discoveries: Vec<&Value> = calls
        .iter()
        .filter(|c| c["ctx"]["step_id"] == "step")
        .collect();
    let targeted = calls
        .iter()
        .filter(|c| c["ctx"]["step_id"] != "step")
        .count();
    assert_eq!(targeted, 4, "three parallel steps and the one after");
    assert_eq!(
        discoveries.len(),
        3,
        "start, after the group, after the last step"
    );
    assert_eq!(discoveries[1]["ctx"]["disable_immediate_execution"], true);
    assert_eq!(discoveries[1]["ctx"]["stack"]["current"], 3);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_on_events_and_the_cancel_api_stop_runs() {
    let engine = engine("cancel").await;
    let fns = vec![
        AppFn::new("long", "test/long", |ctx| {
            ctx.sleep("wait", "10h")?;
            Ok(json!("woke"))
        })
        .with(
            "cancel",
            json!([{"event": "test/stop", "if": "event.data.id == async.data.id"}]),
        ),
    ];
    let _app = app(&engine, fns).await;

    let a = send(&engine, json!({"name": "test/long", "data": {"id": 1}})).await;
    let b = send(&engine, json!({"name": "test/long", "data": {"id": 2}})).await;
    let run_a = eventually("run a", WAIT, || engine.runs_for_event(&a).unwrap().pop()).await;
    let run_b = eventually("run b", WAIT, || engine.runs_for_event(&b).unwrap().pop()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    send(&engine, json!({"name": "test/stop", "data": {"id": 1}})).await;
    let a_done = engine.wait_for_run(&run_a.id, WAIT).await.unwrap();
    assert_eq!(a_done.status, RunStatus::Cancelled);
    assert_eq!(
        engine.run(&run_b.id).unwrap().unwrap().status,
        RunStatus::Running
    );

    // The REST API shows a cancelled run's output as the dev server does (`{}`); the reason
    // stays with the handle and in the run's history.
    let rest: Value = get_json(format!("{}/v1/runs/{}", engine.url(), run_a.id)).await;
    assert_eq!(rest["data"]["status"], "Cancelled", "{rest}");
    assert_eq!(rest["data"]["output"], json!({}), "{rest}");
    let reason = a_done.error.expect("a cancelled run keeps its reason");
    assert!(
        reason["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cancelled by event test/stop")),
        "{reason}"
    );
    let detail: Value = get_json(format!("{}/ui/api/runs/{}", engine.url(), run_a.id)).await;
    let ended = detail["history"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["kind"] == "FunctionCancelled"))
        .unwrap_or_else(|| panic!("no FunctionCancelled row in {detail}"));
    assert_eq!(ended["data"], reason);

    let resp = reqwest::Client::new()
        .delete(format!("{}/v1/runs/{}", engine.url(), run_b.id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        engine.run(&run_b.id).unwrap().unwrap().status,
        RunStatus::Cancelled
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_control_gates_run_creation() {
    let engine = engine("flow").await;
    let fns = vec![
        AppFn::new("idem", "test/idem", |_| Ok(json!("once")))
            .with("idempotency", json!("event.data.order")),
        AppFn::new("limited", "test/limited", |_| Ok(json!("ok")))
            .with("rateLimit", json!({"limit": 2, "period": "1h"})),
        AppFn::new("debounced", "test/deb", |ctx| {
            Ok(ctx.event["data"]["n"].clone())
        })
        .with("debounce", json!({"period": "1h"})),
        AppFn::new("batched", "test/batch", |ctx| Ok(json!(ctx.events.len())))
            .with("batchEvents", json!({"maxSize": 3, "timeout": "60s"})),
        AppFn::new("single", "test/single", |ctx| {
            ctx.sleep("hold", "1h")?;
            Ok(json!("single"))
        })
        .with(
            "singleton",
            json!({"key": "event.data.user", "mode": "skip"}),
        ),
        AppFn::new("conc", "test/conc", |ctx| {
            ctx.run("work", |_| {
                std::thread::sleep(Duration::from_millis(80));
                Ok(json!(1))
            })
        })
        .with("concurrency", json!([{"limit": 1}])),
        AppFn::new("matcher", "test/match.*", |ctx| {
            Ok(ctx.event["name"].clone())
        })
        .with(
            "triggers",
            json!([{"event": "test/match.*", "expression": "event.data.go == true"}]),
        ),
    ];
    let app = app(&engine, fns).await;

    let i1 = send(
        &engine,
        json!({"name": "test/idem", "data": {"order": "o1"}}),
    )
    .await;
    let i2 = send(
        &engine,
        json!({"name": "test/idem", "data": {"order": "o1"}}),
    )
    .await;
    one_run(&engine, &i1).await;
    assert!(
        engine.runs_for_event(&i2).unwrap().is_empty(),
        "same idempotency key"
    );

    let mut limited = 0;
    for _ in 0..4 {
        let id = send(&engine, json!({"name": "test/limited"})).await;
        limited += engine.runs_for_event(&id).unwrap().len();
    }
    assert_eq!(limited, 2, "rate limit 2 per hour");

    let ids: Vec<String> = futures_ids(&engine, "test/deb", 3).await;
    let deb = one_run(&engine, ids.last().unwrap()).await;
    assert_eq!(deb.output, Some(json!(2)), "the latest event wins");
    assert!(engine.runs_for_event(&ids[0]).unwrap().is_empty());

    let b = futures_ids(&engine, "test/batch", 3).await;
    let batch = one_run(&engine, &b[0]).await;
    assert_eq!(batch.output, Some(json!(3)));
    assert_eq!(batch.event_ids, b);

    let s1 = send(
        &engine,
        json!({"name": "test/single", "data": {"user": "u"}}),
    )
    .await;
    let s2 = send(
        &engine,
        json!({"name": "test/single", "data": {"user": "u"}}),
    )
    .await;
    assert_eq!(engine.runs_for_event(&s1).unwrap().len(), 1);
    assert!(
        engine.runs_for_event(&s2).unwrap().is_empty(),
        "singleton skip"
    );

    let conc = futures_ids(&engine, "test/conc", 3).await;
    for id in &conc {
        assert_eq!(one_run(&engine, id).await.status, RunStatus::Completed);
    }
    assert_eq!(app.max_inflight("conc"), 1, "concurrency limit 1");

    let yes = send(
        &engine,
        json!({"name": "test/match.one", "data": {"go": true}}),
    )
    .await;
    let no = send(
        &engine,
        json!({"name": "test/match.two", "data": {"go": false}}),
    )
    .await;
    assert_eq!(
        one_run(&engine, &yes).await.output,
        Some(json!("test/match.one"))
    );
    assert!(
        engine.runs_for_event(&no).unwrap().is_empty(),
        "the `if` expression is false"
    );
    engine.shutdown().await;
}

async fn futures_ids(engine: &EngineHandle, name: &str, n: usize) -> Vec<String> {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"name": name, "data": {"n": i}}))
        .collect();
    engine.send_events(Value::Array(events)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_signed_when_a_signing_key_is_set() {
    let key = "signkey-test-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let engine = engine_with("signed", |c| c.with_signing_key(key)).await;
    let app =
        TestApp::start_with("app", &engine.url(), vec![three_steps()], Some(key.into())).await;
    // The test app registers without a bearer token: refused.
    let err = engine.sync_app(&app.url).await.unwrap_err().to_string();
    assert!(err.contains("401"), "{err}");

    // With the hashed key as bearer, registration works and every call verifies.
    let body = common::config_of(&app.state, &app.url);
    let hashed = nestling_inngest_protocol::hashed_signing_key(key).unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/fn/register", engine.url()))
        .bearer_auth(hashed)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let run = one_run(
        &engine,
        &send(&engine, json!({"name": "test/three", "data": {"n": 1}})).await,
    )
    .await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_held_until_sync_skip_the_app_url_an_earlier_process_stored() {
    let db = temp_db("held");
    let config = |hold: bool| {
        EngineConfig::default()
            .with_bind("127.0.0.1:0".parse().unwrap())
            .with_database(&db)
            .with_time_scale(0.001)
            .with_retry_interval(Duration::from_millis(10))
            .with_poll_interval(None)
            .with_calls_held_until_sync(hold)
    };

    // An earlier process: the app synced, then it and the engine went away.
    let earlier = Engine::start(config(false)).await.unwrap();
    let gone = app(&earlier, vec![three_steps()]).await;
    earlier.shutdown().await;
    gone.stop();

    // The restarted process: an event arrives before the app has synced again.
    let engine = Engine::start(config(true)).await.unwrap();
    let id = send(&engine, json!({"name": "test/three", "data": {"n": 1}})).await;
    let run = eventually("a run for the event", WAIT, || {
        engine.runs_for_event(&id).unwrap().pop()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = engine.wait_for_run(&run.id, Duration::ZERO).await;
    assert!(
        waiting.is_err()
            || waiting
                .as_ref()
                .is_ok_and(|r| r.status == RunStatus::Running),
        "the run must wait for the sync, not call the stored URL: {waiting:?}"
    );

    let app = app(&engine, vec![three_steps()]).await;
    let run = engine.wait_for_run(&run.id, WAIT).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    let attempts: Vec<u64> = app
        .calls()
        .iter()
        .map(|call| call["ctx"]["attempt"].as_u64().unwrap_or(u64::MAX))
        .collect();
    assert!(
        attempts.iter().all(|a| *a == 0),
        "no call went to the stored URL first: attempts {attempts:?}"
    );
    engine.shutdown().await;
}
