//! Tracing end to end: spans of two runs chained by an event, exported over OTLP/HTTP.
//!
//! No OpenTelemetry collector binary can be installed on this workplace, so the receiver is a
//! small OTLP/HTTP endpoint written here: it accepts `POST /v1/traces` and keeps the
//! protobuf bodies. The assertions read those bodies as bytes: a trace id travels as its 16
//! raw bytes and strings as UTF-8, which is enough to tell which trace the spans belong to and
//! whether event data leaked into them, without decoding protobuf.
//!
//! The runs are driven through the telemetry API the execution driver calls (run and step
//! spans, injection when an event is sent, extraction when a run starts), the same calls in
//! the same order as a served run makes them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nestling_inngest::{
    EventTransform, InngestModuleOptions, RunSpanFields, TraceContextInjector, TracingConfig,
    TracingOptions, otlp_tracer_provider, record_step_result, run_span, step_span, telemetry_layer,
};
use nestling_inngest_protocol::Event;
use opentelemetry::trace::{TraceContextExt, TraceId};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route, handler, post};
use serde_json::{Value, json};
use tracing_opentelemetry::OpenTelemetrySpanExt;
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

/// Runs `order` (triggered without trace context), which sends `payment.requested` from a
/// step, then `charge`, triggered by that event. Returns both runs' trace ids.
fn chained_runs(config: &TracingConfig) -> (TraceId, TraceId) {
    let order_events = [json!({
        "name": "order.created",
        "id": "evt-1",
        "data": { "card": "4242-secret", "customer": "ada@example.com" }
    })];
    let order = run_span(
        RunSpanFields {
            app_id: "shop",
            function_id: "shop-order",
            run_id: "01RUNORDER",
            attempt: 0,
            events: &order_events,
        },
        config,
    );
    let order_trace = order.context().span().span_context().trace_id();

    let sent = {
        let _run = order.enter();
        let step = step_span(
            &order,
            "01RUNORDER",
            "request-payment",
            "hash-1",
            "sendEvent",
            config,
        );
        let _step = step.enter();
        let mut event = Event::new("payment.requested", json!({ "amount": "77-secret" }));
        TraceContextInjector::from_config(config)
            .unwrap()
            .transform(&mut event);
        record_step_result(&step, Ok(&json!({ "ids": ["evt-2"] })), config);
        event
    };
    drop(order);

    let charge_events = [json!({ "name": sent.name, "id": "evt-2", "data": sent.data })];
    let charge = run_span(
        RunSpanFields {
            app_id: "shop",
            function_id: "shop-charge",
            run_id: "01RUNCHARGE",
            attempt: 0,
            events: &charge_events,
        },
        config,
    );
    let charge_trace = charge.context().span().span_context().trace_id();
    {
        let _run = charge.enter();
        let step = step_span(&charge, "01RUNCHARGE", "capture", "hash-2", "run", config);
        let _step = step.enter();
        record_step_result(&step, Ok(&json!({ "captured": "99-secret" })), config);
    }
    drop(charge);

    (order_trace, charge_trace)
}

async fn export_chain(include_event_data: bool) -> (TraceId, TraceId, Vec<u8>) {
    let (endpoint, bodies) = receiver().await;
    let config = tracing_config(&endpoint, include_event_data);
    let provider = otlp_tracer_provider(&config)
        .unwrap()
        .expect("an endpoint is configured");
    let subscriber = tracing_subscriber::registry().with(telemetry_layer(&provider, &config));

    let (order, charge) = tracing::subscriber::with_default(subscriber, || chained_runs(&config));

    // Flushing waits for the export thread's reply; keep it off the runtime's workers.
    let flushed = tokio::task::spawn_blocking(move || provider.force_flush())
        .await
        .unwrap();
    flushed.unwrap();
    let mut received = Vec::new();
    for _ in 0..50 {
        received = bodies.lock().unwrap().concat();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    (order, charge, received)
}

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chained_runs_share_one_trace_and_keep_event_data_out() {
    let (order, charge, body) = export_chain(false).await;

    assert_ne!(order, TraceId::INVALID);
    assert_eq!(order, charge, "the triggered run joins the sender's trace");

    let trace_bytes = order.to_bytes();
    assert_eq!(
        occurrences(&body, &trace_bytes),
        4,
        "all four spans are in the one trace"
    );
    for expected in [
        "inngest.function.run",
        "inngest.step",
        "shop-order",
        "shop-charge",
        "request-payment",
        "sendEvent",
        "order.created",
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_data_is_exported_only_when_asked_for() {
    let (_, _, body) = export_chain(true).await;

    assert!(occurrences(&body, b"4242-secret") > 0);
    assert!(
        occurrences(&body, b"77-secret") > 0,
        "the triggered run records its event's data"
    );
    // Step data stays out: include_step_data is still off.
    assert_eq!(occurrences(&body, b"99-secret"), 0);
}

#[test]
fn injection_writes_into_data_and_leaves_arrays_alone() {
    let config = tracing_config("http://127.0.0.1:9", false);
    let injector = TraceContextInjector::from_config(&config).unwrap();

    // Without an OpenTelemetry layer there is no span context, so nothing is written.
    let mut event = Event::new("a", json!({ "x": 1 }));
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

        let mut object = Event::new("a", json!({ "x": 1 }));
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

        let mut array = Event::new("b", json!([1, 2]));
        injector.transform(&mut array);
        assert_eq!(array.data, Value::from(vec![1, 2]));
    });
}
