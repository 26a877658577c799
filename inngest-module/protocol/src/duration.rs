//! Inngest time strings (`"1h30m"`, `"7d"`, `"300ms"`) and Go's `time.ParseDuration`.
//!
//! Pure functions with no allocation on the success path, so that a proc macro can call them
//! to check attribute values when the user's code compiles.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ProtocolError;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// Units accepted by Inngest time strings, with their length in nanoseconds.
const INNGEST_UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),  // micro sign
    ("\u{3bc}s", 1_000), // Greek small letter mu
    ("ms", 1_000_000),
    ("s", NANOS_PER_SECOND),
    ("m", 60 * NANOS_PER_SECOND),
    ("h", 3_600 * NANOS_PER_SECOND),
    ("d", 86_400 * NANOS_PER_SECOND),
    ("w", 604_800 * NANOS_PER_SECOND),
];

/// The Go `time.ParseDuration` units: no days or weeks.
const GO_UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", NANOS_PER_SECOND),
    ("m", 60 * NANOS_PER_SECOND),
    ("h", 3_600 * NANOS_PER_SECOND),
];

/// Parses an Inngest time string: one or more `<decimal><unit>` parts, units
/// `ns us µs ms s m h d w` (d = 24 h, w = 7 d), e.g. `"1h30m"`, `"7d"`, `"1w2d"`, `"1.5h"`,
/// `"300ms"`. A bare `"0"` is zero. Negative durations are rejected.
///
/// # Errors
///
/// [`ProtocolError::InvalidDuration`] naming the 1-based character position of the problem.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest_protocol::parse_duration;
///
/// assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_duration("1w2d").unwrap(), Duration::from_secs(9 * 86_400));
/// assert_eq!(parse_duration("300ms").unwrap(), Duration::from_millis(300));
/// assert!(parse_duration("10 minutes").is_err());
/// ```
pub fn parse_duration(input: &str) -> Result<Duration, ProtocolError> {
    parse_with_units(input, INNGEST_UNITS, "ns, us, ms, s, m, h, d, w")
}

/// Parses a duration the way Go's `time.ParseDuration` does (units `ns us µs ms s m h`; no
/// days or weeks). The server parses `batchEvents.timeout` with it.
///
/// # Errors
///
/// [`ProtocolError::InvalidDuration`]; a `d` or `w` unit is reported as not allowed here.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest_protocol::parse_go_duration;
///
/// assert_eq!(parse_go_duration("10s").unwrap(), Duration::from_secs(10));
/// assert!(parse_go_duration("1d").is_err());
/// ```
pub fn parse_go_duration(input: &str) -> Result<Duration, ProtocolError> {
    parse_with_units(input, GO_UNITS, "ns, us, ms, s, m, h (no d or w here)")
}

/// Formats a duration as an Inngest time string, largest units first: `"1h30m"`, `"1w"`,
/// `"1d2h"`, `"300ms"`; zero is `"0s"`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_inngest_protocol::{format_duration, parse_duration};
///
/// assert_eq!(format_duration(Duration::from_secs(5415)), "1h30m15s");
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
/// let d = parse_duration("2w3d4h").unwrap();
/// assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
/// ```
pub fn format_duration(duration: Duration) -> String {
    let mut nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }

    let mut out = String::new();
    for (unit, size) in [
        ("w", 604_800 * NANOS_PER_SECOND),
        ("d", 86_400 * NANOS_PER_SECOND),
        ("h", 3_600 * NANOS_PER_SECOND),
        ("m", 60 * NANOS_PER_SECOND),
        ("s", NANOS_PER_SECOND),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        let count = nanos / size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(unit);
            nanos %= size;
        }
    }
    out
}

/// Longest sleep or wait the server accepts.
pub const MAX_SLEEP: Duration = Duration::from_secs(366 * 86_400);

