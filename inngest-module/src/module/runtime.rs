//! The module's runtime provider: discovery when the modules initialise, registration once the
//! application listens.

use std::net::SocketAddr;
use std::sync::Arc;

use nestling::{BoxError, DiscoveryService, OnApplicationListen, OnModuleInit};

use crate::__private::FUNCTION_KIND;
use crate::{DefaultInngestService, FunctionRegistry, InngestService, MiddlewarePool};

/// Discovery at `on_module_init`, registration at `on_application_listen`.
pub(super) struct InngestRuntime {
    pub(super) service: Arc<DefaultInngestService>,
    pub(super) registry: FunctionRegistry,
    pub(super) discovery: Arc<DiscoveryService>,
}

#[nestling::async_trait]
impl OnModuleInit for InngestRuntime {
    async fn on_module_init(&self) -> Result<(), BoxError> {
        let options = self.service.options();
        let pool = MiddlewarePool::new(options.middleware.clone());

        for method in self.discovery.methods(FUNCTION_KIND) {
            self.registry
                .add(method.entry, Arc::clone(&method.instance), &pool)?;
        }

        for function in self.registry.functions() {
            tracing::debug!(
                target: "nestling_inngest::module",
                id = %function.spec().composite_id(&options.app_id),
                method = %function.declared_by(),
                "discovered Inngest function"
            );
        }
        tracing::info!(
            target: "nestling_inngest::module",
            app_id = %options.app_id,
            functions = self.registry.len(),
            "Inngest functions discovered"
        );
        Ok(())
    }
}

#[nestling::async_trait]
impl OnApplicationListen for InngestRuntime {
    async fn on_application_listen(&self, addr: SocketAddr) -> Result<(), BoxError> {
        // Registration failures are logged by the service and do not stop the app: the
        // server may come up later and sync on its own.
        if let Err(err) = self.service.app_listening(addr.port()).await {
            tracing::warn!(target: "nestling_inngest::module", error = %err, "automatic registration failed");
        }
        Ok(())
    }
}
