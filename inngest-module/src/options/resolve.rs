//! Turning `InngestModuleOptions` plus the environment into `ResolvedOptions`.

use std::fmt;
use std::time::Duration;

use url::Url;

use super::env::{EnvSource, env_vars as ev};
use super::module_options::{ConnectionMode, InngestModuleOptions, MiddlewareHandle};
use super::problems::{OptionProblem, OptionProblems, ValueSource};
use super::sections::{
    ConnectConfig, ConnectOptions, ContextInjectionOptions, HealthConfig, HealthOptions,
    MonitoringConfig, MonitoringOptions, ShutdownSignal, TracingConfig, TracingOptions,
};
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
/// Self-hosted and Cloud require a signing key and verify every request's signature.
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
    /// Mount path of the serve endpoint (leading `/`, no trailing `/`).
    pub path: String,
    /// Path advertised in the sync URL.
    pub serve_path: String,
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

impl InngestModuleOptions {
    /// Resolves the options against an environment: explicit option > `INNGEST_*` variable >
    /// default, for every field (see the table on [`InngestModuleOptions`] and the rules on
    /// [`ServerKind`]). An empty string, in an option or a variable, counts as unset.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOptions`] listing every invalid or missing value, each naming the
    /// option field, the environment variable it came from, and how to fix it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use nestling_inngest::InngestModuleOptions;
    ///
    /// let env = BTreeMap::from([("INNGEST_SERVE_PORT", "5000"), ("PORT", "6000")]);
    /// assert_eq!(InngestModuleOptions::new("a").resolve(&env)?.serve_port, 5000);
    /// assert_eq!(InngestModuleOptions::new("a").serve_port(7000).resolve(&env)?.serve_port, 7000);
    ///
    /// let err = InngestModuleOptions::default().base_url("localhost:8288").resolve(&env).unwrap_err();
    /// let text = err.to_string();
    /// assert!(text.contains("`id`") && text.contains("`base_url`"), "{text}");
    /// # Ok::<(), nestling_inngest::Error>(())
    /// ```
    pub fn resolve(&self, env: &impl EnvSource) -> Result<ResolvedOptions, Error> {
        Resolver {
            env,
            problems: Vec::new(),
        }
        .run(self)
    }

    /// [`resolve`](Self::resolve) against the process environment.
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve).
    pub fn resolve_from_process_env(&self) -> Result<ResolvedOptions, Error> {
        self.resolve(&super::env::ProcessEnv)
    }
}

/// A value with where it came from.
struct Sourced<T> {
    value: T,
    source: ValueSource,
}

/// What `INNGEST_DEV` (or the `dev` option) says.
enum DevFlag {
    Bool(bool),
    Url(String),
}

struct Resolver<'a, E: EnvSource> {
    env: &'a E,
    problems: Vec<OptionProblem>,
}

