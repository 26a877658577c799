//! Ops: what an SDK reports in a 206 response, and serialised errors.

use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::ProtocolError;

/// The kind of an op; serialised as its name (`"StepRun"`, `"AIGateway"`, …).
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::OpCode;
///
/// assert_eq!(serde_json::to_string(&OpCode::AiGateway).unwrap(), r#""AIGateway""#);
/// assert_eq!("StepRun".parse::<OpCode>().unwrap(), OpCode::StepRun);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpCode {
    /// Nothing to do; the executor re-drives discovery.
    None,
    /// Legacy form of `StepRun` whose data the executor stores as-is.
    Step,
    /// A step ran successfully; `data` holds its result.
    StepRun,
    /// A step threw and may be retried; `error` is required.
    StepError,
    /// A step was found but not run; the executor schedules a call targeting it.
    StepPlanned,
    /// Sleep for `opts.duration` (JS: the duration or instant in `name`).
    Sleep,
    /// Wait for an event (`opts.event`, JS: `name`) with `opts.timeout` and `opts.if`.
    WaitForEvent,
    /// Invoke another function (`opts.function_id`, `opts.payload`, `opts.timeout`).
    InvokeFunction,
    /// The executor performs an AI inference request (`step.ai.infer`).
    #[serde(rename = "AIGateway")]
    AiGateway,
    /// The executor performs an HTTP request (`step.fetch`).
    Gateway,
    /// Wait for a signal (`opts.signal`, `opts.timeout`).
    WaitForSignal,
    /// The function returned inside a 206; `data` is its return value.
    RunComplete,
    /// A step failed for good; the executor memoises `{"error": …}`.
    StepFailed,
    /// Synchronous-run completion (durable endpoints).
    SyncRunComplete,
    /// The SDK asks for a fresh discovery call.
    DiscoveryRequest,
    /// Schedules a deferred run.
    DeferAdd,
    /// Aborts a deferred run.
    DeferAbort,
}

impl OpCode {
    /// All op codes, in the server's enum order.
    pub const ALL: [Self; 17] = [
        Self::None,
        Self::Step,
        Self::StepRun,
        Self::StepError,
        Self::StepPlanned,
        Self::Sleep,
        Self::WaitForEvent,
        Self::InvokeFunction,
        Self::AiGateway,
        Self::Gateway,
        Self::WaitForSignal,
        Self::RunComplete,
        Self::StepFailed,
        Self::SyncRunComplete,
        Self::DiscoveryRequest,
        Self::DeferAdd,
        Self::DeferAbort,
    ];

    /// The wire name.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::OpCode;
    ///
    /// assert_eq!(OpCode::WaitForEvent.as_str(), "WaitForEvent");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Step => "Step",
            Self::StepRun => "StepRun",
            Self::StepError => "StepError",
            Self::StepPlanned => "StepPlanned",
            Self::Sleep => "Sleep",
            Self::WaitForEvent => "WaitForEvent",
            Self::InvokeFunction => "InvokeFunction",
            Self::AiGateway => "AIGateway",
            Self::Gateway => "Gateway",
            Self::WaitForSignal => "WaitForSignal",
            Self::RunComplete => "RunComplete",
            Self::StepFailed => "StepFailed",
            Self::SyncRunComplete => "SyncRunComplete",
            Self::DiscoveryRequest => "DiscoveryRequest",
            Self::DeferAdd => "DeferAdd",
            Self::DeferAbort => "DeferAbort",
        }
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OpCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| format!("unknown op code {s:?}"))
    }
}

/// The user-visible id of a step and its repeat index, carried by ops as `userland`.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::Userland;
///
/// let first = Userland { id: "fetch".into(), index: None };
/// assert_eq!(serde_json::to_string(&first).unwrap(), r#"{"id":"fetch"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Userland {
    /// The id the user gave the step.
    pub id: String,
    /// The repeat index; omitted for the first use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// An error as SDKs serialise it: `{name, message, stack?, data?, cause?, __serialized?}`.
///
/// Unknown fields are kept in `extra` so that an error survives a round trip unchanged.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::SerializedError;
///
/// let err = SerializedError::new("Error", "boom");
/// assert_eq!(serde_json::to_string(&err).unwrap(), r#"{"name":"Error","message":"boom"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SerializedError {
    /// Error class name, e.g. `"Error"`, `"NonRetriableError"`.
    #[serde(default)]
    pub name: String,

    /// Human-readable message.
    #[serde(default)]
    pub message: String,

    /// Stack trace text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,

    /// Extra data attached to the error (Go: the partial step result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,

    /// The error's cause, itself usually a serialised error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Value>,

    /// The JS SDK's marker that this object is a serialised error.
    #[serde(
        default,
        rename = "__serialized",
        skip_serializing_if = "Option::is_none"
    )]
    pub serialized: Option<bool>,

    /// Any other fields, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SerializedError {
    /// An error with a name and a message and nothing else.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
            stack: None,
            data: None,
            cause: None,
            serialized: None,
            extra: Map::new(),
        }
    }
}

