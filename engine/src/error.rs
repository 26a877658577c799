//! The crate's one error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can go wrong when starting, driving or stopping the engine.
///
/// Each message names what failed and, where it helps, how to fix it.
///
/// # Examples
///
/// ```
/// use nestling_engine::Error;
///
/// let err = Error::UnknownRun("01J000".into());
/// assert!(err.to_string().contains("01J000"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SQLite database could not be opened or created.
    #[error(
        "nestling-engine: cannot open the database {path}: {source}; \
         check that the folder is writable and that no other engine uses the file, \
         or set `EngineConfig::database`"
    )]
    OpenDatabase {
        /// The file the engine tried to open.
        path: PathBuf,
        /// What SQLite reported.
        source: rusqlite::Error,
    },
    /// A read or write of the database failed while the engine was running.
    #[error("nestling-engine: database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The HTTP listener could not bind its address.
    #[error(
        "nestling-engine: cannot listen on {addr}: {source}; \
         another process may hold the port (use port 0 for a free one)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS reported.
        source: std::io::Error,
    },
    /// An app URL given to sync could not be reached or did not register.
    #[error("nestling-engine: syncing the app at {url} failed: {reason}")]
    Sync {
        /// The app's serve URL.
        url: String,
        /// Why the sync failed.
        reason: String,
    },
    /// A run id that the store does not know.
    #[error("nestling-engine: no run with id {0}")]
    UnknownRun(String),
    /// A stored value could not be decoded (a sign of a damaged database).
    #[error("nestling-engine: stored data is not valid JSON: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// An event was refused by the event API.
    #[error("nestling-engine: invalid event: {0}")]
    InvalidEvent(String),
    /// Waiting for something took longer than allowed.
    #[error("nestling-engine: timed out: {0}")]
    Timeout(String),
    /// An I/O error outside the database (creating folders, the listener).
    #[error("nestling-engine: I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
