//! `TestingModule`: NestJS's `Test.createTestingModule` for Nestling graphs.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use nestling::{
    ApplicationBuilder, ApplicationContext, BoxError, Dependencies, DynamicModule, Import,
    ModuleDef, NestlingApplication, Provider,
};
use nestling_inngest::{FunctionRegistry, InngestService};

use crate::{FunctionRunner, MockInngestService, TestingError};

/// Names the throwaway root module that [`TestingModule::create`] wraps its definition in.
struct TestingRootModule;

/// A built module graph for a test: resolve providers, run the lifecycle hooks when the test
/// wants them, and run the app's Inngest functions in-process.
///
/// Build one with [`TestingModule::builder`] from the module under test, or with
/// [`TestingModule::create`] from a list of providers and imports, override providers, then
/// [`compile`](TestingModuleBuilder::compile). Compiling builds every provider but runs no
/// hook, as NestJS's `compile()`; call [`init`](Self::init) to run `on_module_init` and
/// `on_application_bootstrap` (Inngest functions are discovered then), and
/// [`close`](Self::close) for the shutdown hooks.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use nestling::{Module, ModuleDef, Provider};
/// use nestling_testing::TestingModule;
///
/// trait Clock: Send + Sync { fn now(&self) -> u64; }
/// struct SystemClock;
/// impl Clock for SystemClock { fn now(&self) -> u64 { 1_700_000_000 } }
/// struct FrozenClock;
/// impl Clock for FrozenClock { fn now(&self) -> u64 { 42 } }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").provider(Provider::value(SystemClock).bind::<dyn Clock>(|c| c))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let module = TestingModule::builder(AppModule)
///     .override_provider::<dyn Clock>()
///     .use_value(Arc::new(FrozenClock))
///     .compile()
///     .await?;
/// assert_eq!(module.get::<dyn Clock>().now(), 42);
///
/// module.init().await?;
/// module.close().await?;
/// # Ok::<(), nestling_testing::TestingError>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct TestingModule {
    context: ApplicationContext,
    mock: Option<Arc<MockInngestService>>,
}

impl fmt::Debug for TestingModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestingModule")
            .field("modules", &self.context.module_names())
            .field("mock_inngest", &self.mock.is_some())
            .finish()
    }
}

impl TestingModule {
    /// A builder for the graph rooted at `root`, the module under test.
    pub fn builder(root: impl Into<Import>) -> TestingModuleBuilder {
        TestingModuleBuilder {
            builder: ApplicationBuilder::new(root),
            mock: None,
        }
    }

    /// A builder for a throwaway root module with this definition: list the providers and
    /// imports the test needs, as in `Test.createTestingModule({ providers, imports })`.
    ///
    /// # Examples
    ///
    /// ```
    /// use nestling::{ModuleDef, Provider};
    /// use nestling_testing::TestingModule;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let module = TestingModule::create(ModuleDef::new("Test").provider(Provider::value(7u8)))
    ///     .compile()
    ///     .await?;
    /// assert_eq!(*module.get::<u8>(), 7);
    /// # Ok::<(), nestling_testing::TestingError>(()) }).unwrap();
    /// ```
    pub fn create(def: ModuleDef) -> TestingModuleBuilder {
        Self::builder(DynamicModule::new::<TestingRootModule>(def))
    }

    /// The underlying application context.
    pub fn context(&self) -> &ApplicationContext {
        &self.context
    }

    /// Returns the shared instance of `T` (a concrete type or `dyn Trait`).
    ///
    /// # Panics
    ///
    /// When no provider of `T` exists, with the container's message.
    #[track_caller]
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Arc<T> {
        self.context.get::<T>()
    }

    /// Returns the shared instance of `T`.
    ///
    /// # Errors
    ///
    /// [`TestingError::Container`] when no provider of `T` exists or `T` is transient.
    pub fn try_get<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, TestingError> {
        Ok(self.context.try_get::<T>()?)
    }

    /// Returns the shared instance of `T`, or a new instance when `T` is transient.
    ///
    /// # Errors
    ///
    /// [`TestingError::Container`] when no provider of `T` exists or building it fails.
    pub async fn resolve<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, TestingError> {
        Ok(self.context.resolve::<T>().await?)
    }

    /// The mock installed with [`TestingModuleBuilder::mock_inngest`], if any.
    pub fn mock_inngest(&self) -> Option<Arc<MockInngestService>> {
        self.mock.clone()
    }

    /// Runs `on_module_init` and `on_application_bootstrap` once (Inngest functions are
    /// discovered then). The installed mock, if any, is attached to the app's function
    /// registry so that its `functions()` lists them.
    ///
    /// # Errors
    ///
    /// [`TestingError::Container`] naming the first failing hook.
    pub async fn init(&self) -> Result<(), TestingError> {
        self.context.init().await?;
        if let (Some(mock), Ok(registry)) = (&self.mock, self.context.try_get::<FunctionRegistry>())
        {
            mock.attach_registry((*registry).clone());
        }

        Ok(())
    }

    /// Runs the shutdown hooks.
    ///
    /// # Errors
    ///
    /// [`TestingError::Container`] with every failing hook (all of them ran).
    pub async fn close(&self) -> Result<(), TestingError> {
        Ok(self.context.close().await?)
    }

    /// An in-process runner for the app's Inngest functions (see [`FunctionRunner`]). It
    /// records `step.send_event` into the installed mock when there is one, so that events
    /// sent by services and by steps land in one place.
    ///
    /// # Errors
    ///
    /// As [`FunctionRunner::new`]: the app has no Inngest module, or it is not initialised.
    pub async fn runner(&self) -> Result<FunctionRunner, TestingError> {
        match &self.mock {
            Some(mock) => FunctionRunner::with_mock(&self.context, Arc::clone(mock)).await,
            None => FunctionRunner::new(&self.context).await,
        }
    }
}

