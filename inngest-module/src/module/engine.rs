//! The embedded engine the module starts in-process when no outside server is configured.
//!
//! Without the `embedded-engine` feature the type stays (the service and the health module
//! ask it for its storage either way) but never holds an engine: options that would start one
//! fail to resolve, and a hand-built [`ResolvedOptions`] that asks for one fails here with
//! [`Error::FeatureDisabled`].

use std::path::PathBuf;

use nestling::{BoxError, OnModuleDestroy};
#[cfg(feature = "embedded-engine")]
use nestling_engine::{Engine, EngineConfig, EngineHandle, RunStatus};
#[cfg(feature = "embedded-engine")]
use parking_lot::Mutex;
#[cfg(feature = "embedded-engine")]
use tokio::sync::broadcast::Receiver;

use crate::{EngineStorageReport, Error, ResolvedOptions};

/// The embedded engine, when the app runs without an outside server.
pub struct EmbeddedEngine {
    #[cfg(feature = "embedded-engine")]
    handle: Mutex<Option<EngineHandle>>,
    origin: Option<String>,
    database: Option<PathBuf>,
}

impl std::fmt::Debug for EmbeddedEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedEngine")
            .field("origin", &self.origin)
            .field("database", &self.database)
            .finish()
    }
}

impl EmbeddedEngine {
    /// No engine: the app uses an outside server.
    fn none() -> Self {
        Self {
            #[cfg(feature = "embedded-engine")]
            handle: Mutex::new(None),
            origin: None,
            database: None,
        }
    }

    #[cfg(not(feature = "embedded-engine"))]
    pub(super) async fn start_if_needed(options: &ResolvedOptions) -> Result<Self, Error> {
        if options.embedded_engine() {
            return Err(Error::FeatureDisabled {
                option: "base_url",
                feature: "embedded-engine",
                reason: "no Inngest server is configured, so the embedded engine would run the \
                         functions"
                    .to_owned(),
                instead: "set `base_url` (or INNGEST_BASE_URL, INNGEST_DEV=1, or a signing key \
                          for Inngest Cloud)",
            });
        }

        Ok(Self::none())
    }

    #[cfg(feature = "embedded-engine")]
    pub(super) async fn start_if_needed(options: &ResolvedOptions) -> Result<Self, Error> {
        use std::net::SocketAddr;

        if !options.embedded_engine() {
            return Ok(Self::none());
        }

        // The dev server's well-known address, so that `curl .../e/{key}` and the web page are
        // where users expect them; test suites set `NESTLING_ENGINE_ADDR=127.0.0.1:0` (as
        // `scripts/test` does) so that engines started side by side do not collide.
        let bind = std::env::var("NESTLING_ENGINE_ADDR")
            .ok()
            .and_then(|addr| addr.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], nestling_engine::DEFAULT_PORT)));
        let database = std::env::var_os("NESTLING_ENGINE_DB")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(".nestling").join(format!("{}.sqlite", options.app_id))
            });
        if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| Error::EngineStart {
                reason: format!("cannot create {}: {err}", dir.display()),
            })?;
        }

        let config = EngineConfig::default()
            .with_bind(bind)
            .with_database(&database)
            .with_poll_interval(None)
            // The app URL stored by the previous run of this app points at a port that is
            // gone; runs wait for this process's registration instead of failing against it.
            .with_calls_held_until_sync(true);
        let handle = Engine::start(config)
            .await
            .map_err(|err| Error::EngineStart {
                reason: err.to_string(),
            })?;
        let origin = handle.url();
        tracing::info!(
            target: "nestling_inngest::module",
            url = %origin,
            database = %database.display(),
            "embedded Inngest engine started"
        );

        Ok(Self {
            handle: Mutex::new(Some(handle)),
            origin: Some(origin),
            database: Some(database),
        })
    }

    /// The engine's URL, when it runs.
    pub fn origin(&self) -> Option<String> {
        self.origin.clone()
    }

    /// The engine's SQLite file, when it runs.
    pub fn database(&self) -> Option<PathBuf> {
        self.database.clone()
    }

    /// Probes the engine's storage (read-only), or `None` when no engine runs (or it has
    /// stopped, or this build has no embedded engine).
    pub fn storage_report(&self) -> Option<EngineStorageReport> {
        #[cfg(feature = "embedded-engine")]
        {
            let database = self.database.as_deref()?;
            let handle = self.handle.lock();
            let report = handle.as_ref()?.probe_storage(database);
            Some(report.into())
        }
        #[cfg(not(feature = "embedded-engine"))]
        None
    }

    /// Run endings as the engine announces them, while it runs.
    #[cfg(feature = "embedded-engine")]
    pub(crate) fn run_endings(&self) -> Option<Receiver<(String, RunStatus)>> {
        self.handle.lock().as_ref().map(EngineHandle::run_endings)
    }

    /// The composite id of the function a run belongs to.
    #[cfg(feature = "embedded-engine")]
    pub(crate) fn run_function(&self, run_id: &str) -> Option<String> {
        let handle = self.handle.lock();
        let run = handle.as_ref()?.run(run_id).ok()??;
        Some(run.function)
    }
}

#[nestling::async_trait]
impl OnModuleDestroy for EmbeddedEngine {
    async fn on_module_destroy(&self) -> Result<(), BoxError> {
        #[cfg(feature = "embedded-engine")]
        {
            let handle = self.handle.lock().take();
            if let Some(handle) = handle {
                handle.shutdown().await;
            }
        }
        Ok(())
    }
}
