//! `InngestModuleOptions`: what the user passes to `InngestModule::for_root`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};

use super::sections::{ConnectOptions, HealthOptions, MonitoringOptions, TracingOptions};

/// Global middleware as the module options hold it: run around every function, before the
/// function's own `#[use_middleware]` list.
pub type MiddlewareHandle = Arc<dyn crate::InngestMiddleware>;

/// How the app and Inngest talk to each other.
///
/// # Examples
///
/// ```
/// use nestling_inngest::ConnectionMode;
///
/// assert_eq!("Connect".parse::<ConnectionMode>(), Ok(ConnectionMode::Connect));
/// assert_eq!(ConnectionMode::default(), ConnectionMode::Serve);
/// assert!("websocket".parse::<ConnectionMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionMode {
    /// The app serves an HTTP endpoint (at `path`) that Inngest calls. The default.
    #[default]
    Serve,
    /// The app opens a WebSocket to Inngest's gateway and receives work over it; no public
    /// endpoint needed.
    Connect,
}

impl ConnectionMode {
    /// `serve` or `connect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Serve => "serve",
            Self::Connect => "connect",
        }
    }
}

impl fmt::Display for ConnectionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConnectionMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "serve" => Ok(Self::Serve),
            "connect" => Ok(Self::Connect),
            _ => Err(format!("`{text}` is not a mode; use `serve` or `connect`")),
        }
    }
}

