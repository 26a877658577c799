//! The health endpoints over real HTTP on loopback, against a real `DefaultInngestService`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nestling_health::{FnIndicator, HealthService, HealthSettings, IndicatorResult, Probe};
use nestling_inngest::{ConnectionState, DefaultInngestService, InngestModuleOptions};
use nestling_inngest_protocol::FunctionConfig;
use poem::listener::{Acceptor, Listener, TcpListener};
use serde_json::Value;

fn inngest(mode: &str) -> Arc<DefaultInngestService> {
    let env = BTreeMap::from([("INNGEST_DEV", "1"), ("INNGEST_MODE", mode)]);
    let options = InngestModuleOptions::new("shop").resolve(&env).unwrap();
    let functions = |app: &str, _: &str| {
        ["process-order", "send-receipt"]
            .iter()
            .map(|id| FunctionConfig {
                id: format!("{app}-{id}"),
                name: (*id).to_owned(),
                ..Default::default()
            })
            .collect()
    };
    Arc::new(DefaultInngestService::new(options, Arc::new(functions)).unwrap())
}

async fn serve(service: &Arc<HealthService>) -> SocketAddr {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(service.routes()));
    addr
}

async fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let resp = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn serve_mode_reports_up_in_the_seed_shape() {
    let health = HealthService::for_inngest(HealthSettings::default(), inngest("serve")).unwrap();
    let addr = serve(&health).await;

    let (status, body) = get(addr, "/health/inngest").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    let info = &body["info"]["inngest"];
    assert_eq!(info["status"], "up");
    assert_eq!(info["mode"], "serve");
    assert_eq!(info["functions"], 2);
    assert!(info.get("lastSync").is_some());
    assert!(info.get("connectionState").is_none());
    assert!(body.get("details").is_none() || body["details"].is_null());

    let (status, body) = get(addr, "/health/inngest?details=true").await;
    assert_eq!(status, 200);
    let details = &body["details"];
    assert!(details["memory"]["used"].as_str().unwrap().ends_with(" MB"));
    assert!(details["memory"]["percentage"].as_f64().is_some());
    let functions = details["functions"].as_array().unwrap();
    assert_eq!(functions.len(), 2);
    assert_eq!(functions[0]["id"], "shop-process-order");
    assert_eq!(functions[0]["status"], "healthy");
    assert!(functions[0]["lastExecution"].is_null());

    let (status, body) = get(addr, "/health/inngest?details=maybe").await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn connect_mode_is_down_until_active_and_up_after() {
    let service = inngest("connect");
    let settings = HealthSettings {
        check_interval: Duration::from_millis(50),
        ..Default::default()
    };
    let health = HealthService::for_inngest(settings, service.clone()).unwrap();
    health.start();
    let addr = serve(&health).await;

    let (status, body) = get(addr, "/health/inngest").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "error");
    assert_eq!(body["error"]["inngest"]["connectionState"], "CLOSED");
    assert_eq!(body["error"]["inngest"]["mode"], "connect");

    let (status, body) = get(addr, "/health/ready").await;
    assert_eq!(status, 503);
    assert_eq!(
        body["error"]["inngest"]["message"],
        "Worker not ready: connection state is CLOSED"
    );

    service.set_connection_state(ConnectionState::Active);
    // The probes answer from the background checks, which run every 50 ms.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (status, body) = get(addr, "/health/inngest").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["info"]["inngest"]["connectionState"], "ACTIVE");
    let (status, body) = get(addr, "/health/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["info"]["inngest"]["connectionState"], "ACTIVE");
    let (status, body) = get(addr, "/health/live").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["info"]["memory"]["status"], "up");
    assert_eq!(
        body["details"]["inngest"]["message"],
        "Inngest worker is connected"
    );

    service.set_connection_state(ConnectionState::Reconnecting);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = get(addr, "/health/live").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["error"]["inngest"]["message"],
        "Connection not active: RECONNECTING"
    );
}

