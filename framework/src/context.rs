//! The application context: a built, started graph without HTTP, and the builder shared with
//! the HTTP application.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::container::graph::Graph;
use crate::container::{Inner, ModuleRef, build_singletons};
use crate::lifecycle::{Hook, HookArg, ShutdownSignal, run_shutdown_phase, run_startup_phase};
use crate::{
    BoxError, Dependencies, DiscoveryService, DynamicModule, Error, Import, ModuleDef,
    NestlingApplication, Provider,
};

/// Facts about the running application that modules may need, such as the global HTTP prefix
/// (to compute the URL they serve at). A provider of the core module: injectable everywhere.
///
/// # Example
///
/// ```
/// use nestling::ApplicationInfo;
///
/// let info = ApplicationInfo::new("api");
/// assert_eq!(info.global_prefix(), "/api");
/// assert_eq!(info.route_path("/inngest"), "/api/inngest");
/// assert_eq!(ApplicationInfo::new("").route_path("health"), "/health");
/// ```
#[derive(Debug, Clone)]
pub struct ApplicationInfo {
    global_prefix: String,
}

impl ApplicationInfo {
    /// Facts for an application with this global prefix (`""`, `"api"` or `"/api"`).
    pub fn new(global_prefix: &str) -> Self {
        let trimmed = global_prefix.trim_matches('/');
        let global_prefix = if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        };

        Self { global_prefix }
    }

    /// The global prefix, with a leading slash and no trailing one (`""` when there is none).
    pub fn global_prefix(&self) -> &str {
        &self.global_prefix
    }

    /// The full path a module route at `path` is served at: the global prefix joined with
    /// `path`.
    pub fn route_path(&self, path: &str) -> String {
        let path = path.trim_matches('/');
        match (self.global_prefix.is_empty(), path.is_empty()) {
            (true, true) => "/".to_owned(),
            (true, false) => format!("/{path}"),
            (false, true) => self.global_prefix.clone(),
            (false, false) => format!("{}/{path}", self.global_prefix),
        }
    }
}

/// Marks the core module's identity.
struct CoreModule;

fn core_module(discovery: DiscoveryService, info: ApplicationInfo) -> Import {
    DynamicModule::new::<CoreModule>(
        ModuleDef::new("CoreModule")
            .provider(Provider::value(discovery))
            .provider(Provider::value(info))
            .export::<DiscoveryService>()
            .export::<ApplicationInfo>()
            .global(),
    )
    .into()
}

/// Configures and builds an application or an application context: global prefix, shutdown
/// timeout, provider overrides (for tests).
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, Module, ModuleDef, Provider};
/// use std::sync::Arc;
///
/// trait Mailer: Send + Sync { fn send(&self) -> &'static str; }
/// struct Smtp;
/// impl Mailer for Smtp { fn send(&self) -> &'static str { "smtp" } }
/// struct Fake;
/// impl Mailer for Fake { fn send(&self) -> &'static str { "fake" } }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").provider(Provider::value(Smtp).bind::<dyn Mailer>(|s| s))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::builder(AppModule)
///     .override_provider::<dyn Mailer>()
///     .use_value(Arc::new(Fake))
///     .create_context()
///     .await
///     .unwrap();
/// assert_eq!(app.get::<dyn Mailer>().send(), "fake");
/// # });
/// ```
pub struct ApplicationBuilder {
    root: Import,
    global_prefix: String,
    shutdown_timeout: Duration,
    overrides: Vec<Provider>,
}

impl fmt::Debug for ApplicationBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationBuilder")
            .field("root", &self.root)
            .field("global_prefix", &self.global_prefix)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("overrides", &self.overrides.len())
            .finish()
    }
}

impl ApplicationBuilder {
    /// A builder for the graph rooted at `root`.
    pub fn new(root: impl Into<Import>) -> Self {
        Self {
            root: root.into(),
            global_prefix: String::new(),
            shutdown_timeout: Duration::from_secs(10),
            overrides: Vec::new(),
        }
    }

