//! Request and response signatures (`X-Inngest-Signature`) and the hashed signing key.
//!
//! The MAC is HMAC-SHA256 over `body ++ decimal timestamp`, keyed with the signing key minus
//! its `signkey-<env>-` prefix, used as the UTF-8 bytes of the hex text (not hex-decoded).
//! Request bodies are signed in their RFC 8785 canonical form; responses over their exact
//! bytes.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{ProtocolError, canonicalize};

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's timestamp may be from now, in either direction.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

const KEY_PREFIX: &str = "signkey-";

/// Splits a signing key into its `signkey-<word>-` prefix (possibly empty) and the rest.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::signature::split_key_prefix;
///
/// assert_eq!(split_key_prefix("signkey-prod-12ab"), ("signkey-prod-", "12ab"));
/// assert_eq!(split_key_prefix("12ab"), ("", "12ab"));
/// ```
pub fn split_key_prefix(key: &str) -> (&str, &str) {
    let Some(rest) = key.strip_prefix(KEY_PREFIX) else {
        return ("", key);
    };
    let word_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if word_len > 0 && rest.as_bytes().get(word_len) == Some(&b'-') {
        key.split_at(KEY_PREFIX.len() + word_len + 1)
    } else {
        ("", key)
    }
}

/// The signing key without its `signkey-<word>-` prefix.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::strip_key_prefix;
///
/// assert_eq!(strip_key_prefix("signkey-test-12345678"), "12345678");
/// ```
pub fn strip_key_prefix(key: &str) -> &str {
    split_key_prefix(key).1
}

/// Hex HMAC-SHA256 of `payload ++ timestamp` with the prefix-stripped key.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::signature::mac_hex;
///
/// assert_eq!(
///     mac_hex(br#"{"a":1}"#, "signkey-test-12345678", 1705586504),
///     "bd16d89641dac2e340a40e3800435b96c0e533c00bc7322c1eefae65d6ab6954",
/// );
/// ```
pub fn mac_hex(payload: &[u8], key: &str, timestamp: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(strip_key_prefix(key).as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(payload);
    mac.update(timestamp.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-Inngest-Signature` value for `payload` signed at `timestamp` (Unix seconds):
/// `t=<timestamp>&s=<mac>`.
///
/// Sign requests over their canonical JSON (see [`sign_json`]) and responses over their exact
/// bytes.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::sign;
///
/// let header = sign(b"", "signkey-test-12345678", 1705586504);
/// assert!(header.starts_with("t=1705586504&s="));
/// ```
pub fn sign(payload: &[u8], key: &str, timestamp: i64) -> String {
    format!("t={timestamp}&s={}", mac_hex(payload, key, timestamp))
}

/// Signs a JSON request body over its canonical form, as the executor must.
///
/// # Errors
///
/// [`ProtocolError::InvalidJson`] if the body is not JSON.
pub fn sign_json(body: &[u8], key: &str, timestamp: i64) -> Result<String, ProtocolError> {
    Ok(sign(signed_payload(body)?.as_bytes(), key, timestamp))
}

/// A parsed `X-Inngest-Signature` header.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::SignatureHeader;
///
/// let h = SignatureHeader::parse("t=1705586504&s=abcd").unwrap();
/// assert_eq!(h.timestamp, 1705586504);
/// assert!(SignatureHeader::parse("garbage").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// Unix seconds.
    pub timestamp: i64,
    /// Lowercase hex MAC.
    pub mac: String,
}

impl SignatureHeader {
    /// Parses `t=<unix seconds>&s=<hex>` (parameters in any order; others ignored).
    ///
    /// # Errors
    ///
    /// [`ProtocolError::SignatureMalformed`] saying which part is missing or wrong.
    pub fn parse(header: &str) -> Result<Self, ProtocolError> {
        let malformed = |reason: &str| ProtocolError::SignatureMalformed {
            reason: reason.to_owned(),
        };

        let mut timestamp = None;
        let mut mac = None;
        for pair in header.trim().split('&') {
            match pair.split_once('=') {
                Some(("t", value)) => timestamp = Some(value),
                Some(("s", value)) => mac = Some(value),
                _ => {}
            }
        }

        let timestamp = timestamp.ok_or_else(|| malformed("no `t=` timestamp"))?;
        let timestamp: i64 = timestamp
            .parse()
            .map_err(|_| malformed("`t` is not an integer number of seconds"))?;
        let mac = mac.ok_or_else(|| malformed("no `s=` signature"))?;
        if mac.is_empty() || !mac.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("`s` is not a hex string"));
        }

        Ok(Self {
            timestamp,
            mac: mac.to_ascii_lowercase(),
        })
    }
}

/// Which configured key verified a signature; sign the response with the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMatch {
    /// `INNGEST_SIGNING_KEY`.
    Primary,
    /// `INNGEST_SIGNING_KEY_FALLBACK`.
    Fallback,
}

