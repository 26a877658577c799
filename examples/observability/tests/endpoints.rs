//! The example's endpoints over real HTTP on loopback, after real runs on the embedded engine.
//!
//! The app starts the embedded engine itself, as a user's app does; `scripts/test` exports
//! `NESTLING_ENGINE_ADDR=127.0.0.1:0` so that it binds a free port.

use std::collections::BTreeMap;
use std::time::Duration;

use example_observability::{APP_ID, AppModule, create_app, options, resolve};
use nestling_inngest::{InngestService, InngestServiceExt};
use serde_json::{Value, json};

#[tokio::test]
async fn every_observability_endpoint_answers_after_real_runs() {
    assert!(
        std::env::var("NESTLING_ENGINE_ADDR").is_ok(),
        "run the tests through scripts/test, or export NESTLING_ENGINE_ADDR=127.0.0.1:0, so \
         that the embedded engine binds a free port"
    );
    let resolved = resolve(&BTreeMap::new()).unwrap();
    assert!(
        resolved.tracing.enabled && resolved.monitoring.collect_metrics && resolved.health.enabled
    );
    let app = create_app(AppModule::new(options())).await.unwrap();
    let inngest = app.get::<dyn InngestService>();
    let server = app.start("127.0.0.1:0").await.unwrap();
    let url = server.url();
    let get = |path: &str| reqwest::get(format!("{url}{path}"));

    inngest
        .send_data("shop/order.created", &json!({ "orderId": 7 }))
        .await
        .unwrap();

    // Both runs end: the metrics count one successful run of each function.
    let success = |id: &str| {
        format!(
            "inngest_function_executions_total{{function_id=\"{APP_ID}-{id}\",result=\"success\"}} 1"
        )
    };
    let mut metrics = String::new();
    for _ in 0..250 {
        metrics = get("/metrics").await.unwrap().text().await.unwrap();
        if metrics.contains(&success("process-order")) && metrics.contains(&success("send-receipt"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(metrics.contains(&success("process-order")), "{metrics}");
    assert!(metrics.contains(&success("send-receipt")), "{metrics}");
    assert!(metrics.contains(&format!(
        "inngest_function_runs_in_flight{{function_id=\"{APP_ID}-send-receipt\"}} 0"
    )));

    let health = get("/health/inngest?details=true").await.unwrap();
    assert_eq!(health.status(), 200);
    let health: Value = health.json().await.unwrap();
    let info = &health["info"]["inngest"];
    assert_eq!(info["functions"], 2);
    assert!(info["lastSync"].as_str().unwrap().ends_with('Z'), "{info}");
    let functions = health["details"]["functions"].as_array().unwrap();
    assert_eq!(functions.len(), 2);
    for function in functions {
        assert_eq!(function["status"], "healthy", "{function}");
        assert!(function["lastExecution"].is_string(), "{function}");
    }
    assert_eq!(
        health["details"]["engineStorage"]["status"], "up",
        "{health}"
    );

    let ready: Value = get("/health/ready").await.unwrap().json().await.unwrap();
    assert_eq!(ready["info"]["engineStorage"]["embedded"], true, "{ready}");
    assert_eq!(get("/health/live").await.unwrap().status(), 200);

    let summary: Value = get("/metrics/summary").await.unwrap().json().await.unwrap();
    assert_eq!(summary["summary"]["totalFunctions"], 2);
    assert_eq!(summary["tracingEnabled"], true);

    for docs in ["/docs/health/openapi.json", "/docs/monitoring/openapi.json"] {
        let spec: Value = get(docs).await.unwrap().json().await.unwrap();
        assert!(
            spec["openapi"].as_str().unwrap().starts_with("3."),
            "{docs}"
        );
    }

    server.close().await.unwrap();
}
