//! The body of a call request (executor → SDK `POST`), and memoised step values.
//!
//! [`CallRequest`] owns everything it read. [`BorrowedCallRequest`] reads the same body but
//! keeps each memoised step as a slice of it, keyed by digest, and only checks the shape of
//! `ctx.stack`: the form an SDK answering many requests wants, since a request carries every
//! step memoised so far. Both are [`CallRequestOf`], so they accept exactly the same bodies.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::{Event, ProtocolError, SerializedError, StepHash, StepHashSet};

/// Execution version meaning "the SDK decides" (a fresh run).
pub const VERSION_SDK_DECIDES: i64 = -1;

/// The execution version new SDKs answer with in `X-Inngest-Req-Version`.
pub const CURRENT_EXECUTION_VERSION: i64 = 2;

/// The body the executor POSTs to an SDK to run (part of) a function, owning what it read.
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
pub type CallRequest = CallRequestOf<HashMap<String, Box<RawValue>>, Vec<String>>;

/// A call request read without copying its memoised steps: each is a slice of the body,
/// found by the digest of its hashed id ([`BorrowedSteps`]), and `ctx.stack.stack` is only
/// checked to be a list of strings ([`CheckedIds`]).
///
/// It accepts exactly the bodies [`CallRequest::from_slice`] accepts: the same types are
/// checked for every field, and a key written with escapes is read like any other.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{BorrowedCallRequest, StepHash, hash_step_id};
///
/// let body = format!(
///     r#"{{"event":{{"name":"app/a"}},"steps":{{"{}":{{"data":1}}}},
///     "ctx":{{"run_id":"01J","stack":{{"stack":["a"],"current":1}}}}}}"#,
///     hash_step_id("fetch"),
/// );
/// let req = BorrowedCallRequest::from_str(&body).unwrap();
/// assert_eq!(req.steps.get(&StepHash::of("fetch")).unwrap().get(), r#"{"data":1}"#);
/// assert_eq!(req.ctx.stack.stack.len(), 1);
/// ```
pub type BorrowedCallRequest<'a> = CallRequestOf<BorrowedSteps<'a>, CheckedIds>;

/// A call request with its memoised steps read as `Steps` and the ids of `ctx.stack` as
/// `Ids`; use it through [`CallRequest`] or [`BorrowedCallRequest`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Steps: Serialize, Ids: Serialize",
    deserialize = "Steps: Deserialize<'de> + Default, Ids: Deserialize<'de> + Default"
))]
pub struct CallRequestOf<Steps, Ids> {
    /// The triggering event (the first of `events`).
    pub event: Event,

    /// All triggering events; more than one only for batches. Empty when `use_api` is set.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<Event>,

    /// Memoised step values by hashed step id, raw.
    #[serde(default, deserialize_with = "null_as_default")]
    pub steps: Steps,

    /// Run and attempt context.
    pub ctx: CallContextOf<Ids>,

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
        effective_version(self.version)
    }
}

impl<'a> BorrowedCallRequest<'a> {
    /// Reads a call request body, borrowing its memoised steps.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::Json`] naming the line and column of the problem.
    #[expect(
        clippy::should_implement_trait,
        reason = "it borrows from its input, which `FromStr` cannot express"
    )]
    pub fn from_str(body: &'a str) -> Result<Self, ProtocolError> {
        serde_json::from_str(body).map_err(|source| ProtocolError::json("call request", source))
    }

    /// The execution version to use, as [`CallRequest::effective_version`] resolves it.
    pub fn effective_version(&self) -> i64 {
        effective_version(self.version)
    }
}

fn effective_version(version: Option<i64>) -> i64 {
    match version {
        Some(v) if v >= 1 => v,
        _ => CURRENT_EXECUTION_VERSION,
    }
}

/// The `steps` of a [`BorrowedCallRequest`]: each memo as the raw JSON slice of the body,
/// with the digest of its hashed id, in the order of the body.
///
/// They are listed, not mapped, so that reading costs no hashing: whoever looks memos up
/// builds the one map it needs. A key given twice is listed twice, and the later value is the
/// one that counts (as in [`CallRequest::steps`]). A key that is not a lowercase hex SHA-1
/// (no step hashes to it, so none will claim it) is only kept, once per distinct key, in
/// `unclaimable`.
#[derive(Debug, Clone, Default)]
pub struct BorrowedSteps<'a> {
    /// Memoised values with the digest of their key, in body order.
    pub entries: Vec<(StepHash, &'a RawValue)>,
    /// Distinct keys that are not hashed step ids.
    pub unclaimable: Vec<Cow<'a, str>>,
}

