//! Where option resolution reads environment variables from.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

/// A source of environment variables for [`InngestModuleOptions::resolve`].
///
/// Resolution never reads the process environment by itself: it asks an `EnvSource`. Production
/// code passes [`ProcessEnv`]; tests pass a map, so they never mutate the (shared) process
/// environment. An empty value counts as unset, which is what a shell user means by
/// `INNGEST_BASE_URL= cargo run`.
///
/// [`InngestModuleOptions::resolve`]: crate::InngestModuleOptions::resolve
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::EnvSource;
///
/// let env = BTreeMap::from([("INNGEST_DEV", "1"), ("PORT", "")]);
/// assert_eq!(env.var("INNGEST_DEV").as_deref(), Some("1"));
/// assert_eq!(env.var("PORT"), None, "empty values count as unset");
/// assert_eq!(env.var("INNGEST_ENV"), None);
/// ```
pub trait EnvSource {
    /// The raw value of `name`, if set. Implementors return it untrimmed; [`EnvSource::var`]
    /// filters empty values.
    fn raw_var(&self, name: &str) -> Option<String>;

    /// The value of `name`, or `None` when it is unset or empty (after trimming whitespace).
    fn var(&self, name: &str) -> Option<String> {
        let value = self.raw_var(name)?;
        let trimmed = value.trim();

        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }
}

/// The environment of the running process (`std::env::var`).
///
/// # Examples
///
/// ```
/// use nestling_inngest::{EnvSource, ProcessEnv};
///
/// // Reading a variable nobody sets.
/// assert_eq!(ProcessEnv.var("NESTLING_DOC_TEST_SURELY_UNSET"), None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn raw_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<K, V, S> EnvSource for HashMap<K, V, S>
where
    K: Borrow<str> + Hash + Eq,
    V: AsRef<str>,
    S: BuildHasher,
{
    fn raw_var(&self, name: &str) -> Option<String> {
        self.get(name).map(|value| value.as_ref().to_owned())
    }
}

impl<K, V> EnvSource for BTreeMap<K, V>
where
    K: Borrow<str> + Ord,
    V: AsRef<str>,
{
    fn raw_var(&self, name: &str) -> Option<String> {
        self.get(name).map(|value| value.as_ref().to_owned())
    }
}

impl<T: EnvSource + ?Sized> EnvSource for &T {
    fn raw_var(&self, name: &str) -> Option<String> {
        (**self).raw_var(name)
    }
}

/// Names of every environment variable that option resolution reads.
///
/// Each constant's value is its own name, so code and docs can refer to the variables without
/// typos.
///
/// # Examples
///
/// ```
/// use nestling_inngest::env_vars;
///
/// assert_eq!(env_vars::INNGEST_SIGNING_KEY, "INNGEST_SIGNING_KEY");
/// ```
pub mod env_vars {
    /// App id, when `id` is not given (a Nestling extension the NestJS seed documents).
    pub const INNGEST_APP_ID: &str = "INNGEST_APP_ID";
    /// Origin of both the Inngest API and the event API.
    pub const INNGEST_BASE_URL: &str = "INNGEST_BASE_URL";
    /// Origin of the Inngest API only (wins over `INNGEST_BASE_URL`).
    pub const INNGEST_API_BASE_URL: &str = "INNGEST_API_BASE_URL";
    /// Origin of the event API only (wins over `INNGEST_BASE_URL`).
    pub const INNGEST_EVENT_API_BASE_URL: &str = "INNGEST_EVENT_API_BASE_URL";
    /// Event key used to send events.
    pub const INNGEST_EVENT_KEY: &str = "INNGEST_EVENT_KEY";
    /// Signing key: verifies requests from Inngest and authenticates calls to its API.
    pub const INNGEST_SIGNING_KEY: &str = "INNGEST_SIGNING_KEY";
    /// Fallback signing key, tried when the primary one is rejected (key rotation).
    pub const INNGEST_SIGNING_KEY_FALLBACK: &str = "INNGEST_SIGNING_KEY_FALLBACK";
    /// Port the app listens on, advertised in the sync URL.
    pub const INNGEST_SERVE_PORT: &str = "INNGEST_SERVE_PORT";
    /// Conventional port variable of hosting platforms, read after `INNGEST_SERVE_PORT`.
    pub const PORT: &str = "PORT";
    /// Origin (or bare host name) advertised in the sync URL.
    pub const INNGEST_SERVE_ORIGIN: &str = "INNGEST_SERVE_ORIGIN";
    /// Older name of `INNGEST_SERVE_ORIGIN`, read after it.
    pub const INNGEST_SERVE_HOST: &str = "INNGEST_SERVE_HOST";
    /// Path advertised in the sync URL, when it differs from the mount path (behind a proxy).
    pub const INNGEST_SERVE_PATH: &str = "INNGEST_SERVE_PATH";
    /// Path the serve endpoint is mounted at.
    pub const INNGEST_PATH: &str = "INNGEST_PATH";
    /// `serve` or `connect`.
    pub const INNGEST_MODE: &str = "INNGEST_MODE";
    /// `1`/`true` (dev server), `0`/`false` (not dev), or the URL of a dev server.
    pub const INNGEST_DEV: &str = "INNGEST_DEV";
    /// Inngest environment (branch) name, sent as `X-Inngest-Env`.
    pub const INNGEST_ENV: &str = "INNGEST_ENV";
    /// App version reported at registration.
    pub const INNGEST_APP_VERSION: &str = "INNGEST_APP_VERSION";
    /// Connect mode: id of this worker instance.
    pub const INNGEST_INSTANCE_ID: &str = "INNGEST_INSTANCE_ID";
    /// Connect mode: maximum concurrent executions on this worker.
    pub const INNGEST_CONNECT_MAX_WORKER_CONCURRENCY: &str =
        "INNGEST_CONNECT_MAX_WORKER_CONCURRENCY";
    /// Connect mode: WebSocket gateway URL override.
    pub const INNGEST_CONNECT_GATEWAY_URL: &str = "INNGEST_CONNECT_GATEWAY_URL";
    /// Connect mode: run each execution isolated from the connection's task.
    pub const INNGEST_CONNECT_ISOLATE_EXECUTION: &str = "INNGEST_CONNECT_ISOLATE_EXECUTION";
    /// Connect mode: graceful shutdown timeout in milliseconds (or a duration like `30s`).
    pub const INNGEST_SHUTDOWN_TIMEOUT: &str = "INNGEST_SHUTDOWN_TIMEOUT";
    /// Platform instance ids, read in this order when `INNGEST_INSTANCE_ID` is unset.
    pub const INSTANCE_ID_FALLBACKS: [&str; 4] = [
        "FLY_MACHINE_ID",
        "RENDER_INSTANCE_ID",
        "K_REVISION",
        "HOSTNAME",
    ];
    /// OpenTelemetry's standard service-name variable, read for `tracing.service_name`.
    pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
    /// OpenTelemetry's standard exporter endpoint, read for `tracing.otlp_endpoint`.
    pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
}