impl fmt::Display for SerializedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

/// One operation reported by an SDK in a 206 response body (a JSON array of ops).
///
/// `data` stays raw JSON: the executor stores it without looking inside, and the difference
/// between an absent `data` and `"data": null` survives a round trip. Fields this crate does
/// not know (JS v4 leaks some internals) are kept in `extra`.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{Op, OpCode};
///
/// let ops: Vec<Op> = serde_json::from_str(
///     r#"[{"id":"e0996a37c13d44c3b06074939d43fa3759bd32c1","op":"StepRun","name":"first","data":{"n":1}}]"#,
/// ).unwrap();
/// assert_eq!(ops[0].op, OpCode::StepRun);
/// assert_eq!(ops[0].data.as_ref().unwrap().get(), r#"{"n":1}"#);
///
/// let planned = Op::new(OpCode::StepPlanned, "abc").with_name("fetch");
/// assert_eq!(
///     serde_json::to_string(&planned).unwrap(),
///     r#"{"id":"abc","op":"StepPlanned","name":"fetch"}"#,
/// );
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Op {
    /// Hashed step id.
    pub id: String,

    /// What the op asks for.
    pub op: OpCode,

    /// Step name (JS: the step id; for sleeps the duration, for waits the event name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,

    /// Name shown in UIs.
    #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,

    /// Op-specific options (`duration`, `timeout`, `if`, `function_id`, `payload`, `type`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opts: Option<Value>,

    /// The step's result (StepRun), return value (RunComplete), raw JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,

    /// The error of a StepError / StepFailed op.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SerializedError>,

    /// The user-visible step id and repeat index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userland: Option<Userland>,

    /// Start/end of the step's execution as the SDK measured it (JS: `{"a": …, "b": …}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Value>,

    /// Free-form metadata some SDKs attach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,

    /// Any other fields, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Op {
    /// An op of the given kind and hashed id, with every optional field absent.
    pub fn new(op: OpCode, id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            op,
            name: None,
            display_name: None,
            opts: None,
            data: None,
            error: None,
            userland: None,
            timing: None,
            metadata: None,
            extra: Map::new(),
        }
    }

    /// Sets `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets `displayName`.
    pub fn with_display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }

    /// Sets `opts`.
    pub fn with_opts(mut self, opts: Value) -> Self {
        self.opts = Some(opts);
        self
    }

    /// Sets `data` to already-serialised JSON.
    pub fn with_data(mut self, data: Box<RawValue>) -> Self {
        self.data = Some(data);
        self
    }

    /// Sets `error`.
    pub fn with_error(mut self, error: SerializedError) -> Self {
        self.error = Some(error);
        self
    }

    /// Sets `userland`; an index of 0 is omitted on the wire, as the JS SDK does.
    pub fn with_userland(mut self, id: impl Into<String>, index: u32) -> Self {
        self.userland = Some(Userland {
            id: id.into(),
            index: (index > 0).then_some(index),
        });
        self
    }

    /// Name shown in UIs: `displayName`, else `name`, else the hashed id.
    pub fn ui_name(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.id)
    }

    /// A string option from `opts`, if present.
    pub fn opt_str(&self, key: &str) -> Option<&str> {
        self.opts.as_ref()?.get(key)?.as_str()
    }

    /// `opts` read as a typed options struct; absent `opts` give the struct's default.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::Json`] if `opts` does not have the struct's shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::op::{InvokeFunctionOpts, Op};
    ///
    /// let op: Op = serde_json::from_str(
    ///     r#"{"id":"h","op":"InvokeFunction","opts":{"function_id":"app-child","payload":{"data":{}},"timeout":"1h"}}"#,
    /// ).unwrap();
    /// let opts: InvokeFunctionOpts = op.opts_as().unwrap();
    /// assert_eq!(opts.function_id, "app-child");
    /// ```
    pub fn opts_as<T: DeserializeOwned + Default>(&self) -> Result<T, ProtocolError> {
        match &self.opts {
            None | Some(Value::Null) => Ok(T::default()),
            Some(opts) => {
                T::deserialize(opts).map_err(|source| ProtocolError::json("op opts", source))
            }
        }
    }

    /// The sleep target of a `Sleep` op: `opts.duration`, else `name` (the JS SDK's form).
    /// It is a time string (`"1h30m"`) or an ISO-8601 instant.
    pub fn sleep_target(&self) -> Option<&str> {
        self.opt_str("duration")
            .or(self.name.as_deref())
            .filter(|s| !s.is_empty())
    }

    /// The awaited event name of a `WaitForEvent` op: `opts.event`, else `name`.
    pub fn wait_event_name(&self) -> Option<&str> {
        self.opt_str("event")
            .or(self.name.as_deref())
            .filter(|s| !s.is_empty())
    }
}

/// `opts` of a run-type op (`StepPlanned`, `StepRun`): the JS SDK's wrapper type and input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOpts {
    /// Wrapper kind, e.g. `"step.sendEvent"`, `"step.ai.wrap"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Step input; an array when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// `"race"` for steps of a racing parallel group.
    #[serde(
        rename = "parallelMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parallel_mode: Option<String>,
}

