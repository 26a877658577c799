//! RFC 8785 number formatting against ECMAScript itself, and canonical bodies from the
//! fixtures.
//!
//! `tests/data/ecmascript_numbers.txt` was produced by Node.js 20 (`String(x)` for about 1,800
//! doubles: random bit patterns, every decade from 1e-30 to 1e30, integers past 2^53, and
//! values that fall exactly between two shortest candidates, where ECMAScript picks the even
//! one). Each line is `<IEEE-754 bits in hex> <String(x)>`.

use nestling_inngest_protocol::canonicalize;
use nestling_inngest_protocol::jcs::format_number;

#[test]
fn numbers_match_ecmascript() {
    let vectors = include_str!("data/ecmascript_numbers.txt");
    let mut checked = 0;

    for line in vectors.lines().filter(|l| !l.is_empty()) {
        let (bits, expected) = line.split_once(' ').expect("`<bits> <string>` lines");
        let x = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));

        assert_eq!(format_number(x).as_deref(), Some(expected), "{bits}");

        // The same through the byte parser, from ECMAScript's own text and from Rust's.
        assert_eq!(
            canonicalize(expected.as_bytes()).unwrap(),
            expected,
            "{bits}"
        );
        assert_eq!(
            canonicalize(format!("{x:e}").as_bytes()).unwrap(),
            expected,
            "{bits}"
        );
        checked += 1;
    }

    assert!(checked > 1500, "only {checked} vectors");
}

#[test]
fn every_fixture_body_canonicalises_to_the_same_value() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/js-sdk");
    let mut checked = 0;

    for version in ["v3", "v4"] {
        let dir = root.join(version);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("JS SDK fixtures missing at {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();

            for exchange in fixture["exchanges"].as_array().unwrap() {
                for message in [&exchange["request"], &exchange["response"]] {
                    let raw = message["body_raw"].as_str().unwrap_or("");
                    let Ok(original) = serde_json::from_str::<serde_json::Value>(raw) else {
                        continue;
                    };
                    let canonical = canonicalize(raw.as_bytes())
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    let reread: serde_json::Value = serde_json::from_str(&canonical).unwrap();
                    assert_eq!(reread, original, "{}", path.display());
                    assert_eq!(canonicalize(canonical.as_bytes()).unwrap(), canonical);
                    assert!(!canonical.contains('\n'), "no whitespace between tokens");
                    checked += 1;
                }
            }
        }
    }

    assert!(checked > 400, "only {checked} bodies");
}
