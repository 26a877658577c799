//! The token grammar shared by every attribute: a comma-separated list of arguments.
//!
//! An argument is a positional value (`"user.created"`, `3`, `handle_failure`, `["a", "b"]`),
//! a named value (`key = value`) or a nested list (`key(...)`). Keys may be Rust keywords, so
//! `if = "..."` and `match = "data.id"` read as they do in the official SDKs.
//!
//! Keeping one grammar means `#[concurrency(limit = 5)]` and
//! `#[function(concurrency(limit = 5))]` are parsed by the same code.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitBool, LitInt, LitStr, Token, bracketed, parenthesized};

/// A key, which may be a keyword such as `if` or `match`.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) span: Span,
}

/// A value given to an argument.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Str(LitStr),
    Int { value: i64, span: Span },
    Bool(LitBool),
    Ident(Ident),
    Array { items: Vec<Value>, span: Span },
}

impl Value {
    pub(crate) fn span(&self) -> Span {
        match self {
            Self::Str(lit) => lit.span(),
            Self::Int { span, .. } | Self::Array { span, .. } => *span,
            Self::Bool(lit) => lit.span,
            Self::Ident(ident) => ident.span(),
        }
    }

    /// What the value is, for messages such as "expected a string, found an integer".
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Self::Str(_) => "a string",
            Self::Int { .. } => "an integer",
            Self::Bool(_) => "a boolean",
            Self::Ident(_) => "a name",
            Self::Array { .. } => "a list",
        }
    }
}

/// One argument of an attribute.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// `"value"`, `3`, `name`, `[..]`
    Positional(Value),
    /// `key = value`
    Named { key: Key, value: Value },
    /// `key(...)`
    List { key: Key, args: Args },
}

impl Arg {
    pub(crate) fn span(&self) -> Span {
        match self {
            Self::Positional(value) => value.span(),
            Self::Named { key, value } => key.span.join(value.span()).unwrap_or(key.span),
            Self::List { key, args } => key.span.join(args.span).unwrap_or(key.span),
        }
    }
}

/// The arguments between the parentheses of an attribute.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    pub(crate) items: Vec<Arg>,
    /// The span of the whole list, used when something is missing from it.
    pub(crate) span: Span,
}

impl Args {
    pub(crate) fn empty(span: Span) -> Self {
        Self {
            items: Vec::new(),
            span,
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let span = input.span();
        let mut items = Vec::new();

        while !input.is_empty() {
            items.push(parse_arg(input)?);
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>().map_err(|err| {
                syn::Error::new(err.span(), "expected `,` between attribute arguments")
            })?;
        }

        Ok(Self { items, span })
    }
}

fn parse_arg(input: ParseStream<'_>) -> syn::Result<Arg> {
    let is_value = input.peek(syn::Lit) || input.peek(Token![-]) || input.peek(syn::token::Bracket);
    if is_value {
        return parse_value(input).map(Arg::Positional);
    }

    let ident = input.call(Ident::parse_any).map_err(|err| {
        syn::Error::new(
            err.span(),
            "expected an argument: a value such as \"...\" or 3, `key = value` or `key(...)`",
        )
    })?;
    let key = Key {
        name: ident.unraw().to_string(),
        span: ident.span(),
    };

    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        let value = parse_value(input)?;
        return Ok(Arg::Named { key, value });
    }

    if input.peek(syn::token::Paren) {
        let content;
        let parens = parenthesized!(content in input);
        let mut args: Args = content.parse()?;
        args.span = parens.span.join();
        return Ok(Arg::List { key, args });
    }

    Ok(Arg::Positional(Value::Ident(ident)))
}

fn parse_value(input: ParseStream<'_>) -> syn::Result<Value> {
    if input.peek(syn::token::Bracket) {
        let content;
        let brackets = bracketed!(content in input);
        let mut items = Vec::new();
        while !content.is_empty() {
            items.push(parse_value(&content)?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        return Ok(Value::Array {
            items,
            span: brackets.span.join(),
        });
    }

    if input.peek(Token![-]) {
        let minus: Token![-] = input.parse()?;
        let lit: LitInt = input.parse()?;
        let value = lit.base10_parse::<i64>()?;
        let span = minus.span.join(lit.span()).unwrap_or(lit.span());
        return Ok(Value::Int {
            value: -value,
            span,
        });
    }

    if input.peek(LitStr) {
        return input.parse().map(Value::Str);
    }
    if input.peek(LitInt) {
        let lit: LitInt = input.parse()?;
        let value = lit.base10_parse::<i64>()?;
        return Ok(Value::Int {
            value,
            span: lit.span(),
        });
    }
    if input.peek(LitBool) {
        return input.parse().map(Value::Bool);
    }
    if input.peek(Ident::peek_any) {
        return input.call(Ident::parse_any).map(Value::Ident);
    }

    let span = if input.is_empty() {
        input.span()
    } else {
        input
            .cursor()
            .token_tree()
            .map_or(input.span(), |(tt, _)| tt.span())
    };
    Err(syn::Error::new(
        span,
        "expected a value: a string such as \"5m\", an integer, `true`/`false`, a name or a list `[...]`",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: &str) -> syn::Result<Args> {
        syn::parse_str(tokens)
    }

    #[test]
    fn parses_positional_named_and_nested_arguments() {
        let args = parse(r#""user.created", if = "event.data.plan == 'pro'", concurrency(limit = 5), retries = -1, handler, events = ["a", "b"]"#).unwrap();

        assert_eq!(args.items.len(), 6);
        assert!(
            matches!(&args.items[0], Arg::Positional(Value::Str(s)) if s.value() == "user.created")
        );
        assert!(matches!(&args.items[1], Arg::Named { key, .. } if key.name == "if"));
        let Arg::List { key, args: nested } = &args.items[2] else {
            panic!("expected a nested list, got {:?}", args.items[2]);
        };
        assert_eq!(key.name, "concurrency");
        assert!(
            matches!(&nested.items[0], Arg::Named { key, value: Value::Int { value: 5, .. } } if key.name == "limit")
        );
        assert!(matches!(
            &args.items[3],
            Arg::Named {
                value: Value::Int { value: -1, .. },
                ..
            }
        ));
        assert!(matches!(&args.items[4], Arg::Positional(Value::Ident(i)) if i == "handler"));
        assert!(
            matches!(&args.items[5], Arg::Named { value: Value::Array { items, .. }, .. } if items.len() == 2)
        );
    }

    #[test]
    fn accepts_keywords_as_keys_and_a_trailing_comma() {
        let args = parse(r#"event = "a", match = "data.id","#).unwrap();

        assert!(matches!(&args.items[1], Arg::Named { key, .. } if key.name == "match"));
    }

    #[test]
    fn rejects_a_missing_comma_and_a_missing_value() {
        let err = parse(r#""a" "b""#).unwrap_err();
        assert!(err.to_string().contains("expected `,`"), "{err}");

        let err = parse("limit = ").unwrap_err();
        assert!(err.to_string().contains("expected a value"), "{err}");
    }
}
