//! The module's runtime provider: discovery when the modules initialise, registration once the
//! application listens.

use std::net::SocketAddr;
use std::sync::Arc;

use nestling::{BoxError, DiscoveryService, OnApplicationListen, OnModuleInit};
#[cfg(feature = "embedded-engine")]
use nestling_engine::RunStatus;
#[cfg(feature = "embedded-engine")]
use tokio::sync::broadcast::error::RecvError;

use crate::__private::FUNCTION_KIND;
#[cfg(feature = "embedded-engine")]
use crate::CancelledRun;
use crate::middleware::contributed_middleware;
use crate::{
    DefaultInngestService, EmbeddedEngine, FunctionRegistry, InngestMiddleware, InngestService,
    MiddlewarePool, TracingMiddleware, attach_trace_context_injection,
};

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
        let pool = self.middleware_pool();
        if attach_trace_context_injection(self.service.as_ref()) {
            tracing::debug!(
                target: "nestling_inngest::module",
                field = %options.tracing.context_field_name,
                "sent events carry the trace context"
            );
        }

        for method in self.discovery.methods(FUNCTION_KIND) {
            self.registry
                .add(method.entry, Arc::clone(&method.instance), &pool)?;
        }

        for function in self.registry.functions() {
            tracing::debug!(
                target: "nestling_inngest::module",
                id = %function.spec().composite_id(&options.app_id),
                method = %function.declared_by(),
                middleware = ?function.middleware(),
                "discovered Inngest function"
            );
        }
        tracing::info!(
            target: "nestling_inngest::module",
            app_id = %options.app_id,
            functions = self.registry.len(),
            "Inngest functions discovered"
        );

        if let Some(engine) = self.embedded_engine() {
            self.service.attach_engine(Arc::clone(&engine));
            #[cfg(feature = "embedded-engine")]
            self.watch_cancellations(&engine);
        }
        Ok(())
    }
}

impl InngestRuntime {
    /// The middleware of every function, in the documented order: tracing, the options'
    /// list, then what modules provide (see `crate::middleware`).
    fn middleware_pool(&self) -> MiddlewarePool {
        let options = self.service.options();
        let mut global: Vec<Arc<dyn InngestMiddleware>> = Vec::new();
        if let Some(tracing) = TracingMiddleware::from_config(&options.tracing) {
            global.push(Arc::new(tracing));
        }
        global.extend(options.middleware.iter().cloned());

        let (provided, named) = contributed_middleware(&self.discovery);
        for middleware in provided {
            if global.iter().any(|m| m.name() == middleware.name()) {
                tracing::debug!(
                    target: "nestling_inngest::module",
                    name = middleware.name(),
                    "provided middleware skipped: one of that name is already registered"
                );
                continue;
            }
            global.push(middleware);
        }

        named
            .into_iter()
            .fold(MiddlewarePool::new(global), MiddlewarePool::with_named)
    }

    /// The embedded engine this module started for its service, found among the built
    /// providers (it is a provider of this module).
    fn embedded_engine(&self) -> Option<Arc<EmbeddedEngine>> {
        let origin = &self.service.options().api_origin;
        self.discovery
            .providers()
            .into_iter()
            .filter_map(|provider| provider.instance.downcast::<EmbeddedEngine>().ok())
            .find(|engine| {
                engine.origin().is_some_and(|engine| {
                    engine.trim_end_matches('/') == origin.trim_end_matches('/')
                })
            })
    }

    /// Tells the middleware of a function when the embedded engine cancels one of its runs:
    /// the serve protocol never tells the SDK itself (see
    /// [`InngestMiddleware::on_run_cancelled`]).
    #[cfg(feature = "embedded-engine")]
    fn watch_cancellations(&self, engine: &Arc<EmbeddedEngine>) {
        let Some(mut endings) = engine.run_endings() else {
            return;
        };
        let engine = Arc::clone(engine);
        let registry = self.registry.clone();
        let app_id = self.service.options().app_id.clone();

        tokio::spawn(async move {
            loop {
                let run_id = match endings.recv().await {
                    Ok((run_id, RunStatus::Cancelled)) => run_id,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            target: "nestling_inngest::module",
                            missed,
                            "run endings were missed; middleware may not hear of some cancellations"
                        );
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                };
                let Some(function_id) = engine.run_function(&run_id) else {
                    continue;
                };
                let Some(function) = registry.find(&app_id, &function_id) else {
                    continue;
                };
                let cancelled = CancelledRun {
                    app_id: app_id.clone(),
                    function_id,
                    run_id,
                };
                function.middleware().on_run_cancelled(&cancelled);
            }
        });
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