    /// Serves every module route under this prefix (NestJS's `setGlobalPrefix`).
    pub fn global_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.global_prefix = prefix.into();
        self
    }

    /// How long requests in flight may take to finish once shutdown starts (10 s by default);
    /// then their connections are closed.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Starts an override of the provider of `T`: the replacement is applied after the scan
    /// and before the graph check and construction, everywhere `T` is registered.
    pub fn override_provider<T: ?Sized + Send + Sync + 'static>(self) -> OverrideBuilder<T> {
        OverrideBuilder {
            builder: self,
            _type: std::marker::PhantomData,
        }
    }

    /// Replaces the provider of `provider`'s type with `provider` (any form: class, factory,
    /// value), keeping its hooks and interface bindings.
    pub fn override_with(mut self, provider: impl Into<Provider>) -> Self {
        self.overrides.push(provider.into());
        self
    }

    /// Scans, checks and builds the graph without running any hook (NestJS testing's
    /// `compile()`). Call [`ApplicationContext::init`] to run the start-up hooks.
    ///
    /// # Errors
    ///
    /// A misconfigured graph (missing dependency, cycle, bad export, unknown override) or a
    /// provider failing to build.
    pub async fn compile(self) -> Result<ApplicationContext, Error> {
        self.compile_parts().await.map(|(context, _)| context)
    }

    async fn compile_parts(self) -> Result<(ApplicationContext, Settings), Error> {
        let Self {
            root,
            global_prefix,
            shutdown_timeout,
            overrides,
        } = self;
        let info = ApplicationInfo::new(&global_prefix);
        let discovery = DiscoveryService::default();

        let mut graph = Graph::scan(&root, core_module(discovery.clone(), info.clone()));
        for provider in overrides {
            let bindings = provider.bindings.clone();
            graph.override_provider(provider)?;
            for binding in bindings {
                graph.override_provider(binding)?;
            }
        }
        graph.check()?;
        tracing::debug!(
            modules = graph.modules.len(),
            providers = graph.providers.len(),
            "module graph checked"
        );

        let inner = Arc::new(Inner::new(graph));
        discovery.bind(&inner);
        build_singletons(&inner).await?;

        let context = ApplicationContext {
            inner,
            phase: Arc::new(Mutex::new(Phase::Built)),
        };
        let settings = Settings {
            info,
            shutdown_timeout,
        };

        Ok((context, settings))
    }

    /// Builds the graph and runs `on_module_init` and `on_application_bootstrap`: an
    /// application context without HTTP, for workers, scripts and tests.
    ///
    /// # Errors
    ///
    /// As [`compile`](Self::compile), plus a failing start-up hook.
    pub async fn create_context(self) -> Result<ApplicationContext, Error> {
        let context = self.compile().await?;
        context.init().await?;

        Ok(context)
    }

    /// Builds the graph, builds and mounts the modules' HTTP routes, then runs
    /// `on_module_init` and `on_application_bootstrap`. Serve it with
    /// [`NestlingApplication::listen`] or [`NestlingApplication::start`].
    ///
    /// # Errors
    ///
    /// As [`create_context`](Self::create_context), plus a route that fails to build or
    /// clashes with another.
    pub async fn create(self) -> Result<NestlingApplication, Error> {
        let (context, settings) = self.compile_parts().await?;
        let app = NestlingApplication::mount(context, settings.info, settings.shutdown_timeout)?;
        app.context().init().await?;

        Ok(app)
    }
}

struct Settings {
    info: ApplicationInfo,
    shutdown_timeout: Duration,
}

/// Replaces one provider; see [`ApplicationBuilder::override_provider`].
pub struct OverrideBuilder<T: ?Sized> {
    builder: ApplicationBuilder,
    _type: std::marker::PhantomData<fn() -> Box<T>>,
}

impl<T: ?Sized> fmt::Debug for OverrideBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverrideBuilder")
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T: ?Sized + Send + Sync + 'static> OverrideBuilder<T> {
    /// Uses this instance (NestJS's `useValue`), for instance a mock of an interface.
    pub fn use_value(self, value: Arc<T>) -> ApplicationBuilder {
        self.builder.override_with(Provider::instance(value))
    }

    /// Uses this async factory (NestJS's `useFactory`), which injects its argument's types.
    pub fn use_factory<D, F, Fut, E>(self, factory: F) -> ApplicationBuilder
    where
        D: Dependencies,
        F: Fn(D) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Arc<T>, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        self.builder.override_with(Provider::factory_arc(factory))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Built,
    Initialized,
    Closed,
}

