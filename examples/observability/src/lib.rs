//! Health, monitoring and tracing switched on for an Inngest app.
//!
//! The app module imports the Inngest integration, [`InngestHealthModule`] and
//! [`InngestMonitoringModule`]; both read their settings from the Inngest module's `health`
//! and `monitoring` options, and [`nestling_inngest::init_telemetry`] exports spans when the
//! `tracing` options (or `OTEL_EXPORTER_OTLP_ENDPOINT`) name a collector.
//!
//! The Inngest module itself is provided here by its service, exported globally as the module
//! exports it, because the module type is not in `nestling-inngest` yet; once it is, the
//! stand-in below becomes `InngestModule::for_root(options())`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use nestling::{DynamicModule, Module, ModuleDef, NestlingApplication, Provider};
use nestling_health::InngestHealthModule;
use nestling_inngest::{
    DefaultInngestService, HealthOptions, InngestModuleOptions, InngestService, MonitoringOptions,
    ResolvedOptions, TracingOptions,
};
use nestling_inngest_protocol::FunctionConfig;
use nestling_monitoring::InngestMonitoringModule;

/// The app's Inngest options, with the three observability sections switched on.
pub fn options() -> InngestModuleOptions {
    InngestModuleOptions::new("observability-demo")
        .health(
            HealthOptions::default()
                .enabled(true)
                .path("/health/inngest")
                .include_details(true)
                .enable_metrics(true)
                .check_interval(Duration::from_secs(10)),
        )
        .monitoring(
            MonitoringOptions::default()
                .enabled(true)
                .collect_metrics(true)
                .metrics_interval(Duration::from_secs(15))
                .enable_tracing(true),
        )
        .tracing(
            TracingOptions::default()
                .enabled(true)
                .service_name("observability-demo"),
        )
}

/// Resolves [`options`] against the process environment (`INNGEST_*`, `OTEL_*`), falling
/// back to the local dev server.
///
/// # Errors
/// The options' validation errors.
pub fn resolve(env: &BTreeMap<String, String>) -> Result<ResolvedOptions, nestling_inngest::Error> {
    let mut env = env.clone();
    env.entry("INNGEST_DEV".to_owned())
        .or_insert_with(|| "1".to_owned());
    let env: BTreeMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    options().resolve(&env)
}

struct InngestStandIn;

/// The root module.
#[derive(Clone)]
pub struct AppModule {
    inngest: Arc<dyn InngestService>,
}

impl std::fmt::Debug for AppModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppModule")
            .field("app_id", &self.inngest.options().app_id)
            .finish()
    }
}

impl AppModule {
    /// The module over resolved options, with the demo's two functions.
    ///
    /// # Errors
    /// When the Inngest client cannot be built from the options.
    pub fn new(options: ResolvedOptions) -> Result<Self, nestling_inngest::Error> {
        let functions = |app: &str, _: &str| {
            ["process-order", "send-receipt"]
                .iter()
                .map(|id| FunctionConfig {
                    id: format!("{app}-{id}"),
                    name: (*id).to_owned(),
                    ..FunctionConfig::default()
                })
                .collect()
        };
        let service = DefaultInngestService::new(options, Arc::new(functions))?;
        // Events the service sends carry the sender's trace context in `data.traceContext`.
        nestling_inngest::attach_trace_context_injection(&service);
        Ok(Self {
            inngest: Arc::new(service),
        })
    }

    /// The app's Inngest service.
    pub fn inngest(&self) -> &Arc<dyn InngestService> {
        &self.inngest
    }
}

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        let inngest = ModuleDef::new("InngestModule")
            .provider(Provider::instance::<dyn InngestService>(Arc::clone(
                &self.inngest,
            )))
            .export::<dyn InngestService>()
            .global();

        ModuleDef::new("AppModule")
            .import(DynamicModule::new::<InngestStandIn>(inngest))
            .import(InngestHealthModule)
            .import(InngestMonitoringModule)
    }
}

/// Builds the HTTP application.
///
/// # Errors
/// When a module fails to build.
pub async fn create_app(module: AppModule) -> Result<NestlingApplication, nestling::Error> {
    NestlingApplication::create(module).await
}
