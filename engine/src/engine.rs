//! Starting and stopping the engine, and the handle an embedding app holds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::EngineConfig;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::{CHECKPOINT_INTERVAL, RunRow, RunStatus, Store, events, jobs, runs};
use crate::sync::SyncReport;
use crate::{api, executor, lifecycle, scheduler, sync};

/// The engine: a durable executor plus the dev-server HTTP API, in one process.
///
/// # Examples
///
/// ```
/// use nestling_engine::{Engine, EngineConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), nestling_engine::Error> {
/// let dir = std::env::temp_dir().join(format!("nestling-doc-{}", std::process::id()));
/// let config = EngineConfig::default()
///     .with_bind("127.0.0.1:0".parse().unwrap())
///     .with_database(dir.join("engine.sqlite"));
/// let engine = Engine::start(config).await?;
/// assert!(engine.url().starts_with("http://127.0.0.1:"));
///
/// let ids = engine.send_events(serde_json::json!({"name": "demo/hello", "data": {}})).await?;
/// assert_eq!(ids.len(), 1);
/// engine.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Engine;

impl Engine {
    /// Opens the database, binds the API and starts the scheduler; apps listed in the config
    /// are synced in the background.
    ///
    /// # Errors
    ///
    /// [`Error::OpenDatabase`] when the file cannot be opened, [`Error::Bind`] when the address
    /// is taken.
    pub async fn start(config: EngineConfig) -> Result<EngineHandle> {
        let store = Store::open(&config.database)?;
        let queued = store.write(|tx| jobs::unclaim_all(tx))?;

        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| Error::Bind {
                addr: config.bind,
                source,
            })?;
        let mut addr = listener.local_addr()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }

        let core = Arc::new(Core::new(config, store)?);
        let _ = core.base_url.set(format!("http://{addr}"));
        core.store
            .write(|tx| executor::schedule_crons(&core, tx, core.clock.now()))?;

        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener)?;
        let routes = api::routes(core.clone());
        let mut server_stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let stop = async move {
                let _ = server_stop.changed().await;
            };
            let server = poem::Server::new_with_acceptor(acceptor);
            if let Err(e) = server
                .run_with_graceful_shutdown(routes, stop, Some(Duration::from_secs(1)))
                .await
            {
                tracing::error!(target: "nestling_engine::api", error = %e, "HTTP server stopped");
            }
        }));
        tasks.push(tokio::spawn(scheduler::run(core.clone(), stop_rx.clone())));

        let initial = core.config.apps.clone();
        let sync_core = core.clone();
        tasks.push(tokio::spawn(async move {
            for url in initial {
                match sync::sync_url(&sync_core, &url).await {
                    Ok(r) => tracing::info!(target: "nestling_engine::sync", url, modified = r.modified, "app synced"),
                    Err(e) => tracing::warn!(target: "nestling_engine::sync", url, error = %e, "app not synced yet; will retry"),
                }
            }
        }));
        tasks.push(tokio::spawn(checkpoints(core.clone(), stop_rx.clone())));
        if let Some(interval) = core.config.poll_interval {
            tasks.push(tokio::spawn(sync::poll(core.clone(), interval, stop_rx)));
        }

        tracing::info!(
            target: "nestling_engine::lifecycle",
            addr = %addr,
            events = %format!("http://{addr}/e/<key>"),
            database = %core.config.database.display(),
            queued,
            "engine started"
        );
        Ok(EngineHandle {
            core,
            addr,
            stop: stop_tx,
            tasks,
        })
    }
}

/// Checkpoints the WAL every [`CHECKPOINT_INTERVAL`] while there are new commits, and once
/// more on the way out.
async fn checkpoints(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            () = tokio::time::sleep(CHECKPOINT_INTERVAL) => false,
            _ = shutdown.changed() => true,
        };
        if let Err(e) = core.store.checkpoint() {
            tracing::warn!(target: "nestling_engine::store", error = %e, "checkpointing the database failed; will try again");
        }
        if stopping {
            return;
        }
    }
}

/// A run as the handle reports it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunSummary {
    /// The run's ULID.
    pub id: String,
    /// The function's composite id (`<app>-<function>`).
    pub function: String,
    /// Where the run is.
    pub status: RunStatus,
    /// The return value, once completed.
    pub output: Option<Value>,
    /// The error, once failed or cancelled.
    pub error: Option<Value>,
    /// Internal ids of the events that started it.
    pub event_ids: Vec<String>,
}

impl From<RunRow> for RunSummary {
    fn from(r: RunRow) -> Self {
        Self {
            id: r.id,
            function: r.function_slug,
            status: r.status,
            output: r.output,
            error: r.error,
            event_ids: r.event_ids,
        }
    }
}

