//! `ResolvedOptions`: what the module works with once every option is decided, and the
//! `ServerKind` rules.

use std::fmt;

use super::module_options::{ConnectionMode, MiddlewareHandle};
use super::problems::{OptionProblem, OptionProblems, ValueSource};
use super::sections::{ConnectConfig, HealthConfig, MonitoringConfig, TracingConfig};
use super::values::{check_serve_host, origin_from_host, parse_origin};
use crate::Error;

/// Origin of Inngest Cloud's API.
pub const CLOUD_API_ORIGIN: &str = "https://api.inngest.com";
/// Origin of Inngest Cloud's event API.
pub const CLOUD_EVENT_API_ORIGIN: &str = "https://inn.gs";
/// Origin of a dev server on this machine (`inngest dev`, or Nestling's engine binary).
pub const DEV_SERVER_ORIGIN: &str = "http://127.0.0.1:8288";
/// Event key used with dev servers when none is configured, as the official SDKs do.
pub const PLACEHOLDER_EVENT_KEY: &str = "NO_EVENT_KEY_SET";

/// Which Inngest server the app works with, decided by [`InngestModuleOptions::resolve`].
///
/// The rules, first match wins ("a URL" means `base_url`, `INNGEST_BASE_URL`,
/// `INNGEST_API_BASE_URL` or `INNGEST_EVENT_API_BASE_URL`; the API origin decides):
///
/// 1. `dev` is `true`, or `INNGEST_DEV` is `1`/`true`/a URL → [`DevServer`](Self::DevServer).
/// 2. `dev` is `false`, or `INNGEST_DEV` is `0`/`false` → [`SelfHosted`](Self::SelfHosted) if a
///    URL other than Inngest Cloud's is configured, else [`Cloud`](Self::Cloud).
/// 3. A URL on `inngest.com` or `inn.gs` → [`Cloud`](Self::Cloud).
/// 4. Any other URL → [`SelfHosted`](Self::SelfHosted) when a signing key is configured,
///    [`DevServer`](Self::DevServer) when not: security follows the key, and a dev server
///    needs none.
/// 5. No URL but a signing key → [`Cloud`](Self::Cloud) (the official SDKs' production default).
/// 6. Nothing → [`Embedded`](Self::Embedded): the app runs its functions on Nestling's embedded
///    engine, with no outside server.
///
/// Self-hosted and Cloud require a signing key and verify every request's signature. An event
/// key is needed only to send events, so its absence is reported when sending
/// ([`Error::MissingEventKey`]), not here: an app that only runs functions needs none.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::{InngestModuleOptions, ServerKind};
///
/// let kind = |env: &[(&str, &str)]| {
///     InngestModuleOptions::new("a").resolve(&BTreeMap::from_iter(env.iter().copied())).map(|r| r.server)
/// };
/// let key = ("INNGEST_SIGNING_KEY", "signkey-prod-0123abcd");
/// assert_eq!(kind(&[]).unwrap(), ServerKind::Embedded);
/// assert_eq!(kind(&[("INNGEST_DEV", "1")]).unwrap(), ServerKind::DevServer);
/// assert_eq!(kind(&[("INNGEST_BASE_URL", "http://inngest:8288")]).unwrap(), ServerKind::DevServer);
/// assert_eq!(kind(&[("INNGEST_BASE_URL", "http://inngest:8288"), key]).unwrap(), ServerKind::SelfHosted);
/// assert_eq!(kind(&[key]).unwrap(), ServerKind::Cloud);
/// assert!(kind(&[("INNGEST_DEV", "0")]).is_err(), "Cloud without a signing key");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerKind {
    /// Nestling's durable engine, started inside the app by the module.
    Embedded,
    /// An Inngest dev server; signatures are not verified.
    DevServer,
    /// Self-hosted Inngest (`inngest start`); signing key required, signatures verified.
    SelfHosted,
    /// Inngest Cloud; signing key required, signatures verified.
    Cloud,
}

impl ServerKind {
    /// Whether requests from Inngest must carry a valid signature (self-hosted and Cloud).
    pub fn verifies_signatures(self) -> bool {
        matches!(self, Self::SelfHosted | Self::Cloud)
    }

    /// Whether this is a development setup (embedded engine or dev server), where the
    /// placeholder event key is used and nothing is signed.
    pub fn is_dev(self) -> bool {
        matches!(self, Self::Embedded | Self::DevServer)
    }

    /// The `X-Inngest-Server-Kind` value this kind of server sends: `dev` or `cloud`
    /// (self-hosted Inngest reports `cloud`).
    pub fn header_value(self) -> &'static str {
        if self.is_dev() { "dev" } else { "cloud" }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Embedded => "embedded engine",
            Self::DevServer => "dev server",
            Self::SelfHosted => "self-hosted Inngest",
            Self::Cloud => "Inngest Cloud",
        })
    }
}

