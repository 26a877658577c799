//! Runs, their memoised step results (in completion order, which is the stack the SDK is sent)
//! and their history.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{exec, json_col, one};
use crate::error::Result;

/// Run status, spelled as the Inngest API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RunStatus {
    /// Still going (queued, calling, sleeping or waiting).
    Running,
    /// Returned a value.
    Completed,
    /// Failed after its retries.
    Failed,
    /// Cancelled by an event, the API or a timeout.
    Cancelled,
}

impl RunStatus {
    /// The status as the REST API spells it.
    ///
    /// ```
    /// assert_eq!(nestling_engine::RunStatus::Completed.as_str(), "Completed");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "Completed" => Self::Completed,
            "Failed" => Self::Failed,
            "Cancelled" => Self::Cancelled,
            _ => Self::Running,
        }
    }
}

/// What a run carries besides its status: decided when it is created.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct RunMeta {
    /// `<parent run>.<step hash>` when the run was started by `step.invoke`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) correlation_id: Option<String>,
    /// Evaluated singleton key, when the function has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) singleton: Option<String>,
    /// Concurrency scopes (`<scope key>`, limit) every call of the run counts against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) concurrency: Vec<(String, u32)>,
    /// Started by `inngest/function.finished|failed`: such runs emit no lifecycle events.
    #[serde(default)]
    pub(crate) lifecycle: bool,
    /// Queue-jump in milliseconds from `priority.run`.
    #[serde(default)]
    pub(crate) priority_ms: i64,
    /// The cron expression for scheduled runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cron: Option<String>,
    /// Batch id for batched runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) batch_id: Option<String>,
}

/// One run.
#[derive(Debug, Clone)]
pub(crate) struct RunRow {
    pub(crate) id: String,
    pub(crate) function_id: String,
    pub(crate) function_slug: String,
    pub(crate) app_id: String,
    pub(crate) status: RunStatus,
    pub(crate) event_ids: Vec<String>,
    pub(crate) created_ms: i64,
    pub(crate) started_ms: Option<i64>,
    pub(crate) ended_ms: Option<i64>,
    pub(crate) output: Option<Value>,
    pub(crate) error: Option<Value>,
    pub(crate) version: i64,
    pub(crate) force_plan: bool,
    pub(crate) pending: Vec<String>,
    pub(crate) meta: RunMeta,
}

const COLS: &str = "id, function_id, function_slug, app_id, status, event_ids, created_ms, \
    started_ms, ended_ms, output, error, version, force_plan, pending, meta";

type RawRun = (
    (String, String, String, String, String, String, i64),
    (
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
        i64,
        i64,
        String,
        String,
    ),
);

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ),
        (
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
            r.get(14)?,
        ),
    ))
}

fn decode(raw: RawRun) -> Result<RunRow> {
    let ((id, function_id, function_slug, app_id, status, event_ids, created_ms), rest) = raw;
    let (started_ms, ended_ms, output, error, version, force_plan, pending, meta) = rest;
    Ok(RunRow {
        id,
        function_id,
        function_slug,
        app_id,
        status: RunStatus::parse(&status),
        event_ids: serde_json::from_str(&event_ids)?,
        created_ms,
        started_ms,
        ended_ms,
        output: json_col(output)?,
        error: json_col(error)?,
        version,
        force_plan: force_plan != 0,
        pending: serde_json::from_str(&pending)?,
        meta: serde_json::from_str(&meta)?,
    })
}

pub(crate) fn insert_run(conn: &Connection, run: &RunRow) -> Result<()> {
    exec(
        conn,
        &format!(
            "INSERT INTO runs ({COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"
        ),
        params![
            run.id,
            run.function_id,
            run.function_slug,
            run.app_id,
            run.status.as_str(),
            serde_json::to_string(&run.event_ids)?,
            run.created_ms,
            run.started_ms,
            run.ended_ms,
            run.output.as_ref().map(Value::to_string),
            run.error.as_ref().map(Value::to_string),
            run.version,
            i64::from(run.force_plan),
            serde_json::to_string(&run.pending)?,
            serde_json::to_string(&run.meta)?,
        ],
    )?;
    Ok(())
}

pub(crate) fn run(conn: &Connection, id: &str) -> Result<Option<RunRow>> {
    let row = one(
        conn,
        &format!("SELECT {COLS} FROM runs WHERE id = ?1"),
        [id],
        from_row,
    )?;
    row.map(decode).transpose()
}

pub(crate) fn recent_runs(conn: &Connection, limit: i64) -> Result<Vec<RunRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM runs ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = stmt
        .query_map([limit], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode).collect()
}

