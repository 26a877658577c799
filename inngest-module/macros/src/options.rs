//! Flow-control options: each is its own attribute and also a key of `#[function(...)]`.
//!
//! Ranges are the ones the Inngest server enforces when an app syncs, so a value that would make
//! the sync fail fails the build instead.

use std::time::Duration;

use proc_macro2::Span;

use crate::args::Value;
use crate::errors::Errors;
use crate::fields::{Fields, Input};
use crate::spec::{
    At, Batch, Cancel, Concurrency, ConcurrencyRule, Debounce, FunctionSpec, RateLimit, Singleton,
    Throttle, Timeouts,
};

const SECOND: Duration = Duration::from_secs(1);
const DAY: Duration = Duration::from_secs(86_400);

/// Most retries the server accepts.
pub(crate) const MAX_RETRIES: u32 = 20;
/// Most concurrency rules per function.
pub(crate) const MAX_CONCURRENCY_RULES: usize = 2;
/// Most cancellation rules per function.
pub(crate) const MAX_CANCEL_RULES: usize = 5;
/// The server clamps the priority factor to ±12 hours, in seconds.
pub(crate) const MAX_PRIORITY_SECONDS: i64 = 43_200;

/// The option names, as attributes and as keys of `#[function(...)]`.
pub(crate) const OPTIONS: &[&str] = &[
    "concurrency",
    "rate_limit",
    "throttle",
    "debounce",
    "retries",
    "batch_events",
    "cancel_on",
    "priority",
    "idempotency",
    "timeouts",
    "singleton",
    "on_failure",
    "use_middleware",
];

/// Applies one option to `spec`. Returns `false` if `name` is not an option.
pub(crate) fn apply(
    spec: &mut FunctionSpec,
    name: &str,
    input: Input,
    span: Span,
    errors: &mut Errors,
) -> bool {
    match name {
        "concurrency" => concurrency(spec, input, span, errors),
        "rate_limit" => rate_limit(spec, input, span, errors),
        "throttle" => throttle(spec, input, span, errors),
        "debounce" => debounce(spec, input, span, errors),
        "retries" => retries(spec, input, span, errors),
        "batch_events" => batch_events(spec, input, span, errors),
        "cancel_on" => cancel_on(spec, input, span, errors),
        "priority" => priority(spec, input, span, errors),
        "idempotency" => idempotency(spec, input, span, errors),
        "timeouts" => timeouts(spec, input, span, errors),
        "singleton" => singleton(spec, input, span, errors),
        "on_failure" => on_failure(spec, input, span, errors),
        "use_middleware" | "middleware" => use_middleware(spec, input, errors),
        _ => return false,
    }
    true
}

/// Reports an option set twice (by two attributes, or an attribute and a `#[function]` key).
fn once<T>(slot: &Option<At<T>>, option: &str, span: Span, errors: &mut Errors) -> bool {
    if slot.is_some() {
        errors.push(
            span,
            format!("`{option}` is set twice on this function; keep one"),
        );
        return false;
    }
    true
}

fn concurrency(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    // `concurrency = 5` in the full form is the JS SDK's bare number; rules are objects.
    if let Input::Value(Value::Int { value, span }) = &input {
        if !once(&spec.concurrency, "concurrency", *span, errors) {
            return;
        }
        match u32::try_from(*value) {
            Ok(limit) => spec.concurrency = Some(At::new(Concurrency::Limit(limit), *span)),
            Err(_) => errors.push(
                *span,
                format!("the concurrency limit must be 0 or more, got {value}"),
            ),
        }
        return;
    }

    let mut fields = Fields::read(
        "`#[concurrency]`",
        &["limit", "key", "scope"],
        1,
        input,
        span,
        errors,
    );
    let limit = fields.required_u32_at_least("limit", 0, errors);
    let key = fields.str("key", errors);
    let scope = fields.str("scope", errors);

    if let Some((scope, scope_span)) = &scope {
        if !matches!(scope.as_str(), "fn" | "env" | "account") {
            errors.push(
                *scope_span,
                format!(
                    "the concurrency scope \"{scope}\" is not one of \"fn\", \"env\", \"account\""
                ),
            );
        } else if scope != "fn" && key.is_none() {
            errors.push(
                *scope_span,
                format!(
                    "a concurrency rule scoped to \"{scope}\" needs a `key`, such as \
                     key = \"\\\"shared-pool\\\"\" or key = \"event.data.account_id\""
                ),
            );
        }
    }

    let rules = match &mut spec.concurrency {
        None => {
            spec.concurrency = Some(At::new(Concurrency::Rules(Vec::new()), span));
            let Some(At {
                value: Concurrency::Rules(rules),
                ..
            }) = &mut spec.concurrency
            else {
                return;
            };
            rules
        }
        Some(At {
            value: Concurrency::Rules(rules),
            ..
        }) => rules,
        Some(At {
            value: Concurrency::Limit(_),
            ..
        }) => {
            errors.push(
                span,
                "`concurrency = N` is already set; give either one bare limit or up to two \
                 `concurrency(limit = .., key = ..)` rules",
            );
            return;
        }
    };
    if rules.len() == MAX_CONCURRENCY_RULES {
        errors.push(
            span,
            format!(
                "a function takes at most {MAX_CONCURRENCY_RULES} concurrency rules; remove this one \
                 or merge it into another"
            ),
        );
        return;
    }

    let Some(limit) = limit else { return };
    let rule = ConcurrencyRule {
        limit,
        key: key.map(|k| k.0),
        scope: scope.map(|s| s.0),
    };
    rules.push(At::new(rule, span));
}

