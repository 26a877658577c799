//! The storage behind metric handles: an atomic float and a bucketed histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// An `f64` stored as its bits in an `AtomicU64`, so updates need no lock.
#[derive(Debug, Default)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn add(&self, amount: f64) {
        self.update(|current| current + amount);
    }

    pub(crate) fn max(&self, candidate: f64) {
        self.update(|current| current.max(candidate));
    }

    fn update(&self, f: impl Fn(f64) -> f64) {
        // The closure never returns None, so fetch_update always succeeds.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some(f(f64::from_bits(bits)).to_bits())
            });
    }
}

/// A consistent reading of a histogram: cumulative bucket counts (the last one is `+Inf` and
/// equals `count`), the sum and the count.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    pub(crate) bounds: Arc<[f64]>,
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

#[derive(Debug)]
struct HistogramState {
    // One slot per bound plus the `+Inf` slot; not cumulative, so an observation touches one slot.
    per_bucket: Vec<u64>,
    sum: f64,
    count: u64,
}

/// Buckets, sum and count behind one mutex, so a scrape never sees a count that disagrees with
/// the buckets.
#[derive(Debug)]
pub(crate) struct HistogramCore {
    bounds: Arc<[f64]>,
    state: Mutex<HistogramState>,
}

impl HistogramCore {
    pub(crate) fn new(bounds: Arc<[f64]>) -> Self {
        let state = HistogramState {
            per_bucket: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        };
        Self {
            bounds,
            state: Mutex::new(state),
        }
    }

    pub(crate) fn observe(&self, value: f64) {
        let slot = self.bounds.partition_point(|bound| *bound < value);
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.per_bucket[slot] += 1;
        state.sum += value;
        state.count += 1;
    }

    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut running = 0;
        let cumulative = state
            .per_bucket
            .iter()
            .map(|n| {
                running += n;
                running
            })
            .collect();

        HistogramSnapshot {
            bounds: Arc::clone(&self.bounds),
            cumulative,
            sum: state.sum,
            count: state.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_whose_bound_is_not_below_them() {
        let core = HistogramCore::new(vec![0.1, 1.0, 10.0].into());
        for value in [0.05, 0.1, 0.5, 1.0, 3.0, 50.0] {
            core.observe(value);
        }

        let snapshot = core.snapshot();
        // le=0.1 holds 0.05 and 0.1 (bounds are inclusive), le=1 adds 0.5 and 1.0, and so on.
        assert_eq!(snapshot.cumulative, vec![2, 4, 5, 6]);
        assert_eq!(snapshot.count, 6);
        assert!((snapshot.sum - 54.65).abs() < 1e-9);
    }
}
