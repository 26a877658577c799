//! A read-only probe of the engine's storage, for health checks.
//!
//! The engine holds its SQLite file exclusively, so nothing else can open it to look; the
//! probe goes through the engine's own connection instead, with a lookup that reads one
//! indexed row, and looks at the files on disk. It writes nothing: a health check must not
//! change the state it reports on.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::engine::EngineHandle;

/// A lookup slower than this is reported as a problem: the connection is held by something
/// that does not let go.
const SLOW_LOOKUP: Duration = Duration::from_secs(2);

/// What [`EngineHandle::probe_storage`] found.
///
/// # Examples
///
/// ```
/// use nestling_engine::{Engine, EngineConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), nestling_engine::Error> {
/// let db = std::env::temp_dir().join(format!("nestling-probe-doc-{}.sqlite", std::process::id()));
/// let engine = Engine::start(
///     EngineConfig::default().with_bind("127.0.0.1:0".parse().unwrap()).with_database(&db),
/// )
/// .await?;
/// let report = engine.probe_storage(&db);
/// assert!(report.is_healthy(), "{:?}", report.problem);
/// assert!(report.database_bytes.unwrap() > 0);
/// engine.shutdown().await;
/// # let _ = std::fs::remove_file(&db);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StorageReport {
    /// The database file probed.
    pub database: PathBuf,
    /// What is wrong, or `None` when the storage works.
    pub problem: Option<String>,
    /// How long the lookup took, waiting for the connection included.
    pub latency: Duration,
    /// Size of the database file, when its metadata can be read.
    pub database_bytes: Option<u64>,
    /// Size of the write-ahead log next to it, when there is one.
    pub wal_bytes: Option<u64>,
}

impl StorageReport {
    /// Whether the storage works.
    pub fn is_healthy(&self) -> bool {
        self.problem.is_none()
    }
}

impl EngineHandle {
    /// Checks the storage without changing it: times a lookup of a run that does not exist
    /// through the engine's connection, and checks that `database` (the file the engine was
    /// started with) is still there and writable.
    ///
    /// The lookup takes the connection's lock like any request does; statements are short,
    /// so it waits at most for the one running. A missing or read-only file is reported even
    /// though the open connection may still answer: the next write or restart would fail.
    ///
    /// Not checked: free disk space (SQLite reports a full disk only when a write fails) and
    /// page-level integrity (`PRAGMA quick_check` reads the whole file, too slow for a probe
    /// that runs every few seconds).
    pub fn probe_storage(&self, database: &Path) -> StorageReport {
        let started = Instant::now();
        let lookup = self.run("nestling-storage-probe");
        let latency = started.elapsed();

        let metadata = std::fs::metadata(database);
        let wal_bytes = std::fs::metadata(wal_path(database)).ok().map(|m| m.len());
        let problem = match (&lookup, &metadata) {
            (Err(error), _) => Some(format!("the database does not answer: {error}")),
            (_, Err(error)) => Some(format!(
                "the database file {} cannot be read: {error}",
                database.display()
            )),
            (_, Ok(m)) if m.permissions().readonly() => Some(format!(
                "the database file {} is read-only, so the next write will fail",
                database.display()
            )),
            _ if latency > SLOW_LOOKUP => Some(format!(
                "the database took {} ms to answer a one-row lookup",
                latency.as_millis()
            )),
            _ => None,
        };

        StorageReport {
            database: database.to_path_buf(),
            problem,
            latency,
            database_bytes: metadata.ok().map(|m| m.len()),
            wal_bytes,
        }
    }
}

fn wal_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, EngineConfig};

    fn temp_db(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "nestling-probe-{name}-{}.sqlite",
            std::process::id()
        ))
    }

    #[tokio::test]
    async fn a_working_store_is_healthy_and_a_vanished_file_is_reported() {
        let db = temp_db("vanish");
        let engine = Engine::start(
            EngineConfig::default()
                .with_bind("127.0.0.1:0".parse().unwrap())
                .with_database(&db)
                .with_poll_interval(None),
        )
        .await
        .unwrap();

        let report = engine.probe_storage(&db);
        assert!(report.is_healthy(), "{:?}", report.problem);
        assert!(report.database_bytes.unwrap() > 0);
        assert!(report.wal_bytes.is_some(), "the engine runs in WAL mode");

        // The open connection still answers, but the file is gone: a restart would start
        // from nothing, which the probe must say.
        std::fs::remove_file(&db).unwrap();
        let report = engine.probe_storage(&db);
        let problem = report.problem.unwrap();
        assert!(problem.contains("cannot be read"), "{problem}");

        engine.shutdown().await;
        let _ = std::fs::remove_file(wal_path(&db));
    }

    #[test]
    fn the_wal_sits_next_to_the_database() {
        assert_eq!(
            wal_path(Path::new("/data/app.sqlite")),
            PathBuf::from("/data/app.sqlite-wal")
        );
    }
}