#[tokio::test]
async fn user_indicators_extend_the_probes_and_shutdown_drains_readiness() {
    let health = HealthService::for_inngest(HealthSettings::default(), inngest("serve")).unwrap();
    health.checks().add(
        Probe::Readiness,
        Arc::new(FnIndicator::new("database", || async {
            IndicatorResult::down_because("database", "connection refused")
        })),
    );
    let addr = serve(&health).await;

    let (status, body) = get(addr, "/health/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "error");
    assert_eq!(body["info"]["inngest"]["status"], "up");
    assert_eq!(body["error"]["database"]["message"], "connection refused");
    assert_eq!(body["details"].as_object().unwrap().len(), 2);

    health.shutdown();
    let (status, body) = get(addr, "/health/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "shutting_down");
}

#[tokio::test]
async fn paths_are_configurable_and_the_spec_follows_them() {
    let settings = HealthSettings {
        path: "/status/inngest".to_owned(),
        liveness_path: "/livez".to_owned(),
        readiness_path: "/readyz".to_owned(),
        docs_path: Some("/ops/health-docs".to_owned()),
        include_details: false,
        ..Default::default()
    };
    let health = HealthService::for_inngest(settings, inngest("serve")).unwrap();
    let addr = serve(&health).await;

    assert_eq!(get(addr, "/status/inngest").await.0, 200);
    assert_eq!(get(addr, "/livez").await.0, 200);
    assert_eq!(get(addr, "/readyz").await.0, 200);
    assert_eq!(get(addr, "/health/inngest").await.0, 404);
    assert_eq!(get(addr, "/livez/extra").await.0, 404);

    // Details are switched off: the query is ignored.
    let (_, body) = get(addr, "/status/inngest?details=true").await;
    assert!(
        body.get("details").is_none() || body["details"].is_null(),
        "{body}"
    );

    let (status, spec) = get(addr, "/ops/health-docs/openapi.json").await;
    assert_eq!(status, 200);
    let paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    for path in ["/status/inngest", "/livez", "/readyz"] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from {paths:?}"
        );
    }
    let responses = &spec["paths"]["/readyz"]["get"]["responses"];
    assert!(responses.get("200").is_some() && responses.get("503").is_some());

    let ui = reqwest::get(format!("http://{addr}/ops/health-docs"))
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    let html = ui.text().await.unwrap();
    assert!(html.contains("SwaggerUIBundle") && html.contains("/status/inngest"));
}

#[tokio::test]
async fn checks_send_nothing_to_inngest() {
    // The service points at a dev server URL where nothing listens; a check that sent an
    // event would fail (and the seed's did send one). Counting requests on a local listener
    // proves no request is made at all.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });

    let dev = format!("http://127.0.0.1:{port}");
    let env = BTreeMap::from([("INNGEST_DEV", dev.as_str())]);
    let options = InngestModuleOptions::new("shop").resolve(&env).unwrap();
    let service = Arc::new(
        DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new())).unwrap(),
    );
    let settings = HealthSettings {
        check_interval: Duration::from_millis(20),
        ..Default::default()
    };
    let health = HealthService::for_inngest(settings, service).unwrap();
    health.start();
    let addr = serve(&health).await;

    for path in [
        "/health/inngest?details=true",
        "/health/live",
        "/health/ready",
    ] {
        get(addr, path).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn without_inngest_the_probes_still_work() {
    let health = HealthService::new(HealthSettings::default()).unwrap();
    let addr = serve(&health).await;

    assert_eq!(get(addr, "/health/inngest").await.0, 404);
    let (status, body) = get(addr, "/health/live").await;
    assert_eq!(status, 200);
    assert_eq!(body["info"]["memory"]["status"], "up");
    let (status, body) = get(addr, "/health/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

mod module {
    use nestling::{Module, ModuleDef, NestlingApplication};
    use nestling_health::InngestHealthModule;
    use nestling_inngest::InngestService;
    use nestling_testing::InngestStandInModule;

    use super::*;

    struct AppModule {
        inngest: Arc<dyn InngestService>,
    }

    impl Module for AppModule {
        fn define(&self) -> ModuleDef {
            ModuleDef::new("AppModule")
                .import(InngestStandInModule::with_service(Arc::clone(
                    &self.inngest,
                )))
                .import(InngestHealthModule)
        }
    }

    #[tokio::test]
    async fn the_module_reads_the_inngest_health_options_and_serves_them() {
        let env = BTreeMap::from([("INNGEST_DEV", "1"), ("INNGEST_MODE", "connect")]);
        let options = InngestModuleOptions::new("shop")
            .health(nestling_inngest::HealthOptions::default().path("/status/inngest"))
            .resolve(&env)
            .unwrap();
        let service = Arc::new(
            DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new())).unwrap(),
        );
        let app = NestlingApplication::builder(AppModule {
            inngest: service.clone(),
        })
        .global_prefix("api")
        .create()
        .await
        .unwrap();
        let server = app.start("127.0.0.1:0").await.unwrap();
        let url = server.url();

        let resp = reqwest::get(format!("{url}/api/status/inngest"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["inngest"]["connectionState"], "CLOSED");

        service.set_connection_state(ConnectionState::Active);
        let resp = reqwest::get(format!("{url}/api/status/inngest"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let ready = reqwest::get(format!("{url}/api/health/ready"))
            .await
            .unwrap();
        assert!(ready.status() == 200 || ready.status() == 503);
        assert_eq!(
            reqwest::get(format!("{url}/api/elsewhere"))
                .await
                .unwrap()
                .status(),
            404
        );

        server.close().await.unwrap();
    }
}
