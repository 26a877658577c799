//! The memoised steps of one call request, keyed by digest.
//!
//! Every step the handler reaches looks its result up here, so the lookup is the SDK's inner
//! loop: the keys are the 20-byte digests the executor's hex ids stand for (no string is built
//! or hashed per step), and the map uses the digest hasher of the protocol crate, sized once
//! for every memoised step. A memo read from an HTTP body stays a slice of that body, shared by
//! every step, until its step claims it; the step checks its shape then, so a request whose
//! unreached memos are malformed still runs as far as it can.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use nestling_inngest_protocol::{BorrowedSteps, StepHash, StepHashMap, StepHashState};
use serde_json::value::RawValue;

/// The memoised results a request carries that no step has claimed yet.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// The body the memos of `InBody` slots are slices of (empty when there are none).
    body: Arc<String>,
    /// By the digest of the hashed id the executor sent.
    steps: StepHashMap<Slot>,
    /// Keys that are not a lowercase hex SHA-1: no step ever hashes to one, so they are never
    /// claimed, but they still count as memoised steps the handler has not reached (the
    /// replay never ends for such a request, as with any key no step claims).
    unclaimable: usize,
}

/// Where one memo's JSON is.
#[derive(Debug)]
enum Slot {
    /// These bytes of the body.
    InBody(Range<usize>),
    /// Its own copy (a request built in-process, or loaded from the API).
    Owned(Box<RawValue>),
}

/// A claimed memo's JSON, kept by the step that claimed it.
#[derive(Debug)]
pub(crate) struct MemoValue {
    body: Arc<String>,
    slot: Slot,
}

impl MemoValue {
    /// The memoised value as JSON text.
    pub(crate) fn text(&self) -> &str {
        match &self.slot {
            Slot::InBody(range) => self.body.get(range.clone()).unwrap_or("null"),
            Slot::Owned(raw) => raw.get(),
        }
    }
}

impl Memo {
    /// The memo of a request's `steps` object, owned.
    pub(crate) fn from_steps(steps: HashMap<String, Box<RawValue>>) -> Self {
        let mut memo = Self::with_capacity(Arc::default(), steps.len());
        for (key, value) in steps {
            match StepHash::from_hex(&key) {
                Some(hash) => {
                    memo.steps.insert(hash, Slot::Owned(value));
                }
                None => memo.unclaimable += 1,
            }
        }

        memo
    }

    /// The memo of a request read from `body` with its steps borrowed from it: each memo
    /// stays where it is in the body.
    pub(crate) fn in_body(body: &Arc<String>, steps: BorrowedSteps<'_>) -> Self {
        let mut memo = Self::with_capacity(Arc::clone(body), steps.entries.len());
        memo.unclaimable = steps.unclaimable.len();
        // In body order, so that a key given twice keeps its later value.
        for (hash, raw) in steps.entries {
            let slot = match range_in(body, raw.get()) {
                Some(range) => Slot::InBody(range),
                // Not a slice of this body after all (nothing reads it that way): keep a copy.
                None => Slot::Owned(raw.to_owned()),
            };
            memo.steps.insert(hash, slot);
        }

        memo
    }

    fn with_capacity(body: Arc<String>, steps: usize) -> Self {
        Self {
            body,
            steps: StepHashMap::with_capacity_and_hasher(steps, StepHashState::default()),
            unclaimable: 0,
        }
    }

    /// How many memoised steps there are, claimable or not.
    pub(crate) fn len(&self) -> usize {
        self.steps.len() + self.unclaimable
    }

    /// Whether every memoised step has been claimed.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the memoised result of a step, if the request carries one.
    pub(crate) fn take(&mut self, hash: &StepHash) -> Option<MemoValue> {
        let slot = self.steps.remove(hash)?;
        Some(MemoValue {
            body: Arc::clone(&self.body),
            slot,
        })
    }
}

/// Where `inner` lies in `outer`, when it is a slice of it.
fn range_in(outer: &str, inner: &str) -> Option<Range<usize>> {
    // Comparing addresses as numbers: the slice came out of `outer`, and the check below
    // proves it before the range is used.
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    let range = start..start.checked_add(inner.len())?;
    let slice = outer.get(range.clone())?;

    std::ptr::eq(slice.as_ptr(), inner.as_ptr()).then_some(range)
}

#[cfg(test)]
mod tests {
    use nestling_inngest_protocol::{BorrowedCallRequest, hash_step_id};

    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn keys_that_no_step_hashes_to_stay_memoised() {
        let hex = hash_step_id("fetch");
        let steps = HashMap::from([
            (hex.clone(), raw("1")),
            (hex.to_uppercase(), raw("2")),
            ("h1".to_owned(), raw("3")),
        ]);
        let mut memo = Memo::from_steps(steps);
        assert_eq!(memo.len(), 3);

        let taken = memo
            .take(&StepHash::of("fetch"))
            .expect("the lowercase key is claimable");
        assert_eq!(taken.text(), "1");
        assert!(memo.take(&StepHash::of("fetch")).is_none(), "taken once");
        assert_eq!(memo.len(), 2);
        assert!(!memo.is_empty(), "the two other keys are never claimed");
    }

    #[test]
    fn memos_read_from_a_body_are_slices_of_it() {
        let body = Arc::new(format!(
            r#"{{"event":{{"name":"e"}},"steps":{{"{}":{{"data":[1, 2]}},"h1":null}},"ctx":{{"run_id":"r"}}}}"#,
            hash_step_id("fetch")
        ));
        let request = BorrowedCallRequest::from_str(&body).unwrap();
        let mut memo = Memo::in_body(&body, request.steps);
        assert_eq!(memo.len(), 2);

        let taken = memo.take(&StepHash::of("fetch")).unwrap();
        assert!(matches!(taken.slot, Slot::InBody(_)), "{taken:?}");
        assert_eq!(taken.text(), r#"{"data":[1, 2]}"#);
        assert_eq!(memo.len(), 1, "the unclaimable key stays");
    }

    #[test]
    fn a_slice_of_another_string_is_not_in_the_body() {
        let body = "abcdef";
        assert_eq!(range_in(body, &body[2..4]), Some(2..4));
        assert_eq!(range_in(body, &String::from("cd")), None);
        assert_eq!(range_in(&body[2..], body), None);
    }
}
