//! Checks on values that the Inngest server would otherwise reject when the app syncs.
//!
//! Durations, cron expressions and time zones are parsed here, at compile time, so that a typo
//! fails the build with the attribute argument underlined instead of failing the sync later.

use std::time::Duration;

use proc_macro2::Span;

/// Parses an Inngest time string (`"30s"`, `"1h30m"`, `"7d"`), as the server does.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    duration_parser::parse(text)
}

/// Checks a five-field cron expression, optionally prefixed with `TZ=<zone> `.
pub(crate) fn check_cron(expression: &str) -> Result<(), String> {
    cron_parser::check(expression)
}

/// Checks an IANA time-zone name such as `Europe/Paris`.
pub(crate) fn check_timezone(zone: &str) -> Result<(), String> {
    cron_parser::check_timezone(zone)
}

/// Parses a duration argument and checks that it lies within `min..=max`.
///
/// `what` names the argument in messages, such as "the debounce period".
pub(crate) fn duration_within(
    text: &str,
    span: Span,
    what: &str,
    min: Duration,
    max: Option<Duration>,
) -> syn::Result<Duration> {
    let duration = parse_duration(text).map_err(|reason| {
        syn::Error::new(
            span,
            format!(
                "{what} \"{text}\" is not a duration: {reason}; write a number followed by a unit \
                 (ms, s, m, h, d, w), such as \"30s\", \"5m\" or \"1h30m\""
            ),
        )
    })?;

    if duration < min {
        return Err(syn::Error::new(
            span,
            format!(
                "{what} \"{text}\" is shorter than the minimum of {}",
                human(min)
            ),
        ));
    }
    if let Some(max) = max
        && duration > max
    {
        return Err(syn::Error::new(
            span,
            format!(
                "{what} \"{text}\" is longer than the maximum of {}",
                human(max)
            ),
        ));
    }

    Ok(duration)
}

/// Writes a duration the way the messages above quote limits: `1s`, `5m`, `24h`, `7d`.
fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return format!("{}ms", duration.as_millis());
    }
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// The key among `candidates` closest to `unknown`, if it is close enough to be a typo.
pub(crate) fn closest<'a>(unknown: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let unknown = unknown.to_ascii_lowercase();
    let (best, distance) = candidates
        .iter()
        .map(|candidate| (*candidate, edit_distance(&unknown, candidate)))
        .min_by_key(|(_, distance)| *distance)?;

    let tolerance = (unknown.len().max(best.len()) / 3).max(1);
    (distance <= tolerance).then_some(best)
}

/// Levenshtein distance, also counting `_` and `-` as equal so `rateLimit`-style spellings and
/// `rate-limit` find `rate_limit`.
fn edit_distance(a: &str, b: &str) -> usize {
    let normalise =
        |s: &str| -> Vec<char> { s.chars().filter(|c| *c != '_' && *c != '-').collect() };
    let (a, b) = (normalise(a), normalise(b));

    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

// The protocol crate owns the parsers the SDK and the engine share; until its duration and cron
// modules exist, these local versions follow the same rules so the attribute checks can be
// written and tested. Only the two modules below change when the swap happens.
mod duration_parser {
    use std::time::Duration;

    pub(super) fn parse(text: &str) -> Result<Duration, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("it is empty".to_owned());
        }
        if trimmed.starts_with('-') {
            return Err("it is negative".to_owned());
        }

        let mut rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
        let mut total = 0f64;
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| format!("\"{rest}\" has no unit"))?;
            if number_len == 0 {
                return Err(format!("expected a number before \"{rest}\""));
            }
            let number: f64 = rest[..number_len]
                .parse()
                .map_err(|_| format!("\"{}\" is not a number", &rest[..number_len]))?;
            rest = &rest[number_len..];

            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let nanos_per_unit = match &rest[..unit_len] {
                "ns" => 1e0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3_600e9,
                "d" => 86_400e9,
                "w" => 604_800e9,
                other => return Err(format!("\"{other}\" is not a unit")),
            };
            rest = &rest[unit_len..];
            total += number * nanos_per_unit;
        }

        Ok(Duration::from_nanos(total as u64))
    }
}

