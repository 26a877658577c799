//! Middleware provided through the container: any module can contribute middleware that the
//! Inngest module finds when the modules initialise.
//!
//! The container keys providers by their concrete type and discovery hands back built
//! instances as `dyn Any`, from which a trait object cannot be recovered. So each provider
//! made here records, once per middleware type, how to view an instance of that type as
//! `dyn InngestMiddleware`. The record is per type, not per application: whether a
//! middleware runs is still decided by the container graph, because only providers that were
//! built for the application are discovered.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use nestling::{DiscoveryService, ProviderBuilder};
use parking_lot::RwLock;

use super::InngestMiddleware;

type View = fn(Arc<dyn Any + Send + Sync>) -> Option<Arc<dyn InngestMiddleware>>;

#[derive(Clone, Copy)]
struct Contribution {
    view: View,
    global: bool,
}

fn contributions() -> &'static RwLock<HashMap<TypeId, Contribution>> {
    static CONTRIBUTIONS: OnceLock<RwLock<HashMap<TypeId, Contribution>>> = OnceLock::new();
    CONTRIBUTIONS.get_or_init(RwLock::default)
}

fn view<M: InngestMiddleware>(
    instance: Arc<dyn Any + Send + Sync>,
) -> Option<Arc<dyn InngestMiddleware>> {
    let middleware: Arc<M> = instance.downcast().ok()?;
    Some(middleware)
}

/// Makes a provider's instance middleware of the Inngest module: NestJS users provide
/// middleware as injectable classes, and so can Nestling users.
///
/// Wrap the provider (a class, a factory or a value) and list it in any module of the app.
/// When the Inngest module initialises, it finds every such instance the container built
/// and adds it to its middleware, after the options' `middleware` (see the
/// [ordering](crate::middleware#order)). The provider must stay a singleton: transient
/// providers are not discovered. The container keys providers by type, so a module provides
/// each middleware type once (a second provider of the same type in the same module takes
/// the first one's place); use one type per middleware, or list instances of one type in the
/// options' `middleware`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use nestling::{Injectable, Module, ModuleDef, Provider};
/// use nestling_inngest::{InngestMiddleware, MiddlewareProvider, RunInfo};
///
/// #[derive(Injectable)]
/// struct Clock;
///
/// /// Logs the start of every call, with a dependency injected by the container.
/// #[derive(Injectable)]
/// struct AuditMiddleware {
///     #[inject]
///     clock: Arc<Clock>,
/// }
///
/// impl InngestMiddleware for AuditMiddleware {
///     fn name(&self) -> &str {
///         "audit"
///     }
///
///     fn before_execution(&self, run: &RunInfo) {
///         let _ = &self.clock;
///         tracing::info!(function = %run.function_id, run = %run.run_id, "call");
///     }
/// }
///
/// struct AuditModule;
///
/// impl Module for AuditModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AuditModule")
///             .provider(Provider::class::<Clock>())
///             .provider(MiddlewareProvider::global(Provider::class::<AuditMiddleware>()))
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MiddlewareProvider;

impl MiddlewareProvider {
    /// The provider's instance runs for every function of the app.
    pub fn global<M: InngestMiddleware>(provider: ProviderBuilder<M>) -> ProviderBuilder<M> {
        record::<M>(true);
        provider
    }

    /// The provider's instance runs only for functions that name it with
    /// `#[use_middleware(name)]`. A type made global anywhere stays global.
    pub fn named<M: InngestMiddleware>(provider: ProviderBuilder<M>) -> ProviderBuilder<M> {
        record::<M>(false);
        provider
    }
}

fn record<M: InngestMiddleware>(global: bool) {
    let mut contributions = contributions().write();
    let entry = contributions
        .entry(TypeId::of::<M>())
        .or_insert(Contribution {
            view: view::<M>,
            global,
        });
    entry.global |= global;
}

/// The middleware that providers contribute, in discovery order: `(global, named only)`.
pub(crate) fn contributed_middleware(
    discovery: &DiscoveryService,
) -> (
    Vec<Arc<dyn InngestMiddleware>>,
    Vec<Arc<dyn InngestMiddleware>>,
) {
    let known = contributions().read().clone();
    let (mut global, mut named) = (Vec::new(), Vec::new());
    if known.is_empty() {
        return (global, named);
    }

    for provider in discovery.providers() {
        let type_id = (*provider.instance).type_id();
        let Some(contribution) = known.get(&type_id) else {
            continue;
        };
        let Some(middleware) = (contribution.view)(provider.instance) else {
            continue;
        };
        tracing::debug!(
            target: "nestling_inngest::middleware",
            name = middleware.name(),
            provider = %provider.type_name,
            module = %provider.module,
            global = contribution.global,
            "found middleware provided by a module"
        );
        if contribution.global {
            global.push(middleware);
        } else {
            named.push(middleware);
        }
    }

    (global, named)
}
