//! Step id hashing, as the official SDKs do it.
//!
//! The executor only ever sees hashed step ids: the lowercase hex SHA-1 of the id the user gave
//! the step. When one id is used several times in a run, the n-th reuse hashes `"<id>:<n>"`.
//!
//! Inside one execution the SDK compares these ids for every memoised step, so they are kept
//! as their 20-byte digest ([`StepHash`]) and only written as hex into the op that goes on the
//! wire: comparing and hashing 20 bytes costs far less than building a 40-character string per
//! step. Maps keyed by digests use [`StepHashState`], a seeded multiply-fold hasher, instead of
//! the standard library's SipHash: the keys are already uniformly distributed SHA-1 output.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;

use sha1::{Digest, Sha1};

/// Hashed id of the op that reports a function's completion (`RunComplete`) and of
/// function-level error ops: `sha1("complete")`.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{hash_step_id, COMPLETE_STEP_ID};
///
/// assert_eq!(COMPLETE_STEP_ID, hash_step_id("complete"));
/// ```
pub const COMPLETE_STEP_ID: &str = "0737c22d3bfae812339732d14d8c7dbd6dc4e09c";

/// The `stepId` query value that asks the SDK to discover steps rather than run a given one.
pub const DISCOVERY_STEP_ID: &str = "step";

/// Separator between a repeated step id and its index (`"loop:1"`).
pub const STEP_INDEX_SEPARATOR: char = ':';

/// Hashes a step id: lowercase hex SHA-1 of its UTF-8 bytes.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::hash_step_id;
///
/// assert_eq!(hash_step_id("my-step-id"), "e7d8a2f140845095749d60246ff1110c9d01d76a");
/// ```
pub fn hash_step_id(id: &str) -> String {
    StepHash::of(id).to_string()
}

/// A hashed step id as its 20-byte SHA-1 digest.
///
/// It displays as the lowercase hex the executor sends and expects ([`hash_step_id`]);
/// [`StepHash::from_hex`] reads that form back.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{StepHash, hash_step_id};
///
/// let hash = StepHash::of("my-step-id");
/// assert_eq!(hash.to_string(), hash_step_id("my-step-id"));
/// assert_eq!(StepHash::from_hex(&hash.to_string()), Some(hash));
///
/// let mut buf = [0; 40];
/// assert_eq!(hash.encode_hex(&mut buf), "e7d8a2f140845095749d60246ff1110c9d01d76a");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StepHash([u8; 20]);

impl StepHash {
    /// The digest of a step id (or of a repeat's `"<id>:<n>"` key).
    pub fn of(key: &str) -> Self {
        Self(Sha1::digest(key.as_bytes()).into())
    }

    /// Reads the hex form the executor uses: exactly 40 lowercase hex digits.
    ///
    /// Anything else (uppercase digits included) gives `None`: such a string can never equal
    /// a hashed id this SDK produces, so it must not match one either.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 40 {
            return None;
        }

        let mut digest = [0_u8; 20];
        for (out, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
            let (high, low) = (
                HEX_VALUES[usize::from(pair[0])],
                HEX_VALUES[usize::from(pair[1])],
            );
            if high > 0x0f || low > 0x0f {
                return None;
            }
            *out = (high << 4) | low;
        }
        Some(Self(digest))
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Writes the lowercase hex form into `buf` and returns it, without allocating.
    pub fn encode_hex<'b>(&self, buf: &'b mut [u8; 40]) -> &'b str {
        // 40 bytes is exactly twice the digest, the only length `hex` refuses to fill otherwise,
        // and only ASCII hex digits are written.
        match hex::encode_to_slice(self.0, buf) {
            Ok(()) => std::str::from_utf8(buf).unwrap_or_default(),
            Err(_) => "",
        }
    }
}

/// The value of each lowercase hex digit by its byte, `0xff` for every other byte: every key of
/// a request's memo is read through it, and a table lookup beats a branch per digit.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        table[b'a' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    table
};

impl fmt::Display for StepHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0; 40];
        f.write_str(self.encode_hex(&mut buf))
    }
}

impl fmt::Debug for StepHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StepHash({self})")
    }
}

impl Hash for StepHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The bytes alone: a fixed-size key needs no length prefix.
        state.write(&self.0);
    }
}

/// A map keyed by step digests, with the fast [`StepHashState`] hasher.
pub type StepHashMap<V> = HashMap<StepHash, V, StepHashState>;

/// A set of step digests, with the fast [`StepHashState`] hasher.
pub type StepHashSet = HashSet<StepHash, StepHashState>;

/// Builds the hasher of [`StepHashMap`] and [`StepHashSet`].
///
/// SHA-1 digests are uniformly distributed already, so the hasher only has to fold their
/// bytes into a `u64`: a few 128-bit multiplies instead of SipHash's rounds over every byte.
/// The fold is seeded once per process from the standard library's random source, so a
/// request whose memo keys were chosen to share a bucket cannot be prepared in advance (the
/// keys of a call request are the caller's choice, and in dev mode nobody signs them).
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{StepHash, StepHashMap};
///
/// let mut memo = StepHashMap::default();
/// memo.insert(StepHash::of("fetch"), "memoised");
/// assert_eq!(memo.get(&StepHash::of("fetch")), Some(&"memoised"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StepHashState {
    seeds: [u64; 3],
}

