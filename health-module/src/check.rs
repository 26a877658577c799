//! Running indicators together and reporting the outcome in terminus's shape, with an optional
//! background loop that keeps the latest reports.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::indicator::{HealthIndicator, IndicatorResult};

/// A check that has not answered by then is reported down.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The overall status of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// Every indicator is up.
    Ok,
    /// At least one indicator is down.
    Error,
    /// The app is shutting down: readiness reports it so traffic drains away.
    ShuttingDown,
}

impl HealthState {
    /// The `status` field: `ok`, `error` or `shutting_down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::ShuttingDown => "shutting_down",
        }
    }
}

/// The outcome of running a set of indicators.
///
/// Its JSON is terminus's: `{"status", "info": {key: …} (the up ones), "error": {key: …} (the
/// down ones), "details": {key: …} (all)}`, answered with 200 when `ok` and 503 otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// The overall status.
    pub status: HealthState,
    /// Every indicator's result, in the order they were given.
    pub results: Vec<IndicatorResult>,
    /// When the checks ran.
    pub checked_at: SystemTime,
}

impl HealthReport {
    /// A report over `results`: `ok` when all are up.
    pub fn from_results(results: Vec<IndicatorResult>) -> Self {
        let status = if results.iter().all(IndicatorResult::is_up) {
            HealthState::Ok
        } else {
            HealthState::Error
        };
        Self {
            status,
            results,
            checked_at: SystemTime::now(),
        }
    }

    /// The HTTP status to answer with: 200 when `ok`, 503 otherwise.
    pub fn http_status(&self) -> u16 {
        if self.status == HealthState::Ok {
            200
        } else {
            503
        }
    }

    /// The result under `key`, if an indicator reported one.
    pub fn result(&self, key: &str) -> Option<&IndicatorResult> {
        self.results.iter().find(|result| result.key == key)
    }

    /// The terminus-shaped JSON body.
    pub fn to_json(&self) -> Value {
        let (mut info, mut error, mut details) = (Map::new(), Map::new(), Map::new());
        for result in &self.results {
            let body = result.to_json();
            if result.is_up() {
                info.insert(result.key.clone(), body.clone());
            } else {
                error.insert(result.key.clone(), body.clone());
            }
            details.insert(result.key.clone(), body);
        }

        json!({ "status": self.status.as_str(), "info": info, "error": error, "details": details })
    }
}

/// Runs `indicators` concurrently, each in its own task, so one that hangs or panics is
/// reported down under its position (`indicator_<n>`) without holding up the others.
pub async fn run_indicators(
    indicators: &[Arc<dyn HealthIndicator>],
    timeout: Duration,
) -> HealthReport {
    let handles: Vec<_> = indicators
        .iter()
        .map(|indicator| {
            let indicator = Arc::clone(indicator);
            tokio::spawn(async move { tokio::time::timeout(timeout, indicator.check()).await })
        })
        .collect();

    let mut results = Vec::with_capacity(handles.len());
    for (position, handle) in handles.into_iter().enumerate() {
        let fallback_key = format!("indicator_{position}");
        let result = match handle.await {
            Ok(Ok(result)) => result,
            Ok(Err(_elapsed)) => IndicatorResult::down_because(
                fallback_key,
                format!("check did not answer within {} ms", timeout.as_millis()),
            ),
            Err(join_error) => {
                tracing::warn!(target: "nestling_health::check", position, error = %join_error, "health check panicked");
                IndicatorResult::down_because(fallback_key, "check panicked")
            }
        };
        results.push(result);
    }

    HealthReport::from_results(results)
}

/// Which set of indicators to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Probe {
    /// Is the process alive (restart it if not)?
    Liveness,
    /// Should it receive traffic now?
    Readiness,
}

#[derive(Debug, Default)]
struct ProbeSlot {
    indicators: Vec<Arc<dyn HealthIndicator>>,
    latest: Option<HealthReport>,
}

