//! Tracing end to end: spans of two runs chained by an event, exported over OTLP/HTTP.
//!
//! Two functions of a real app (`InngestModule`, discovered from `#[functions]`) are driven by
//! the real engine over the real serve endpoint: `order` sends `payment.requested` from a
//! step, `charge` is triggered by it. The module's tracing middleware makes the spans; the
//! test only installs the subscriber that exports them, as an app does at start-up.
//!
//! No OpenTelemetry collector binary can be installed on this workplace, so the receiver is a
//! small OTLP/HTTP endpoint written here: it accepts `POST /v1/traces` and keeps the
//! protobuf bodies. The assertions read those bodies as bytes: a trace id travels as its 16
//! raw bytes right after its field tag, a span name right after its own, and strings as
//! UTF-8, which is enough to count the spans, tell which trace they belong to and see whether
//! event data leaked into them, without decoding protobuf.
//!
//! It needs both default features: the engine runs the functions, and OTLP exports the spans.
#![cfg(all(feature = "embedded-engine", feature = "otlp"))]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nestling::{Injectable, Module, ModuleDef, NestlingApplication, Provider};
use nestling_engine::{Engine, EngineConfig, EngineHandle, RunStatus, RunSummary};
use nestling_inngest::{
    Ctx, Event, EventTransform, FunctionError, InngestModule, InngestModuleOptions, RUN_SPAN_NAME,
    STEP_SPAN_NAME, TraceContextInjector, TracingConfig, TracingOptions, functions,
    otlp_tracer_provider, run_context, telemetry_layer,
};
use nestling_inngest_protocol::Event as WireEvent;
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry_sdk::trace::SdkTracerProvider;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route, handler, post};
use serde_json::{Value, json};
use tracing::Level;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;

type Bodies = Arc<Mutex<Vec<Vec<u8>>>>;

#[handler]
fn receive(body: Vec<u8>, Data(bodies): Data<&Bodies>) -> poem::Response {
    bodies.lock().unwrap().push(body);
    // An empty ExportTraceServiceResponse is zero bytes of protobuf.
    poem::Response::builder()
        .content_type("application/x-protobuf")
        .body(Vec::<u8>::new())
}

async fn receiver() -> (String, Bodies) {
    let bodies: Bodies = Arc::default();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let app = Route::new()
        .at("/v1/traces", post(receive))
        .data(Arc::clone(&bodies));
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    (format!("http://{addr}"), bodies)
}

fn tracing_config(endpoint: &str, include_event_data: bool) -> TracingConfig {
    let env = BTreeMap::from([("INNGEST_DEV", "1")]);
    let tracing = TracingOptions::default()
        .enabled(true)
        .otlp_endpoint(endpoint)
        .include_event_data(include_event_data);
    InngestModuleOptions::new("shop")
        .tracing(tracing)
        .resolve(&env)
        .unwrap()
        .tracing
}

/// The two chained functions.
#[derive(Debug, Default, Injectable)]
struct Shop;

#[functions]
impl Shop {
    #[function(id = "order", event = "order.created")]
    async fn order(&self, ctx: Ctx) -> Result<Vec<String>, FunctionError> {
        let ids = ctx
            .step
            .send_event(
                "request-payment",
                Event::new("payment.requested", json!({ "amount": "77-secret" })),
            )
            .await?;
        Ok(ids)
    }

    #[function(id = "charge", event = "payment.requested")]
    async fn charge(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let captured: Value = ctx
            .step
            .run("capture", || async {
                Ok::<_, FunctionError>(json!({ "captured": "99-secret" }))
            })
            .await?;
        Ok(captured)
    }
}

struct AppModule {
    options: InngestModuleOptions,
}

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(self.options.clone()))
            .provider(Provider::class::<Shop>())
    }
}

/// Installs, once for the test binary, a global subscriber exporting the SDK's run and step
/// spans to an OTLP receiver, and returns the provider (to flush) and the received bodies.
async fn global_exporter() -> (SdkTracerProvider, Bodies) {
    let (endpoint, bodies) = receiver().await;
    let config = tracing_config(&endpoint, false);
    let provider = otlp_tracer_provider(&config)
        .unwrap()
        .expect("an endpoint is configured");
    let spans = Targets::new()
        .with_target("nestling_inngest::run", Level::TRACE)
        .with_target("nestling_inngest::step", Level::TRACE);
    let subscriber =
        tracing_subscriber::registry().with(telemetry_layer(&provider, &config).with_filter(spans));
    tracing::subscriber::set_global_default(subscriber).expect("only this test installs one");
    (provider, bodies)
}

/// Runs `order` on a fresh engine and app, then the `charge` run its event started. Returns
/// the order run's id.
async fn chained_runs(app_id: &str, include_event_data: bool) -> String {
    let db = std::env::temp_dir().join(format!("nestling-{app_id}-{}.sqlite", std::process::id()));
    let engine = Engine::start(
        EngineConfig::default()
            .with_bind("127.0.0.1:0".parse().unwrap())
            .with_database(&db)
            .with_poll_interval(None),
    )
    .await
    .unwrap();

    let tracing = TracingOptions::default()
        .enabled(true)
        .include_event_data(include_event_data);
    let options = InngestModuleOptions::new(app_id)
        .dev(true)
        .base_url(engine.url())
        .tracing(tracing);
    let app = NestlingApplication::create(AppModule { options })
        .await
        .unwrap();
    let server = app.start("127.0.0.1:0").await.unwrap();

    let event = json!({
        "name": "order.created",
        "data": { "card": "4242-secret", "customer": "ada@example.com" }
    });
    let sent = engine.send_events(event).await.unwrap();
    let order = wait_for_run_of(&engine, &sent[0]).await;
    let ids: Vec<String> = serde_json::from_value(order.output.clone().unwrap()).unwrap();
    let charge = wait_for_run_of(&engine, &ids[0]).await;
    assert_eq!(charge.output.unwrap()["captured"], "99-secret");

    server.close().await.unwrap();
    engine.shutdown().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    order.id
}

