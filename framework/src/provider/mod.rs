//! Providers: how a type gets into the container (value, class, factory, alias).

mod deps;

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

pub use deps::{Dependencies, Dependency};

use crate::container::Resolver;
use crate::discovery::Instance;
use crate::lifecycle::{
    BeforeApplicationShutdown, Hook, HookTable, OnApplicationBootstrap, OnApplicationListen,
    OnApplicationShutdown, OnModuleDestroy, OnModuleInit,
};
use crate::{BoxError, Error, Token};

/// How many instances of a provider exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// One instance, built at start-up and shared by every consumer (the default).
    #[default]
    Singleton,
    /// A new instance for every consumer that injects it, and for every
    /// [`resolve`](crate::ApplicationContext::resolve). Transient providers get no lifecycle
    /// hooks and are not discovered, as in NestJS.
    Transient,
}

/// What kind of provider this is, for messages and discovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProviderKind {
    Value,
    Class,
    Factory,
    /// Resolves to the instance of another token (NestJS's `useExisting`).
    Alias(Token),
}

/// The type stored in a slot: an `Arc<T>` for the token's `T`, behind `dyn Any`.
pub(crate) type Stored = Arc<dyn Any + Send + Sync>;

/// A built provider.
#[derive(Clone)]
pub(crate) struct Built {
    pub(crate) value: Stored,
    /// The concrete instance, for hooks and discovery (absent for aliases and for values given
    /// as `Arc<dyn Trait>`).
    pub(crate) instance: Option<(TypeId, Instance)>,
}

/// Builds one instance: resolving the dependencies is synchronous (everything it needs is
/// built already), constructing may be asynchronous.
pub(crate) type BuildFn = Arc<
    dyn Fn(&Resolver<'_>) -> Result<BoxFuture<'static, Result<Built, BoxError>>, Error>
        + Send
        + Sync,
>;

/// A provider, type-erased, ready to be listed in a module.
///
/// Made with [`Provider::value`], [`Provider::class`], [`Provider::factory`],
/// [`Provider::alias`] or [`Provider::instance`]; the first three return a
/// [`ProviderBuilder`] that converts into a `Provider`.
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, Error, Module, ModuleDef, Provider};
/// use std::sync::Arc;
///
/// trait Greeter: Send + Sync {
///     fn greet(&self) -> String;
/// }
/// struct English { punctuation: Arc<String> }
/// impl Greeter for English {
///     fn greet(&self) -> String { format!("hello{}", self.punctuation) }
/// }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule")
///             .provider(Provider::value(String::from("!")))
///             .provider(
///                 Provider::factory(|punctuation: Arc<String>| async move {
///                     Ok::<_, Error>(English { punctuation })
///                 })
///                 .bind::<dyn Greeter>(|english| english),
///             )
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::create(AppModule).await?;
/// assert_eq!(app.get::<dyn Greeter>().greet(), "hello!");
/// # Ok::<_, Error>(()) }).unwrap();
/// ```
pub struct Provider {
    pub(crate) token: Token,
    pub(crate) kind: ProviderKind,
    pub(crate) scope: Scope,
    pub(crate) deps: Vec<Dependency>,
    pub(crate) build: BuildFn,
    pub(crate) hooks: HookTable,
    pub(crate) bindings: Vec<Provider>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            token,
            kind,
            scope,
            deps,
            build: _,
            hooks,
            bindings,
        } = self;
        f.debug_struct("Provider")
            .field("token", token)
            .field("kind", kind)
            .field("scope", scope)
            .field("deps", deps)
            .field("hooks", hooks)
            .field("bindings", bindings)
            .finish()
    }
}

impl Clone for Provider {
    fn clone(&self) -> Self {
        Self {
            token: self.token,
            kind: self.kind,
            scope: self.scope,
            deps: self.deps.clone(),
            build: Arc::clone(&self.build),
            hooks: self.hooks,
            bindings: self.bindings.clone(),
        }
    }
}

