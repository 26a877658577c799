//! Cron triggers, read with the protocol crate's parser (five fields, optional `TZ=` prefix).

use chrono::{DateTime, Utc};
use nestling_inngest_protocol::CronSchedule;

/// The next tick strictly after `after`, in UTC.
pub(crate) fn next_after(expr: &str, after: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let schedule = CronSchedule::parse(expr).map_err(|e| e.to_string())?;
    schedule
        .next_after(after)
        .ok_or_else(|| format!("cron `{expr}` has no future tick"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_next_ticks() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T10:07:30Z")
            .unwrap()
            .to_utc();
        let n = next_after("*/15 * * * *", t).unwrap();
        assert_eq!(n.to_rfc3339(), "2026-01-01T10:15:00+00:00");
        let paris = next_after("TZ=Europe/Paris 0 9 * * *", t).unwrap();
        assert_eq!(paris.to_rfc3339(), "2026-01-02T08:00:00+00:00");
        assert!(next_after("@daily", t).is_err());
        assert!(next_after("* * * *", t).is_err());
    }
}