impl Default for StepHashState {
    fn default() -> Self {
        static SEEDS: OnceLock<[u64; 3]> = OnceLock::new();
        let seeds = *SEEDS.get_or_init(|| {
            let random = std::collections::hash_map::RandomState::new();
            // Odd multipliers keep every input bit in play.
            [0_u64, 1, 2].map(|i| random.hash_one(i) | 1)
        });

        Self { seeds }
    }
}

impl BuildHasher for StepHashState {
    type Hasher = StepHasher;

    fn build_hasher(&self) -> StepHasher {
        StepHasher {
            acc: self.seeds[0],
            seeds: [self.seeds[1], self.seeds[2]],
        }
    }
}

/// The hasher [`StepHashState`] builds.
#[derive(Debug, Clone)]
pub struct StepHasher {
    acc: u64,
    seeds: [u64; 2],
}

/// The high and low halves of a 128-bit product, xored: every input bit reaches every output
/// bit.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

impl Hasher for StepHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0; 8];
            le.copy_from_slice(word);
            self.acc = fold(self.acc ^ u64::from_le_bytes(le), self.seeds[0]);
        }

        let tail = words.remainder();
        if !tail.is_empty() {
            let mut le = [0; 8];
            le[..tail.len()].copy_from_slice(tail);
            // The length goes into the spare top byte so that short tails differ from padding.
            le[7] ^= tail.len() as u8;
            self.acc = fold(self.acc ^ u64::from_le_bytes(le), self.seeds[0]);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.acc = fold(self.acc ^ n, self.seeds[0]);
    }

    fn finish(&self) -> u64 {
        fold(self.acc, self.seeds[1])
    }
}

/// One step occurrence as the SDK reports it.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::StepIdCounter;
///
/// let mut counter = StepIdCounter::new();
/// let second = { counter.next("fetch"); counter.next("fetch") };
/// assert_eq!(second.key, "fetch:1");
/// assert_eq!(second.index, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepId {
    /// The id the user gave (`userland.id` in an op).
    pub id: String,
    /// 0 for the first use, n for the n-th reuse (`userland.index`, omitted when 0).
    pub index: u32,
    /// The string that was hashed: `id`, or `id:index` for a reuse.
    pub key: String,
    /// The hashed id sent on the wire.
    pub hashed: String,
}

/// One step occurrence, as digests: what [`StepIdCounter::next_hashed`] hands out.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{StepHash, StepIdCounter};
///
/// let mut counter = StepIdCounter::new();
/// counter.next_hashed("fetch");
/// let second = counter.next_hashed("fetch");
/// assert_eq!((second.hash, second.index), (StepHash::of("fetch:1"), 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashedStep {
    /// The digest of the step's key (`id`, or `id:index` for a reuse).
    pub hash: StepHash,
    /// 0 for the first use, n for the n-th reuse.
    pub index: u32,
}

/// Hands out step ids for one execution, applying the repeat rule of the official SDKs.
///
/// The first use of an id hashes the id itself; later uses take the lowest index `n ≥ 1` for
/// which `"<id>:<n>"` has not been used yet in this execution (so an explicit step named
/// `"a:1"` is never shadowed by the second use of `"a"`).
///
/// It remembers the digests of the keys it handed out, not the keys: a digest stands for its
/// key (SHA-1 collisions aside), so [`next_hashed`](Self::next_hashed) allocates nothing for
/// a first use and formats `"<id>:<n>"` only for a reuse, into a buffer it keeps.
///
/// # Examples
///
/// ```
/// use nestling_inngest_protocol::{hash_step_id, StepIdCounter};
///
/// let mut counter = StepIdCounter::new();
/// let keys: Vec<String> = (0..3).map(|_| counter.next("loop-step").key).collect();
/// assert_eq!(keys, ["loop-step", "loop-step:1", "loop-step:2"]);
/// assert_eq!(counter.next("other").hashed, hash_step_id("other"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct StepIdCounter {
    /// Digests of every key handed out.
    used: StepHashSet,
    /// By the digest of an id used more than once: the index to try first for its next use.
    next_index: StepHashMap<u32>,
    /// Where a reuse's `"<id>:<n>"` key is formatted.
    key: String,
}

