//! `InngestHealthModule`: the health service and its endpoints as a Nestling module.

use std::sync::Arc;

use nestling::{
    BeforeApplicationShutdown, BoxError, DynamicModule, Module, ModuleDef, OnApplicationBootstrap,
    Provider, ShutdownSignal,
};
use nestling_inngest::{InngestService, MiddlewareProvider};

use crate::indicators::HealthMiddleware;
use crate::service::HealthService;
use crate::settings::HealthSettings;

/// The health module: provides (and exports) [`HealthService`] and [`HealthMiddleware`], and
/// serves the endpoints. [`HealthMiddleware`] is provided as Inngest middleware
/// ([`MiddlewareProvider::global`]), so the Inngest module runs it for every function and the
/// detailed report shows each function's last execution.
///
/// - `InngestHealthModule` (static) takes its settings from the Inngest module's `health`
///   options, read from the `Arc<dyn InngestService>` it injects; since the paths are known
///   only then, its endpoints are mounted under the app's root (`/`) and answer only at
///   their configured paths. Without an Inngest service it serves liveness and readiness.
/// - [`InngestHealthModule::for_root`] takes explicit settings and mounts each endpoint at
///   its own path, for apps that mount something else at `/`.
///
/// Background checks start at bootstrap, when the embedded engine's storage indicator is also
/// added to readiness if the app runs on the embedded engine; at shutdown readiness turns
/// `shutting_down`.
///
/// # Examples
///
/// ```
/// use nestling::{Module, ModuleDef, NestlingApplication};
/// use nestling_health::{HealthSettings, InngestHealthModule};
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").import(InngestHealthModule::for_root(HealthSettings::default()))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = NestlingApplication::create(AppModule).await?;
/// let server = app.start("127.0.0.1:0").await?;
/// let live = reqwest::get(format!("{}/health/live", server.url())).await.unwrap();
/// assert_eq!(live.status(), 200);
/// server.close().await?;
/// # Ok::<_, nestling::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct InngestHealthModule;

impl Module for InngestHealthModule {
    fn define(&self) -> ModuleDef {
        definition(None).route("/", |ctx| {
            let health = ctx.module().try_get::<HealthService>()?;
            Ok(health.routes())
        })
    }
}

impl InngestHealthModule {
    /// The module with explicit settings (the Inngest options' `health` section is not read).
    pub fn for_root(settings: HealthSettings) -> DynamicModule {
        let mut def = definition(Some(settings.clone()));
        if settings.enabled {
            for path in mount_paths(&settings) {
                let mounted = path.clone();
                def = def.route(path, move |ctx| {
                    let health = ctx.module().try_get::<HealthService>()?;
                    // The Inngest report is not served without an Inngest service.
                    let endpoint = health
                        .endpoints()
                        .into_iter()
                        .find(|(path, _)| *path == mounted)
                        .map_or_else(not_found, |(_, endpoint)| endpoint);
                    Ok(endpoint)
                });
            }
        }
        DynamicModule::new::<Self>(def)
    }
}

fn definition(settings: Option<HealthSettings>) -> ModuleDef {
    let provider = Provider::factory(move |inngest: Option<Arc<dyn InngestService>>| {
        let settings = settings.clone();
        async move {
            let settings = match (&settings, &inngest) {
                (Some(settings), _) => settings.clone(),
                (None, Some(inngest)) => HealthSettings::from_inngest(&inngest.options().health),
                (None, None) => HealthSettings::default(),
            };
            HealthService::build(settings, inngest)
        }
    })
    .on_application_bootstrap()
    .before_application_shutdown();

    // Provided as Inngest middleware: the Inngest module finds it when the modules
    // initialise and runs it for every function.
    let middleware =
        MiddlewareProvider::global(Provider::factory(|health: Arc<HealthService>| async move {
            Ok::<_, BoxError>(HealthMiddleware::new(Arc::clone(health.execution_log())))
        }));

    ModuleDef::new("InngestHealthModule")
        .provider(provider)
        .provider(middleware)
        .export::<HealthService>()
        .export::<HealthMiddleware>()
}

fn not_found() -> poem::endpoint::BoxEndpoint<'static> {
    use poem::EndpointExt as _;
    poem::endpoint::make_sync(|_| poem::http::StatusCode::NOT_FOUND)
        .map_to_response()
        .boxed()
}

/// Where [`HealthService::endpoints`] mounts, without building the service.
fn mount_paths(settings: &HealthSettings) -> Vec<String> {
    let mut paths = vec![
        settings.path.clone(),
        settings.liveness_path.clone(),
        settings.readiness_path.clone(),
    ];
    if let Some(docs) = &settings.docs_path {
        paths.push(docs.trim_end_matches('/').to_owned());
    }
    paths
}

#[nestling::async_trait]
impl OnApplicationBootstrap for HealthService {
    async fn on_application_bootstrap(&self) -> Result<(), BoxError> {
        self.start();
        Ok(())
    }
}

#[nestling::async_trait]
impl BeforeApplicationShutdown for HealthService {
    async fn before_application_shutdown(&self, _signal: ShutdownSignal) -> Result<(), BoxError> {
        self.shutdown();
        Ok(())
    }
}