fn built_concrete<T: Send + Sync + 'static>(value: Arc<T>) -> Built {
    Built {
        value: Arc::new(Arc::clone(&value)),
        instance: Some((TypeId::of::<T>(), value)),
    }
}

impl Provider {
    /// A provider of a ready value (NestJS's `useValue`). Every consumer gets the same `Arc`.
    pub fn value<T: Send + Sync + 'static>(value: T) -> ProviderBuilder<T> {
        let value = Arc::new(value);
        let build: BuildFn = Arc::new(move |_| {
            let built = built_concrete(Arc::clone(&value));
            Ok(Box::pin(async move { Ok(built) }))
        });

        ProviderBuilder::new(ProviderKind::Value, Vec::new(), build)
    }

    /// A provider of a ready `Arc`, possibly of an interface (`Arc<dyn Trait>`), such as a mock.
    ///
    /// The value gets no lifecycle hooks and is not discovered: its concrete type is unknown.
    pub fn instance<T: ?Sized + Send + Sync + 'static>(value: Arc<T>) -> Provider {
        let build: BuildFn = Arc::new(move |_| {
            let built = Built {
                value: Arc::new(Arc::clone(&value)),
                instance: None,
            };
            Ok(Box::pin(async move { Ok(built) }))
        });

        Provider {
            token: Token::of::<T>(),
            kind: ProviderKind::Value,
            scope: Scope::Singleton,
            deps: Vec::new(),
            build,
            hooks: HookTable::default(),
            bindings: Vec::new(),
        }
    }

    /// A provider of a class: a type that declares its dependencies and builds itself from them,
    /// usually through `#[derive(Injectable)]`.
    pub fn class<T: Injectable>() -> ProviderBuilder<T> {
        let mut deps = Vec::new();
        T::Deps::declare(&mut deps);
        let build: BuildFn = Arc::new(|resolver| {
            let deps = T::Deps::resolve(resolver)?;
            Ok(Box::pin(async move {
                let value = T::construct(deps).await?;
                Ok(built_concrete(Arc::new(value)))
            }))
        });

        T::configure(ProviderBuilder::new(ProviderKind::Class, deps, build))
    }

    /// A provider built by an async, fallible factory (NestJS's `useFactory` with `inject`).
    ///
    /// The factory's argument declares what it injects: `Arc<T>`, `Option<Arc<T>>` or a tuple
    /// of these. An error aborts start-up with the provider and module named.
    pub fn factory<D, T, F, Fut, E>(factory: F) -> ProviderBuilder<T>
    where
        D: Dependencies,
        T: Send + Sync + 'static,
        F: Fn(D) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let mut deps = Vec::new();
        D::declare(&mut deps);
        let build: BuildFn = Arc::new(move |resolver| {
            let fut = factory(D::resolve(resolver)?);
            Ok(Box::pin(async move {
                let value = fut.await.map_err(Into::into)?;
                Ok(built_concrete(Arc::new(value)))
            }))
        });

        ProviderBuilder::new(ProviderKind::Factory, deps, build)
    }

    /// An alias (NestJS's `useExisting`): `I` resolves to the instance of `C`, converted by
    /// `coerce`, which for an interface is just `|c| c`.
    ///
    /// The alias follows the scope of `C`.
    pub fn alias<I, C>(coerce: fn(Arc<C>) -> Arc<I>) -> Provider
    where
        I: ?Sized + Send + Sync + 'static,
        C: ?Sized + Send + Sync + 'static,
    {
        let build: BuildFn = Arc::new(move |resolver| {
            let target = resolver.get::<C>()?;
            let value: Stored = Arc::new(coerce(target));
            Ok(Box::pin(async move {
                Ok(Built {
                    value,
                    instance: None,
                })
            }))
        });

        Provider {
            token: Token::of::<I>(),
            kind: ProviderKind::Alias(Token::of::<C>()),
            scope: Scope::Singleton,
            deps: vec![Dependency::required::<C>()],
            build,
            hooks: HookTable::default(),
            bindings: Vec::new(),
        }
    }

    /// The type this provider is resolved as.
    pub fn token(&self) -> Token {
        self.token
    }

    /// Its declared dependencies.
    pub fn dependencies(&self) -> &[Dependency] {
        &self.deps
    }

    /// Its scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }
}

