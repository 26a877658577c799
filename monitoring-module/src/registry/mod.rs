//! A small in-process metrics registry: counters, gauges and histograms with labels, encoded in
//! the Prometheus text exposition format.
//!
//! The registry is cheap to clone (all clones share the same metrics). Registration is
//! idempotent: asking twice for the same name with the same type, help and labels returns the
//! same family, so independent parts of an app can share a metric without coordinating.

mod encode;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use crate::Error;

pub use encode::PROMETHEUS_CONTENT_TYPE;
use value::{AtomicF64, HistogramCore};

/// Bucket bounds (seconds) for durations of durable runs, which span milliseconds to hours.
pub const RUN_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    3600.0, 21600.0, 86400.0,
];

/// The kind of a metric family, as written on its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A value that only goes up (`counter`).
    Counter,
    /// A value that goes up and down (`gauge`).
    Gauge,
    /// Observations counted into buckets (`histogram`).
    Histogram,
}

impl MetricKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// A collector runs right before every encoding, to refresh gauges sampled from elsewhere
/// (for example the process's memory).
type Collector = Arc<dyn Fn() + Send + Sync>;

/// The shared metrics registry.
///
/// # Examples
///
/// ```
/// use nestling_monitoring::MetricsRegistry;
///
/// let registry = MetricsRegistry::new();
/// let orders = registry
///     .counter_vec("shop_orders_total", "Orders placed", &["region"])
///     .unwrap();
/// orders.with_labels(&["eu"]).unwrap().inc();
///
/// let text = registry.encode_prometheus();
/// assert!(text.contains("# TYPE shop_orders_total counter"));
/// assert!(text.contains("shop_orders_total{region=\"eu\"} 1"));
/// ```
#[derive(Clone, Default)]
pub struct MetricsRegistry {
    families: Arc<RwLock<BTreeMap<String, Arc<Family>>>>,
    collectors: Arc<RwLock<Vec<Collector>>>,
}

impl fmt::Debug for MetricsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = read(&self.families).keys().cloned().collect();
        f.debug_struct("MetricsRegistry")
            .field("families", &names)
            .finish_non_exhaustive()
    }
}