/// Options after resolution: every value decided and validated.
///
/// Built only by [`InngestModuleOptions::resolve`]; read it through its fields and methods.
/// `Debug` redacts the keys.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::{InngestModuleOptions, ServerKind};
///
/// let env = BTreeMap::from([
///     ("INNGEST_SIGNING_KEY", "signkey-prod-0123456789abcdef"),
///     ("INNGEST_SERVE_ORIGIN", "https://shop.example.com"),
/// ]);
/// let resolved = InngestModuleOptions::new("shop").resolve(&env)?;
/// assert_eq!(resolved.server, ServerKind::Cloud);
/// assert_eq!(resolved.api_origin, "https://api.inngest.com");
/// assert_eq!(resolved.event_api_origin, "https://inn.gs");
/// assert_eq!(resolved.serve_url(), "https://shop.example.com/api/inngest");
/// assert!(!format!("{resolved:?}").contains("0123456789abcdef"));
/// # Ok::<(), nestling_inngest::Error>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ResolvedOptions {
    /// App id.
    pub app_id: String,
    /// App version reported at registration.
    pub app_version: Option<String>,
    /// Serve or connect.
    pub mode: ConnectionMode,
    /// Which server the app works with.
    pub server: ServerKind,
    /// Origin of the Inngest API (`/fn/register`, `/v0/runs/…`), without a trailing slash.
    pub api_origin: String,
    /// Origin of the event API (`/e/{key}`), without a trailing slash.
    pub event_api_origin: String,
    /// Event key, if configured.
    pub event_key: Option<String>,
    /// Signing key, if configured (always set for self-hosted and Cloud).
    pub signing_key: Option<String>,
    /// Fallback signing key, if configured.
    pub signing_key_fallback: Option<String>,
    /// Inngest environment (branch) name, sent as `X-Inngest-Env`.
    pub environment: Option<String>,
    /// Whether the module is global.
    pub is_global: bool,
    /// Mount path of the serve endpoint (leading `/`, no trailing `/`), under the
    /// application's global prefix.
    pub path: String,
    /// Path advertised in the sync URL: the configured `serve_path`, else the full mount path
    /// (global prefix included once the module knows it).
    pub serve_path: String,
    /// Where `serve_path` came from: when it is the default, it follows `path` and the global
    /// prefix.
    pub serve_path_source: ValueSource,
    /// Host name or full origin of the app, as configured.
    pub serve_host: String,
    /// Port advertised with a bare host name.
    pub serve_port: u16,
    /// Where `serve_port` came from: when it is the default, automatic registration uses the
    /// port the app really listens on instead.
    pub serve_port_source: ValueSource,
    /// Whether automatic registration is off.
    pub disable_auto_registration: bool,
    /// Connect-mode settings (resolved in serve mode too, unused there).
    pub connect: ConnectConfig,
    /// Tracing settings.
    pub tracing: TracingConfig,
    /// Monitoring settings.
    pub monitoring: MonitoringConfig,
    /// Health endpoint settings.
    pub health: HealthConfig,
    /// Global middleware, in order.
    pub middleware: Vec<MiddlewareHandle>,
}

impl ResolvedOptions {
    /// Whether the module must start the embedded engine (no Inngest server configured).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use nestling_inngest::InngestModuleOptions;
    ///
    /// let resolved = InngestModuleOptions::new("a").resolve(&BTreeMap::<&str, &str>::new())?;
    /// assert!(resolved.embedded_engine());
    /// # Ok::<(), nestling_inngest::Error>(())
    /// ```
    pub fn embedded_engine(&self) -> bool {
        self.server == ServerKind::Embedded
    }

    /// Points the API and event API at the embedded engine once it listens at `origin`.
    ///
    /// Until then both origins hold [`DEV_SERVER_ORIGIN`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOptions`] when `origin` is not an `http(s)` URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use nestling_inngest::InngestModuleOptions;
    ///
    /// let resolved = InngestModuleOptions::new("a")
    ///     .resolve(&BTreeMap::<&str, &str>::new())?
    ///     .with_engine_origin("http://127.0.0.1:41234/")?;
    /// assert_eq!(resolved.api_origin, "http://127.0.0.1:41234");
    /// assert_eq!(resolved.event_api_origin, "http://127.0.0.1:41234");
    /// # Ok::<(), nestling_inngest::Error>(())
    /// ```
    pub fn with_engine_origin(mut self, origin: &str) -> Result<Self, Error> {
        let origin = parse_origin(origin).map_err(|message| {
            invalid_one("api_origin", ValueSource::Option, message.to_owned())
        })?;
        self.api_origin.clone_from(&origin);
        self.event_api_origin = origin;

        Ok(self)
    }

