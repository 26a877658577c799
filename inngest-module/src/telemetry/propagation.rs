//! W3C trace context carried in event data, so that a function triggered by an event joins the
//! trace of the code that sent it.
//!
//! The context is written to `data.<field>` (`traceContext` unless configured) as
//! `{"traceparent": "00-<trace>-<span>-<flags>", "tracestate": "…"}`: inside `data`, because
//! Inngest keeps only `name`, `data`, `user`, `id`, `ts` and `v` of an event, so a context put
//! next to them is lost on the way.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use serde_json::{Map, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The default field of event data that carries the trace context.
pub const TRACE_CONTEXT_FIELD: &str = "traceContext";

/// Writes the W3C trace context of `cx` into `data.<field>`.
///
/// Nothing is written when `cx` has no valid span, when the field is already set (a context
/// put there on purpose wins), or when `data` is neither an object nor null (an array or a
/// scalar is left exactly as it was). Null data becomes an object holding only the context.
/// Returns whether the context was written.
///
/// # Examples
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// use opentelemetry::Context;
/// use nestling_inngest::inject_trace_context;
///
/// let span = SpanContext::new(
///     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
///     SpanId::from_hex("00f067aa0ba902b7").unwrap(),
///     TraceFlags::SAMPLED,
///     true,
///     TraceState::default(),
/// );
/// let cx = Context::new().with_remote_span_context(span);
///
/// let mut data = serde_json::json!({ "orderId": 7 });
/// assert!(inject_trace_context(&mut data, "traceContext", &cx));
/// assert_eq!(
///     data["traceContext"]["traceparent"],
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
/// );
///
/// let mut list = serde_json::json!([1, 2]);
/// assert!(!inject_trace_context(&mut list, "traceContext", &cx));
/// assert_eq!(list, serde_json::json!([1, 2]));
/// ```
pub fn inject_trace_context(data: &mut Value, field: &str, cx: &Context) -> bool {
    if !cx.span().span_context().is_valid() {
        return false;
    }
    if data.is_null() {
        *data = Value::Object(Map::new());
    }
    let Some(object) = data.as_object_mut() else {
        return false;
    };
    if object.contains_key(field) {
        return false;
    }

    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(cx, &mut carrier);
    let carrier: Map<String, Value> = carrier
        .into_iter()
        .map(|(key, value)| (key, Value::String(value)))
        .collect();
    object.insert(field.to_owned(), Value::Object(carrier));

    true
}

/// Writes the context of the current `tracing` span into `data.<field>` (see
/// [`inject_trace_context`]).
pub fn inject_current_trace_context(data: &mut Value, field: &str) -> bool {
    inject_trace_context(data, field, &tracing::Span::current().context())
}

/// Reads the W3C trace context an event carries, from `data.<field>` or, for events sent by
/// older code, from the event's own `<field>`. The carrier may be an object with
/// `traceparent` (and `tracestate`) or a bare `traceparent` string. Returns `None` when there
/// is none or it is malformed.
///
/// # Examples
///
/// ```
/// use opentelemetry::trace::TraceContextExt;
/// use nestling_inngest::extract_trace_context;
///
/// let event = serde_json::json!({
///     "name": "order.created",
///     "data": { "traceContext": {
///         "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
///     } }
/// });
/// let cx = extract_trace_context(&event, "traceContext").unwrap();
/// assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
///
/// let bad = serde_json::json!({ "data": { "traceContext": "00-nothex-00f067aa0ba902b7-01" } });
/// assert!(extract_trace_context(&bad, "traceContext").is_none());
/// ```
pub fn extract_trace_context(event: &Value, field: &str) -> Option<Context> {
    let carrier = event
        .get("data")
        .and_then(|data| data.get(field))
        .or_else(|| event.get(field))?;
    let carrier = match carrier {
        Value::String(traceparent) => JsonCarrier::Single(traceparent),
        Value::Object(object) => JsonCarrier::Object(object),
        _ => return None,
    };

    let cx = TraceContextPropagator::new().extract(&carrier);
    cx.span().span_context().is_valid().then_some(cx)
}

/// The first event of `events` that carries a trace context, extracted.
pub fn extract_trace_context_from_events(events: &[Value], field: &str) -> Option<Context> {
    events
        .iter()
        .find_map(|event| extract_trace_context(event, field))
}

enum JsonCarrier<'a> {
    Single(&'a str),
    Object(&'a Map<String, Value>),
}

impl Extractor for JsonCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match self {
            Self::Single(traceparent) => (key == "traceparent").then_some(*traceparent),
            Self::Object(object) => object
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(key))
                .and_then(|(_, value)| value.as_str()),
        }
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Self::Single(_) => vec!["traceparent"],
            Self::Object(object) => object.keys().map(String::as_str).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use serde_json::json;

    use super::*;

    fn context() -> Context {
        let span = SpanContext::new(
            TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
            SpanId::from_hex("b7ad6b7169203331").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_key_value([("vendor", "x")]).unwrap(),
        );
        Context::new().with_remote_span_context(span)
    }

    #[test]
    fn injected_context_round_trips_through_the_event() {
        let mut data = json!({ "userId": "u1" });
        assert!(inject_trace_context(&mut data, "otel", &context()));
        assert_eq!(data["userId"], "u1");
        assert_eq!(data["otel"]["tracestate"], "vendor=x");

        let event = json!({ "name": "user.created", "data": data });
        let cx = extract_trace_context(&event, "otel").unwrap();
        let span = cx.span().span_context().clone();
        assert_eq!(
            span.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(span.span_id().to_string(), "b7ad6b7169203331");
        assert!(span.is_remote() && span.is_sampled());
    }

    #[test]
    fn existing_fields_null_data_and_empty_contexts() {
        let mut data = json!({ "traceContext": "mine" });
        assert!(!inject_trace_context(&mut data, "traceContext", &context()));
        assert_eq!(data["traceContext"], "mine");

        let mut null = Value::Null;
        assert!(inject_trace_context(&mut null, "traceContext", &context()));
        assert!(null["traceContext"]["traceparent"].is_string());

        let mut untouched = json!({});
        assert!(!inject_trace_context(
            &mut untouched,
            "traceContext",
            &Context::new()
        ));
        assert_eq!(untouched, json!({}));
    }

    #[test]
    fn extraction_accepts_the_top_level_and_rejects_garbage() {
        let top = json!({
            "data": {},
            "traceContext": { "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }
        });
        assert!(extract_trace_context(&top, "traceContext").is_some());

        for carrier in [
            json!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"),
            json!("00-00000000000000000000000000000000-b7ad6b7169203331-01"),
            json!({ "traceparent": 42 }),
            json!(17),
        ] {
            let event = json!({ "data": { "traceContext": carrier } });
            assert!(
                extract_trace_context(&event, "traceContext").is_none(),
                "{carrier}"
            );
        }

        let events = [json!({ "data": {} }), top];
        assert!(extract_trace_context_from_events(&events, "traceContext").is_some());
    }
}
