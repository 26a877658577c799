//! Canonical JSON (RFC 8785) and request signatures.
//
// These belong in `nestling-inngest-protocol`; they live here until that crate exposes them,
// and then this module should re-export the crate's versions.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Serialises `value` as JCS: sorted keys, no whitespace, ECMAScript number forms.
pub(crate) fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out.into_bytes()
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => out.push_str(&value.to_string()),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e21 {
                    out.push_str(&format!("{f:.0}"));
                } else {
                    let s = n.to_string();
                    match s.split_once('e') {
                        Some((m, e)) if !e.starts_with('-') && !e.starts_with('+') => {
                            out.push_str(m);
                            out.push_str("e+");
                            out.push_str(e);
                        }
                        _ => out.push_str(&s),
                    }
                }
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // JCS orders keys by UTF-16 code units; this sorts by them explicitly.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

/// The signing key without its `signkey-<env>-` prefix.
fn strip_prefix(key: &str) -> &str {
    if let Some(rest) = key.strip_prefix("signkey-")
        && let Some(i) = rest.find('-')
    {
        let word = &rest[..i];
        if !word.is_empty() && word.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return &rest[i + 1..];
        }
    }
    key
}

/// `t=<unix seconds>&s=<hex HMAC-SHA256 of body + t>`, keyed with the prefix-less key's text.
pub(crate) fn sign(body: &[u8], key: &str, t: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(strip_prefix(key).as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    mac.update(t.to_string().as_bytes());
    format!("t={t}&s={}", hex::encode(mac.finalize().into_bytes()))
}

/// The hashed form SDKs send as `Authorization: Bearer …`.
pub(crate) fn hashed_key(key: &str) -> String {
    let bare = strip_prefix(key);
    let prefix = &key[..key.len() - bare.len()];
    let bytes = hex::decode(bare).unwrap_or_else(|_| bare.as_bytes().to_vec());
    format!("{prefix}{}", hex::encode(Sha256::digest(bytes)))
}

/// Hex SHA-256 of bytes (sync checksums).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signs_like_the_sdks() {
        let s = sign(br#"{"a":1}"#, "signkey-test-12345678", 1_705_586_504);
        assert_eq!(
            s,
            "t=1705586504&s=bd16d89641dac2e340a40e3800435b96c0e533c00bc7322c1eefae65d6ab6954"
        );
    }

    #[test]
    fn hashes_keys_like_the_sdks() {
        assert_eq!(
            hashed_key("signkey-prod-12345678"),
            "signkey-prod-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
    }

    #[test]
    fn canonicalises() {
        let v = json!({"b": [1, 2.5, 1e21, 10.0], "a": {"z": null, "y": "é"}});
        assert_eq!(
            String::from_utf8(canonical_json(&v)).unwrap(),
            r#"{"a":{"y":"é","z":null},"b":[1,2.5,1e+21,10]}"#
        );
    }
}