impl<'a> BorrowedSteps<'a> {
    /// The memo of the step with this digest (the last one given).
    pub fn get(&self, hash: &StepHash) -> Option<&'a RawValue> {
        self.entries
            .iter()
            .rev()
            .find(|(key, _)| key == hash)
            .map(|(_, raw)| *raw)
    }

    /// The number of distinct keys, hashed ids or not.
    pub fn len(&self) -> usize {
        let distinct: StepHashSet = self.entries.iter().map(|(hash, _)| *hash).collect();
        distinct.len() + self.unclaimable.len()
    }

    /// Whether no step is memoised.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.unclaimable.is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedSteps<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BorrowedStepsVisitor)
    }
}

struct BorrowedStepsVisitor;

impl<'de> Visitor<'de> for BorrowedStepsVisitor {
    type Value = BorrowedSteps<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The words of serde's own maps, so that both readers describe a bad body alike.
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut steps = BorrowedSteps {
            entries: Vec::with_capacity(map.size_hint().unwrap_or(0)),
            unclaimable: Vec::new(),
        };

        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            let value = map.next_value::<&'de RawValue>()?;
            match StepHash::from_hex(&key) {
                Some(hash) => steps.entries.push((hash, value)),
                None if !steps.unclaimable.contains(&key) => steps.unclaimable.push(key),
                None => {}
            }
        }

        Ok(steps)
    }
}

/// `ctx.stack.stack` of a [`BorrowedCallRequest`]: checked to be a list of strings, as
/// [`CallRequest`] reads it, and counted, not kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckedIds {
    len: usize,
}

impl CheckedIds {
    /// How many ids the stack held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the stack was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<'de> Deserialize<'de> for CheckedIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(CheckedIdsVisitor)
    }
}

struct CheckedIdsVisitor;

impl<'de> Visitor<'de> for CheckedIdsVisitor {
    type Value = CheckedIds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut len = 0;
        while seq.next_element::<Text<'de>>()?.is_some() {
            len += 1;
        }
        Ok(CheckedIds { len })
    }
}

/// A JSON string, borrowed from the input when it has no escapes (serde's own `Cow<str>`
/// always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(text)))
    }
}

/// The `ctx` object of a call request, owning the ids of its stack.
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
pub type CallContext = CallContextOf<Vec<String>>;

