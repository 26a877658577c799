//! The monitoring endpoints over real HTTP on loopback, and the exposition checked by promtool.

use std::net::SocketAddr;
use std::sync::Arc;

use nestling_monitoring::{ExecutionCall, MonitoringService, MonitoringSettings, RunOutcome};
use poem::listener::{Acceptor, Listener, TcpListener};

async fn serve(service: &Arc<MonitoringService>) -> SocketAddr {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let app = service.routes();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    addr
}

fn record_sample_runs(service: &MonitoringService) {
    let call = |run_id, attempt, stack_len| ExecutionCall {
        function_id: "shop-process \"order\"",
        run_id,
        attempt,
        stack_len,
    };

    service.record_call(call("r1", 0, 0));
    service.record_step("shop-process \"order\"", "r1");
    service.record_call(call("r1", 0, 1));
    service.record_finish("shop-process \"order\"", "r1", RunOutcome::Completed);

    service.record_call(call("r2", 0, 0));
    service.record_call(call("r2", 1, 0));
    service.record_finish("shop-process \"order\"", "r2", RunOutcome::Failed);

    service.functions().register_function("shop-idle");
}

#[tokio::test]
async fn prometheus_exposition_is_served_with_its_content_type() {
    let service = MonitoringService::new(MonitoringSettings::default()).unwrap();
    record_sample_runs(&service);
    let latency = service
        .registry()
        .histogram(
            "app_request_duration_seconds",
            "Request latency",
            &[0.1, 1.0],
        )
        .unwrap();
    latency.observe(0.3);
    let addr = serve(&service).await;

    let resp = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let text = resp.text().await.unwrap();

    assert!(
        text.contains("# TYPE inngest_function_executions_total counter"),
        "{text}"
    );
    assert!(text.contains(
        "inngest_function_executions_total{function_id=\"shop-process \\\"order\\\"\",result=\"success\"} 1"
    ));
    assert!(text.contains(
        "inngest_function_executions_total{function_id=\"shop-process \\\"order\\\"\",result=\"failure\"} 1"
    ));
    assert!(text.contains(
        "inngest_function_runs_started_total{function_id=\"shop-process \\\"order\\\"\"} 2"
    ));
    assert!(
        text.contains(
            "inngest_function_retries_total{function_id=\"shop-process \\\"order\\\"\"} 1"
        )
    );
    assert!(text.contains("# TYPE inngest_function_execution_duration_seconds histogram"));
    assert!(text.contains("inngest_function_execution_duration_seconds_bucket{function_id=\"shop-idle\",le=\"+Inf\"} 0"));
    assert!(text.contains("inngest_function_execution_duration_seconds_count{function_id=\"shop-process \\\"order\\\"\"} 2"));
    assert!(text.contains("app_request_duration_seconds_bucket{le=\"1\"} 1"));
    assert!(text.contains("# TYPE inngest_process_memory_bytes gauge"));
    assert!(text.contains("inngest_process_memory_bytes{type=\"rss\"} "));
    assert!(text.contains("# TYPE inngest_process_cpu_seconds_total counter"));
}

#[tokio::test]
async fn the_exposition_passes_promtool_check_metrics() {
    let Ok(promtool) = which_promtool() else {
        eprintln!(
            "skipped: promtool is not installed (scripts/setup installs Debian's prometheus package)"
        );
        return;
    };

    let service = MonitoringService::new(MonitoringSettings::default()).unwrap();
    record_sample_runs(&service);
    service
        .registry()
        .gauge_vec("app_queue_depth", "Jobs waiting\nper queue", &["queue"])
        .unwrap()
        .with_labels(&["back\\slash"])
        .unwrap()
        .set(3.0);
    let addr = serve(&service).await;
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let output = run_promtool(&promtool, &text);
    assert!(
        output.status.success(),
        "promtool rejected the exposition:\n{}\n---\n{text}",
        String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr)
    );

    // The check can fail: a counter without the `_total` suffix is reported.
    let bad = "# HELP broken Broken\n# TYPE broken counter\nbroken 1\n";
    let output = run_promtool(&promtool, bad);
    let said = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && said.contains("_total"),
        "{said}"
    );
}

