//! CEL expressions as Inngest evaluates them: trigger `if`s, flow-control keys, priorities,
//! `wait_for_event` and `cancel_on` matches. Variables are `event`, `async` and `vars`;
//! besides CEL's standard library the server's helpers are available: `lowercase`,
//! `uppercase`, `json_parse`, `b64decode`, `date`, `now`, `now_plus` and `now_minus`.

pub(crate) mod pattern;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Program, Value as Cel};
use parking_lot::Mutex;
use serde_json::Value;

/// Compiled expressions, cached by source text.
#[derive(Default)]
pub(crate) struct Exprs {
    cache: Mutex<HashMap<String, Result<Arc<Program>, String>>>,
}

impl std::fmt::Debug for Exprs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exprs")
            .field("cached", &self.cache.lock().len())
            .finish()
    }
}

impl Exprs {
    /// Compiles `source`, or says why it does not parse.
    pub(crate) fn compile(&self, source: &str) -> Result<Arc<Program>, String> {
        let mut cache = self.cache.lock();
        if let Some(found) = cache.get(source) {
            return found.clone();
        }
        let compiled = Program::compile(source)
            .map(Arc::new)
            .map_err(|e| format!("invalid expression `{source}`: {e}"));
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(source.to_owned(), compiled.clone());
        compiled
    }

    /// Evaluates `source` with the given variables.
    pub(crate) fn eval(&self, source: &str, vars: &[(&str, &Value)]) -> Result<Cel, String> {
        let program = self.compile(source)?;
        let mut ctx = Context::default();
        add_functions(&mut ctx);
        ctx.add_variable_from_value(
            "vars",
            Cel::Map(Map {
                map: Arc::new(HashMap::new()),
            }),
        );
        for (name, value) in vars {
            ctx.add_variable_from_value(*name, to_cel(value));
        }
        program
            .execute(&ctx)
            .map_err(|e| format!("evaluating `{source}` failed: {e}"))
    }

    /// Evaluates a condition. Anything but `true` (an error, a missing field) is false, as on
    /// the server, which treats a failing expression as not matching.
    pub(crate) fn truthy(&self, source: &str, vars: &[(&str, &Value)]) -> bool {
        matches!(self.eval(source, vars), Ok(Cel::Bool(true)))
    }

    /// Evaluates a key expression (concurrency, throttle, idempotency…) to the string that
    /// names its bucket.
    pub(crate) fn key(&self, source: &str, vars: &[(&str, &Value)]) -> Result<String, String> {
        self.eval(source, vars).map(|v| key_string(&v))
    }

    /// Evaluates an integer expression (priority).
    pub(crate) fn int(&self, source: &str, vars: &[(&str, &Value)]) -> Result<i64, String> {
        match self.eval(source, vars)? {
            Cel::Int(i) => Ok(i),
            Cel::UInt(u) => Ok(i64::try_from(u).unwrap_or(i64::MAX)),
            Cel::Float(f) => Ok(f as i64),
            other => Err(format!("`{source}` gave {other:?}, not a number")),
        }
    }
}

/// Converts JSON to CEL: integers become `int`, other numbers `double`.
pub(crate) fn to_cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cel::Int(i),
            None => match n.as_u64() {
                Some(u) => Cel::UInt(u),
                None => Cel::Float(n.as_f64().unwrap_or(0.0)),
            },
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let map: HashMap<Key, Cel> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Cel::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Converts CEL back to JSON (for `json_parse` results and key strings).
pub(crate) fn to_json(value: &Cel) -> Value {
    match value {
        Cel::Null => Value::Null,
        Cel::Bool(b) => Value::Bool(*b),
        Cel::Int(i) => Value::from(*i),
        Cel::UInt(u) => Value::from(*u),
        Cel::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Cel::String(s) => Value::String(s.to_string()),
        Cel::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Cel::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Cel::Map(m) => Value::Object(
            m.map
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Key::String(s) => s.to_string(),
                        Key::Int(i) => i.to_string(),
                        Key::Uint(u) => u.to_string(),
                        Key::Bool(b) => b.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Cel::Timestamp(t) => Value::String(t.to_rfc3339()),
        Cel::Duration(d) => Value::String(format!("{}s", d.num_seconds())),
        _ => Value::Null,
    }
}

fn key_string(value: &Cel) -> String {
    match value {
        Cel::String(s) => s.to_string(),
        other => to_json(other).to_string(),
    }
}

fn fail(function: &str, message: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

fn parse_date(function: &str, value: &Cel) -> Result<Cel, ExecutionError> {
    let ts = match value {
        Cel::Timestamp(t) => *t,
        Cel::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .or_else(|_| chrono::DateTime::parse_from_rfc2822(s))
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map(|d| {
                    d.and_hms_opt(0, 0, 0)
                        .unwrap_or_default()
                        .and_utc()
                        .fixed_offset()
                })
            })
            .map_err(|e| fail(function, format!("cannot read `{s}` as a date: {e}")))?,
        Cel::Int(ms) => chrono::DateTime::from_timestamp_millis(*ms)
            .ok_or_else(|| fail(function, "timestamp out of range"))?
            .fixed_offset(),
        other => return Err(fail(function, format!("cannot read {other:?} as a date"))),
    };
    Ok(Cel::Timestamp(ts))
}