fn rate_limit(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.rate_limit, "rate_limit", span, errors) {
        return;
    }
    let mut fields = Fields::read(
        "`#[rate_limit]`",
        &["limit", "period", "key"],
        3,
        input,
        span,
        errors,
    );
    let limit = fields.required_u32_at_least("limit", 1, errors);
    let period = required_duration(
        &mut fields,
        "period",
        "the rate-limit period",
        SECOND,
        Some(DAY),
        errors,
    );
    let key = fields.str("key", errors).map(|k| k.0);

    if let (Some(limit), Some(period)) = (limit, period) {
        spec.rate_limit = Some(At::new(RateLimit { limit, period, key }, span));
    }
}

fn throttle(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.throttle, "throttle", span, errors) {
        return;
    }
    let mut fields = Fields::read(
        "`#[throttle]`",
        &["limit", "period", "burst", "key"],
        2,
        input,
        span,
        errors,
    );
    let limit = fields.required_u32_at_least("limit", 1, errors);
    let period = required_duration(
        &mut fields,
        "period",
        "the throttle period",
        SECOND,
        Some(7 * DAY),
        errors,
    );
    let burst = match fields.u32("burst", errors) {
        Some((0, burst_span)) => {
            errors.push(burst_span, "`burst` in `#[throttle]` must be at least 1");
            None
        }
        other => other.map(|b| b.0),
    };
    let key = fields.str("key", errors).map(|k| k.0);

    if let (Some(limit), Some(period)) = (limit, period) {
        spec.throttle = Some(At::new(
            Throttle {
                limit,
                period,
                burst,
                key,
            },
            span,
        ));
    }
}

fn debounce(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.debounce, "debounce", span, errors) {
        return;
    }
    let mut fields = Fields::read(
        "`#[debounce]`",
        &["period", "key", "timeout"],
        3,
        input,
        span,
        errors,
    );
    let period = required_duration(
        &mut fields,
        "period",
        "the debounce period",
        SECOND,
        Some(7 * DAY),
        errors,
    );
    let key = fields.str("key", errors).map(|k| k.0);
    let timeout = fields.duration("timeout", "the debounce timeout", SECOND, None, errors);

    if let Some(period) = period {
        spec.debounce = Some(At::new(
            Debounce {
                period,
                key,
                timeout,
            },
            span,
        ));
    }
}

fn retries(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.retries, "retries", span, errors) {
        return;
    }
    let mut fields = Fields::read("`#[retries]`", &["count"], 1, input, span, errors);
    if !fields.has("count") {
        errors.push(
            span,
            "`#[retries]` needs a number of retries from 0 to 20, such as #[retries(3)]",
        );
        return;
    }
    let Some((count, count_span)) = fields.u32("count", errors) else {
        return;
    };
    if count > MAX_RETRIES {
        errors.push(
            count_span,
            format!(
                "Inngest allows at most {MAX_RETRIES} retries, got {count}; choose a number from 0 to {MAX_RETRIES}"
            ),
        );
        return;
    }
    spec.retries = Some(At::new(count, span));
}

fn batch_events(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.batch, "batch_events", span, errors) {
        return;
    }
    let mut fields = Fields::read(
        "`#[batch_events]`",
        &["max_size", "timeout", "key", "if"],
        2,
        input,
        span,
        errors,
    );
    // The server needs at least two: a batch of one is plain event handling.
    let max_size = fields.required_u32_at_least("max_size", 2, errors);
    let timeout = batch_timeout(&mut fields, errors);
    let key = fields.str("key", errors).map(|k| k.0);
    let condition = fields.str("if", errors).map(|c| c.0);

    if let (Some(max_size), Some(timeout)) = (max_size, timeout) {
        spec.batch = Some(At::new(
            Batch {
                max_size,
                timeout,
                key,
                condition,
            },
            span,
        ));
    }
}