impl StepIdCounter {
    /// Creates an empty counter (one per execution).
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates an empty counter with room for `steps` step occurrences (the number of
    /// memoised steps is a good guess: each of them is claimed once).
    pub fn with_capacity(steps: usize) -> Self {
        Self {
            used: StepHashSet::with_capacity_and_hasher(steps, StepHashState::default()),
            ..Self::default()
        }
    }

    /// Returns the id for the next occurrence of `id`, with its key and hex hash.
    pub fn next(&mut self, id: &str) -> StepId {
        let HashedStep { hash, index } = self.next_hashed(id);
        let key = if index == 0 {
            id.to_owned()
        } else {
            format!("{id}{STEP_INDEX_SEPARATOR}{index}")
        };

        StepId {
            id: id.to_owned(),
            index,
            key,
            hashed: hash.to_string(),
        }
    }

    /// Returns the digest and index of the next occurrence of `id`, as [`next`](Self::next)
    /// would, without building its strings.
    pub fn next_hashed(&mut self, id: &str) -> HashedStep {
        let hash = StepHash::of(id);
        if self.used.insert(hash) {
            return HashedStep { hash, index: 0 };
        }

        let mut index = self.next_index.get(&hash).copied().unwrap_or(1);
        let repeat = loop {
            self.key.clear();
            // Writing into a String cannot fail.
            let _ = write!(self.key, "{id}{STEP_INDEX_SEPARATOR}{index}");
            let candidate = StepHash::of(&self.key);
            if self.used.insert(candidate) {
                break candidate;
            }
            index += 1;
        };
        self.next_index.insert(hash, index + 1);

        HashedStep {
            hash: repeat,
            index,
        }
    }

    /// Number of step occurrences handed out so far.
    pub fn len(&self) -> usize {
        self.used.len()
    }

    /// Whether no step id was handed out yet.
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        assert_eq!(
            hash_step_id("my-step-id"),
            "e7d8a2f140845095749d60246ff1110c9d01d76a"
        );
        assert_eq!(
            hash_step_id("my-step-id:1"),
            "f47c6228c581af870aa285200cf95ec3ac59bb6a"
        );
        assert_eq!(
            hash_step_id("first"),
            "e0996a37c13d44c3b06074939d43fa3759bd32c1"
        );
        assert_eq!(
            hash_step_id("loop-step"),
            "3bc0bdbeb716c044adb2fe68e1428aa0af700d3d"
        );
        assert_eq!(
            hash_step_id("loop-step:1"),
            "e3ccc3db60f0ec01e03006b64720bacb7b3e6c94"
        );
        assert_eq!(
            hash_step_id("loop-step:2"),
            "96f69a7f79d431b6add36f3251260386795d6177"
        );
        assert_eq!(hash_step_id("complete"), COMPLETE_STEP_ID);
    }

    #[test]
    fn repeats_skip_explicitly_used_indexes() {
        let mut counter = StepIdCounter::new();
        assert_eq!(counter.next("a").key, "a");
        assert_eq!(counter.next("a:1").key, "a:1");
        let reuse = counter.next("a");
        assert_eq!((reuse.key.as_str(), reuse.index), ("a:2", 2));
        assert_eq!(counter.next("a").key, "a:3");
        assert_eq!(counter.len(), 4);
    }

    #[test]
    fn hashed_occurrences_match_the_string_form() {
        let mut strings = StepIdCounter::new();
        let mut digests = StepIdCounter::with_capacity(4);
        for id in ["a", "a:1", "a", "b", "a", "b:1", "b"] {
            let named = strings.next(id);
            let hashed = digests.next_hashed(id);
            assert_eq!(hashed.index, named.index, "{id}");
            assert_eq!(hashed.hash, StepHash::of(&named.key), "{id}");
            assert_eq!(hashed.hash.to_string(), named.hashed, "{id}");
        }
        assert_eq!(digests.len(), strings.len());
    }

    #[test]
    fn hex_round_trip_accepts_only_lowercase_digests() {
        let hash = StepHash::of("loop-step:2");
        let hex = hash.to_string();
        assert_eq!(hex, "96f69a7f79d431b6add36f3251260386795d6177");
        assert_eq!(StepHash::from_hex(&hex), Some(hash));
        assert_eq!(StepHash::from_hex(&hex.to_uppercase()), None);
        assert_eq!(StepHash::from_hex(&hex[..39]), None);
        assert_eq!(StepHash::from_hex(&format!("{hex}0")), None);
        assert_eq!(StepHash::from_hex("step"), None);
        assert_eq!(StepHash::from_hex(&"g".repeat(40)), None);
        assert_eq!(format!("{hash:?}"), format!("StepHash({hex})"));
    }

    #[test]
    fn the_digest_hasher_spreads_keys_and_hashes_any_bytes() {
        let state = StepHashState::default();
        let hashes: HashSet<u64> = (0..1000)
            .map(|i| state.hash_one(StepHash::of(&format!("s{i}"))))
            .collect();
        assert_eq!(hashes.len(), 1000, "no two of 1000 digests hash alike");

        // Keys sharing their first 16 bytes still land apart: the tail is folded in too.
        let mut a = [7_u8; 20];
        let mut b = a;
        a[19] = 1;
        b[19] = 2;
        assert_ne!(state.hash_one(StepHash(a)), state.hash_one(StepHash(b)));
        assert_ne!(state.hash_one("ab"), state.hash_one("ab\0"));
    }
}
