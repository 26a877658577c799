//! Function configuration, exactly as it appears in registration JSON (`functions[]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod validate;

/// Most triggers a function may have.
pub const MAX_TRIGGERS: usize = 10;
/// Most retries a function may ask for.
pub const MAX_RETRIES: u32 = 20;
/// Retries when none are configured (5 attempts).
pub const DEFAULT_RETRIES: u32 = 4;
/// Most concurrency limits per function.
pub const MAX_CONCURRENCY_LIMITS: usize = 2;
/// Most cancellation rules per function.
pub const MAX_CANCEL_RULES: usize = 5;
/// Longest event name in a trigger.
pub const MAX_TRIGGER_EVENT_LEN: usize = 255;
/// The key of the single entry of `steps`.
pub const STEP_KEY: &str = "step";

/// One function as the SDK registers it.
///
/// Field names are those the JS SDK sends; absent fields are omitted when serialising.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{FunctionConfig, Trigger};
/// use serde_json::json;
///
/// let wire = json!({
///     "id": "my-app-send-email", "name": "Send email",
///     "triggers": [{"event": "app/user.created"}, {"cron": "0 9 * * 1-5"}],
///     "steps": {"step": {"id": "step", "name": "step",
///         "runtime": {"type": "http", "url": "http://localhost:3000/api/inngest?fnId=my-app-send-email&stepId=step"},
///         "retries": {"attempts": 3}}},
///     "concurrency": [{"limit": 5, "key": "event.data.user_id"}],
/// });
/// let config: FunctionConfig = serde_json::from_value(wire.clone()).unwrap();
/// assert!(matches!(&config.triggers[1], Trigger::Cron { cron, .. } if cron == "0 9 * * 1-5"));
/// assert_eq!(config.retries(), 3);
/// config.validate().unwrap();
/// assert_eq!(serde_json::to_value(&config).unwrap(), wire);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionConfig {
    /// Composite id `<app id>-<function id>`.
    pub id: String,

    /// Display name; required by the server.
    #[serde(default)]
    pub name: String,

    /// What starts the function: 1 to 10 events or crons.
    #[serde(default)]
    pub triggers: Vec<Trigger>,

    /// Exactly one entry, keyed `"step"`, saying where and how to call the function.
    #[serde(default)]
    pub steps: BTreeMap<String, StepConfig>,

    /// Limits on concurrently executing steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,

    /// Skips triggers beyond a rate.
    #[serde(rename = "rateLimit", default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,

    /// Delays runs beyond a rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,

    /// Waits for a quiet period before running with the latest event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debounce: Option<Debounce>,

    /// Runs once per batch of events.
    #[serde(
        rename = "batchEvents",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub batch_events: Option<BatchEvents>,

    /// Events that cancel a running run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<Vec<Cancel>>,

    /// Moves runs ahead in the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,

    /// Expression whose value allows one run per 24 h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<String>,

    /// Start and finish timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,

    /// At most one run per key. The Go SDK sends this under `"Singleton"`; both are read.
    #[serde(default, alias = "Singleton", skip_serializing_if = "Option::is_none")]
    pub singleton: Option<Singleton>,

    /// Function-level retries (the Go SDK's form), used when the step has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,

    /// Checkpointing preferences (Go SDK); informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

/// What starts a function: an event (with an optional CEL expression) or a cron schedule.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::Trigger;
///
/// let t: Trigger = serde_json::from_str(r#"{"event":"app/a","expression":"event.data.x > 1"}"#).unwrap();
/// assert_eq!(t.event_name(), Some("app/a"));
/// let t = Trigger::cron("0 * * * *");
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"cron":"0 * * * *"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Trigger {
    /// Runs for each matching event.
    Event {
        /// Event name; may end in a `*` wildcard segment.
        event: String,
        /// CEL expression over `event` that must be true.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expression: Option<String>,
    },
    /// Runs on a schedule.
    Cron {
        /// 5-field cron expression, optionally prefixed with `TZ=<zone> `.
        cron: String,
        /// Random delay up to this time string (1 s – 5 min).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jitter: Option<String>,
    },
}

impl Trigger {
    /// An event trigger without an expression.
    pub fn event(name: impl Into<String>) -> Self {
        Self::Event {
            event: name.into(),
            expression: None,
        }
    }

    /// A cron trigger without jitter.
    pub fn cron(expression: impl Into<String>) -> Self {
        Self::Cron {
            cron: expression.into(),
            jitter: None,
        }
    }

    /// The event name of an event trigger.
    pub fn event_name(&self) -> Option<&str> {
        match self {
            Self::Event { event, .. } => Some(event),
            Self::Cron { .. } => None,
        }
    }
}

/// The single entry of `steps`: where the function is served.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::StepConfig;
///
/// let step = StepConfig::http("http://localhost:3000/api/inngest?fnId=app-fn&stepId=step", Some(3));
/// assert_eq!(step.id, "step");
/// assert_eq!(step.retries.unwrap().attempts, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepConfig {
    /// Always `"step"` for JS; Go uses the function's name.
    #[serde(default)]
    pub id: String,
    /// Always `"step"` for JS.
    #[serde(default)]
    pub name: String,
    /// How to reach the function.
    pub runtime: StepRuntime,
    /// Retry count of the function's steps (the RETRY count: attempts = value + 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<StepRetries>,
}

