//! Typed events, as handlers receive them and as steps send them.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An Inngest event whose `data` is of type `T`.
///
/// Handlers receive the event that triggered the run as `Event<T>` (see [`Ctx`](crate::Ctx)),
/// with `T` deserialised from the event's `data`; [`Step::send_event`](crate::Step::send_event)
/// sends them. `T` defaults to [`serde_json::Value`] for untyped use.
///
/// # Examples
///
/// ```
/// use nestling_inngest::Event;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct UserCreated {
///     email: String,
/// }
///
/// let event = Event::new("user.created", UserCreated { email: "a@b.c".into() });
/// let wire = serde_json::to_value(&event).unwrap();
/// assert_eq!(wire, serde_json::json!({"name": "user.created", "data": {"email": "a@b.c"}}));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event<T = Value> {
    /// The event's id: an idempotency key when sending, the stored id when received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,

    /// The event's name, such as `user.created`.
    pub name: String,

    /// The payload.
    pub data: T,

    /// Milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<i64>,

    /// Version of the event's schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,

    /// Deprecated user object, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Value>,
}

impl<T> Event<T> {
    /// An event with a name and a payload; the server fills in the id and the time.
    pub fn new(name: impl Into<String>, data: T) -> Self {
        Self {
            id: None,
            name: name.into(),
            data,
            ts: None,
            v: None,
            user: None,
        }
    }

    /// Sets the idempotency id: the server starts at most one run per id within 24 hours.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the timestamp (milliseconds since the Unix epoch).
    pub fn with_ts(mut self, ts: i64) -> Self {
        self.ts = Some(ts);
        self
    }

    /// Sets the schema version.
    pub fn with_version(mut self, v: impl Into<String>) -> Self {
        self.v = Some(v.into());
        self
    }
}

impl<T: DeserializeOwned> Event<T> {
    /// Reads an event from its JSON form, naming the field that does not fit `T`.
    pub(crate) fn from_json(value: Value) -> Result<Self, String> {
        Self::from_json_ref(&value)
    }

    /// [`from_json`](Self::from_json) without taking the value.
    ///
    /// Path tracking allocates for every key it passes, so it only runs to name the field
    /// once the plain read has failed.
    pub(crate) fn from_json_ref(value: &Value) -> Result<Self, String> {
        Self::deserialize(value).map_err(|_| Self::mismatch(value))
    }

    fn mismatch(value: &Value) -> String {
        match serde_path_to_error::deserialize::<_, Self>(value) {
            Ok(_) => "the event does not fit the handler's type".to_owned(),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                if path == "." {
                    inner.to_string()
                } else {
                    format!("field `{path}`: {inner}")
                }
            }
        }
    }
}

/// Events accepted by [`Step::send_event`](crate::Step::send_event): one event, a `Vec` or an
/// array of events.
pub trait IntoEvents {
    /// Serialises the events in order.
    ///
    /// # Errors
    ///
    /// The serialisation error of the first event whose data does not serialise.
    fn into_events(self) -> Result<Vec<Value>, serde_json::Error>;
}

impl<T: Serialize> IntoEvents for Event<T> {
    fn into_events(self) -> Result<Vec<Value>, serde_json::Error> {
        Ok(vec![serde_json::to_value(self)?])
    }
}

impl<T: Serialize> IntoEvents for Vec<Event<T>> {
    fn into_events(self) -> Result<Vec<Value>, serde_json::Error> {
        self.into_iter().map(serde_json::to_value).collect()
    }
}

impl<T: Serialize, const N: usize> IntoEvents for [Event<T>; N] {
    fn into_events(self) -> Result<Vec<Value>, serde_json::Error> {
        self.into_iter().map(serde_json::to_value).collect()
    }
}

/// The `data` of the `inngest/function.failed` event that starts a failure handler.
///
/// A method named in `#[on_failure(method)]` takes `Ctx<FunctionFailed<T>>`, `T` being the
/// data of the failed run's triggering event.
///
/// # Examples
///
/// ```
/// use nestling_inngest::{Event, FunctionFailed};
/// use serde_json::json;
///
/// let failed: FunctionFailed = serde_json::from_value(json!({
///     "function_id": "app-charge",
///     "run_id": "01J",
///     "error": {"name": "Error", "message": "card declined"},
///     "event": {"name": "order.placed", "data": {"id": 7}}
/// }))
/// .unwrap();
/// assert_eq!(failed.error.message, "card declined");
/// assert_eq!(failed.event.data["id"], 7);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionFailed<T = Value> {
    /// Composite id (`<app>-<function>`) of the function that failed.
    pub function_id: String,

    /// The failed run.
    pub run_id: String,

    /// The error the run failed with.
    pub error: nestling_inngest_protocol::SerializedError,

    /// The event that triggered the failed run.
    pub event: Event<T>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Signup {
        email: String,
        age: u32,
    }

    #[test]
    fn decoding_errors_name_the_field() {
        let err =
            Event::<Signup>::from_json(json!({"name": "s", "data": {"email": "x", "age": "old"}}))
                .unwrap_err();
        assert!(err.starts_with("field `data.age`: invalid type"), "{err}");

        let err = Event::<Signup>::from_json(json!({"name": "s", "data": {"age": 3}})).unwrap_err();
        assert!(err.contains("missing field `email`"), "{err}");
    }
}
