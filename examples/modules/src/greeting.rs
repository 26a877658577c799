//! The greeting module: configured with `for_root_async`, exports `dyn Greeter`.

use std::sync::Arc;

use nestling::{AsyncOptions, DynamicModule, Injectable, ModuleDef, Provider};
use poem::web::{Data, Path};
use poem::{EndpointExt, Route, get, handler};
use serde::Deserialize;

use crate::Stats;

/// The options of the greeting module, read from the `greeting` section of the configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct GreetingOptions {
    /// The word to greet with.
    pub greeting: String,
    /// What ends a greeting.
    #[serde(default)]
    pub punctuation: String,
}

/// Greets people; other modules inject it as `Arc<dyn Greeter>`.
pub trait Greeter: Send + Sync {
    /// The greeting for `name`.
    fn greet(&self, name: &str) -> String;
}

#[derive(Injectable)]
#[injectable(interface = dyn Greeter)]
struct ConfiguredGreeter {
    #[inject]
    options: Arc<GreetingOptions>,
    #[inject]
    stats: Arc<Stats>,
}

impl Greeter for ConfiguredGreeter {
    fn greet(&self, name: &str) -> String {
        self.stats.count_greeting();
        let GreetingOptions {
            greeting,
            punctuation,
        } = &*self.options;
        format!("{greeting}, {name}{punctuation}")
    }
}

#[handler]
fn greet(Path(name): Path<String>, greeter: Data<&Arc<dyn Greeter>>) -> String {
    greeter.greet(&name)
}

/// The greeting module.
#[derive(Debug)]
pub struct GreetingModule;

impl GreetingModule {
    /// The module, with options made by an async factory (usually reading `ConfigService`).
    /// Global, so every module can inject `dyn Greeter` without importing it.
    pub fn for_root_async(options: AsyncOptions<GreetingOptions>) -> DynamicModule {
        DynamicModule::new::<GreetingModule>(
            options
                .apply(ModuleDef::new("GreetingModule"))
                .provider(Provider::class::<ConfiguredGreeter>())
                .export::<dyn Greeter>()
                .route("/greetings", |ctx| {
                    let greeter = ctx.module().try_get::<dyn Greeter>()?;
                    Ok(Route::new().at("/:name", get(greet)).data(greeter))
                }),
        )
        .global()
    }
}