fn now_shifted(function: &str, text: &str, sign: i32) -> Result<Cel, ExecutionError> {
    let d = crate::clock::parse_duration(text).map_err(|e| fail(function, e))?;
    let d = chrono::Duration::from_std(d).map_err(|e| fail(function, e))?;
    let now = chrono::Utc::now().fixed_offset();
    Ok(Cel::Timestamp(if sign > 0 { now + d } else { now - d }))
}

fn add_functions(ctx: &mut Context<'_, '_>) {
    // The names are not in CEL's standard library, so adding them cannot conflict.
    let _ = ctx.add_function("lowercase", |s: Arc<String>| s.to_lowercase());
    let _ = ctx.add_function("uppercase", |s: Arc<String>| s.to_uppercase());
    let _ = ctx.add_function(
        "json_parse",
        |s: Arc<String>| -> Result<Cel, ExecutionError> {
            let v: Value = serde_json::from_str(&s).map_err(|e| fail("json_parse", e))?;
            Ok(to_cel(&v))
        },
    );
    let _ = ctx.add_function(
        "b64decode",
        |s: Arc<String>| -> Result<Cel, ExecutionError> {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|e| fail("b64decode", e))?;
            Ok(Cel::String(Arc::new(
                String::from_utf8_lossy(&bytes).into_owned(),
            )))
        },
    );
    let _ = ctx.add_function("date", |v: Cel| parse_date("date", &v));
    let _ = ctx.add_function("now", || Cel::Timestamp(chrono::Utc::now().fixed_offset()));
    let _ = ctx.add_function("now_plus", |s: Arc<String>| now_shifted("now_plus", &s, 1));
    let _ = ctx.add_function("now_minus", |s: Arc<String>| {
        now_shifted("now_minus", &s, -1)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trigger_expressions_see_the_event() {
        let x = Exprs::default();
        let event = json!({"name": "a/b", "data": {"plan": "pro", "n": 3, "f": 1.5}});
        assert!(x.truthy("event.data.plan == 'pro'", &[("event", &event)]));
        assert!(!x.truthy("event.data.plan == 'free'", &[("event", &event)]));
        assert!(x.truthy("event.data.n > 2 && event.data.f < 2", &[("event", &event)]));
        assert!(!x.truthy("event.data.missing == 1", &[("event", &event)]));
        assert!(x.truthy("has(event.data.plan)", &[("event", &event)]));
    }

    #[test]
    fn pause_expressions_compare_event_and_async() {
        let x = Exprs::default();
        let event = json!({"data": {"id": "u1"}});
        let yes = json!({"data": {"id": "u1"}});
        let no = json!({"data": {"id": "u2"}});
        let src = "event.data.id == async.data.id";
        assert!(x.truthy(src, &[("event", &event), ("async", &yes)]));
        assert!(!x.truthy(src, &[("event", &event), ("async", &no)]));
    }

    #[test]
    fn custom_functions_work() {
        let x = Exprs::default();
        let e = json!({"data": {"s": "HeLLo", "j": "{\"a\": 2}", "b": "aGk="}});
        let v = [("event", &e)];
        assert!(x.truthy("lowercase(event.data.s) == 'hello'", &v));
        assert!(x.truthy("uppercase(event.data.s) == 'HELLO'", &v));
        assert!(x.truthy("json_parse(event.data.j).a == 2", &v));
        assert!(x.truthy("b64decode(event.data.b) == 'hi'", &v));
        assert!(x.truthy("date('2024-01-01T00:00:00Z') < now()", &v));
        assert!(x.truthy("now_plus('1h') > now()", &v));
        assert!(x.truthy("now_minus('1d') < now()", &v));
    }

    #[test]
    fn keys_and_ints() {
        let x = Exprs::default();
        let e = json!({"data": {"user": "u1", "n": 7, "tier": "vip"}});
        assert_eq!(x.key("event.data.user", &[("event", &e)]).unwrap(), "u1");
        assert_eq!(x.key("event.data.n", &[("event", &e)]).unwrap(), "7");
        assert_eq!(
            x.int("event.data.tier == 'vip' ? 120 : 0", &[("event", &e)])
                .unwrap(),
            120
        );
        assert!(x.compile("event.data.(").is_err());
    }
}
