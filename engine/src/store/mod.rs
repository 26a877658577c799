//! Durable state in one SQLite file (WAL): apps, functions, events, runs, memoised steps, run
//! history, queued jobs (calls, sleeps, timeouts, cron ticks), pauses and flow-control state.
//!
//! Every change that belongs together is written in one transaction, so a `kill -9` at any
//! point leaves either the state before or the state after, never half of it. The engine runs
//! as one process: a single connection behind a mutex serialises writers, and statements are
//! short enough that async tasks call it directly. Every statement goes through the
//! connection's statement cache ([`exec`], [`one`], `prepare_cached`), so the hot path (a call
//! and its answer: a dozen statements) parses no SQL after the first run.

pub(crate) mod apps;
pub(crate) mod events;
pub(crate) mod flow;
pub(crate) mod jobs;
pub(crate) mod pauses;
pub(crate) mod runs;
mod schema;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Params, Row, Transaction};

use crate::error::{Error, Result};

pub(crate) use apps::{AppRow, FunctionRow};
pub(crate) use events::EventRow;
pub(crate) use jobs::{Job, JobKind, NewJob};
pub(crate) use pauses::{Pause, PauseKind};
pub use runs::RunStatus;
pub(crate) use runs::{HistoryRow, RunMeta, RunRow};

/// How many prepared statements the connection keeps.
const STATEMENT_CACHE: usize = 128;
/// How often the WAL is checkpointed (and so fsynced) while there are new commits.
pub(crate) const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// WAL size, in 4 KiB pages, past which a commit checkpoints by itself (about 80 MiB).
const WAL_BACKSTOP_PAGES: i64 = 20_000;

/// Handle on the database, cheap to clone.
///
/// The connection sits behind `std::sync::Mutex` rather than `parking_lot`'s: under contention
/// parking_lot spins with `sched_yield`, and on a machine whose cores are busy with other
/// processes every yield gave the core away for a whole time slice (milliseconds, seen as
/// thousands of `sched_yield` calls of ~1.6 ms each under `strace -c`), while the std mutex
/// sleeps on a futex and is woken as soon as the holder unlocks.
#[derive(Clone)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
    /// Commits since the last checkpoint.
    commits: Arc<AtomicU64>,
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
        // WAL keeps readers off the writer's back. With `synchronous=NORMAL` a commit is
        // written to the WAL file but not fsynced; the WAL is fsynced at each checkpoint. So a
        // killed process loses nothing it committed (the OS still holds the pages, and
        // `tests/crash.rs` kills the engine with SIGKILL), while a power loss or an OS crash
        // may lose the commits since the last checkpoint (at most about
        // `CHECKPOINT_INTERVAL` of them, see `Store::checkpoint`), never corrupting the file.
        // FULL would fsync every state change: two or three fsyncs per step, which is most of
        // a step's cost on a disk that takes milliseconds per fsync.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        // Checkpoints run on a timer (`Store::checkpoint`) instead of inside whichever commit
        // crosses SQLite's default 1000 pages, which under load was many times a second, each
        // holding the connection through its fsyncs. This limit is only the backstop for a
        // burst that outgrows the timer.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)
            .map_err(open_err)?;
        // The hot path uses a few dozen distinct statements; the default cache keeps 16.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.execute_batch(schema::SCHEMA).map_err(open_err)?;

        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            commits: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The connection. A panic while it was held (a bug) leaves it usable: SQLite rolls back
    /// the transaction that was open when its guard is dropped.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Copies the WAL into the database file and fsyncs both, when anything was committed
    /// since the last time. The engine calls it every [`CHECKPOINT_INTERVAL`], which bounds
    /// what a power loss can take; returns whether it ran.
    pub(crate) fn checkpoint(&self) -> Result<bool> {
        if self.commits.swap(0, Ordering::AcqRel) == 0 {
            return Ok(false);
        }
        let conn = self.lock();
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(true)
    }

    /// Runs `f` on the connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&conn)
    }

    /// Runs `f` in one transaction, committed when `f` returns `Ok`.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        self.commits.fetch_add(1, Ordering::Release);
        Ok(out)
    }
}

/// Runs one statement through the statement cache; returns the number of rows changed.
pub(crate) fn exec(conn: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// Reads at most one row through the statement cache.
pub(crate) fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params, map)
        .optional()?)
}

/// Reads a JSON column.
pub(crate) fn json_col(text: Option<String>) -> Result<Option<serde_json::Value>> {
    match text {
        None => Ok(None),
        Some(t) => Ok(Some(serde_json::from_str(&t)?)),
    }
}
