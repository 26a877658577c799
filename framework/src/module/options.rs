//! Options of `for_root_async`-style modules.

use std::fmt;
use std::future::Future;

use crate::{BoxError, Dependencies, Import, ModuleDef, Provider};

/// The options of a dynamic module, given now or made later by an async, fallible factory
/// (NestJS's `forRootAsync({ imports, inject, useFactory })`).
///
/// The factory's argument declares what it injects; [`import`](Self::import) brings the
/// modules that export it (usually a config module) into the dynamic module. The options then
/// are a provider of `O` inside the module, injected like any other.
///
/// What changes the module's definition rather than its providers must be known before any
/// factory runs, because the whole graph is checked first: the module's visibility is set
/// here with [`is_global`](Self::is_global) (NestJS's `isGlobal` next to `useFactory`), not by
/// the options the factory returns. A route that depends on the options reads its path with
/// [`RoutePath::from_provider`](crate::RoutePath::from_provider).
///
/// # Example
///
/// ```
/// use nestling::{
///     ApplicationContext, AsyncOptions, ConfigModule, ConfigOptions, ConfigService,
///     DynamicModule, Module, ModuleDef, Provider,
/// };
/// use std::sync::Arc;
///
/// #[derive(serde::Deserialize)]
/// pub struct MailOptions { pub from: String }
///
/// pub struct MailModule;
/// impl MailModule {
///     pub fn for_root_async(options: AsyncOptions<MailOptions>) -> DynamicModule {
///         DynamicModule::new::<MailModule>(
///             options.apply(ModuleDef::new("MailModule")).export::<MailOptions>(),
///         )
///     }
/// }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").import(MailModule::for_root_async(
///             AsyncOptions::factory(|config: Arc<ConfigService>| async move {
///                 config.get::<MailOptions>("mail")
///             })
///             .import(ConfigModule::for_root(
///                 ConfigOptions::new().without_files().set_default("mail.from", "noreply@example.com"),
///             )),
///         ))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::create(AppModule).await.unwrap();
/// assert_eq!(app.get::<MailOptions>().from, "noreply@example.com");
/// # });
/// ```
pub struct AsyncOptions<O> {
    imports: Vec<Import>,
    provider: Provider,
    global: bool,
    _options: std::marker::PhantomData<fn() -> O>,
}

impl<O> fmt::Debug for AsyncOptions<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncOptions")
            .field("imports", &self.imports)
            .field("provider", &self.provider)
            .field("global", &self.global)
            .finish()
    }
}

impl<O: Send + Sync + 'static> AsyncOptions<O> {
    /// Options made by `factory`, which injects its argument's types.
    pub fn factory<D, F, Fut, E>(factory: F) -> Self
    where
        D: Dependencies,
        F: Fn(D) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Self {
            imports: Vec::new(),
            provider: Provider::factory(factory).into(),
            global: false,
            _options: std::marker::PhantomData,
        }
    }

    /// Options known now (what `for_root(options)` uses, so both forms share one code path).
    pub fn value(options: O) -> Self {
        Self {
            imports: Vec::new(),
            provider: Provider::value(options).into(),
            global: false,
            _options: std::marker::PhantomData,
        }
    }

    /// Imports a module into the dynamic module, so that the factory can inject what it
    /// exports.
    pub fn import(mut self, module: impl Into<Import>) -> Self {
        self.imports.push(module.into());
        self
    }

    /// Makes the module global when `global` is true: its exports are then visible in every
    /// module without an import. Not global by default, as with NestJS's `isGlobal`.
    ///
    /// # Example
    ///
    /// ```
    /// use nestling::AsyncOptions;
    ///
    /// let options = AsyncOptions::value(3u8).is_global(true);
    /// assert!(options.global());
    /// assert!(!AsyncOptions::value(3u8).global());
    /// ```
    pub fn is_global(mut self, global: bool) -> Self {
        self.global = global;
        self
    }

    /// Whether the module will be global.
    pub fn global(&self) -> bool {
        self.global
    }

    /// Adds the imports and the options provider to a module definition, and makes it global
    /// if asked.
    pub fn apply(self, def: ModuleDef) -> ModuleDef {
        let Self {
            imports,
            provider,
            global,
            _options,
        } = self;
        let def = imports.into_iter().fold(def, ModuleDef::import);

        def.provider(provider).global_if(global)
    }
}
