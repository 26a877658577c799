//! The body of a call request (executor → SDK `POST`), and memoised step values.

use std::collections::HashMap;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::{Event, ProtocolError, SerializedError};

/// Execution version meaning "the SDK decides" (a fresh run).
pub const VERSION_SDK_DECIDES: i64 = -1;

/// The execution version new SDKs answer with in `X-Inngest-Req-Version`.
pub const CURRENT_EXECUTION_VERSION: i64 = 2;

/// The body the executor POSTs to an SDK to run (part of) a function.
///
/// Memoised step values stay raw JSON until a step reads them (see [`CallRequest::memo`]), so
/// a request with thousands of memoised steps parses quickly.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{CallRequest, MemoizedStep};
///
/// let body = r#"{"event":{"name":"app/a","data":{}},"events":[{"name":"app/a","data":{}}],
///   "steps":{"h1":{"data":42}},"ctx":{"run_id":"01J","attempt":0,"max_attempts":4,
///   "stack":{"stack":["h1"],"current":1}},"version":2,"use_api":false}"#;
/// let req = CallRequest::from_slice(body.as_bytes()).unwrap();
/// assert_eq!(req.ctx.run_id, "01J");
/// match req.memo("h1").unwrap().unwrap() {
///     MemoizedStep::Data(raw) => assert_eq!(raw.get(), "42"),
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallRequest {
    /// The triggering event (the first of `events`).
    pub event: Event,

    /// All triggering events; more than one only for batches. Empty when `use_api` is set.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<Event>,

    /// Memoised step values by hashed step id, raw.
    #[serde(default, deserialize_with = "null_as_default")]
    pub steps: HashMap<String, Box<RawValue>>,

    /// Run and attempt context.
    pub ctx: CallContext,

    /// Execution version: -1 or absent means the SDK decides; otherwise 1 or 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,

    /// When true, events and steps were too large to send and must be fetched from the API.
    #[serde(default)]
    pub use_api: bool,

    /// Deferred runs scheduled so far (JS `defer()`), kept raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defers: Option<Box<RawValue>>,
}

impl CallRequest {
    /// Parses a call request body.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::Json`] naming the line and column of the problem.
    pub fn from_slice(body: &[u8]) -> Result<Self, ProtocolError> {
        serde_json::from_slice(body).map_err(|source| ProtocolError::json("call request", source))
    }

    /// The memoised value of a step, interpreted on demand; `None` if it is not memoised.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::Json`] if an `{"error": …}` memo does not hold an error object.
    pub fn memo(&self, hashed_id: &str) -> Option<Result<MemoizedStep<'_>, ProtocolError>> {
        self.steps
            .get(hashed_id)
            .map(|raw| MemoizedStep::parse(raw))
    }

    /// The execution version to use, resolving "SDK decides" (-1, 0 or absent) to
    /// [`CURRENT_EXECUTION_VERSION`].
    pub fn effective_version(&self) -> i64 {
        match self.version {
            Some(v) if v >= 1 => v,
            _ => CURRENT_EXECUTION_VERSION,
        }
    }
}

/// The `ctx` object of a call request.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::CallContext;
///
/// let ctx: CallContext = serde_json::from_str(r#"{"run_id":"01J","attempt":1,"max_attempts":4}"#).unwrap();
/// assert!(!ctx.is_final_attempt());
/// assert_eq!(ctx.step_id, "step");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallContext {
    /// Run id (a ULID).
    pub run_id: String,

    /// Function UUID. When present, JS v4 switches to async checkpointing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fn_id: Option<String>,

    /// Environment name (`""` for the default one).
    #[serde(default)]
    pub env: String,

    /// `"step"` for discovery, else the hashed id of the step to run.
    #[serde(default = "discovery_step_id")]
    pub step_id: String,

    /// 0-based attempt of this queue item.
    #[serde(default)]
    pub attempt: u32,

    /// Retries + 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,

    /// Hashed ids in completion order.
    #[serde(default)]
    pub stack: CallStack,

    /// Queue item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi_id: Option<String>,

    /// Request id of this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,

    /// Generation counter of the queue item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<u64>,

    /// Queue job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,

    /// When true the SDK must report steps as `StepPlanned` and never run one inline.
    #[serde(default)]
    pub disable_immediate_execution: bool,

    /// Same as [`CallRequest::use_api`].
    #[serde(default)]
    pub use_api: bool,
}