mod cron_parser {
    pub(super) fn check(expression: &str) -> Result<(), String> {
        let mut body = expression.trim();
        for prefix in ["TZ=", "CRON_TZ="] {
            if let Some(rest) = body.strip_prefix(prefix) {
                let (zone, schedule) = rest.split_once(' ').ok_or_else(|| {
                    "a time zone prefix must be followed by the schedule".to_owned()
                })?;
                check_timezone(zone)?;
                body = schedule.trim();
            }
        }

        if body.starts_with('@') {
            return Err(format!(
                "descriptors such as \"{body}\" are not accepted by Inngest; write the five fields"
            ));
        }
        let fields: Vec<&str> = body.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "it has {} fields, Inngest expects 5 (minute hour day-of-month month day-of-week)",
                fields.len()
            ));
        }

        let limits = [
            ("minute", 0, 59),
            ("hour", 0, 23),
            ("day of month", 1, 31),
            ("month", 1, 12),
            ("day of week", 0, 7),
        ];
        for (field, (name, min, max)) in fields.iter().zip(limits) {
            check_field(field, name, min, max)?;
        }
        Ok(())
    }

    fn check_field(field: &str, name: &str, min: u32, max: u32) -> Result<(), String> {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((range, step)) => (range, Some(step)),
                None => (part, None),
            };
            if let Some(step) = step
                && step.parse::<u32>().map_or(true, |step| step == 0)
            {
                return Err(format!(
                    "the {name} step \"{step}\" must be a positive integer"
                ));
            }
            if range == "*" || range == "?" {
                continue;
            }
            let (low, high) = range.split_once('-').unwrap_or((range, range));
            for bound in [low, high] {
                let in_range = bound.parse::<u32>().is_ok_and(|v| (min..=max).contains(&v));
                let named = bound.len() == 3 && bound.chars().all(|c| c.is_ascii_alphabetic());
                if !in_range && !named {
                    return Err(format!(
                        "the {name} field \"{field}\" must use values {min}-{max}"
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_timezone(zone: &str) -> Result<(), String> {
        let plausible = !zone.is_empty()
            && zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        if plausible {
            Ok(())
        } else {
            Err(format!(
                "\"{zone}\" is not an IANA time zone such as \"Europe/Paris\""
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_time_strings_the_server_accepts() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("1w2d"), Ok(Duration::from_secs(777_600)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5_400)));
    }

    #[test]
    fn rejects_time_strings_without_units_or_with_unknown_ones() {
        for bad in ["", "5", "5 minutes", "-5m", "m", "5y"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn checks_bounds_with_a_message_naming_the_argument() {
        let err = duration_within(
            "500ms",
            Span::call_site(),
            "the debounce period",
            Duration::from_secs(1),
            Some(Duration::from_secs(7 * 86_400)),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the debounce period \"500ms\" is shorter than the minimum of 1s"
        );

        let err = duration_within(
            "8d",
            Span::call_site(),
            "the debounce period",
            Duration::ZERO,
            Some(Duration::from_secs(7 * 86_400)),
        )
        .unwrap_err();
        assert!(
            err.to_string().ends_with("longer than the maximum of 7d"),
            "{err}"
        );
    }

    #[test]
    fn accepts_five_field_cron_with_an_optional_zone() {
        for good in [
            "0 9 * * 1-5",
            "TZ=Europe/Paris 0 9 * * 1-5",
            "*/5 * * * *",
            "0 0 1 JAN MON",
        ] {
            assert_eq!(check_cron(good), Ok(()), "{good}");
        }
        for bad in [
            "0 9 * *",
            "@daily",
            "61 * * * *",
            "*/0 * * * *",
            "0 25 * * *",
        ] {
            assert!(check_cron(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn suggests_the_closest_key() {
        let keys = ["concurrency", "rate_limit", "retries", "throttle"];

        assert_eq!(closest("concurency", &keys), Some("concurrency"));
        assert_eq!(closest("rateLimit", &keys), Some("rate_limit"));
        assert_eq!(closest("retires", &keys), Some("retries"));
        assert_eq!(closest("banana", &keys), None);
    }
}
