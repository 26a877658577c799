//! `InngestModule`: the dynamic module that wires options, the service, discovery, the serve
//! route, automatic registration and the embedded engine into a Nestling application.

mod engine;
mod runtime;

use std::sync::Arc;

use nestling::{AsyncOptions, DiscoveryService, DynamicModule, ModuleDef, Provider};

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
/// `Arc<dyn InngestService>`, mounts the serve endpoint at `path`, discovers the functions
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
    pub fn for_root(options: InngestModuleOptions) -> DynamicModule {
        let path = options.path.clone();
        let global = options.is_global.unwrap_or(false);
        Self::build(AsyncOptions::value(options), path, global)
    }

    /// The module configured by a factory injected with other providers (usually the
    /// `ConfigService`), NestJS's `forRootAsync`.
    ///
    /// Every option the factory returns is honoured, with two that must be known when the
    /// module is defined, before any factory runs: the route `path` is taken from
    /// `INNGEST_PATH` (or [`DEFAULT_SERVE_PATH`]), and start-up fails naming `path` if the
    /// factory's options disagree; and the module is global, as the NestJS module is by
    /// default (a factory's `is_global(false)` is logged and ignored).
    pub fn for_root_async(options: AsyncOptions<InngestModuleOptions>) -> DynamicModule {
        Self::build(options, None, true)
    }

    fn build(
        options: AsyncOptions<InngestModuleOptions>,
        path: Option<String>,
        global: bool,
    ) -> DynamicModule {
        let route_path = path
            .or_else(|| std::env::var("INNGEST_PATH").ok())
            .unwrap_or_else(|| DEFAULT_SERVE_PATH.to_owned());
        let mounted = route_path.clone();

        let def = options
            .apply(ModuleDef::new("InngestModule"))
            .provider(Provider::value(FunctionRegistry::new()))
            .provider(Provider::factory(
                move |options: Arc<InngestModuleOptions>| {
                    let mounted = mounted.clone();
                    async move { resolve(&options, &mounted, global) }
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
            .export::<dyn InngestService>()
            .export::<FunctionRegistry>()
            .route(route_path, |ctx| {
                let service: Arc<dyn InngestService> =
                    ctx.module().try_get::<DefaultInngestService>()?;
                let registry = ctx.module().try_get::<FunctionRegistry>()?;
                Ok(ServeEndpoint::new(service, (*registry).clone()))
            })
            .global_if(global);

        DynamicModule::new::<InngestModule>(def)
    }
}

/// Resolves the options and checks what had to be fixed when the module was defined.
fn resolve(
    options: &InngestModuleOptions,
    mounted: &str,
    global: bool,
) -> Result<ResolvedOptions, Error> {
    let resolved = options.resolve_from_process_env()?;
    if normalise(&resolved.path) != normalise(mounted) {
        return Err(Error::ModuleDefinition {
            field: "path",
            reason: format!(
                "the serve endpoint is mounted at {mounted:?}, but the options say {:?}; \
                 `for_root_async` mounts the route before its factory runs, so set \
                 INNGEST_PATH to the path (or use `for_root`)",
                resolved.path
            ),
        });
    }
    if resolved.is_global != global {
        tracing::warn!(
            target: "nestling_inngest::module",
            is_global = resolved.is_global,
            "`is_global` returned by a `for_root_async` factory is ignored: the module's \
             visibility is fixed when it is defined (global)"
        );
    }
    Ok(resolved)
}

fn normalise(path: &str) -> String {
    format!("/{}", path.trim_matches('/'))
}