impl<E: EnvSource> Resolver<'_, E> {
    fn run(mut self, options: &InngestModuleOptions) -> Result<ResolvedOptions, Error> {
        let InngestModuleOptions {
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
        } = options;

        let app_id = self.string(id, &[ev::INNGEST_APP_ID]).map(|id| id.value);
        if app_id.is_none() {
            self.problem(
                "id",
                ValueSource::Default,
                "is required; set it with `InngestModuleOptions::new(\"my-app\")` (or \
                 `INNGEST_APP_ID`) to the app name Inngest should show",
            );
        }

        let event_key = self.string(event_key, &[ev::INNGEST_EVENT_KEY]);
        let signing_key = self.signing_key("signing_key", signing_key, ev::INNGEST_SIGNING_KEY);
        let signing_key_fallback = self.signing_key(
            "signing_key_fallback",
            signing_key_fallback,
            ev::INNGEST_SIGNING_KEY_FALLBACK,
        );

        let dev_flag = self.dev_flag(*dev);
        let (server, api_origin, event_api_origin) =
            self.server_and_origins(base_url, dev_flag, signing_key.is_some());
        if server.verifies_signatures() && signing_key.is_none() {
            self.problem(
                "signing_key",
                ValueSource::Default,
                format!(
                    "is required for {server}; set `signing_key` or {} to the key from the \
                     Inngest dashboard, or set INNGEST_DEV=1 to use a dev server",
                    ev::INNGEST_SIGNING_KEY
                ),
            );
        }

        let mode = self
            .parsed("mode", *mode, &[ev::INNGEST_MODE], str::parse)
            .map(|mode| mode.value)
            .unwrap_or_default();
        if mode == ConnectionMode::Connect && server == ServerKind::Embedded {
            self.problem(
                "mode",
                ValueSource::Default,
                "connect mode needs an Inngest server, but none is configured (the embedded \
                 engine runs functions in-process); set `base_url`, INNGEST_DEV or a signing key, \
                 or use serve mode",
            );
        }

        let path = self
            .path("path", path, &[ev::INNGEST_PATH])
            .unwrap_or_else(|| "/api/inngest".to_owned());
        let serve_path = self
            .path("serve_path", serve_path, &[ev::INNGEST_SERVE_PATH])
            .unwrap_or_else(|| path.clone());
        let explicit_port = *serve_port;
        let (serve_port, serve_port_source) = self
            .parsed(
                "serve_port",
                explicit_port,
                &[ev::INNGEST_SERVE_PORT, ev::PORT],
                parse_port,
            )
            .map_or((3000, ValueSource::Default), |port| {
                (port.value, port.source)
            });
        if explicit_port == Some(0) {
            self.problem(
                "serve_port",
                ValueSource::Option,
                "0 cannot be advertised to Inngest; set the port the app listens on, or register \
                 by hand with `register_with_dev_server(host, port)` once it listens",
            );
        }
        let serve_host = self.serve_host(serve_origin, serve_host, serve_port);

        let environment = self
            .string(environment, &[ev::INNGEST_ENV])
            .map(|e| e.value);
        let app_version = self
            .string(app_version, &[ev::INNGEST_APP_VERSION])
            .map(|v| v.value);

        let connect = self.connect(connect.as_ref());
        let tracing = self.tracing(tracing.as_ref(), app_id.as_deref());
        let monitoring = self.monitoring(monitoring.as_ref(), tracing.enabled);
        let health = self.health(health.as_ref());

        if let Some(problems) = OptionProblems::new(self.problems) {
            return Err(Error::InvalidOptions(problems));
        }
        // A missing id was recorded as a problem above, so it is always set here.
        let app_id = app_id.unwrap_or_default();

        Ok(ResolvedOptions {
            app_id,
            app_version,
            mode,
            server,
            api_origin,
            event_api_origin,
            event_key: event_key.map(|k| k.value),
            signing_key: signing_key.map(|k| k.value),
            signing_key_fallback: signing_key_fallback.map(|k| k.value),
            environment,
            is_global: is_global.unwrap_or(false),
            path,
            serve_path,
            serve_host,
            serve_port,
            serve_port_source,
            disable_auto_registration: disable_auto_registration.unwrap_or(false),
            connect,
            tracing,
            monitoring,
            health,
            middleware: middleware.clone().unwrap_or_default(),
        })
    }

    /// Records a problem; a repeat for the same field and source is dropped (both origins
    /// read `INNGEST_BASE_URL`, and one bad value deserves one message).
    fn problem(&mut self, field: &str, source: ValueSource, message: impl Into<String>) {
        if self
            .problems
            .iter()
            .any(|p| p.field == field && p.source == source)
        {
            return;
        }

        self.problems.push(OptionProblem {
            field: field.to_owned(),
            source,
            message: message.into(),
        });
    }

    /// The explicit value if non-empty, else the first non-empty variable of `vars`.
    fn string(&self, explicit: &Option<String>, vars: &[&'static str]) -> Option<Sourced<String>> {
        if let Some(value) = explicit.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            return Some(Sourced {
                value: value.to_owned(),
                source: ValueSource::Option,
            });
        }

        vars.iter().find_map(|var| {
            self.env.var(var).map(|value| Sourced {
                value,
                source: ValueSource::Env(var),
            })
        })
    }

    /// The explicit value, else the first variable of `vars` that is set, parsed; a parse
    /// failure is recorded against `field` and the variable.
    fn parsed<T>(
        &mut self,
        field: &str,
        explicit: Option<T>,
        vars: &[&'static str],
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Sourced<T>> {
        if let Some(value) = explicit {
            return Some(Sourced {
                value,
                source: ValueSource::Option,
            });
        }

        let (var, text) = vars
            .iter()
            .find_map(|var| self.env.var(var).map(|text| (*var, text)))?;
        match parse(&text) {
            Ok(value) => Some(Sourced {
                value,
                source: ValueSource::Env(var),
            }),
            Err(message) => {
                self.problem(field, ValueSource::Env(var), message);
                None
            }
        }
    }

    fn signing_key(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        var: &'static str,
    ) -> Option<Sourced<String>> {
        let key = self.string(explicit, &[var])?;
        if let Err(message) = check_signing_key(&key.value) {
            self.problem(field, key.source, message);
            return None;
        }

        Some(key)
    }

    fn dev_flag(&mut self, explicit: Option<bool>) -> Option<DevFlag> {
        if let Some(dev) = explicit {
            return Some(DevFlag::Bool(dev));
        }

        let text = self.env.var(ev::INNGEST_DEV)?;
        if let Some(dev) = parse_js_bool(&text) {
            return Some(DevFlag::Bool(dev));
        }
        let with_scheme = if text.contains("://") {
            text.clone()
        } else {
            format!("http://{text}")
        };
        match parse_origin(&with_scheme) {
            Ok(origin) => Some(DevFlag::Url(origin)),
            Err(message) => {
                self.problem(
                    "dev",
                    ValueSource::Env(ev::INNGEST_DEV),
                    format!("`{text}` is neither 1/true/0/false nor a dev server URL: {message}"),
                );
                None
            }
        }
    }

    /// Decides the server kind and both origins (see [`ServerKind`] for the rules).
    fn server_and_origins(
        &mut self,
        base_url: &Option<String>,
        dev_flag: Option<DevFlag>,
        has_signing_key: bool,
    ) -> (ServerKind, String, String) {
        let explicit = self.origin_value("base_url", base_url, &[]);
        let api = explicit.clone().or_else(|| {
            self.origin_value(
                "base_url",
                &None,
                &[ev::INNGEST_API_BASE_URL, ev::INNGEST_BASE_URL],
            )
        });
        let events = explicit.or_else(|| {
            self.origin_value(
                "base_url",
                &None,
                &[ev::INNGEST_EVENT_API_BASE_URL, ev::INNGEST_BASE_URL],
            )
        });
        let configured = api.as_deref().or(events.as_deref()).map(str::to_owned);

        let server = match (&dev_flag, &configured) {
            (Some(DevFlag::Bool(true) | DevFlag::Url(_)), _) => ServerKind::DevServer,
            (Some(DevFlag::Bool(false)), Some(url)) if !is_cloud_origin(url) => {
                ServerKind::SelfHosted
            }
            (Some(DevFlag::Bool(false)), _) => ServerKind::Cloud,
            (None, Some(url)) if is_cloud_origin(url) => ServerKind::Cloud,
            (None, Some(_)) if has_signing_key => ServerKind::SelfHosted,
            (None, Some(_)) => ServerKind::DevServer,
            (None, None) if has_signing_key => ServerKind::Cloud,
            (None, None) => ServerKind::Embedded,
        };

        let dev_url = match dev_flag {
            Some(DevFlag::Url(url)) => Some(url),
            _ => None,
        };
        let (default_api, default_events) = match server {
            ServerKind::Cloud => (CLOUD_API_ORIGIN, CLOUD_EVENT_API_ORIGIN),
            _ => (DEV_SERVER_ORIGIN, DEV_SERVER_ORIGIN),
        };
        let api_origin = api
            .or_else(|| dev_url.clone())
            .unwrap_or_else(|| default_api.to_owned());
        let event_api_origin = events
            .or(dev_url)
            .unwrap_or_else(|| default_events.to_owned());

        (server, api_origin, event_api_origin)
    }

    /// The explicit value or the first variable set, passed through `check`; a failed check is
    /// recorded against `field` and where the value came from.
    fn checked(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        vars: &[&'static str],
        check: impl Fn(&str) -> Result<String, String>,
    ) -> Option<String> {
        let raw = self.string(explicit, vars)?;
        match check(&raw.value) {
            Ok(value) => Some(value),
            Err(message) => {
                self.problem(field, raw.source, message);
                None
            }
        }
    }

    fn origin_value(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        vars: &[&'static str],
    ) -> Option<String> {
        self.checked(field, explicit, vars, |value| {
            parse_origin(value).map_err(|message| format!("`{value}` is not usable: {message}"))
        })
    }

    fn path(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        vars: &[&'static str],
    ) -> Option<String> {
        self.checked(field, explicit, vars, normalize_path)
    }

    fn serve_host(
        &mut self,
        serve_origin: &Option<String>,
        serve_host: &Option<String>,
        port: u16,
    ) -> String {
        let explicit = self.string(serve_origin, &[]).map(|o| ("serve_origin", o));
        let chosen = explicit
            .or_else(|| self.string(serve_host, &[]).map(|h| ("serve_host", h)))
            .or_else(|| {
                self.string(&None, &[ev::INNGEST_SERVE_ORIGIN, ev::INNGEST_SERVE_HOST])
                    .map(|h| ("serve_host", h))
            });
        let Some((field, host)) = chosen else {
            return "localhost".to_owned();
        };

        match check_serve_host(&host.value, port) {
            Ok(()) => host.value.trim_end_matches('/').to_owned(),
            Err(message) => {
                self.problem(field, host.source, message);
                "localhost".to_owned()
            }
        }
    }

    fn connect(&mut self, options: Option<&ConnectOptions>) -> ConnectConfig {
        let default = ConnectOptions::default();
        let ConnectOptions {
            instance_id,
            max_worker_concurrency,
            gateway_url,
            isolate_execution,
            shutdown_timeout,
            handle_shutdown_signals,
        } = options.unwrap_or(&default);

        let mut id_vars = vec![ev::INNGEST_INSTANCE_ID];
        id_vars.extend(ev::INSTANCE_ID_FALLBACKS);
        let instance_id = self
            .string(instance_id, &id_vars)
            .map_or_else(|| ulid::Ulid::new().to_string(), |id| id.value);

        let max_worker_concurrency = self.parsed(
            "connect.max_worker_concurrency",
            *max_worker_concurrency,
            &[ev::INNGEST_CONNECT_MAX_WORKER_CONCURRENCY],
            |text| {
                text.parse::<u64>()
                    .map_err(|_| format!("`{text}` is not a whole number"))
            },
        );
        if let Some(Sourced { value: 0, source }) = max_worker_concurrency {
            self.problem(
                "connect.max_worker_concurrency",
                source,
                "must be at least 1; leave it unset for no limit",
            );
        }

        let gateway_url = self.checked(
            "connect.gateway_url",
            gateway_url,
            &[ev::INNGEST_CONNECT_GATEWAY_URL],
            |url| check_ws_url(url).map(|()| url.to_owned()),
        );

        let isolate_execution = self
            .parsed(
                "connect.isolate_execution",
                *isolate_execution,
                &[ev::INNGEST_CONNECT_ISOLATE_EXECUTION],
                parse_bool_strict,
            )
            .is_some_and(|isolate| isolate.value);

        let shutdown_timeout = self.parsed(
            "connect.shutdown_timeout",
            *shutdown_timeout,
            &[ev::INNGEST_SHUTDOWN_TIMEOUT],
            super::duration::parse_duration,
        );
        if let Some(Sourced {
            value: Duration::ZERO,
            source,
        }) = shutdown_timeout
        {
            self.problem(
                "connect.shutdown_timeout",
                source,
                "must be longer than zero, or in-flight executions are cut off at once; the \
                 default is 30s",
            );
        }

        let mut signals = Vec::new();
        match handle_shutdown_signals {
            None => signals.extend([ShutdownSignal::Term, ShutdownSignal::Int]),
            Some(names) => {
                for name in names {
                    match name.parse::<ShutdownSignal>() {
                        Ok(signal) if !signals.contains(&signal) => signals.push(signal),
                        Ok(_) => {}
                        Err(message) => self.problem(
                            "connect.handle_shutdown_signals",
                            ValueSource::Option,
                            message,
                        ),
                    }
                }
            }
        }

        ConnectConfig {
            instance_id,
            max_worker_concurrency: max_worker_concurrency.map(|limit| limit.value),
            gateway_url,
            isolate_execution,
            shutdown_timeout: shutdown_timeout.map_or(Duration::from_secs(30), |t| t.value),
            handle_shutdown_signals: signals,
        }
    }

    fn tracing(&mut self, options: Option<&TracingOptions>, app_id: Option<&str>) -> TracingConfig {
        let default = TracingOptions::default();
        let TracingOptions {
            enabled,
            service_name,
            otlp_endpoint,
            include_event_data,
            include_step_data,
            context_injection,
            default_attributes,
        } = options.unwrap_or(&default);
        let default_injection = ContextInjectionOptions::default();
        let ContextInjectionOptions {
            enabled: inject_enabled,
            field_name,
        } = context_injection.as_ref().unwrap_or(&default_injection);

        let service_name = self
            .string(service_name, &[ev::OTEL_SERVICE_NAME])
            .map(|name| name.value)
            .or_else(|| app_id.map(str::to_owned))
            .unwrap_or_default();
        let otlp_endpoint = self.checked(
            "tracing.otlp_endpoint",
            otlp_endpoint,
            &[ev::OTEL_EXPORTER_OTLP_ENDPOINT],
            |endpoint| {
                parse_origin(endpoint)
                    .map(|_| endpoint.to_owned())
                    .map_err(|message| format!("`{endpoint}` is not usable: {message}"))
            },
        );

        let context_field_name = match field_name.as_deref().map(str::trim) {
            None => "traceContext".to_owned(),
            Some(name) if name.is_empty() || name == "_inngest" => {
                self.problem(
                    "tracing.context_injection.field_name",
                    ValueSource::Option,
                    "must be a non-empty field name other than `_inngest` (which Inngest strips \
                     from event data); the default is `traceContext`",
                );
                "traceContext".to_owned()
            }
            Some(name) => name.to_owned(),
        };

        TracingConfig {
            enabled: enabled.unwrap_or(false),
            service_name,
            otlp_endpoint,
            include_event_data: include_event_data.unwrap_or(false),
            include_step_data: include_step_data.unwrap_or(false),
            inject_context: inject_enabled.unwrap_or(true),
            context_field_name,
            default_attributes: default_attributes.clone().unwrap_or_default(),
        }
    }

    fn monitoring(
        &mut self,
        options: Option<&MonitoringOptions>,
        tracing_enabled: bool,
    ) -> MonitoringConfig {
        let default = MonitoringOptions::default();
        let MonitoringOptions {
            enabled,
            collect_metrics,
            metrics_interval,
            enable_tracing,
        } = options.unwrap_or(&default);

        MonitoringConfig {
            enabled: enabled.unwrap_or(true),
            collect_metrics: collect_metrics.unwrap_or(true),
            metrics_interval: self.interval("monitoring.metrics_interval", *metrics_interval),
            enable_tracing: enable_tracing.unwrap_or(tracing_enabled),
        }
    }

    fn health(&mut self, options: Option<&HealthOptions>) -> HealthConfig {
        let default = HealthOptions::default();
        let HealthOptions {
            enabled,
            path,
            include_details,
            enable_metrics,
            check_interval,
        } = options.unwrap_or(&default);

        HealthConfig {
            enabled: enabled.unwrap_or(true),
            path: self
                .path("health.path", path, &[])
                .unwrap_or_else(|| "/health/inngest".to_owned()),
            include_details: include_details.unwrap_or(false),
            enable_metrics: enable_metrics.unwrap_or(true),
            check_interval: self.interval("health.check_interval", *check_interval),
        }
    }

    /// An interval option: at least one second, 30 s by default.
    fn interval(&mut self, field: &str, explicit: Option<Duration>) -> Duration {
        match explicit {
            None => Duration::from_secs(30),
            Some(interval) if interval < Duration::from_secs(1) => {
                self.problem(
                    field,
                    ValueSource::Option,
                    format!(
                        "{interval:?} is too short; use at least 1s (the default is 30s) so \
                         sampling does not load the app"
                    ),
                );
                Duration::from_secs(30)
            }
            Some(interval) => interval,
        }
    }
}

fn invalid_one(field: &str, source: ValueSource, message: String) -> Error {
    Error::InvalidOptions(OptionProblems::single(OptionProblem {
        field: field.to_owned(),
        source,
        message,
    }))
}

/// The JS SDKs' boolean reading: `1`/`true` and `0`/`false`, any case.
fn parse_js_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

fn parse_bool_strict(text: &str) -> Result<bool, String> {
    parse_js_bool(text).ok_or_else(|| format!("`{text}` is not a boolean; use 1, true, 0 or false"))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!(
            "`{text}` is not a port number; use a whole number from 1 to 65535"
        )),
    }
}

/// An `http(s)` URL without query or fragment, returned without its trailing slash.
fn parse_origin(text: &str) -> Result<String, &'static str> {
    let url = Url::parse(text.trim())
        .map_err(|_| "not a URL; write it in full, e.g. `http://localhost:8288`")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http:// and https:// URLs are supported");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(
            "remove the query string and fragment; give only the origin (and a path prefix)",
        );
    }

    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn is_cloud_origin(origin: &str) -> bool {
    let Ok(url) = Url::parse(origin) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();

    host == "inn.gs" || host == "inngest.com" || host.ends_with(".inngest.com")
}