impl MetricsRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or finds) a counter family with the given label names.
    ///
    /// # Errors
    /// [`Error::InvalidMetricName`], [`Error::InvalidLabelName`], or [`Error::Conflict`] when
    /// the name is taken by a metric of another type, help or label set.
    pub fn counter_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<CounterVec, Error> {
        self.family(name, help, labels, FamilyKind::Counter)
            .map(|family| CounterVec { family })
    }

    /// Registers (or finds) a counter without labels.
    ///
    /// # Errors
    /// As for [`MetricsRegistry::counter_vec`].
    pub fn counter(&self, name: &str, help: &str) -> Result<Counter, Error> {
        self.counter_vec(name, help, &[])?.with_labels(&[])
    }

    /// Registers (or finds) a gauge family with the given label names.
    ///
    /// # Errors
    /// As for [`MetricsRegistry::counter_vec`].
    pub fn gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> Result<GaugeVec, Error> {
        self.family(name, help, labels, FamilyKind::Gauge)
            .map(|family| GaugeVec { family })
    }

    /// Registers (or finds) a gauge without labels.
    ///
    /// # Errors
    /// As for [`MetricsRegistry::counter_vec`].
    pub fn gauge(&self, name: &str, help: &str) -> Result<Gauge, Error> {
        self.gauge_vec(name, help, &[])?.with_labels(&[])
    }

    /// Registers (or finds) a histogram family with the given bucket upper bounds (the `+Inf`
    /// bucket is implicit) and label names.
    ///
    /// # Errors
    /// As for [`MetricsRegistry::counter_vec`], plus [`Error::InvalidBuckets`] when the bounds
    /// are empty, not finite or not strictly increasing, and [`Error::InvalidLabelName`] for a
    /// label named `le`.
    pub fn histogram_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Result<HistogramVec, Error> {
        let increasing = buckets.windows(2).all(|pair| pair[0] < pair[1]);
        if buckets.is_empty() || !increasing || buckets.iter().any(|b| !b.is_finite()) {
            return Err(Error::InvalidBuckets {
                metric: name.to_owned(),
                buckets: buckets.to_vec(),
            });
        }
        if let Some(label) = labels.iter().find(|label| **label == "le") {
            return Err(Error::InvalidLabelName {
                metric: name.to_owned(),
                label: (*label).to_owned(),
            });
        }

        let kind = FamilyKind::Histogram(buckets.into());
        self.family(name, help, labels, kind)
            .map(|family| HistogramVec { family })
    }

    /// Registers (or finds) a histogram without labels.
    ///
    /// # Errors
    /// As for [`MetricsRegistry::histogram_vec`].
    pub fn histogram(&self, name: &str, help: &str, buckets: &[f64]) -> Result<Histogram, Error> {
        self.histogram_vec(name, help, &[], buckets)?
            .with_labels(&[])
    }

    /// Adds a function that runs before every encoding, to refresh sampled values.
    pub fn add_collector(&self, collector: impl Fn() + Send + Sync + 'static) {
        write(&self.collectors).push(Arc::new(collector));
    }

    /// The names of the registered families, sorted.
    pub fn names(&self) -> Vec<String> {
        read(&self.families).keys().cloned().collect()
    }

    /// Encodes every family in the Prometheus text exposition format (version 0.0.4), families
    /// sorted by name and series by label values.
    pub fn encode_prometheus(&self) -> String {
        let collectors: Vec<Collector> = read(&self.collectors).clone();
        for collector in collectors {
            collector();
        }

        let families: Vec<Arc<Family>> = read(&self.families).values().cloned().collect();
        let mut out = String::new();
        for family in families {
            encode::family(&mut out, &family);
        }

        out
    }

    /// Name, kind and help of every family, for exporters that mirror the registry.
    pub(crate) fn families(&self) -> Vec<(String, MetricKind, String)> {
        read(&self.families)
            .values()
            .map(|family| {
                (
                    family.name.clone(),
                    family.kind.metric_kind(),
                    family.help.clone(),
                )
            })
            .collect()
    }

    /// The series of a family as `(labels, value)`; for a histogram the value is its sum and
    /// `count` is set, for counters and gauges `count` is `None`.
    pub(crate) fn series_values(&self, name: &str) -> Vec<SeriesValue> {
        let Some(family) = read(&self.families).get(name).cloned() else {
            return Vec::new();
        };
        let series = lock(&family.series);
        series
            .iter()
            .map(|(values, series)| {
                let labels = family
                    .label_names
                    .iter()
                    .cloned()
                    .zip(values.iter().cloned())
                    .collect();
                match series {
                    Series::Scalar(value) => SeriesValue {
                        labels,
                        value: value.get(),
                        count: None,
                    },
                    Series::Histogram(core) => {
                        let snapshot = core.snapshot();
                        SeriesValue {
                            labels,
                            value: snapshot.sum,
                            count: Some(snapshot.count),
                        }
                    }
                }
            })
            .collect()
    }

    fn family(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        kind: FamilyKind,
    ) -> Result<Arc<Family>, Error> {
        validate_metric_name(name)?;
        for label in labels {
            validate_label_name(name, label)?;
        }

        let mut families = write(&self.families);
        if let Some(existing) = families.get(name) {
            let same = existing.kind == kind
                && existing.help == help
                && existing
                    .label_names
                    .iter()
                    .map(String::as_str)
                    .eq(labels.iter().copied());
            if same {
                return Ok(Arc::clone(existing));
            }
            return Err(Error::Conflict {
                name: name.to_owned(),
                existing: existing.describe(),
            });
        }

        let family = Arc::new(Family {
            name: name.to_owned(),
            help: help.to_owned(),
            kind,
            label_names: labels.iter().map(|label| (*label).to_owned()).collect(),
            series: Mutex::new(BTreeMap::new()),
        });
        families.insert(name.to_owned(), Arc::clone(&family));

        Ok(family)
    }
}