    /// Accounts for the application's global prefix (`""` or `/api`), under which the serve
    /// endpoint is mounted: a `serve_path` that was not configured becomes the full mount path,
    /// so that the sync URL reaches the endpoint. A configured `serve_path` (behind a proxy that
    /// rewrites paths) is kept as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use nestling_inngest::InngestModuleOptions;
    ///
    /// let env = BTreeMap::<&str, &str>::new();
    /// let defaulted = InngestModuleOptions::new("a").resolve(&env)?.with_global_prefix("/api");
    /// assert_eq!(defaulted.serve_path, "/api/api/inngest");
    ///
    /// let proxied = InngestModuleOptions::new("a").serve_path("/outside").resolve(&env)?;
    /// assert_eq!(proxied.with_global_prefix("/api").serve_path, "/outside");
    /// # Ok::<(), nestling_inngest::Error>(())
    /// ```
    pub fn with_global_prefix(mut self, prefix: &str) -> Self {
        if self.serve_path_source == ValueSource::Default {
            let prefix = prefix.trim_end_matches('/');
            self.serve_path = format!("{prefix}{}", self.path);
        }

        self
    }

    /// The origin advertised to Inngest: `serve_host` as is when it is a full origin, else
    /// `http://{serve_host}:{serve_port}`.
    pub fn serve_origin(&self) -> String {
        origin_from_host(&self.serve_host, self.serve_port)
    }

    /// The URL Inngest calls: [`serve_origin`](Self::serve_origin) + `serve_path`.
    pub fn serve_url(&self) -> String {
        format!("{}{}", self.serve_origin(), self.serve_path)
    }

    /// The serve URL for another host and port, as `register_with_dev_server(host, port)`
    /// needs once the real listening address is known (a full origin in `host` ignores `port`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOptions`] naming `serve_host` when the result is not a valid URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use nestling_inngest::InngestModuleOptions;
    ///
    /// let resolved = InngestModuleOptions::new("a").resolve(&BTreeMap::<&str, &str>::new())?;
    /// assert_eq!(resolved.serve_url_for("127.0.0.1", 45_001)?, "http://127.0.0.1:45001/api/inngest");
    /// assert!(resolved.serve_url_for("bad host", 1).is_err());
    /// # Ok::<(), nestling_inngest::Error>(())
    /// ```
    pub fn serve_url_for(&self, host: &str, port: u16) -> Result<String, Error> {
        check_serve_host(host, port)
            .map_err(|message| invalid_one("serve_host", ValueSource::Option, message))?;

        Ok(format!(
            "{}{}",
            origin_from_host(host, port),
            self.serve_path
        ))
    }

    /// The event key to put in `/e/{key}`: the configured one, or in dev setups the
    /// [`PLACEHOLDER_EVENT_KEY`].
    ///
    /// # Errors
    ///
    /// [`Error::MissingEventKey`] for self-hosted and Cloud without a key.
    pub fn event_key_or_placeholder(&self) -> Result<&str, Error> {
        match (&self.event_key, self.server.is_dev()) {
            (Some(key), _) => Ok(key),
            (None, true) => Ok(PLACEHOLDER_EVENT_KEY),
            (None, false) => Err(Error::MissingEventKey {
                server: self.server,
            }),
        }
    }

    /// Whether the app registers itself once listening: serve mode, not Inngest Cloud (Cloud
    /// syncs from its side), and not disabled.
    pub fn auto_registers(&self) -> bool {
        self.mode == ConnectionMode::Serve
            && self.server != ServerKind::Cloud
            && !self.disable_auto_registration
    }
}

impl fmt::Debug for ResolvedOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            app_id,
            app_version,
            mode,
            server,
            api_origin,
            event_api_origin,
            event_key,
            signing_key,
            signing_key_fallback,
            environment,
            is_global,
            path,
            serve_path,
            serve_path_source,
            serve_host,
            serve_port,
            serve_port_source,
            disable_auto_registration,
            connect,
            tracing,
            monitoring,
            health,
            middleware,
        } = self;
        let redact = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");

        f.debug_struct("ResolvedOptions")
            .field("app_id", app_id)
            .field("app_version", app_version)
            .field("mode", mode)
            .field("server", server)
            .field("api_origin", api_origin)
            .field("event_api_origin", event_api_origin)
            .field("event_key", &redact(event_key))
            .field("signing_key", &redact(signing_key))
            .field("signing_key_fallback", &redact(signing_key_fallback))
            .field("environment", environment)
            .field("is_global", is_global)
            .field("path", path)
            .field("serve_path", serve_path)
            .field("serve_path_source", serve_path_source)
            .field("serve_host", serve_host)
            .field("serve_port", serve_port)
            .field("serve_port_source", serve_port_source)
            .field("disable_auto_registration", disable_auto_registration)
            .field("connect", connect)
            .field("tracing", tracing)
            .field("monitoring", monitoring)
            .field("health", health)
            .field("middleware", &middleware.len())
            .finish()
    }
}

pub(super) fn invalid_one(field: &str, source: ValueSource, message: String) -> Error {
    Error::InvalidOptions(OptionProblems::single(OptionProblem {
        field: field.to_owned(),
        source,
        message,
    }))
}
