//! Tracing of function runs and steps with OpenTelemetry, and W3C trace context carried in
//! events.
//!
//! - [`run_span`] and [`step_span`] open spans with stable names and attributes; event and
//!   step data stay out of them unless `include_event_data` / `include_step_data`.
//!   [`TracingMiddleware`] is how the execution driver uses them: the Inngest module puts it
//!   first among the middleware when tracing is on, so every call of a run and every step is
//!   traced without user code.
//! - [`inject_trace_context`] writes the current trace context into `data.<field>` of an event
//!   being sent (see [`TraceContextInjector`]); [`extract_trace_context`] reads it back when a
//!   run starts, so the triggered function's spans join the sender's trace.
//! - [`init_telemetry`] (or [`otlp_tracer_provider`] plus [`telemetry_layer`] for an existing
//!   subscriber) exports spans over OTLP/HTTP to the endpoint in the `tracing` options or the
//!   standard `OTEL_EXPORTER_OTLP_*` variables.

mod export;
mod inject;
mod middleware;
mod propagation;
mod spans;

pub use export::{
    ExportThread, TelemetryError, TelemetryGuard, init_telemetry, otlp_tracer_provider,
    otlp_traces_endpoint, telemetry_layer,
};
pub use inject::{TraceContextInjector, attach_trace_context_injection};
pub use middleware::TracingMiddleware;
pub use propagation::{
    TRACE_CONTEXT_FIELD, extract_trace_context, extract_trace_context_from_events,
    inject_current_trace_context, inject_trace_context,
};
pub use spans::{
    RUN_SPAN_NAME, RunSpanFields, STEP_SPAN_NAME, record_run_result, record_step_result,
    run_context, run_span, step_span,
};
