//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! Call-request signatures are computed over the canonical form of the body, so the executor
//! must send canonical bytes and the SDK must canonicalise what it received before checking.
//! Canonical form: no whitespace; object members sorted by the UTF-16 code units of their
//! names; numbers written as ECMAScript's `Number.prototype.toString` writes the IEEE-754
//! double they denote; strings with only `"`, `\` and control characters escaped.
//!
//! [`canonicalize`] works on raw bytes with its own parser, so numbers are read with correct
//! rounding (serde_json's default float parser may be off by one unit in the last place) and
//! duplicate member names keep the last value, as `JSON.parse` does.

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::ProtocolError;

/// Deepest nesting accepted, to keep recursion bounded on hostile input.
const MAX_DEPTH: usize = 512;

/// Canonicalises a JSON document given as bytes.
///
/// # Errors
///
/// [`ProtocolError::InvalidJson`] with the byte offset, for input that is not a single valid
/// JSON value, holds a number too large for a double, or a lone UTF-16 surrogate.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::canonicalize;
///
/// let canonical = canonicalize(br#"{ "b": 1.50, "a": [1E3, "\u0041"] }"#).unwrap();
/// assert_eq!(canonical, r#"{"a":[1000,"A"],"b":1.5}"#);
/// ```
pub fn canonicalize(json: &[u8]) -> Result<String, ProtocolError> {
    let text = std::str::from_utf8(json).map_err(|e| ProtocolError::InvalidJson {
        offset: e.valid_up_to(),
        reason: "invalid UTF-8".to_owned(),
    })?;

    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    let mut out = String::with_capacity(json.len());

    parser.skip_whitespace();
    parser.value(&mut out, 0)?;
    parser.skip_whitespace();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("unexpected data after the JSON value"));
    }

    Ok(out)
}

/// Canonicalises a parsed JSON value.
///
/// Integers beyond ±2^53 are written as the nearest double, as JavaScript would. Prefer
/// [`canonicalize`] on the received bytes: serde_json's default float parser can read a
/// decimal one unit in the last place off, and the value then canonicalises differently.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::canonicalize_value;
/// use serde_json::json;
///
/// assert_eq!(canonicalize_value(&json!({"z": 1e30, "a": null})), r#"{"a":null,"z":1e+30}"#);
/// ```
pub fn canonicalize_value(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

/// Serialises any value and canonicalises the result.
///
/// # Errors
///
/// [`ProtocolError::Json`] if serialisation fails; [`ProtocolError::InvalidJson`] for
/// non-finite numbers.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use nestling_inngest_protocol::jcs::to_canonical_string;
///
/// let map: HashMap<&str, u32> = [("b", 2), ("a", 1)].into();
/// assert_eq!(to_canonical_string(&map).unwrap(), r#"{"a":1,"b":2}"#);
/// ```
pub fn to_canonical_string<T: Serialize + ?Sized>(value: &T) -> Result<String, ProtocolError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|source| ProtocolError::json("canonical JSON", source))?;
    canonicalize(&bytes)
}

/// Writes a double as ECMAScript's `Number.prototype.toString` does; `None` for NaN and
/// infinities, which JSON cannot hold.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::jcs::format_number;
///
/// assert_eq!(format_number(1e21).as_deref(), Some("1e+21"));
/// assert_eq!(format_number(0.000001).as_deref(), Some("0.000001"));
/// assert_eq!(format_number(-0.0).as_deref(), Some("0"));
/// assert_eq!(format_number(f64::NAN), None);
/// ```
pub fn format_number(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    if x == 0.0 {
        return Some("0".to_owned());
    }

    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }

    let (digits, exponent) = shortest_digits(x.abs())?;
    let k = i32::try_from(digits.len()).ok()?;
    let n = exponent + 1;

    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', usize::try_from(n - k).ok()?));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(usize::try_from(n).ok()?);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', usize::try_from(-n).ok()?));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        let _ = write!(out, "{}", (n - 1).abs());
    }

    Some(out)
}

/// The shortest digits that round-trip to `x` (> 0), and the decimal exponent of the first.
///
/// Rust's `{:e}` already writes the shortest round-tripping digits, closest to `x`; the only
/// difference from ECMAScript is an exact tie between two closest candidates, where
/// ECMAScript takes the even one and Rust rounds up. Ties need 16 or 17 digits (a double has
/// too much precision for a 15-digit tie), so only those are checked against the exact
/// decimal expansion of `x` (at most 767 significant digits).
fn shortest_digits(x: f64) -> Option<(String, i32)> {
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e')?;
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().ok()?;

    if digits.len() >= 16
        && let Some(even) = even_tie_digits(x, digits.len())
    {
        return Some(even);
    }
    Some((digits, exponent))
}

