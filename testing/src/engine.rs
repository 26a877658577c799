//! `TestEngine`: the embedded durable engine on a free loopback port and a temporary SQLite
//! file, with helpers that send events and wait for their runs without ever hanging.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nestling_engine::{Engine, EngineConfig, EngineHandle, RunStatus, RunSummary};
use nestling_inngest::InngestModuleOptions;
use serde_json::Value;

use crate::TestingError;

/// Makes database names unique within a process (tests run in parallel threads).
static NEXT_DB: AtomicU64 = AtomicU64::new(0);

/// The embedded engine for one test: `127.0.0.1:0`, its own SQLite file (removed on drop),
/// a fast fixed retry interval and a compressed clock so sleeps, waits and retries take
/// milliseconds.
///
/// Point an app at it with [`inngest_options`](Self::inngest_options), serve the app on
/// loopback, [`sync_app`](Self::sync_app) it (or let the app register itself), then
/// [`send_and_wait`](Self::send_and_wait).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_testing::TestEngine;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let engine = TestEngine::start().await?;
/// assert!(engine.url().starts_with("http://127.0.0.1:"));
///
/// // No app is synced, so the event starts no run.
/// let ids = engine.send(serde_json::json!({"name": "app/nothing", "data": {}})).await?;
/// assert_eq!(ids.len(), 1);
/// assert!(engine.runs_for_event(&ids[0])?.is_empty());
/// engine.shutdown().await;
/// # Ok::<(), nestling_testing::TestingError>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TestEngine {
    handle: Option<EngineHandle>,
    database: PathBuf,
}

impl TestEngine {
    /// Starts the engine with the test defaults: time scale 0.001 (an hour takes 3.6 s) and
    /// a 10 ms retry interval, no polling of apps.
    ///
    /// # Errors
    ///
    /// [`TestingError::Engine`] when the database cannot be opened or the port bound.
    pub async fn start() -> Result<Self, TestingError> {
        Self::start_with(|config| config).await
    }

    /// Starts the engine after `configure` adjusted the test defaults (bind address and
    /// database are set afterwards and cannot be changed).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub async fn start_with(
        configure: impl FnOnce(EngineConfig) -> EngineConfig,
    ) -> Result<Self, TestingError> {
        let database = std::env::temp_dir().join(format!(
            "nestling-test-engine-{}-{}-{}.sqlite",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed),
            ulid::Ulid::new()
        ));
        let defaults = EngineConfig::default()
            .with_time_scale(0.001)
            .with_retry_interval(Duration::from_millis(10))
            .with_poll_interval(None);
        let config = configure(defaults)
            .with_bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .with_database(&database);
        let handle = Engine::start(config).await?;

        Ok(Self {
            handle: Some(handle),
            database,
        })
    }

    /// The engine's handle, for everything the helpers do not cover.
    ///
    /// # Panics
    ///
    /// Never after [`start`](Self::start); the handle is only taken by `shutdown`.
    pub fn handle(&self) -> &EngineHandle {
        self.handle
            .as_ref()
            .unwrap_or_else(|| panic!("the test engine was shut down"))
    }

    /// The engine's base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        self.handle().url()
    }

    /// The SQLite file the engine writes.
    pub fn database(&self) -> &Path {
        &self.database
    }

    /// Module options for an app that runs its functions on this engine: dev mode, the
    /// engine as API and Event API, advertised on `127.0.0.1`.
    ///
    /// With automatic registration (the default) the app registers itself once it listens,
    /// with the port it really got. If you disable it and call [`sync_app`](Self::sync_app)
    /// instead, also set `serve_port` to the app's port: the step URLs the app advertises are
    /// built from it, not from the URL the engine syncs.
    pub fn inngest_options(&self, app_id: &str) -> InngestModuleOptions {
        InngestModuleOptions::new(app_id)
            .dev(true)
            .base_url(self.url())
            .serve_host("127.0.0.1")
    }

    /// Syncs the app served at `url` (its Inngest endpoint).
    ///
    /// # Errors
    ///
    /// [`TestingError::Engine`] when the app does not answer or is refused.
    pub async fn sync_app(&self, url: &str) -> Result<nestling_engine::SyncReport, TestingError> {
        Ok(self.handle().sync_app(url).await?)
    }

    /// Sends one event object or an array of them; returns their ids.
    ///
    /// # Errors
    ///
    /// [`TestingError::Engine`] naming a bad event.
    pub async fn send(&self, events: Value) -> Result<Vec<String>, TestingError> {
        Ok(self.handle().send_events(events).await?)
    }

    /// The runs an event started so far.
    ///
    /// # Errors
    ///
    /// [`TestingError::Engine`] on a database error.
    pub fn runs_for_event(&self, event_id: &str) -> Result<Vec<RunSummary>, TestingError> {
        Ok(self.handle().runs_for_event(event_id)?)
    }

    /// Waits until the event has started at least `expected` runs and all of them ended.
    ///
    /// # Errors
    ///
    /// [`TestingError::Timeout`] saying how many runs there were and which still run.
    pub async fn wait_for_runs(
        &self,
        event_id: &str,
        expected: usize,
        timeout: Duration,
    ) -> Result<Vec<RunSummary>, TestingError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let runs = self.runs_for_event(event_id)?;
            let running: Vec<&str> = runs
                .iter()
                .filter(|r| r.status == RunStatus::Running)
                .map(|r| r.function.as_str())
                .collect();
            if runs.len() >= expected && running.is_empty() {
                return Ok(runs);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(TestingError::Timeout {
                    what: format!(
                        "{expected} finished run(s) of event {event_id} (found {}, still \
                         running: [{}])",
                        runs.len(),
                        running.join(", ")
                    ),
                    after: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends one event and waits for the `expected` runs it starts to end.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send) and [`wait_for_runs`](Self::wait_for_runs).
    pub async fn send_and_wait(
        &self,
        event: Value,
        expected: usize,
        timeout: Duration,
    ) -> Result<Vec<RunSummary>, TestingError> {
        let ids = self.send(event).await?;
        let Some(id) = ids.first() else {
            return Err(TestingError::Timeout {
                what: "an event id from the engine".to_owned(),
                after: Duration::ZERO,
            });
        };

        self.wait_for_runs(id, expected, timeout).await
    }

    /// Stops the engine and removes its database.
    pub async fn shutdown(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await;
        }
        remove_database(&self.database);
    }
}

impl Drop for TestEngine {
    fn drop(&mut self) {
        // Without `shutdown` the engine's tasks end with the test's runtime; the file can go
        // now either way (SQLite keeps an open handle valid on Unix).
        remove_database(&self.database);
    }
}

fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}
