//! The one error type of the crate.

use std::net::SocketAddr;

/// A boxed error from user code (factories, constructors, hooks, route factories).
///
/// Anything that implements [`std::error::Error`], `anyhow::Error` and plain strings convert
/// into it with `?` or `.into()`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while a graph is checked, built, started, served or stopped.
///
/// Messages name the provider, the module and the import chain involved and, where there is
/// one, say how to fix the problem. A misconfigured graph is always reported through this type,
/// never by a panic.
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, Error, Module, ModuleDef, Provider};
/// use std::sync::Arc;
///
/// struct Repo;
/// struct Service;
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").provider(Provider::factory(|_repo: Arc<Repo>| async {
///             Ok::<_, Error>(Service)
///         }))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let err = ApplicationContext::create(AppModule).await.unwrap_err();
/// assert!(matches!(err, Error::MissingDependency { .. }));
/// assert!(err.to_string().contains("can't resolve the dependencies of `Service`"));
/// # });
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A provider depends on a type that its module can't see.
    #[error(
        "Nestling can't resolve the dependencies of `{provider}` ({signature}): dependency \
         #{index} `{missing}` is not available in module `{module}` (import chain: {chain}).\n\
         Fix it in one of two ways:\n  \
         - add a provider of `{missing}` to the providers of `{module}`, or\n  \
         - import into `{module}` a module that provides `{missing}` and lists it in its exports."
    )]
    MissingDependency {
        /// The provider being built.
        provider: String,
        /// Its declared dependencies, with `?` at the missing one.
        signature: String,
        /// The 1-based position of the missing dependency.
        index: usize,
        /// The type no visible provider offers.
        missing: String,
        /// The module the provider is registered in.
        module: String,
        /// The import chain from the root module to `module`.
        chain: String,
    },

    /// Providers depend on each other in a circle.
    #[error(
        "circular dependency between providers: {path}.\n\
         Break the circle: move the shared part into a provider both can depend on, or resolve \
         one side lazily through the `DiscoveryService` or a `ModuleRef` after start-up."
    )]
    CircularDependency {
        /// The whole path, each provider followed by its module, ending where it started.
        path: String,
    },

    /// A module exports a type it neither provides nor gets from one of its imports.
    #[error(
        "module `{module}` (import chain: {chain}) exports `{export}`, which it neither \
         provides nor imports.\nAdd `{export}` to the providers of `{module}`, import and \
         re-export (`export_module`) a module that exports it, or remove it from the exports."
    )]
    UnknownExport {
        /// The exporting module.
        module: String,
        /// The exported type.
        export: String,
        /// The import chain from the root module to `module`.
        chain: String,
    },

    /// A module exports a single provider that one of its imports gives it; as in NestJS, only
    /// whole imported modules are re-exported.
    #[error(
        "module `{module}` (import chain: {chain}) exports `{export}`, which it does not \
         provide: it comes from its import `{import}`.\nA module exports its own providers and \
         re-exports whole modules, not single providers of its imports: re-export the module \
         with `.export_module::<..>()` naming the type of `{import}`, provide `{export}` in \
         `{module}`, or remove it from the exports."
    )]
    ExportOfImport {
        /// The exporting module.
        module: String,
        /// The exported type.
        export: String,
        /// The import that provides it.
        import: String,
        /// The import chain from the root module to `module`.
        chain: String,
    },

    /// A module re-exports a module it does not import.
    #[error(
        "module `{module}` (import chain: {chain}) re-exports module `{reexport}`, which it does \
         not import.\nImport `{reexport}` into `{module}` or remove it from the exports."
    )]
    UnknownReexport {
        /// The exporting module.
        module: String,
        /// The re-exported module's type.
        reexport: String,
        /// The import chain from the root module to `module`.
        chain: String,
    },

    /// A factory, an async constructor or an options factory returned an error.
    #[error(
        "provider `{provider}` of module `{module}` (import chain: {chain}) failed to build: {source}"
    )]
    ProviderFailed {
        /// The provider being built.
        provider: String,
        /// Its module.
        module: String,
        /// The import chain from the root module to `module`.
        chain: String,
        /// What the factory returned.
        #[source]
        source: BoxError,
    },

    /// A constructor, factory or hook panicked; the panic was caught.
    #[error("`{provider}` of module `{module}` panicked while {during}: {message}")]
    Panicked {
        /// The provider whose code panicked.
        provider: String,
        /// Its module.
        module: String,
        /// What it was doing: "being built", "running on_module_init", ...
        during: String,
        /// The panic payload, when it was a string.
        message: String,
    },

    /// A type was asked for that no provider offers where it was looked up.
    #[error("no provider of `{type_name}` is visible {context}; register it as a provider{hint}")]
    NotFound {
        /// The requested type.
        type_name: String,
        /// Where it was looked for ("in module `X`", "in the application").
        context: String,
        /// Extra advice, possibly empty.
        hint: String,
    },

    /// A transient provider was asked for through `get`, which returns shared instances only.
    #[error(
        "`{type_name}` is a transient provider: `get` returns shared instances only; use \
         `resolve::<{type_name}>().await` for a new instance"
    )]
    TransientViaGet {
        /// The requested type.
        type_name: String,
    },

    /// A constructor asked the resolver for a type it did not declare as a dependency.
    #[error(
        "`{provider}` asked for `{type_name}`, which is not among its declared dependencies; \
         declare it (an `#[inject]` field or a factory argument) so the graph check sees it"
    )]
    UndeclaredDependency {
        /// The provider being built.
        provider: String,
        /// The undeclared type.
        type_name: String,
    },

    /// A lifecycle hook failed during start-up.
    #[error("{hook} of `{provider}` in module `{module}` failed: {source}")]
    Hook {
        /// The hook, such as `on_module_init`.
        hook: &'static str,
        /// The provider the hook belongs to.
        provider: String,
        /// Its module.
        module: String,
        /// What the hook returned.
        #[source]
        source: BoxError,
    },

    /// A module's route could not be built or mounted.
    #[error("route `{path}` of module `{module}` could not be mounted: {message}")]
    Route {
        /// The module contributing the route.
        module: String,
        /// The full path, global prefix included.
        path: String,
        /// Why.
        message: String,
    },

    /// A route's path is read from a provider its module can't see.
    #[error(
        "module `{module}` (import chain: {chain}) mounts a route whose path is read from \
         `{provider}`, which is not available in `{module}`.\nAdd a provider of `{provider}` \
         to the providers of `{module}`, or import a module that exports it."
    )]
    RoutePathUnavailable {
        /// The module contributing the route.
        module: String,
        /// The type the path is read from.
        provider: String,
        /// The import chain from the root module to `module`.
        chain: String,
    },

    /// The HTTP server could not bind its address.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The HTTP server stopped with an I/O error.
    #[error("the HTTP server on {addr} failed: {source}")]
    Serve {
        /// The bound address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A configuration key is missing or does not have the requested type.
    #[error("configuration key `{key}` {problem} (looked in: {looked_in})")]
    ConfigKey {
        /// The key, dotted (`server.port`).
        key: String,
        /// "is missing" or "is malformed: ...".
        problem: String,
        /// The sources, lowest priority first.
        looked_in: String,
    },

    /// The configuration sources could not be read.
    #[error("configuration could not be loaded from {looked_in}: {message}")]
    ConfigLoad {
        /// The sources, lowest priority first.
        looked_in: String,
        /// What the `config` crate reported.
        message: String,
    },

    /// A provider override names a type no module provides.
    #[error(
        "override of `{type_name}` matches no provider in the graph; overrides replace existing providers only"
    )]
    UnknownOverride {
        /// The overridden type.
        type_name: String,
    },

    /// Shutdown hooks failed; every hook still ran.
    #[error("{} shutdown hook(s) failed; first: {}", errors.len(), errors.first().map(ToString::to_string).unwrap_or_default())]
    Shutdown {
        /// Every failure, in the order the hooks ran.
        errors: Vec<Error>,
    },

    /// The container was dropped while something still held a reference into it.
    #[error("the application was dropped; `{type_name}` can no longer be resolved")]
    ContainerDropped {
        /// The requested type.
        type_name: String,
    },
}

impl Error {
    pub(crate) fn not_found(type_name: String, context: String) -> Self {
        Self::NotFound {
            type_name,
            context,
            hint: String::new(),
        }
    }
}

/// Turns a caught panic payload into a message.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}
