//! Function configuration, exactly as it appears in registration JSON (`functions[]`).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::check_range;
use crate::{ProtocolError, parse_duration, parse_go_duration, validate_cron};

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

    /// Checks the configuration with the server's rules and returns the first problem.
    ///
    /// Checked: id and name present; 1–10 distinct triggers, event names (length, wildcard
    /// placement), cron expressions and jitter (1 s – 5 min); exactly one step with an
    /// http(s)/ws(s) URL; retries ≤ 20; at most 2 concurrency limits, with a key when scoped
    /// to env or account; every time string parses and lies in its field's range (rate limit
    /// ≤ 24 h, debounce 1 s – 7 d, batch timeout a Go duration ≥ 1 s); batches of at least 2
    /// and not combined with cancel, debounce, singleton or priority; at most 5 cancel rules.
    ///
    /// Not checked here: CEL expressions (`expression`, `if`, `key`, `priority.run`), which
    /// need an expression engine this crate does not carry; the engine checks them when it
    /// compiles them. `debounce.timeout`, `cancel[].timeout` and `timeouts.*` are checked more
    /// strictly than the server does (it ignores a value that does not parse).
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidFunction`] naming the function id and the field.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::{FunctionConfig, StepConfig, Trigger};
    ///
    /// let mut config = FunctionConfig {
    ///     id: "app-fn".into(),
    ///     name: "Fn".into(),
    ///     triggers: vec![Trigger::cron("@daily")],
    ///     ..Default::default()
    /// };
    /// config.steps.insert("step".into(), StepConfig::http("http://localhost/api/inngest", None));
    /// let err = config.validate().unwrap_err().to_string();
    /// assert!(err.starts_with(r#"function "app-fn": field `triggers[0].cron`"#), "{err}");
    /// ```
    pub fn validate(&self) -> Result<(), ProtocolError> {
        match self.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Every problem [`FunctionConfig::validate`] would report, in field order.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::FunctionConfig;
    ///
    /// let problems = FunctionConfig::default().problems();
    /// let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    /// assert!(text[0].contains("`id` is required"), "{text:?}");
    /// assert!(text.iter().any(|t| t.contains("`triggers`")));
    /// ```
    pub fn problems(&self) -> Vec<ProtocolError> {
        let mut checker = Checker {
            id: &self.id,
            problems: Vec::new(),
        };
        self.check(&mut checker);
        checker.problems
    }

    fn check(&self, c: &mut Checker<'_>) {
        if self.id.trim().is_empty() {
            c.push("id", "is required".to_owned());
        }
        if self.name.trim().is_empty() {
            c.push(
                "name",
                "is required; give the function a display name".to_owned(),
            );
        }

        self.check_triggers(c);
        self.check_steps(c);
        self.check_flow_control(c);
    }

    fn check_triggers(&self, c: &mut Checker<'_>) {
        if self.triggers.is_empty() {
            c.push(
                "triggers",
                "needs at least one event or cron trigger".to_owned(),
            );
        }
        if self.triggers.len() > MAX_TRIGGERS {
            c.push(
                "triggers",
                format!(
                    "has {} entries; at most {MAX_TRIGGERS} are allowed",
                    self.triggers.len()
                ),
            );
        }

        let mut seen = HashSet::new();
        for (i, trigger) in self.triggers.iter().enumerate() {
            if !seen.insert(trigger) {
                c.push(
                    format!("triggers[{i}]"),
                    "duplicates an earlier trigger".to_owned(),
                );
            }
            match trigger {
                Trigger::Event { event, expression } => {
                    if event.trim().is_empty() {
                        c.push(format!("triggers[{i}].event"), "is empty".to_owned());
                    } else if event.len() > MAX_TRIGGER_EVENT_LEN {
                        c.push(
                            format!("triggers[{i}].event"),
                            format!("is longer than {MAX_TRIGGER_EVENT_LEN} characters"),
                        );
                    } else if let Some(reason) = wildcard_problem(event) {
                        c.push(format!("triggers[{i}].event"), reason);
                    }
                    if expression.as_deref().is_some_and(|e| e.trim().is_empty()) {
                        c.push(
                            format!("triggers[{i}].expression"),
                            "is empty; omit it".to_owned(),
                        );
                    }
                }
                Trigger::Cron { cron, jitter } => {
                    if let Err(err) = validate_cron(cron) {
                        c.push(format!("triggers[{i}].cron"), err.to_string());
                    }
                    if let Some(jitter) = jitter {
                        c.duration(
                            format!("triggers[{i}].jitter"),
                            jitter,
                            Duration::from_secs(1),
                            Duration::from_secs(300),
                        );
                    }
                }
            }
        }
    }

    fn check_steps(&self, c: &mut Checker<'_>) {
        if self.steps.len() != 1 {
            c.push(
                "steps",
                format!(
                    "has {} entries; a function has exactly one, keyed \"step\", with runtime.url",
                    self.steps.len()
                ),
            );
        }
        for (key, step) in &self.steps {
            let url = step.runtime.url.trim();
            let scheme_ok = ["http://", "https://", "ws://", "wss://"]
                .iter()
                .any(|scheme| url.starts_with(scheme));
            if url.is_empty() {
                c.push(format!("steps.{key}.runtime.url"), "is required".to_owned());
            } else if !scheme_ok {
                c.push(
                    format!("steps.{key}.runtime.url"),
                    format!("{url:?} is not an http(s):// or ws(s):// URL"),
                );
            }
            if let Some(retries) = step.retries
                && retries.attempts > MAX_RETRIES
            {
                c.push(
                    format!("steps.{key}.retries.attempts"),
                    format!(
                        "is {}; at most {MAX_RETRIES} retries are allowed",
                        retries.attempts
                    ),
                );
            }
        }
        if let Some(retries) = self.retries
            && retries > MAX_RETRIES
        {
            c.push(
                "retries",
                format!("is {retries}; at most {MAX_RETRIES} retries are allowed"),
            );
        }
    }

    fn check_flow_control(&self, c: &mut Checker<'_>) {
        if let Some(concurrency) = &self.concurrency {
            if concurrency.limits.len() > MAX_CONCURRENCY_LIMITS {
                c.push(
                    "concurrency",
                    format!(
                        "has {} limits; at most {MAX_CONCURRENCY_LIMITS} are allowed",
                        concurrency.limits.len()
                    ),
                );
            }
            for (i, limit) in concurrency.limits.iter().enumerate() {
                let scoped = limit.scope.is_some_and(|s| s != ConcurrencyScope::Fn);
                if scoped && limit.key.is_none() {
                    c.push(
                        format!("concurrency[{i}].key"),
                        "is required when scope is env or account".to_owned(),
                    );
                }
            }
        }

        if let Some(rate) = &self.rate_limit {
            if rate.limit == 0 {
                c.push("rateLimit.limit", "must be at least 1".to_owned());
            }
            c.duration("rateLimit.period", &rate.period, Duration::ZERO, DAY);
        }

        // The server reads a throttle limit of 0 as 1 and only checks that the period parses.
        if let Some(throttle) = &self.throttle {
            c.duration(
                "throttle.period",
                &throttle.period,
                Duration::ZERO,
                Duration::MAX,
            );
        }

        if let Some(debounce) = &self.debounce {
            c.duration(
                "debounce.period",
                &debounce.period,
                Duration::from_secs(1),
                7 * DAY,
            );
            if let Some(timeout) = &debounce.timeout {
                c.duration("debounce.timeout", timeout, Duration::from_secs(1), 7 * DAY);
            }
        }

        if let Some(batch) = &self.batch_events {
            self.check_batch(batch, c);
        }

        if let Some(cancel) = &self.cancel {
            if cancel.len() > MAX_CANCEL_RULES {
                c.push(
                    "cancel",
                    format!(
                        "has {} rules; at most {MAX_CANCEL_RULES} are allowed",
                        cancel.len()
                    ),
                );
            }
            for (i, rule) in cancel.iter().enumerate() {
                if rule.event.trim().is_empty() {
                    c.push(format!("cancel[{i}].event"), "is required".to_owned());
                }
                if let Some(timeout) = &rule.timeout {
                    c.duration(
                        format!("cancel[{i}].timeout"),
                        timeout,
                        Duration::ZERO,
                        Duration::MAX,
                    );
                }
            }
        }

        if self
            .idempotency
            .as_deref()
            .is_some_and(|i| i.trim().is_empty())
        {
            c.push(
                "idempotency",
                "is empty; give an expression such as \"event.data.id\"".to_owned(),
            );
        }

        if let Some(timeouts) = &self.timeouts {
            for (field, value) in [
                ("timeouts.start", &timeouts.start),
                ("timeouts.finish", &timeouts.finish),
            ] {
                if let Some(value) = value {
                    c.duration(field, value, Duration::from_secs(1), Duration::MAX);
                }
            }
        }
    }

    fn check_batch(&self, batch: &BatchEvents, c: &mut Checker<'_>) {
        if batch.max_size < 2 {
            c.push(
                "batchEvents.maxSize",
                format!("is {}; a batch holds at least 2 events", batch.max_size),
            );
        }
        match parse_go_duration(&batch.timeout) {
            Ok(timeout) if timeout < Duration::from_secs(1) => c.push(
                "batchEvents.timeout",
                format!("{:?} is shorter than the minimum of 1s", batch.timeout),
            ),
            Ok(_) => {}
            Err(err) => c.push("batchEvents.timeout", err.to_string()),
        }

        // The server refuses these combinations whenever `batchEvents` is present, even with
        // a batch size that leaves batching disabled.
        for (present, field) in [
            (
                self.cancel.as_ref().is_some_and(|c| !c.is_empty()),
                "cancel",
            ),
            (self.debounce.is_some(), "debounce"),
            (self.singleton.is_some(), "singleton"),
            (
                self.priority.as_ref().is_some_and(|p| p.run.is_some()),
                "priority",
            ),
        ] {
            if present {
                c.push(
                    "batchEvents",
                    format!("cannot be combined with {field}; remove one of them"),
                );
            }
        }
    }
}

