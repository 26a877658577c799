//! Events, the Event API's reply, internal event names and event validation.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ProtocolError;

/// Prefix reserved for events that Inngest itself emits; outside senders may not use it.
pub const INTERNAL_EVENT_PREFIX: &str = "inngest/";

/// Sent to start exactly one function (`step.invoke`, or `POST /invoke/{fn}`);
/// `data._inngest.fn_id` names the target.
pub const FUNCTION_INVOKED_EVENT: &str = "inngest/function.invoked";

/// Emitted when any run reaches a terminal state.
pub const FUNCTION_FINISHED_EVENT: &str = "inngest/function.finished";

/// Emitted when a run fails for good; triggers `onFailure` handlers.
pub const FUNCTION_FAILED_EVENT: &str = "inngest/function.failed";

/// Emitted when a run is cancelled.
pub const FUNCTION_CANCELLED_EVENT: &str = "inngest/function.cancelled";

/// Emitted at each cron tick; its `data` holds `cron`, `scheduledAt` and `fireAt`.
pub const SCHEDULED_TIMER_EVENT: &str = "inngest/scheduled.timer";

/// Earliest accepted event timestamp: 1980-01-01T00:00:00Z in milliseconds.
pub const MIN_EVENT_TS_MS: i64 = 315_532_800_000;

/// Latest accepted event timestamp: 2100-01-01T00:00:00Z in milliseconds.
pub const MAX_EVENT_TS_MS: i64 = 4_102_444_800_000;

/// Maximum number of events in one Event API request.
pub const MAX_EVENTS_PER_REQUEST: usize = 5000;

/// An Inngest event as it travels on the wire (Event API bodies, call requests, memoised
/// `waitForEvent` results).
///
/// Absent optional fields are omitted when serialising; `data` defaults to `{}`.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::Event;
/// use serde_json::json;
///
/// let event: Event = serde_json::from_value(json!({"name": "app/user.created"})).unwrap();
/// assert_eq!(event.data, json!({}));
/// assert_eq!(
///     serde_json::to_value(&event).unwrap(),
///     json!({"name": "app/user.created", "data": {}}),
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Idempotency id given by the sender (dedupes run creation for 24 h), or the internal
    /// ULID once the server stored the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,

    /// Event name, e.g. `app/user.created`. Required; checked by [`Event::validate`].
    #[serde(default)]
    pub name: String,

    /// Payload; an object (`{}` when absent).
    #[serde(default = "empty_object", deserialize_with = "null_as_empty_object")]
    pub data: Value,

    /// Deprecated user object; the executor sends `{}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Value>,

    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,

    /// Version string of the event's schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,

    /// Metadata sent by newer SDKs (sessions and similar); kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

impl Event {
    /// Creates an event with a name and a payload and no other fields.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::Event;
    /// use serde_json::json;
    ///
    /// let event = Event::new("app/signup", json!({"plan": "pro"}));
    /// assert_eq!(event.name, "app/signup");
    /// assert_eq!(event.ts, None);
    /// ```
    pub fn new(name: impl Into<String>, data: Value) -> Self {
        Self {
            id: None,
            name: name.into(),
            data,
            user: None,
            ts: None,
            v: None,
            meta: None,
        }
    }

    /// Whether the name is reserved for Inngest's own events (`inngest/…`).
    pub fn is_internal(&self) -> bool {
        self.name.starts_with(INTERNAL_EVENT_PREFIX)
    }

    /// Checks an event received from outside (the Event API), `index` being its position in
    /// the request (0 for a single event).
    ///
    /// Rules, as the server applies them: a non-empty name, not starting with `inngest/`;
    /// `data` an object; `ts`, when given, between 1980 and 2100.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidEvent`] naming the index and the field.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::Event;
    /// use serde_json::json;
    ///
    /// assert!(Event::new("app/ok", json!({})).validate(0).is_ok());
    /// let err = Event::new("inngest/function.failed", json!({})).validate(3).unwrap_err();
    /// assert!(err.to_string().starts_with("event #3: field `name`"));
    /// ```
    pub fn validate(&self, index: usize) -> Result<(), ProtocolError> {
        let invalid = |field: &'static str, reason: String| ProtocolError::InvalidEvent {
            index,
            field,
            reason,
        };