/// The app's liveness and readiness indicators, which users extend with their own.
///
/// With [`HealthChecks::start_background`], every probe is checked on an interval and the
/// endpoints answer from the latest report, so a probe storm never multiplies the checks.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use nestling_health::{FnIndicator, HealthChecks, IndicatorResult, Probe};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let checks = HealthChecks::new();
/// checks.add(Probe::Readiness, Arc::new(FnIndicator::new("cache", || async {
///     IndicatorResult::down_because("cache", "not warmed up")
/// })));
///
/// let report = checks.check(Probe::Readiness).await;
/// assert_eq!(report.http_status(), 503);
/// assert_eq!(report.to_json()["error"]["cache"]["message"], "not warmed up");
/// # });
/// ```
#[derive(Debug)]
pub struct HealthChecks {
    slots: RwLock<BTreeMap<Probe, ProbeSlot>>,
    timeout: Duration,
    shutting_down: AtomicBool,
    background: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Default for HealthChecks {
    fn default() -> Self {
        Self::with_timeout(DEFAULT_CHECK_TIMEOUT)
    }
}

impl HealthChecks {
    /// No indicators yet, with the default per-check timeout.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// No indicators yet; a check that takes longer than `timeout` is reported down.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            slots: RwLock::new(BTreeMap::new()),
            timeout,
            shutting_down: AtomicBool::new(false),
            background: Mutex::new(None),
        }
    }

    /// Adds an indicator to a probe.
    pub fn add(&self, probe: Probe, indicator: Arc<dyn HealthIndicator>) {
        let mut slots = self
            .slots
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = slots.entry(probe).or_default();
        slot.indicators.push(indicator);
        // A cached report no longer covers every indicator.
        slot.latest = None;
    }

    /// From now on, readiness answers `shutting_down` (503) so load balancers stop sending
    /// traffic while in-flight work drains; liveness is unaffected.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    /// The latest background report of `probe`, or a fresh one when there is none yet.
    pub async fn check(&self, probe: Probe) -> HealthReport {
        let cached = self.slot(probe, |slot| slot.latest.clone()).flatten();
        let report = match cached {
            Some(report) => report,
            None => self.check_now(probe).await,
        };

        self.apply_shutdown(probe, report)
    }

    /// Runs the probe's indicators now and keeps the report.
    pub async fn check_now(&self, probe: Probe) -> HealthReport {
        let indicators = self
            .slot(probe, |slot| slot.indicators.clone())
            .unwrap_or_default();
        let report = run_indicators(&indicators, self.timeout).await;

        let mut slots = self
            .slots
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = slots.entry(probe).or_default();
        // Only keep it if no indicator was added while the checks ran.
        if slot.indicators.len() == indicators.len() {
            slot.latest = Some(report.clone());
        }

        self.apply_shutdown(probe, report)
    }

    /// Checks every probe now and then every `interval`, in a background task (started once;
    /// later calls do nothing). Must be called inside a Tokio runtime. The task holds only a
    /// weak reference and ends when the checks are dropped.
    pub fn start_background(self: &Arc<Self>, interval: Duration) {
        let mut background = self
            .background
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if background.is_some() {
            return;
        }

        let weak = Arc::downgrade(self);
        let period = interval.max(Duration::from_millis(50));
        *background = Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(checks) = weak.upgrade() else { break };
                for probe in [Probe::Liveness, Probe::Readiness] {
                    checks.check_now(probe).await;
                }
            }
        }));
    }

    /// Stops the background task, if it runs.
    pub fn stop_background(&self) {
        let mut background = self
            .background
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(handle) = background.take() {
            handle.abort();
        }
    }

    fn slot<T>(&self, probe: Probe, f: impl FnOnce(&ProbeSlot) -> T) -> Option<T> {
        let slots = self
            .slots
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots.get(&probe).map(f)
    }

    fn apply_shutdown(&self, probe: Probe, mut report: HealthReport) -> HealthReport {
        if probe == Probe::Readiness && self.shutting_down.load(Ordering::Relaxed) {
            report.status = HealthState::ShuttingDown;
        }
        report
    }
}

impl Drop for HealthChecks {
    fn drop(&mut self) {
        self.stop_background();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::FnIndicator;

    #[tokio::test]
    async fn a_hanging_or_panicking_check_is_reported_down_without_blocking_the_others() {
        let indicators: Vec<Arc<dyn HealthIndicator>> = vec![
            Arc::new(FnIndicator::new("fine", || async {
                IndicatorResult::up("fine")
            })),
            Arc::new(FnIndicator::new("hangs", || async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                IndicatorResult::up("hangs")
            })),
            Arc::new(FnIndicator::new("panics", || async {
                panic!("boom");
            })),
        ];

        let report = run_indicators(&indicators, Duration::from_millis(100)).await;
        assert_eq!(report.status, HealthState::Error);
        let body = report.to_json();
        assert_eq!(body["info"]["fine"]["status"], "up");
        assert_eq!(
            body["error"]["indicator_1"]["message"],
            "check did not answer within 100 ms"
        );
        assert_eq!(body["error"]["indicator_2"]["message"], "check panicked");
        assert_eq!(body["details"].as_object().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn background_checks_refresh_the_cached_report() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let checks = HealthChecks::new();
        checks.add(
            Probe::Liveness,
            Arc::new(FnIndicator::new("count", move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move { IndicatorResult::up("count").with("n", n) }
            })),
        );

        checks.start_background(Duration::from_millis(50));
        tokio::time::sleep(Duration::from_millis(180)).await;
        let ran = calls.load(Ordering::SeqCst);
        assert!(ran >= 2, "the background loop ran {ran} time(s)");

        // Answering from the cache does not run the check again.
        let before = calls.load(Ordering::SeqCst);
        checks.check(Probe::Liveness).await;
        checks.check(Probe::Liveness).await;
        assert!(calls.load(Ordering::SeqCst) <= before + 1);
    }

    #[tokio::test]
    async fn shutdown_turns_readiness_but_not_liveness_down() {
        let checks = HealthChecks::new();
        checks.begin_shutdown();
        assert_eq!(checks.check(Probe::Liveness).await.http_status(), 200);
        let ready = checks.check(Probe::Readiness).await;
        assert_eq!(ready.http_status(), 503);
        assert_eq!(ready.to_json()["status"], "shutting_down");
    }
}