impl<'de> Deserialize<'de> for ConnectionMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Options of the Inngest module, as the user writes them.
///
/// Every field is an `Option`: `None` means "not set here", so the matching `INNGEST_*`
/// environment variable or the default applies. Nothing is decided until
/// [`InngestModuleOptions::resolve`] turns the options into [`ResolvedOptions`], which is also
/// where validation happens. The struct is its own builder: each field has a setter of the same
/// name that takes `self`, and the struct deserialises from configuration (snake_case keys, the
/// seed's camelCase names accepted as aliases, unknown keys rejected so typos are not silently
/// ignored).
///
/// | field | environment variables, in order | default |
/// |---|---|---|
/// | `id` | `INNGEST_APP_ID` | required |
/// | `event_key` | `INNGEST_EVENT_KEY` | none (`NO_EVENT_KEY_SET` in dev) |
/// | `base_url` | API: `INNGEST_API_BASE_URL`, `INNGEST_BASE_URL`, URL in `INNGEST_DEV`; events: `INNGEST_EVENT_API_BASE_URL`, `INNGEST_BASE_URL`, URL in `INNGEST_DEV` | per [`ServerKind`] |
/// | `signing_key` | `INNGEST_SIGNING_KEY` | none |
/// | `signing_key_fallback` | `INNGEST_SIGNING_KEY_FALLBACK` | none |
/// | `dev` | `INNGEST_DEV` | see [`ServerKind`] |
/// | `is_global` | — | `false` |
/// | `mode` | `INNGEST_MODE` | `serve` |
/// | `connect` | see [`ConnectOptions`] | see [`ConnectOptions`] |
/// | `path` | `INNGEST_PATH` | `/api/inngest` |
/// | `serve_path` | `INNGEST_SERVE_PATH` | `path` |
/// | `serve_port` | `INNGEST_SERVE_PORT`, `PORT` | `3000` |
/// | `serve_origin`, then `serve_host` | `INNGEST_SERVE_ORIGIN`, `INNGEST_SERVE_HOST` | `localhost` |
/// | `environment` | `INNGEST_ENV` | none |
/// | `app_version` | `INNGEST_APP_VERSION` | none |
/// | `disable_auto_registration` | — | `false` |
/// | `tracing`, `monitoring`, `health` | see their types | see their types |
///
/// [`ResolvedOptions`]: crate::ResolvedOptions
/// [`ServerKind`]: crate::ServerKind
///
/// # Examples
///
/// ```
/// use nestling_inngest::{InngestModuleOptions, ServerKind};
/// use std::collections::BTreeMap;
///
/// let options = InngestModuleOptions::new("my-app")
///     .base_url("http://localhost:8288")
///     .serve_port(3002);
///
/// // The environment fills in what the options leave unset.
/// let env = BTreeMap::from([("INNGEST_EVENT_KEY", "local-key"), ("PORT", "4000")]);
/// let resolved = options.resolve(&env)?;
/// assert_eq!(resolved.server, ServerKind::DevServer);
/// assert_eq!(resolved.event_key.as_deref(), Some("local-key"));
/// assert_eq!(resolved.serve_url(), "http://localhost:3002/api/inngest");
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
///
/// From configuration (what a `for_root_async` factory does with the config service):
///
/// ```
/// use nestling_inngest::InngestModuleOptions;
///
/// let options: InngestModuleOptions = serde_json::from_str(r#"{
///     "id": "my-app",
///     "mode": "connect",
///     "connect": {"instanceId": "worker-1", "shutdownTimeout": "1m"},
///     "health": {"checkInterval": 60000}
/// }"#)?;
/// assert_eq!(options.connect.unwrap().shutdown_timeout, Some(std::time::Duration::from_secs(60)));
///
/// let typo = serde_json::from_str::<InngestModuleOptions>(r#"{"id": "a", "signingkey": "x"}"#);
/// assert!(typo.unwrap_err().to_string().contains("unknown field `signingkey`"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct InngestModuleOptions {
    /// App id, as Inngest shows it; prefixes every function id (`<app>-<fn>`).
    pub id: Option<String>,
    /// Key for sending events.
    #[serde(alias = "eventKey")]
    pub event_key: Option<String>,
    /// Origin of the Inngest server (dev server, self-hosted or Cloud), for both the API and the
    /// event API. Leave unset for the embedded engine or Inngest Cloud.
    #[serde(alias = "baseUrl")]
    pub base_url: Option<String>,
    /// Signing key (`signkey-<env>-<hex>`): verifies requests from Inngest and authenticates
    /// calls to its API. Required for Inngest Cloud and self-hosted Inngest.
    #[serde(alias = "signingKey")]
    pub signing_key: Option<String>,
    /// Fallback signing key, tried when the primary one is rejected (key rotation).
    #[serde(alias = "signingKeyFallback")]
    pub signing_key_fallback: Option<String>,
    /// `true` forces dev-server mode (no signature checks), `false` forbids it (the official
    /// SDKs' `isDev`). Overrides `INNGEST_DEV`.
    #[serde(alias = "isDev")]
    pub dev: Option<bool>,
    /// Make the module's providers visible to every module of the app (not by default). With
    /// `for_root_async`, visibility is set next to the factory with `AsyncOptions::is_global`,
    /// since it must be known before any factory runs; a factory that sets this to something
    /// else fails start-up naming `is_global`.
    #[serde(alias = "isGlobal")]
    pub is_global: Option<bool>,
    /// Serve (HTTP endpoint) or connect (WebSocket).
    pub mode: Option<ConnectionMode>,
    /// Connect-mode options.
    pub connect: Option<ConnectOptions>,
    /// Path the serve endpoint is mounted at, e.g. `/api/inngest`.
    pub path: Option<String>,
    /// Path advertised to Inngest in the sync URL, when a proxy rewrites it; defaults to `path`.
    #[serde(alias = "servePath")]
    pub serve_path: Option<String>,
    /// Port the app listens on, advertised in the sync URL.
    #[serde(alias = "servePort")]
    pub serve_port: Option<u16>,
    /// Host name (`my-app`) or full origin (`https://my-app.example.com`) of the app, advertised
    /// in the sync URL. A full origin is used as is, without `serve_port`.
    #[serde(alias = "serveHost")]
    pub serve_host: Option<String>,
    /// Same as `serve_host` (the official SDKs' name); wins over it when both are set.
    #[serde(alias = "serveOrigin")]
    pub serve_origin: Option<String>,
    /// Inngest environment (branch) name, sent as `X-Inngest-Env`.
    pub environment: Option<String>,
    /// Global middleware, run around every function. Not read from configuration.
    #[serde(skip)]
    pub middleware: Option<Vec<MiddlewareHandle>>,
    /// Tracing options.
    pub tracing: Option<TracingOptions>,
    /// Monitoring options.
    pub monitoring: Option<MonitoringOptions>,
    /// Health endpoint options.
    pub health: Option<HealthOptions>,
    /// Do not register with the Inngest server when the app starts listening.
    #[serde(alias = "disableAutoRegistration")]
    pub disable_auto_registration: Option<bool>,
    /// Version of the app, reported at registration.
    #[serde(alias = "appVersion")]
    pub app_version: Option<String>,
}

/// Generates a setter per optional field; each takes `self` so calls chain.
macro_rules! setters {
    ($($(#[$doc:meta])* $field:ident: $ty:ty => $conv:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $field(mut self, value: $ty) -> Self {
                self.$field = Some($conv(value));
                self
            }
        )*
    };
}