        if self.name.trim().is_empty() {
            return Err(invalid(
                "name",
                "is required; give the event a name such as \"app/user.created\"".to_owned(),
            ));
        }
        if self.is_internal() {
            return Err(invalid(
                "name",
                format!(
                    "{:?} uses the reserved prefix \"{INTERNAL_EVENT_PREFIX}\"; only Inngest \
                     sends those events, pick another prefix",
                    self.name
                ),
            ));
        }

        if !self.data.is_object() {
            return Err(invalid(
                "data",
                format!("must be a JSON object, got {}", json_kind(&self.data)),
            ));
        }

        if let Some(ts) = self.ts
            && !(MIN_EVENT_TS_MS..=MAX_EVENT_TS_MS).contains(&ts)
        {
            return Err(invalid(
                "ts",
                format!(
                    "{ts} is outside 1980-01-01..2100-01-01; give milliseconds since the Unix \
                     epoch (not seconds)"
                ),
            ));
        }

        Ok(())
    }
}

/// Checks a batch of events received from outside, as [`Event::validate`] does for each, and
/// the batch size (≤ 5000).
///
/// # Errors
///
/// The first [`ProtocolError::InvalidEvent`] found.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{validate_events, Event};
/// use serde_json::json;
///
/// let events = vec![Event::new("a/ok", json!({})), Event::new("", json!({}))];
/// let err = validate_events(&events).unwrap_err();
/// assert!(err.to_string().starts_with("event #1: field `name`"));
/// ```
pub fn validate_events(events: &[Event]) -> Result<(), ProtocolError> {
    if events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(ProtocolError::InvalidEvent {
            index: MAX_EVENTS_PER_REQUEST,
            field: "events",
            reason: format!(
                "too many events in one request ({} > {MAX_EVENTS_PER_REQUEST}); split the batch",
                events.len()
            ),
        });
    }

    events
        .iter()
        .enumerate()
        .try_for_each(|(index, event)| event.validate(index))
}

/// The Event API's reply to `POST /e/{key}`: `{"ids":[…],"status":200}`, with `error` on
/// failure.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::SendEventsResponse;
///
/// let ok: SendEventsResponse = serde_json::from_str(r#"{"ids":["01J"],"status":200}"#).unwrap();
/// assert!(ok.is_success());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SendEventsResponse {
    /// Internal ULIDs of the stored events, in request order (those stored so far on error).
    #[serde(default)]
    pub ids: Vec<String>,

    /// HTTP-like status; 200 on success.
    #[serde(default)]
    pub status: u16,

    /// What went wrong, when `status` is not 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SendEventsResponse {
    /// Whether the server accepted every event (the JS SDK's rule: `status == 200`).
    pub fn is_success(&self) -> bool {
        self.status == 200
    }
}

/// Key under which the server keeps its own metadata inside an event's `data`.
pub const INNGEST_DATA_KEY: &str = "_inngest";

/// The `correlation_id` that links an invoke step to the `inngest/function.finished` event of
/// the run it started: `"<run id>.<hashed step id>"`.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::event::invoke_correlation_id;
///
/// assert_eq!(invoke_correlation_id("01JRUN", "abc123"), "01JRUN.abc123");
/// ```
pub fn invoke_correlation_id(run_id: &str, hashed_step_id: &str) -> String {
    format!("{run_id}.{hashed_step_id}")
}

/// `data._inngest` of an `inngest/function.invoked` event.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::event::InvokeMetadata;
///
/// let meta: InvokeMetadata = serde_json::from_str(r#"{"fn_id":"app-child","correlation_id":"r.h"}"#).unwrap();
/// assert_eq!(meta.fn_id, "app-child");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeMetadata {
    /// Composite id (slug) of the function to start.
    #[serde(default)]
    pub fn_id: String,
    /// See [`invoke_correlation_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// When the invoking step stops waiting, in ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<i64>,
    /// Group id of the invoking step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    /// Name of the invoking step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// App of the invoking run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_app_id: Option<String>,
    /// Function of the invoking run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_fn_id: Option<String>,
    /// Function version of the invoking run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_fn_v: Option<i64>,
    /// The invoking run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_run_id: Option<String>,
}

