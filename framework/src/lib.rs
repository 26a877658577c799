//! NestJS-style module container, lifecycle, discovery, config and HTTP application for Rust.
//!
//! An application is a graph of modules. Each [`Module`] has a name, imports, providers and
//! exports; a module sees its own providers, what its imports export, and what global modules
//! export. Dynamic modules ([`DynamicModule`]) are made at run time by `for_root(options)` or
//! `for_root_async(AsyncOptions::factory(..))`. The whole graph is checked (visibility,
//! exports, cycles) before anything is built; then providers are built in dependency order,
//! async factories awaited, and the lifecycle hooks run in NestJS's order.
//!
//! ```
//! use nestling::{
//!     ApplicationContext, AsyncOptions, ConfigModule, ConfigOptions, ConfigService,
//!     DynamicModule, Injectable, Module, ModuleDef, Provider,
//! };
//! use std::sync::Arc;
//!
//! // An interface and its implementation, injected with options made from configuration.
//! pub trait Greeter: Send + Sync {
//!     fn greet(&self, name: &str) -> String;
//! }
//!
//! #[derive(serde::Deserialize)]
//! pub struct GreetingOptions { pub greeting: String }
//!
//! #[derive(Injectable)]
//! #[injectable(interface = dyn Greeter)]
//! pub struct PoliteGreeter {
//!     #[inject]
//!     options: Arc<GreetingOptions>,
//! }
//!
//! impl Greeter for PoliteGreeter {
//!     fn greet(&self, name: &str) -> String {
//!         format!("{}, {name}", self.options.greeting)
//!     }
//! }
//!
//! // A dynamic module configured with `for_root_async`.
//! pub struct GreetingModule;
//! impl GreetingModule {
//!     pub fn for_root_async(options: AsyncOptions<GreetingOptions>) -> DynamicModule {
//!         DynamicModule::new::<GreetingModule>(
//!             options
//!                 .apply(ModuleDef::new("GreetingModule"))
//!                 .provider(Provider::class::<PoliteGreeter>())
//!                 .export::<dyn Greeter>(),
//!         )
//!     }
//! }
//!
//! // The root module composes them.
//! struct AppModule;
//! impl Module for AppModule {
//!     fn define(&self) -> ModuleDef {
//!         ModuleDef::new("AppModule").import(GreetingModule::for_root_async(
//!             AsyncOptions::factory(|config: Arc<ConfigService>| async move {
//!                 config.get::<GreetingOptions>("greeting")
//!             })
//!             .import(ConfigModule::for_root(
//!                 ConfigOptions::new().without_files().set_default("greeting.greeting", "Good day"),
//!             )),
//!         ))
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let app = ApplicationContext::create(AppModule).await?;
//! let greeter: Arc<dyn Greeter> = app.get::<dyn Greeter>();
//! assert_eq!(greeter.greet("Ada"), "Good day, Ada");
//! app.close().await?;
//! # Ok::<_, nestling::Error>(()) }).unwrap();
//! ```

#![allow(
    clippy::result_large_err,
    reason = "`Error` carries owned names for its messages and is returned on the cold start-up path; \
              boxing it would make matching on its fields clumsy for no measurable gain"
)]

// The derive macros name `::nestling`; this lets them work inside this crate's own tests.
#[allow(
    unused_extern_crates,
    reason = "used by macro expansions in unit tests only"
)]
extern crate self as nestling;

mod config;
mod container;
mod context;
pub mod discovery;
mod error;
mod http;
pub mod lifecycle;
mod module;
mod provider;
pub mod shaku;
mod token;

pub use async_trait::async_trait;
pub use config::{ConfigModule, ConfigOptions, ConfigService};
pub use container::{ModuleRef, Resolver};
pub use context::{ApplicationBuilder, ApplicationContext, ApplicationInfo, OverrideBuilder};
pub use discovery::{DiscoveredMethod, DiscoveredProvider, DiscoveryService};
pub use error::{BoxError, Error};
pub use http::{MappedRoute, NestlingApplication, RouteContext, ServerHandle, ShutdownHandle};
pub use lifecycle::{
    BeforeApplicationShutdown, OnApplicationBootstrap, OnApplicationListen, OnApplicationShutdown,
    OnModuleDestroy, OnModuleInit, ShutdownSignal,
};
pub use module::{AsyncOptions, DynamicModule, Import, Module, ModuleDef, RoutePath};
pub use nestling_macros::{Injectable, discoverable};
pub use provider::{Dependencies, Dependency, Injectable, Provider, ProviderBuilder, Scope};
pub use token::Token;

/// Private API used by the code that macros generate. Not covered by semver.
#[doc(hidden)]
pub mod __private {
    pub use crate::discovery::{
        CallMismatch, Erased, Instance, METHOD_ENTRIES, MethodCall, MethodEntry,
    };
    pub use futures;
    pub use linkme;
}
