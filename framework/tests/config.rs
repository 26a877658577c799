//! The config module: layering, typed access, errors, injection into `for_root_async`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use nestling::{
    ApplicationContext, AsyncOptions, ConfigModule, ConfigOptions, ConfigService, DynamicModule,
    Error, Module, ModuleDef,
};
use serde::Deserialize;

/// A fresh folder under the system temp dir, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nestling-config-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, contents) in files {
            std::fs::write(dir.join(file), contents).unwrap();
        }
        Self(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct Server {
    host: String,
    port: u16,
    workers: u8,
    name: String,
}

fn layered(folder: &Folder, env: HashMap<String, String>) -> ConfigService {
    ConfigService::load(
        &ConfigOptions::new()
            .dir(&folder.0)
            .env("staging")
            .env_prefix("SHOP")
            .env_vars(env)
            .set_default("server.host", "localhost")
            .set_default("server.port", 1)
            .set_default("server.workers", 1)
            .set_default("server.name", "default-in-code"),
    )
    .unwrap()
}

#[test]
fn each_layer_overrides_the_one_below() {
    let folder = Folder::new(
        "layers",
        &[
            (
                "default.toml",
                "[server]\nport = 3000\nworkers = 2\nname = \"default-file\"\n",
            ),
            (
                "staging.yaml",
                "server:\n  workers: 4\n  name: staging-file\n",
            ),
            ("production.toml", "[server]\nname = \"not-this-env\"\n"),
        ],
    );
    let env = HashMap::from([("SHOP_SERVER__NAME".to_owned(), "from-env".to_owned())]);
    let config = layered(&folder, env);

    assert_eq!(
        config.get::<Server>("server").unwrap(),
        Server {
            host: "localhost".into(),
            port: 3000,
            workers: 4,
            name: "from-env".into(),
        }
    );
    assert_eq!(config.env(), "staging");
    assert_eq!(config.get_or::<u8>("server.missing", 9).unwrap(), 9);
}

#[test]
fn missing_and_malformed_keys_name_the_key_and_the_sources() {
    let folder = Folder::new(
        "errors",
        &[("default.toml", "[server]\nport = \"eighty\"\n")],
    );
    let config = layered(&folder, HashMap::new());

    let err = config.get::<String>("database.url").unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("configuration key `database.url` is missing (looked in: defaults, "),
        "{message}"
    );
    assert!(message.contains("default.*"), "{message}");
    assert!(message.contains("staging.*"), "{message}");
    assert!(
        message.ends_with("environment variables SHOP_*)"),
        "{message}"
    );

    let err = config.get::<u16>("server.port").unwrap_err();
    assert!(
        matches!(&err, Error::ConfigKey { key, problem, .. }
        if key == "server.port" && problem.starts_with("is malformed")),
        "{err}"
    );
}

#[test]
fn an_unreadable_file_is_a_load_error() {
    let folder = Folder::new("broken", &[("default.toml", "[server\nport = ")]);
    let Err(err) = ConfigService::load(&ConfigOptions::new().dir(&folder.0).env("test")) else {
        panic!("a broken file must not load");
    };
    assert!(matches!(err, Error::ConfigLoad { .. }), "{err}");
}

#[derive(Deserialize)]
struct PaymentsOptions {
    currency: String,
}

struct PaymentsModule;
impl PaymentsModule {
    fn for_root_async(options: AsyncOptions<PaymentsOptions>) -> DynamicModule {
        DynamicModule::new::<PaymentsModule>(
            options
                .apply(ModuleDef::new("PaymentsModule"))
                .export::<PaymentsOptions>(),
        )
    }
}

struct AppModule(PathBuf);
impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule").import(PaymentsModule::for_root_async(
            AsyncOptions::factory(|config: Arc<ConfigService>| async move {
                config.get::<PaymentsOptions>("payments")
            })
            .import(ConfigModule::for_root(
                ConfigOptions::new()
                    .dir(&self.0)
                    .env("test")
                    .env_vars(HashMap::new()),
            )),
        ))
    }
}

#[tokio::test]
async fn a_for_root_async_factory_reads_the_config_it_injects() {
    let folder = Folder::new(
        "inject",
        &[("default.json", r#"{"payments": {"currency": "EUR"}}"#)],
    );
    let app = ApplicationContext::create(AppModule(folder.0.clone()))
        .await
        .unwrap();
    assert_eq!(app.get::<PaymentsOptions>().currency, "EUR");

    let empty = Folder::new("inject-missing", &[]);
    let err = ApplicationContext::create(AppModule(empty.0.clone()))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(
            "provider `PaymentsOptions` of module `PaymentsModule` (import chain: AppModule -> \
             PaymentsModule) failed to build: configuration key `payments` is missing"
        ),
        "{message}"
    );
}