impl CallContext {
    /// Whether this is the last attempt (`attempt == max_attempts - 1`), after which errors
    /// are final.
    pub fn is_final_attempt(&self) -> bool {
        self.max_attempts
            .is_some_and(|max| self.attempt.saturating_add(1) >= max)
    }
}

/// `ctx.stack`: hashed step ids in completion order and the index just past the step that
/// triggered this call.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::CallStack;
///
/// let stack = CallStack { stack: vec!["a".into()], current: 1 };
/// assert_eq!(serde_json::to_string(&stack).unwrap(), r#"{"stack":["a"],"current":1}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallStack {
    /// Hashed ids in completion order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub stack: Vec<String>,
    /// Index just past the step that triggered this call.
    #[serde(default)]
    pub current: u64,
}

/// A memoised step value, interpreted with the JS SDK's strict rule.
///
/// An object whose ONLY key is `data`, `error` or `input` is unwrapped; so is the typed form
/// `{"type":"data"|"error"|"input", <that key>: …}`. `null` is a finished sleep or a timed-out
/// wait. Anything else (a matched event, say) is data verbatim.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::MemoizedStep;
/// use serde_json::value::RawValue;
///
/// let raw = RawValue::from_string(r#"{"name":"app/ok","data":{}}"#.into()).unwrap();
/// // A matched event has sibling keys, so it is not unwrapped.
/// assert!(matches!(MemoizedStep::parse(&raw).unwrap(), MemoizedStep::Raw(_)));
///
/// let raw = RawValue::from_string(r#"{"error":{"name":"Error","message":"boom"}}"#.into()).unwrap();
/// let MemoizedStep::Error(err) = MemoizedStep::parse(&raw).unwrap() else { panic!() };
/// assert_eq!(err.message, "boom");
/// ```
#[derive(Debug, Clone)]
pub enum MemoizedStep<'a> {
    /// `{"data": X}`: a successful step or invoke result; holds X.
    Data(&'a RawValue),
    /// `{"error": E}`: a failed step or invoke.
    Error(SerializedError),
    /// `{"input": [...]}`: a step whose input was altered; holds the input.
    Input(&'a RawValue),
    /// `null`: a finished sleep or a timed-out waitForEvent.
    Null,
    /// Anything else, taken as data verbatim (e.g. the event that resumed a waitForEvent).
    Raw(&'a RawValue),
}

impl<'a> MemoizedStep<'a> {
    /// Interprets a raw memoised value.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::Json`] if the value is not JSON or an error memo's error is not an
    /// error object.
    pub fn parse(raw: &'a RawValue) -> Result<Self, ProtocolError> {
        let text = raw.get();
        let trimmed = text.trim_start();

        if trimmed.starts_with("null") {
            return Ok(Self::Null);
        }
        if !trimmed.starts_with('{') {
            return Ok(Self::Raw(raw));
        }

        let shape: MemoShape<'a> = serde_json::from_str(text)
            .map_err(|source| ProtocolError::json("memoised step", source))?;

        let unwrapped = match (shape.count, shape.kind) {
            (1, None) => shape.only,
            (2, Some(kind)) => shape.only.filter(|(key, _)| *key == kind),
            _ => None,
        };

        Ok(match unwrapped {
            Some((MemoKey::Data, value)) => Self::Data(value),
            Some((MemoKey::Input, value)) => Self::Input(value),
            Some((MemoKey::Error, value)) => Self::Error(
                serde_json::from_str(value.get())
                    .map_err(|source| ProtocolError::json("memoised step error", source))?,
            ),
            None => Self::Raw(raw),
        })
    }

    /// The value a step returns: `Data`, `Input`, `Raw` give their JSON, `Null` gives `null`,
    /// `Error` gives `None` (the step should throw instead).
    pub fn value(&self) -> Option<&'a RawValue> {
        match self {
            Self::Data(v) | Self::Input(v) | Self::Raw(v) => Some(v),
            Self::Null => Some(null_raw()),
            Self::Error(_) => None,
        }
    }
}

impl PartialEq for MemoizedStep<'_> {
    /// Raw values compare by their JSON text.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Data(a), Self::Data(b))
            | (Self::Input(a), Self::Input(b))
            | (Self::Raw(a), Self::Raw(b)) => a.get() == b.get(),
            (Self::Error(a), Self::Error(b)) => a == b,
            (Self::Null, Self::Null) => true,
            _ => false,
        }
    }
}