fn even_tie_digits(x: f64, k: usize) -> Option<(String, i32)> {
    let exact = format!("{x:.800e}");
    let (mantissa, exponent) = exact.split_once('e')?;
    let mut exponent: i32 = exponent.parse().ok()?;
    let all: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();

    let is_tie = all.get(k) == Some(&b'5') && all[k + 1..].iter().all(|&b| b == b'0');
    if !is_tie {
        return None;
    }

    let mut chosen = all[..k].to_vec();
    if (chosen[k - 1] - b'0') % 2 == 1 {
        // Round the lower candidate up to the even neighbour.
        let mut i = k;
        loop {
            i -= 1;
            if chosen[i] == b'9' {
                chosen[i] = b'0';
                if i == 0 {
                    chosen.insert(0, b'1');
                    exponent += 1;
                    break;
                }
            } else {
                chosen[i] += 1;
                break;
            }
        }
    }
    while chosen.len() > 1 && chosen.last() == Some(&b'0') {
        chosen.pop();
    }

    let digits = String::from_utf8(chosen).ok()?;
    let (first, rest) = digits.split_at(1);
    let check: f64 = format!("{first}.{rest}0e{exponent}").parse().ok()?;
    (check == x).then_some((digits, exponent))
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            // serde_json never holds a non-finite number.
            out.push_str(&format_number(x).unwrap_or_else(|| "null".to_owned()));
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| utf16_cmp(a.0, b.0));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// Orders names by UTF-16 code units, as RFC 8785 requires. UTF-8 byte order agrees with
/// it unless a character beyond U+FFFF (a 4-byte sequence, lead byte ≥ 0xF0) is involved.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    let astral = |s: &str| s.bytes().any(|b| b >= 0xF0);
    if astral(a) || astral(b) {
        a.encode_utf16().cmp(b.encode_utf16())
    } else {
        a.cmp(b)
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &str) -> ProtocolError {
        ProtocolError::InvalidJson {
            offset: self.pos,
            reason: reason.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, literal: &str, out: &mut String) -> Result<(), ProtocolError> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            out.push_str(literal);
            Ok(())
        } else {
            Err(self.error("invalid literal; expected null, true or false"))
        }
    }

    fn value(&mut self, out: &mut String, depth: usize) -> Result<(), ProtocolError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting is deeper than 512 levels"));
        }

        match self.peek() {
            None => Err(self.error("unexpected end of input; expected a value")),
            Some(b'n') => self.expect_literal("null", out),
            Some(b't') => self.expect_literal("true", out),
            Some(b'f') => self.expect_literal("false", out),
            Some(b'"') => {
                let s = self.string()?;
                write_string(&s, out);
                Ok(())
            }
            Some(b'[') => self.array(out, depth),
            Some(b'{') => self.object(out, depth),
            Some(b'-' | b'0'..=b'9') => self.number(out),
            Some(_) => Err(self.error("unexpected character; expected a value")),
        }
    }

    fn array(&mut self, out: &mut String, depth: usize) -> Result<(), ProtocolError> {
        self.pos += 1;
        out.push('[');
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            out.push(']');
            return Ok(());
        }

        loop {
            self.skip_whitespace();
            self.value(out, depth + 1)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    out.push(',');
                }
                Some(b']') => {
                    self.pos += 1;
                    out.push(']');
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, out: &mut String, depth: usize) -> Result<(), ProtocolError> {
        self.pos += 1;
        out.push('{');
        let body_start = out.len();

        // Members are written in place as they come; `members` remembers where each one's
        // `"name":value` text lies, so that only an unsorted object is rearranged.
        let mut members: Vec<(String, std::ops::Range<usize>)> = Vec::new();
        self.skip_whitespace();

        if self.peek() == Some(b'}') {
            self.pos += 1;
            out.push('}');
            return Ok(());
        }

        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string member name"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after member name"));
            }
            self.pos += 1;
            self.skip_whitespace();

            if !members.is_empty() {
                out.push(',');
            }
            let member_start = out.len();
            write_string(&key, out);
            out.push(':');
            self.value(out, depth + 1)?;
            members.push((key, member_start..out.len()));

            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("expected `,` or `}` in object")),
            }
        }

        let in_order = members
            .windows(2)
            .all(|pair| utf16_cmp(&pair[0].0, &pair[1].0) == Ordering::Less);
        if !in_order {
            // Stable sort, then keep the last of equal names (JSON.parse semantics).
            members.sort_by(|a, b| utf16_cmp(&a.0, &b.0));
            let mut deduped: Vec<(String, std::ops::Range<usize>)> =
                Vec::with_capacity(members.len());
            for member in members {
                match deduped.last_mut() {
                    Some(last) if last.0 == member.0 => *last = member,
                    _ => deduped.push(member),
                }
            }

            let written = out.split_off(body_start);
            for (i, (_, range)) in deduped.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let range = range.start - body_start..range.end - body_start;
                out.push_str(&written[range]);
            }
        }

        out.push('}');
        Ok(())
    }

    fn number(&mut self, out: &mut String) -> Result<(), ProtocolError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - from
        };

        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("expected a digit")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.error("expected a digit after the decimal point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("expected a digit in the exponent"));
            }
        }

        let literal = &self.text[start..self.pos];

        // Fast path: integers of up to 15 digits are exact doubles and print as themselves.
        let magnitude = literal.strip_prefix('-').unwrap_or(literal);
        if integer && magnitude.len() <= 15 {
            out.push_str(if magnitude == "0" { "0" } else { literal });
            return Ok(());
        }

        let value: f64 = literal.parse().map_err(|_| self.error("invalid number"))?;
        let Some(formatted) = format_number(value) else {
            self.pos = start;
            return Err(self.error("number is too large for a double"));
        };
        out.push_str(&formatted);
        Ok(())
    }

    fn string(&mut self) -> Result<String, ProtocolError> {
        self.pos += 1; // opening quote
        let mut s = String::new();

        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            s.push_str(&self.text[run_start..self.pos]);

            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(s);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut s)?;
                }
                Some(_) => return Err(self.error("unescaped control character in string")),
            }
        }
    }

    fn escape(&mut self, s: &mut String) -> Result<(), ProtocolError> {
        let Some(c) = self.peek() else {
            return Err(self.error("unterminated escape"));
        };
        self.pos += 1;
        match c {
            b'"' => s.push('"'),
            b'\\' => s.push('\\'),
            b'/' => s.push('/'),
            b'b' => s.push('\u{8}'),
            b'f' => s.push('\u{c}'),
            b'n' => s.push('\n'),
            b'r' => s.push('\r'),
            b't' => s.push('\t'),
            b'u' => {
                let unit = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&unit) {
                    if !self.bytes[self.pos..].starts_with(b"\\u") {
                        return Err(self.error("lone UTF-16 surrogate in string"));
                    }
                    self.pos += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error("lone UTF-16 surrogate in string"));
                    }
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..0xE000).contains(&unit) {
                    return Err(self.error("lone UTF-16 surrogate in string"));
                } else {
                    unit
                };
                let ch = char::from_u32(code).ok_or_else(|| self.error("invalid code point"))?;
                s.push(ch);
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape sequence"));
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ProtocolError> {
        let hex = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected 4 hex digits after \\u"))?;
        self.pos += 4;
        u32::from_str_radix(hex, 16).map_err(|_| self.error("expected 4 hex digits after \\u"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8785_section_3_2_2_example() {
        let input = r#"{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
        let expected = r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
        assert_eq!(canonicalize(input.as_bytes()).unwrap(), expected);

        // serde_json's default float parser reads 333333333.33333329 one unit in the last
        // place too low, which is why `canonicalize` has its own parser; values built from
        // correctly rounded doubles canonicalise correctly.
        let value = serde_json::json!({
            "numbers": [333_333_333.333_333_3_f64, 1e30, 4.50, 2e-3, 1e-27],
            "string": "\u{20ac}$\u{f}\nA'B\"\\\\\"/",
            "literals": [null, true, false],
        });
        assert_eq!(canonicalize_value(&value), expected);
    }

    #[test]
    fn rfc8785_section_3_2_3_sorting() {
        let input = r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"#;
        let canonical = canonicalize(input.as_bytes()).unwrap();
        let value: Value = serde_json::from_str(&canonical).unwrap();
        let names: Vec<&str> = value
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_str().unwrap())
            .collect();
        // serde_json's map does not keep order, so read the order back from the text.
        let mut positions: Vec<(usize, &str)> = names
            .iter()
            .map(|n| (canonical.find(n).unwrap(), *n))
            .collect();
        positions.sort();
        let order: Vec<&str> = positions.into_iter().map(|(_, n)| n).collect();
        assert_eq!(
            order,
            [
                "Carriage Return",
                "One",
                "Control",
                "Latin Small Letter O With Diaeresis",
                "Euro Sign",
                "Emoji: Grinning Face",
                "Hebrew Letter Dalet With Dagesh",
            ]
        );
        assert!(canonical.starts_with(r#"{"\r":"Carriage Return","1":"One""#));
    }

    #[test]
    fn rfc8785_appendix_b_numbers() {
        let cases: [(u64, &str); 24] = [
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, expected) in cases {
            let x = f64::from_bits(bits);
            assert_eq!(format_number(x).as_deref(), Some(expected), "{bits:#018x}");
            // And through the byte parser, from the shortest round-trip text.
            let text = format!("{x:e}");
            assert_eq!(canonicalize(text.as_bytes()).unwrap(), expected, "{text}");
        }
        assert_eq!(format_number(f64::from_bits(0x7fffffffffffffff)), None);
        assert_eq!(format_number(f64::from_bits(0x7ff0000000000000)), None);
    }

    #[test]
    fn utf16_order_differs_from_byte_order_beyond_the_bmp() {
        // U+1F600 sorts after U+FB33 by UTF-8 bytes (0xF0 > 0xEF) but before it by UTF-16
        // units (its high surrogate 0xD83D is below 0xFB33).
        assert_eq!(utf16_cmp("\u{1F600}", "\u{FB33}"), Ordering::Less);
        assert_eq!("\u{1F600}".cmp("\u{FB33}"), Ordering::Greater);
        assert_eq!(utf16_cmp("a", "b"), Ordering::Less);
        assert_eq!(
            canonicalize("{\"\u{FB33}\":1,\"\u{1F600}\":2,\"a\":3}".as_bytes()).unwrap(),
            "{\"a\":3,\"\u{1F600}\":2,\"\u{FB33}\":1}"
        );
    }

    #[test]
    fn nested_unsorted_objects_and_duplicates() {
        assert_eq!(
            canonicalize(br#"{"b":{"y":[{"d":1,"c":2}],"x":0},"a":{"k":1,"k":{"z":1,"a":2}}}"#)
                .unwrap(),
            r#"{"a":{"k":{"a":2,"z":1}},"b":{"x":0,"y":[{"c":2,"d":1}]}}"#
        );
    }

    #[test]
    fn integers_and_duplicates() {
        assert_eq!(
            canonicalize(b"12345678901234567890").unwrap(),
            "12345678901234567000"
        );
        assert_eq!(canonicalize(b"-0").unwrap(), "0");
        assert_eq!(
            canonicalize(b"1796292615604000000").unwrap(),
            "1796292615604000000"
        );
        assert_eq!(canonicalize(br#"{"a":1,"a":2}"#).unwrap(), r#"{"a":2}"#);
        assert_eq!(canonicalize(b" [ ] ").unwrap(), "[]");
        assert_eq!(
            canonicalize(br#""\u007f\u2028""#).unwrap(),
            "\"\u{7f}\u{2028}\""
        );
    }

    #[test]
    fn rejects_invalid_input_with_offsets() {
        let cases: [(&[u8], usize, &str); 11] = [
            (b"", 0, "end of input"),
            (b"{\"a\":1,}", 7, "member name"),
            (b"[1,]", 3, "expected a value"),
            (b"01", 1, "after the JSON value"),
            (b"1.", 2, "decimal point"),
            (b"1e", 2, "exponent"),
            (b"\"\\ud800\"", 7, "surrogate"),
            (b"\"a\nb\"", 2, "control character"),
            (b"1e400", 0, "too large"),
            (b"nul", 0, "literal"),
            (b"\xff", 0, "UTF-8"),
        ];
        for (input, offset, reason) in cases {
            let err = canonicalize(input).unwrap_err();
            let ProtocolError::InvalidJson {
                offset: o,
                reason: r,
            } = &err
            else {
                panic!("{err}");
            };
            assert_eq!(*o, offset, "{:?}: {err}", String::from_utf8_lossy(input));
            assert!(
                r.contains(reason),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
        let deep = "[".repeat(600) + &"]".repeat(600);
        assert!(canonicalize(deep.as_bytes()).is_err());
    }
}
