//! Step id hashing, as the official SDKs do it.
//!
//! The executor only ever sees hashed step ids: the lowercase hex SHA-1 of the id the user gave
//! the step. When one id is used several times in a run, the n-th reuse hashes `"<id>:<n>"`.

use std::collections::{HashMap, HashSet};

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
    hex::encode(Sha1::digest(id.as_bytes()))
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

/// Hands out step ids for one execution, applying the repeat rule of the official SDKs.
///
/// The first use of an id hashes the id itself; later uses take the lowest index `n ≥ 1` for
/// which `"<id>:<n>"` has not been used yet in this execution (so an explicit step named
/// `"a:1"` is never shadowed by the second use of `"a"`).
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
    used: HashSet<String>,
    next_index: HashMap<String, u32>,
}

impl StepIdCounter {
    /// Creates an empty counter (one per execution).
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the id for the next occurrence of `id`.
    pub fn next(&mut self, id: &str) -> StepId {
        if !self.used.contains(id) {
            self.used.insert(id.to_owned());
            return StepId {
                id: id.to_owned(),
                index: 0,
                key: id.to_owned(),
                hashed: hash_step_id(id),
            };
        }

        let start = self.next_index.get(id).copied().unwrap_or(1);
        let mut index = start;
        let key = loop {
            let candidate = format!("{id}{STEP_INDEX_SEPARATOR}{index}");
            if !self.used.contains(&candidate) {
                break candidate;
            }
            index += 1;
        };

        self.next_index.insert(id.to_owned(), index + 1);
        self.used.insert(key.clone());

        StepId {
            id: id.to_owned(),
            index,
            hashed: hash_step_id(&key),
            key,
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
}
