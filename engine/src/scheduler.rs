//! The loop that picks due jobs from the store and hands them to workers, honouring
//! concurrency limits (counted per scope over calls in flight) and priority (due jobs are
//! taken in `order_ms` order, which priority shifts).
//!
//! Picking writes nothing: the jobs in flight are kept in a claim set in memory (see
//! `store/jobs.rs` for why that is enough after a crash), so a pick is one read.
//!
//! A run that is simply going on (its call answered one step, and the only job it has now is
//! the next call, due at once) is continued by the worker that made the previous call, without
//! a trip through this loop: that skips a read of the queue and a wake-up per step. Anything
//! else the answer queued (parallel steps, a sleep, an invoked run, a retry later) wakes the
//! loop as before. Runs with concurrency limits always go through the loop, which counts them.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Semaphore, watch};

use crate::core::Core;
use crate::error::Result;
use crate::executor;
use crate::store::{Job, JobKind, jobs};

/// Releases a run's concurrency slots when its call ends.
struct Slots {
    core: Arc<Core>,
    scopes: Vec<String>,
}

impl Drop for Slots {
    fn drop(&mut self) {
        let mut inflight = self.core.inflight.lock();
        for s in &self.scopes {
            if let Some(n) = inflight.get_mut(s) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

/// The ids of the jobs in flight in this process.
type Claims = Arc<Mutex<HashSet<i64>>>;

/// Claims up to `room` due jobs that their concurrency limits allow.
fn pick(
    core: &Arc<Core>,
    claims: &Claims,
    room: usize,
    now: i64,
) -> Result<Vec<(Job, Option<Slots>)>> {
    let mut claimed = claims.lock();
    let limit = ((room * 4).max(16) + claimed.len()) as i64;
    let due = core
        .store
        .read(|c| jobs::due(c, now, limit, |id| claimed.contains(&id)))?;
    let mut picked = Vec::new();
    for mut job in due {
        if picked.len() >= room {
            break;
        }
        let is_call = matches!(job.kind, JobKind::Call { .. });
        if is_call && core.calls_held.load(Ordering::Acquire) {
            // The sync that releases the calls wakes the loop.
            continue;
        }
        let mut slots = None;
        if is_call {
            let limits = std::mem::take(&mut job.concurrency);
            if !limits.is_empty() {
                let mut inflight = core.inflight.lock();
                let full = limits
                    .iter()
                    .any(|(s, l)| inflight.get(s).copied().unwrap_or(0) >= *l);
                if full {
                    continue;
                }
                for (s, _) in &limits {
                    *inflight.entry(s.clone()).or_default() += 1;
                }
                slots = Some(Slots {
                    core: core.clone(),
                    scopes: limits.into_iter().map(|(s, _)| s).collect(),
                });
            }
        }
        claimed.insert(job.id);
        picked.push((job, slots));
    }
    Ok(picked)
}

/// Claims the next call of `run_id` for the worker that made its last one, when that call is
/// the run's only job and is due now (see the module docs).
fn continuation(core: &Core, claims: &Claims, run_id: &str) -> Option<Job> {
    if core.calls_held.load(Ordering::Acquire) {
        return None;
    }
    let now = core.clock.now();
    let job = match core.store.read(|c| jobs::sole_due_call(c, run_id, now)) {
        Ok(job) => job?,
        Err(e) => {
            tracing::warn!(target: "nestling_engine::scheduler", run_id, error = %e, "reading the run's next call failed; the queue will pick it");
            return None;
        }
    };
    // The loop may have picked it first, between the answer's commit and this read.
    claims.lock().insert(job.id).then_some(job)
}

/// Runs until `shutdown` turns true.
pub(crate) async fn run(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let workers = Arc::new(Semaphore::new(core.config.workers.max(1)));
    let claims = Claims::default();
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = core.clock.now();
        let room = workers.available_permits();
        let picked = if room == 0 {
            Vec::new()
        } else {
            pick(&core, &claims, room, now).unwrap_or_else(|e| {
                tracing::error!(target: "nestling_engine::scheduler", error = %e, "reading the queue failed");
                Vec::new()
            })
        };
        let busy = picked.len() == room && room > 0;
        for (job, slots) in picked {
            let Ok(permit) = workers.clone().acquire_owned().await else {
                return;
            };
            let core = core.clone();
            let claims = claims.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let mut job = job;
                let limited = slots.is_some();
                loop {
                    let id = job.id;
                    let run_id = job.run_id.clone();
                    let is_call = matches!(job.kind, JobKind::Call { .. });
                    // A job whose outcome could not be stored stays claimed, so that it is not
                    // retried in a loop; the next start of the engine runs it again.
                    let done = executor::process(core.clone(), job).await;
                    if done {
                        claims.lock().remove(&id);
                    }
                    let next = match run_id {
                        Some(run_id) if done && is_call && !limited && !*shutdown.borrow() => {
                            continuation(&core, &claims, &run_id)
                        }
                        _ => None,
                    };
                    match next {
                        Some(next) => job = next,
                        None => break,
                    }
                }
                drop(slots);
                drop(permit);
                core.wake.notify_one();
            });
        }
        if busy {
            continue;
        }

        let next = core.store.read(|c| jobs::next_at(c, now)).ok().flatten();
        let wait = next.map_or(1000, |t| (t - now).clamp(1, 1000)) as u64;
        tokio::select! {
            () = core.wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
