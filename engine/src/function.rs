//! A registered function's config, read from the JSON the SDK sent to `/fn/register`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::clock::parse_duration;
use crate::expr::{Exprs, pattern};
use crate::store::FunctionRow;

/// The server's default: 4 retries, so 5 attempts.
const DEFAULT_RETRIES: u32 = 4;
/// The server's cap on retries.
const MAX_RETRIES: u32 = 20;

/// What starts a function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Trigger {
    Event {
        name: String,
        expression: Option<String>,
    },
    Cron {
        cron: String,
        jitter: Option<String>,
    },
}

/// One concurrency limit.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Concurrency {
    pub(crate) limit: u32,
    #[serde(default)]
    pub(crate) key: Option<String>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
}

/// `rateLimit` and `throttle` share a shape.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Limit {
    #[serde(default = "one")]
    pub(crate) limit: u32,
    pub(crate) period: String,
    #[serde(default)]
    pub(crate) burst: Option<u32>,
    #[serde(default)]
    pub(crate) key: Option<String>,
}

fn one() -> u32 {
    1
}

/// `debounce`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Debounce {
    pub(crate) period: String,
    #[serde(default)]
    pub(crate) key: Option<String>,
    #[serde(default)]
    pub(crate) timeout: Option<String>,
}

/// `batchEvents`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Batch {
    #[serde(rename = "maxSize")]
    pub(crate) max_size: u32,
    pub(crate) timeout: String,
    #[serde(default)]
    pub(crate) key: Option<String>,
    #[serde(default, rename = "if")]
    pub(crate) condition: Option<String>,
}

/// One `cancel` entry.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Cancel {
    pub(crate) event: String,
    #[serde(default, rename = "if")]
    pub(crate) condition: Option<String>,
    #[serde(default)]
    pub(crate) timeout: Option<String>,
}

/// `singleton`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Singleton {
    #[serde(default)]
    pub(crate) key: Option<String>,
    #[serde(default)]
    pub(crate) mode: Option<String>,
}

/// `timeouts`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Timeouts {
    #[serde(default)]
    pub(crate) start: Option<String>,
    #[serde(default)]
    pub(crate) finish: Option<String>,
}

/// A function ready for the executor.
#[derive(Debug, Clone)]
pub(crate) struct FunctionDef {
    pub(crate) id: String,
    pub(crate) app_id: String,
    pub(crate) slug: String,
    pub(crate) name: String,
    pub(crate) version: i64,
    pub(crate) url: String,
    pub(crate) max_attempts: u32,
    pub(crate) triggers: Vec<Trigger>,
    pub(crate) concurrency: Vec<Concurrency>,
    pub(crate) rate_limit: Option<Limit>,
    pub(crate) throttle: Option<Limit>,
    pub(crate) debounce: Option<Debounce>,
    pub(crate) batch: Option<Batch>,
    pub(crate) cancel: Vec<Cancel>,
    pub(crate) priority: Option<String>,
    pub(crate) idempotency: Option<String>,
    pub(crate) timeouts: Timeouts,
    pub(crate) singleton: Option<Singleton>,
}

fn field<T: for<'de> Deserialize<'de>>(
    config: &Value,
    name: &str,
    errors: &mut Vec<String>,
) -> Option<T> {
    let v = config.get(name).filter(|v| !v.is_null())?;
    match T::deserialize(v) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(format!("`{name}` is invalid: {e}"));
            None
        }
    }
}

fn concurrency(config: &Value, errors: &mut Vec<String>) -> Vec<Concurrency> {
    let Some(v) = config.get("concurrency").filter(|v| !v.is_null()) else {
        return Vec::new();
    };
    let list = match v {
        Value::Number(n) => {
            return vec![Concurrency {
                limit: n.as_u64().unwrap_or(0) as u32,
                key: None,
                scope: None,
            }];
        }
        Value::Array(items) => items.clone(),
        Value::Object(o) if o.contains_key("fn") => o
            .get("fn")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        other => vec![other.clone()],
    };
    list.into_iter()
        .filter_map(|item| match Concurrency::deserialize(&item) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(format!("`concurrency` is invalid: {e}"));
                None
            }
        })
        .filter(|c| c.limit > 0)
        .collect()
}

fn check_duration(what: &str, text: Option<&str>, errors: &mut Vec<String>) {
    if let Some(t) = text
        && let Err(e) = parse_duration(t)
    {
        errors.push(format!("`{what}`: {e}"));
    }
}