/// Running runs of a function whose singleton key equals `key`.
pub(crate) fn running_singletons(
    conn: &Connection,
    function_id: &str,
    key: &str,
) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM runs WHERE status = 'Running' AND function_id = ?1
           AND json_extract(meta, '$.singleton') = ?2",
    )?;
    let rows = stmt
        .query_map(params![function_id, key], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}

/// Records when a run started; returns false when it already had a start.
pub(crate) fn set_started(conn: &Connection, id: &str, now: i64) -> Result<bool> {
    Ok(exec(
        conn,
        "UPDATE runs SET started_ms = ?2 WHERE id = ?1 AND started_ms IS NULL",
        params![id, now],
    )? == 1)
}

pub(crate) fn set_version(conn: &Connection, id: &str, version: i64) -> Result<()> {
    exec(
        conn,
        "UPDATE runs SET version = ?2 WHERE id = ?1",
        params![id, version],
    )?;
    Ok(())
}

pub(crate) fn set_plan(conn: &Connection, id: &str, force: bool, pending: &[String]) -> Result<()> {
    exec(
        conn,
        "UPDATE runs SET force_plan = ?2, pending = ?3 WHERE id = ?1",
        params![id, i64::from(force), serde_json::to_string(pending)?],
    )?;
    Ok(())
}

/// Moves a running run to a terminal status. Returns false when it had already ended.
pub(crate) fn finish(
    conn: &Connection,
    id: &str,
    status: RunStatus,
    output: Option<&Value>,
    error: Option<&Value>,
    now: i64,
) -> Result<bool> {
    let n = exec(
        conn,
        "UPDATE runs SET status = ?2, output = ?3, error = ?4, ended_ms = ?5
         WHERE id = ?1 AND status = 'Running'",
        params![
            id,
            status.as_str(),
            output.map(Value::to_string),
            error.map(Value::to_string),
            now
        ],
    )?;
    Ok(n == 1)
}

/// Stores a step result. Returns false when the step already had one (a duplicate report).
pub(crate) fn insert_step(
    conn: &Connection,
    run_id: &str,
    hash: &str,
    value: &Value,
) -> Result<bool> {
    let n = exec(
        conn,
        "INSERT OR IGNORE INTO steps (run_id, hash, seq, value)
         VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE run_id = ?1), ?3)",
        params![run_id, hash, value.to_string()],
    )?;
    Ok(n == 1)
}

/// How many steps of a run are memoised, without reading them.
pub(crate) fn step_count(conn: &Connection, run_id: &str) -> Result<usize> {
    let n: Option<i64> = one(
        conn,
        "SELECT COUNT(*) FROM steps WHERE run_id = ?1",
        [run_id],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// Whether a run has a result for the step `hash`.
pub(crate) fn has_step(conn: &Connection, run_id: &str, hash: &str) -> Result<bool> {
    Ok(one(
        conn,
        "SELECT 1 FROM steps WHERE run_id = ?1 AND hash = ?2",
        params![run_id, hash],
        |_| Ok(()),
    )?
    .is_some())
}

/// The memoised steps of a run in completion order.
pub(crate) fn steps(conn: &Connection, run_id: &str) -> Result<Vec<(String, Value)>> {
    let mut stmt =
        conn.prepare_cached("SELECT hash, value FROM steps WHERE run_id = ?1 ORDER BY seq")?;
    let rows = stmt
        .query_map([run_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(h, v)| Ok((h, serde_json::from_str(&v)?)))
        .collect()
}

/// One line of a run's history.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HistoryRow {
    pub(crate) ts_ms: i64,
    pub(crate) kind: String,
    pub(crate) step_hash: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) attempt: Option<i64>,
    pub(crate) data: Option<Value>,
}

pub(crate) fn add_history(conn: &Connection, run_id: &str, row: &HistoryRow) -> Result<()> {
    exec(
        conn,
        "INSERT INTO history (run_id, ts_ms, kind, step_hash, name, attempt, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            run_id,
            row.ts_ms,
            row.kind,
            row.step_hash,
            row.name,
            row.attempt,
            row.data.as_ref().map(Value::to_string)
        ],
    )?;
    Ok(())
}

pub(crate) fn history(conn: &Connection, run_id: &str) -> Result<Vec<HistoryRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ts_ms, kind, step_hash, name, attempt, data FROM history WHERE run_id = ?1
         ORDER BY id",
    )?;
    let rows = stmt
        .query_map([run_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(ts_ms, kind, step_hash, name, attempt, data)| {
            Ok(HistoryRow {
                ts_ms,
                kind,
                step_hash,
                name,
                attempt,
                data: json_col(data)?,
            })
        })
        .collect()
}