impl StepConfig {
    /// The JS SDK's step entry for a function served over HTTP at `url`.
    pub fn http(url: impl Into<String>, retries: Option<u32>) -> Self {
        Self {
            id: STEP_KEY.to_owned(),
            name: STEP_KEY.to_owned(),
            runtime: StepRuntime {
                kind: Some("http".to_owned()),
                url: url.into(),
            },
            retries: retries.map(|attempts| StepRetries { attempts }),
        }
    }
}

/// `steps.step.runtime`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRuntime {
    /// `"http"` (serve) or `"ws"` (connect); the Go SDK omits it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// URL the executor calls, with `fnId` and `stepId` query parameters.
    #[serde(default)]
    pub url: String,
}

/// `steps.step.retries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRetries {
    /// Number of RETRIES (not attempts), 0–20.
    pub attempts: u32,
}

/// Concurrency limits. The wire accepts a number, one object or an array; this crate always
/// writes the array form, as the JS SDK does for arrays.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::Concurrency;
///
/// let c: Concurrency = serde_json::from_str("5").unwrap();
/// assert_eq!(c.limits[0].limit, 5);
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#"[{"limit":5}]"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Concurrency {
    /// The limits (at most 2).
    pub limits: Vec<ConcurrencyLimit>,
}

/// One concurrency limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcurrencyLimit {
    /// Most concurrently executing steps.
    pub limit: u32,
    /// Expression partitioning the limit (e.g. per user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Where the limit applies; `fn` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ConcurrencyScope>,
}

/// Scope of a concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConcurrencyScope {
    /// This function only.
    Fn,
    /// Every function of the environment sharing the key.
    Env,
    /// Every function of the account sharing the key.
    Account,
}

impl Serialize for Concurrency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.limits.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Concurrency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Number(u32),
            One(ConcurrencyLimit),
            Many(Vec<ConcurrencyLimit>),
            Split {
                #[serde(rename = "fn", default)]
                function: Vec<ConcurrencyLimit>,
            },
        }

        let limits = match Wire::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "concurrency must be a number, an object {limit, key?, scope?} or an array of them",
            )
        })? {
            Wire::Number(limit) => vec![ConcurrencyLimit {
                limit,
                key: None,
                scope: None,
            }],
            Wire::One(limit) => vec![limit],
            Wire::Many(limits) => limits,
            // Newer server form; step-level limits are not modelled here.
            Wire::Split { function } => function,
        };
        Ok(Self { limits })
    }
}

/// `rateLimit`: at most `limit` runs per `period` (per key); excess triggers are skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Runs per period.
    pub limit: u32,
    /// Time string, at most 24 h.
    pub period: String,
    /// Partitioning expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `throttle`: at most `limit` run starts per `period` (per key); excess runs wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    /// Starts per period (1 when absent).
    #[serde(default = "one")]
    pub limit: u32,
    /// Time string.
    pub period: String,
    /// Extra starts allowed in a burst.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Partitioning expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `debounce`: run once events stop arriving for `period`, with the latest event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Debounce {
    /// Quiet period, 1 s – 7 d.
    pub period: String,
    /// Partitioning expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Longest total delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `batchEvents`: one run per batch of up to `maxSize` events or per `timeout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchEvents {
    /// Largest batch.
    #[serde(rename = "maxSize")]
    pub max_size: u32,
    /// Longest wait for a batch; a Go duration (no `d`/`w`), at least 1 s.
    pub timeout: String,
    /// Partitioning expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Events for which this is false run unbatched.
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// One `cancel[]` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    /// Event name that cancels.
    pub event: String,
    /// CEL over `event` (trigger) and `async` (cancelling event).
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// How long the rule lasts (1 year when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `priority`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    /// Expression giving seconds of queue-jump.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// `timeouts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// Longest wait from trigger to first attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Longest time from first start to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<String>,
}

/// `singleton`: at most one run per key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Singleton {
    /// Partitioning expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What happens to a new run while one is running.
    pub mode: SingletonMode,
}

/// `singleton.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SingletonMode {
    /// Drop the new run.
    Skip,
    /// Cancel the running one and start the new one.
    Cancel,
}

/// `checkpoint` (Go SDK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Steps per checkpoint batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_steps: Option<u32>,
    /// Longest wait before flushing a batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_interval: Option<String>,
    /// Longest run time of one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<String>,
}

fn one() -> u32 {
    1
}

impl FunctionConfig {
    /// The step entry, if present.
    pub fn step(&self) -> Option<&StepConfig> {
        self.steps
            .get(STEP_KEY)
            .or_else(|| self.steps.values().next())
    }

    /// Retry count the server applies: the step's, else the top-level one, else 4; capped at
    /// 20.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::FunctionConfig;
    ///
    /// let config = FunctionConfig { retries: Some(2), ..Default::default() };
    /// assert_eq!((config.retries(), config.max_attempts()), (2, 3));
    /// assert_eq!(FunctionConfig::default().max_attempts(), 5);
    /// ```
    pub fn retries(&self) -> u32 {
        self.step()
            .and_then(|s| s.retries)
            .map(|r| r.attempts)
            .or(self.retries)
            .unwrap_or(DEFAULT_RETRIES)
            .min(MAX_RETRIES)
    }

    /// Attempts per step: retries + 1.
    pub fn max_attempts(&self) -> u32 {
        self.retries() + 1
    }
}
