//! Modules: what a module provides, imports and exports, static or dynamic.

mod options;
mod route;

use std::any::{TypeId, type_name};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use poem::{EndpointExt, IntoEndpoint};

pub use options::AsyncOptions;
pub use route::RoutePath;
pub(crate) use route::{RouteDef, RouteFactory};

use crate::http::RouteContext;
use crate::{BoxError, Provider, Token};

/// A static module: a type whose [`define`](Module::define) lists its imports, providers and
/// exports (NestJS's `@Module({...})` class).
///
/// A static module is identified by its type, so importing it from several modules builds it
/// once and shares its providers.
///
/// # Example
///
/// ```
/// use nestling::{ApplicationContext, Module, ModuleDef, Provider};
///
/// struct Counter(u32);
///
/// struct CounterModule;
/// impl Module for CounterModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("CounterModule")
///             .provider(Provider::value(Counter(7)))
///             .export::<Counter>()
///     }
/// }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").import(CounterModule)
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ApplicationContext::create(AppModule).await.unwrap();
/// assert_eq!(app.get::<Counter>().0, 7);
/// # });
/// ```
pub trait Module: Send + Sync + 'static {
    /// Describes the module. Called once per application, when the module is first met.
    fn define(&self) -> ModuleDef;
}

/// What a module exports: one of its (or its imports') providers, or a whole imported module.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ExportDef {
    Token(Token),
    Module { type_id: TypeId, name: &'static str },
}

/// The description of a module: name, imports, providers, exports, routes, `global`.
///
/// Returned by [`Module::define`] and wrapped by [`DynamicModule`] for `for_root`-style
/// modules. Later providers with the same type replace earlier ones, as in NestJS.
#[derive(Debug, Clone)]
pub struct ModuleDef {
    pub(crate) name: String,
    pub(crate) imports: Vec<Import>,
    pub(crate) providers: Vec<Provider>,
    pub(crate) exports: Vec<ExportDef>,
    pub(crate) routes: Vec<RouteDef>,
    pub(crate) global: bool,
}

impl ModuleDef {
    /// An empty module with this name (used in logs and errors).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            imports: Vec::new(),
            providers: Vec::new(),
            exports: Vec::new(),
            routes: Vec::new(),
            global: false,
        }
    }

    /// Imports a module, static (`CatsModule`) or dynamic (`ConfigModule::for_root(..)`): this
    /// module then sees what that module exports.
    pub fn import(mut self, module: impl Into<Import>) -> Self {
        self.imports.push(module.into());
        self
    }

    /// Registers a provider in this module.
    pub fn provider(mut self, provider: impl Into<Provider>) -> Self {
        self.providers.push(provider.into());
        self
    }

    /// Exports the provider of `T` (a concrete type or `dyn Trait`), which this module
    /// provides, to the modules importing this one.
    ///
    /// As in NestJS, a provider that an import gives this module is passed on by re-exporting
    /// that whole module with [`export_module`](Self::export_module); exporting it alone fails
    /// the graph check with [`Error::ExportOfImport`](crate::Error::ExportOfImport).
    pub fn export<T: ?Sized + 'static>(mut self) -> Self {
        self.exports.push(ExportDef::Token(Token::of::<T>()));
        self
    }

    /// Re-exports an imported module `M`: whatever `M` exports becomes visible to the modules
    /// importing this one. `M` is the module's type (for a dynamic module, the type passed to
    /// [`DynamicModule::new`]).
    pub fn export_module<M: 'static>(mut self) -> Self {
        self.exports.push(ExportDef::Module {
            type_id: TypeId::of::<M>(),
            name: type_name::<M>(),
        });
        self
    }

    /// Makes the module global: its exports are visible in every module without an import.
    /// The module itself must still be imported once (usually by the root module).
    pub fn global(mut self) -> Self {
        self.global = true;
        self
    }

    /// Makes the module global when `global` is true (for an `is_global` option).
    pub fn global_if(mut self, global: bool) -> Self {
        self.global |= global;
        self
    }

    /// Contributes an HTTP route: once the module's providers are built (and before
    /// `on_module_init`), `factory` gets the module's view of the container and returns a poem
    /// endpoint, which the application mounts at `path` under its global prefix.
    ///
    /// `path` is a string, or a [`RoutePath`] read from one of the module's providers when the
    /// route is mounted (for a path that options made by an async factory decide).
    ///
    /// # Example
    ///
    /// ```
    /// use nestling::{ModuleDef, Provider};
    /// use poem::{handler, Route, get, EndpointExt};
    /// use std::sync::Arc;
    ///
    /// struct Greeting(String);
    ///
    /// #[handler]
    /// fn hello(greeting: poem::web::Data<&Arc<Greeting>>) -> String {
    ///     greeting.0 .0.clone()
    /// }
    ///
    /// let module = ModuleDef::new("HelloModule")
    ///     .provider(Provider::value(Greeting("hi".into())))
    ///     .route("/hello", |ctx| {
    ///         let greeting = ctx.module().try_get::<Greeting>()?;
    ///         Ok(Route::new().at("/", get(hello)).data(greeting))
    ///     });
    /// # let _ = module;
    /// ```
    pub fn route<F, E>(mut self, path: impl Into<RoutePath>, factory: F) -> Self
    where
        F: Fn(&RouteContext) -> Result<E, BoxError> + Send + Sync + 'static,
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        let factory: RouteFactory = Arc::new(move |ctx| {
            let endpoint = factory(ctx)?;
            Ok(endpoint.into_endpoint().map_to_response().boxed())
        });
        self.routes.push(RouteDef {
            path: path.into(),
            factory,
        });
        self
    }

    /// The module's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How a module is recognised when it is imported more than once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub(crate) type_id: TypeId,
    pub(crate) key: Option<u64>,
}

