//! Discovery: which built providers carry annotated methods.
//!
//! Attribute macros record annotated methods in a link-time table ([`METHOD_ENTRIES`]), keyed
//! by the provider's type. The [`DiscoveryService`] joins that table with the instances the
//! container built, so only providers that are part of the application's graph are found, each
//! with the module it lives in and a way to call the method on the built instance.

mod entry;

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, Weak};

use futures::future::BoxFuture;

pub use entry::{Erased, Instance, METHOD_ENTRIES, MethodCall, MethodEntry};

use crate::container::Inner;
use crate::provider::Scope;

/// Finds built providers and their annotated methods (NestJS's `DiscoveryService`).
///
/// It is a provider of the core module, which is global: any provider can inject it. Ask it
/// from `on_module_init` or later, once everything is built.
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, DiscoveryService, Injectable, Module, ModuleDef, Provider};
/// use std::sync::Arc;
///
/// #[derive(Injectable)]
/// struct Greeter;
///
/// #[nestling::discoverable]
/// impl Greeter {
///     #[discover(kind = "example.handler", event = "user.created")]
///     async fn on_user(&self, name: String) -> String {
///         format!("welcome, {name}")
///     }
/// }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").provider(Provider::class::<Greeter>())
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::create(AppModule).await.unwrap();
/// let discovery = app.get::<DiscoveryService>();
/// let methods = discovery.methods("example.handler");
/// assert_eq!(methods.len(), 1);
/// assert_eq!(methods[0].entry.meta("event"), Some("user.created"));
/// assert_eq!(methods[0].module, "AppModule");
/// let out = methods[0].call(Box::new(String::from("ada"))).await;
/// assert_eq!(*out.downcast::<String>().unwrap(), "welcome, ada");
/// # });
/// ```
#[derive(Clone, Default)]
pub struct DiscoveryService {
    inner: Arc<OnceLock<Weak<Inner>>>,
}

impl fmt::Debug for DiscoveryService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscoveryService")
            .field("bound", &self.inner.get().is_some())
            .finish()
    }
}

/// One annotated method of one built provider.
#[derive(Clone)]
pub struct DiscoveredMethod {
    /// What the attribute recorded: kind, method name, metadata, call shim.
    pub entry: &'static MethodEntry,
    /// The provider's type name, without module paths.
    pub provider_name: String,
    /// The name of the module the provider is registered in.
    pub module: String,
    /// The built instance the method belongs to.
    pub instance: Instance,
}

impl fmt::Debug for DiscoveredMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscoveredMethod")
            .field("provider", &self.provider_name)
            .field("method", &self.entry.method)
            .field("kind", &self.entry.kind)
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

impl DiscoveredMethod {
    /// Calls the method on its instance: `(self.entry.call)(instance, input)`.
    pub fn call(&self, input: Erased) -> BoxFuture<'static, Erased> {
        (self.entry.call)(Arc::clone(&self.instance), input)
    }
}

/// A built provider, with its annotated methods (possibly none).
#[derive(Clone)]
pub struct DiscoveredProvider {
    /// The provider's type name, without module paths.
    pub type_name: String,
    /// The name of the module the provider is registered in.
    pub module: String,
    /// The built instance.
    pub instance: Instance,
    /// Its annotated methods, of every kind.
    pub methods: Vec<&'static MethodEntry>,
}

impl fmt::Debug for DiscoveredProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscoveredProvider")
            .field("type_name", &self.type_name)
            .field("module", &self.module)
            .field("methods", &self.methods.len())
            .finish_non_exhaustive()
    }
}

/// The link-time table, grouped by provider type once.
fn entries_by_type() -> &'static HashMap<TypeId, Vec<&'static MethodEntry>> {
    static INDEX: OnceLock<HashMap<TypeId, Vec<&'static MethodEntry>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: HashMap<TypeId, Vec<&'static MethodEntry>> = HashMap::new();
        for entry in METHOD_ENTRIES.iter() {
            index.entry((entry.provider)()).or_default().push(entry);
        }
        index
    })
}

impl DiscoveryService {
    pub(crate) fn bind(&self, inner: &Arc<Inner>) {
        let _ = self.inner.set(Arc::downgrade(inner));
    }

    /// Every built singleton whose concrete type is known, in hook order (dependencies first),
    /// with its annotated methods.
    pub fn providers(&self) -> Vec<DiscoveredProvider> {
        let Some(inner) = self.inner.get().and_then(Weak::upgrade) else {
            return Vec::new();
        };
        let index = entries_by_type();
        let graph = &inner.graph;

        let mut found = Vec::new();
        for &module in &graph.order {
            for &pid in &graph.modules[module].providers {
                let node = &graph.providers[pid];
                if node.scope != Scope::Singleton {
                    continue;
                }
                let Some((type_id, instance)) =
                    inner.slots[pid].get().and_then(|b| b.instance.clone())
                else {
                    continue;
                };
                found.push(DiscoveredProvider {
                    type_name: node.def.token.name(),
                    module: graph.modules[module].name.clone(),
                    instance,
                    methods: index.get(&type_id).cloned().unwrap_or_default(),
                });
            }
        }

        found
    }

    /// The annotated methods of kind `kind` among the built providers.
    pub fn methods(&self, kind: &str) -> Vec<DiscoveredMethod> {
        self.providers()
            .into_iter()
            .flat_map(|provider| {
                let DiscoveredProvider {
                    type_name,
                    module,
                    instance,
                    methods,
                } = provider;
                methods
                    .into_iter()
                    .filter(|entry| entry.kind == kind)
                    .map(move |entry| DiscoveredMethod {
                        entry,
                        provider_name: type_name.clone(),
                        module: module.clone(),
                        instance: Arc::clone(&instance),
                    })
            })
            .collect()
    }
}

/// What a generated call shim returns when the instance or the input has another type than
/// the method expects.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{provider}::{method}` expected {expected}")]
pub struct CallMismatch {
    /// The provider's type name.
    pub provider: &'static str,
    /// The method.
    pub method: &'static str,
    /// What it expected ("an instance of `X`", "an input of type `Y`").
    pub expected: String,
}