/// One series' labels and value, as read by [`MetricsRegistry::series_values`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeriesValue {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: f64,
    pub(crate) count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum FamilyKind {
    Counter,
    Gauge,
    Histogram(Arc<[f64]>),
}

impl FamilyKind {
    fn metric_kind(&self) -> MetricKind {
        match self {
            Self::Counter => MetricKind::Counter,
            Self::Gauge => MetricKind::Gauge,
            Self::Histogram(_) => MetricKind::Histogram,
        }
    }
}

#[derive(Debug, Clone)]
enum Series {
    Scalar(Arc<AtomicF64>),
    Histogram(Arc<HistogramCore>),
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    kind: FamilyKind,
    label_names: Vec<String>,
    series: Mutex<BTreeMap<Vec<String>, Series>>,
}

impl Family {
    fn describe(&self) -> String {
        format!(
            "a {} with labels [{}]",
            self.kind.metric_kind().as_str(),
            self.label_names.join(", ")
        )
    }

    fn series(&self, values: &[&str]) -> Result<Series, Error> {
        if values.len() != self.label_names.len() {
            return Err(Error::LabelCount {
                metric: self.name.clone(),
                labels: self.label_names.join(", "),
                expected: self.label_names.len(),
                given: values.len(),
            });
        }

        let key: Vec<String> = values.iter().map(|value| (*value).to_owned()).collect();
        let mut series = lock(&self.series);
        let entry = series.entry(key).or_insert_with(|| match &self.kind {
            FamilyKind::Counter | FamilyKind::Gauge => Series::Scalar(Arc::default()),
            FamilyKind::Histogram(bounds) => {
                Series::Histogram(Arc::new(HistogramCore::new(Arc::clone(bounds))))
            }
        });

        Ok(entry.clone())
    }
}

macro_rules! family_handle {
    ($vec:ident, $handle:ident, $what:literal) => {
        #[doc = concat!("A family of ", $what, "s sharing a name and label names.")]
        #[derive(Debug, Clone)]
        pub struct $vec {
            family: Arc<Family>,
        }

        impl $vec {
            #[doc = concat!("The ", $what, " for these label values (created at zero).")]
            ///
            /// # Errors
            /// [`Error::LabelCount`] when the number of values differs from the label names.
            pub fn with_labels(&self, values: &[&str]) -> Result<$handle, Error> {
                Ok($handle::from_series(self.family.series(values)?))
            }
        }
    };
}

family_handle!(CounterVec, Counter, "counter");
family_handle!(GaugeVec, Gauge, "gauge");
family_handle!(HistogramVec, Histogram, "histogram");

/// A counter: a value that only goes up.
#[derive(Debug, Clone)]
pub struct Counter {
    value: Arc<AtomicF64>,
}

impl Counter {
    fn from_series(series: Series) -> Self {
        match series {
            Series::Scalar(value) => Self { value },
            Series::Histogram(_) => unreachable_kind(),
        }
    }

    /// Adds one.
    pub fn inc(&self) {
        self.value.add(1.0);
    }

    /// Adds `amount`. Negative and non-finite amounts are ignored: a counter never goes down.
    pub fn inc_by(&self, amount: f64) {
        if amount.is_finite() && amount > 0.0 {
            self.value.add(amount);
        }
    }

    /// Sets the counter to an externally counted total (for example CPU seconds read from the
    /// kernel). A value below the current one is ignored, so the counter stays monotonic.
    pub fn set_total(&self, total: f64) {
        if total.is_finite() {
            self.value.max(total);
        }
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.value.get()
    }
}

/// A gauge: a value that goes up and down.
#[derive(Debug, Clone)]
pub struct Gauge {
    value: Arc<AtomicF64>,
}

impl Gauge {
    fn from_series(series: Series) -> Self {
        match series {
            Series::Scalar(value) => Self { value },
            Series::Histogram(_) => unreachable_kind(),
        }
    }

    /// Sets the value.
    pub fn set(&self, value: f64) {
        self.value.set(value);
    }

    /// Adds `amount` (which may be negative).
    pub fn add(&self, amount: f64) {
        self.value.add(amount);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.value.add(1.0);
    }

