//! Health, monitoring and tracing switched on for an Inngest app.
//!
//! The app module imports [`InngestModule`], [`InngestHealthModule`] and
//! [`InngestMonitoringModule`]; both read their settings from the Inngest module's `health`
//! and `monitoring` options, and provide their execution hooks as Inngest middleware, which
//! the Inngest module picks up on its own. Tracing is on in the options, so every call of a
//! run and every step is a span, and the event `process-order` sends carries its trace
//! context to `send-receipt`; [`nestling_inngest::init_telemetry`] exports the spans when the
//! `tracing` options (or `OTEL_EXPORTER_OTLP_ENDPOINT`) name a collector.
//!
//! With no Inngest server configured the app runs on the embedded engine; set
//! `INNGEST_DEV=1` (and `INNGEST_BASE_URL`) to use the Inngest dev server.

use std::collections::BTreeMap;
use std::time::Duration;

use nestling::{Injectable, Module, ModuleDef, NestlingApplication, Provider};
use nestling_health::InngestHealthModule;
use nestling_inngest::{
    Ctx, Event, FunctionError, HealthOptions, InngestModule, InngestModuleOptions,
    MonitoringOptions, ResolvedOptions, TracingOptions, functions,
};
use nestling_monitoring::InngestMonitoringModule;
use serde_json::{Value, json};

/// The app's id, which prefixes its functions' ids.
pub const APP_ID: &str = "observability-demo";

/// The app's Inngest options, with the three observability sections switched on.
pub fn options() -> InngestModuleOptions {
    // Global, so that the health and monitoring modules see the Inngest service.
    InngestModuleOptions::new(APP_ID)
        .is_global(true)
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
        .tracing(TracingOptions::default().enabled(true).service_name(APP_ID))
}

/// Resolves [`options`] against an environment (`INNGEST_*`, `OTEL_*`), as the module will,
/// to read the `tracing` section before the app starts.
///
/// # Errors
/// The options' validation errors.
pub fn resolve(env: &BTreeMap<String, String>) -> Result<ResolvedOptions, nestling_inngest::Error> {
    let env: BTreeMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    options().resolve(&env)
}

/// The demo's two functions: an order is processed in a step, then a receipt is sent by a
/// second function, triggered by the event the first one sends.
#[derive(Debug, Default, Injectable)]
pub struct OrderService;

#[functions]
impl OrderService {
    /// Charges the order, then announces it.
    #[function(id = "process-order", event = "shop/order.created")]
    async fn process_order(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let order = ctx.event.data["orderId"].clone();
        let charged: Value = ctx
            .step
            .run("charge", || async move {
                Ok::<_, FunctionError>(json!({ "orderId": order, "charged": true }))
            })
            .await?;
        ctx.step
            .send_event(
                "announce",
                Event::new("shop/order.processed", charged.clone()),
            )
            .await?;
        Ok(charged)
    }

    /// Sends the receipt of a processed order.
    #[function(id = "send-receipt", event = "shop/order.processed")]
    async fn send_receipt(&self, ctx: Ctx) -> Result<Value, FunctionError> {
        let order = ctx.event.data["orderId"].clone();
        let receipt: Value = ctx
            .step
            .run("email", || async move {
                Ok::<_, FunctionError>(json!({ "sent": true, "orderId": order }))
            })
            .await?;
        Ok(receipt)
    }
}

/// The root module.
#[derive(Debug, Clone)]
pub struct AppModule {
    options: InngestModuleOptions,
}

impl Default for AppModule {
    fn default() -> Self {
        Self::new(options())
    }
}

impl AppModule {
    /// The module with these Inngest options (usually [`options`]).
    pub fn new(options: InngestModuleOptions) -> Self {
        Self { options }
    }
}

impl Module for AppModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("AppModule")
            .import(InngestModule::for_root(self.options.clone()))
            .import(InngestHealthModule)
            .import(InngestMonitoringModule)
            .provider(Provider::class::<OrderService>())
    }
}

/// Builds the HTTP application.
///
/// # Errors
/// When a module fails to build.
pub async fn create_app(module: AppModule) -> Result<NestlingApplication, nestling::Error> {
    NestlingApplication::create(module).await
}