fn check_ws_url(text: &str) -> Result<(), String> {
    let url = Url::parse(text).map_err(|_| {
        format!(
            "`{text}` is not a URL; write it in full, e.g. `wss://gateway.example.com/v0/connect`"
        )
    })?;
    if !matches!(url.scheme(), "ws" | "wss") || url.host_str().is_none() {
        return Err(format!(
            "`{text}` must be a ws:// or wss:// URL with a host"
        ));
    }

    Ok(())
}

fn normalize_path(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.contains(['?', '#', ' ']) || trimmed.contains("://") {
        return Err(format!(
            "`{text}` is not a path; give only the path, e.g. `/api/inngest`"
        ));
    }
    let path = format!("/{}", trimmed.trim_matches('/'));

    Ok(path)
}

/// `host` is either a full `http(s)` origin or a host name (optionally `host:port`).
fn check_serve_host(host: &str, port: u16) -> Result<(), String> {
    let candidate = origin_from_host(host, port);
    let message = |why: &str| {
        format!(
            "`{host}` {why}; give a host name (`my-app`) or a full origin \
             (`https://my-app.example.com`)"
        )
    };
    match Url::parse(&candidate) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
            if url.query().is_some() || url.fragment().is_some() {
                return Err(message("has a query string or fragment"));
            }
            Ok(())
        }
        Ok(_) => Err(message("is not an http(s) origin")),
        Err(_) => Err(message("is not a valid host")),
    }
}

