//! Checks on values that the Inngest server would otherwise reject when the app syncs.
//!
//! Durations, cron expressions and time zones are parsed here, at compile time, so that a typo
//! fails the build with the attribute argument underlined instead of failing the sync later.

use std::time::Duration;

use nestling_inngest_protocol::ProtocolError;
use proc_macro2::Span;

/// Parses an Inngest time string (`"30s"`, `"1h30m"`, `"7d"`), as the server does.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    nestling_inngest_protocol::parse_duration(text).map_err(reason)
}

/// Parses a time string the way Go's `time.ParseDuration` does (no days or weeks), which is
/// how the server reads the batch timeout.
pub(crate) fn parse_go_duration(text: &str) -> Result<Duration, String> {
    nestling_inngest_protocol::parse_go_duration(text).map_err(reason)
}

/// Checks a five-field cron expression, optionally prefixed with `TZ=<zone> `.
pub(crate) fn check_cron(expression: &str) -> Result<(), String> {
    nestling_inngest_protocol::validate_cron(expression).map_err(reason)
}

/// Checks an IANA time-zone name such as `Europe/Paris`.
pub(crate) fn check_timezone(zone: &str) -> Result<(), String> {
    if zone.is_empty() || zone.contains(char::is_whitespace) {
        return Err(format!(
            "\"{zone}\" is not an IANA time zone name such as \"Europe/Paris\" or \"UTC\""
        ));
    }
    // The cron parser is the one place that knows which zones the scheduler accepts.
    nestling_inngest_protocol::validate_cron(&format!("TZ={zone} * * * * *")).map_err(reason)
}

/// The part of a protocol error that explains the problem, without repeating the input.
fn reason(error: ProtocolError) -> String {
    match error {
        ProtocolError::InvalidDuration { reason, .. } => reason,
        ProtocolError::InvalidCron { reason, .. } => reason,
        other => other.to_string(),
    }
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
                "{what} \"{text}\" is not a duration: {reason}; write a number and a unit, such \
                 as \"30s\", \"5m\" or \"1h30m\""
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