/// Reads an instant: RFC 3339 (what the JS SDK's `sleepUntil` sends, e.g.
/// `"2025-01-01T09:00:00.000Z"`) or RFC 2822.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::duration::parse_instant;
///
/// assert!(parse_instant("2025-01-01T09:00:00.000Z").is_some());
/// assert!(parse_instant("1h30m").is_none());
/// ```
pub fn parse_instant(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_rfc2822(value))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// When a sleep or wait ends: a value of 10 characters or more that reads as an instant is
/// that instant, anything else a time string counted from `now` (the server's rule).
///
/// Callers apply their own policy for an empty value (a `waitForEvent` with an empty timeout
/// expires at once) and for [`MAX_SLEEP`].
///
/// # Errors
///
/// [`ProtocolError::InvalidDuration`] if the value is neither.
///
/// # Examples
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use nestling_inngest_protocol::duration::resolve_deadline;
///
/// let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
/// assert_eq!(resolve_deadline("1h30m", now).unwrap(), Utc.with_ymd_and_hms(2025, 1, 1, 1, 30, 0).unwrap());
/// assert_eq!(
///     resolve_deadline("2025-01-02T00:00:00Z", now).unwrap(),
///     Utc.with_ymd_and_hms(2025, 1, 2, 0, 0, 0).unwrap(),
/// );
/// ```
pub fn resolve_deadline(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ProtocolError> {
    if value.len() >= 10
        && let Some(at) = parse_instant(value)
    {
        return Ok(at);
    }

    let duration = parse_duration(value)?;
    let delta =
        chrono::Duration::from_std(duration).map_err(|_| ProtocolError::DurationOutOfRange {
            input: value.to_owned(),
            reason: "too far in the future".to_owned(),
        })?;
    now.checked_add_signed(delta)
        .ok_or_else(|| ProtocolError::DurationOutOfRange {
            input: value.to_owned(),
            reason: "too far in the future".to_owned(),
        })
}

fn parse_with_units(
    input: &str,
    units: &[(&str, u128)],
    unit_list: &str,
) -> Result<Duration, ProtocolError> {
    let error = |byte: usize, reason: String| ProtocolError::InvalidDuration {
        input: input.to_owned(),
        position: input[..byte.min(input.len())].chars().count() + 1,
        reason,
    };

    if input.is_empty() {
        return Err(error(0, "the string is empty".to_owned()));
    }

    let mut rest = input;
    if let Some(after) = rest.strip_prefix('+') {
        rest = after;
    } else if rest.starts_with('-') {
        return Err(error(0, "durations cannot be negative".to_owned()));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(error(
            input.len(),
            "expected a number after the sign".to_owned(),
        ));
    }

    let bytes = input.as_bytes();
    let mut pos = input.len() - rest.len();
    let mut total: u128 = 0;

    while pos < input.len() {
        // Number: digits, optionally a fraction.
        let start = pos;
        let mut whole: u128 = 0;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            whole = whole
                .checked_mul(10)
                .and_then(|w| w.checked_add(u128::from(bytes[pos] - b'0')))
                .ok_or_else(|| error(start, "the number is too large".to_owned()))?;
            pos += 1;
        }
        let whole_digits = pos - start;

        let mut frac_num: u128 = 0;
        let mut frac_den: u128 = 1;
        let mut frac_digits = 0;
        if pos < bytes.len() && bytes[pos] == b'.' {
            pos += 1;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                // Digits beyond nanosecond precision of the largest unit cannot matter.
                if frac_digits < 24 {
                    frac_num = frac_num * 10 + u128::from(bytes[pos] - b'0');
                    frac_den *= 10;
                }
                frac_digits += 1;
                pos += 1;
            }
        }
        if whole_digits == 0 && frac_digits == 0 {
            let found = input[pos..]
                .chars()
                .next()
                .map_or_else(|| "the end of the string".to_owned(), |c| format!("{c:?}"));
            return Err(error(pos, format!("expected a number, found {found}")));
        }

        // Unit: the longest run of non-digit, non-dot characters.
        let unit_start = pos;
        while pos < input.len() {
            let c = input[pos..].chars().next().unwrap_or('0');
            if c.is_ascii_digit() || c == '.' {
                break;
            }
            pos += c.len_utf8();
        }
        let unit = &input[unit_start..pos];
        if unit.is_empty() {
            return Err(error(
                unit_start,
                format!("missing unit after the number; use one of {unit_list}"),
            ));
        }
        let Some(&(_, size)) = units.iter().find(|(name, _)| *name == unit) else {
            return Err(error(
                unit_start,
                format!("unknown unit {unit:?}; use one of {unit_list}"),
            ));
        };

        let part = whole
            .checked_mul(size)
            .and_then(|w| w.checked_add(frac_num * size / frac_den))
            .ok_or_else(|| error(start, "the duration is too large".to_owned()))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| error(start, "the duration is too large".to_owned()))?;
    }

    let secs = u64::try_from(total / NANOS_PER_SECOND)
        .map_err(|_| error(0, "the duration is too large".to_owned()))?;
    let subsec = u32::try_from(total % NANOS_PER_SECOND).unwrap_or(0);
    Ok(Duration::new(secs, subsec))
}

