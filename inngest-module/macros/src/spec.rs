//! The function spec: what the attributes on one method declare, and its JSON.
//!
//! The JSON is the wire function config the official SDKs send when an app syncs, with the bare
//! function id (the runtime prefixes the app id) and `retries: N` in place of the `steps` object
//! (the runtime knows the URL the step needs). Keys follow the JS SDK's order.

use proc_macro2::Span;

use crate::json::Json;

/// A value together with the span of the attribute argument that set it.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

impl<T> At<T> {
    pub(crate) fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

/// What starts a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trigger {
    Event {
        event: String,
        expression: Option<String>,
    },
    Cron {
        cron: String,
        jitter: Option<String>,
    },
}

/// `concurrency`: a bare limit, or up to two keyed rules.
#[derive(Debug, Clone)]
pub(crate) enum Concurrency {
    Limit(u32),
    Rules(Vec<At<ConcurrencyRule>>),
}

#[derive(Debug, Clone)]
pub(crate) struct ConcurrencyRule {
    pub(crate) limit: u32,
    pub(crate) key: Option<String>,
    pub(crate) scope: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RateLimit {
    pub(crate) limit: u32,
    pub(crate) period: String,
    pub(crate) key: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    pub(crate) limit: u32,
    pub(crate) period: String,
    pub(crate) burst: Option<u32>,
    pub(crate) key: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Debounce {
    pub(crate) period: String,
    pub(crate) key: Option<String>,
    pub(crate) timeout: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) max_size: u32,
    pub(crate) timeout: String,
    pub(crate) key: Option<String>,
    pub(crate) condition: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cancel {
    pub(crate) event: String,
    pub(crate) timeout: Option<String>,
    pub(crate) condition: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Timeouts {
    pub(crate) start: Option<String>,
    pub(crate) finish: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Singleton {
    pub(crate) key: Option<String>,
    pub(crate) mode: String,
}

/// Everything the attributes on one method declare.
#[derive(Debug, Clone, Default)]
pub(crate) struct FunctionSpec {
    pub(crate) id: Option<At<String>>,
    pub(crate) name: Option<At<String>>,
    pub(crate) triggers: Vec<At<Trigger>>,
    /// Whether a trigger was written at all, even one rejected by a check; a method whose only
    /// trigger has a typo is told about the typo, not that it has no trigger.
    pub(crate) trigger_written: bool,
    pub(crate) retries: Option<At<u32>>,
    pub(crate) idempotency: Option<At<String>>,
    pub(crate) batch: Option<At<Batch>>,
    pub(crate) rate_limit: Option<At<RateLimit>>,
    pub(crate) throttle: Option<At<Throttle>>,
    pub(crate) concurrency: Option<At<Concurrency>>,
    pub(crate) debounce: Option<At<Debounce>>,
    pub(crate) priority: Option<At<String>>,
    pub(crate) timeouts: Option<At<Timeouts>>,
    pub(crate) cancel: Vec<At<Cancel>>,
    pub(crate) singleton: Option<At<Singleton>>,
    pub(crate) on_failure: Option<syn::Ident>,
    pub(crate) middleware: Vec<At<String>>,
}

impl FunctionSpec {
    /// The function id: the one given, or the method name in kebab-case.
    pub(crate) fn id_or(&self, method: &str) -> String {
        self.id
            .as_ref()
            .map_or_else(|| kebab_case(method), |id| id.value.clone())
    }

    /// The function's JSON; `method` supplies the default id.
    pub(crate) fn to_json(&self, method: &str) -> Json {
        let id = self.id_or(method);
        let name = self
            .name
            .as_ref()
            .map_or_else(|| id.clone(), |n| n.value.clone());
        let opt_str = |value: &Option<String>| value.as_ref().map(Json::str);

        let triggers = self
            .triggers
            .iter()
            .map(|t| trigger_json(&t.value))
            .collect();

        Json::object()
            .with("id", Json::str(id))
            .with("name", Json::str(name))
            .with("triggers", Json::Array(triggers))
            .with_opt(
                "retries",
                self.retries.as_ref().map(|r| Json::Int(r.value.into())),
            )
            .with_opt(
                "idempotency",
                self.idempotency.as_ref().map(|i| Json::str(&i.value)),
            )
            .with_opt(
                "batchEvents",
                self.batch.as_ref().map(|At { value: b, .. }| {
                    Json::object()
                        .with("maxSize", Json::Int(b.max_size.into()))
                        .with("timeout", Json::str(&b.timeout))
                        .with_opt("key", opt_str(&b.key))
                        .with_opt("if", opt_str(&b.condition))
                }),
            )
            .with_opt(
                "rateLimit",
                self.rate_limit.as_ref().map(|At { value: r, .. }| {
                    Json::object()
                        .with("limit", Json::Int(r.limit.into()))
                        .with("period", Json::str(&r.period))
                        .with_opt("key", opt_str(&r.key))
                }),
            )
            .with_opt(
                "throttle",
                self.throttle.as_ref().map(|At { value: t, .. }| {
                    Json::object()
                        .with("limit", Json::Int(t.limit.into()))
                        .with("period", Json::str(&t.period))
                        .with_opt("burst", t.burst.map(|b| Json::Int(b.into())))
                        .with_opt("key", opt_str(&t.key))
                }),
            )
            .with_opt(
                "concurrency",
                self.concurrency
                    .as_ref()
                    .map(|c| concurrency_json(&c.value)),
            )
            .with_opt(
                "debounce",
                self.debounce.as_ref().map(|At { value: d, .. }| {
                    Json::object()
                        .with("period", Json::str(&d.period))
                        .with_opt("key", opt_str(&d.key))
                        .with_opt("timeout", opt_str(&d.timeout))
                }),
            )
            .with_opt(
                "priority",
                self.priority
                    .as_ref()
                    .map(|p| Json::object().with("run", Json::str(&p.value))),
            )
            .with_opt(
                "timeouts",
                self.timeouts.as_ref().map(|At { value: t, .. }| {
                    Json::object()
                        .with_opt("start", opt_str(&t.start))
                        .with_opt("finish", opt_str(&t.finish))
                }),
            )
            .with_opt(
                "cancel",
                (!self.cancel.is_empty()).then(|| {
                    Json::Array(
                        self.cancel
                            .iter()
                            .map(|At { value: c, .. }| {
                                Json::object()
                                    .with("event", Json::str(&c.event))
                                    .with_opt("timeout", opt_str(&c.timeout))
                                    .with_opt("if", opt_str(&c.condition))
                            })
                            .collect(),
                    )
                }),
            )
            .with_opt(
                "singleton",
                self.singleton.as_ref().map(|At { value: s, .. }| {
                    Json::object()
                        .with_opt("key", opt_str(&s.key))
                        .with("mode", Json::str(&s.mode))
                }),
            )
            .with_opt(
                "middleware",
                (!self.middleware.is_empty()).then(|| {
                    Json::Array(
                        self.middleware
                            .iter()
                            .map(|m| Json::str(&m.value))
                            .collect(),
                    )
                }),
            )
    }
}

fn trigger_json(trigger: &Trigger) -> Json {
    match trigger {
        Trigger::Event { event, expression } => Json::object()
            .with("event", Json::str(event))
            .with_opt("expression", expression.as_ref().map(Json::str)),
        Trigger::Cron { cron, jitter } => Json::object()
            .with("cron", Json::str(cron))
            .with_opt("jitter", jitter.as_ref().map(Json::str)),
    }
}

fn concurrency_json(concurrency: &Concurrency) -> Json {
    match concurrency {
        Concurrency::Limit(limit) => Json::Int((*limit).into()),
        Concurrency::Rules(rules) => Json::Array(
            rules
                .iter()
                .map(|At { value: rule, .. }| {
                    Json::object()
                        .with("limit", Json::Int(rule.limit.into()))
                        .with_opt("key", rule.key.as_ref().map(Json::str))
                        .with_opt("scope", rule.scope.as_ref().map(Json::str))
                })
                .collect(),
        ),
    }
}

/// `send_welcome_email` → `send-welcome-email`; `sendEmail` → `send-email`.
pub(crate) fn kebab_case(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for ch in name.chars() {
        if ch == '_' || ch == '-' {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            previous_lower = false;
        } else if ch.is_uppercase() {
            if previous_lower && !out.ends_with('-') {
                out.push('-');
            }
            out.extend(ch.to_lowercase());
            previous_lower = false;
        } else {
            out.push(ch);
            previous_lower = ch.is_lowercase() || ch.is_ascii_digit();
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<T>(value: T) -> At<T> {
        At::new(value, Span::call_site())
    }

    #[test]
    fn kebab_cases_method_names() {
        assert_eq!(kebab_case("welcome_new_user"), "welcome-new-user");
        assert_eq!(kebab_case("r#type"), "type");
        assert_eq!(kebab_case("sendEmail2"), "send-email2");
        assert_eq!(kebab_case("_private__thing_"), "private-thing");
    }

    #[test]
    fn defaults_the_id_to_the_method_and_the_name_to_the_id() {
        let spec = FunctionSpec {
            triggers: vec![at(Trigger::Event {
                event: "demo/sleep".into(),
                expression: None,
            })],
            ..FunctionSpec::default()
        };

        assert_eq!(
            spec.to_json("sleeper").render(),
            r#"{"id":"sleeper","name":"sleeper","triggers":[{"event":"demo/sleep"}]}"#
        );
    }
}
