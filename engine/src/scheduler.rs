//! The loop that picks due jobs from the store and hands them to workers, honouring
//! concurrency limits (counted per scope over calls in flight) and priority (due jobs are
//! taken in `order_ms` order, which priority shifts).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

use crate::clock::now_ms;
use crate::core::Core;
use crate::error::Result;
use crate::executor;
use crate::store::{Job, JobKind, RunMeta, jobs};

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

fn concurrency_of(tx: &rusqlite::Connection, run_id: &str) -> Result<Vec<(String, u32)>> {
    let meta: Option<String> = tx
        .query_row("SELECT meta FROM runs WHERE id = ?1", [run_id], |r| {
            r.get(0)
        })
        .ok();
    Ok(meta
        .and_then(|m| serde_json::from_str::<RunMeta>(&m).ok())
        .map(|m| m.concurrency)
        .unwrap_or_default())
}

/// Claims up to `room` due jobs that their concurrency limits allow.
fn pick(core: &Arc<Core>, room: usize, now: i64) -> Result<Vec<(Job, Option<Slots>)>> {
    core.store.write(|tx| {
        let mut picked = Vec::new();
        for job in jobs::due(tx, now, (room * 4).max(16) as i64)? {
            if picked.len() >= room {
                break;
            }
            let is_call = matches!(job.kind, JobKind::Call { .. });
            if is_call && core.calls_held.load(Ordering::Acquire) {
                // The sync that releases the calls wakes the loop.
                continue;
            }
            let mut slots = None;
            if let (JobKind::Call { .. }, Some(run_id)) = (&job.kind, &job.run_id) {
                let limits = concurrency_of(tx, run_id)?;
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
            if jobs::claim(tx, job.id)? {
                picked.push((job, slots));
            }
        }
        Ok(picked)
    })
}

/// Runs until `shutdown` turns true.
pub(crate) async fn run(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let workers = Arc::new(Semaphore::new(core.config.workers.max(1)));
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = now_ms();
        let room = workers.available_permits();
        let picked = if room == 0 {
            Vec::new()
        } else {
            pick(&core, room, now).unwrap_or_else(|e| {
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
            tokio::spawn(async move {
                executor::process(core.clone(), job).await;
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
