//! The event transform that stamps sent events with the current trace context.

use nestling_inngest_protocol::Event;

use super::propagation::inject_current_trace_context;
use crate::{EventTransform, TracingConfig};

/// Writes the current span's W3C trace context into `data.<field>` of every event the
/// service sends (`InngestService::send`, `send_many`, and steps that send events).
///
/// The module adds it with `InngestService::add_event_transform` when tracing and context
/// injection are on.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{EventTransform, TraceContextInjector};
/// use nestling_inngest_protocol::Event;
///
/// let injector = TraceContextInjector::new("traceContext");
/// let mut event = Event::new("order.created", serde_json::json!({ "id": 1 }));
/// // Outside any exported span there is no context to write, and the event is unchanged.
/// injector.transform(&mut event);
/// assert_eq!(event.data, serde_json::json!({ "id": 1 }));
/// ```
#[derive(Debug, Clone)]
pub struct TraceContextInjector {
    field: String,
}

impl TraceContextInjector {
    /// Injects at `data.<field>`.
    pub fn new(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
        }
    }

    /// The injector the `tracing` options ask for, or `None` when tracing or injection is off.
    pub fn from_config(config: &TracingConfig) -> Option<Self> {
        (config.enabled && config.inject_context)
            .then(|| Self::new(config.context_field_name.clone()))
    }
}

impl EventTransform for TraceContextInjector {
    fn transform(&self, event: &mut Event) {
        inject_current_trace_context(&mut event.data, &self.field);
    }
}
