//! Three modules composed into one app, served over HTTP:
//!
//! - `GreetingModule`, configured with `for_root_async` from the config module, exports the
//!   `dyn Greeter` interface and serves `GET /greetings/:name`;
//! - `UsersModule` injects `Arc<dyn Greeter>` and serves `GET`/`POST /users`;
//! - `StatsModule`, global, counts what the others do and serves `GET /stats`.

mod greeting;
mod stats;
mod users;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use greeting::{Greeter, GreetingModule, GreetingOptions};
use nestling::{
    AsyncOptions, ConfigModule, ConfigOptions, ConfigService, Error, Module, ModuleDef,
    NestlingApplication,
};
pub use stats::{Stats, StatsModule};
pub use users::{User, UserStore, UsersModule};

/// Where the example reads its configuration, and the environment it sees.
#[derive(Debug, Clone)]
pub struct AppModule {
    /// The folder holding `default.toml` and `{env}.toml`.
    pub config_dir: PathBuf,
    /// Environment variables to read instead of the process's (tests), or `None`.
    pub env_vars: Option<HashMap<String, String>>,
}

impl Default for AppModule {
    fn default() -> Self {
        Self {
            config_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            env_vars: None,
        }
    }
}

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        let mut config = ConfigOptions::new().dir(&self.config_dir).global();
        if let Some(vars) = &self.env_vars {
            config = config.env_vars(vars.clone());
        }

        ModuleDef::new("AppModule")
            .import(ConfigModule::for_root(config))
            .import(StatsModule)
            .import(GreetingModule::for_root_async(AsyncOptions::factory(
                |config: Arc<ConfigService>| async move {
                    config.get::<GreetingOptions>("greeting")
                },
            )))
            .import(UsersModule)
    }
}

/// Builds the app with the global prefix from the configuration (`server.global_prefix`).
///
/// # Errors
///
/// Any start-up error of the container, such as a missing configuration key.
pub async fn create_app(module: AppModule) -> Result<NestlingApplication, Error> {
    // The prefix must be known before the routes are mounted, so it is read from the same
    // layered configuration up front.
    let mut options = ConfigOptions::new().dir(&module.config_dir);
    if let Some(vars) = &module.env_vars {
        options = options.env_vars(vars.clone());
    }
    let prefix = ConfigService::load(&options)?.get_or("server.global_prefix", String::new())?;

    NestlingApplication::builder(module)
        .global_prefix(prefix)
        .create()
        .await
}
