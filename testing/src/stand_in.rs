//! A module that stands in for `InngestModule` with a given service, for testing modules that
//! only need `Arc<dyn InngestService>` (health, monitoring, the app's own services).

use std::sync::Arc;

use nestling::{DynamicModule, ModuleDef, Provider};
use nestling_inngest::InngestService;

/// Stands in for `InngestModule`: provides the given `Arc<dyn InngestService>` and exports it
/// globally, as the real module does, but mounts no serve endpoint, discovers no functions
/// and starts no engine.
///
/// Use it when the module under test injects the Inngest service and you want to control the
/// service (a [`MockInngestService`](crate::MockInngestService), or a `DefaultInngestService`
/// over functions of your choice). To run real functions, import the real `InngestModule`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use nestling::{ApplicationContext, Module, ModuleDef};
/// use nestling_inngest::InngestService;
/// use nestling_testing::{InngestStandInModule, MockInngestService};
///
/// struct AppModule {
///     inngest: Arc<dyn InngestService>,
/// }
///
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").import(InngestStandInModule::with_service(self.inngest.clone()))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mock: Arc<dyn InngestService> = Arc::new(MockInngestService::new("shop"));
/// let app = ApplicationContext::create(AppModule { inngest: mock }).await.unwrap();
/// assert_eq!(app.get::<dyn InngestService>().options().app_id, "shop");
/// # });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct InngestStandInModule;

impl InngestStandInModule {
    /// The stand-in module over `service`.
    pub fn with_service(service: Arc<dyn InngestService>) -> DynamicModule {
        let def = ModuleDef::new("InngestStandInModule")
            .provider(Provider::instance::<dyn InngestService>(service))
            .export::<dyn InngestService>()
            .global();

        DynamicModule::new::<Self>(def)
    }
}
