//! The web page at the engine's root, loaded in headless Chromium: it lists the app and its
//! function, and after an event is sent the run appears with its status. Skips, saying why,
//! when `/usr/bin/chromium` is not installed (`scripts/setup.d/chromium` installs it).

mod common;

use std::path::Path;
use std::time::Duration;

use common::{AppFn, TestApp, temp_db};
use nestling_engine::{Engine, EngineConfig, RunStatus};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Loads `url` and returns the DOM after the page's scripts ran for a while.
async fn dump_dom(url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("nestling-ui-{}", ulid::Ulid::new()));
    let out = tokio::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("chromium finishes within a minute")
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(profile);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_apps_functions_and_a_new_run() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is not installed (run scripts/setup to install it)");
        return;
    }
    let config = EngineConfig::default()
        .with_bind("127.0.0.1:0".parse().unwrap())
        .with_database(temp_db("ui"))
        .with_poll_interval(None);
    let engine = Engine::start(config).await.unwrap();
    let f = AppFn::new("greet", "ui/greet", |ctx| {
        let who = ctx.event["data"]["who"].clone();
        let hello = ctx.run("say-hello", |_| {
            Ok(json!(format!("hello {}", who.as_str().unwrap_or("?"))))
        })?;
        Ok(json!({"greeting": hello}))
    });
    let app = TestApp::start("ui-app", &engine.url(), vec![f]).await;
    engine.sync_app(&app.url).await.unwrap();

    let before = dump_dom(&format!("{}/", engine.url())).await;
    assert!(before.contains("Nestling engine"), "{before}");
    assert!(before.contains("ui-app"), "the app is listed: {before}");
    assert!(
        before.contains("ui-app-greet"),
        "the function is listed: {before}"
    );
    assert!(!before.contains(r#"class="Completed""#), "no run yet");

    let id = engine
        .send_events(json!({"name": "ui/greet", "data": {"who": "browser"}}))
        .await
        .unwrap()
        .remove(0);
    let run = loop {
        if let Some(r) = engine.runs_for_event(&id).unwrap().pop() {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let run = engine
        .wait_for_run(&run.id, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);

    let after = dump_dom(&format!("{}/", engine.url())).await;
    assert!(after.contains(&run.id), "the run is listed: {after}");
    assert!(
        after.contains(r#"class="Completed">Completed"#),
        "with its status: {after}"
    );
    assert!(after.contains("ui/greet"), "the event is listed: {after}");

    let detail = dump_dom(&format!("{}/#run={}", engine.url(), run.id)).await;
    assert!(
        detail.contains("StepCompleted"),
        "the step timeline: {detail}"
    );
    assert!(detail.contains("say-hello"), "names the step: {detail}");
    assert!(
        detail.contains("hello browser"),
        "with its output: {detail}"
    );
    engine.shutdown().await;
}
