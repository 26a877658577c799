//! The memory indicator: resident memory against a limit.

use crate::indicator::{HealthIndicator, IndicatorFuture, IndicatorResult};

/// The limit used when none is configured and no cgroup limit is found (the seed's default).
pub const DEFAULT_MEMORY_LIMIT_BYTES: u64 = 512 * 1024 * 1024;

const MIB: f64 = 1024.0 * 1024.0;

/// Reports resident memory (`VmRSS`) against a limit: down above 90 % of it, up but marked
/// `elevated` above 75 %.
///
/// # Examples
///
/// ```
/// use nestling_health::{HealthIndicator, MemoryIndicator};
///
/// let memory = MemoryIndicator::new("memory", 64 * 1024 * 1024 * 1024);
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let result = memory.check().await;
/// assert!(result.is_up());
/// # #[cfg(target_os = "linux")]
/// assert!(result.details["percentage"].as_f64().unwrap() < 1.0);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct MemoryIndicator {
    key: String,
    limit_bytes: u64,
}

impl MemoryIndicator {
    /// Checks against `limit_bytes`.
    pub fn new(key: impl Into<String>, limit_bytes: u64) -> Self {
        Self {
            key: key.into(),
            limit_bytes: limit_bytes.max(1),
        }
    }

    /// Checks against the container's cgroup memory limit when there is one (v2
    /// `memory.max`, or v1 `memory.limit_in_bytes`), else against 512 MiB.
    pub fn from_environment(key: impl Into<String>) -> Self {
        Self::new(key, cgroup_limit().unwrap_or(DEFAULT_MEMORY_LIMIT_BYTES))
    }

    /// The limit checked against, in bytes.
    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes
    }

    /// The result for a given resident size (separate from reading it, for testing).
    pub fn evaluate(&self, rss_bytes: u64) -> IndicatorResult {
        let percentage = rss_bytes as f64 / self.limit_bytes as f64 * 100.0;
        let rounded = (percentage * 10.0).round() / 10.0;
        let base = |result: IndicatorResult| {
            result
                .with("used", format!("{:.0} MB", rss_bytes as f64 / MIB))
                .with("limit", format!("{:.0} MB", self.limit_bytes as f64 / MIB))
                .with("percentage", rounded)
                .with("rssBytes", rss_bytes)
                .with("limitBytes", self.limit_bytes)
        };

        if percentage > 90.0 {
            base(IndicatorResult::down_because(
                &self.key,
                "Memory usage is critically high",
            ))
        } else if percentage > 75.0 {
            base(IndicatorResult::up(&self.key).with("message", "Memory usage is elevated"))
                .with("level", "elevated")
        } else {
            base(IndicatorResult::up(&self.key)).with("level", "normal")
        }
    }
}

impl HealthIndicator for MemoryIndicator {
    fn check(&self) -> IndicatorFuture<'_> {
        Box::pin(async move {
            match resident_bytes() {
                Some(rss) => self.evaluate(rss),
                // Not knowing the memory use is no reason to restart the process.
                None => IndicatorResult::up(&self.key).with(
                    "message",
                    "memory use cannot be read on this system (no /proc)",
                ),
            }
        })
    }
}

/// `VmRSS` from `/proc/self/status`, in bytes.
pub(crate) fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn cgroup_limit() -> Option<u64> {
    [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    // `max` (v2) or a huge number (v1) mean no limit.
    .filter_map(|text| text.trim().parse::<u64>().ok())
    .find(|limit| *limit < (1 << 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_seed() {
        let memory = MemoryIndicator::new("memory", 1000 * 1024 * 1024);

        let normal = memory.evaluate(88 * 1024 * 1024);
        assert!(normal.is_up());
        assert_eq!(normal.details["percentage"], 8.8);
        assert_eq!(normal.details["used"], "88 MB");
        assert_eq!(normal.details["limit"], "1000 MB");

        let elevated = memory.evaluate(800 * 1024 * 1024);
        assert!(elevated.is_up());
        assert_eq!(elevated.details["level"], "elevated");

        let critical = memory.evaluate(950 * 1024 * 1024);
        assert!(!critical.is_up());
        assert_eq!(
            critical.details["message"],
            "Memory usage is critically high"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_resident_size() {
        assert!(resident_bytes().unwrap() > 1024 * 1024);
    }
}