#[tokio::test]
async fn json_summaries_report_runs_not_reentries() {
    let service = MonitoringService::new(MonitoringSettings::default()).unwrap();
    record_sample_runs(&service);
    let addr = serve(&service).await;

    let summary: serde_json::Value = reqwest::get(format!("http://{addr}/metrics/summary"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["summary"]["totalFunctions"], 2);
    assert_eq!(summary["summary"]["totalExecutions"], 2);
    assert_eq!(summary["summary"]["errorRate"], 50.0);
    assert_eq!(summary["summary"]["healthy"], false);
    let order = summary["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "shop-process \"order\"")
        .unwrap();
    assert_eq!(order["id"], "shop-process \"order\"");
    assert_eq!(order["runsStarted"], 2);
    assert_eq!(order["stepsExecuted"], 1);
    assert!(order["lastExecuted"].as_str().unwrap().ends_with('Z'));
    assert!(summary["system"]["memoryMb"].as_f64().unwrap() > 1.0);

    let functions: serde_json::Value = reqwest::get(format!("http://{addr}/metrics/functions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(functions.as_array().unwrap().len(), 2);

    let system: serde_json::Value = reqwest::get(format!("http://{addr}/metrics/system"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(system["residentMemoryBytes"].as_u64().unwrap() > 1_000_000);
    assert_eq!(system["pid"], std::process::id());
}

#[tokio::test]
async fn collect_metrics_off_records_nothing() {
    let config = MonitoringSettings {
        collect_metrics: false,
        ..Default::default()
    };
    let service = MonitoringService::new(config).unwrap();
    record_sample_runs(&service);

    let summary = service.summary();
    assert_eq!(summary.summary.total_executions, 0);
    // Only the explicitly registered function shows, with zeros.
    assert_eq!(summary.functions.len(), 1);
}

#[tokio::test]
async fn openapi_spec_and_docs_ui_are_served_at_the_configured_paths() {
    let config = MonitoringSettings {
        metrics_path: "/ops/metrics".to_owned(),
        docs_path: Some("/ops/docs".to_owned()),
        ..Default::default()
    };
    let service = MonitoringService::new(config).unwrap();
    let addr = serve(&service).await;

    let spec: serde_json::Value = reqwest::get(format!("http://{addr}/ops/docs/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/ops/metrics",
        "/ops/metrics/summary",
        "/ops/metrics/functions",
        "/ops/metrics/system",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }

    let ui = reqwest::get(format!("http://{addr}/ops/docs"))
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("SwaggerUIBundle"));

    let metrics = reqwest::get(format!("http://{addr}/ops/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert_eq!(
        reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .status(),
        404
    );
}

fn which_promtool() -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("promtool"))
        .find(|candidate| candidate.is_file())
        .ok_or(())
}

fn run_promtool(promtool: &std::path::Path, text: &str) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

mod module {
    use std::collections::BTreeMap;

    use nestling::{Module, ModuleDef, NestlingApplication};
    use nestling_inngest::{
        DefaultInngestService, InngestModuleOptions, InngestService, MonitoringOptions,
    };
    use nestling_inngest_protocol::FunctionConfig;
    use nestling_monitoring::{InngestMonitoringModule, MonitoringMiddleware};
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
                .import(InngestMonitoringModule)
        }
    }

    #[tokio::test]
    async fn the_module_registers_every_function_and_serves_metrics() {
        let env = BTreeMap::from([("INNGEST_DEV", "1")]);
        let options = InngestModuleOptions::new("shop")
            .monitoring(MonitoringOptions::default().collect_metrics(true))
            .resolve(&env)
            .unwrap();
        let functions = |app: &str, _: &str| {
            vec![FunctionConfig {
                id: format!("{app}-charge"),
                name: "charge".to_owned(),
                ..Default::default()
            }]
        };
        let service: Arc<dyn InngestService> =
            Arc::new(DefaultInngestService::new(options, Arc::new(functions)).unwrap());
        let app = NestlingApplication::create(AppModule { inngest: service })
            .await
            .unwrap();

        let hooks = app.get::<MonitoringMiddleware>();
        hooks.call("shop-charge", "r1", 0);
        hooks.output("shop-charge", "r1", Ok(()));

        let server = app.start("127.0.0.1:0").await.unwrap();
        let url = server.url();
        let text = reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.contains(
            "inngest_function_executions_total{function_id=\"shop-charge\",result=\"success\"} 1"
        ), "{text}");
        assert!(text.contains(
            "inngest_function_executions_total{function_id=\"shop-charge\",result=\"failure\"} 0"
        ));

        let docs = reqwest::get(format!("{url}/docs/monitoring/openapi.json"))
            .await
            .unwrap();
        assert_eq!(docs.status(), 200);
        server.close().await.unwrap();
    }
}

mod otlp {
    use std::time::Duration;

    use poem::web::Data;
    use poem::{EndpointExt, Route, handler, post};

    use super::*;

    type Bodies = Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

    #[handler]
    fn receive(body: Vec<u8>, Data(bodies): Data<&Bodies>) -> poem::Response {
        bodies.lock().unwrap().push(body);
        poem::Response::builder()
            .content_type("application/x-protobuf")
            .body(Vec::<u8>::new())
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    }

    /// No OpenTelemetry collector can be installed here, so an OTLP/HTTP receiver written
    /// in the test takes the pushes; the protobuf bodies are searched for the metric names
    /// and label values, which travel as UTF-8.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn metrics_are_pushed_over_otlp_on_the_interval() {
        let bodies: Bodies = Arc::default();
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let app = Route::new()
            .at("/v1/metrics", post(receive))
            .data(Arc::clone(&bodies));
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));

        let config = MonitoringSettings {
            metrics_interval: Duration::from_millis(200),
            otlp_endpoint: Some(format!("http://{addr}")),
            service_name: "otlp-test".to_owned(),
            ..Default::default()
        };
        let service = MonitoringService::new(config).unwrap();
        record_sample_runs(&service);
        service.start_sampler().unwrap();

        let mut pushed = Vec::new();
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            pushed = bodies.lock().unwrap().concat();
            if contains(&pushed, "inngest_function_runs_started_total") {
                break;
            }
        }
        for expected in [
            "inngest_function_runs_started_total",
            "inngest_function_execution_duration_seconds_count",
            "inngest_process_memory_bytes",
            "shop-idle",
            "otlp-test",
        ] {
            assert!(contains(&pushed, expected), "{expected} was not pushed");
        }

        let service = Arc::clone(&service);
        tokio::task::spawn_blocking(move || service.stop_sampler())
            .await
            .unwrap();
    }
}
