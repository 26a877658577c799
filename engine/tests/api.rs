//! The dev-server API refuses bad input with the reason and the real server's shapes, and
//! keeps what was already stored.

mod common;

use std::time::Duration;

use common::{AppFn, TestApp, temp_db};
use nestling_engine::{Engine, EngineConfig, EngineHandle};
use serde_json::{Value, json};

async fn engine() -> EngineHandle {
    let config = EngineConfig::default()
        .with_bind("127.0.0.1:0".parse().unwrap())
        .with_database(temp_db("api"))
        .with_poll_interval(None)
        .with_retry_interval(Duration::from_millis(10));
    Engine::start(config).await.unwrap()
}

async fn post(url: String, body: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_event_api_stores_valid_events_and_names_the_bad_one() {
    let engine = engine().await;
    let url = format!("{}/e/any-key", engine.url());

    let (status, body) = post(url.clone(), r#"{"name": "a/one", "data": {"x": 1}}"#).await;
    assert_eq!((status, body["status"].clone()), (200, json!(200)));
    assert_eq!(body["ids"].as_array().unwrap().len(), 1);

    let batch =
        r#"[{"name": "a/ok"}, {"name": "a/ok2", "id": "mine"}, {"data": {}}, {"name": "a/after"}]"#;
    let (status, body) = post(url.clone(), batch).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["ids"].as_array().unwrap().len(),
        2,
        "events before the bad one are kept"
    );
    assert!(
        body["error"].as_str().unwrap().contains("event 2"),
        "{body}"
    );
    assert!(body["error"].as_str().unwrap().contains("name"), "{body}");

    // The stored ones are readable; the event's own id is kept, the returned id is internal.
    let id = body["ids"][1].as_str().unwrap();
    let ev: Value = reqwest::get(format!("{}/v1/events/{id}", engine.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ev["data"]["id"], "mine");
    assert_eq!(ev["data"]["name"], "a/ok2");

    for (bad, why) in [
        ("not json", "not valid JSON"),
        ("42", "event object or an array"),
        ("[]", "no events"),
        (r#"{"name": "inngest/function.failed"}"#, "reserved"),
        (
            r#"{"name": "a/b", "data": [1]}"#,
            "`data` must be an object",
        ),
        (r#"{"name": "a/b", "ts": "yesterday"}"#, "`ts`"),
        (r#"{"name": 7}"#, "`name` must be a string"),
    ] {
        let (status, body) = post(url.clone(), bad).await;
        assert_eq!(status, 400, "{bad}");
        assert!(
            body["error"].as_str().unwrap().contains(why),
            "{bad}: {body}"
        );
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn event_keys_are_checked_when_configured() {
    let config = EngineConfig::default()
        .with_bind("127.0.0.1:0".parse().unwrap())
        .with_database(temp_db("keys"))
        .with_poll_interval(None)
        .with_event_key("right");
    let engine = Engine::start(config).await.unwrap();
    let (status, body) = post(format!("{}/e/wrong", engine.url()), r#"{"name": "a/b"}"#).await;
    assert_eq!(
        (status, body),
        (401, json!({"status": 401, "error": "Event key not found"}))
    );
    let (status, _) = post(format!("{}/e/right", engine.url()), r#"{"name": "a/b"}"#).await;
    assert_eq!(status, 200);
    engine.shutdown().await;
}

#[tokio::test]
async fn registration_validates_and_dedupes() {
    let engine = engine().await;
    let app = TestApp::start(
        "reg",
        &engine.url(),
        vec![AppFn::new("f", "reg/f", |_| Ok(json!(1)))],
    )
    .await;
    let good = common::config_of(&app.state, &app.url);
    let url = format!("{}/fn/register", engine.url());

    let (status, body) = post(url.clone(), &good.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["ok"].clone(), body["modified"].clone()),
        (json!(true), json!(true))
    );
    let (_, again) = post(url.clone(), &good.to_string()).await;
    assert_eq!(again["modified"], false, "an identical sync is skipped");
    assert_eq!(again["app_id"], body["app_id"]);

    let mut no_name = good.clone();
    no_name["appName"] = json!("");
    let (status, body) = post(url.clone(), &no_name.to_string()).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("appName"),
        "{body}"
    );

    let mut bad_fn = good.clone();
    bad_fn["functions"][0]["triggers"] = json!([{"event": "reg/f", "expression": "event.data.("}]);
    let (status, body) = post(url.clone(), &bad_fn.to_string()).await;
    assert_eq!(status, 400);
    let msg = body["error"].as_str().unwrap();
    assert!(msg.starts_with("At least one function is invalid"), "{msg}");
    assert!(msg.contains("reg-f"), "names the function: {msg}");

    let mut bad_cron = good.clone();
    bad_cron["functions"][0]["triggers"] = json!([{"cron": "@daily"}]);
    let (status, body) = post(url.clone(), &bad_cron.to_string()).await;
    assert_eq!(status, 400, "{body}");

    let resp = reqwest::Client::new()
        .post(url.clone())
        .header("x-inngest-expected-server-kind", "cloud")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Expected server kind"),
        "{body}"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn unknown_runs_events_and_functions_get_clear_errors() {
    let engine = engine().await;
    let http = reqwest::Client::new();
    let base = engine.url();
    let missing = ulid::Ulid::new().to_string();

    let r = http
        .get(format!("{base}/v1/runs/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .get(format!("{base}/v1/runs/not-a-ulid"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Invalid run ID"));
    let r = http
        .delete(format!("{base}/v1/runs/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .get(format!("{base}/v1/events/{missing}/runs"))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"], json!([]));
    let (status, body) = post(format!("{base}/invoke/app-nope"), "{}").await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("app-nope"),
        "{body}"
    );
    let (status, _) = post(
        format!("{base}/v1/checkpoint/{missing}/async"),
        r#"{"steps": []}"#,
    )
    .await;
    assert_eq!(status, 404);

    let dev: Value = http
        .get(format!("{base}/dev"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dev["server_kind"], "dev");
    assert!(engine.cancel(&missing).is_err());
    engine.shutdown().await;
}

#[tokio::test]
async fn a_sync_of_an_unreachable_app_says_why() {
    let engine = engine().await;
    let err = engine
        .sync_app("http://127.0.0.1:9/api/inngest")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("127.0.0.1:9") && err.contains("did not answer"),
        "{err}"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_second_engine_on_the_same_file_is_refused() {
    let db = temp_db("twice");
    let config = || {
        EngineConfig::default()
            .with_bind("127.0.0.1:0".parse().unwrap())
            .with_database(&db)
            .with_poll_interval(None)
    };
    let first = Engine::start(config()).await.unwrap();
    let err = Engine::start(config()).await.unwrap_err().to_string();
    assert!(
        err.contains("locked") && err.contains("no other engine"),
        "{err}"
    );
    first.shutdown().await;
}
