//! Turning `InngestModuleOptions` plus the environment into `ResolvedOptions`: the top-level
//! fields and the server kind (the nested groups are in `resolve_sections.rs`).

use super::env::{EnvSource, env_vars as ev};
use super::module_options::{ConnectionMode, InngestModuleOptions};
use super::problems::{OptionProblem, OptionProblems, ValueSource};
use super::resolved::{
    CLOUD_API_ORIGIN, CLOUD_EVENT_API_ORIGIN, DEV_SERVER_ORIGIN, ResolvedOptions, ServerKind,
};
use super::values::{
    check_serve_host, check_signing_key, is_cloud_origin, normalize_path, parse_js_bool,
    parse_origin, parse_port,
};
use crate::Error;

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
pub(super) struct Sourced<T> {
    pub(super) value: T,
    pub(super) source: ValueSource,
}

/// What `INNGEST_DEV` (or the `dev` option) says.
enum DevFlag {
    Bool(bool),
    Url(String),
}

pub(super) struct Resolver<'a, E: EnvSource> {
    env: &'a E,
    problems: Vec<OptionProblem>,
}

impl<E: EnvSource> Resolver<'_, E> {
    fn run(mut self, options: &InngestModuleOptions) -> Result<ResolvedOptions, Error> {
        // Exhaustive, so a new option cannot be added without being resolved (the `Debug`
        // impl lists the same fields to decide what to redact; neither merges anything).
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

        #[cfg(not(feature = "embedded-engine"))]
        if server == ServerKind::Embedded {
            self.problem(
                "base_url",
                ValueSource::Default,
                "is not set, and neither INNGEST_BASE_URL, INNGEST_DEV nor a signing key names \
                 an Inngest server, so the embedded engine would run the functions; this build \
                 of nestling-inngest has no embedded engine (its `embedded-engine` cargo \
                 feature is off): set one of them, or turn the feature on",
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
            .unwrap_or_else(|| crate::DEFAULT_SERVE_PATH.to_owned());
        let (serve_path, serve_path_source) = self
            .sourced_path("serve_path", serve_path, &[ev::INNGEST_SERVE_PATH])
            .map_or_else(
                || (path.clone(), ValueSource::Default),
                |p| (p.value, p.source),
            );
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
            serve_path_source,
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
    pub(super) fn problem(&mut self, field: &str, source: ValueSource, message: impl Into<String>) {
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
    pub(super) fn string(
        &self,
        explicit: &Option<String>,
        vars: &[&'static str],
    ) -> Option<Sourced<String>> {
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
    pub(super) fn parsed<T>(
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
    pub(super) fn checked(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        vars: &[&'static str],
        check: impl Fn(&str) -> Result<String, String>,
    ) -> Option<String> {
        self.checked_sourced(field, explicit, vars, check)
            .map(|checked| checked.value)
    }

    /// [`checked`](Self::checked), with where the value came from.
    fn checked_sourced(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        vars: &[&'static str],
        check: impl Fn(&str) -> Result<String, String>,
    ) -> Option<Sourced<String>> {
        let raw = self.string(explicit, vars)?;
        match check(&raw.value) {
            Ok(value) => Some(Sourced {
                value,
                source: raw.source,
            }),
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

    pub(super) fn path(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        vars: &[&'static str],
    ) -> Option<String> {
        self.checked(field, explicit, vars, normalize_path)
    }

    /// [`path`](Self::path), with where the value came from.
    fn sourced_path(
        &mut self,
        field: &str,
        explicit: &Option<String>,
        vars: &[&'static str],
    ) -> Option<Sourced<String>> {
        self.checked_sourced(field, explicit, vars, normalize_path)
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
}
