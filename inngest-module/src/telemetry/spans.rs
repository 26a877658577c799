//! Spans for function runs and steps, with stable names and attributes.
//!
//! | span | attributes |
//! |---|---|
//! | `inngest.function.run` | `inngest.app.id`, `inngest.function.id`, `inngest.run.id`, `inngest.attempt`, `inngest.event.name`, `inngest.event.id`, and `inngest.event.data` only with `include_event_data` |
//! | `inngest.step` | `inngest.run.id`, `inngest.step.id`, `inngest.step.hashed_id`, `inngest.step.op`, and `inngest.step.output` only with `include_step_data` |
//!
//! Both also carry the configured default attributes. Errors set the span status.
//! `inngest.step.op` is the kind of step: `run` or `sendEvent` for a step whose body ran in
//! the call, `sleep`, `waitForEvent`, `invoke` or `planned` (a step of a parallel group) for
//! one the call only reported to the executor, whose span opens and closes at once.
//!
//! A run's span is parented by the trace context its triggering event carries. Without one,
//! its parent is a remote context derived from the run id alone, so every call of one run
//! (the executor calls a run once per step, possibly on different replicas) lands in the same
//! trace even though no span is shared between the calls.

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use serde_json::Value;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::propagation::extract_trace_context_from_events;
use crate::TracingConfig;

/// Name of the span of one call of a function run.
pub const RUN_SPAN_NAME: &str = "inngest.function.run";

/// Name of the span of one step.
pub const STEP_SPAN_NAME: &str = "inngest.step";

/// What a run span records.
#[derive(Debug, Clone, Copy)]
pub struct RunSpanFields<'a> {
    /// The app's id.
    pub app_id: &'a str,
    /// Composite function id, `<app>-<function>`.
    pub function_id: &'a str,
    /// The run id.
    pub run_id: &'a str,
    /// 0-based attempt.
    pub attempt: u32,
    /// The triggering events, as JSON.
    pub events: &'a [Value],
}

/// Opens the span of one call of a run: attributes from `fields`, the parent from the events'
/// trace context (or derived from the run id), event data only when
/// `config.include_event_data`.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{RunSpanFields, run_span, TracingConfig, InngestModuleOptions};
/// use std::collections::BTreeMap;
///
/// let options = InngestModuleOptions::new("shop").resolve(&BTreeMap::from([("INNGEST_DEV", "1")]))?;
/// let events = [serde_json::json!({ "name": "order.created", "data": { "card": "4242" } })];
/// let span = run_span(
///     RunSpanFields { app_id: "shop", function_id: "shop-charge", run_id: "01J0", attempt: 0, events: &events },
///     &options.tracing,
/// );
/// let _entered = span.enter();
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
pub fn run_span(fields: RunSpanFields<'_>, config: &TracingConfig) -> tracing::Span {
    let RunSpanFields {
        app_id,
        function_id,
        run_id,
        attempt,
        events,
    } = fields;
    let first = events.first();
    let event_name = first
        .and_then(|event| event.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let event_id = first
        .and_then(|event| event.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("");

    let span = tracing::info_span!(
        target: "nestling_inngest::run",
        "inngest.function.run",
        otel.kind = "consumer",
        otel.status_code = Empty,
        otel.status_message = Empty,
        inngest.app.id = app_id,
        inngest.function.id = function_id,
        inngest.run.id = run_id,
        inngest.attempt = u64::from(attempt),
        inngest.event.name = event_name,
        inngest.event.id = event_id,
        inngest.event.data = Empty,
    );

    if config.include_event_data {
        let data: Vec<&Value> = events
            .iter()
            .filter_map(|event| event.get("data"))
            .collect();
        let data = if data.len() == 1 {
            data[0].to_string()
        } else {
            Value::from(data.into_iter().cloned().collect::<Vec<_>>()).to_string()
        };
        span.record("inngest.event.data", data.as_str());
    }

    let parent = extract_trace_context_from_events(events, &config.context_field_name)
        .unwrap_or_else(|| run_context(run_id));
    // Fails only when no OpenTelemetry layer is installed, and then there is nothing to link.
    let _ = span.set_parent(parent);
    add_default_attributes(&span, config);

    span
}

/// Opens the span of one step, as a child of `run`; step output is recorded by
/// [`record_step_result`] only when `config.include_step_data`.
pub fn step_span(
    run: &tracing::Span,
    run_id: &str,
    step_id: &str,
    hashed_id: &str,
    op: &str,
    config: &TracingConfig,
) -> tracing::Span {
    let span = tracing::info_span!(
        target: "nestling_inngest::step",
        parent: run,
        "inngest.step",
        otel.status_code = Empty,
        otel.status_message = Empty,
        inngest.run.id = run_id,
        inngest.step.id = step_id,
        inngest.step.hashed_id = hashed_id,
        inngest.step.op = op,
        inngest.step.output = Empty,
    );
    add_default_attributes(&span, config);

    span
}

/// Records how a step ended: an error sets the span's status; the output is recorded only
/// when `config.include_step_data`.
pub fn record_step_result(
    span: &tracing::Span,
    result: Result<&Value, &str>,
    config: &TracingConfig,
) {
    match result {
        Ok(output) => {
            if config.include_step_data {
                span.record("inngest.step.output", output.to_string().as_str());
            }
            span.record("otel.status_code", "OK");
        }
        Err(message) => {
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_message", message);
        }
    }
}

/// Records how a call of a run ended: an error sets the span's status.
pub fn record_run_result(span: &tracing::Span, result: Result<(), &str>) {
    match result {
        Ok(()) => {
            span.record("otel.status_code", "OK");
        }
        Err(message) => {
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_message", message);
        }
    }
}

/// The remote parent of a run without an incoming trace context: trace id and span id derived
/// from the run id (FNV-1a), so they are the same in every process that calls the run.
pub fn run_context(run_id: &str) -> Context {
    let trace = fnv1a_128(run_id.as_bytes());
    let span = fnv1a_64(run_id.as_bytes()) | 1;
    let trace = if trace == 0 { 1 } else { trace };

    let span_context = SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(span_context)
}

fn add_default_attributes(span: &tracing::Span, config: &TracingConfig) {
    for (key, value) in &config.default_attributes {
        span.set_attribute(key.clone(), value.clone());
    }
}

fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    bytes.iter().fold(OFFSET, |hash, byte| {
        (hash ^ u128::from(*byte)).wrapping_mul(PRIME)
    })
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derived_context_depends_on_the_run_id_only() {
        let a = run_context("01HZX3");
        let b = run_context("01HZX3");
        let c = run_context("01HZX4");
        let id = |cx: &Context| cx.span().span_context().trace_id();
        assert_eq!(id(&a), id(&b));
        assert_ne!(id(&a), id(&c));
        assert!(a.span().span_context().is_valid());
        // Published FNV-1a 128 vector for the empty input, to pin the algorithm.
        assert_eq!(fnv1a_128(b""), 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
