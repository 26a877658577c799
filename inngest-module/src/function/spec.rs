//! The function spec the attributes write, and the registration config built from it.

use nestling_inngest_protocol::event::FUNCTION_FAILED_EVENT;
use nestling_inngest_protocol::{FunctionConfig, StepConfig, Trigger};
use serde_json::{Map, Value};

/// One function as declared in code, read from the spec JSON its attribute generated.
///
/// The spec carries the registration fields with the bare function id; the app id, the URL
/// and the `steps` entry are added by [`FunctionSpec::config`].
///
/// # Examples
///
/// ```
/// use nestling_inngest::FunctionSpec;
///
/// let spec = FunctionSpec::parse(
///     r#"{"id":"send-welcome","name":"Send welcome","triggers":[{"event":"user.created"}],"retries":2}"#,
/// )
/// .unwrap();
/// let config = spec.config("shop", "http://localhost:3000/api/inngest");
/// assert_eq!(config.id, "shop-send-welcome");
/// assert_eq!(
///     config.steps["step"].runtime.url,
///     "http://localhost:3000/api/inngest?fnId=shop-send-welcome&stepId=step"
/// );
/// assert_eq!(config.retries(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    id: String,
    retries: Option<u32>,
    on_failure: Option<String>,
    middleware: Vec<String>,
    config: FunctionConfig,
}

impl FunctionSpec {
    /// Reads a spec.
    ///
    /// # Errors
    ///
    /// A message naming the field when the JSON is not a function spec.
    pub fn parse(json: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(json).map_err(|err| format!("the spec is not JSON: {err}"))?;
        let Value::Object(mut map) = value else {
            return Err("the spec is not a JSON object".to_owned());
        };

        let id = match map.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
            _ => return Err("field `id`: a non-empty string is required".to_owned()),
        };
        let retries = match map.remove("retries") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| format!("field `retries`: expected a count, got {value}"))?,
            ),
        };
        let on_failure = match map.remove("onFailure") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id),
            Some(other) => {
                return Err(format!("field `onFailure`: expected a string, got {other}"));
            }
        };
        let middleware = match map.remove("middleware") {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => serde_json::from_value(value)
                .map_err(|err| format!("field `middleware`: expected names: {err}"))?,
        };
        if !map.contains_key("name") {
            map.insert("name".to_owned(), Value::String(id.clone()));
        }
        map.entry("triggers")
            .or_insert_with(|| Value::Array(Vec::new()));

        let config: FunctionConfig = serde_path_to_error::deserialize(Value::Object(map))
            .map_err(|err| format!("field `{}`: {}", err.path(), err.inner()))?;

        Ok(Self {
            id,
            retries,
            on_failure,
            middleware,
            config,
        })
    }

    /// The bare function id, as declared.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The declared retries, if any.
    pub fn retries(&self) -> Option<u32> {
        self.retries
    }

    /// For a failure handler, the bare id of the function whose failures it handles.
    pub fn on_failure(&self) -> Option<&str> {
        self.on_failure.as_deref()
    }

    /// Names of the middleware this function uses besides the global ones.
    pub fn middleware(&self) -> &[String] {
        &self.middleware
    }

    /// The composite id, `<app>-<id>`.
    pub fn composite_id(&self, app_id: &str) -> String {
        format!("{app_id}-{}", self.id)
    }

    /// Attempts per step the executor makes (retries + 1; the server's default retries is 4).
    pub fn max_attempts(&self) -> u32 {
        self.retries
            .unwrap_or(nestling_inngest_protocol::function::DEFAULT_RETRIES)
            .min(nestling_inngest_protocol::function::MAX_RETRIES)
            + 1
    }

    /// The registration config for an app served at `serve_url`.
    ///
    /// A failure handler gets the `inngest/function.failed` trigger of the function it
    /// handles, as the JS SDK registers it.
    pub fn config(&self, app_id: &str, serve_url: &str) -> FunctionConfig {
        let mut config = self.config.clone();
        let id = self.composite_id(app_id);

        if let Some(primary) = &self.on_failure {
            config.triggers = vec![Trigger::Event {
                event: FUNCTION_FAILED_EVENT.to_owned(),
                expression: Some(format!("event.data.function_id == '{app_id}-{primary}'")),
            }];
        }

        let separator = if serve_url.contains('?') { '&' } else { '?' };
        let url = format!("{serve_url}{separator}fnId={id}&stepId=step");
        // A failure handler is tried once more if it fails, as the JS SDK registers it.
        let retries = self.retries.or_else(|| self.on_failure.as_ref().map(|_| 1));
        config.steps.clear();
        config
            .steps
            .insert("step".to_owned(), StepConfig::http(url, retries));
        config.retries = None;
        config.id = id;

        config
    }

    /// The spec back as JSON (for logs).
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(&self.config).unwrap_or(Value::Object(Map::new()));
        if let Value::Object(map) = &mut value {
            if let Some(retries) = self.retries {
                map.insert("retries".to_owned(), retries.into());
            }
            if let Some(primary) = &self.on_failure {
                map.insert("onFailure".to_owned(), primary.clone().into());
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn failure_handlers_get_the_failed_trigger() {
        let spec = FunctionSpec::parse(
            r#"{"id":"with-failure-failure","name":"with-failure (failure)","triggers":[],"retries":1,"onFailure":"with-failure"}"#,
        )
        .unwrap();
        let config =
            serde_json::to_value(spec.config("golden-app", "http://h/api/inngest")).unwrap();

        assert_eq!(
            config["triggers"],
            json!([{"event": "inngest/function.failed", "expression": "event.data.function_id == 'golden-app-with-failure'"}])
        );
        assert_eq!(config["steps"]["step"]["retries"], json!({"attempts": 1}));
    }

    #[test]
    fn bad_specs_name_the_field() {
        let err = FunctionSpec::parse(r#"{"id":"a","triggers":[{"event":"x"}],"retries":"many"}"#)
            .unwrap_err();
        assert!(err.contains("`retries`"), "{err}");
        let err = FunctionSpec::parse(r#"{"name":"a"}"#).unwrap_err();
        assert!(err.contains("`id`"), "{err}");
    }
}
