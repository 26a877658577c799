//! Flow-control state: idempotency keys, limiter state and event buffers (debounce, batches).

use rusqlite::{Connection, params};

use super::{exec, one};
use crate::error::Result;

/// Claims `key` in `scope` until `expires_ms`. Returns false when it is already held.
pub(crate) fn claim_key(
    conn: &Connection,
    scope: &str,
    key: &str,
    now: i64,
    expires_ms: i64,
) -> Result<bool> {
    exec(
        conn,
        "DELETE FROM keys WHERE scope = ?1 AND key = ?2 AND expires_ms < ?3",
        params![scope, key, now],
    )?;
    let n = exec(
        conn,
        "INSERT OR IGNORE INTO keys (scope, key, expires_ms) VALUES (?1, ?2, ?3)",
        params![scope, key, expires_ms],
    )?;
    Ok(n == 1)
}

pub(crate) fn limiter(conn: &Connection, scope: &str) -> Result<Option<serde_json::Value>> {
    let text: Option<String> = one(
        conn,
        "SELECT state FROM limiter WHERE scope = ?1",
        [scope],
        |r| r.get(0),
    )?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

pub(crate) fn set_limiter(conn: &Connection, scope: &str, state: &serde_json::Value) -> Result<()> {
    exec(
        conn,
        "INSERT INTO limiter (scope, state) VALUES (?1, ?2)
         ON CONFLICT(scope) DO UPDATE SET state = ?2",
        params![scope, state.to_string()],
    )?;
    Ok(())
}

/// A debounce or batch buffer.
#[derive(Debug, Clone)]
pub(crate) struct Buffer {
    pub(crate) scope: String,
    pub(crate) function_id: String,
    pub(crate) event_ids: Vec<String>,
    pub(crate) first_ms: i64,
    pub(crate) deadline_ms: i64,
}

pub(crate) fn buffer(conn: &Connection, scope: &str) -> Result<Option<Buffer>> {
    let row: Option<(String, String, i64, i64)> = one(
        conn,
        "SELECT function_id, event_ids, first_ms, deadline_ms FROM buffers WHERE scope = ?1",
        [scope],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    row.map(|(function_id, ids, first_ms, deadline_ms)| {
        Ok(Buffer {
            scope: scope.to_owned(),
            function_id,
            event_ids: serde_json::from_str(&ids)?,
            first_ms,
            deadline_ms,
        })
    })
    .transpose()
}

pub(crate) fn put_buffer(conn: &Connection, kind: &str, b: &Buffer) -> Result<()> {
    exec(
        conn,
        "INSERT INTO buffers (scope, kind, function_id, event_ids, first_ms, deadline_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(scope) DO UPDATE SET event_ids = ?4, first_ms = ?5, deadline_ms = ?6",
        params![
            b.scope,
            kind,
            b.function_id,
            serde_json::to_string(&b.event_ids)?,
            b.first_ms,
            b.deadline_ms
        ],
    )?;
    Ok(())
}

pub(crate) fn delete_buffer(conn: &Connection, scope: &str) -> Result<()> {
    exec(conn, "DELETE FROM buffers WHERE scope = ?1", [scope])?;
    Ok(())
}
