//! Reading the arguments of one option into named slots, with typed getters.
//!
//! Every option has an ordered list of keys; the first few may also be given positionally, the
//! way the NestJS decorators take them (`#[rate_limit(100, "1h")]` is
//! `#[rate_limit(limit = 100, period = "1h")]`). Unknown keys, repeated keys and values of the
//! wrong type are reported at the offending argument.

use proc_macro2::Span;

use crate::args::{Arg, Args, Value};
use crate::check;
use crate::errors::Errors;

/// What an option received: a list `option(...)` or a single value `option = value`.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    List(Args),
    Value(Value),
}

/// The arguments of one option, sorted into its keys.
#[derive(Debug)]
pub(crate) struct Fields {
    /// How the option is written in messages, such as `#[rate_limit]`.
    option: String,
    keys: &'static [&'static str],
    values: Vec<Option<Value>>,
    /// The span of the option as a whole, for "missing key" messages.
    pub(crate) span: Span,
}

impl Fields {
    /// Sorts `input` into `keys`, of which the first `positional` may be given without a name.
    ///
    /// Problems are pushed to `errors`; the slots that could be read are still filled, so one
    /// mistake does not hide the next.
    pub(crate) fn read(
        option: &str,
        keys: &'static [&'static str],
        positional: usize,
        input: Input,
        span: Span,
        errors: &mut Errors,
    ) -> Self {
        let mut fields = Self {
            option: option.to_owned(),
            keys,
            values: vec![None; keys.len()],
            span,
        };

        let args = match input {
            Input::Value(value) => vec![Arg::Positional(value)],
            Input::List(args) => args.items,
        };

        let mut next_positional = 0;
        for arg in args {
            match arg {
                Arg::Positional(value) => {
                    while next_positional < positional && fields.values[next_positional].is_some() {
                        next_positional += 1;
                    }
                    if next_positional < positional {
                        fields.values[next_positional] = Some(value);
                        next_positional += 1;
                    } else {
                        errors.push(value.span(), fields.too_many_positional(positional));
                    }
                }
                Arg::Named { key, value } => {
                    let Some(index) = fields.index_of(&key.name, key.span, errors) else {
                        continue;
                    };
                    if fields.values[index].is_some() {
                        errors.push(
                            key.span,
                            format!(
                                "`{}` is given twice in {}; keep one",
                                key.name, fields.option
                            ),
                        );
                    } else {
                        fields.values[index] = Some(value);
                    }
                }
                Arg::List { key, .. } => {
                    if fields.index_of(&key.name, key.span, errors).is_some() {
                        errors.push(
                            key.span,
                            format!(
                                "`{name}` takes a value in {option}: write `{name} = ...`",
                                name = key.name,
                                option = fields.option
                            ),
                        );
                    }
                }
            }
        }

        fields
    }

    fn index_of(&self, key: &str, span: Span, errors: &mut Errors) -> Option<usize> {
        let index = self.keys.iter().position(|k| *k == key);
        if index.is_none() {
            errors.push(span, unknown_key(key, &self.option, self.keys));
        }
        index
    }

    fn too_many_positional(&self, positional: usize) -> String {
        if positional == 0 {
            return format!(
                "{} takes only named arguments: {}",
                self.option,
                list_keys(self.keys)
            );
        }
        format!(
            "too many values for {}: it takes ({}) in this order, then named arguments",
            self.option,
            self.keys[..positional].join(", ")
        )
    }

    /// Takes the raw value of `key`, if it was given.
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        let index = self.keys.iter().position(|k| *k == key)?;
        self.values[index].take()
    }

    /// A string value.
    pub(crate) fn str(&mut self, key: &str, errors: &mut Errors) -> Option<(String, Span)> {
        let value = self.take(key)?;
        match value {
            Value::Str(lit) => {
                let text = lit.value();
                if text.trim().is_empty() {
                    errors.push(lit.span(), format!("`{key}` in {} is empty", self.option));
                    return None;
                }
                Some((text, lit.span()))
            }
            other => {
                errors.push(other.span(), self.wrong_type(key, "a string", &other));
                None
            }
        }
    }

    /// A required string value.
    pub(crate) fn required_str(
        &mut self,
        key: &str,
        errors: &mut Errors,
    ) -> Option<(String, Span)> {
        if !self.has(key) {
            errors.push(self.span, self.missing(key));
            return None;
        }
        self.str(key, errors)
    }

    /// A non-negative integer no larger than `u32::MAX`.
    pub(crate) fn u32(&mut self, key: &str, errors: &mut Errors) -> Option<(u32, Span)> {
        let value = self.take(key)?;
        match value {
            Value::Int { value, span } => match u32::try_from(value) {
                Ok(value) => Some((value, span)),
                Err(_) => {
                    errors.push(
                        span,
                        format!(
                            "`{key}` in {} must be a positive integer, got {value}",
                            self.option
                        ),
                    );
                    None
                }
            },
            other => {
                errors.push(other.span(), self.wrong_type(key, "an integer", &other));
                None
            }
        }
    }

    /// A required integer that must be at least `min`.
    pub(crate) fn required_u32_at_least(
        &mut self,
        key: &str,
        min: u32,
        errors: &mut Errors,
    ) -> Option<u32> {
        if !self.has(key) {
            errors.push(self.span, self.missing(key));
            return None;
        }
        let (value, span) = self.u32(key, errors)?;
        if value < min {
            errors.push(
                span,
                format!(
                    "`{key}` in {} must be at least {min}, got {value}",
                    self.option
                ),
            );
            return None;
        }
        Some(value)
    }

    /// A duration string within `min..=max`; the text is kept as written.
    pub(crate) fn duration(
        &mut self,
        key: &str,
        what: &str,
        min: std::time::Duration,
        max: Option<std::time::Duration>,
        errors: &mut Errors,
    ) -> Option<String> {
        let (text, span) = self.str(key, errors)?;
        match check::duration_within(&text, span, what, min, max) {
            Ok(_) => Some(text),
            Err(err) => {
                errors.add(err);
                None
            }
        }
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.keys
            .iter()
            .position(|k| *k == key)
            .is_some_and(|index| self.values[index].is_some())
    }

    pub(crate) fn missing(&self, key: &str) -> String {
        format!("{} needs `{key}`; add `{key} = ...`", self.option)
    }

    fn wrong_type(&self, key: &str, expected: &str, found: &Value) -> String {
        format!(
            "`{key}` in {} must be {expected}, found {}",
            self.option,
            found.describe()
        )
    }
}