/// A module made at run time by a function such as `for_root(options)`, `register(options)` or
/// `for_root_async(options)` (NestJS's dynamic module).
///
/// # Identity
///
/// A dynamic module is identified by its module type `M` plus an optional key. Without a key
/// (the default, right for `for_root`: configured once, used app-wide), every import of a
/// `DynamicModule::new::<M>(..)` is the same module: the first definition met while scanning
/// from the root wins and is built once. With [`key`](Self::key) (for `register`-style modules
/// configured per caller), imports with equal keys share one module and different keys give
/// separate modules.
///
/// # Example
///
/// ```
/// use nestling::{DynamicModule, ModuleDef, Provider};
///
/// #[derive(Clone, Hash)]
/// pub struct CacheOptions { pub capacity: usize }
///
/// pub struct CacheModule;
/// impl CacheModule {
///     pub fn register(options: CacheOptions) -> DynamicModule {
///         DynamicModule::new::<CacheModule>(
///             ModuleDef::new("CacheModule")
///                 .provider(Provider::value(options.clone()))
///                 .export::<CacheOptions>(),
///         )
///         .key(&options)
///     }
/// }
/// # let _ = CacheModule::register(CacheOptions { capacity: 8 });
/// ```
#[derive(Debug, Clone)]
pub struct DynamicModule {
    pub(crate) identity: Identity,
    pub(crate) def: ModuleDef,
}

impl DynamicModule {
    /// A dynamic module of type `M` (the type names the module; it need not implement
    /// [`Module`]).
    pub fn new<M: 'static>(def: ModuleDef) -> Self {
        Self {
            identity: Identity {
                type_id: TypeId::of::<M>(),
                key: None,
            },
            def,
        }
    }

    /// Sets the key that, with the module type, identifies this module (a hash of `key`).
    pub fn key(mut self, key: impl Hash) -> Self {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        self.identity.key = Some(hasher.finish());
        self
    }

    /// Makes the module global.
    pub fn global(mut self) -> Self {
        self.def.global = true;
        self
    }

    /// Adds to the module's definition, for instance `|def| def.import(..)`.
    pub fn map(mut self, f: impl FnOnce(ModuleDef) -> ModuleDef) -> Self {
        self.def = f(self.def);
        self
    }
}

/// Something a module imports: a static [`Module`] or a [`DynamicModule`].
#[derive(Clone)]
pub struct Import {
    pub(crate) kind: ImportKind,
}

#[derive(Clone)]
pub(crate) enum ImportKind {
    Static {
        type_id: TypeId,
        module: Arc<dyn Module>,
    },
    Dynamic(Box<DynamicModule>),
}

impl Import {
    pub(crate) fn identity(&self) -> Identity {
        match &self.kind {
            ImportKind::Static { type_id, .. } => Identity {
                type_id: *type_id,
                key: None,
            },
            ImportKind::Dynamic(dynamic) => dynamic.identity.clone(),
        }
    }

    /// The definition: for a static module, the result of [`Module::define`].
    pub(crate) fn definition(&self) -> ModuleDef {
        match &self.kind {
            ImportKind::Static { module, .. } => module.define(),
            ImportKind::Dynamic(dynamic) => dynamic.def.clone(),
        }
    }
}

impl fmt::Debug for Import {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ImportKind::Static { .. } => f.debug_tuple("Import::Static").finish(),
            ImportKind::Dynamic(dynamic) => f
                .debug_tuple("Import::Dynamic")
                .field(&dynamic.def.name)
                .finish(),
        }
    }
}

impl<M: Module> From<M> for Import {
    fn from(module: M) -> Self {
        Self {
            kind: ImportKind::Static {
                type_id: TypeId::of::<M>(),
                module: Arc::new(module),
            },
        }
    }
}

impl From<DynamicModule> for Import {
    fn from(module: DynamicModule) -> Self {
        Self {
            kind: ImportKind::Dynamic(Box::new(module)),
        }
    }
}
