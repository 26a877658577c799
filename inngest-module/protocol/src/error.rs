//! The crate's single error type.

use std::time::Duration;

/// Everything that can go wrong while reading, checking or signing Inngest protocol data.
///
/// Every message names the value, field or function at fault and says how to fix it.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{parse_duration, ProtocolError};
///
/// let err = parse_duration("1x").unwrap_err();
/// assert!(matches!(err, ProtocolError::InvalidDuration { .. }));
/// assert!(err.to_string().contains("character 2"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A time string such as `"1h30m"` could not be parsed.
    #[error(
        "invalid duration {input:?} at character {position}: {reason}; write a number followed \
         by a unit (ns, us, ms, s, m, h, d, w), e.g. \"1h30m\" or \"7d\""
    )]
    InvalidDuration {
        /// The string as given.
        input: String,
        /// 1-based character position where the problem was found.
        position: usize,
        /// What was wrong there.
        reason: String,
    },

    /// A duration is syntactically fine but outside the range a field allows.
    #[error("duration {input:?} is out of range: {reason}")]
    DurationOutOfRange {
        /// The string as given.
        input: String,
        /// The allowed range.
        reason: String,
    },

    /// A cron expression is not a valid 5-field expression.
    #[error(
        "invalid cron expression {expression:?}: {reason}; use 5 fields \
         (minute hour day-of-month month day-of-week), optionally prefixed with \
         \"TZ=<IANA zone> \", e.g. \"TZ=Europe/Paris 0 9 * * 1-5\""
    )]
    InvalidCron {
        /// The expression as given.
        expression: String,
        /// What was wrong.
        reason: String,
    },

    /// An event failed validation.
    #[error("event #{index}: field `{field}` {reason}")]
    InvalidEvent {
        /// Position of the event in the batch that was checked (0 for a single event).
        index: usize,
        /// Name of the offending field.
        field: &'static str,
        /// What was wrong and how to fix it.
        reason: String,
    },

    /// A function configuration failed validation.
    #[error("function {function_id:?}: field `{field}` {reason}")]
    InvalidFunction {
        /// Id of the function (the composite `<app>-<fn>` id on the wire).
        function_id: String,
        /// Path of the offending field, e.g. `triggers[1].cron` or `batchEvents.timeout`.
        field: String,
        /// What was wrong and how to fix it.
        reason: String,
    },

    /// A JSON document did not have the shape of the named protocol type.
    #[error("could not read {what} from JSON: {source}")]
    Json {
        /// Which protocol object was being read, e.g. `"call request"`.
        what: &'static str,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },

    /// Bytes handed to the JSON canonicaliser are not valid JSON.
    #[error("cannot canonicalise JSON at byte {offset}: {reason}")]
    InvalidJson {
        /// 0-based byte offset of the problem.
        offset: usize,
        /// What was wrong.
        reason: String,
    },

    /// A signing key is not usable.
    #[error("invalid signing key: {reason}; keys look like \"signkey-<env>-<hex>\"")]
    InvalidSigningKey {
        /// What was wrong.
        reason: String,
    },

    /// A request that must be signed carries no `X-Inngest-Signature` header.
    #[error(
        "missing X-Inngest-Signature header; the request must be signed with the app's signing \
         key (or run in dev mode to skip verification)"
    )]
    SignatureMissing,

    /// The `X-Inngest-Signature` header is not of the form `t=<unix seconds>&s=<hex>`.
    #[error(
        "malformed X-Inngest-Signature header: {reason}; expected \"t=<unix seconds>&s=<hex>\""
    )]
    SignatureMalformed {
        /// What was wrong.
        reason: String,
    },

    /// The signature's timestamp is further from now than the allowed tolerance.
    #[error(
        "X-Inngest-Signature timestamp is {skew:?} away from now, more than the allowed \
         {tolerance:?}; check the clocks of both machines"
    )]
    SignatureExpired {
        /// Distance between the signature time and now.
        skew: Duration,
        /// The tolerance that was applied.
        tolerance: Duration,
    },

    /// No configured key produces the received signature.
    #[error(
        "X-Inngest-Signature does not match the body with any of the {keys_tried} configured \
         signing key(s); check INNGEST_SIGNING_KEY / INNGEST_SIGNING_KEY_FALLBACK"
    )]
    SignatureMismatch {
        /// How many keys were tried (primary, then fallback).
        keys_tried: usize,
    },

    /// No signing key is configured but verification was requested.
    #[error("no signing key configured; set INNGEST_SIGNING_KEY or run in dev mode")]
    NoSigningKey,
}

impl ProtocolError {
    pub(crate) fn json(what: &'static str, source: serde_json::Error) -> Self {
        Self::Json { what, source }
    }
}
