//! How the engine is set up: address, database file, keys and time compression.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The default port of the Inngest dev server, which the SDKs use when no base URL is set.
pub const DEFAULT_PORT: u16 = 8288;

/// Settings for [`Engine::start`](crate::Engine::start).
///
/// `EngineConfig::default()` matches `inngest dev`: it listens on `127.0.0.1:8288`, stores its
/// state in `.nestling/engine.sqlite` under the working directory, accepts any event key and
/// signs nothing. Builder methods change one setting each.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nestling_engine::EngineConfig;
///
/// let config = EngineConfig::default()
///     .with_bind("127.0.0.1:0".parse().unwrap())
///     .with_database(std::env::temp_dir().join("doc-engine.sqlite"))
///     .with_retry_interval(Duration::from_millis(50))
///     .with_time_scale(0.01);
/// assert_eq!(config.bind.port(), 0);
/// assert_eq!(config.time_scale, 0.01);
/// ```
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the HTTP API listens. Port 0 asks the OS for a free port.
    pub bind: SocketAddr,
    /// The SQLite file holding events, runs, steps, pauses, schedules and apps. Its folder is
    /// created when missing.
    pub database: PathBuf,
    /// Signing key (`signkey-<env>-<hex>`). When set, calls to apps are signed and
    /// `/fn/register` and the `/v0`, `/v1` APIs require `Authorization: Bearer <key or hash>`.
    pub signing_key: Option<String>,
    /// A second accepted signing key, for key rotation.
    pub signing_key_fallback: Option<String>,
    /// Accepted event keys for `POST /e/{key}`. Empty accepts any key, like the dev server.
    pub event_keys: Vec<String>,
    /// Factor applied to every delay the engine schedules itself: sleeps, wait and invoke
    /// timeouts, retry backoff, debounce and batch windows, throttle and rate-limit periods,
    /// run timeouts. `1.0` is real time; `0.001` turns an hour into 3.6 s. Cron ticks are
    /// never compressed.
    pub time_scale: f64,
    /// A fixed delay between retries that replaces the backoff table (like the dev server's
    /// `--retry-interval`). Not scaled by `time_scale`.
    pub retry_interval: Option<Duration>,
    /// App URLs to sync when the engine starts (`nestling-dev -u URL`).
    pub apps: Vec<String>,
    /// How often known apps are pinged with a `PUT` so they re-register; `None` turns polling
    /// off. The dev server pings every 5 s.
    pub poll_interval: Option<Duration>,
    /// Time limit of one call to an app. The real executor allows 2 h.
    pub call_timeout: Duration,
    /// How many calls to apps may be in flight at once across all functions.
    pub workers: usize,
    /// Whether calls to apps wait until an app has synced with this process. An engine
    /// embedded in its app turns it on: the app URLs stored by an earlier process point at a
    /// port that is gone, and a run started before the restarted app has synced again (an
    /// event sent at start-up, a run resumed from the database) would fail its first attempt
    /// there. Timers, events and pauses are handled meanwhile; only calls wait.
    pub hold_calls_until_sync: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            database: PathBuf::from(".nestling").join("engine.sqlite"),
            signing_key: None,
            signing_key_fallback: None,
            event_keys: Vec::new(),
            time_scale: 1.0,
            retry_interval: None,
            apps: Vec::new(),
            poll_interval: Some(Duration::from_secs(5)),
            call_timeout: Duration::from_secs(2 * 60 * 60),
            workers: 64,
            hold_calls_until_sync: false,
        }
    }
}

impl EngineConfig {
    /// Sets the listen address.
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Sets the SQLite file.
    pub fn with_database(mut self, path: impl Into<PathBuf>) -> Self {
        self.database = path.into();
        self
    }

    /// Sets the signing key.
    pub fn with_signing_key(mut self, key: impl Into<String>) -> Self {
        self.signing_key = Some(key.into());
        self
    }

    /// Adds an accepted event key.
    pub fn with_event_key(mut self, key: impl Into<String>) -> Self {
        self.event_keys.push(key.into());
        self
    }

    /// Sets the time compression factor (see [`EngineConfig::time_scale`]).
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// Replaces the backoff table with a fixed delay between retries.
    pub fn with_retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = Some(interval);
        self
    }

    /// Adds an app URL to sync on start.
    pub fn with_app(mut self, url: impl Into<String>) -> Self {
        self.apps.push(url.into());
        self
    }

    /// Sets or clears the polling of known apps.
    pub fn with_poll_interval(mut self, interval: Option<Duration>) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets the time limit of one call to an app.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Makes calls to apps wait until an app syncs with this process (see
    /// [`hold_calls_until_sync`](Self::hold_calls_until_sync)).
    pub fn with_calls_held_until_sync(mut self, hold: bool) -> Self {
        self.hold_calls_until_sync = hold;
        self
    }
}
