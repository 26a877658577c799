//! Durations in options: a number of milliseconds (as the NestJS seed writes them) or a string
//! such as `"30s"`, `"1m30s"` or `"1500ms"` (what configuration files read best).

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Parses `"1500"` (milliseconds, as the NestJS seed's numbers) or an Inngest time string
/// such as `"1500ms"`, `"30s"`, `"1h30m"` or `"1d"` (the protocol crate's parser).
///
/// Returns a message naming the accepted forms when the text is neither.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(millis) = text.parse::<u64>() {
        return Ok(Duration::from_millis(millis));
    }

    nestling_inngest_protocol::parse_duration(text).map_err(|_| {
        format!(
            "`{text}` is not a duration; write milliseconds (`30000`) or a number with a unit \
             (`ms`, `s`, `m`, `h`, `d`), e.g. `30s` or `1m30s`"
        )
    })
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
        for junk in ["", "s", "10x", "-1s", "ten", "10 minutes"] {
            let message = parse_duration(junk).unwrap_err();
            assert!(message.contains("not a duration"), "{junk}: {message}");
        }
    }
}
