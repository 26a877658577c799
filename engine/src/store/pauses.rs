//! Pauses: a run waiting for an event (`wait_for_event`), for an invoked function to finish,
//! or watching for an event that cancels it (`cancel_on`).

use rusqlite::{Connection, params};

use super::{exec, one};
use crate::error::Result;

/// Why a run is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PauseKind {
    Wait,
    Invoke,
    Cancel,
}

impl PauseKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::Invoke => "invoke",
            Self::Cancel => "cancel",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "invoke" => Self::Invoke,
            "cancel" => Self::Cancel,
            _ => Self::Wait,
        }
    }
}

/// One pause.
#[derive(Debug, Clone)]
pub(crate) struct Pause {
    pub(crate) id: String,
    pub(crate) run_id: String,
    pub(crate) kind: PauseKind,
    pub(crate) event_name: String,
    pub(crate) expr: Option<String>,
    pub(crate) step_hash: Option<String>,
    pub(crate) correlation: Option<String>,
    pub(crate) expires_ms: i64,
    pub(crate) created_ms: i64,
}

const COLS: &str =
    "id, run_id, kind, event_name, expr, step_hash, correlation, expires_ms, created_ms";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pause> {
    Ok(Pause {
        id: r.get(0)?,
        run_id: r.get(1)?,
        kind: PauseKind::parse(&r.get::<_, String>(2)?),
        event_name: r.get(3)?,
        expr: r.get(4)?,
        step_hash: r.get(5)?,
        correlation: r.get(6)?,
        expires_ms: r.get(7)?,
        created_ms: r.get(8)?,
    })
}

pub(crate) fn insert(conn: &Connection, p: &Pause) -> Result<()> {
    exec(
        conn,
        &format!("INSERT OR IGNORE INTO pauses ({COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        params![
            p.id,
            p.run_id,
            p.kind.as_str(),
            p.event_name,
            p.expr,
            p.step_hash,
            p.correlation,
            p.expires_ms,
            p.created_ms
        ],
    )?;
    Ok(())
}

/// Live pauses waiting for events named `name`.
pub(crate) fn by_event(conn: &Connection, name: &str, now: i64) -> Result<Vec<Pause>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM pauses WHERE event_name = ?1 AND expires_ms >= ?2 ORDER BY created_ms"
    ))?;
    let rows = stmt
        .query_map(params![name, now], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn by_correlation(conn: &Connection, correlation: &str) -> Result<Option<Pause>> {
    one(
        conn,
        &format!("SELECT {COLS} FROM pauses WHERE correlation = ?1 AND kind = 'invoke'"),
        [correlation],
        from_row,
    )
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Pause>> {
    one(
        conn,
        &format!("SELECT {COLS} FROM pauses WHERE id = ?1"),
        [id],
        from_row,
    )
}

/// Removes a pause. Returns false when it was already gone (resumed by someone else).
pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool> {
    Ok(exec(conn, "DELETE FROM pauses WHERE id = ?1", [id])? == 1)
}

pub(crate) fn delete_run(conn: &Connection, run_id: &str) -> Result<()> {
    exec(conn, "DELETE FROM pauses WHERE run_id = ?1", [run_id])?;
    Ok(())
}

pub(crate) fn of_run(conn: &Connection, run_id: &str) -> Result<Vec<Pause>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLS} FROM pauses WHERE run_id = ?1"))?;
    let rows = stmt
        .query_map([run_id], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
