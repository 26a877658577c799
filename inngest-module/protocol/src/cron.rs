//! Cron expressions as Inngest accepts them: 5 fields, an optional `TZ=`/`CRON_TZ=` prefix,
//! no `@descriptors`; and the next fire time after an instant.
//!
//! The grammar follows the robfig/cron standard parser that the Inngest server validates
//! with: each field is a comma-separated list of `*`, `?`, `N`, `N-M`, each optionally
//! followed by `/STEP`; months and weekdays also take three-letter English names
//! (case-insensitive); weekdays run 0–6 with 0 = Sunday. When both day-of-month and
//! day-of-week are restricted, a day matches if either matches; when one of them starts with
//! `*` (or `?`), only the other one counts.

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::ProtocolError;

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// How far ahead [`CronSchedule::next_after`] looks before giving up (an expression such as
/// `0 0 30 2 *` never fires).
const SEARCH_DAYS: i64 = 366 * 5;

/// A parsed, valid cron expression.
///
/// # Examples
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use nestling_inngest_protocol::CronSchedule;
///
/// let cron = CronSchedule::parse("TZ=Europe/Paris 0 9 * * 1-5").unwrap();
/// // Friday 2025-01-03 10:00 Paris time → next is Monday 09:00 Paris (08:00 UTC).
/// let after = Utc.with_ymd_and_hms(2025, 1, 3, 9, 0, 0).unwrap();
/// let next = cron.next_after(after).unwrap();
/// assert_eq!(next, Utc.with_ymd_and_hms(2025, 1, 6, 8, 0, 0).unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    expression: String,
    timezone: Option<Tz>,
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    days_of_week: u64,
    dom_star: bool,
    dow_star: bool,
}

/// Checks a cron expression without keeping the result.
///
/// # Errors
///
/// [`ProtocolError::InvalidCron`] saying which field is wrong and why.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::validate_cron;
///
/// assert!(validate_cron("*/15 * * * *").is_ok());
/// assert!(validate_cron("CRON_TZ=America/New_York 0 0 1 jan,jul *").is_ok());
/// assert!(validate_cron("@daily").is_err());
/// assert!(validate_cron("TZ=Mars/Olympus 0 0 * * *").is_err());
/// ```
pub fn validate_cron(expression: &str) -> Result<(), ProtocolError> {
    CronSchedule::parse(expression).map(|_| ())
}

impl CronSchedule {
    /// Parses and validates an expression.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidCron`] saying which field is wrong and why.
    pub fn parse(expression: &str) -> Result<Self, ProtocolError> {
        let invalid = |reason: String| ProtocolError::InvalidCron {
            expression: expression.to_owned(),
            reason,
        };

        let mut spec = expression.trim();
        let mut timezone = None;

        let prefix = ["TZ=", "CRON_TZ="]
            .into_iter()
            .find(|p| spec.starts_with(p));
        if let Some(prefix) = prefix {
            let after = &spec[prefix.len()..];
            let Some(space) = after.find(char::is_whitespace) else {
                return Err(invalid(format!(
                    "{prefix} must be followed by a time zone, a space and the 5 fields"
                )));
            };
            let zone = &after[..space];
            let tz: Tz = zone.parse().map_err(|_| {
                invalid(format!(
                    "unknown time zone {zone:?}; use an IANA name such as \"Europe/Paris\" or \"UTC\""
                ))
            })?;
            timezone = Some(tz);
            spec = after[space..].trim();
        }

        if spec.starts_with('@') {
            return Err(invalid(
                "descriptors such as @daily or @every are not accepted by Inngest; write the 5 \
                 fields instead (\"0 0 * * *\" for daily)"
                    .to_owned(),
            ));
        }

        let fields: Vec<&str> = spec.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(invalid(format!(
                "expected exactly 5 fields, found {}",
                fields.len()
            )));
        }

        let field = |index: usize, name: &str, min: u32, max: u32, names: &[&str]| {
            parse_field(fields[index], min, max, names)
                .map_err(|reason| invalid(format!("{name} field {:?}: {reason}", fields[index])))
        };

