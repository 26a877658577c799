//! The process's own resource use, read from Linux's `/proc/self`.

use std::time::Duration;

use serde::Serialize;

use crate::{Error, MetricsRegistry};

/// Linux reports CPU times in `/proc` in USER_HZ ticks, which the kernel ABI fixes at 100 per
/// second on every architecture Rust supports there (independent of the kernel's own HZ).
const USER_HZ: f64 = 100.0;

/// One reading of the process's memory, CPU time and uptime.
///
/// # Examples
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// let stats = nestling_monitoring::ProcessStats::read().unwrap();
/// assert!(stats.resident_memory_bytes > 0);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, poem_openapi::Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename_all = "camelCase")]
pub struct ProcessStats {
    /// Resident set size (`VmRSS`), in bytes.
    pub resident_memory_bytes: u64,
    /// Virtual memory size (`VmSize`), in bytes.
    pub virtual_memory_bytes: u64,
    /// CPU time spent in user mode, in seconds.
    pub cpu_user_seconds: f64,
    /// CPU time spent in the kernel on the process's behalf, in seconds.
    pub cpu_system_seconds: f64,
    /// Time since the process started, in seconds.
    pub uptime_seconds: f64,
    /// Number of threads.
    pub threads: u64,
    /// Process id.
    pub pid: u32,
}

impl ProcessStats {
    /// Reads `/proc/self/status`, `/proc/self/stat` and `/proc/uptime`.
    ///
    /// # Errors
    /// [`Error::ProcessStats`] naming the file, when one is missing (not Linux) or unreadable.
    pub fn read() -> Result<Self, Error> {
        let status = read_proc("/proc/self/status")?;
        let stat = read_proc("/proc/self/stat")?;
        let uptime = read_proc("/proc/uptime")?;

        let kib = |key: &str| status_field(&status, key).map(|kib| kib * 1024);
        let (Some(resident_memory_bytes), Some(virtual_memory_bytes), Some(threads)) = (
            kib("VmRSS:"),
            kib("VmSize:"),
            status_field(&status, "Threads:"),
        ) else {
            return Err(malformed("/proc/self/status"));
        };

        let times = parse_stat(&stat).ok_or_else(|| malformed("/proc/self/stat"))?;
        let system_uptime: f64 = uptime
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| malformed("/proc/uptime"))?;

        Ok(Self {
            resident_memory_bytes,
            virtual_memory_bytes,
            cpu_user_seconds: times.utime as f64 / USER_HZ,
            cpu_system_seconds: times.stime as f64 / USER_HZ,
            uptime_seconds: (system_uptime - times.starttime as f64 / USER_HZ).max(0.0),
            threads,
            pid: std::process::id(),
        })
    }

    /// User plus system CPU time, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        self.cpu_user_seconds + self.cpu_system_seconds
    }

    /// Time since the process started.
    pub fn uptime(&self) -> Duration {
        Duration::from_secs_f64(self.uptime_seconds)
    }
}

/// Registers the process gauges in `registry` and refreshes them before every encoding:
/// `inngest_process_memory_bytes{type="rss"|"virtual"}`, `inngest_process_cpu_seconds_total`,
/// `inngest_process_uptime_seconds` and `inngest_process_threads`.
///
/// On a system without `/proc` the families stay empty and one debug line says why.
///
/// # Errors
/// [`Error::Conflict`] when one of the names is already used by another kind of metric.
///
/// # Examples
///
/// ```
/// use nestling_monitoring::{register_process_metrics, MetricsRegistry};
///
/// let registry = MetricsRegistry::new();
/// register_process_metrics(&registry).unwrap();
/// # #[cfg(target_os = "linux")]
/// assert!(registry.encode_prometheus().contains("inngest_process_memory_bytes{type=\"rss\"}"));
/// ```
pub fn register_process_metrics(registry: &MetricsRegistry) -> Result<(), Error> {
    let memory = registry.gauge_vec(
        "inngest_process_memory_bytes",
        "Memory used by the process, by type (rss: resident, virtual: address space)",
        &["type"],
    )?;
    let cpu = registry.counter(
        "inngest_process_cpu_seconds_total",
        "CPU time used by the process (user plus system), in seconds",
    )?;
    let uptime = registry.gauge(
        "inngest_process_uptime_seconds",
        "Time since the process started",
    )?;
    let threads = registry.gauge("inngest_process_threads", "Threads of the process")?;
    let warned = std::sync::atomic::AtomicBool::new(false);

    registry.add_collector(move || match ProcessStats::read() {
        Ok(stats) => {
            if let (Ok(rss), Ok(vms)) = (memory.with_labels(&["rss"]), memory.with_labels(&["virtual"])) {
                rss.set(stats.resident_memory_bytes as f64);
                vms.set(stats.virtual_memory_bytes as f64);
            }
            cpu.set_total(stats.cpu_seconds());
            uptime.set(stats.uptime_seconds);
            threads.set(stats.threads as f64);
        }
        Err(error) => {
            if !warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::debug!(target: "nestling_monitoring::system", %error, "process metrics unavailable");
            }
        }
    });

    Ok(())
}

struct StatTimes {
    utime: u64,
    stime: u64,
    starttime: u64,
}

/// Fields 14, 15 and 22 of `/proc/self/stat`. The second field is the command name in
/// parentheses and may itself hold spaces and parentheses, so counting starts after the last `)`.
fn parse_stat(stat: &str) -> Option<StatTimes> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // `after_name` starts at field 3 (the state), so field n is at index n - 3.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();

    Some(StatTimes {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
    })
}

fn status_field(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

fn read_proc(path: &'static str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::ProcessStats { path, source })
}

fn malformed(path: &'static str) -> Error {
    let source = std::io::Error::new(std::io::ErrorKind::InvalidData, "unexpected format");
    Error::ProcessStats { path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let line = "4242 (my) (app x) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 8 0 123456 1000 20";
        let times = parse_stat(line).unwrap();
        assert_eq!(
            (times.utime, times.stime, times.starttime),
            (250, 75, 123456)
        );
        assert!(parse_stat("garbage").is_none());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reading_this_process_gives_plausible_numbers() {
        let before = ProcessStats::read().unwrap();

        // Burn a little CPU so the time can be seen to move (ticks are 10 ms).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);

        let after = ProcessStats::read().unwrap();
        assert!(after.resident_memory_bytes > 1024 * 1024);
        assert!(after.virtual_memory_bytes >= after.resident_memory_bytes);
        assert!(
            after.cpu_seconds() > before.cpu_seconds(),
            "{before:?} -> {after:?}"
        );
        assert!(after.threads >= 1);
        assert_eq!(after.pid, std::process::id());
        assert!(after.uptime_seconds < 24.0 * 3600.0);
    }
}
