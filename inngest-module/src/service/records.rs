//! What the service remembers for health reports: the last registration and the embedded
//! engine's storage.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use nestling_inngest_protocol::RegisterResponse;

use crate::Error;

/// One registration of the app's functions with the Inngest server (an automatic one when
/// the app starts listening, one the executor asked for with a `PUT`, or one made with
/// `register_with_dev_server`).
///
/// # Examples
///
/// ```
/// use std::time::SystemTime;
/// use nestling_inngest::{SyncOutcome, SyncRecord};
///
/// let record = SyncRecord {
///     at: SystemTime::now(),
///     url: "http://127.0.0.1:3000/api/inngest".to_owned(),
///     outcome: SyncOutcome::Registered { functions: 2, modified: true },
/// };
/// assert!(record.succeeded());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRecord {
    /// When the registration ended.
    pub at: SystemTime,
    /// The URL registered (where Inngest calls the app).
    pub url: String,
    /// How it went.
    pub outcome: SyncOutcome,
}

impl SyncRecord {
    /// Whether the server accepted the registration.
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, SyncOutcome::Registered { .. })
    }

    pub(crate) fn of(
        url: &str,
        functions: usize,
        result: &Result<RegisterResponse, Error>,
    ) -> Self {
        let outcome = match result {
            Ok(response) => match &response.error {
                Some(error) if !response.ok => SyncOutcome::Failed {
                    message: error.clone(),
                },
                _ => SyncOutcome::Registered {
                    functions,
                    modified: response.modified,
                },
            },
            Err(error) => SyncOutcome::Failed {
                message: error.to_string(),
            },
        };

        Self {
            at: SystemTime::now(),
            url: url.to_owned(),
            outcome,
        }
    }
}

/// How a registration went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncOutcome {
    /// The server accepted the functions.
    Registered {
        /// How many functions were registered.
        functions: usize,
        /// Whether the server's stored configuration changed.
        modified: bool,
    },
    /// The server refused or could not be reached.
    Failed {
        /// Why.
        message: String,
    },
}

/// What a probe of the embedded engine's storage found. The probe only reads: it times a
/// lookup through the engine's own database connection and looks at the files.
///
/// # Examples
///
/// ```
/// use nestling_inngest::EngineStorageReport;
///
/// fn describe(report: &EngineStorageReport) -> String {
///     match &report.problem {
///         None => format!("{} answered in {:?}", report.database.display(), report.latency),
///         Some(problem) => problem.clone(),
///     }
/// }
/// # let _ = describe;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EngineStorageReport {
    /// The SQLite file.
    pub database: PathBuf,
    /// What is wrong, or `None` when the storage works.
    pub problem: Option<String>,
    /// How long the lookup took, waiting for the connection included.
    pub latency: Duration,
    /// Size of the database file, when it can be read.
    pub database_bytes: Option<u64>,
    /// Size of its write-ahead log, when there is one.
    pub wal_bytes: Option<u64>,
}

impl EngineStorageReport {
    /// Whether the storage works.
    pub fn is_healthy(&self) -> bool {
        self.problem.is_none()
    }
}

#[cfg(feature = "embedded-engine")]
impl From<nestling_engine::StorageReport> for EngineStorageReport {
    fn from(report: nestling_engine::StorageReport) -> Self {
        let nestling_engine::StorageReport {
            database,
            problem,
            latency,
            database_bytes,
            wal_bytes,
            ..
        } = report;
        Self {
            database,
            problem,
            latency,
            database_bytes,
            wal_bytes,
        }
    }
}