fn null_raw() -> &'static RawValue {
    // A literal known to be valid JSON.
    serde_json::from_str::<&RawValue>("null").unwrap_or_else(|_| unreachable!())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemoKey {
    Data,
    Error,
    Input,
}

/// What the unwrapping rule needs to know about a memo object, gathered in one pass.
struct MemoShape<'a> {
    count: usize,
    only: Option<(MemoKey, &'a RawValue)>,
    kind: Option<MemoKey>,
}

impl<'de> Deserialize<'de> for MemoShape<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MemoShapeVisitor)
    }
}

struct MemoShapeVisitor;

impl<'de> Visitor<'de> for MemoShapeVisitor {
    type Value = MemoShape<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut shape = MemoShape {
            count: 0,
            only: None,
            kind: None,
        };

        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            shape.count += 1;
            let memo_key = match key.as_ref() {
                "data" => Some(MemoKey::Data),
                "error" => Some(MemoKey::Error),
                "input" => Some(MemoKey::Input),
                _ => None,
            };

            if let Some(memo_key) = memo_key {
                let value = map.next_value::<&'de RawValue>()?;
                if shape.only.is_none() {
                    shape.only = Some((memo_key, value));
                } else {
                    // Two memo keys at once: not a wrapper.
                    shape.count += 2;
                }
            } else if key == "type" {
                let kind = map.next_value::<std::borrow::Cow<'de, str>>().ok();
                shape.kind = match kind.as_deref() {
                    Some("data") => Some(MemoKey::Data),
                    Some("error") => Some(MemoKey::Error),
                    Some("input") => Some(MemoKey::Input),
                    _ => None,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }

        Ok(shape)
    }
}

fn discovery_step_id() -> String {
    crate::DISCOVERY_STEP_ID.to_owned()
}

pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    fn kind(s: &str) -> String {
        let r = raw(s);
        match MemoizedStep::parse(&r).unwrap() {
            MemoizedStep::Data(v) => format!("data {}", v.get()),
            MemoizedStep::Error(e) => format!("error {}", e.message),
            MemoizedStep::Input(v) => format!("input {}", v.get()),
            MemoizedStep::Null => "null".to_owned(),
            MemoizedStep::Raw(v) => format!("raw {}", v.get()),
        }
    }

    #[test]
    fn strict_unwrapping_rule() {
        assert_eq!(kind(r#"{"data":{"a":1}}"#), r#"data {"a":1}"#);
        assert_eq!(kind(r#"{"data":null}"#), "data null");
        assert_eq!(kind(r#"{"error":{"name":"E","message":"m"}}"#), "error m");
        assert_eq!(kind(r#"{"input":[1]}"#), "input [1]");
        assert_eq!(kind("null"), "null");
        assert_eq!(kind("5"), "raw 5");
        assert_eq!(kind(r#""s""#), r#"raw "s""#);
        assert_eq!(
            kind(r#"{"data":1,"extra":2}"#),
            r#"raw {"data":1,"extra":2}"#
        );
        assert_eq!(
            kind(r#"{"data":1,"error":2}"#),
            r#"raw {"data":1,"error":2}"#
        );
        assert_eq!(kind(r#"{"type":"data","data":7}"#), "data 7");
        assert_eq!(
            kind(r#"{"type":"error","data":7}"#),
            r#"raw {"type":"error","data":7}"#
        );
        assert_eq!(kind("{}"), "raw {}");
    }

    #[test]
    fn error_memo_must_hold_an_error_object() {
        let r = raw(r#"{"error":"just a string"}"#);
        assert!(MemoizedStep::parse(&r).is_err());
    }

    #[test]
    fn missing_ctx_is_an_error_naming_it() {
        let err = CallRequest::from_slice(br#"{"hello":"world"}"#).unwrap_err();
        assert!(err.to_string().contains("call request"), "{err}");
        assert!(err.to_string().contains("missing field `event`"), "{err}");
    }

    #[test]
    fn final_attempt() {
        let mut ctx: CallContext =
            serde_json::from_str(r#"{"run_id":"r","attempt":3,"max_attempts":4}"#).unwrap();
        assert!(ctx.is_final_attempt());
        ctx.attempt = 2;
        assert!(!ctx.is_final_attempt());
    }
}