/// The `ctx` object of a call request with the ids of its stack read as `Ids`; see
/// [`CallContext`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Ids: Serialize",
    deserialize = "Ids: Deserialize<'de> + Default"
))]
pub struct CallContextOf<Ids> {
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
    pub stack: CallStackOf<Ids>,

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

impl<Ids> CallContextOf<Ids> {
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
pub type CallStack = CallStackOf<Vec<String>>;

/// `ctx.stack` with its ids read as `Ids`; see [`CallStack`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Ids: Serialize",
    deserialize = "Ids: Deserialize<'de> + Default"
))]
pub struct CallStackOf<Ids> {
    /// Hashed ids in completion order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub stack: Ids,
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
        Self::interpret(raw.get(), Some(raw))
    }

    /// Interprets a memoised value given as its JSON text, as [`parse`](Self::parse) does.
    ///
    /// For text kept from a [`RawValue`] without the value itself (a slice of the request
    /// body, say); only a memo that is not unwrapped is checked again to be JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::MemoizedStep;
    ///
    /// let MemoizedStep::Data(data) = MemoizedStep::parse_str(r#"{"data":[1,2]}"#).unwrap() else {
    ///     panic!()
    /// };
    /// assert_eq!(data.get(), "[1,2]");
    /// assert!(MemoizedStep::parse_str("[1,").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), and when `text` is not one JSON value.
    pub fn parse_str(text: &'a str) -> Result<Self, ProtocolError> {
        Self::interpret(text, None)
    }

    /// The rule of [`parse`](Self::parse); `raw` is `text` as a value when the caller has it.
    fn interpret(text: &'a str, raw: Option<&'a RawValue>) -> Result<Self, ProtocolError> {
        let whole = || match raw {
            Some(raw) => Ok(raw),
            None => serde_json::from_str::<&'a RawValue>(text)
                .map_err(|source| ProtocolError::json("memoised step", source)),
        };
        let trimmed = text.trim_start();

        if trimmed.starts_with("null") {
            return Ok(Self::Null);
        }
        if !trimmed.starts_with('{') {
            return whole().map(Self::Raw);
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
            None => Self::Raw(whole()?),
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

        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
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
                let kind = map.next_value::<Text<'de>>().ok();
                shape.kind = match kind.as_ref().map(|Text(kind)| kind.as_ref()) {
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

    /// The borrowing reader accepts a body exactly when the owning one does.
    #[test]
    fn borrowed_and_owned_readers_accept_the_same_bodies() {
        let hex = crate::hash_step_id("a");
        let variants = [
            format!(r#"{{"event":{{"name":"e"}},"steps":{{"{hex}":{{"data":1}}}},"ctx":{{"run_id":"r"}}}}"#),
            r#"{"event":{"name":"e"},"steps":null,"events":null,"ctx":{"run_id":"r","stack":{"stack":null}}}"#.to_owned(),
            r#"{"event":{"name":"e"},"steps":{"h1":1,"h1":2,"H2":{}},"ctx":{"run_id":"r"}}"#.to_owned(),
            r#"{"event":{"name":"e"},"ctx":{"run_id":"r","stack":{"stack":["a","b"],"current":2}}}"#.to_owned(),
            r#"{"event":{"name":"e"},"ctx":{"run_id":"r","stack":null}}"#.to_owned(),
            r#"{"event":{"name":"e"},"ctx":{"run_id":"r","stack":{"stack":[1]}}}"#.to_owned(),
            r#"{"event":{"name":"e"},"ctx":{"run_id":"r","stack":{"stack":"a"}}}"#.to_owned(),
            r#"{"event":{"name":"e"},"steps":[],"ctx":{"run_id":"r"}}"#.to_owned(),
            r#"{"event":{"name":"e"},"steps":{"a":},"ctx":{"run_id":"r"}}"#.to_owned(),
            r#"{"event":{"name":"e"},"steps":{"a":1,},"ctx":{"run_id":"r"}}"#.to_owned(),
            r#"{"event":{"name":"e"},"steps":{},"ctx":{"run_id":"r"},"ctx":{"run_id":"r"}}"#.to_owned(),
            r#"{"event":{"name":"e"},"ctx":{"run_id":"r","attempt":-1}}"#.to_owned(),
            r#"{"event":{"name":"e"},"ctx":{}}"#.to_owned(),
            r#"{"event":{"name":"e"},"ctx":{"run_id":"r"}} trailing"#.to_owned(),
            r#"{"event":{"name":"e"},"steps":{"ab":1},"ctx":{"run_id":"r","stack":{"stack":["a"]}}}"#.to_owned(),
        ];

        for body in &variants {
            let owned = CallRequest::from_slice(body.as_bytes());
            let borrowed = BorrowedCallRequest::from_str(body);
            assert_eq!(borrowed.is_ok(), owned.is_ok(), "{body}");
            if let (Ok(owned), Ok(borrowed)) = (owned, borrowed) {
                assert_eq!(borrowed.steps.len(), owned.steps.len(), "{body}");
                assert_eq!(
                    borrowed.ctx.stack.stack.len(),
                    owned.ctx.stack.stack.len(),
                    "{body}"
                );
                assert_eq!(borrowed.ctx.run_id, owned.ctx.run_id, "{body}");
            }
        }

        let twice = format!(
            r#"{{"event":{{"name":"e"}},"steps":{{"{hex}":1,"{hex}":2}},"ctx":{{"run_id":"r"}}}}"#
        );
        let owned = CallRequest::from_slice(twice.as_bytes()).unwrap();
        let borrowed = BorrowedCallRequest::from_str(&twice).unwrap();
        assert_eq!(owned.steps[&hex].get(), "2");
        assert_eq!(borrowed.steps.get(&StepHash::of("a")).unwrap().get(), "2");
        assert_eq!(borrowed.steps.len(), 1);

        let dup = BorrowedCallRequest::from_str(&variants[2]).unwrap();
        assert_eq!(
            dup.steps.unclaimable,
            ["h1", "H2"],
            "each distinct key once"
        );
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
