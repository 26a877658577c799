//! Durable state in one SQLite file (WAL): apps, functions, events, runs, memoised steps, run
//! history, queued jobs (calls, sleeps, timeouts, cron ticks), pauses and flow-control state.
//!
//! Every change that belongs together is written in one transaction, so a `kill -9` at any
//! point leaves either the state before or the state after, never half of it. The engine runs
//! as one process: a single connection behind a mutex serialises writers, and statements are
//! short enough that async tasks call it directly.

pub(crate) mod apps;
pub(crate) mod events;
pub(crate) mod flow;
pub(crate) mod jobs;
pub(crate) mod pauses;
pub(crate) mod runs;
mod schema;

use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};

pub(crate) use apps::{AppRow, FunctionRow};
pub(crate) use events::EventRow;
pub(crate) use jobs::{Job, JobKind, NewJob};
pub(crate) use pauses::{Pause, PauseKind};
pub use runs::RunStatus;
pub(crate) use runs::{HistoryRow, RunMeta, RunRow};

/// Handle on the database, cheap to clone.
#[derive(Clone)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let open_err = |source| Error::OpenDatabase {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;

        // One engine per file: a second process gets "database is locked" at start instead
        // of racing this one for the same jobs. The OS drops the lock when a process dies.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(open_err)?;
        // WAL keeps readers off the writer's back; NORMAL sync is safe against a killed
        // process (only an OS crash could lose the last commits).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.execute_batch(schema::SCHEMA).map_err(open_err)?;

        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn.lock();
        f(&conn)
    }

    /// Runs `f` in one transaction, committed when `f` returns `Ok`.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// Reads a JSON column.
pub(crate) fn json_col(text: Option<String>) -> Result<Option<serde_json::Value>> {
    match text {
        None => Ok(None),
        Some(t) => Ok(Some(serde_json::from_str(&t)?)),
    }
}
