//! Received events, stored as the full event object the SDKs are sent.

use rusqlite::{Connection, params};
use serde_json::Value;

use super::{exec, one};
use crate::error::Result;

/// One stored event. `id` is the internal ULID the event API returned.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct EventRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) body: Value,
    pub(crate) received_ms: i64,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn decode(row: (String, String, String, i64)) -> Result<EventRow> {
    let (id, name, body, received_ms) = row;
    Ok(EventRow {
        id,
        name,
        body: serde_json::from_str(&body)?,
        received_ms,
    })
}

pub(crate) fn insert_event(conn: &Connection, event: &EventRow) -> Result<()> {
    exec(
        conn,
        "INSERT INTO events (id, name, body, received_ms) VALUES (?1, ?2, ?3, ?4)",
        params![
            event.id,
            event.name,
            event.body.to_string(),
            event.received_ms
        ],
    )?;
    Ok(())
}

pub(crate) fn event(conn: &Connection, id: &str) -> Result<Option<EventRow>> {
    let row = one(
        conn,
        "SELECT id, name, body, received_ms FROM events WHERE id = ?1",
        [id],
        from_row,
    )?;
    row.map(decode).transpose()
}

/// The events with these ids, in the order given; unknown ids are skipped.
pub(crate) fn events(conn: &Connection, ids: &[String]) -> Result<Vec<EventRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(e) = event(conn, id)? {
            out.push(e);
        }
    }
    Ok(out)
}

pub(crate) fn recent_events(conn: &Connection, limit: i64) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, body, received_ms FROM events ORDER BY received_ms DESC, id DESC
         LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode).collect()
}

pub(crate) fn link_run(conn: &Connection, event_id: &str, run_id: &str) -> Result<()> {
    exec(
        conn,
        "INSERT OR IGNORE INTO run_events (event_id, run_id) VALUES (?1, ?2)",
        params![event_id, run_id],
    )?;
    Ok(())
}

pub(crate) fn runs_of_event(conn: &Connection, event_id: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT run_id FROM run_events WHERE event_id = ?1 ORDER BY run_id")?;
    let rows = stmt
        .query_map([event_id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}
