//! Lifecycle hooks, run in NestJS's order.
//!
//! Start-up: `on_module_init` for every module, then `on_application_bootstrap`, then (for an
//! HTTP application, once the server accepts) `on_application_listen`. Modules are visited
//! dependencies first (global modules, then imports before the modules importing them, the
//! root last); inside a module, providers whose dependencies are shallower go first, and
//! providers of the same depth run concurrently. A start-up hook error aborts start-up.
//!
//! Shutdown: `on_module_destroy`, `before_application_shutdown(signal)`, the HTTP server stops
//! and drains, then `on_application_shutdown(signal)`, each in the reverse order. Errors are
//! gathered and logged; the remaining hooks still run.

mod runner;

use std::fmt;
use std::net::SocketAddr;

use futures::future::BoxFuture;

pub(crate) use runner::{run_shutdown_phase, run_startup_phase};

use crate::BoxError;
use crate::discovery::Instance;

/// Why the application is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShutdownSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// A programmatic `close()`.
    Close,
}

impl fmt::Display for ShutdownSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Close => "close",
        })
    }
}

/// Called once every provider of the graph is built and the HTTP routes are mounted.
///
/// Register it with `.on_module_init()` on the provider, or `#[injectable(hooks(on_module_init))]`.
///
/// # Example
///
/// ```
/// use nestling::{async_trait, BoxError, OnModuleInit};
///
/// struct Cache;
///
/// #[async_trait]
/// impl OnModuleInit for Cache {
///     async fn on_module_init(&self) -> Result<(), BoxError> {
///         Ok(()) // warm up
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait OnModuleInit: Send + Sync + 'static {
    /// The hook.
    async fn on_module_init(&self) -> Result<(), BoxError>;
}

/// Called after every module's `on_module_init`.
#[async_trait::async_trait]
pub trait OnApplicationBootstrap: Send + Sync + 'static {
    /// The hook.
    async fn on_application_bootstrap(&self) -> Result<(), BoxError>;
}

/// Called once the HTTP server is bound and accepting, with the address it is bound to (the real
/// port, also when port 0 was asked for). Not called for an application context without HTTP.
#[async_trait::async_trait]
pub trait OnApplicationListen: Send + Sync + 'static {
    /// The hook.
    async fn on_application_listen(&self, addr: SocketAddr) -> Result<(), BoxError>;
}

/// Called first on shutdown.
#[async_trait::async_trait]
pub trait OnModuleDestroy: Send + Sync + 'static {
    /// The hook.
    async fn on_module_destroy(&self) -> Result<(), BoxError>;
}

/// Called on shutdown after `on_module_destroy`, before the HTTP server stops.
#[async_trait::async_trait]
pub trait BeforeApplicationShutdown: Send + Sync + 'static {
    /// The hook.
    async fn before_application_shutdown(&self, signal: ShutdownSignal) -> Result<(), BoxError>;
}

/// Called last on shutdown, once the HTTP server has drained.
#[async_trait::async_trait]
pub trait OnApplicationShutdown: Send + Sync + 'static {
    /// The hook.
    async fn on_application_shutdown(&self, signal: ShutdownSignal) -> Result<(), BoxError>;
}

/// The hooks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    ModuleInit,
    ApplicationBootstrap,
    ApplicationListen,
    ModuleDestroy,
    BeforeApplicationShutdown,
    ApplicationShutdown,
}

impl Hook {
    const ALL: usize = 6;

    fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ModuleInit => "on_module_init",
            Self::ApplicationBootstrap => "on_application_bootstrap",
            Self::ApplicationListen => "on_application_listen",
            Self::ModuleDestroy => "on_module_destroy",
            Self::BeforeApplicationShutdown => "before_application_shutdown",
            Self::ApplicationShutdown => "on_application_shutdown",
        }
    }
}

/// What a hook receives besides its instance.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HookArg {
    None,
    Signal(ShutdownSignal),
    Addr(SocketAddr),
}

impl HookArg {
    pub(crate) fn signal(self) -> ShutdownSignal {
        match self {
            Self::Signal(signal) => signal,
            Self::None | Self::Addr(_) => ShutdownSignal::Close,
        }
    }

    pub(crate) fn addr(self) -> SocketAddr {
        match self {
            Self::Addr(addr) => addr,
            Self::None | Self::Signal(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        }
    }
}

/// Calls one hook on a type-erased instance.
pub(crate) type HookFn = fn(Instance, HookArg) -> BoxFuture<'static, Result<(), BoxError>>;

/// Which hooks a provider implements.
#[derive(Clone, Copy, Default)]
pub(crate) struct HookTable {
    calls: [Option<HookFn>; Hook::ALL],
}

impl HookTable {
    pub(crate) fn set(&mut self, hook: Hook, call: HookFn) {
        self.calls[hook.index()] = Some(call);
    }

    pub(crate) fn get(&self, hook: Hook) -> Option<HookFn> {
        self.calls[hook.index()]
    }
}

impl fmt::Debug for HookTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hooks = [
            Hook::ModuleInit,
            Hook::ApplicationBootstrap,
            Hook::ApplicationListen,
            Hook::ModuleDestroy,
            Hook::BeforeApplicationShutdown,
            Hook::ApplicationShutdown,
        ];
        f.debug_list()
            .entries(
                hooks
                    .iter()
                    .filter(|h| self.get(**h).is_some())
                    .map(|h| h.name()),
            )
            .finish()
    }
}
