//! `InngestModule`: the dynamic module that wires options, the service, discovery, the serve
//! route, automatic registration and the embedded engine into a Nestling application.

mod engine;
mod runtime;

use std::sync::Arc;

use nestling::{
    ApplicationInfo, AsyncOptions, DiscoveryService, DynamicModule, ModuleDef, Provider, RoutePath,
};

pub use self::engine::EmbeddedEngine;
use self::runtime::InngestRuntime;
use crate::{
    DefaultInngestService, Error, FunctionRegistry, InngestModuleOptions, InngestService,
    ResolvedOptions, ServeEndpoint,
};

/// The path the serve endpoint is mounted at when none is configured.
pub const DEFAULT_SERVE_PATH: &str = "/api/inngest";

/// The Inngest module.
///
/// Import it once, usually in the root module, with [`for_root`](Self::for_root) or
/// [`for_root_async`](Self::for_root_async). It provides and exports
/// `Arc<dyn InngestService>`, the [`FunctionRegistry`] and the [`ServeEndpoint`] (whose
/// [`execute`](ServeEndpoint::execute) runs a call request in-process), mounts the serve
/// endpoint at the resolved `path`, discovers the functions
/// declared with `#[nestling_inngest::functions]` on every provider when the modules
/// initialise, and registers them with the server once the application listens (except with
/// Inngest Cloud, which syncs from its side). With no server configured at all it starts
/// Nestling's embedded engine in the process and registers with it.
///
/// # Examples
///
/// ```no_run
/// use nestling::{Module, ModuleDef};
/// use nestling_inngest::{InngestModule, InngestModuleOptions};
///
/// struct AppModule;
///
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").import(InngestModule::for_root(
///             InngestModuleOptions::new("my-app").is_global(true),
///         ))
///     }
/// }
/// ```
#[derive(Debug)]
pub struct InngestModule;

impl InngestModule {
    /// The module configured with options known now.
    ///
    /// It is global when the options say `is_global(true)` (not by default, as in NestJS).
    pub fn for_root(options: InngestModuleOptions) -> DynamicModule {
        let global = options.is_global.unwrap_or(false);
        Self::build(AsyncOptions::value(options).is_global(global))
    }

    /// The module configured by a factory injected with other providers (usually the
    /// `ConfigService`), NestJS's `forRootAsync({ isGlobal, imports, useFactory, inject })`.
    ///
    /// Every option the factory returns is honoured, `path` included: the serve endpoint is
    /// mounted where the resolved options say, once the factory has run. Visibility is the
    /// one thing decided before any factory runs, since the whole graph is checked first: the
    /// module is global when `options` says [`is_global(true)`](AsyncOptions::is_global), and
    /// not otherwise (as in NestJS). A factory whose options set `is_global` to something
    /// else fails start-up with an error naming `is_global`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nestling::{AsyncOptions, ConfigModule, ConfigOptions, ConfigService, Module, ModuleDef, NestlingApplication};
    /// use nestling_inngest::{InngestModule, InngestModuleOptions};
    ///
    /// struct AppModule;
    ///
    /// impl Module for AppModule {
    ///     fn define(&self) -> ModuleDef {
    ///         let config = ConfigModule::for_root(
    ///             ConfigOptions::new()
    ///                 .without_files()
    ///                 .set_default("inngest.id", "shop")
    ///                 .set_default("inngest.path", "/hooks/inngest")
    ///                 .set_default("inngest.dev", true)
    ///                 .set_default("inngest.disable_auto_registration", true),
    ///         );
    ///         ModuleDef::new("AppModule").import(InngestModule::for_root_async(
    ///             AsyncOptions::factory(|config: Arc<ConfigService>| async move {
    ///                 config.get::<InngestModuleOptions>("inngest")
    ///             })
    ///             .import(config)
    ///             .is_global(true),
    ///         ))
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let app = NestlingApplication::create(AppModule).await?;
    /// assert_eq!(app.routes()[0].path, "/hooks/inngest");
    /// # Ok::<(), nestling::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn for_root_async(options: AsyncOptions<InngestModuleOptions>) -> DynamicModule {
        Self::build(options)
    }

    fn build(options: AsyncOptions<InngestModuleOptions>) -> DynamicModule {
        let global = options.global();

        let def = options
            .apply(ModuleDef::new("InngestModule"))
            .provider(Provider::value(FunctionRegistry::new()))
            .provider(Provider::factory(
                move |(options, app): (Arc<InngestModuleOptions>, Arc<ApplicationInfo>)| async move {
                    resolve(&options, &app, global)
                },
            ))
            .provider(
                Provider::factory(|options: Arc<ResolvedOptions>| async move {
                    EmbeddedEngine::start_if_needed(&options).await
                })
                .on_module_destroy(),
            )
            .provider(
                Provider::factory(
                    |(options, engine, registry): (
                        Arc<ResolvedOptions>,
                        Arc<EmbeddedEngine>,
                        Arc<FunctionRegistry>,
                    )| async move {
                        let options = match engine.origin() {
                            Some(origin) => (*options).clone().with_engine_origin(&origin)?,
                            None => (*options).clone(),
                        };
                        let source = Arc::new((*registry).clone());
                        DefaultInngestService::new(options, source)
                    },
                )
                .bind::<dyn InngestService>(|service| service),
            )
            .provider(
                Provider::factory(
                    |(service, registry, discovery): (
                        Arc<DefaultInngestService>,
                        Arc<FunctionRegistry>,
                        Arc<DiscoveryService>,
                    )| async move {
                        Ok::<_, Error>(InngestRuntime {
                            service,
                            registry: (*registry).clone(),
                            discovery,
                        })
                    },
                )
                .on_module_init()
                .on_application_listen(),
            )
            .provider(Provider::factory(
                |(service, registry): (Arc<DefaultInngestService>, Arc<FunctionRegistry>)| async move {
                    let service: Arc<dyn InngestService> = service;
                    Ok::<_, Error>(ServeEndpoint::new(service, (*registry).clone()))
                },
            ))
            .export::<dyn InngestService>()
            .export::<FunctionRegistry>()
            .export::<ServeEndpoint>()
            // The path is read once the options are resolved, so a factory's `path` counts.
            .route(
                RoutePath::from_provider(|options: &ResolvedOptions| options.path.clone()),
                |ctx| Ok((*ctx.module().try_get::<ServeEndpoint>()?).clone()),
            );

        DynamicModule::new::<InngestModule>(def)
    }
}

/// Resolves the options for an app with this global prefix, and checks them against the
/// visibility fixed when the module was defined.
fn resolve(
    options: &InngestModuleOptions,
    app: &ApplicationInfo,
    global: bool,
) -> Result<ResolvedOptions, Error> {
    // The route is mounted under the global prefix, so the sync URL must say it too.
    let mut resolved = options
        .resolve_from_process_env()?
        .with_global_prefix(app.global_prefix());
    if let Some(asked) = options.is_global
        && asked != global
    {
        return Err(Error::ModuleDefinition {
            field: "is_global",
            reason: format!(
                "the options say `is_global({asked})`, but the module was defined {}; the \
                 visibility of a module is fixed before any options factory runs, so set it \
                 on the async options with `AsyncOptions::is_global({asked})`",
                if global { "global" } else { "not global" }
            ),
        });
    }
    resolved.is_global = global;

    Ok(resolved)
}