/// The keys a signature is checked against: the primary, then the fallback.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{sign, KeyMatch, SigningKeys};
///
/// let keys = SigningKeys::new("signkey-test-aa").with_fallback("signkey-test-bb");
/// let header = sign(b"hello", "signkey-test-bb", 1000);
/// assert_eq!(keys.verify(Some(&header), b"hello", 1010).unwrap(), KeyMatch::Fallback);
/// assert_eq!(keys.key(KeyMatch::Fallback), "signkey-test-bb");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeys {
    primary: String,
    fallback: Option<String>,
    tolerance: Duration,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        let Self {
            primary: _,
            fallback,
            tolerance,
        } = self;
        f.debug_struct("SigningKeys")
            .field("primary", &"<redacted>")
            .field("fallback", &fallback.as_ref().map(|_| "<redacted>"))
            .field("tolerance", tolerance)
            .finish()
    }
}

impl SigningKeys {
    /// Keys with a primary key only and the default 5-minute tolerance.
    pub fn new(primary: impl Into<String>) -> Self {
        Self {
            primary: primary.into(),
            fallback: None,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Adds a fallback key.
    pub fn with_fallback(mut self, fallback: impl Into<String>) -> Self {
        self.fallback = Some(fallback.into());
        self
    }

    /// Sets how far the signature time may be from now.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The primary key.
    pub fn primary(&self) -> &str {
        &self.primary
    }

    /// The fallback key, if any.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The key a [`KeyMatch`] designates (the primary if no fallback is configured).
    pub fn key(&self, which: KeyMatch) -> &str {
        match which {
            KeyMatch::Primary => &self.primary,
            KeyMatch::Fallback => self.fallback.as_deref().unwrap_or(&self.primary),
        }
    }

    /// Verifies a signature header over `payload` (already in the signed form: canonical JSON
    /// for requests, exact bytes for responses), `now` being Unix seconds.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::SignatureMissing`], [`ProtocolError::SignatureMalformed`],
    /// [`ProtocolError::SignatureExpired`] or [`ProtocolError::SignatureMismatch`].
    pub fn verify(
        &self,
        header: Option<&str>,
        payload: &[u8],
        now: i64,
    ) -> Result<KeyMatch, ProtocolError> {
        let header = header
            .filter(|h| !h.trim().is_empty())
            .ok_or(ProtocolError::SignatureMissing)?;
        let parsed = SignatureHeader::parse(header)?;

        let skew = Duration::from_secs(now.abs_diff(parsed.timestamp));
        if skew > self.tolerance {
            return Err(ProtocolError::SignatureExpired {
                skew,
                tolerance: self.tolerance,
            });
        }

        let candidates = [
            Some((KeyMatch::Primary, self.primary.as_str())),
            self.fallback.as_deref().map(|k| (KeyMatch::Fallback, k)),
        ];
        let mut tried = 0;
        for (which, key) in candidates.into_iter().flatten() {
            tried += 1;
            let expected = mac_hex(payload, key, parsed.timestamp);
            if constant_time_eq(expected.as_bytes(), parsed.mac.as_bytes()) {
                return Ok(which);
            }
        }

        Err(ProtocolError::SignatureMismatch { keys_tried: tried })
    }

    /// Verifies the signature of a received request: the body is canonicalised first (an
    /// empty body signs the empty string), as both official SDKs do.
    ///
    /// # Errors
    ///
    /// As [`SigningKeys::verify`]; a body that is not JSON fails as a mismatch would, with
    /// [`ProtocolError::InvalidJson`].
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest_protocol::{sign, SigningKeys};
    ///
    /// let keys = SigningKeys::new("signkey-test-12345678");
    /// // Signed over the canonical form, sent with whitespace: still valid.
    /// let header = sign(br#"{"a":1,"b":2}"#, keys.primary(), 1000);
    /// assert!(keys.verify_request(Some(&header), b"{ \"b\": 2, \"a\": 1 }", 1000).is_ok());
    /// ```
    pub fn verify_request(
        &self,
        header: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<KeyMatch, ProtocolError> {
        if header.is_none_or(|h| h.trim().is_empty()) {
            return Err(ProtocolError::SignatureMissing);
        }
        let payload = signed_payload(body)?;
        self.verify(header, payload.as_bytes(), now)
    }
}

/// The bytes a request signature covers: the canonical JSON of the body, or nothing for an
/// empty body.
///
/// # Errors
///
/// [`ProtocolError::InvalidJson`] if a non-empty body is not JSON.
pub fn signed_payload(body: &[u8]) -> Result<String, ProtocolError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    canonicalize(body)
}

/// The `Authorization: Bearer` value for calls to the Inngest API: the key's prefix followed
/// by the hex SHA-256 of the hex-decoded rest.
///
/// # Errors
///
/// [`ProtocolError::InvalidSigningKey`] if the part after the prefix is not hex.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::hashed_signing_key;
///
/// assert_eq!(
///     hashed_signing_key("signkey-prod-12345678").unwrap(),
///     "signkey-prod-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c",
/// );
/// ```
pub fn hashed_signing_key(key: &str) -> Result<String, ProtocolError> {
    let (prefix, rest) = split_key_prefix(key);
    let bytes = hex::decode(rest).map_err(|e| ProtocolError::InvalidSigningKey {
        reason: format!("the part after the prefix is not hex ({e})"),
    })?;
    Ok(format!("{prefix}{}", hex::encode(Sha256::digest(&bytes))))
}

/// The `event_key_hash` of introspection: hex SHA-256 of the event key's text.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::signature::event_key_hash;
///
/// assert_eq!(event_key_hash("test-event-key-0123456789").len(), 64);
/// ```
pub fn event_key_hash(event_key: &str) -> String {
    hex::encode(Sha256::digest(event_key.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "signkey-test-12345678";

    #[test]
    fn reference_mac_vector() {
        assert_eq!(
            sign(br#"{"a":1}"#, KEY, 1_705_586_504),
            "t=1705586504&s=bd16d89641dac2e340a40e3800435b96c0e533c00bc7322c1eefae65d6ab6954"
        );
        // The prefix does not take part in the MAC.
        assert_eq!(mac_hex(b"x", KEY, 1), mac_hex(b"x", "12345678", 1));
    }

    #[test]
    fn prefix_rule() {
        assert_eq!(
            split_key_prefix("signkey-branch_1-ab"),
            ("signkey-branch_1-", "ab")
        );
        assert_eq!(split_key_prefix("signkey--ab"), ("", "signkey--ab"));
        assert_eq!(
            split_key_prefix("signkey-test-a-b"),
            ("signkey-test-", "a-b")
        );
        assert_eq!(strip_key_prefix("deadbeef"), "deadbeef");
    }

    #[test]
    fn fixture_hashed_key() {
        let key = "signkey-test-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            hashed_signing_key(key).unwrap(),
            "signkey-test-4884fdaafea47c29fea7159d0daddd9c085d6200e1359e85bb81736af6b7c837"
        );
        assert!(hashed_signing_key("signkey-test-xyz").is_err());
    }

    #[test]
    fn every_failure_reason() {
        let keys = SigningKeys::new(KEY);
        let body = b"{}";
        let good = sign(body, KEY, 1000);

        assert_eq!(
            keys.verify(Some(&good), body, 1000).unwrap(),
            KeyMatch::Primary
        );
        assert_eq!(
            keys.verify(Some(&good), body, 1300).unwrap(),
            KeyMatch::Primary
        );

        assert!(matches!(
            keys.verify(None, body, 1000),
            Err(ProtocolError::SignatureMissing)
        ));
        assert!(matches!(
            keys.verify(Some(""), body, 1000),
            Err(ProtocolError::SignatureMissing)
        ));
        assert!(matches!(
            keys.verify(Some("garbage"), body, 1000),
            Err(ProtocolError::SignatureMalformed { .. })
        ));
        assert!(matches!(
            keys.verify(Some("t=abc&s=00"), body, 1000),
            Err(ProtocolError::SignatureMalformed { .. })
        ));
        assert!(matches!(
            keys.verify(Some("t=1000&s=xyz"), body, 1000),
            Err(ProtocolError::SignatureMalformed { .. })
        ));
        assert!(matches!(
            keys.verify(Some(&good), body, 1301),
            Err(ProtocolError::SignatureExpired { .. })
        ));
        assert!(matches!(
            keys.verify(Some(&good), body, 699),
            Err(ProtocolError::SignatureExpired { .. })
        ));
        assert!(matches!(
            keys.verify(Some(&good), b"{ }", 1000),
            Err(ProtocolError::SignatureMismatch { keys_tried: 1 })
        ));
        let other = sign(body, "signkey-test-99", 1000);
        let both = keys.with_fallback("signkey-test-88");
        assert!(matches!(
            both.verify(Some(&other), body, 1000),
            Err(ProtocolError::SignatureMismatch { keys_tried: 2 })
        ));
    }

    #[test]
    fn requests_are_verified_over_canonical_json() {
        let keys = SigningKeys::new(KEY);
        let raw = b"{\n  \"b\": 1.50,\n  \"a\": true\n}";
        let over_raw = sign(raw, KEY, 1000);
        let over_canonical = sign_json(raw, KEY, 1000).unwrap();
        assert!(keys.verify_request(Some(&over_raw), raw, 1000).is_err());
        assert!(
            keys.verify_request(Some(&over_canonical), raw, 1000)
                .is_ok()
        );

        let empty = sign(b"", KEY, 1000);
        assert!(keys.verify_request(Some(&empty), b"", 1000).is_ok());
        assert!(matches!(
            keys.verify_request(Some(&empty), b"{", 1000),
            Err(ProtocolError::InvalidJson { .. })
        ));
    }

    #[test]
    fn debug_hides_keys() {
        let keys = SigningKeys::new(KEY).with_fallback("signkey-test-99");
        let text = format!("{keys:?}");
        assert!(!text.contains("12345678") && !text.contains("99"), "{text}");
    }
}
