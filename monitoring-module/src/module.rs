//! `InngestMonitoringModule`: the monitoring service, its hook and its endpoints as a
//! Nestling module.

use std::sync::Arc;

use nestling::{
    BoxError, DynamicModule, Module, ModuleDef, OnApplicationBootstrap, OnApplicationShutdown,
    Provider, ShutdownSignal,
};
use nestling_inngest::{InngestService, MiddlewareProvider};

use crate::config::MonitoringSettings;
use crate::middleware::MonitoringMiddleware;
use crate::registry::MetricsRegistry;
use crate::service::MonitoringService;

/// The monitoring module: provides (and exports) [`MonitoringService`] and
/// [`MonitoringMiddleware`], and serves the metrics endpoints. [`MonitoringMiddleware`] is
/// provided as Inngest middleware ([`MiddlewareProvider::global`]), so the Inngest module
/// runs it for every function.
///
/// `InngestMonitoringModule` (static) takes its settings from the Inngest module's
/// `monitoring` options, read from the `Arc<dyn InngestService>` it injects (defaults without
/// one), and pre-registers every function so idle ones show zeros;
/// [`InngestMonitoringModule::for_root`] takes explicit settings. Either way the endpoints are
/// at `metrics_path` (default `/metrics`) and `docs_path` (default `/docs/monitoring`).
///
/// # Examples
///
/// ```
/// use nestling::{Module, ModuleDef, NestlingApplication};
/// use nestling_monitoring::InngestMonitoringModule;
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").import(InngestMonitoringModule)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = NestlingApplication::create(AppModule).await?;
/// let server = app.start("127.0.0.1:0").await?;
/// let text = reqwest::get(format!("{}/metrics", server.url())).await.unwrap().text().await.unwrap();
/// assert!(text.contains("# TYPE inngest_process_memory_bytes gauge"));
/// server.close().await?;
/// # Ok::<_, nestling::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct InngestMonitoringModule;

impl Module for InngestMonitoringModule {
    fn define(&self) -> ModuleDef {
        definition(None, &MonitoringSettings::default())
    }
}

impl InngestMonitoringModule {
    /// The module with explicit settings (the Inngest options' `monitoring` section is not
    /// read).
    pub fn for_root(settings: MonitoringSettings) -> DynamicModule {
        DynamicModule::new::<Self>(definition(Some(settings.clone()), &settings))
    }
}

fn definition(explicit: Option<MonitoringSettings>, paths: &MonitoringSettings) -> ModuleDef {
    let service = Provider::factory(move |inngest: Option<Arc<dyn InngestService>>| {
        let explicit = explicit.clone();
        async move {
            let settings = match (explicit, &inngest) {
                (Some(settings), _) => settings,
                (None, Some(inngest)) => {
                    let options = inngest.options();
                    let mut settings = MonitoringSettings::from_inngest(&options.monitoring);
                    settings.service_name = if options.tracing.service_name.is_empty() {
                        options.app_id.clone()
                    } else {
                        options.tracing.service_name.clone()
                    };
                    settings
                }
                (None, None) => MonitoringSettings::default(),
            };
            let service = MonitoringService::build(settings, MetricsRegistry::new())?;
            if let Some(inngest) = &inngest {
                for function in inngest.functions() {
                    service.functions().register_function(&function.id);
                }
            }
            Ok::<_, BoxError>(service)
        }
    })
    .on_application_bootstrap()
    .on_application_shutdown();

    // Provided as Inngest middleware: the Inngest module finds it when the modules
    // initialise and runs it for every function.
    let middleware = MiddlewareProvider::global(Provider::factory(
        |service: Arc<MonitoringService>| async move {
            Ok::<_, BoxError>(MonitoringMiddleware::new(service))
        },
    ));

    let mut def = ModuleDef::new("InngestMonitoringModule")
        .provider(service)
        .provider(middleware)
        .export::<MonitoringService>()
        .export::<MonitoringMiddleware>();

    let mut mounts = vec![paths.metrics_path.clone()];
    mounts.extend(
        paths
            .docs_path
            .iter()
            .map(|docs| docs.trim_end_matches('/').to_owned()),
    );
    for mount in mounts {
        def = def.route(mount.clone(), move |ctx| {
            let service = ctx.module().try_get::<MonitoringService>()?;
            // Disabled monitoring serves nothing at its paths.
            let endpoint = service
                .endpoints()
                .into_iter()
                .find(|(path, _)| *path == mount)
                .map_or_else(not_found, |(_, endpoint)| endpoint);
            Ok(endpoint)
        });
    }

    def
}

fn not_found() -> poem::endpoint::BoxEndpoint<'static> {
    use poem::EndpointExt as _;
    poem::endpoint::make_sync(|_| poem::http::StatusCode::NOT_FOUND)
        .map_to_response()
        .boxed()
}

#[nestling::async_trait]
impl OnApplicationBootstrap for MonitoringService {
    async fn on_application_bootstrap(&self) -> Result<(), BoxError> {
        self.start_sampler()?;
        Ok(())
    }
}

#[nestling::async_trait]
impl OnApplicationShutdown for MonitoringService {
    async fn on_application_shutdown(&self, _signal: ShutdownSignal) -> Result<(), BoxError> {
        // Shutting the OTLP push down waits for its last export; keep that off the runtime.
        if let Some(otlp) = self.take_otlp() {
            tokio::task::spawn_blocking(move || otlp.shutdown()).await?;
        }
        self.stop_sampler();
        Ok(())
    }
}
