//! The crate's error type.

/// Everything that can go wrong in `nestling-monitoring`.
///
/// Each message names the metric or option at fault and says how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error(
        "monitoring: metric name `{name}` is invalid; use letters, digits, `_` and `:`, not starting with a digit"
    )]
    InvalidMetricName {
        /// The rejected name.
        name: String,
    },

    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`, starts with `__`, or is reserved.
    #[error(
        "monitoring: label `{label}` of metric `{metric}` is invalid; use letters, digits and `_`, not starting with a digit or `__`, and not `le` on a histogram"
    )]
    InvalidLabelName {
        /// The metric the label belongs to.
        metric: String,
        /// The rejected label name.
        label: String,
    },

    /// A metric was registered twice with a different type, help text or label set.
    #[error(
        "monitoring: metric `{name}` is already registered as {existing}; register it once, or use another name"
    )]
    Conflict {
        /// The metric name.
        name: String,
        /// How the metric was registered first (type and labels).
        existing: String,
    },

    /// Label values were given in a number that does not match the metric's label names.
    #[error(
        "monitoring: metric `{metric}` takes {expected} label value(s) ({labels}), but {given} were given"
    )]
    LabelCount {
        /// The metric name.
        metric: String,
        /// The label names the metric was registered with.
        labels: String,
        /// How many label names there are.
        expected: usize,
        /// How many values were passed.
        given: usize,
    },

    /// Histogram buckets are empty, not finite, or not strictly increasing.
    #[error(
        "monitoring: buckets of histogram `{metric}` must be finite and strictly increasing, got {buckets:?}"
    )]
    InvalidBuckets {
        /// The metric name.
        metric: String,
        /// The rejected bucket bounds.
        buckets: Vec<f64>,
    },

    /// The process's own statistics could not be read (for example, no `/proc` on this system).
    #[error("monitoring: cannot read process statistics from {path}: {source}")]
    ProcessStats {
        /// The file that could not be read or parsed.
        path: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The OTLP metrics exporter could not be built from the options or `OTEL_*` variables.
    #[error(
        "monitoring: cannot build the OTLP metrics exporter: {0}; check OTEL_EXPORTER_OTLP_ENDPOINT"
    )]
    Otlp(String),
}