/// A running engine. Dropping it leaves the tasks running until the runtime ends; call
/// [`EngineHandle::shutdown`] to stop it cleanly.
#[derive(Debug)]
pub struct EngineHandle {
    core: Arc<Core>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl EngineHandle {
    /// The address the API listens on (the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for SDKs: `http://127.0.0.1:<port>`. Events go to `{url}/e/{key}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Syncs the app served at `url` (its Inngest endpoint, e.g. `http://127.0.0.1:3000/api/inngest`)
    /// and keeps polling it if polling is on.
    ///
    /// # Errors
    ///
    /// [`Error::Sync`] when the app does not answer or its registration is refused.
    pub async fn sync_app(&self, url: &str) -> Result<SyncReport> {
        sync::sync_url(&self.core, url).await
    }

    /// Sends events in-process (one object or an array), as `POST /e/{key}` would. Returns
    /// their ids once stored.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] naming the bad event; events before it are kept.
    pub async fn send_events(&self, events: Value) -> Result<Vec<String>> {
        let body = serde_json::to_vec(&events)?;
        match api::accept_events(&self.core, &body, None)? {
            (ids, None) => Ok(ids),
            (_, Some(reason)) => Err(Error::InvalidEvent(reason)),
        }
    }

    /// A run by id.
    ///
    /// # Errors
    ///
    /// A database error.
    pub fn run(&self, id: &str) -> Result<Option<RunSummary>> {
        Ok(self
            .core
            .store
            .read(|c| runs::run(c, id))?
            .map(RunSummary::from))
    }

    /// The runs an event started.
    ///
    /// # Errors
    ///
    /// A database error.
    pub fn runs_for_event(&self, event_id: &str) -> Result<Vec<RunSummary>> {
        self.core.store.read(|c| {
            let mut out = Vec::new();
            for id in events::runs_of_event(c, event_id)? {
                if let Some(r) = runs::run(c, &id)? {
                    out.push(RunSummary::from(r));
                }
            }
            Ok(out)
        })
    }

    /// Waits until the run has ended, polling the store.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRun`] when the run does not exist, [`Error::Timeout`] when it has not
    /// ended within `timeout`.
    pub async fn wait_for_run(&self, id: &str, timeout: Duration) -> Result<RunSummary> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let run = self
                .run(id)?
                .ok_or_else(|| Error::UnknownRun(id.to_owned()))?;
            if run.status != RunStatus::Running {
                return Ok(run);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout(format!(
                    "run {id} still running after {timeout:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A stream of `(run id, status)` for every run that ends from now on, announced as its
    /// final state is committed. Slow receivers miss old entries (see
    /// [`tokio::sync::broadcast`]).
    pub fn run_endings(&self) -> tokio::sync::broadcast::Receiver<(String, RunStatus)> {
        self.core.endings.subscribe()
    }

    /// Cancels a run, like `DELETE /v1/runs/{id}`. Returns false when it had already ended.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRun`] when there is no such run.
    pub fn cancel(&self, id: &str) -> Result<bool> {
        match cancel_run(&self.core, id)? {
            Some(r) => Ok(r.status == RunStatus::Cancelled),
            None => Err(Error::UnknownRun(id.to_owned())),
        }
    }

    /// Moves the engine's clock forward by `by`, as if that much time had passed: cron ticks,
    /// sleeps, wait and invoke timeouts, retries and flow-control windows that fall within
    /// it come due at once (each still runs its course: a cron tick starts its run, which is
    /// then called like any other). The clock never goes back, and the wall clock keeps
    /// running underneath; times the engine writes after this (run and event timestamps) are
    /// on the moved clock. Meant for tests, so that a daily cron function can be seen running
    /// on its tick without waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use nestling_engine::{Engine, EngineConfig};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), nestling_engine::Error> {
    /// let db = std::env::temp_dir().join(format!("nestling-doc-clock-{}.sqlite", std::process::id()));
    /// let engine = Engine::start(
    ///     EngineConfig::default().with_bind("127.0.0.1:0".parse().unwrap()).with_database(db),
    /// )
    /// .await?;
    /// engine.advance_clock(Duration::from_secs(24 * 3600)); // tomorrow's ticks are due now
    /// engine.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn advance_clock(&self, by: Duration) {
        self.core.clock.advance(by);
        self.core.wake.notify_one();
        tracing::debug!(target: "nestling_engine::clock", advanced_ms = by.as_millis() as u64, "clock moved forward");
    }

    /// Stops the API, the scheduler and polling. Calls in flight are abandoned; their jobs
    /// run again on the next start, from the last stored step.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
        tracing::info!(target: "nestling_engine::lifecycle", "engine stopped");
    }
}

/// Cancels a run; returns its state afterwards, or `None` when it does not exist.
pub(crate) fn cancel_run(core: &Core, id: &str) -> Result<Option<RunRow>> {
    let now = core.clock.now();
    let out = core.store.write(|tx| {
        let Some(run) = runs::run(tx, id)? else {
            return Ok(None);
        };
        if run.status == RunStatus::Running {
            let reason = json!({"name": "Cancelled", "message": "cancelled through the API"});
            lifecycle::cancel(core, tx, &run, reason, now)?;
        }
        runs::run(tx, id)
    })?;
    core.wake.notify_one();
    Ok(out)
}
