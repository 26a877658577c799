//! The registry of discovered functions that the serve endpoint and the service read.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use nestling_inngest_protocol::FunctionConfig;
use parking_lot::RwLock;

use crate::__private::{FUNCTION_KIND, Instance, METHOD_ENTRIES, MethodEntry, SPEC_KEY};
use crate::{Error, FunctionSpec, InngestMiddleware, MiddlewareStack};

/// One discovered function: its spec, the provider instance and the method to call.
pub struct RegisteredFunction {
    spec: FunctionSpec,
    entry: &'static MethodEntry,
    instance: Instance,
    middleware: MiddlewareStack,
}

impl std::fmt::Debug for RegisteredFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredFunction")
            .field("id", &self.spec.id())
            .field("method", &self.declared_by())
            .field("middleware", &self.middleware)
            .finish()
    }
}

impl RegisteredFunction {
    /// The spec.
    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    /// `Provider::method` that declared the function.
    pub fn declared_by(&self) -> String {
        format!("{}::{}", self.entry.provider_name, self.entry.method)
    }

    /// The middleware that runs for this function, global first.
    pub fn middleware(&self) -> &MiddlewareStack {
        &self.middleware
    }

    /// The method entry the attribute generated.
    pub fn entry(&self) -> &'static MethodEntry {
        self.entry
    }

    /// The provider instance the method is called on.
    pub fn instance(&self) -> Instance {
        Arc::clone(&self.instance)
    }
}

/// Middleware known to the module: the global list, and every middleware by name.
#[derive(Clone, Default)]
pub struct MiddlewarePool {
    global: Vec<Arc<dyn InngestMiddleware>>,
    by_name: HashMap<String, Arc<dyn InngestMiddleware>>,
}

impl std::fmt::Debug for MiddlewarePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.by_name.keys().collect();
        names.sort();
        f.debug_struct("MiddlewarePool")
            .field("global", &self.global.len())
            .field("names", &names)
            .finish()
    }
}

impl MiddlewarePool {
    /// A pool whose `global` middleware runs for every function.
    pub fn new(global: Vec<Arc<dyn InngestMiddleware>>) -> Self {
        let by_name = global
            .iter()
            .map(|m| (m.name().to_owned(), Arc::clone(m)))
            .collect();
        Self { global, by_name }
    }

    /// Makes a middleware available to functions that name it, without running it globally.
    pub fn with_named(mut self, middleware: Arc<dyn InngestMiddleware>) -> Self {
        self.by_name
            .entry(middleware.name().to_owned())
            .or_insert(middleware);
        self
    }

    fn stack_for(&self, spec: &FunctionSpec) -> Result<MiddlewareStack, Error> {
        let mut layers = self.global.clone();
        for name in spec.middleware() {
            let Some(middleware) = self.by_name.get(name) else {
                let mut known: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
                known.sort_unstable();
                return Err(Error::UnknownMiddleware {
                    function: spec.id().to_owned(),
                    name: name.clone(),
                    known: if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    },
                });
            };
            if !layers.iter().any(|m| Arc::ptr_eq(m, middleware)) {
                layers.push(Arc::clone(middleware));
            }
        }
        Ok(MiddlewareStack::new(layers))
    }
}

/// The functions of one app, filled by discovery and read by the serve endpoint.
///
/// Cloning shares the same registry.
///
/// # Examples
///
/// ```
/// use nestling_inngest::FunctionRegistry;
///
/// let registry = FunctionRegistry::new();
/// assert!(registry.is_empty());
/// ```
#[derive(Clone, Default)]
pub struct FunctionRegistry {
    functions: Arc<RwLock<Vec<Arc<RegisteredFunction>>>>,
}

impl std::fmt::Debug for FunctionRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.functions.read().iter().map(|f| f.spec.id().to_owned()))
            .finish()
    }
}

impl FunctionRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers every Inngest function that the provider type `type_id` declares, called on
    /// `instance`; returns how many were added.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFunctionSpec`], [`Error::DuplicateFunction`] or
    /// [`Error::UnknownMiddleware`], naming the function.
    pub fn discover(
        &self,
        type_id: TypeId,
        instance: &Instance,
        middleware: &MiddlewarePool,
    ) -> Result<usize, Error> {
        let entries = METHOD_ENTRIES
            .iter()
            .filter(|entry| entry.kind == FUNCTION_KIND && (entry.provider)() == type_id);

        let mut added = 0;
        for entry in entries {
            self.add(entry, Arc::clone(instance), middleware)?;
            added += 1;
        }
        Ok(added)
    }

    /// Registers one method entry on an instance.
    ///
    /// # Errors
    ///
    /// As [`discover`](Self::discover).
    pub fn add(
        &self,
        entry: &'static MethodEntry,
        instance: Instance,
        middleware: &MiddlewarePool,
    ) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidFunctionSpec {
            provider: entry.provider_name,
            method: entry.method,
            reason,
        };
        let json = entry
            .meta(SPEC_KEY)
            .ok_or_else(|| invalid(format!("the `{SPEC_KEY}` metadata is missing")))?;
        let spec = FunctionSpec::parse(json).map_err(invalid)?;
        let middleware = middleware.stack_for(&spec)?;

        let mut functions = self.functions.write();
        if let Some(existing) = functions.iter().find(|f| f.spec.id() == spec.id()) {
            return Err(Error::DuplicateFunction {
                id: spec.id().to_owned(),
                first: existing.declared_by(),
                second: format!("{}::{}", entry.provider_name, entry.method),
            });
        }
        functions.push(Arc::new(RegisteredFunction {
            spec,
            entry,
            instance,
            middleware,
        }));

        Ok(())
    }

    /// How many functions are registered (failure handlers count, as in the JS SDK).
    pub fn len(&self) -> usize {
        self.functions.read().len()
    }

    /// Whether no function is registered.
    pub fn is_empty(&self) -> bool {
        self.functions.read().is_empty()
    }

    /// Every registered function, in discovery order.
    pub fn functions(&self) -> Vec<Arc<RegisteredFunction>> {
        self.functions.read().clone()
    }

    /// The registration configs for an app served at `serve_url`.
    pub fn configs(&self, app_id: &str, serve_url: &str) -> Vec<FunctionConfig> {
        self.functions
            .read()
            .iter()
            .map(|f| f.spec.config(app_id, serve_url))
            .collect()
    }

    /// The function with this composite id (`<app>-<id>`), the form the executor sends.
    pub fn find(&self, app_id: &str, id: &str) -> Option<Arc<RegisteredFunction>> {
        let bare = id
            .strip_prefix(app_id)
            .and_then(|rest| rest.strip_prefix('-'));
        self.functions
            .read()
            .iter()
            .find(|f| Some(f.spec.id()) == bare)
            .cloned()
    }
}

impl crate::FunctionSource for FunctionRegistry {
    fn function_configs(&self, app_id: &str, serve_url: &str) -> Vec<FunctionConfig> {
        self.configs(app_id, serve_url)
    }

    fn function_count(&self) -> usize {
        self.len()
    }
}
