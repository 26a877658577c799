//! Header names of the serve protocol, and `Retry-After` parsing.
//!
//! Names are given in the spelling the official SDKs and the server write; HTTP header names
//! are case-insensitive, so compare them with `eq_ignore_ascii_case` (or through an HTTP
//! library's header map).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// `<sdk name>:v<semver>` on every SDK response. The executor treats a response without it as
/// not coming from an SDK.
pub const SDK: &str = "X-Inngest-SDK";
/// Execution version the SDK used (`2` for new SDKs); also sent by the executor.
pub const REQ_VERSION: &str = "X-Inngest-Req-Version";
/// `true` on every response the SDK produced.
pub const SDK_HANDLED: &str = "X-Inngest-SDK-Handled";
/// Web framework serving the app (JS).
pub const FRAMEWORK: &str = "X-Inngest-Framework";
/// Environment (branch) name.
pub const ENV: &str = "X-Inngest-Env";
/// Hosting platform (JS).
pub const PLATFORM: &str = "X-Inngest-Platform";
/// `t=<unix seconds>&s=<hex HMAC-SHA256>` on signed requests and responses.
pub const SIGNATURE: &str = "X-Inngest-Signature";
/// Kind of the calling server (`dev` or `cloud`), on sync pings.
pub const SERVER_KIND: &str = "X-Inngest-Server-Kind";
/// Echo of [`SERVER_KIND`] on the SDK's outbound requests.
pub const EXPECTED_SERVER_KIND: &str = "X-Inngest-Expected-Server-Kind";
/// `in_band` or `out_of_band`, on sync requests and replies.
pub const SYNC_KIND: &str = "x-inngest-sync-kind";
/// `true` if a failed call must not be retried, `false` if it may be.
pub const NO_RETRY: &str = "X-Inngest-No-Retry";
/// Delay before the next retry: integer seconds or a date.
pub const RETRY_AFTER: &str = "Retry-After";
/// Run id, on call requests.
pub const RUN_ID: &str = "X-Run-ID";
/// Request id, on call requests.
pub const REQUEST_ID: &str = "x-request-id";
/// Queue item generation, on call requests (when > 0).
pub const GENERATION_ID: &str = "x-inngest-generation-id";
/// Queue job id, on call requests.
pub const JOB_ID: &str = "x-inngest-job-id";
/// Hashed id of the step to run (or `step`), on call requests; fallback for the `stepId` query.
pub const STEP_ID: &str = "X-Inngest-Step-ID";
/// `<millis>,<base64 of 10 random bytes>`: makes event ids deterministic across send retries.
pub const EVENT_ID_SEED: &str = "x-inngest-event-id-seed";
/// W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
/// W3C trace state.
pub const TRACESTATE: &str = "tracestate";
/// Optional timing information (JS).
pub const SERVER_TIMING: &str = "Server-Timing";

/// `x-inngest-sync-kind` value of an in-band sync.
pub const SYNC_KIND_IN_BAND: &str = "in_band";
/// `x-inngest-sync-kind` value of an out-of-band sync.
pub const SYNC_KIND_OUT_OF_BAND: &str = "out_of_band";
/// `X-Inngest-Server-Kind` of a dev server.
pub const SERVER_KIND_DEV: &str = "dev";
/// `X-Inngest-Server-Kind` of Inngest Cloud and self-hosted Inngest.
pub const SERVER_KIND_CLOUD: &str = "cloud";

/// Shortest delay a `Retry-After` can ask for.
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);
/// Longest delay a `Retry-After` can ask for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Interprets a `Retry-After` value the way the executor does: up to 7 characters is an
/// integer number of seconds, anything longer a date (RFC 3339 or RFC 1123/2822). The delay
/// is clamped to [1 s, 24 h]. Returns `None` if the value is neither.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use nestling_inngest_protocol::headers::parse_retry_after;
///
/// let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
/// assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("0", now), Some(Duration::from_secs(1)));
/// assert_eq!(parse_retry_after("2025-01-01T00:02:00Z", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 01 Jan 2025 00:00:10 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }

    let delay = if value.len() <= 7 {
        let seconds: i64 = value.parse().ok()?;
        Duration::from_secs(u64::try_from(seconds.max(0)).unwrap_or(0))
    } else {
        let at = DateTime::parse_from_rfc3339(value)
            .or_else(|_| DateTime::parse_from_rfc2822(value))
            .ok()?
            .with_timezone(&Utc);
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };

    Some(delay.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER))
}

/// Reads `X-Inngest-No-Retry`: `Some(true)` only for `"true"`, `Some(false)` for any other
/// present value, `None` when absent.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::headers::parse_no_retry;
///
/// assert_eq!(parse_no_retry(Some("true")), Some(true));
/// assert_eq!(parse_no_retry(Some("false")), Some(false));
/// assert_eq!(parse_no_retry(None), None);
/// ```
pub fn parse_no_retry(value: Option<&str>) -> Option<bool> {
    value.map(|v| v.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn clamps_both_ends() {
        assert_eq!(parse_retry_after("9999999", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("-5", now()), Some(MIN_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("2024-12-31T00:00:00Z", now()),
            Some(MIN_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("2030-01-01T00:00:00Z", now()),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn eight_characters_are_a_date() {
        // 8 digits are not read as seconds.
        assert_eq!(parse_retry_after("10000000", now()), None);
        assert_eq!(parse_retry_after("1.5", now()), None);
    }
}
