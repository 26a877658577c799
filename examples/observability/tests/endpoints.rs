//! The example's endpoints over real HTTP on loopback.

use std::collections::BTreeMap;

use example_observability::{AppModule, create_app, resolve};
use serde_json::Value;

#[tokio::test]
async fn every_observability_endpoint_answers() {
    let options = resolve(&BTreeMap::new()).unwrap();
    assert!(
        options.tracing.enabled && options.monitoring.collect_metrics && options.health.enabled
    );
    let app = create_app(AppModule::new(options).unwrap()).await.unwrap();
    let server = app.start("127.0.0.1:0").await.unwrap();
    let url = server.url();
    let get = |path: &str| reqwest::get(format!("{url}{path}"));

    let health = get("/health/inngest?details=true").await.unwrap();
    assert_eq!(health.status(), 200);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["info"]["inngest"]["functions"], 2);
    assert_eq!(
        health["details"]["functions"][1]["id"],
        "observability-demo-send-receipt"
    );

    for path in ["/health/live", "/health/ready"] {
        assert_eq!(get(path).await.unwrap().status(), 200, "{path}");
    }

    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(metrics.contains(
        "inngest_function_executions_total{function_id=\"observability-demo-process-order\",result=\"success\"} 0"
    ));
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
