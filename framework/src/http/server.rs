//! Serving: bind, accept, wait for a signal, shut down in NestJS's order.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use poem::Server;
use poem::listener::TcpAcceptor;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::NestlingApplication;
use crate::{ApplicationContext, Error, ShutdownSignal};

/// Asks a running server to shut down, from anywhere (a test, an admin endpoint, a task).
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    sender: Arc<watch::Sender<Option<ShutdownSignal>>>,
}

impl ShutdownHandle {
    /// Asks for a graceful shutdown; [`ServerHandle::wait`] then runs it.
    pub fn shutdown(&self) {
        self.sender.send_replace(Some(ShutdownSignal::Close));
    }
}

/// A running HTTP application.
pub struct ServerHandle {
    context: ApplicationContext,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    requested: watch::Receiver<Option<ShutdownSignal>>,
    trigger: ShutdownHandle,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

pub(super) async fn start(app: NestlingApplication, addr: &str) -> Result<ServerHandle, Error> {
    let (context, endpoint, timeout) = app.into_parts();
    let bind_error = |source| Error::Bind {
        addr: addr.to_owned(),
        source,
    };

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let acceptor = TcpAcceptor::from_tokio(listener).map_err(bind_error)?;

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let signal = async move {
            let _ = stopped.await;
        };
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(endpoint, signal, Some(timeout))
            .await
    });
    tracing::info!(addr = %local_addr, "Nestling application listening");

    let (sender, requested) = watch::channel(None);
    let mut handle = ServerHandle {
        context,
        local_addr,
        stop: Some(stop),
        server: Some(server),
        requested,
        trigger: ShutdownHandle {
            sender: Arc::new(sender),
        },
    };
    if let Err(err) = handle.context.listened(local_addr).await {
        if let Err(shutdown) = handle.shutdown(ShutdownSignal::Close).await {
            tracing::error!(error = %shutdown, "shutdown after a failed start-up also failed");
        }
        return Err(err);
    }

    Ok(handle)
}

impl ServerHandle {
    /// The address the server is bound to (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://` and the bound address, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The application context: resolution and lifecycle.
    pub fn context(&self) -> &ApplicationContext {
        &self.context
    }

    /// A handle that asks this server to shut down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.trigger.clone()
    }

    /// Waits for SIGINT, SIGTERM or a [`ShutdownHandle::shutdown`], then shuts down
    /// gracefully.
    ///
    /// # Errors
    ///
    /// [`Error::Shutdown`] when shutdown hooks failed (all of them still ran), or
    /// [`Error::Serve`] when the server had failed.
    pub async fn wait(mut self) -> Result<(), Error> {
        let signal = tokio::select! {
            signal = os_signal() => signal,
            signal = wait_requested(self.requested.clone()) => signal,
        };

        self.shutdown(signal).await
    }

    /// Shuts down now: `on_module_destroy`, `before_application_shutdown`, the server stops
    /// accepting and drains requests in flight (up to the shutdown timeout), then
    /// `on_application_shutdown`.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    pub async fn close(mut self) -> Result<(), Error> {
        self.shutdown(ShutdownSignal::Close).await
    }

    async fn shutdown(&mut self, signal: ShutdownSignal) -> Result<(), Error> {
        let stop = self.stop.take();
        let server = self.server.take();
        let local_addr = self.local_addr;
        let mut served = Ok(());
        let drain = async {
            if let Some(stop) = stop {
                let _ = stop.send(());
            }
            if let Some(server) = server {
                served = match server.await {
                    Ok(result) => result,
                    Err(join) => Err(std::io::Error::other(join.to_string())),
                };
            }
            tracing::info!(addr = %local_addr, "HTTP server stopped");
        };
        self.context.shutdown(signal, drain).await?;

        served.map_err(|source| Error::Serve {
            addr: local_addr,
            source,
        })
    }
}

async fn wait_requested(mut requested: watch::Receiver<Option<ShutdownSignal>>) -> ShutdownSignal {
    loop {
        if let Some(signal) = *requested.borrow_and_update() {
            return signal;
        }
        if requested.changed().await.is_err() {
            // The sender lives in this handle, so this only happens while it is dropped.
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(unix)]
async fn os_signal() -> ShutdownSignal {
    use tokio::signal::unix::{SignalKind, signal};

    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return ShutdownSignal::Interrupt;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => ShutdownSignal::Interrupt,
        _ = terminate.recv() => ShutdownSignal::Terminate,
    }
}

#[cfg(not(unix))]
async fn os_signal() -> ShutdownSignal {
    let _ = tokio::signal::ctrl_c().await;
    ShutdownSignal::Interrupt
}
