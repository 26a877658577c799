//! The `x-inngest-event-id-seed` header: `<millis>,<base64 of 10 random bytes>`.
//!
//! The server derives the ids of the events in a request from this seed, so a send retried
//! with the same seed is stored under the same ids instead of twice.

/// A fresh seed for a send made at `millis`.
pub(crate) fn event_id_seed(millis: i64) -> String {
    let entropy: [u8; 10] = rand::random();

    format!("{millis},{}", base64_standard(&entropy))
}

/// Standard base64 with padding. Ten bytes are all this module ever encodes, which is why a
/// few lines here are preferred to another dependency in the crate's manifest.
fn base64_standard(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);

    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }

    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_rfc_4648() {
        assert_eq!(base64_standard(b""), "");
        assert_eq!(base64_standard(b"f"), "Zg==");
        assert_eq!(base64_standard(b"fo"), "Zm8=");
        assert_eq!(base64_standard(b"foo"), "Zm9v");
        assert_eq!(base64_standard(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn seed_has_the_js_shape() {
        let seed = event_id_seed(1_796_292_615_377);
        let (millis, entropy) = seed.split_once(',').unwrap();
        assert_eq!(millis, "1796292615377");
        assert_eq!(entropy.len(), 16, "10 bytes → 16 chars with `==`");
        assert!(entropy.ends_with("=="));
    }
}
