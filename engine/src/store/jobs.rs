//! The durable queue: every piece of future work (a call to an app, a sleep to wake, a timeout,
//! a debounce or batch to flush, a cron tick) is a row with a due time. A unique key dedupes
//! work that two paths may schedule (a step reported twice, a discovery already queued).
//!
//! Which jobs are being worked on is known only to the running process (the scheduler's claim
//! set): after a restart nothing is in flight, so a claim written to the file would have to be
//! undone at start anyway, and writing it cost a transaction per call. A job leaves the table
//! in the transaction that applies its outcome, so a job that was in flight when the process
//! died is simply due again. The `claimed` column stays for files written by earlier versions,
//! which set it; [`unclaim_all`] clears it at start.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::{RunMeta, exec, one};
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
    /// The concurrency scopes of the job's run (read with the job, so that the scheduler
    /// checks limits without a query per job).
    pub(crate) concurrency: Vec<(String, u32)>,
}

/// Adds a job unless one with the same key exists. Returns whether it was added.
pub(crate) fn enqueue(conn: &Connection, job: &NewJob) -> Result<bool> {
    let n = exec(
        conn,
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

/// Jobs due at `now`, most urgent first, with their runs' concurrency scopes, less those
/// `skip` names (the jobs in flight, which are still in the table and are not decoded).
pub(crate) fn due(
    conn: &Connection,
    now: i64,
    limit: i64,
    skip: impl Fn(i64) -> bool,
) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(
        "SELECT j.id, j.key, j.run_id, j.payload, r.meta FROM jobs j
           LEFT JOIN runs r ON r.id = j.run_id
         WHERE j.claimed = 0 AND j.at_ms <= ?1
         ORDER BY j.order_ms, j.id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![now, limit], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<Result<Vec<(i64, String, Option<String>, String, Option<String>)>, _>>()?;
    rows.into_iter()
        .filter(|(id, ..)| !skip(*id))
        .map(|(id, key, run_id, payload, meta)| {
            // Most runs have no concurrency limit; their meta is not parsed at all.
            let concurrency = match meta {
                Some(m) if m.contains("\"concurrency\"") => serde_json::from_str::<RunMeta>(&m)
                    .map(|meta| meta.concurrency)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            Ok(Job {
                id,
                key,
                run_id,
                kind: serde_json::from_str(&payload)?,
                concurrency,
            })
        })
        .collect()
}

/// The due time of the next job after `now`.
pub(crate) fn next_at(conn: &Connection, now: i64) -> Result<Option<i64>> {
    Ok(one(
        conn,
        "SELECT MIN(at_ms) FROM jobs WHERE claimed = 0 AND at_ms > ?1",
        [now],
        |r| r.get(0),
    )?
    .flatten())
}

/// The run's only job, when it has exactly one and that one is a call due at `now`: the next
/// call of a run that is simply going on, which the worker that made the previous call can
/// make at once.
pub(crate) fn sole_due_call(conn: &Connection, run_id: &str, now: i64) -> Result<Option<Job>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key, payload, at_ms FROM jobs WHERE run_id = ?1 ORDER BY id LIMIT 2",
    )?;
    let rows = stmt
        .query_map([run_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let [(id, key, payload, at_ms)] = rows.as_slice() else {
        return Ok(None);
    };
    let kind: JobKind = serde_json::from_str(payload)?;
    if *at_ms > now || !matches!(kind, JobKind::Call { .. }) {
        return Ok(None);
    }
    Ok(Some(Job {
        id: *id,
        key: key.clone(),
        run_id: Some(run_id.to_owned()),
        kind,
        concurrency: Vec::new(),
    }))
}

/// Removes a job once its outcome is stored. The key is matched too: the job may have been
/// dropped meanwhile (its run ended) and its id handed to a new job, which must stay.
pub(crate) fn delete(conn: &Connection, job: &Job) -> Result<()> {
    exec(
        conn,
        "DELETE FROM jobs WHERE id = ?1 AND key = ?2",
        params![job.id, job.key],
    )?;
    Ok(())
}

pub(crate) fn delete_key(conn: &Connection, key: &str) -> Result<()> {
    exec(conn, "DELETE FROM jobs WHERE key = ?1", [key])?;
    Ok(())
}

/// Drops every job of an ended run. A call in flight for it finds its job gone and the run
/// ended when its answer comes, and drops the answer.
pub(crate) fn delete_run_jobs(conn: &Connection, run_id: &str) -> Result<()> {
    exec(conn, "DELETE FROM jobs WHERE run_id = ?1", [run_id])?;
    Ok(())
}

/// Clears the claims that versions before the in-memory claim set wrote, and counts the
/// queued jobs.
pub(crate) fn unclaim_all(conn: &Connection) -> Result<usize> {
    exec(conn, "UPDATE jobs SET claimed = 0 WHERE claimed = 1", [])?;
    let n: Option<i64> = one(conn, "SELECT COUNT(*) FROM jobs", [], |r| r.get(0))?;
    Ok(usize::try_from(n.unwrap_or(0)).unwrap_or(0))
}