/// A built module graph without HTTP: resolve providers, run the lifecycle (NestJS's
/// `createApplicationContext`).
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, Module, ModuleDef, Provider};
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").provider(Provider::value(42u32))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::create(AppModule).await.unwrap();
/// assert_eq!(*app.get::<u32>(), 42);
/// assert!(app.try_get::<String>().is_err());
/// app.close().await.unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct ApplicationContext {
    pub(crate) inner: Arc<Inner>,
    phase: Arc<Mutex<Phase>>,
}

impl fmt::Debug for ApplicationContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationContext")
            .field("container", &self.inner)
            .finish_non_exhaustive()
    }
}

impl ApplicationContext {
    /// Builds the graph rooted at `root` and runs the start-up hooks.
    ///
    /// # Errors
    ///
    /// See [`ApplicationBuilder::create_context`].
    pub async fn create(root: impl Into<Import>) -> Result<Self, Error> {
        ApplicationBuilder::new(root).create_context().await
    }

    /// A builder, for overrides and settings.
    pub fn builder(root: impl Into<Import>) -> ApplicationBuilder {
        ApplicationBuilder::new(root)
    }

    /// Returns the shared instance of `T` (a concrete type or `dyn Trait`): what the root
    /// module sees, else any module's own provider.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], or [`Error::TransientViaGet`] for a transient provider.
    pub fn try_get<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, Error> {
        self.inner.get::<T>(None)
    }

    /// Returns the shared instance of `T`.
    ///
    /// # Panics
    ///
    /// When [`try_get`](Self::try_get) fails, with its message.
    #[track_caller]
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Arc<T> {
        self.try_get::<T>().unwrap_or_else(|err| panic!("{err}"))
    }

    /// Returns the shared instance of `T`, or a new instance when `T` is transient.
    ///
    /// # Errors
    ///
    /// When no provider of `T` exists or building a transient instance fails.
    pub async fn resolve<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, Error> {
        self.inner.resolve::<T>(None).await
    }

    /// The root module's view of the container.
    pub fn root(&self) -> ModuleRef {
        ModuleRef {
            inner: Arc::clone(&self.inner),
            module: self.inner.graph.root,
        }
    }

    /// The names of the modules in the graph, dependencies first (the hook order), the core
    /// module included.
    pub fn module_names(&self) -> Vec<&str> {
        let graph = &self.inner.graph;
        graph
            .order
            .iter()
            .map(|&m| graph.modules[m].name.as_str())
            .collect()
    }

    /// Runs `on_module_init` then `on_application_bootstrap`, once; later calls return at once.
    ///
    /// # Errors
    ///
    /// The first failing hook, named with its provider and module.
    pub async fn init(&self) -> Result<(), Error> {
        let mut phase = self.phase.lock().await;
        if *phase != Phase::Built {
            return Ok(());
        }
        run_startup_phase(&self.inner, Hook::ModuleInit, HookArg::None).await?;
        run_startup_phase(&self.inner, Hook::ApplicationBootstrap, HookArg::None).await?;
        *phase = Phase::Initialized;

        Ok(())
    }

    /// Runs `on_application_listen(addr)`.
    pub(crate) async fn listened(&self, addr: std::net::SocketAddr) -> Result<(), Error> {
        run_startup_phase(&self.inner, Hook::ApplicationListen, HookArg::Addr(addr)).await
    }

    /// Runs the shutdown hooks with [`ShutdownSignal::Close`]. A second call waits for the
    /// first and returns `Ok`.
    ///
    /// # Errors
    ///
    /// [`Error::Shutdown`] with every hook failure; all hooks ran regardless.
    pub async fn close(&self) -> Result<(), Error> {
        self.shutdown(ShutdownSignal::Close, async {}).await
    }

    /// Runs the shutdown phases, with `between` (stopping the HTTP server) after
    /// `before_application_shutdown` and before `on_application_shutdown`.
    pub(crate) async fn shutdown(
        &self,
        signal: ShutdownSignal,
        between: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let mut phase = self.phase.lock().await;
        if *phase == Phase::Closed {
            return Ok(());
        }
        tracing::info!(%signal, "shutting down");

        let arg = HookArg::Signal(signal);
        let mut errors = run_shutdown_phase(&self.inner, Hook::ModuleDestroy, HookArg::None).await;
        errors.extend(run_shutdown_phase(&self.inner, Hook::BeforeApplicationShutdown, arg).await);
        between.await;
        errors.extend(run_shutdown_phase(&self.inner, Hook::ApplicationShutdown, arg).await);
        *phase = Phase::Closed;

        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Shutdown { errors })
        }
    }
}
