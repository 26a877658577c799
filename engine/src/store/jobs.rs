//! The durable queue: every piece of future work (a call to an app, a sleep to wake, a timeout,
//! a debounce or batch to flush, a cron tick) is a row with a due time. A unique key dedupes
//! work that two paths may schedule (a step reported twice, a discovery already queued).

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What a job does when it comes due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum JobKind {
    /// Call the app for a run: `step_id` is `step` (discovery) or a hashed step id.
    Call { step_id: String, attempt: u32 },
    /// A sleep ended: memoise `null` for the step and continue the run.
    Wake { hash: String },
    /// A wait or invoke pause expired.
    PauseTimeout { pause_id: String },
    /// `timeouts.finish` elapsed: cancel the run if it is still going.
    RunTimeout,
    /// A debounce window closed: start the run with the latest event.
    Debounce { scope: String },
    /// A batch timed out: start the run with what was collected.
    Batch { scope: String },
    /// A cron tick of a function's trigger number `index`.
    Cron {
        function_id: String,
        index: usize,
        at_ms: i64,
    },
}

impl JobKind {
    fn name(&self) -> &'static str {
        match self {
            Self::Call { .. } => "call",
            Self::Wake { .. } => "wake",
            Self::PauseTimeout { .. } => "pause_timeout",
            Self::RunTimeout => "run_timeout",
            Self::Debounce { .. } => "debounce",
            Self::Batch { .. } => "batch",
            Self::Cron { .. } => "cron",
        }
    }
}

/// A job to add.
#[derive(Debug, Clone)]
pub(crate) struct NewJob {
    pub(crate) key: String,
    pub(crate) run_id: Option<String>,
    pub(crate) kind: JobKind,
    pub(crate) at_ms: i64,
    /// Order among due jobs: `at_ms` shifted by priority.
    pub(crate) order_ms: i64,
}

/// A stored job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: i64,
    pub(crate) key: String,
    pub(crate) run_id: Option<String>,
    pub(crate) kind: JobKind,
}

/// Adds a job unless one with the same key exists. Returns whether it was added.
pub(crate) fn enqueue(conn: &Connection, job: &NewJob) -> Result<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO jobs (key, run_id, kind, payload, at_ms, order_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            job.key,
            job.run_id,
            job.kind.name(),
            serde_json::to_string(&job.kind)?,
            job.at_ms,
            job.order_ms
        ],
    )?;
    Ok(n == 1)
}

/// Unclaimed jobs due at `now`, most urgent first.
pub(crate) fn due(conn: &Connection, now: i64, limit: i64) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key, run_id, payload FROM jobs WHERE claimed = 0 AND at_ms <= ?1
         ORDER BY order_ms, id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![now, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
        })?
        .collect::<Result<Vec<(i64, String, Option<String>, String)>, _>>()?;
    rows.into_iter()
        .map(|(id, key, run_id, payload)| {
            Ok(Job {
                id,
                key,
                run_id,
                kind: serde_json::from_str(&payload)?,
            })
        })
        .collect()
}

/// The due time of the next unclaimed job after `now`.
pub(crate) fn next_at(conn: &Connection, now: i64) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT MIN(at_ms) FROM jobs WHERE claimed = 0 AND at_ms > ?1",
        [now],
        |r| r.get(0),
    )?)
}

pub(crate) fn claim(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE jobs SET claimed = 1 WHERE id = ?1 AND claimed = 0",
        [id],
    )? == 1)
}

pub(crate) fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM jobs WHERE id = ?1", [id])?;
    Ok(())
}

pub(crate) fn delete_key(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM jobs WHERE key = ?1", [key])?;
    Ok(())
}

/// Drops every job of a run that is not being worked on right now.
pub(crate) fn delete_run_jobs(conn: &Connection, run_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM jobs WHERE run_id = ?1 AND claimed = 0",
        [run_id],
    )?;
    Ok(())
}

/// After a restart nothing is in flight: every claimed job is due again.
pub(crate) fn unclaim_all(conn: &Connection) -> Result<usize> {
    Ok(conn.execute("UPDATE jobs SET claimed = 0 WHERE claimed = 1", [])?)
}
