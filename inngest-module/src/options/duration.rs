//! Durations in options: a number of milliseconds (as the NestJS seed writes them) or a string
//! such as `"30s"`, `"1m30s"` or `"1500ms"` (what configuration files read best).

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses `"1500"` (milliseconds), `"1500ms"`, `"30s"`, `"2m"`, `"1h30m"` or `"1d"`.
///
/// Returns a message naming the accepted forms when the text is none of them.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(millis) = text.parse::<u64>() {
        return Ok(Duration::from_millis(millis));
    }

    let invalid = || {
        format!(
            "`{text}` is not a duration; write milliseconds (`30000`) or a number with a unit \
             (`ms`, `s`, `m`, `h`, `d`), e.g. `30s` or `1m30s`"
        )
    };
    if text.is_empty() {
        return Err(invalid());
    }

    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];

        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_millis: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];

        let millis = number.checked_mul(unit_millis).ok_or_else(invalid)?;
        total = total
            .checked_add(Duration::from_millis(millis))
            .ok_or_else(invalid)?;
    }

    Ok(total)
}

/// `#[serde(deserialize_with)]` helper for `Option<Duration>` fields.
pub(crate) fn deserialize_opt_duration<'de, D>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }

    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Millis(millis)) => Ok(Some(Duration::from_millis(millis))),
        Some(Raw::Text(text)) => parse_duration(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        assert_eq!(parse_duration("1500"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
    }

    #[test]
    fn rejects_junk_with_a_hint() {
        for junk in ["", "s", "10x", "1.5s", "-1s", "ten"] {
            let message = parse_duration(junk).unwrap_err();
            assert!(message.contains("not a duration"), "{junk}: {message}");
        }
    }
}
