//! The loop that picks due jobs from the store and hands them to workers, honouring
//! concurrency limits (counted per scope over calls in flight) and priority (due jobs are
//! taken in `order_ms` order, which priority shifts).
//!
//! Picking writes nothing: the jobs in flight are kept in a claim set in memory (see
//! `store/jobs.rs` for why that is enough after a crash), so a pick is one read.

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
    let in_flight = claims.lock().len();
    let due = core
        .store
        .read(|c| jobs::due(c, now, ((room * 4).max(16) + in_flight) as i64))?;
    let mut claimed = claims.lock();
    let mut picked = Vec::new();
    for mut job in due {
        if picked.len() >= room {
            break;
        }
        if claimed.contains(&job.id) {
            continue;
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
            tokio::spawn(async move {
                let id = job.id;
                // A job whose outcome could not be stored stays claimed, so that it is not
                // retried in a loop; the next start of the engine runs it again.
                if executor::process(core.clone(), job).await {
                    claims.lock().remove(&id);
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