/// The batch timeout is read by Go's `time.ParseDuration` on the server, which knows no days or
/// weeks, unlike every other duration.
fn batch_timeout(fields: &mut Fields, errors: &mut Errors) -> Option<String> {
    if !fields.has("timeout") {
        errors.push(fields.span, fields.missing("timeout"));
        return None;
    }
    let (text, span) = fields.str("timeout", errors)?;
    if text.contains(['d', 'w']) {
        errors.push(
            span,
            format!(
                "the batch timeout \"{text}\" uses days or weeks, which Inngest does not accept \
                 here; write it in h, m or s, such as \"10s\""
            ),
        );
        return None;
    }
    if let Err(reason) = crate::check::parse_go_duration(&text) {
        errors.push(
            span,
            format!("the batch timeout \"{text}\" is not a duration: {reason}; write it in h, m or s, such as \"10s\""),
        );
        return None;
    }
    match crate::check::duration_within(&text, span, "the batch timeout", SECOND, None) {
        Ok(_) => Some(text),
        Err(err) => {
            errors.add(err);
            None
        }
    }
}

fn cancel_on(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    let mut fields = Fields::read(
        "`#[cancel_on]`",
        &["event", "if", "match", "timeout"],
        1,
        input,
        span,
        errors,
    );
    let event = fields.required_str("event", errors);
    let condition = fields.str("if", errors);
    let matched = fields.str("match", errors);
    let timeout = fields.duration(
        "timeout",
        "the cancellation timeout",
        SECOND,
        Some(366 * DAY),
        errors,
    );

    if spec.cancel.len() == MAX_CANCEL_RULES {
        errors.push(
            span,
            format!(
                "a function takes at most {MAX_CANCEL_RULES} `cancel_on` rules; remove this one"
            ),
        );
        return;
    }

    // `match = "data.id"` is the JS SDK's shorthand for comparing a field of the triggering
    // event with the same field of the cancelling one.
    let condition = match (condition, matched) {
        (Some(_), Some((_, match_span))) => {
            errors.push(
                match_span,
                "give either `if` or `match` in `#[cancel_on]`, not both (`match = \"data.id\"` \
                 stands for if = \"event.data.id == async.data.id\")",
            );
            return;
        }
        (Some((condition, _)), None) => Some(condition),
        (None, Some((field, match_span))) => {
            if field.starts_with("event.") || field.starts_with("async.") {
                errors.push(
                    match_span,
                    format!(
                        "`match` takes a field path inside the event, such as \"data.id\", not \"{field}\""
                    ),
                );
                return;
            }
            Some(format!("event.{field} == async.{field}"))
        }
        (None, None) => None,
    };

    let Some((event, _)) = event else { return };
    spec.cancel.push(At::new(
        Cancel {
            event,
            timeout,
            condition,
        },
        span,
    ));
}

fn priority(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.priority, "priority", span, errors) {
        return;
    }
    let mut fields = Fields::read("`#[priority]`", &["run"], 1, input, span, errors);
    if !fields.has("run") {
        errors.push(span, fields.missing("run"));
        return;
    }

    // An integer literal is the expression for a constant priority; check it against the range
    // the server clamps to, since a larger value would silently be capped.
    let (run, run_span, constant) = match fields.take("run") {
        Some(Value::Int { value, span }) => (value.to_string(), span, Some(value)),
        Some(Value::Str(lit)) => {
            let text = lit.value();
            let constant = text.trim().parse::<i64>().ok();
            (text, lit.span(), constant)
        }
        Some(other) => {
            errors.push(
                other.span(),
                format!(
                    "`run` in `#[priority]` must be an expression string or an integer, found {}",
                    other.describe()
                ),
            );
            return;
        }
        None => return,
    };
    if run.trim().is_empty() {
        errors.push(run_span, "`run` in `#[priority]` is empty");
        return;
    }
    if let Some(constant) = constant
        && constant.abs() > MAX_PRIORITY_SECONDS
    {
        errors.push(
            run_span,
            format!(
                "the priority {constant} is outside the range Inngest applies, \
                 -{MAX_PRIORITY_SECONDS}..={MAX_PRIORITY_SECONDS} seconds"
            ),
        );
        return;
    }
    spec.priority = Some(At::new(run, span));
}

