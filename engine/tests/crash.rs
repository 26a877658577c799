//! A run survives `kill -9` of the `nestling-dev` process: restarted on the same database it
//! resumes from its last stored step. The app is the hand-written protocol app of `common/`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{AppFn, TestApp, eventually, temp_db};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn spawn_engine(db: &std::path::Path, port: u16, app_url: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nestling-dev"))
        .args([
            "--port",
            &port.to_string(),
            "--db",
            db.to_str().unwrap(),
            "-u",
            app_url,
        ])
        .args([
            "--poll-interval",
            "1",
            "--retry-interval-ms",
            "50",
            "--time-scale",
            "0.5",
        ])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("nestling-dev starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(line.contains("listening on"), "{line}");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

async fn get(url: String) -> Option<Value> {
    reqwest::get(url).await.ok()?.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_survives_kill_9_and_resumes_from_its_last_stored_step() {
    let db = temp_db("crash");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    let b_runs = Arc::new(AtomicU32::new(0));
    let counter = b_runs.clone();
    let f = AppFn::new("durable", "test/durable", move |ctx| {
        let a = ctx.run("a", |_| Ok(json!("first")))?;
        let counter = counter.clone();
        let b = ctx.run("b", move |_| {
            // The first execution is slow: the engine is killed while it waits for it.
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(1500));
            }
            Ok(json!("second"))
        })?;
        ctx.sleep("pause", "1s")?;
        let c = ctx.run("c", |_| Ok(json!("third")))?;
        Ok(json!([a, b, c]))
    });
    let app = TestApp::start("crashy", &base, vec![f]).await;

    let mut engine = spawn_engine(&db, port, &app.url).await;
    eventually("the app to sync", Duration::from_secs(20), || {
        let functions = block_on_get(format!("{base}/dev"))?;
        (!functions["functions"].as_array()?.is_empty()).then_some(())
    })
    .await;

    let sent: Value = reqwest::Client::new()
        .post(format!("{base}/e/key"))
        .json(&json!({"name": "test/durable"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event_id = sent["ids"][0].as_str().unwrap().to_owned();

    eventually("step b to be in flight", Duration::from_secs(20), || {
        (app.executions("b") == 1).then_some(())
    })
    .await;
    assert_eq!(app.executions("a"), 1);
    engine.kill().await.unwrap();

    let runs = {
        let mut restarted = spawn_engine(&db, port, &app.url).await;
        let run_id = get(format!("{base}/v1/events/{event_id}/runs"))
            .await
            .unwrap()["data"][0]["run_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let run = loop {
            let run = get(format!("{base}/v1/runs/{run_id}")).await.unwrap();
            if run["data"]["status"] != "Running" || std::time::Instant::now() > deadline {
                break run;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        restarted.kill().await.unwrap();
        run
    };

    assert_eq!(runs["data"]["status"], "Completed", "{runs}");
    assert_eq!(runs["data"]["output"], json!(["first", "second", "third"]));
    assert_eq!(
        app.executions("a"),
        1,
        "a was stored before the crash and not run again"
    );
    assert_eq!(
        app.executions("b"),
        2,
        "b was in flight at the crash and ran again"
    );
    assert_eq!(app.executions("c"), 1);
}

fn block_on_get(url: String) -> Option<Value> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(get(url))
    })
    .join()
    .ok()?
}
