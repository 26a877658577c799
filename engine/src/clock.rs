//! The engine's time: the wall clock plus an offset that tests move forward, time strings and
//! delays, with the time compression used in development and tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use nestling_inngest_protocol::Backoff;
use rand::Rng as _;

/// Milliseconds since the Unix epoch, on the wall clock. The engine's own decisions use
/// [`Clock::now`]; only what must match another machine's clock (signatures, the `fetched_at`
/// of API answers) reads the wall clock directly.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Reads an Inngest time string (`"1h30m"`, `"7d"`, `"300ms"`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    nestling_inngest_protocol::parse_duration(text.trim()).map_err(|e| e.to_string())
}

/// Reads an instant: RFC 3339 (what JS `sleepUntil` sends) or RFC 2822.
pub(crate) fn parse_instant(text: &str) -> Option<i64> {
    nestling_inngest_protocol::duration::parse_instant(text).map(|t| t.timestamp_millis())
}

/// The engine's clock and its delays, compressed by the configured time scale.
///
/// Every due time the engine stores (queued calls, sleeps, timeouts, cron ticks) is read
/// against [`Clock::now`]: the wall clock plus an offset that only grows. Moving the offset
/// forward ([`Clock::advance`]) makes whatever falls in the skipped span due at once, as if
/// that much time had passed, without waiting for it.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    pub(crate) scale: f64,
    pub(crate) retry_interval: Option<Duration>,
    offset_ms: AtomicI64,
}

impl Clock {
    pub(crate) fn new(scale: f64, retry_interval: Option<Duration>) -> Self {
        Self {
            scale,
            retry_interval,
            offset_ms: AtomicI64::new(0),
        }
    }

    /// The engine's time, in milliseconds since the Unix epoch.
    pub(crate) fn now(&self) -> i64 {
        now_ms() + self.offset_ms.load(Ordering::Acquire)
    }

    /// Moves the engine's time forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 2);
        self.offset_ms.fetch_add(ms, Ordering::AcqRel);
    }

    /// A delay of `d` in engine time, in milliseconds.
    pub(crate) fn scaled(&self, d: Duration) -> i64 {
        (d.as_secs_f64() * 1000.0 * self.scale).round() as i64
    }

    /// When the instant `at_ms` (real time) falls in engine time: the distance from now is
    /// compressed, so `sleep_until` an hour ahead takes `scale` hours.
    pub(crate) fn until(&self, now: i64, at_ms: i64) -> i64 {
        let delta = (at_ms - now).max(0) as f64 * self.scale;
        now + delta.round() as i64
    }

    /// The delay before retry number `attempt + 1`: the backoff table plus up to 30 s of
    /// jitter, or the fixed retry interval.
    pub(crate) fn backoff(&self, attempt: u32) -> i64 {
        let schedule = match self.retry_interval {
            Some(fixed) => Backoff::fixed(fixed),
            None => Backoff::scaled(self.scale),
        };
        let jitter: f64 = rand::rng().random_range(0.0..1.0);
        schedule.delay(attempt, jitter).as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_time_strings() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            parse_duration("1w2d").unwrap(),
            Duration::from_secs(9 * 86_400)
        );
        assert_eq!(parse_duration("300ms").unwrap(), Duration::from_millis(300));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn compresses_delays() {
        let c = Clock::new(0.001, None);
        assert_eq!(c.scaled(Duration::from_secs(3600)), 3600);
        assert!(c.backoff(0) >= 15 && c.backoff(0) <= 45);
        let fixed = Clock::new(1.0, Some(Duration::from_millis(7)));
        assert_eq!(fixed.backoff(5), 7);
        assert_eq!(c.until(1000, 1000 + 3_600_000), 1000 + 3600);
    }

    #[test]
    fn moves_forward_on_demand() {
        let c = Clock::new(1.0, None);
        let before = c.now();
        c.advance(Duration::from_secs(3600));
        let after = c.now();
        assert!(after - before >= 3_600_000, "{before} -> {after}");
        assert!(after - now_ms() >= 3_600_000 - 5);
    }
}