/// `opts` of a `Sleep` op (the Go SDK's form; JS puts the target in `name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SleepOpts {
    /// Time string or ISO-8601 instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// `opts` of a `WaitForEvent` op.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitForEventOpts {
    /// Awaited event name (Go; JS puts it in `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Time string or ISO-8601 instant; empty means expire at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// CEL over `event` (the trigger) and `async` (the candidate).
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// `opts` of an `InvokeFunction` op.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvokeFunctionOpts {
    /// Composite id of the function to invoke.
    #[serde(default)]
    pub function_id: String,
    /// The invocation event's `data`, `v` and `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// How long to wait for the result (1 year when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Written by hand because `data` must stay a `RawValue`, which serde cannot capture
        // through `#[serde(flatten)]` (needed for `extra`).
        deserializer.deserialize_map(OpVisitor)
    }
}

struct OpVisitor;

impl<'de> Visitor<'de> for OpVisitor {
    type Value = Op;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an op object with `id` and `op`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Op, A::Error> {
        let mut id = None;
        let mut op = None;
        let mut out = Op::new(OpCode::None, String::new());

        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "id" => id = Some(map.next_value::<String>()?),
                "op" => op = Some(map.next_value::<OpCode>()?),
                "name" => out.name = map.next_value()?,
                "displayName" => out.display_name = map.next_value()?,
                "opts" => out.opts = map.next_value()?,
                "data" => out.data = Some(map.next_value::<Box<RawValue>>()?),
                "error" => out.error = map.next_value()?,
                "userland" => out.userland = map.next_value()?,
                "timing" => out.timing = map.next_value()?,
                "metadata" => out.metadata = map.next_value()?,
                _ => {
                    let value = map.next_value::<Value>()?;
                    out.extra.insert(key, value);
                }
            }
        }

        out.id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        out.op = op.ok_or_else(|| de::Error::missing_field("op"))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_op_code_round_trips() {
        for code in OpCode::ALL {
            let wire = serde_json::to_string(&code).unwrap();
            assert_eq!(wire, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<OpCode>(&wire).unwrap(), code);
        }
        assert!(serde_json::from_str::<OpCode>("\"AiGateway\"").is_err());
    }

    #[test]
    fn null_data_differs_from_absent_data() {
        let with_null: Op =
            serde_json::from_str(r#"{"id":"x","op":"StepPlanned","data":null}"#).unwrap();
        assert_eq!(with_null.data.as_ref().map(|d| d.get()), Some("null"));
        assert_eq!(
            serde_json::to_value(&with_null).unwrap(),
            json!({"id":"x","op":"StepPlanned","data":null})
        );

        let without: Op = serde_json::from_str(r#"{"id":"x","op":"StepPlanned"}"#).unwrap();
        assert!(without.data.is_none());
    }

    #[test]
    fn keeps_unknown_fields_and_rejects_missing_ones() {
        let wire = json!({"id":"x","op":"StepRun","mode":"sync","promise":{}});
        let op: Op = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&op).unwrap(), wire);

        let err = serde_json::from_str::<Op>(r#"{"op":"StepRun"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
        let err = serde_json::from_str::<Op>(r#"{"id":"x","op":"Nope"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `Nope`"), "{err}");
    }

    #[test]
    fn typed_opts() {
        let wait: Op = serde_json::from_value(json!({"id":"x","op":"WaitForEvent","name":"app/ok","opts":{"timeout":"1d","if":"async.data.id == 1"}})).unwrap();
        let opts: WaitForEventOpts = wait.opts_as().unwrap();
        assert_eq!(opts.expression.as_deref(), Some("async.data.id == 1"));
        assert_eq!(opts.timeout.as_deref(), Some("1d"));

        let run = Op::new(OpCode::StepPlanned, "x");
        assert_eq!(run.opts_as::<RunOpts>().unwrap(), RunOpts::default());

        let bad = Op::new(OpCode::Sleep, "x").with_opts(json!({"duration": 5}));
        let err = bad.opts_as::<SleepOpts>().unwrap_err().to_string();
        assert!(err.contains("op opts"), "{err}");
    }

    #[test]
    fn sleep_and_wait_fallbacks() {
        let js: Op = serde_json::from_value(json!({"id":"x","op":"Sleep","name":"1h30m"})).unwrap();
        assert_eq!(js.sleep_target(), Some("1h30m"));
        let go: Op = serde_json::from_value(
            json!({"id":"x","op":"Sleep","name":"nap","opts":{"duration":"5s"}}),
        )
        .unwrap();
        assert_eq!(go.sleep_target(), Some("5s"));
        let wait: Op = serde_json::from_value(
            json!({"id":"x","op":"WaitForEvent","name":"app/ok","opts":{"timeout":"1d"}}),
        )
        .unwrap();
        assert_eq!(wait.wait_event_name(), Some("app/ok"));
    }
}