/// A provider of the concrete type `T` being configured: scope, interfaces, lifecycle hooks.
///
/// Hooks are opt-in, one method per hook, each requiring `T` to implement the hook's trait,
/// because Rust can't ask at run time whether a type implements a trait.
/// `#[derive(Injectable)]` writes these calls from `#[injectable(hooks(...))]`.
pub struct ProviderBuilder<T> {
    provider: Provider,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ProviderBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProviderBuilder")
            .field(&self.provider)
            .finish()
    }
}

impl<T: Send + Sync + 'static> ProviderBuilder<T> {
    fn new(kind: ProviderKind, deps: Vec<Dependency>, build: BuildFn) -> Self {
        Self {
            provider: Provider {
                token: Token::of::<T>(),
                kind,
                scope: Scope::Singleton,
                deps,
                build,
                hooks: HookTable::default(),
                bindings: Vec::new(),
            },
            _type: PhantomData,
        }
    }

    /// Makes the provider transient: a new instance for every consumer.
    pub fn transient(mut self) -> Self {
        self.provider.scope = Scope::Transient;
        self
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.provider.scope = scope;
        self
    }

    /// Also registers the provider as the interface `I`, so that `Arc<dyn I>` resolves to this
    /// instance. `coerce` is `|c| c` for a trait `T` implements.
    ///
    /// Exporting the provider to other modules needs an export of `I` as well.
    pub fn bind<I: ?Sized + Send + Sync + 'static>(mut self, coerce: fn(Arc<T>) -> Arc<I>) -> Self {
        self.provider.bindings.push(Provider::alias::<I, T>(coerce));
        self
    }

    fn hook(mut self, hook: Hook, call: crate::lifecycle::HookFn) -> Self {
        self.provider.hooks.set(hook, call);
        self
    }

    /// Runs [`OnModuleInit`] on this provider.
    pub fn on_module_init(self) -> Self
    where
        T: OnModuleInit,
    {
        self.hook(Hook::ModuleInit, |instance, _| {
            Box::pin(async move { downcast::<T>(instance)?.on_module_init().await })
        })
    }

    /// Runs [`OnApplicationBootstrap`] on this provider.
    pub fn on_application_bootstrap(self) -> Self
    where
        T: OnApplicationBootstrap,
    {
        self.hook(Hook::ApplicationBootstrap, |instance, _| {
            Box::pin(async move { downcast::<T>(instance)?.on_application_bootstrap().await })
        })
    }

    /// Runs [`OnApplicationListen`] on this provider.
    pub fn on_application_listen(self) -> Self
    where
        T: OnApplicationListen,
    {
        self.hook(Hook::ApplicationListen, |instance, arg| {
            Box::pin(async move {
                let addr = arg.addr();
                downcast::<T>(instance)?.on_application_listen(addr).await
            })
        })
    }

    /// Runs [`OnModuleDestroy`] on this provider.
    pub fn on_module_destroy(self) -> Self
    where
        T: OnModuleDestroy,
    {
        self.hook(Hook::ModuleDestroy, |instance, _| {
            Box::pin(async move { downcast::<T>(instance)?.on_module_destroy().await })
        })
    }

    /// Runs [`BeforeApplicationShutdown`] on this provider.
    pub fn before_application_shutdown(self) -> Self
    where
        T: BeforeApplicationShutdown,
    {
        self.hook(Hook::BeforeApplicationShutdown, |instance, arg| {
            Box::pin(async move {
                let signal = arg.signal();
                downcast::<T>(instance)?
                    .before_application_shutdown(signal)
                    .await
            })
        })
    }

    /// Runs [`OnApplicationShutdown`] on this provider.
    pub fn on_application_shutdown(self) -> Self
    where
        T: OnApplicationShutdown,
    {
        self.hook(Hook::ApplicationShutdown, |instance, arg| {
            Box::pin(async move {
                let signal = arg.signal();
                downcast::<T>(instance)?
                    .on_application_shutdown(signal)
                    .await
            })
        })
    }
}

