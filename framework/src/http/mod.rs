//! The HTTP application: module routes mounted under a global prefix, served by poem, with
//! graceful shutdown.

mod server;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, Route};

pub use server::{ServerHandle, ShutdownHandle};

use crate::container::ModuleRef;
use crate::{ApplicationBuilder, ApplicationContext, ApplicationInfo, Error, Import};

/// What a route factory gets: the module's view of the container and the full path its route
/// is mounted at.
#[derive(Debug, Clone)]
pub struct RouteContext {
    module: ModuleRef,
    path: String,
}

impl RouteContext {
    /// The contributing module's view of the container: what its providers could inject.
    pub fn module(&self) -> &ModuleRef {
        &self.module
    }

    /// The full path of the route, global prefix included (`/api/inngest`).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A route a module contributed, as mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedRoute {
    /// The contributing module.
    pub module: String,
    /// The full path, global prefix included.
    pub path: String,
}

/// An application served over HTTP (NestJS's `NestFactory.create`): the module graph, built and
/// initialised, plus the routes its modules contribute.
///
/// # Example
///
/// ```
/// use nestling::{Module, ModuleDef, NestlingApplication};
/// use poem::{get, handler};
///
/// #[handler]
/// fn ping() -> &'static str { "pong" }
///
/// struct AppModule;
/// impl Module for AppModule {
///     fn define(&self) -> ModuleDef {
///         ModuleDef::new("AppModule").route("/ping", |_| Ok(get(ping)))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = NestlingApplication::builder(AppModule).global_prefix("api").create().await?;
/// let server = app.start("127.0.0.1:0").await?;
/// let body = reqwest::get(format!("{}/api/ping", server.url())).await.unwrap().text().await.unwrap();
/// assert_eq!(body, "pong");
/// server.close().await?;
/// # Ok::<_, nestling::Error>(()) }).unwrap();
/// ```
pub struct NestlingApplication {
    context: ApplicationContext,
    info: ApplicationInfo,
    routes: Vec<MappedRoute>,
    endpoint: Arc<BoxEndpoint<'static>>,
    shutdown_timeout: Duration,
}

impl fmt::Debug for NestlingApplication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NestlingApplication")
            .field("context", &self.context)
            .field("global_prefix", &self.info.global_prefix())
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl NestlingApplication {
    /// Builds the application rooted at `root` with default settings.
    ///
    /// # Errors
    ///
    /// See [`ApplicationBuilder::create`].
    pub async fn create(root: impl Into<Import>) -> Result<Self, Error> {
        ApplicationBuilder::new(root).create().await
    }

    /// A builder, for the global prefix, the shutdown timeout and overrides.
    pub fn builder(root: impl Into<Import>) -> ApplicationBuilder {
        ApplicationBuilder::new(root)
    }

    /// Builds every module's routes, in hook order, and mounts them under the global prefix.
    pub(crate) fn mount(
        context: ApplicationContext,
        info: ApplicationInfo,
        shutdown_timeout: Duration,
    ) -> Result<Self, Error> {
        let graph = &context.inner.graph;
        let mut route = Route::new();
        let mut routes = Vec::new();
        for &module in &graph.order {
            let node = &graph.modules[module];
            for def in &node.routes {
                let module_ref = ModuleRef {
                    inner: Arc::clone(&context.inner),
                    module,
                };
                let relative = def.path.resolve(&module_ref).map_err(|err| Error::Route {
                    module: node.name.clone(),
                    path: def.path.to_string(),
                    message: format!("its path could not be read: {err}"),
                })?;
                let path = info.route_path(&relative);
                let ctx = RouteContext {
                    module: module_ref,
                    path: path.clone(),
                };
                let route_error = |message: String| Error::Route {
                    module: node.name.clone(),
                    path: path.clone(),
                    message,
                };
                let built =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (def.factory)(&ctx)));
                let endpoint = match built {
                    Ok(Ok(endpoint)) => endpoint,
                    Ok(Err(err)) => return Err(route_error(err.to_string())),
                    Err(payload) => {
                        return Err(route_error(format!(
                            "its factory panicked: {}",
                            crate::error::panic_message(&*payload)
                        )));
                    }
                };
                route = route
                    .try_nest(&path, endpoint)
                    .map_err(|err| route_error(err.to_string()))?;
                tracing::info!(module = %node.name, path = %path, "mapped route");
                routes.push(MappedRoute {
                    module: node.name.clone(),
                    path,
                });
            }
        }

        let endpoint = route
            .with(poem::middleware::CatchPanic::new())
            .with(poem::middleware::Tracing)
            .boxed();

        Ok(Self {
            context,
            info,
            routes,
            endpoint: Arc::new(endpoint),
            shutdown_timeout,
        })
    }

    /// The application context: resolution and lifecycle.
    pub fn context(&self) -> &ApplicationContext {
        &self.context
    }

    /// See [`ApplicationContext::try_get`].
    ///
    /// # Errors
    ///
    /// As [`ApplicationContext::try_get`].
    pub fn try_get<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, Error> {
        self.context.try_get::<T>()
    }

    /// See [`ApplicationContext::get`].
    ///
    /// # Panics
    ///
    /// When no shared provider of `T` exists.
    #[track_caller]
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Arc<T> {
        self.context.get::<T>()
    }

    /// The global prefix (`""` or `/api`).
    pub fn global_prefix(&self) -> &str {
        self.info.global_prefix()
    }

    /// The routes the modules contributed, as mounted.
    pub fn routes(&self) -> &[MappedRoute] {
        &self.routes
    }

    /// The whole HTTP endpoint, for poem's in-process `TestClient`.
    pub fn endpoint(&self) -> Arc<BoxEndpoint<'static>> {
        Arc::clone(&self.endpoint)
    }

    /// Binds `addr` (port 0 asks the OS for a free port), starts serving, runs
    /// `on_application_listen` with the bound address and returns a handle.
    ///
    /// # Errors
    ///
    /// [`Error::Bind`], or a failing `on_application_listen` (the server is then stopped and
    /// the shutdown hooks run).
    pub async fn start(self, addr: impl AsRef<str>) -> Result<ServerHandle, Error> {
        server::start(self, addr.as_ref()).await
    }

    /// Serves on `addr` until SIGINT or SIGTERM, then shuts down gracefully: shutdown hooks,
    /// requests in flight drained (up to the shutdown timeout), last hooks.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start), or [`Error::Shutdown`] when shutdown hooks failed.
    pub async fn listen(self, addr: impl AsRef<str>) -> Result<(), Error> {
        self.start(addr).await?.wait().await
    }

    pub(crate) fn into_parts(self) -> (ApplicationContext, Arc<BoxEndpoint<'static>>, Duration) {
        (self.context, self.endpoint, self.shutdown_timeout)
    }
}