const DAY: Duration = Duration::from_secs(86_400);

struct Checker<'a> {
    id: &'a str,
    problems: Vec<ProtocolError>,
}

impl Checker<'_> {
    fn push(&mut self, field: impl Into<String>, reason: String) {
        self.problems.push(ProtocolError::InvalidFunction {
            function_id: self.id.to_owned(),
            field: field.into(),
            reason,
        });
    }

    fn duration(&mut self, field: impl Into<String>, value: &str, min: Duration, max: Duration) {
        let field = field.into();
        let result = parse_duration(value).and_then(|d| check_range(value, d, min, max));
        if let Err(err) = result {
            self.push(field, err.to_string());
        }
    }
}

/// `*` is allowed only as a whole final segment after `/` or `.` (`app/*`, `app/user.*`).
fn wildcard_problem(event: &str) -> Option<String> {
    let star = event.find('*')?;
    let valid =
        star == event.len() - 1 && star > 0 && matches!(event.as_bytes()[star - 1], b'/' | b'.');
    (!valid).then(|| {
        format!(
            "{event:?} has a misplaced `*`; a wildcard must be the last segment, after `/` or \
             `.` (e.g. \"app/*\")"
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> FunctionConfig {
        let mut config = FunctionConfig {
            id: "app-fn".to_owned(),
            name: "Fn".to_owned(),
            triggers: vec![Trigger::event("app/a")],
            ..Default::default()
        };
        config.steps.insert(
            STEP_KEY.to_owned(),
            StepConfig::http(
                "http://localhost:3000/api/inngest?fnId=app-fn&stepId=step",
                None,
            ),
        );
        config
    }

    fn fields(config: &FunctionConfig) -> Vec<String> {
        config
            .problems()
            .into_iter()
            .map(|p| match p {
                ProtocolError::InvalidFunction { field, .. } => field,
                other => panic!("{other}"),
            })
            .collect()
    }

    #[test]
    fn valid_kitchen_sink() {
        let wire = json!({"id":"golden-app-flow-control","name":"Flow control kitchen sink","triggers":[{"event":"demo/flow.control"}],"steps":{"step":{"id":"step","name":"step","runtime":{"type":"http","url":"http://127.0.0.1:1/api/inngest?fnId=golden-app-flow-control&stepId=step"},"retries":{"attempts":5}}},"idempotency":"event.data.userId","rateLimit":{"limit":100,"period":"1h","key":"event.data.userId"},"throttle":{"limit":10,"period":"1m","burst":2,"key":"event.data.userId"},"concurrency":[{"limit":5,"key":"event.data.userId","scope":"fn"},{"limit":50,"scope":"env","key":"\"shared-pool\""}],"timeouts":{"start":"10m","finish":"1h"},"cancel":[{"event":"demo/cancel","timeout":"1d","if":"event.data.userId == async.data.userId"}]});
        let config: FunctionConfig = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(config.problems().len(), 0, "{:?}", config.problems());
        assert_eq!(serde_json::to_value(&config).unwrap(), wire);
        assert_eq!(config.max_attempts(), 6);
    }

    #[test]
    fn concurrency_forms() {
        for wire in [json!(3), json!({"limit":3}), json!([{"limit":3}])] {
            let c: Concurrency = serde_json::from_value(wire).unwrap();
            assert_eq!(serde_json::to_value(&c).unwrap(), json!([{"limit":3}]));
        }
        let split: Concurrency =
            serde_json::from_value(json!({"fn":[{"limit":2,"scope":"account","key":"k"}]}))
                .unwrap();
        assert_eq!(split.limits[0].scope, Some(ConcurrencyScope::Account));
        let err = serde_json::from_value::<Concurrency>(json!("five")).unwrap_err();
        assert!(err.to_string().contains("concurrency must be"), "{err}");
    }

    #[test]
    fn singleton_both_spellings() {
        let mut wire = serde_json::to_value(base()).unwrap();
        wire["Singleton"] = json!({"key":"event.data.id","mode":"cancel"});
        let config: FunctionConfig = serde_json::from_value(wire).unwrap();
        assert_eq!(
            config.singleton.as_ref().unwrap().mode,
            SingletonMode::Cancel
        );
        let out = serde_json::to_value(&config).unwrap();
        assert!(out.get("singleton").is_some() && out.get("Singleton").is_none());
    }

    #[test]
    fn reports_each_rule() {
        let mut c = base();
        c.name.clear();
        assert_eq!(fields(&c), ["name"]);

        let mut c = base();
        c.triggers = vec![Trigger::event("app/a"); 2];
        assert_eq!(fields(&c), ["triggers[1]"]);

        let mut c = base();
        c.triggers = (0..11)
            .map(|i| Trigger::event(format!("app/{i}")))
            .collect();
        assert_eq!(fields(&c), ["triggers"]);

        let mut c = base();
        c.triggers.clear();
        assert_eq!(fields(&c), ["triggers"]);

        let mut c = base();
        c.triggers = vec![
            Trigger::event("app*"),
            Trigger::event("app/*"),
            Trigger::event("a/b.*"),
        ];
        assert_eq!(fields(&c), ["triggers[0].event"]);

        let mut c = base();
        c.triggers = vec![Trigger::Cron {
            cron: "0 * * * *".into(),
            jitter: Some("10m".into()),
        }];
        assert_eq!(fields(&c), ["triggers[0].jitter"]);

        let mut c = base();
        c.retries = Some(21);
        c.steps.get_mut(STEP_KEY).unwrap().retries = Some(StepRetries { attempts: 25 });
        assert_eq!(fields(&c), ["steps.step.retries.attempts", "retries"]);
        assert_eq!(c.retries(), MAX_RETRIES);

        let mut c = base();
        c.rate_limit = Some(RateLimit {
            limit: 1,
            period: "2d".into(),
            key: None,
        });
        c.debounce = Some(Debounce {
            period: "500ms".into(),
            key: None,
            timeout: None,
        });
        assert_eq!(fields(&c), ["rateLimit.period", "debounce.period"]);

        let mut c = base();
        c.throttle = Some(Throttle {
            limit: 0,
            period: "1x".into(),
            burst: None,
            key: None,
        });
        c.steps
            .insert("other".into(), StepConfig::http("ftp://x", None));
        assert_eq!(
            fields(&c),
            ["steps", "steps.other.runtime.url", "throttle.period"]
        );

        let mut c = base();
        c.batch_events = Some(BatchEvents {
            max_size: 1,
            timeout: "1d".into(),
            key: None,
            expression: None,
        });
        c.debounce = Some(Debounce {
            period: "5s".into(),
            key: None,
            timeout: None,
        });
        c.singleton = Some(Singleton {
            key: None,
            mode: SingletonMode::Skip,
        });
        assert_eq!(
            fields(&c),
            [
                "batchEvents.maxSize",
                "batchEvents.timeout",
                "batchEvents",
                "batchEvents"
            ]
        );

        let mut c = base();
        c.concurrency = Some(Concurrency {
            limits: vec![
                ConcurrencyLimit {
                    limit: 1,
                    key: None,
                    scope: Some(ConcurrencyScope::Env)
                };
                3
            ],
        });
        assert_eq!(
            fields(&c),
            [
                "concurrency",
                "concurrency[0].key",
                "concurrency[1].key",
                "concurrency[2].key"
            ]
        );
    }

    #[test]
    fn default_retries() {
        let mut c = base();
        assert_eq!(c.retries(), DEFAULT_RETRIES);
        c.retries = Some(2);
        assert_eq!(c.max_attempts(), 3);
        c.steps.get_mut(STEP_KEY).unwrap().retries = Some(StepRetries { attempts: 0 });
        assert_eq!(c.max_attempts(), 1);
    }
}