fn idempotency(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.idempotency, "idempotency", span, errors) {
        return;
    }
    let mut fields = Fields::read("`#[idempotency]`", &["key"], 1, input, span, errors);
    if let Some((key, _)) = fields.required_str("key", errors) {
        spec.idempotency = Some(At::new(key, span));
    }
}

fn timeouts(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.timeouts, "timeouts", span, errors) {
        return;
    }
    let mut fields = Fields::read(
        "`#[timeouts]`",
        &["start", "finish"],
        0,
        input,
        span,
        errors,
    );
    if !fields.has("start") && !fields.has("finish") {
        errors.push(
            span,
            "`#[timeouts]` needs `start` (from the trigger to the first attempt), `finish` (from the \
             first attempt to the end) or both, such as #[timeouts(start = \"10m\", finish = \"2h\")]",
        );
        return;
    }
    let start = fields.duration("start", "the start timeout", SECOND, None, errors);
    let finish = fields.duration("finish", "the finish timeout", SECOND, None, errors);

    if start.is_some() || finish.is_some() {
        spec.timeouts = Some(At::new(Timeouts { start, finish }, span));
    }
}

fn singleton(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if !once(&spec.singleton, "singleton", span, errors) {
        return;
    }
    let mut fields = Fields::read("`#[singleton]`", &["mode", "key"], 2, input, span, errors);
    if !fields.has("mode") {
        errors.push(
            span,
            "`#[singleton]` needs `mode`: \"skip\" drops new runs while one is running, \"cancel\" \
             cancels the running one and starts the new one",
        );
        return;
    }
    let mode = fields.str("mode", errors);
    let key = fields.str("key", errors).map(|k| k.0);

    let Some((mode, mode_span)) = mode else {
        return;
    };
    if !matches!(mode.as_str(), "skip" | "cancel") {
        errors.push(
            mode_span,
            format!("the singleton mode \"{mode}\" is not one of \"skip\", \"cancel\""),
        );
        return;
    }
    spec.singleton = Some(At::new(Singleton { key, mode }, span));
}

fn on_failure(spec: &mut FunctionSpec, input: Input, span: Span, errors: &mut Errors) {
    if spec.on_failure.is_some() {
        errors.push(span, "`on_failure` is set twice on this function; keep one");
        return;
    }
    let mut fields = Fields::read("`#[on_failure]`", &["handler"], 1, input, span, errors);
    match fields.take("handler") {
        Some(Value::Ident(ident)) => spec.on_failure = Some(ident),
        Some(Value::Str(lit)) => match lit.parse::<syn::Ident>() {
            Ok(ident) => spec.on_failure = Some(ident),
            Err(_) => errors.push(lit.span(), format!("\"{}\" is not a method name", lit.value())),
        },
        Some(other) => errors.push(
            other.span(),
            format!("`#[on_failure]` takes the name of a method of this impl block, found {}", other.describe()),
        ),
        None => errors.push(
            span,
            "`#[on_failure]` needs the name of a method of this impl block, such as #[on_failure(handle_failure)]",
        ),
    }
}

fn use_middleware(spec: &mut FunctionSpec, input: Input, errors: &mut Errors) {
    let values = match input {
        Input::Value(Value::Array { items, .. }) => items,
        Input::Value(value) => vec![value],
        Input::List(args) => args
            .items
            .into_iter()
            .filter_map(|arg| match arg {
                crate::args::Arg::Positional(value) => Some(value),
                other => {
                    errors.push(
                        other.span(),
                        "`#[use_middleware]` takes middleware names as strings, such as \
                         #[use_middleware(\"audit\", \"timing\")]",
                    );
                    None
                }
            })
            .collect(),
    };

    for value in values {
        match value {
            Value::Str(lit) if !lit.value().trim().is_empty() => {
                let name = lit.value();
                if spec.middleware.iter().any(|m| m.value == name) {
                    errors.push(
                        lit.span(),
                        format!("the middleware \"{name}\" is listed twice"),
                    );
                    continue;
                }
                spec.middleware.push(At::new(name, lit.span()));
            }
            other => errors.push(
                other.span(),
                format!(
                    "a middleware is named by a non-empty string, found {}",
                    other.describe()
                ),
            ),
        }
    }
}

fn required_duration(
    fields: &mut Fields,
    key: &str,
    what: &str,
    min: Duration,
    max: Option<Duration>,
    errors: &mut Errors,
) -> Option<String> {
    if !fields.has(key) {
        errors.push(fields.span, fields.missing(key));
        return None;
    }
    fields.duration(key, what, min, max, errors)
}
