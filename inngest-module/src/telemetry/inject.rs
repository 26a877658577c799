//! The event transform that stamps sent events with the current trace context.

use nestling_inngest_protocol::Event;

use super::propagation::inject_current_trace_context;
use std::sync::Arc;

use crate::{EventTransform, InngestService, TracingConfig};

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

/// Adds a [`TraceContextInjector`] to `service` when its `tracing` options turn tracing and
/// context injection on, so every event it sends carries the sender's trace context. Returns
/// whether it was added. The Inngest module calls this once when it builds the service.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Arc;
/// use nestling_inngest::{
///     DefaultInngestService, InngestModuleOptions, TracingOptions, attach_trace_context_injection,
/// };
///
/// let env = BTreeMap::from([("INNGEST_DEV", "1")]);
/// let options = InngestModuleOptions::new("shop")
///     .tracing(TracingOptions::default().enabled(true))
///     .resolve(&env)?;
/// let service = DefaultInngestService::new(options, Arc::new(|_: &str, _: &str| Vec::new()))?;
/// assert!(attach_trace_context_injection(&service));
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
pub fn attach_trace_context_injection(service: &dyn InngestService) -> bool {
    let Some(injector) = TraceContextInjector::from_config(&service.options().tracing) else {
        return false;
    };
    service.add_event_transform(Arc::new(injector));

    true
}

impl EventTransform for TraceContextInjector {
    fn transform(&self, event: &mut Event) {
        inject_current_trace_context(&mut event.data, &self.field);
    }
}
