//! Canonical JSON, signatures and key hashes, from the protocol crate.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Serialises `value` as JCS (RFC 8785), the bytes the SDKs verify signatures over.
pub(crate) fn canonical_json(value: &Value) -> Vec<u8> {
    nestling_inngest_protocol::canonicalize_value(value).into_bytes()
}

/// `t=<unix seconds>&s=<hex HMAC-SHA256 of body + t>`.
pub(crate) fn sign(body: &[u8], key: &str, t: i64) -> String {
    nestling_inngest_protocol::sign(body, key, t)
}

/// The hashed form SDKs send as `Authorization: Bearer …` (the key itself when it is not hex).
pub(crate) fn hashed_key(key: &str) -> String {
    nestling_inngest_protocol::hashed_signing_key(key).unwrap_or_else(|_| key.to_owned())
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
        let v = json!({"b": [1, 2.5, 10.0], "a": {"z": null, "y": "é"}});
        assert_eq!(
            String::from_utf8(canonical_json(&v)).unwrap(),
            r#"{"a":{"y":"é","z":null},"b":[1,2.5,10]}"#
        );
    }
}