    /// Subtracts one.
    pub fn dec(&self) {
        self.value.add(-1.0);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.value.get()
    }
}

/// A histogram: observations counted into cumulative buckets, with their sum and count.
#[derive(Debug, Clone)]
pub struct Histogram {
    core: Arc<HistogramCore>,
}

impl Histogram {
    fn from_series(series: Series) -> Self {
        match series {
            Series::Histogram(core) => Self { core },
            Series::Scalar(_) => unreachable_kind(),
        }
    }

    /// Records one observation. NaN is ignored.
    pub fn observe(&self, value: f64) {
        if !value.is_nan() {
            self.core.observe(value);
        }
    }

    /// How many observations were recorded.
    pub fn count(&self) -> u64 {
        self.core.snapshot().count
    }

    /// The sum of all observations.
    pub fn sum(&self) -> f64 {
        self.core.snapshot().sum
    }
}

/// Families are created with one kind and their series with the same kind, so a handle of the
/// wrong kind cannot be built; this is the branch the type system cannot rule out.
fn unreachable_kind() -> ! {
    unreachable!("a metric family only ever holds series of its own kind")
}

fn validate_metric_name(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let valid_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if valid_first && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(Error::InvalidMetricName {
            name: name.to_owned(),
        })
    }
}

fn validate_label_name(metric: &str, label: &str) -> Result<(), Error> {
    let mut chars = label.chars();
    let valid_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if valid_first
        && !label.starts_with("__")
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(())
    } else {
        Err(Error::InvalidLabelName {
            metric: metric.to_owned(),
            label: label.to_owned(),
        })
    }
}

// A panic while a lock is held leaves plain numbers behind, which are still valid, so a poisoned
// lock is used as is rather than spreading the panic to every scrape.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock<T>(lock: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    lock.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_is_idempotent_and_conflicts_are_named() {
        let registry = MetricsRegistry::new();
        let a = registry
            .counter_vec("jobs_total", "Jobs", &["queue"])
            .unwrap();
        let b = registry
            .counter_vec("jobs_total", "Jobs", &["queue"])
            .unwrap();
        a.with_labels(&["q1"]).unwrap().inc();
        assert_eq!(b.with_labels(&["q1"]).unwrap().get(), 1.0);

        let err = registry
            .gauge_vec("jobs_total", "Jobs", &["queue"])
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("jobs_total") && message.contains("counter"),
            "{message}"
        );
    }

    #[test]
    fn bad_names_labels_and_buckets_are_rejected() {
        let registry = MetricsRegistry::new();
        assert!(matches!(
            registry.counter("9lives", "x"),
            Err(Error::InvalidMetricName { .. })
        ));
        assert!(matches!(
            registry.counter_vec("ok_total", "x", &["bad-label"]),
            Err(Error::InvalidLabelName { .. })
        ));
        assert!(matches!(
            registry.counter_vec("ok2_total", "x", &["__reserved"]),
            Err(Error::InvalidLabelName { .. })
        ));
        assert!(matches!(
            registry.histogram_vec("h_seconds", "x", &["le"], &[1.0]),
            Err(Error::InvalidLabelName { .. })
        ));
        assert!(matches!(
            registry.histogram("h2_seconds", "x", &[1.0, 1.0]),
            Err(Error::InvalidBuckets { .. })
        ));
        assert!(matches!(
            registry.histogram("h3_seconds", "x", &[]),
            Err(Error::InvalidBuckets { .. })
        ));

        let family = registry
            .counter_vec("pairs_total", "x", &["a", "b"])
            .unwrap();
        let err = family.with_labels(&["only-one"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("takes 2 label value(s) (a, b), but 1 were given")
        );
    }

    #[test]
    fn counters_never_go_down() {
        let registry = MetricsRegistry::new();
        let counter = registry.counter("c_total", "x").unwrap();
        counter.inc_by(2.5);
        counter.inc_by(-1.0);
        counter.inc_by(f64::NAN);
        counter.set_total(1.0);
        assert_eq!(counter.get(), 2.5);
        counter.set_total(4.0);
        assert_eq!(counter.get(), 4.0);
    }
}
