//! Trigger attributes: `#[function(...)]`, `#[on_event]`, `#[on_events]` and `#[on_cron]`.
//!
//! Triggers accumulate: a method may carry several `#[on_event]` and `#[on_cron]` attributes,
//! which is how a function gets several triggers with their own `if` expressions.

use std::time::Duration;

use proc_macro2::Span;

use crate::args::{Arg, Args, Value};
use crate::check;
use crate::errors::Errors;
use crate::fields::{Fields, Input, unknown_key};
use crate::options;
use crate::spec::{At, FunctionSpec, Trigger};

/// The longest event name and cron expression the server accepts.
const MAX_NAME_LEN: usize = 255;
/// Cron jitter bounds the server enforces.
const MIN_JITTER: Duration = Duration::from_secs(1);
const MAX_JITTER: Duration = Duration::from_secs(300);

/// Keys of `#[function(...)]` other than the flow-control options.
const FUNCTION_KEYS: &[&str] = &[
    "id", "name", "event", "if", "events", "cron", "timezone", "jitter",
];

/// Applies `#[function(...)]`.
pub(crate) fn function(spec: &mut FunctionSpec, args: Args, errors: &mut Errors) {
    let span = args.span;
    let mut own = Vec::new();

    for arg in args.items {
        let (key, input) = match arg {
            Arg::Named { key, value } => (key, Input::Value(value)),
            Arg::List { key, args } => (key, Input::List(args)),
            Arg::Positional(value) => {
                errors.push(
                    value.span(),
                    "`#[function]` takes named arguments, such as \
                     #[function(id = \"send-email\", event = \"user.created\")]; for a bare event \
                     name use #[on_event(\"user.created\")]",
                );
                continue;
            }
        };

        let option_span = key.span;
        if FUNCTION_KEYS.contains(&key.name.as_str()) {
            match input {
                Input::Value(value) => own.push(Arg::Named { key, value }),
                Input::List(_) => errors.push(
                    key.span,
                    format!(
                        "`{name}` takes a value: write `{name} = ...`",
                        name = key.name
                    ),
                ),
            }
        } else if !options::apply(spec, &key.name, input, option_span, errors) {
            let mut valid: Vec<&str> = FUNCTION_KEYS.to_vec();
            valid.extend(options::OPTIONS);
            errors.push(key.span, unknown_key(&key.name, "`#[function]`", &valid));
        }
    }

    let own = Args { items: own, span };
    let mut fields = Fields::read(
        "`#[function]`",
        FUNCTION_KEYS,
        0,
        Input::List(own),
        span,
        errors,
    );
    identity(spec, &mut fields, errors);

    spec.trigger_written |= ["event", "events", "cron"]
        .iter()
        .any(|key| fields.has(key));
    let event = fields.str("event", errors);
    let condition = fields.str("if", errors);
    let events = fields.take("events");
    let cron = fields.str("cron", errors);
    let timezone = fields.str("timezone", errors);
    let jitter = fields.str("jitter", errors);

    if let Some((event, event_span)) = event {
        push_event(spec, event, event_span, condition, errors);
    } else if let Some((_, if_span)) = condition {
        errors.push(
            if_span,
            "`if` filters the `event` trigger; add `event = \"...\"`, or use one \
             #[on_event(\"...\", if = \"...\")] per event",
        );
    }

    if let Some(events) = events {
        event_list(spec, vec![events], errors);
    }

    match cron {
        Some((cron, cron_span)) => push_cron(spec, cron, cron_span, timezone, jitter, errors),
        None => {
            for (key, given) in [("timezone", timezone), ("jitter", jitter)] {
                if let Some((_, key_span)) = given {
                    errors.push(
                        key_span,
                        format!("`{key}` applies to a `cron` trigger; add `cron = \"...\"`"),
                    );
                }
            }
        }
    }
}

/// Applies `#[on_event("name", if = "...")]`.
pub(crate) fn on_event(spec: &mut FunctionSpec, args: Args, errors: &mut Errors) {
    spec.trigger_written = true;
    let span = args.span;
    let mut fields = Fields::read(
        "`#[on_event]`",
        &["event", "if", "id", "name"],
        1,
        Input::List(args),
        span,
        errors,
    );
    identity(spec, &mut fields, errors);
    let condition = fields.str("if", errors);
    if !fields.has("event") {
        errors.push(
            span,
            "`#[on_event]` needs an event name, such as #[on_event(\"user.created\")]",
        );
        return;
    }
    if let Some((event, event_span)) = fields.str("event", errors) {
        push_event(spec, event, event_span, condition, errors);
    }
}

/// Applies `#[on_events("a", "b", ...)]`.
pub(crate) fn on_events(spec: &mut FunctionSpec, args: Args, errors: &mut Errors) {
    spec.trigger_written = true;
    let span = args.span;
    let mut names = Vec::new();
    let mut named = Vec::new();
    for arg in args.items {
        match arg {
            Arg::Positional(value) => names.push(value),
            other => named.push(other),
        }
    }

    let mut fields = Fields::read(
        "`#[on_events]`",
        &["id", "name"],
        0,
        Input::List(Args { items: named, span }),
        span,
        errors,
    );
    identity(spec, &mut fields, errors);

    if names.is_empty() {
        errors.push(
            span,
            "`#[on_events]` needs one or more event names, such as #[on_events(\"a\", \"b\")]",
        );
        return;
    }
    event_list(spec, names, errors);
}