/// Checks that a parsed duration lies in `[min, max]`, for field validation.
pub(crate) fn check_range(
    input: &str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), ProtocolError> {
    if value < min || value > max {
        return Err(ProtocolError::DurationOutOfRange {
            input: input.to_owned(),
            reason: format!(
                "must be between {} and {}",
                format_duration(min),
                format_duration(max)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn parses_every_unit_and_combination() {
        assert_eq!(parse_duration("1ns").unwrap(), Duration::from_nanos(1));
        assert_eq!(parse_duration("2us").unwrap(), Duration::from_micros(2));
        assert_eq!(parse_duration("2µs").unwrap(), Duration::from_micros(2));
        assert_eq!(parse_duration("2μs").unwrap(), Duration::from_micros(2));
        assert_eq!(parse_duration("300ms").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_duration("30s").unwrap(), secs(30));
        assert_eq!(parse_duration("5m").unwrap(), secs(300));
        assert_eq!(parse_duration("2h").unwrap(), secs(7200));
        assert_eq!(parse_duration("7d").unwrap(), secs(7 * 86_400));
        assert_eq!(parse_duration("1w").unwrap(), secs(604_800));
        assert_eq!(parse_duration("1h30m").unwrap(), secs(5400));
        assert_eq!(parse_duration("1w2d").unwrap(), secs(9 * 86_400));
        assert_eq!(parse_duration("1.5h").unwrap(), secs(5400));
        assert_eq!(parse_duration(".5s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("+1s").unwrap(), secs(1));
        assert_eq!(parse_duration("1m1m").unwrap(), secs(120));
    }

    #[test]
    fn errors_name_the_character() {
        let cases = [
            ("", 1, "empty"),
            ("10", 3, "missing unit"),
            ("1x", 2, "unknown unit \"x\""),
            ("1h30", 5, "missing unit"),
            ("h", 1, "expected a number"),
            ("1h 30m", 2, "unknown unit \"h \""),
            ("-1s", 1, "negative"),
            ("1d.", 4, "expected a number"),
        ];
        for (input, position, reason) in cases {
            let err = parse_duration(input).unwrap_err();
            let ProtocolError::InvalidDuration {
                position: p,
                reason: r,
                ..
            } = &err
            else {
                panic!("{err}");
            };
            assert_eq!(*p, position, "{input:?}: {err}");
            assert!(r.contains(reason), "{input:?}: {err}");
        }
        assert!(parse_duration("99999999999999999999999999999999999999999w").is_err());
    }

    #[test]
    fn go_durations_have_no_days() {
        assert_eq!(parse_go_duration("1h2m3s").unwrap(), secs(3723));
        let err = parse_go_duration("1d").unwrap_err().to_string();
        assert!(err.contains("no d or w"), "{err}");
        assert!(parse_go_duration("2w").is_err());
    }

    #[test]
    fn format_round_trips() {
        for s in [
            "1h30m", "7d", "1w2d", "300ms", "1s", "5m", "1w", "1h30m15s", "1ns",
        ] {
            let d = parse_duration(s).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d, "{s}");
        }
        assert_eq!(format_duration(secs(7 * 86_400)), "1w");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn deadlines() {
        use chrono::TimeZone;

        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            resolve_deadline("7d", now).unwrap(),
            Utc.with_ymd_and_hms(2025, 1, 8, 0, 0, 0).unwrap()
        );
        assert_eq!(
            resolve_deadline("Thu, 02 Jan 2025 00:00:00 GMT", now).unwrap(),
            Utc.with_ymd_and_hms(2025, 1, 2, 0, 0, 0).unwrap()
        );
        // Long but not a date: read as a time string.
        assert_eq!(
            resolve_deadline("1h1m1s1ms1us", now).unwrap().timestamp(),
            now.timestamp() + 3661
        );
        assert!(resolve_deadline("tomorrow", now).is_err());
        assert!(resolve_deadline("", now).is_err());
        assert!(resolve_deadline("99999999999w", now).is_err());
    }

    #[test]
    fn range_check() {
        assert!(check_range("1s", secs(1), secs(1), secs(300)).is_ok());
        let err = check_range("6m", secs(360), secs(1), secs(300)).unwrap_err();
        assert!(err.to_string().contains("between 1s and 5m"), "{err}");
    }
}
