//! Checking a function configuration against the server's rules, field by field.

use std::collections::HashSet;
use std::time::Duration;

use super::{
    BatchEvents, ConcurrencyScope, FunctionConfig, MAX_CANCEL_RULES, MAX_CONCURRENCY_LIMITS,
    MAX_RETRIES, MAX_TRIGGER_EVENT_LEN, MAX_TRIGGERS, Trigger,
};
use crate::duration::check_range;
use crate::{ProtocolError, parse_duration, parse_go_duration, validate_cron};

impl FunctionConfig {
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
    use crate::function::*;

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