/// Applies `#[on_cron("0 9 * * 1-5", timezone = "...", jitter = "...")]`.
pub(crate) fn on_cron(spec: &mut FunctionSpec, args: Args, errors: &mut Errors) {
    spec.trigger_written = true;
    let span = args.span;
    let mut fields = Fields::read(
        "`#[on_cron]`",
        &["cron", "timezone", "jitter", "id", "name"],
        1,
        Input::List(args),
        span,
        errors,
    );
    identity(spec, &mut fields, errors);
    let timezone = fields.str("timezone", errors);
    let jitter = fields.str("jitter", errors);
    if !fields.has("cron") {
        errors.push(
            span,
            "`#[on_cron]` needs a cron expression, such as #[on_cron(\"0 9 * * *\")]",
        );
        return;
    }
    if let Some((cron, cron_span)) = fields.str("cron", errors) {
        push_cron(spec, cron, cron_span, timezone, jitter, errors);
    }
}

/// Reads `id` and `name`, which any trigger attribute may carry (once per function).
fn identity(spec: &mut FunctionSpec, fields: &mut Fields, errors: &mut Errors) {
    if let Some((id, span)) = fields.str("id", errors) {
        if spec.id.is_some() {
            errors.push(span, "the function `id` is set twice; keep one");
        } else if id.chars().any(char::is_whitespace) {
            errors.push(span, format!("the function id \"{id}\" contains whitespace; use a slug such as \"send-email\""));
        } else {
            spec.id = Some(At::new(id, span));
        }
    }
    if let Some((name, span)) = fields.str("name", errors) {
        if spec.name.is_some() {
            errors.push(span, "the function `name` is set twice; keep one");
        } else {
            spec.name = Some(At::new(name, span));
        }
    }
}

/// Adds one event trigger per string in `values` (a list or several positional strings).
fn event_list(spec: &mut FunctionSpec, values: Vec<Value>, errors: &mut Errors) {
    for value in values {
        match value {
            Value::Array { items, span } if items.is_empty() => {
                errors.push(span, "the event list is empty; name at least one event");
            }
            Value::Array { items, .. } => event_list(spec, items, errors),
            Value::Str(lit) => push_event(spec, lit.value(), lit.span(), None, errors),
            other => errors.push(
                other.span(),
                format!(
                    "an event name is a string such as \"user.created\", found {}",
                    other.describe()
                ),
            ),
        }
    }
}

fn push_event(
    spec: &mut FunctionSpec,
    event: String,
    span: Span,
    condition: Option<(String, Span)>,
    errors: &mut Errors,
) {
    if event.trim().is_empty() {
        errors.push(span, "the event name is empty");
        return;
    }
    if event.len() > MAX_NAME_LEN {
        errors.push(
            span,
            format!(
                "the event name is {} bytes long; Inngest accepts at most {MAX_NAME_LEN}",
                event.len()
            ),
        );
        return;
    }
    push_trigger(
        spec,
        Trigger::Event {
            event,
            expression: condition.map(|c| c.0),
        },
        span,
        errors,
    );
}

fn push_cron(
    spec: &mut FunctionSpec,
    cron: String,
    span: Span,
    timezone: Option<(String, Span)>,
    jitter: Option<(String, Span)>,
    errors: &mut Errors,
) {
    if let Err(reason) = check::check_cron(&cron) {
        let hint = if reason.starts_with("expected exactly") {
            "; the fields are minute, hour, day of month, month and day of week, such as \
             \"0 9 * * 1-5\""
        } else {
            ""
        };
        errors.push(
            span,
            format!("invalid cron expression \"{cron}\": {reason}{hint}"),
        );
        return;
    }

    let cron = match timezone {
        None => cron,
        Some((zone, zone_span)) => {
            if cron.trim_start().starts_with("TZ=") || cron.trim_start().starts_with("CRON_TZ=") {
                errors.push(
                    zone_span,
                    "the cron expression already starts with a `TZ=` prefix; remove `timezone` or the prefix",
                );
                return;
            }
            if let Err(reason) = check::check_timezone(&zone) {
                errors.push(zone_span, format!("invalid time zone: {reason}"));
                return;
            }
            format!("TZ={zone} {cron}")
        }
    };
    if cron.len() > MAX_NAME_LEN {
        errors.push(
            span,
            format!("the cron expression is longer than the {MAX_NAME_LEN} bytes Inngest accepts"),
        );
        return;
    }

    let jitter = match jitter {
        None => None,
        Some((text, jitter_span)) => {
            match check::duration_within(
                &text,
                jitter_span,
                "the cron jitter",
                MIN_JITTER,
                Some(MAX_JITTER),
            ) {
                Ok(_) => Some(text),
                Err(err) => {
                    errors.add(err);
                    return;
                }
            }
        }
    };

    push_trigger(spec, Trigger::Cron { cron, jitter }, span, errors);
}

fn push_trigger(spec: &mut FunctionSpec, trigger: Trigger, span: Span, errors: &mut Errors) {
    let duplicate = spec.triggers.iter().any(|t| match (&t.value, &trigger) {
        // The server rejects the same schedule twice even when the jitter differs.
        (Trigger::Cron { cron: a, .. }, Trigger::Cron { cron: b, .. }) => a == b,
        (a, b) => a == b,
    });
    if duplicate {
        errors.push(
            span,
            "this trigger is declared twice on the function; remove one",
        );
        return;
    }
    spec.triggers.push(At::new(trigger, span));
}
