//! A small JSON writer that keeps keys in the order they are written.
//!
//! The function spec is built at compile time and embedded as a string literal; keeping the
//! official SDK's key order makes the registration body easy to compare by eye with theirs.

use std::fmt::Write as _;

/// A JSON value under construction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Str(String),
    Int(i64),
    Array(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    pub(crate) fn str(value: impl Into<String>) -> Self {
        Self::Str(value.into())
    }

    /// Starts an object; add members with [`Json::with`] and [`Json::with_opt`].
    pub(crate) fn object() -> Self {
        Self::Object(Vec::new())
    }

    pub(crate) fn with(mut self, key: &'static str, value: Json) -> Self {
        if let Self::Object(members) = &mut self {
            members.push((key, value));
        }
        self
    }

    pub(crate) fn with_opt(self, key: &'static str, value: Option<Json>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Str(value) => write_str(out, value),
            Self::Int(value) => {
                let _ = write!(out, "{value}");
            }
            Self::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_str(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_str(out: &mut String, value: &str) {
    out.push('"');
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if u32::from(ch) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(ch));
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_values_in_insertion_order() {
        let json = Json::object()
            .with("b", Json::Int(-3))
            .with("a", Json::Array(vec![Json::str("x"), Json::object()]))
            .with_opt("skipped", None)
            .with_opt("c", Some(Json::str("y")));

        assert_eq!(json.render(), r#"{"b":-3,"a":["x",{}],"c":"y"}"#);
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        let json = Json::str("say \"hi\"\\\n\u{1}");

        assert_eq!(json.render(), r#""say \"hi\"\\\n\u0001""#);
    }
}
