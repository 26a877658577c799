//! The SDK's own serve endpoint, served on loopback, and the executor's side of the wire.
//!
//! The public API of `nestling-inngest` has no way to run a function from a call request
//! in-process (its `Invocation` can only be built inside the crate), so the runner does what
//! the executor does: it serves the SDK's `ServeEndpoint` over real HTTP on `127.0.0.1:0` and
//! POSTs call requests to it. Every byte a function's steps return goes through the same
//! JSON encoding as in production.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nestling_inngest::{FunctionRegistry, InngestService, ServeEndpoint};
use nestling_inngest_protocol::CallRequest;
use poem::listener::TcpAcceptor;
use tokio::sync::oneshot;

use crate::TestingError;

/// Where the loopback server mounts the endpoint.
const SERVE_PATH: &str = "/api/inngest";

/// What the endpoint answered to one call request.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) no_retry: Option<bool>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// The serve endpoint of one app on a loopback port; stopped when dropped.
pub(crate) struct LoopbackServe {
    url: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for LoopbackServe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackServe")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl LoopbackServe {
    /// Binds `127.0.0.1:0` and serves `ServeEndpoint::new(service, registry)` there.
    pub(crate) async fn start(
        service: Arc<dyn InngestService>,
        registry: FunctionRegistry,
    ) -> Result<Self, TestingError> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| TestingError::Io { what, source }
        };
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(io("binding the loopback serve endpoint"))?;
        let addr = listener
            .local_addr()
            .map_err(io("reading the loopback address"))?;
        let acceptor =
            TcpAcceptor::from_tokio(listener).map_err(io("accepting on the loopback port"))?;

        let route = poem::Route::new().at(SERVE_PATH, ServeEndpoint::new(service, registry));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let signal = async {
                let _ = stopped.await;
            };
            let served = poem::Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(route, signal, Some(Duration::from_secs(1)))
                .await;
            if let Err(error) = served {
                tracing::warn!(target: "nestling_testing::runner", %error, "loopback serve endpoint stopped");
            }
        });

        Ok(Self {
            url: format!("http://{addr}{SERVE_PATH}"),
            client: reqwest::Client::new(),
            stop: Some(stop),
        })
    }

    /// The endpoint's URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// POSTs one call request for `fn_id`, targeting `step_id` (`"step"` for discovery).
    pub(crate) async fn call(
        &self,
        fn_id: &str,
        step_id: &str,
        request: &CallRequest,
    ) -> Result<Answer, TestingError> {
        let http = |source| TestingError::Http {
            url: self.url.clone(),
            source,
        };
        let response = self
            .client
            .post(&self.url)
            .query(&[("fnId", fn_id), ("stepId", step_id)])
            .json(request)
            .send()
            .await
            .map_err(http)?;

        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let no_retry = header("x-inngest-no-retry").map(|v| v.eq_ignore_ascii_case("true"));
        let retry_after = header("retry-after");
        let body = response.bytes().await.map_err(http)?.to_vec();

        Ok(Answer {
            status,
            no_retry,
            retry_after,
            body,
        })
    }
}

impl Drop for LoopbackServe {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