        Ok(Self {
            expression: expression.to_owned(),
            timezone,
            minutes: field(0, "minute", 0, 59, &[])?,
            hours: field(1, "hour", 0, 23, &[])?,
            days_of_month: field(2, "day-of-month", 1, 31, &[])?,
            months: field(3, "month", 1, 12, &MONTH_NAMES)?,
            days_of_week: field(4, "day-of-week", 0, 6, &DAY_NAMES)?,
            dom_star: starts_with_wildcard(fields[2]),
            dow_star: starts_with_wildcard(fields[4]),
        })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The time zone of the `TZ=` prefix; `None` means UTC.
    pub fn timezone(&self) -> Option<Tz> {
        self.timezone
    }

    /// The first fire time strictly after `after`, or `None` if the expression never fires
    /// within five years (e.g. `0 0 30 2 *`).
    ///
    /// Wall-clock times that do not exist in the zone (the hour skipped when clocks go forward)
    /// are skipped; a time that occurs twice (clocks going back) fires once, at its first
    /// occurrence.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tz = self.timezone.unwrap_or(Tz::UTC);
        let start_day = after.with_timezone(&tz).date_naive();

        for offset in 0..SEARCH_DAYS {
            let day = start_day + ChronoDuration::days(offset);
            if !self.day_matches(day) {
                continue;
            }
            if let Some(next) = self.first_time_on(tz, day, after) {
                return Some(next);
            }
        }
        None
    }

    fn day_matches(&self, day: NaiveDate) -> bool {
        if !bit(self.months, day.month()) {
            return false;
        }
        let dom = bit(self.days_of_month, day.day());
        let dow = bit(self.days_of_week, day.weekday().num_days_from_sunday());
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    fn first_time_on(&self, tz: Tz, day: NaiveDate, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        for hour in (0..24).filter(|h| bit(self.hours, *h)) {
            for minute in (0..60).filter(|m| bit(self.minutes, *m)) {
                let Some(local) = day.and_hms_opt(hour, minute, 0) else {
                    continue;
                };
                let Some(instant) = tz.from_local_datetime(&local).earliest() else {
                    continue; // inside a DST gap
                };
                let instant = instant.with_timezone(&Utc);
                if instant > after {
                    debug_assert_eq!(instant.second(), 0);
                    return Some(instant);
                }
            }
        }
        None
    }
}

fn bit(set: u64, n: u32) -> bool {
    set & (1 << n) != 0
}

fn starts_with_wildcard(field: &str) -> bool {
    field.starts_with('*') || field.starts_with('?')
}

