//! Routes a module contributes: where they are mounted and how their endpoint is built.

use std::fmt;
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;

use crate::container::ModuleRef;
use crate::http::RouteContext;
use crate::{BoxError, Token};

/// A route's endpoint, built once its module's providers are.
pub(crate) type RouteFactory =
    Arc<dyn Fn(&RouteContext) -> Result<BoxEndpoint<'static>, BoxError> + Send + Sync>;

/// Reads a route's path from the module's view of the container.
type PathReader = Arc<dyn Fn(&ModuleRef) -> Result<String, BoxError> + Send + Sync>;

#[derive(Clone)]
pub(crate) struct RouteDef {
    pub(crate) path: RoutePath,
    pub(crate) factory: RouteFactory,
}

impl fmt::Debug for RouteDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteDef")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Where a module's route is mounted (under the application's global prefix): a path known
/// when the module is defined, or one read from a provider once the providers are built.
///
/// A path read from a provider lets a dynamic module mount its route where options made by an
/// async factory say (NestJS's `forRootAsync`), since routes are collected after every
/// provider is built and before `on_module_init`. The provider must be visible in the
/// contributing module; the graph check says so before anything is built.
///
/// A `&str` or `String` converts into a fixed path, so `ModuleDef::route("/cats", ..)` reads
/// as before.
///
/// # Example
///
/// ```
/// use nestling::{ModuleDef, NestlingApplication, Provider, RoutePath};
/// use poem::{get, handler};
///
/// struct ServeOptions {
///     path: String,
/// }
///
/// #[handler]
/// fn hello() -> &'static str {
///     "hi"
/// }
///
/// let module = ModuleDef::new("HelloModule")
///     .provider(Provider::value(ServeOptions { path: "/from-options".into() }))
///     .route(
///         RoutePath::from_provider(|options: &ServeOptions| options.path.clone()),
///         |_| Ok(get(hello)),
///     );
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = NestlingApplication::create(nestling::DynamicModule::new::<ServeOptions>(module)).await?;
/// assert_eq!(app.routes()[0].path, "/from-options");
/// # Ok::<_, nestling::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct RoutePath {
    kind: PathKind,
}

#[derive(Clone)]
enum PathKind {
    Fixed(String),
    Provided { token: Token, read: PathReader },
}

impl RoutePath {
    /// A path known now.
    pub fn fixed(path: impl Into<String>) -> Self {
        Self {
            kind: PathKind::Fixed(path.into()),
        }
    }

    /// A path read by `read` from the module's shared provider of `T` (a concrete type or
    /// `dyn Trait`), once it is built.
    pub fn from_provider<T, F>(read: F) -> Self
    where
        T: ?Sized + Send + Sync + 'static,
        F: Fn(&T) -> String + Send + Sync + 'static,
    {
        let read: PathReader = Arc::new(move |module: &ModuleRef| {
            let provider = module.try_get::<T>()?;
            Ok(read(&provider))
        });

        Self {
            kind: PathKind::Provided {
                token: Token::of::<T>(),
                read,
            },
        }
    }

    /// The provider the path is read from, which the graph check requires to be visible.
    pub(crate) fn dependency(&self) -> Option<Token> {
        match &self.kind {
            PathKind::Fixed(_) => None,
            PathKind::Provided { token, .. } => Some(*token),
        }
    }

    /// The path, relative to the global prefix.
    pub(crate) fn resolve(&self, module: &ModuleRef) -> Result<String, BoxError> {
        match &self.kind {
            PathKind::Fixed(path) => Ok(path.clone()),
            PathKind::Provided { read, .. } => read(module),
        }
    }
}

impl fmt::Display for RoutePath {
    /// The fixed path, or where the path is read from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PathKind::Fixed(path) => f.write_str(path),
            PathKind::Provided { token, .. } => write!(f, "(path read from `{}`)", token.name()),
        }
    }
}

impl fmt::Debug for RoutePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PathKind::Fixed(path) => f.debug_tuple("RoutePath::Fixed").field(path).finish(),
            PathKind::Provided { token, .. } => f
                .debug_tuple("RoutePath::FromProvider")
                .field(&token.name())
                .finish(),
        }
    }
}

impl From<&str> for RoutePath {
    fn from(path: &str) -> Self {
        Self::fixed(path)
    }
}

impl From<String> for RoutePath {
    fn from(path: String) -> Self {
        Self::fixed(path)
    }
}

impl From<&String> for RoutePath {
    fn from(path: &String) -> Self {
        Self::fixed(path.clone())
    }
}