/// "unknown key `x` in `#[y]`; did you mean `z`?" with the list of valid keys.
pub(crate) fn unknown_key(key: &str, option: &str, keys: &[&str]) -> String {
    let hint = match check::closest(key, keys) {
        Some(best) => format!("; did you mean `{best}`?"),
        None => String::new(),
    };
    format!(
        "unknown key `{key}` in {option}{hint} (expected {})",
        list_keys(keys)
    )
}

fn list_keys(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(tokens: &str, keys: &'static [&'static str], positional: usize) -> (Fields, Errors) {
        let args: Args = syn::parse_str(tokens).unwrap();
        let mut errors = Errors::default();
        let fields = Fields::read(
            "`#[rate_limit]`",
            keys,
            positional,
            Input::List(args),
            Span::call_site(),
            &mut errors,
        );
        (fields, errors)
    }

    const KEYS: &[&str] = &["limit", "period", "key"];

    #[test]
    fn fills_positional_slots_in_order_then_named_ones() {
        let (mut fields, errors) = read(r#"10, key = "event.data.id", period = "1h""#, KEYS, 2);
        let mut errors = errors;

        assert!(errors.is_empty());
        assert_eq!(fields.u32("limit", &mut errors).map(|v| v.0), Some(10));
        assert_eq!(
            fields.str("period", &mut errors).map(|v| v.0).as_deref(),
            Some("1h")
        );
        assert_eq!(
            fields.str("key", &mut errors).map(|v| v.0).as_deref(),
            Some("event.data.id")
        );
    }

    #[test]
    fn reports_unknown_keys_with_a_suggestion() {
        let (_, errors) = read(r#"limt = 3"#, KEYS, 2);

        assert_eq!(
            errors.messages(),
            [
                "unknown key `limt` in `#[rate_limit]`; did you mean `limit`? (expected `limit`, `period`, `key`)"
            ]
        );
    }

    #[test]
    fn reports_repeated_keys_surplus_values_and_wrong_types() {
        let (mut fields, mut errors) = read(r#"1, "1h", "x", limit = 2"#, KEYS, 2);
        fields.str("limit", &mut errors);

        assert_eq!(
            errors.messages(),
            [
                "too many values for `#[rate_limit]`: it takes (limit, period) in this order, then named arguments",
                "`limit` is given twice in `#[rate_limit]`; keep one",
                "`limit` in `#[rate_limit]` must be a string, found an integer",
            ]
        );
    }
}