impl FunctionDef {
    /// Reads and validates a function config. `exprs` checks that expressions compile.
    pub(crate) fn parse(row: &FunctionRow, exprs: &Exprs) -> Result<Self, Vec<String>> {
        let config = &row.config;
        let mut errors = Vec::new();

        if row.name.trim().is_empty() {
            errors.push("A function name is required".into());
        }

        let step = config.pointer("/steps/step").or_else(|| {
            config
                .get("steps")
                .and_then(Value::as_object)
                .and_then(|m| m.values().next())
        });
        let url = step
            .and_then(|s| s.pointer("/runtime/url"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if url.is_empty() {
            errors.push("`steps.step.runtime.url` is required".into());
        } else if url::Url::parse(&url).is_err() {
            errors.push(format!("`steps.step.runtime.url` is not a URL: {url}"));
        }
        let retries = step
            .and_then(|s| s.pointer("/retries/attempts"))
            .or_else(|| config.get("retries"))
            .and_then(Value::as_u64)
            .map_or(DEFAULT_RETRIES, |n| n.min(u64::from(MAX_RETRIES)) as u32);

        let mut triggers = Vec::new();
        for t in config
            .get("triggers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = t.get("event").and_then(Value::as_str) {
                if !pattern::valid_trigger(name) || name.len() > 255 {
                    errors.push(format!("trigger event `{name}` is not a valid event name"));
                }
                let expression = t
                    .get("expression")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(e) = &expression
                    && let Err(msg) = exprs.compile(e)
                {
                    errors.push(msg);
                }
                triggers.push(Trigger::Event {
                    name: name.to_owned(),
                    expression,
                });
            } else if let Some(cron) = t.get("cron").and_then(Value::as_str) {
                if let Err(e) = crate::cron::next_after(cron, chrono::Utc::now()) {
                    errors.push(format!("cron `{cron}`: {e}"));
                }
                let jitter = t.get("jitter").and_then(Value::as_str).map(str::to_owned);
                triggers.push(Trigger::Cron {
                    cron: cron.to_owned(),
                    jitter,
                });
            } else {
                errors.push(format!("trigger {t} has neither `event` nor `cron`"));
            }
        }
        if triggers.len() > 10 {
            errors.push("a function has at most 10 triggers".into());
        }

        let def = Self {
            id: row.id.clone(),
            app_id: row.app_id.clone(),
            slug: row.slug.clone(),
            name: row.name.clone(),
            version: row.version,
            url,
            max_attempts: retries + 1,
            triggers,
            concurrency: concurrency(config, &mut errors),
            rate_limit: field(config, "rateLimit", &mut errors),
            throttle: field(config, "throttle", &mut errors),
            debounce: field(config, "debounce", &mut errors),
            batch: field::<Batch>(config, "batchEvents", &mut errors).filter(|b| b.max_size >= 2),
            cancel: field(config, "cancel", &mut errors).unwrap_or_default(),
            priority: config
                .pointer("/priority/run")
                .and_then(Value::as_str)
                .map(str::to_owned),
            idempotency: config
                .get("idempotency")
                .and_then(Value::as_str)
                .map(str::to_owned),
            timeouts: field(config, "timeouts", &mut errors).unwrap_or_default(),
            singleton: field(config, "singleton", &mut errors)
                .or_else(|| field(config, "Singleton", &mut errors)),
        };

        check_duration(
            "rateLimit.period",
            def.rate_limit.as_ref().map(|l| l.period.as_str()),
            &mut errors,
        );
        check_duration(
            "throttle.period",
            def.throttle.as_ref().map(|l| l.period.as_str()),
            &mut errors,
        );
        check_duration(
            "debounce.period",
            def.debounce.as_ref().map(|d| d.period.as_str()),
            &mut errors,
        );
        check_duration(
            "batchEvents.timeout",
            def.batch.as_ref().map(|b| b.timeout.as_str()),
            &mut errors,
        );
        check_duration("timeouts.start", def.timeouts.start.as_deref(), &mut errors);
        check_duration(
            "timeouts.finish",
            def.timeouts.finish.as_deref(),
            &mut errors,
        );
        let keyed = def
            .concurrency
            .iter()
            .filter_map(|c| c.key.as_deref())
            .chain(def.rate_limit.as_ref().and_then(|l| l.key.as_deref()))
            .chain(def.throttle.as_ref().and_then(|l| l.key.as_deref()))
            .chain(def.debounce.as_ref().and_then(|d| d.key.as_deref()))
            .chain(def.batch.as_ref().and_then(|b| b.key.as_deref()))
            .chain(def.priority.as_deref())
            .chain(def.idempotency.as_deref())
            .chain(def.singleton.as_ref().and_then(|s| s.key.as_deref()));
        for source in keyed {
            if let Err(msg) = exprs.compile(source) {
                errors.push(msg);
            }
        }

        if errors.is_empty() {
            Ok(def)
        } else {
            Err(errors)
        }
    }

    /// Whether an event with this name and body starts the function through a trigger.
    pub(crate) fn triggered_by(&self, name: &str, event: &Value, exprs: &Exprs) -> bool {
        self.triggers.iter().any(|t| match t {
            Trigger::Event {
                name: pattern_name,
                expression,
            } => {
                pattern::matches(pattern_name, name)
                    && expression
                        .as_deref()
                        .is_none_or(|e| exprs.truthy(e, &[("event", event)]))
            }
            Trigger::Cron { .. } => false,
        })
    }

    /// A duration field as milliseconds of real time, when present and valid.
    pub(crate) fn duration(text: Option<&str>) -> Option<Duration> {
        text.and_then(|t| parse_duration(t).ok())
    }
}
