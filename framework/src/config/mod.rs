//! The config module: layered configuration on the `config` crate, typed through serde.
//!
//! Layers, lowest priority first: defaults set in code, `config/default.*`,
//! `config/{env}.*`, then environment variables with a prefix (`APP_SERVER__PORT` sets
//! `server.port`: the prefix, one `_`, then `__` between nested keys). `{env}` comes from
//! [`ConfigOptions::env`], else the `NESTLING_ENV` variable, else `development`. Files may be in
//! any format the `config` crate reads (TOML, YAML, JSON, ...) and are optional.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde::de::DeserializeOwned;

use crate::{DynamicModule, Error, ModuleDef, Provider};

/// Where and how [`ConfigService`] reads configuration.
///
/// # Example
///
/// ```
/// use nestling::{ConfigOptions, ConfigService};
/// use std::collections::HashMap;
///
/// let options = ConfigOptions::new()
///     .without_files()
///     .set_default("server.port", 3000)
///     .env_prefix("SHOP")
///     .env_vars(HashMap::from([("SHOP_SERVER__PORT".to_owned(), "8080".to_owned())]));
/// let config = ConfigService::load(&options).unwrap();
/// assert_eq!(config.get::<u16>("server.port").unwrap(), 8080);
/// ```
#[derive(Debug, Clone)]
pub struct ConfigOptions {
    dir: PathBuf,
    files: bool,
    env: Option<String>,
    env_prefix: String,
    env_vars: Option<HashMap<String, String>>,
    defaults: Vec<(String, config::Value)>,
    global: bool,
}

impl Default for ConfigOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigOptions {
    /// Files in `config/`, environment from `NESTLING_ENV`, variables prefixed `APP`.
    pub fn new() -> Self {
        Self {
            dir: PathBuf::from("config"),
            files: true,
            env: None,
            env_prefix: "APP".to_owned(),
            env_vars: None,
            defaults: Vec::new(),
            global: false,
        }
    }

    /// Reads `default.*` and `{env}.*` from this folder.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Reads no files: defaults and environment variables only.
    pub fn without_files(mut self) -> Self {
        self.files = false;
        self
    }

    /// The environment name, choosing `config/{env}.*`.
    pub fn env(mut self, env: impl Into<String>) -> Self {
        self.env = Some(env.into());
        self
    }

    /// The prefix of the environment variables read (`APP` by default).
    pub fn env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env_prefix = prefix.into();
        self
    }

    /// Reads these variables instead of the process environment (for tests).
    pub fn env_vars(mut self, vars: HashMap<String, String>) -> Self {
        self.env_vars = Some(vars);
        self
    }

    /// A default, the lowest layer. `key` is dotted (`server.port`).
    pub fn set_default(mut self, key: impl Into<String>, value: impl Into<config::Value>) -> Self {
        self.defaults.push((key.into(), value.into()));
        self
    }

    /// Makes the config module global, so every module can inject [`ConfigService`].
    pub fn global(mut self) -> Self {
        self.global = true;
        self
    }

    fn env_name(&self) -> String {
        self.env
            .clone()
            .or_else(|| std::env::var("NESTLING_ENV").ok())
            .unwrap_or_else(|| "development".to_owned())
    }
}

/// Typed access to the layered configuration.
///
/// # Example
///
/// ```
/// use nestling::{ConfigOptions, ConfigService, Error};
///
/// #[derive(serde::Deserialize)]
/// struct Server { port: u16 }
///
/// let config = ConfigService::load(
///     &ConfigOptions::new().without_files().set_default("server.port", 3000),
/// )
/// .unwrap();
/// assert_eq!(config.get::<Server>("server").unwrap().port, 3000);
///
/// let err = config.get::<String>("database.url").unwrap_err();
/// assert!(matches!(err, Error::ConfigKey { .. }));
/// assert!(err.to_string().contains("`database.url` is missing"));
/// ```
pub struct ConfigService {
    config: config::Config,
    env: String,
    sources: Vec<String>,
}