/// The run an event started, once it completed.
async fn wait_for_run_of(engine: &EngineHandle, event_id: &str) -> RunSummary {
    for _ in 0..250 {
        if let Some(run) = engine.runs_for_event(event_id).unwrap().into_iter().next() {
            let run = engine
                .wait_for_run(&run.id, Duration::from_secs(10))
                .await
                .unwrap();
            assert_eq!(run.status, RunStatus::Completed, "{run:?}");
            return run;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("event {event_id} started no run");
}

/// Flushes the exporter and returns what the receiver got since `skip` bytes.
async fn exported(provider: &SdkTracerProvider, bodies: &Bodies, skip: usize) -> Vec<u8> {
    let provider = provider.clone();
    // Flushing waits for the export thread's reply; keep it off the runtime's workers.
    tokio::task::spawn_blocking(move || provider.force_flush())
        .await
        .unwrap()
        .unwrap();
    let mut received = Vec::new();
    for _ in 0..50 {
        received = bodies.lock().unwrap().concat();
        if received.len() > skip {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    received.split_off(skip.min(received.len()))
}

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

/// A span's name as it sits in OTLP protobuf: field 5, its length, the bytes.
fn span_name(name: &str) -> Vec<u8> {
    let mut bytes = vec![0x2a, u8::try_from(name.len()).unwrap()];
    bytes.extend_from_slice(name.as_bytes());
    bytes
}

/// A trace id as it sits in a span: field 1, length 16, the bytes.
fn trace_field(trace: TraceId) -> Vec<u8> {
    let mut bytes = vec![0x0a, 0x10];
    bytes.extend_from_slice(&trace.to_bytes());
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chained_runs_share_one_trace_and_keep_event_data_out() {
    let (provider, bodies) = global_exporter().await;

    // Event and step data stay out by default.
    let order_run = chained_runs("trace-private", false).await;
    let body = exported(&provider, &bodies, 0).await;
    let skip = bodies.lock().unwrap().concat().len();

    // The order run's event carries no trace context, so its trace id is derived from its run
    // id; the charge run joins it through `data.traceContext` of the event sent by the step.
    let trace = run_context(&order_run).span().span_context().trace_id();
    let runs = occurrences(&body, &span_name(RUN_SPAN_NAME));
    let steps = occurrences(&body, &span_name(STEP_SPAN_NAME));
    assert!(runs >= 4, "two calls per run at least, {runs} run spans");
    assert_eq!(steps, 2, "one span per step that ran");
    assert_eq!(
        occurrences(&body, &trace_field(trace)),
        runs + steps,
        "every span of both runs is in the order run's trace"
    );
    for expected in [
        "trace-private-order",
        "trace-private-charge",
        "request-payment",
        "sendEvent",
        "capture",
        "order.created",
        "payment.requested",
    ] {
        assert!(
            occurrences(&body, expected.as_bytes()) > 0,
            "{expected} missing from the export"
        );
    }
    for secret in ["4242-secret", "ada@example.com", "77-secret", "99-secret"] {
        assert_eq!(
            occurrences(&body, secret.as_bytes()),
            0,
            "{secret} leaked into a span"
        );
    }

    // With include_event_data the runs record their events' data, but not step output.
    chained_runs("trace-public", true).await;
    let body = exported(&provider, &bodies, skip).await;
    assert!(occurrences(&body, b"trace-public-order") > 0);
    assert!(occurrences(&body, b"4242-secret") > 0);
    assert!(
        occurrences(&body, b"77-secret") > 0,
        "the triggered run records its event's data"
    );
    assert_eq!(occurrences(&body, b"99-secret"), 0);
}

#[test]
fn injection_writes_into_data_and_leaves_arrays_alone() {
    let config = tracing_config("http://127.0.0.1:9", false);
    let injector = TraceContextInjector::from_config(&config).unwrap();

    // Without an OpenTelemetry layer there is no span context, so nothing is written.
    let mut event = WireEvent::new("a", json!({ "x": 1 }));
    injector.transform(&mut event);
    assert_eq!(event.data, json!({ "x": 1 }));

    let mut disabled = config.clone();
    disabled.inject_context = false;
    assert!(TraceContextInjector::from_config(&disabled).is_none());

    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry().with(telemetry_layer(&provider, &config));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("send");
        let _entered = span.enter();

        let mut object = WireEvent::new("a", json!({ "x": 1 }));
        injector.transform(&mut object);
        let traceparent = object.data["traceContext"]["traceparent"]
            .as_str()
            .unwrap()
            .to_owned();
        let trace = span.context().span().span_context().trace_id().to_string();
        assert!(
            traceparent.starts_with(&format!("00-{trace}-")),
            "{traceparent}"
        );
        assert_eq!(object.data["x"], 1);

        let mut array = WireEvent::new("b", json!([1, 2]));
        injector.transform(&mut array);
        assert_eq!(array.data, Value::from(vec![1, 2]));
    });
}