impl InvokeMetadata {
    /// Reads `data._inngest` of an event, if it has one of this shape.
    pub fn of(event: &Event) -> Option<Self> {
        serde_json::from_value(event.data.get(INNGEST_DATA_KEY)?.clone()).ok()
    }
}

/// `data` of an `inngest/scheduled.timer` event.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::event::ScheduledTimerData;
///
/// let data = ScheduledTimerData {
///     cron: "0 9 * * *".into(),
///     scheduled_at: "2025-01-01T09:00:00Z".into(),
///     fire_at: "2025-01-01T09:00:00Z".into(),
/// };
/// let json = serde_json::to_value(&data).unwrap();
/// assert_eq!(json["scheduledAt"], "2025-01-01T09:00:00Z");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTimerData {
    /// The cron expression of the trigger.
    pub cron: String,
    /// The tick's scheduled time, RFC 3339 UTC (also the event id).
    #[serde(rename = "scheduledAt")]
    pub scheduled_at: String,
    /// When the tick fires after jitter, RFC 3339 UTC.
    #[serde(rename = "fireAt")]
    pub fire_at: String,
}

/// `data` of the `inngest/function.finished`, `.failed` and `.cancelled` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionFinishedData {
    /// Composite slug of the function.
    pub function_id: String,
    /// The run.
    pub run_id: String,
    /// The first triggering event.
    pub event: Value,
    /// All triggering events.
    #[serde(default)]
    pub events: Vec<Value>,
    /// The return value, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error, on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// Set when the run was started by an invoke step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// `{"status": "Completed" | "Failed" | "Cancelled"}`.
    #[serde(rename = "_inngest", default, skip_serializing_if = "Option::is_none")]
    pub inngest: Option<Value>,
}

pub(crate) fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn null_as_empty_object<'de, D>(deserializer: D) -> Result<Value, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Value::deserialize(deserializer)?;
    Ok(if value.is_null() {
        empty_object()
    } else {
        value
    })
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn round_trips_every_field() {
        let wire = json!({"id": "x", "name": "a/b", "data": {"k": 1}, "user": {}, "ts": 1718000000000_i64, "v": "1"});
        let event: Event = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), wire);
    }

    #[test]
    fn null_data_becomes_empty_object() {
        let event: Event = serde_json::from_value(json!({"name": "a", "data": null})).unwrap();
        assert_eq!(event.data, json!({}));
    }

    #[test]
    fn rejects_bad_fields_with_index() {
        let mut event = Event::new("a/b", json!([1]));
        let err = event.validate(2).unwrap_err().to_string();
        assert!(err.contains("#2") && err.contains("`data`"), "{err}");

        event.data = json!({});
        event.ts = Some(1_718_000_000); // seconds, not milliseconds
        let err = event.validate(0).unwrap_err().to_string();
        assert!(
            err.contains("`ts`") && err.contains("milliseconds"),
            "{err}"
        );

        event.ts = Some(1_718_000_000_000);
        assert!(event.validate(0).is_ok());
    }

    #[test]
    fn invoke_metadata_from_event() {
        let event = Event::new(
            FUNCTION_INVOKED_EVENT,
            json!({"x": 1, "_inngest": {"fn_id": "app-child", "correlation_id": "r.h", "expire": 5}}),
        );
        let meta = InvokeMetadata::of(&event).unwrap();
        assert_eq!((meta.fn_id.as_str(), meta.expire), ("app-child", Some(5)));
        assert!(InvokeMetadata::of(&Event::new("a/b", json!({}))).is_none());
    }

    #[test]
    fn too_many_events() {
        let events = vec![Event::new("a/b", json!({})); MAX_EVENTS_PER_REQUEST + 1];
        assert!(validate_events(&events).is_err());
        assert!(validate_events(&events[..MAX_EVENTS_PER_REQUEST]).is_ok());
    }
}