impl fmt::Debug for ConfigService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigService")
            .field("env", &self.env)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl ConfigService {
    /// Reads every layer.
    ///
    /// # Errors
    ///
    /// [`Error::ConfigLoad`] when a file can't be read or parsed.
    pub fn load(options: &ConfigOptions) -> Result<Self, Error> {
        let env = options.env_name();
        let mut sources = Vec::new();
        let mut builder = config::Config::builder();

        if !options.defaults.is_empty() {
            sources.push("defaults".to_owned());
        }
        for (key, value) in &options.defaults {
            builder = builder
                .set_default(key.as_str(), value.clone())
                .map_err(|err| load_error(&sources, &err))?;
        }

        if options.files {
            for name in ["default", env.as_str()] {
                let path = options.dir.join(name);
                sources.push(format!("{}.*", path.display()));
                builder = builder
                    .add_source(config::File::with_name(&path.to_string_lossy()).required(false));
            }
        }

        let prefix = options.env_prefix.as_str();
        sources.push(format!("environment variables {prefix}_*"));
        builder = builder.add_source(
            config::Environment::with_prefix(prefix)
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(
                    options
                        .env_vars
                        .clone()
                        .map(|vars| vars.into_iter().collect()),
                ),
        );

        let config = builder.build().map_err(|err| load_error(&sources, &err))?;

        Ok(Self {
            config,
            env,
            sources,
        })
    }

    /// The value at `key` (dotted, `server.port`; a section such as `inngest` deserialises
    /// into a struct).
    ///
    /// # Errors
    ///
    /// [`Error::ConfigKey`] naming the key and the sources when it is missing or has another
    /// shape.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, Error> {
        self.get_optional(key)?.ok_or_else(|| Error::ConfigKey {
            key: key.to_owned(),
            problem: "is missing".to_owned(),
            looked_in: self.sources.join(", "),
        })
    }

    /// The value at `key`, or `None` when it is missing.
    ///
    /// # Errors
    ///
    /// [`Error::ConfigKey`] when it is present with another shape.
    pub fn get_optional<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        match self.config.get::<T>(key) {
            Ok(value) => Ok(Some(value)),
            Err(config::ConfigError::NotFound(_)) => Ok(None),
            Err(err) => Err(Error::ConfigKey {
                key: key.to_owned(),
                problem: format!("is malformed: {err}"),
                looked_in: self.sources.join(", "),
            }),
        }
    }

    /// The value at `key`, or `default` when it is missing.
    ///
    /// # Errors
    ///
    /// [`Error::ConfigKey`] when it is present with another shape.
    pub fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T, Error> {
        Ok(self.get_optional(key)?.unwrap_or(default))
    }

    /// The environment name (`development` by default).
    pub fn env(&self) -> &str {
        &self.env
    }

    /// The sources read, lowest priority first.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }
}

fn load_error(sources: &[String], err: &config::ConfigError) -> Error {
    Error::ConfigLoad {
        looked_in: sources.join(", "),
        message: err.to_string(),
    }
}

/// The config module (NestJS's `ConfigModule`): exports [`ConfigService`].
///
/// Identified by its type alone, so it is built once however many modules import it; the first
/// `for_root` met while scanning from the root sets the options.
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, ConfigModule, ConfigOptions, ConfigService, Module, ModuleDef};
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").import(ConfigModule::for_root(
///             ConfigOptions::new().without_files().set_default("name", "shop"),
///         ))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::create(AppModule).await.unwrap();
/// assert_eq!(app.get::<ConfigService>().get::<String>("name").unwrap(), "shop");
/// # });
/// ```
#[derive(Debug)]
pub struct ConfigModule;

impl ConfigModule {
    /// The config module reading with `options`.
    pub fn for_root(options: ConfigOptions) -> DynamicModule {
        let global = options.global;
        let load = move |(): ()| {
            let loaded = ConfigService::load(&options);
            async move { loaded }
        };

        DynamicModule::new::<ConfigModule>(
            ModuleDef::new("ConfigModule")
                .provider(Provider::factory(load))
                .export::<ConfigService>()
                .global_if(global),
        )
    }
}