fn origin_from_host(host: &str, port: u16) -> String {
    let host = host.trim().trim_end_matches('/');
    if host.contains("://") {
        return host.to_owned();
    }
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(name, port)| !name.is_empty() && port.parse::<u16>().is_ok());

    if has_port {
        format!("http://{host}")
    } else {
        format!("http://{host}:{port}")
    }
}

/// A signing key must be hex after an optional `signkey-<env>-` prefix: the protocol
/// hex-decodes it to compute the bearer token, so a key it cannot hash is rejected here.
fn check_signing_key(key: &str) -> Result<(), String> {
    let usable = !nestling_inngest_protocol::strip_key_prefix(key).is_empty()
        && nestling_inngest_protocol::hashed_signing_key(key).is_ok();
    if usable {
        return Ok(());
    }

    Err(
        "is not a signing key: expected `signkey-<env>-` followed by an even number of hex \
         digits, as the Inngest dashboard shows it; check for a truncated or mis-pasted value"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_the_trailing_slash_and_keep_a_prefix() {
        assert_eq!(
            parse_origin("http://localhost:8288/"),
            Ok("http://localhost:8288".into())
        );
        assert_eq!(
            parse_origin("https://x.dev/inngest/"),
            Ok("https://x.dev/inngest".into())
        );
        assert!(parse_origin("localhost:8288").is_err());
        assert!(parse_origin("ftp://x").is_err());
        assert!(parse_origin("http://x/?a=1").is_err());
    }

    #[test]
    fn cloud_hosts() {
        assert!(is_cloud_origin("https://api.inngest.com"));
        assert!(is_cloud_origin("https://inn.gs"));
        assert!(!is_cloud_origin("https://inngest.example.com"));
        assert!(!is_cloud_origin("http://notinngest.com"));
    }

    #[test]
    fn serve_hosts() {
        assert_eq!(origin_from_host("app", 3000), "http://app:3000");
        assert_eq!(origin_from_host("app:8080", 3000), "http://app:8080");
        assert_eq!(
            origin_from_host("https://a.example.com/", 3000),
            "https://a.example.com"
        );
        assert!(check_serve_host("has space", 1).is_err());
        assert!(check_serve_host("ftp://a", 1).is_err());
    }

    #[test]
    fn signing_key_shapes() {
        assert!(check_signing_key("signkey-prod-0a1B").is_ok());
        assert!(check_signing_key("signkey-branch_x-00").is_ok());
        assert!(check_signing_key("abcd").is_ok());
        assert!(check_signing_key("signkey-prod-abc").is_err(), "odd length");
        assert!(check_signing_key("signkey-prod-").is_err());
        assert!(check_signing_key("sk_live_123").is_err());
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize_path("inngest"), Ok("/inngest".into()));
        assert_eq!(normalize_path("/api/inngest/"), Ok("/api/inngest".into()));
        assert!(normalize_path("/a?b").is_err());
    }
}