/// Configures a [`TestingModule`]: provider overrides, the mock Inngest service, HTTP
/// settings.
pub struct TestingModuleBuilder {
    builder: ApplicationBuilder,
    mock: Option<Arc<MockInngestService>>,
}

impl fmt::Debug for TestingModuleBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestingModuleBuilder")
            .field("builder", &self.builder)
            .field("mock_inngest", &self.mock.is_some())
            .finish()
    }
}

impl TestingModuleBuilder {
    /// Starts replacing the provider of `T` everywhere it is registered (NestJS's
    /// `overrideProvider(token)`); finish with `use_value` or `use_factory`.
    ///
    /// Overrides are applied after the scan and before the graph is checked, so a missing
    /// dependency of the replacement is reported like any other. Overriding a type that no
    /// module provides is an error at [`compile`](Self::compile).
    pub fn override_provider<T: ?Sized + Send + Sync + 'static>(self) -> ProviderOverride<T> {
        ProviderOverride {
            builder: self,
            _type: std::marker::PhantomData,
        }
    }

    /// Replaces the provider of `provider`'s type with `provider`, in any form (class,
    /// factory, value), keeping its hooks and interface bindings.
    pub fn override_with(mut self, provider: impl Into<Provider>) -> Self {
        self.builder = self.builder.override_with(provider);
        self
    }

    /// Installs `mock` as the app's `Arc<dyn InngestService>`, so every service injected with
    /// it sends into the mock. Read it back with [`TestingModule::mock_inngest`].
    ///
    /// The serve endpoint the module mounts keeps the module's own service (it is built from
    /// the concrete `DefaultInngestService`); [`TestingModule::runner`] serves the functions
    /// with the mock instead.
    pub fn mock_inngest(mut self, mock: Arc<MockInngestService>) -> Self {
        let value: Arc<dyn InngestService> = Arc::clone(&mock) as Arc<dyn InngestService>;
        self.builder = self
            .builder
            .override_provider::<dyn InngestService>()
            .use_value(value);
        self.mock = Some(mock);
        self
    }

    /// Serves every module route under this prefix (for [`create_application`](Self::create_application)).
    pub fn global_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.builder = self.builder.global_prefix(prefix);
        self
    }

    // The container offers provider overrides only; swapping a whole imported module
    // (NestJS's `overrideModule(M).useModule(N)`) needs a hook in its scan phase that the
    // public `ApplicationBuilder` does not have. Override the module's exported providers
    // instead.

    /// Scans, checks and builds the graph without running any hook.
    ///
    /// # Errors
    ///
    /// [`TestingError::Container`]: a misconfigured graph (missing dependency, cycle, bad
    /// export, override of a type nobody provides) or a provider failing to build.
    pub async fn compile(self) -> Result<TestingModule, TestingError> {
        let Self { builder, mock } = self;
        let context = builder.compile().await?;

        Ok(TestingModule { context, mock })
    }

    /// Builds the graph, mounts the modules' HTTP routes and runs the start-up hooks: an
    /// application to serve on loopback with [`NestlingApplication::start`]`("127.0.0.1:0")`.
    ///
    /// # Errors
    ///
    /// As [`compile`](Self::compile), plus failing routes or start-up hooks.
    pub async fn create_application(self) -> Result<NestlingApplication, TestingError> {
        let Self { builder, mock } = self;
        let app = builder.create().await?;
        if let (Some(mock), Ok(registry)) = (&mock, app.try_get::<FunctionRegistry>()) {
            mock.attach_registry((*registry).clone());
        }

        Ok(app)
    }
}

/// Replaces one provider; see [`TestingModuleBuilder::override_provider`].
pub struct ProviderOverride<T: ?Sized> {
    builder: TestingModuleBuilder,
    _type: std::marker::PhantomData<fn() -> Box<T>>,
}

impl<T: ?Sized> fmt::Debug for ProviderOverride<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderOverride")
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T: ?Sized + Send + Sync + 'static> ProviderOverride<T> {
    /// Uses this instance (NestJS's `useValue`).
    pub fn use_value(self, value: Arc<T>) -> TestingModuleBuilder {
        let Self { mut builder, .. } = self;
        builder.builder = builder.builder.override_provider::<T>().use_value(value);
        builder
    }

    /// Uses this async factory (NestJS's `useFactory`), injected with its argument's types.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use nestling::{ModuleDef, Provider};
    /// use nestling_testing::TestingModule;
    ///
    /// struct Prefix(String);
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let module = TestingModule::create(
    ///     ModuleDef::new("Test")
    ///         .provider(Provider::value(3u32))
    ///         .provider(Provider::value(Prefix("real".into()))),
    /// )
    /// .override_provider::<Prefix>()
    /// .use_factory(|n: Arc<u32>| async move {
    ///     Ok::<_, std::convert::Infallible>(Arc::new(Prefix(format!("fake-{n}"))))
    /// })
    /// .compile()
    /// .await?;
    /// assert_eq!(module.get::<Prefix>().0, "fake-3");
    /// # Ok::<(), nestling_testing::TestingError>(()) }).unwrap();
    /// ```
    pub fn use_factory<D, F, Fut, E>(self, factory: F) -> TestingModuleBuilder
    where
        D: Dependencies,
        F: Fn(D) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Arc<T>, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let Self { mut builder, .. } = self;
        builder.builder = builder
            .builder
            .override_provider::<T>()
            .use_factory(factory);
        builder
    }
}