fn parse_field(field: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, String> {
    let mut set = 0u64;
    for part in field.split(',') {
        set |= parse_range(part, min, max, names)?;
    }
    Ok(set)
}

fn parse_range(part: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, String> {
    if part.is_empty() {
        return Err("empty list element".to_owned());
    }

    let (range, step) = match part.split_once('/') {
        Some((range, step)) => {
            let step: u32 = step
                .parse()
                .map_err(|_| format!("step {step:?} is not a number"))?;
            if step == 0 {
                return Err("step must be at least 1".to_owned());
            }
            (range, Some(step))
        }
        None => (part, None),
    };

    let (start, end) = if range == "*" || range == "?" {
        (min, max)
    } else if let Some((lo, hi)) = range.split_once('-') {
        (value(lo, min, max, names)?, value(hi, min, max, names)?)
    } else {
        let single = value(range, min, max, names)?;
        // `N/STEP` means from N to the end of the range.
        (single, if step.is_some() { max } else { single })
    };

    if start > end {
        return Err(format!("range start {start} is after its end {end}"));
    }

    let step = step.unwrap_or(1);
    let mut set = 0u64;
    let mut n = start;
    while n <= end {
        set |= 1 << n;
        n += step;
    }
    Ok(set)
}

fn value(text: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(index) = names.iter().position(|name| *name == lower) {
        // Month names start at 1, weekday names at 0.
        let index = u32::try_from(index).unwrap_or(0);
        return Ok(index + min);
    }

    let n: u32 = text.parse().map_err(|_| {
        if names.is_empty() {
            format!("{text:?} is not a number")
        } else {
            format!(
                "{text:?} is neither a number nor a name ({})",
                names.join(", ")
            )
        }
    })?;
    if n < min || n > max {
        return Err(format!("{n} is outside {min}-{max}"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn accepts_robfig_syntax() {
        for ok in [
            "* * * * *",
            "*/5 * * * *",
            "0 9 * * 1-5",
            "0 0 1,15 * *",
            "0 0 ? * MON",
            "0 0 * JAN-MAR sun",
            "5/10 * * * *",
            "TZ=UTC 0 0 * * *",
            "CRON_TZ=Asia/Tokyo 30 2 * * *",
            "TZ=Europe/Paris   0 9 * * 1-5",
        ] {
            assert!(validate_cron(ok).is_ok(), "{ok}: {:?}", validate_cron(ok));
        }
    }

    #[test]
    fn rejects_what_robfig_rejects() {
        let cases = [
            ("@daily", "descriptors"),
            ("@every 5m", "descriptors"),
            ("* * * *", "exactly 5 fields"),
            ("0 * * * * *", "exactly 5 fields"),
            ("60 * * * *", "minute field"),
            ("* 24 * * *", "hour field"),
            ("* * 0 * *", "day-of-month field"),
            ("* * * 13 *", "month field"),
            ("* * * * 7", "day-of-week field"),
            ("*/0 * * * *", "step must be at least 1"),
            ("5-1 * * * *", "after its end"),
            ("* * L * *", "not a number"),
            ("* * * * 1#2", "neither a number nor a name"),
            ("TZ=Nowhere/Land * * * * *", "unknown time zone"),
            ("TZ=UTC", "must be followed"),
            ("1,,2 * * * *", "empty list element"),
        ];
        for (expr, reason) in cases {
            let err = validate_cron(expr).unwrap_err().to_string();
            assert!(err.contains(reason), "{expr}: {err}");
        }
    }

    #[test]
    fn next_fire_times() {
        let every_15 = CronSchedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            every_15.next_after(utc(2025, 1, 1, 10, 7)),
            Some(utc(2025, 1, 1, 10, 15))
        );
        assert_eq!(
            every_15.next_after(utc(2025, 1, 1, 10, 15)),
            Some(utc(2025, 1, 1, 10, 30))
        );
        assert_eq!(
            every_15.next_after(utc(2025, 1, 1, 23, 50)),
            Some(utc(2025, 1, 2, 0, 0))
        );

        // Both day fields restricted: either matches (1st of month OR a Monday).
        let either = CronSchedule::parse("0 0 1 * 1").unwrap();
        assert_eq!(
            either.next_after(utc(2025, 1, 1, 0, 0)),
            Some(utc(2025, 1, 6, 0, 0))
        );
        assert_eq!(
            either.next_after(utc(2025, 1, 27, 0, 0)),
            Some(utc(2025, 2, 1, 0, 0))
        );

        // Day-of-month wildcard with a step: both must match.
        let odd_days_mon = CronSchedule::parse("0 0 */2 * 1").unwrap();
        assert_eq!(
            odd_days_mon.next_after(utc(2025, 1, 1, 0, 0)),
            Some(utc(2025, 1, 13, 0, 0))
        );

        let never = CronSchedule::parse("0 0 30 2 *").unwrap();
        assert_eq!(never.next_after(utc(2025, 1, 1, 0, 0)), None);
    }

    #[test]
    fn time_zones_and_dst() {
        let paris = CronSchedule::parse("TZ=Europe/Paris 30 2 * * *").unwrap();
        // 2025-03-30 02:30 does not exist in Paris (clocks jump 02:00 → 03:00): skipped.
        let next = paris.next_after(utc(2025, 3, 29, 2, 0)).unwrap();
        assert_eq!(next, utc(2025, 3, 31, 0, 30));
        // 2025-10-26 02:30 happens twice: fires once, at the first (CEST, UTC+2).
        let next = paris.next_after(utc(2025, 10, 25, 12, 0)).unwrap();
        assert_eq!(next, utc(2025, 10, 26, 0, 30));
        let after = paris.next_after(next).unwrap();
        assert_eq!(after, utc(2025, 10, 27, 1, 30));
    }
}
