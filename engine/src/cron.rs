//! Cron triggers: five-field expressions with an optional `TZ=<zone> ` prefix, as the server's
//! parser accepts them (no `@daily` descriptors, no seconds field).

use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// The next tick strictly after `after`, in UTC.
// Cron parsing belongs in `nestling-inngest-protocol`; it stays here until that crate has it.
pub(crate) fn next_after(expr: &str, after: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let expr = expr.trim();
    let (zone, pattern) = match expr.split_once(' ') {
        Some((head, rest)) if head.starts_with("TZ=") || head.starts_with("CRON_TZ=") => {
            let name = head.split_once('=').map_or("", |(_, z)| z);
            let zone = Tz::from_str(name).map_err(|_| format!("unknown time zone `{name}`"))?;
            (Some(zone), rest.trim())
        }
        _ => (None, expr),
    };
    if pattern.starts_with('@') {
        return Err("descriptors such as @daily are not accepted; write five fields".into());
    }
    if pattern.split_whitespace().count() != 5 {
        return Err(
            "a cron expression has five fields: minute hour day-of-month month day-of-week".into(),
        );
    }
    let cron = Cron::from_str(pattern).map_err(|e| e.to_string())?;
    let next = match zone {
        Some(tz) => cron
            .find_next_occurrence(&after.with_timezone(&tz), false)
            .map(|t| t.with_timezone(&Utc)),
        None => cron.find_next_occurrence(&after, false),
    };
    next.map_err(|e| e.to_string())
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
        assert!(next_after("TZ=Mars/Base 0 9 * * *", t).is_err());
    }
}
