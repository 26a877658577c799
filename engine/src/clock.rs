//! Wall-clock time, time strings and delays, with the time compression used in development
//! and tests.

use std::time::Duration;

use rand::Rng as _;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Reads an Inngest time string: decimal numbers with units `ns us µs ms s m h d w`,
/// concatenated (`"1h30m"`, `"7d"`, `"300ms"`). A bare number is seconds.
// This belongs in `nestling-inngest-protocol`; it lives here until that crate exposes it.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Ok(Duration::from_secs_f64(secs.max(0.0)));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{text}` has a number without a unit"))?;
        if num_len == 0 {
            return Err(format!("`{text}` is not a duration (expected e.g. 1h30m)"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("bad number in `{text}`"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            other => return Err(format!("unknown unit `{other}` in `{text}`")),
        };
        total += value * factor;
    }
    Ok(Duration::from_secs_f64(total))
}

/// Reads an instant: RFC 3339 (what JS `sleepUntil` sends) or RFC 2822.
pub(crate) fn parse_instant(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .or_else(|_| chrono::DateTime::parse_from_rfc2822(text.trim()))
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Delays, compressed by the configured time scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) scale: f64,
    pub(crate) retry_interval: Option<Duration>,
}

/// The server's default backoff table, indexed by the attempt that failed.
const BACKOFF_SECS: [u64; 10] = [15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200];

impl Clock {
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
        if let Some(fixed) = self.retry_interval {
            return fixed.as_millis() as i64;
        }
        let base = BACKOFF_SECS[(attempt as usize).min(BACKOFF_SECS.len() - 1)];
        let jitter = rand::rng().random_range(0..30_000u64);
        self.scaled(Duration::from_millis(base * 1000 + jitter))
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
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn compresses_delays() {
        let c = Clock {
            scale: 0.001,
            retry_interval: None,
        };
        assert_eq!(c.scaled(Duration::from_secs(3600)), 3600);
        assert!(c.backoff(0) >= 15 && c.backoff(0) <= 45);
        let fixed = Clock {
            scale: 1.0,
            retry_interval: Some(Duration::from_millis(7)),
        };
        assert_eq!(fixed.backoff(5), 7);
        assert_eq!(c.until(1000, 1000 + 3_600_000), 1000 + 3600);
    }
}
