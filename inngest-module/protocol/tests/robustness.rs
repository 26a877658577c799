//! Hostile input never panics: every parser answers with a value or an error.

use chrono::{TimeZone, Utc};
use nestling_inngest_protocol::headers::parse_retry_after;
use nestling_inngest_protocol::{
    CallRequest, MemoizedStep, Op, SignatureHeader, SigningKeys, canonicalize, parse_duration,
    parse_go_duration, validate_cron,
};
use serde_json::value::RawValue;

/// Deterministic xorshift, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let len = u64::try_from(items.len()).unwrap();
        items[usize::try_from(self.next() % len).unwrap()]
    }

    /// A string built from protocol-ish fragments, including multi-byte characters.
    fn text(&mut self, fragments: &[&str]) -> String {
        let parts = self.next() % 12;
        (0..parts).map(|_| self.pick(fragments)).collect()
    }
}

const TIME_BITS: &[&str] = &[
    "0",
    "1",
    "9",
    "99999999999999999999",
    ".",
    "-",
    "+",
    "ns",
    "us",
    "µs",
    "μs",
    "ms",
    "s",
    "m",
    "h",
    "d",
    "w",
    "x",
    " ",
    "é",
    "😀",
    "1.5",
    "e",
];
const CRON_BITS: &[&str] = &[
    "*",
    "?",
    "/",
    "-",
    ",",
    " ",
    "0",
    "5",
    "59",
    "60",
    "31",
    "12",
    "7",
    "mon",
    "JAN",
    "L",
    "#",
    "@daily",
    "TZ=",
    "CRON_TZ=",
    "Europe/Paris",
    "Nope/Zone",
    "😀",
    "\t",
];
const JSON_BITS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    "\\u",
    "d800",
    "dc00",
    "00e9",
    "a",
    "1",
    "-",
    "0",
    ".",
    "e",
    "E",
    "+",
    "1e400",
    "null",
    "true",
    "fals",
    " ",
    "\n",
    "\u{1}",
    "é",
    "😀",
    "\"data\"",
    "\"error\"",
    "\"input\"",
    "\"type\"",
];
const HEADER_BITS: &[&str] = &["t=", "s=", "&", "=", "1000", "abc", "-1", "é", "ff", " "];

#[test]
fn parsers_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let keys = SigningKeys::new("signkey-test-00ff").with_fallback("signkey-test-ff00");
    let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();

    for _ in 0..10_000 {
        let time = rng.text(TIME_BITS);
        let _ = parse_duration(&time);
        let _ = parse_go_duration(&time);
        let _ = parse_retry_after(&time, now);

        let cron = rng.text(CRON_BITS);
        let _ = validate_cron(&cron);

        let json = rng.text(JSON_BITS);
        let _ = canonicalize(json.as_bytes());
        let _ = CallRequest::from_slice(json.as_bytes());
        let _ = serde_json::from_str::<Vec<Op>>(&json);
        if let Ok(raw) = RawValue::from_string(json.clone()) {
            let _ = MemoizedStep::parse(&raw);
        }

        let header = rng.text(HEADER_BITS);
        let _ = SignatureHeader::parse(&header);
        let _ = keys.verify_request(Some(&header), json.as_bytes(), 1000);
    }
}

#[test]
fn invalid_utf8_and_deep_nesting_are_errors() {
    assert!(canonicalize(b"\"\xc3\"").is_err());
    let deep = "[".repeat(100_000);
    assert!(canonicalize(deep.as_bytes()).is_err());
    assert!(CallRequest::from_slice(deep.as_bytes()).is_err());
}