impl InngestModuleOptions {
    /// Options with the app id set and everything else left to the environment and defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest::InngestModuleOptions;
    ///
    /// assert_eq!(InngestModuleOptions::new("shop").id.as_deref(), Some("shop"));
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        Self::default().id(id)
    }

    /// Empty options, for building field by field; the same as `InngestModuleOptions::default()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling_inngest::InngestModuleOptions;
    ///
    /// let options = InngestModuleOptions::builder().id("shop").is_global(true);
    /// assert_eq!(options.is_global, Some(true));
    /// ```
    pub fn builder() -> Self {
        Self::default()
    }

    setters! {
        /// Sets [`InngestModuleOptions::id`].
        id: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::event_key`].
        event_key: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::base_url`].
        base_url: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::signing_key`].
        signing_key: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::signing_key_fallback`].
        signing_key_fallback: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::dev`].
        dev: bool => std::convert::identity;
        /// Sets [`InngestModuleOptions::is_global`].
        is_global: bool => std::convert::identity;
        /// Sets [`InngestModuleOptions::mode`].
        mode: ConnectionMode => std::convert::identity;
        /// Sets [`InngestModuleOptions::connect`].
        connect: ConnectOptions => std::convert::identity;
        /// Sets [`InngestModuleOptions::path`].
        path: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::serve_path`].
        serve_path: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::serve_port`].
        serve_port: u16 => std::convert::identity;
        /// Sets [`InngestModuleOptions::serve_host`].
        serve_host: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::serve_origin`].
        serve_origin: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::environment`].
        environment: impl Into<String> => Into::into;
        /// Sets [`InngestModuleOptions::tracing`].
        tracing: TracingOptions => std::convert::identity;
        /// Sets [`InngestModuleOptions::monitoring`].
        monitoring: MonitoringOptions => std::convert::identity;
        /// Sets [`InngestModuleOptions::health`].
        health: HealthOptions => std::convert::identity;
        /// Sets [`InngestModuleOptions::disable_auto_registration`].
        disable_auto_registration: bool => std::convert::identity;
        /// Sets [`InngestModuleOptions::app_version`].
        app_version: impl Into<String> => Into::into;
    }

    /// Adds one global middleware (they run in the order added).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nestling_inngest::{InngestMiddleware, InngestModuleOptions};
    ///
    /// struct Audit;
    ///
    /// impl InngestMiddleware for Audit {
    ///     fn name(&self) -> &str {
    ///         "audit"
    ///     }
    /// }
    ///
    /// let options = InngestModuleOptions::new("shop").middleware(Arc::new(Audit));
    /// assert_eq!(options.middleware.map(|m| m.len()), Some(1));
    /// ```
    pub fn middleware(mut self, middleware: MiddlewareHandle) -> Self {
        self.middleware
            .get_or_insert_with(Vec::new)
            .push(middleware);
        self
    }
}

impl fmt::Debug for InngestModuleOptions {
    /// Secrets are shown as `Some("<redacted>")` so options can be logged safely.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Exhaustive, like the one in `resolve.rs` but for another reason: a new field must
        // be decided on here (secret or not) before it can be logged.
        let Self {
            id,
            event_key,
            base_url,
            signing_key,
            signing_key_fallback,
            dev,
            is_global,
            mode,
            connect,
            path,
            serve_path,
            serve_port,
            serve_host,
            serve_origin,
            environment,
            middleware,
            tracing,
            monitoring,
            health,
            disable_auto_registration,
            app_version,
        } = self;
        let redact = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");

        f.debug_struct("InngestModuleOptions")
            .field("id", id)
            .field("event_key", &redact(event_key))
            .field("base_url", base_url)
            .field("signing_key", &redact(signing_key))
            .field("signing_key_fallback", &redact(signing_key_fallback))
            .field("dev", dev)
            .field("is_global", is_global)
            .field("mode", mode)
            .field("connect", connect)
            .field("path", path)
            .field("serve_path", serve_path)
            .field("serve_port", serve_port)
            .field("serve_host", serve_host)
            .field("serve_origin", serve_origin)
            .field("environment", environment)
            .field("middleware", &middleware.as_ref().map(Vec::len))
            .field("tracing", tracing)
            .field("monitoring", monitoring)
            .field("health", health)
            .field("disable_auto_registration", disable_auto_registration)
            .field("app_version", app_version)
            .finish()
    }
}
