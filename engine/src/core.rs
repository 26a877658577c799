//! The state every part of the engine shares: the store, the function registry, compiled
//! expressions, the HTTP client and the scheduler's wake-up signal.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::EngineConfig;
use crate::error::Result;
use crate::expr::Exprs;
use crate::function::FunctionDef;
use crate::store::{Store, apps};

/// Shared engine internals.
pub(crate) struct Core {
    pub(crate) store: Store,
    pub(crate) config: EngineConfig,
    pub(crate) clock: Clock,
    pub(crate) exprs: Exprs,
    pub(crate) http: reqwest::Client,
    /// Wakes the scheduler when new work is queued or a call ends.
    pub(crate) wake: Notify,
    functions: RwLock<Arc<Vec<Arc<FunctionDef>>>>,
    /// Calls in flight per concurrency scope.
    pub(crate) inflight: Mutex<HashMap<String, u32>>,
    ulids: Mutex<ulid::Generator>,
    /// Announces every run that ends (id, status).
    pub(crate) endings: tokio::sync::broadcast::Sender<(String, crate::RunStatus)>,
    /// `http://host:port` once the listener is bound.
    pub(crate) base_url: OnceLock<String>,
    /// True while calls wait for the first sync of this process (`hold_calls_until_sync`).
    pub(crate) calls_held: AtomicBool,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Core {
    pub(crate) fn new(config: EngineConfig, store: Store) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.call_timeout)
            .build()
            .map_err(|e| crate::Error::Io(std::io::Error::other(e)))?;
        let clock = Clock::new(config.time_scale, config.retry_interval);
        let calls_held = AtomicBool::new(config.hold_calls_until_sync);
        let core = Self {
            store,
            config,
            clock,
            exprs: Exprs::default(),
            http,
            wake: Notify::new(),
            functions: RwLock::new(Arc::new(Vec::new())),
            inflight: Mutex::new(HashMap::new()),
            ulids: Mutex::new(ulid::Generator::new()),
            endings: tokio::sync::broadcast::channel(1024).0,
            base_url: OnceLock::new(),
            calls_held,
        };
        core.reload_functions()?;
        Ok(core)
    }

    /// A new ULID, strictly increasing within this process.
    pub(crate) fn ulid(&self) -> String {
        let mut generator = self.ulids.lock();
        generator
            .generate()
            .unwrap_or_else(|_| ulid::Ulid::new())
            .to_string()
    }

    /// The active functions.
    pub(crate) fn functions(&self) -> Arc<Vec<Arc<FunctionDef>>> {
        self.functions.read().clone()
    }

    /// A function by UUID or slug, archived ones included (runs outlive re-syncs).
    pub(crate) fn function(&self, id_or_slug: &str) -> Result<Option<Arc<FunctionDef>>> {
        if let Some(f) = self
            .functions()
            .iter()
            .find(|f| f.id == id_or_slug || f.slug == id_or_slug)
        {
            return Ok(Some(f.clone()));
        }
        let row = self.store.read(|c| apps::function(c, id_or_slug))?;
        Ok(row
            .and_then(|r| FunctionDef::parse(&r, &self.exprs).ok())
            .map(Arc::new))
    }

    /// Rebuilds the registry from the store (after a sync and at start).
    pub(crate) fn reload_functions(&self) -> Result<()> {
        let rows = self.store.read(apps::active_functions)?;
        let defs = rows
            .iter()
            .filter_map(|r| match FunctionDef::parse(r, &self.exprs) {
                Ok(d) => Some(Arc::new(d)),
                Err(errors) => {
                    tracing::warn!(target: "nestling_engine::registry", function = %r.slug, ?errors, "stored function no longer valid; skipped");
                    None
                }
            })
            .collect();
        *self.functions.write() = Arc::new(defs);
        Ok(())
    }
}
