//! Health of a real app: `InngestModule` on the embedded engine with the health module, over
//! HTTP. The last sync, the engine storage indicator and each function's last execution come
//! from the real registration, the real engine and real runs.
//!
//! The app starts the embedded engine itself, as a user's app does; `scripts/test` exports
//! `NESTLING_ENGINE_ADDR=127.0.0.1:0` so that it binds a free port.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nestling::{Injectable, Module, ModuleDef, NestlingApplication, Provider};
use nestling_health::{HealthService, HealthSettings, InngestHealthModule};
use nestling_inngest::{
    Ctx, DefaultInngestService, FunctionError, HealthOptions, InngestModule, InngestModuleOptions,
    InngestService, InngestServiceExt, functions,
};
use poem::listener::{Acceptor, Listener, TcpListener};
use serde_json::{Value, json};

#[derive(Debug, Default, Injectable)]
struct Greetings;

#[functions]
impl Greetings {
    #[function(id = "greet", event = "health/greet")]
    async fn greet(&self, _ctx: Ctx) -> Result<&'static str, FunctionError> {
        Ok("hello")
    }

    #[function(id = "broken", event = "health/broken")]
    #[retries(0)]
    async fn broken(&self, _ctx: Ctx) -> Result<(), FunctionError> {
        Err(FunctionError::non_retriable("the template is missing"))
    }
}

struct AppModule {
    app_id: String,
}

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(
                InngestModuleOptions::new(self.app_id.clone())
                    .is_global(true)
                    .health(HealthOptions::default().include_details(true)),
            ))
            .import(InngestHealthModule)
            .provider(Provider::class::<Greetings>())
    }
}

async fn get(url: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::get(format!("{url}{path}")).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_sync_engine_storage_and_last_executions_come_from_the_real_app() {
    assert!(
        std::env::var("NESTLING_ENGINE_ADDR").is_ok(),
        "run the tests through scripts/test, or export NESTLING_ENGINE_ADDR=127.0.0.1:0, so \
         that the embedded engine binds a free port"
    );
    let app_id = format!("health-embedded-{}", std::process::id());
    let app = NestlingApplication::create(AppModule {
        app_id: app_id.clone(),
    })
    .await
    .unwrap();
    let inngest = app.get::<dyn InngestService>();
    let server = app.start("127.0.0.1:0").await.unwrap();
    let url = server.url();

    // The app registered with its engine once it listened.
    let (status, body) = get(&url, "/health/inngest").await;
    assert_eq!(status, 200, "{body}");
    let last_sync = body["info"]["inngest"]["lastSync"].as_str().unwrap_or("");
    assert!(last_sync.ends_with('Z'), "{body}");
    assert!(body["info"]["inngest"].get("lastSyncError").is_none());

    // The storage indicator joins readiness when the app runs on the embedded engine.
    let (status, ready) = get(&url, "/health/ready").await;
    assert_eq!(status, 200, "{ready}");
    let storage = &ready["info"]["engineStorage"];
    assert_eq!(storage["embedded"], true, "{ready}");
    assert!(storage["databaseBytes"].as_u64().unwrap() > 0, "{storage}");
    assert!(
        storage["database"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{app_id}.sqlite"))
    );

    // Before any run, no function has a last execution.
    let (_, body) = get(&url, "/health/inngest?details=true").await;
    let functions = body["details"]["functions"].as_array().unwrap().clone();
    assert!(
        functions.iter().all(|f| f["lastExecution"].is_null()),
        "{body}"
    );

    inngest.send_data("health/greet", &json!({})).await.unwrap();
    inngest
        .send_data("health/broken", &json!({}))
        .await
        .unwrap();
    let status_of = |body: &Value, id: &str| {
        body["details"]["functions"]
            .as_array()
            .and_then(|functions| {
                functions
                    .iter()
                    .find(|f| f["id"] == format!("{app_id}-{id}"))
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut body = Value::Null;
    for _ in 0..400 {
        body = get(&url, "/health/inngest?details=true").await.1;
        if status_of(&body, "greet")["lastExecution"].is_string()
            && status_of(&body, "broken")["lastExecution"].is_string()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(status_of(&body, "greet")["status"], "healthy", "{body}");
    assert_eq!(
        status_of(&body, "greet")["lastOutcome"],
        "completed",
        "{body}"
    );
    assert_eq!(status_of(&body, "broken")["status"], "failing", "{body}");
    assert_eq!(
        status_of(&body, "broken")["lastOutcome"],
        "failed",
        "{body}"
    );
    assert_eq!(body["details"]["engineStorage"]["status"], "up", "{body}");

    server.close().await.unwrap();
    let db = PathBuf::from(".nestling").join(format!("{app_id}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

#[tokio::test]
async fn a_failed_registration_is_reported_without_turning_health_down() {
    // A port where nothing listens: the registration cannot succeed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dev = format!("http://127.0.0.1:{port}");
    let env = BTreeMap::from([("INNGEST_DEV", dev.as_str())]);
    let options = InngestModuleOptions::new("shop").resolve(&env).unwrap();
    let service = Arc::new(
        DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new())).unwrap(),
    );
    assert!(
        service
            .register_with_dev_server("127.0.0.1", 3000)
            .await
            .is_err()
    );
    assert!(service.last_sync().is_some_and(|sync| !sync.succeeded()));

    let health = HealthService::for_inngest(HealthSettings::default(), service).unwrap();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr: SocketAddr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(health.routes()));

    let (status, body) = get(&format!("http://{addr}"), "/health/inngest").await;
    assert_eq!(status, 200, "{body}");
    let info = &body["info"]["inngest"];
    assert!(info["lastSync"].is_null(), "{body}");
    let error = &info["lastSyncError"];
    assert!(error["at"].as_str().unwrap().ends_with('Z'), "{body}");
    assert!(
        error["message"].as_str().unwrap().contains("127.0.0.1"),
        "the message names the server: {body}"
    );
    // No embedded engine: no storage indicator.
    let (_, ready) = get(&format!("http://{addr}"), "/health/ready").await;
    assert!(ready["details"].get("engineStorage").is_none(), "{ready}");
}