impl<T> From<ProviderBuilder<T>> for Provider {
    fn from(builder: ProviderBuilder<T>) -> Self {
        builder.provider
    }
}

fn downcast<T: Send + Sync + 'static>(instance: Instance) -> Result<Arc<T>, BoxError> {
    instance.downcast::<T>().map_err(|_| {
        format!(
            "the instance handed to a hook of `{}` has another type",
            crate::token::short_type_name(std::any::type_name::<T>())
        )
        .into()
    })
}

/// A class provider: a type that declares what it injects and builds itself from it, sync or
/// async.
///
/// Usually derived: `#[derive(Injectable)]` injects the fields marked `#[inject]` (`Arc<T>`,
/// `Arc<dyn Trait>` or `Option<Arc<T>>`) and fills the others with `Default` or with
/// `#[injectable(default = expr)]`. Write it by hand for an async constructor.
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, BoxError, Injectable, Module, ModuleDef, Provider};
/// use std::sync::Arc;
///
/// struct Settings { url: String }
/// struct Pool { url: String }
///
/// impl Injectable for Pool {
///     type Deps = Arc<Settings>;
///     async fn construct(settings: Arc<Settings>) -> Result<Self, BoxError> {
///         tokio::task::yield_now().await; // connect...
///         Ok(Pool { url: settings.url.clone() })
///     }
/// }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule")
///             .provider(Provider::value(Settings { url: "sqlite::memory:".into() }))
///             .provider(Provider::class::<Pool>())
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::create(AppModule).await.unwrap();
/// assert_eq!(app.get::<Pool>().url, "sqlite::memory:");
/// # });
/// ```
pub trait Injectable: Sized + Send + Sync + 'static {
    /// What the class injects.
    type Deps: Dependencies;

    /// Builds the instance from its dependencies.
    fn construct(deps: Self::Deps) -> impl Future<Output = Result<Self, BoxError>> + Send;

    /// Configures the provider: scope, interfaces, hooks. The default changes nothing.
    fn configure(provider: ProviderBuilder<Self>) -> ProviderBuilder<Self> {
        provider
    }
}

/// Runs a build future, turning a panic into [`Error::Panicked`].
pub(crate) async fn catch_build(
    fut: BoxFuture<'static, Result<Built, BoxError>>,
) -> Result<Result<Built, BoxError>, String> {
    std::panic::AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|payload| crate::error::panic_message(&*payload))
}

impl Provider {
    /// A factory whose output is already an `Arc`, possibly of an interface; used by
    /// overrides. The result has no concrete instance, so no hooks and no discovery.
    pub(crate) fn factory_arc<D, T, F, Fut, E>(factory: F) -> Provider
    where
        D: Dependencies,
        T: ?Sized + Send + Sync + 'static,
        F: Fn(D) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Arc<T>, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let mut deps = Vec::new();
        D::declare(&mut deps);
        let build: BuildFn = Arc::new(move |resolver| {
            let fut = factory(D::resolve(resolver)?);
            Ok(Box::pin(async move {
                let value: Stored = Arc::new(fut.await.map_err(Into::into)?);
                Ok(Built {
                    value,
                    instance: None,
                })
            }))
        });

        Provider {
            token: Token::of::<T>(),
            kind: ProviderKind::Factory,
            scope: Scope::Singleton,
            deps,
            build,
            hooks: HookTable::default(),
            bindings: Vec::new(),
        }
    }
}
