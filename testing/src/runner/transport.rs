//! The executor's side of the wire, in-process: call requests go to the SDK's own
//! `ServeEndpoint::execute`, which answers with the very status, headers and body bytes an
//! HTTP `POST` gets. Every value a step returns is still JSON-encoded by the SDK and decoded
//! by the runner, as in production; only the socket is left out (the HTTP path is covered by
//! a test of its own in `tests/runner.rs`).

use std::sync::Arc;

use nestling_inngest::{ExecutionReply, FunctionRegistry, InngestService, ServeEndpoint};
use nestling_inngest_protocol::CallRequest;

/// What the endpoint answered to one call request.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) no_retry: Option<bool>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl From<ExecutionReply> for Answer {
    fn from(reply: ExecutionReply) -> Self {
        Self {
            status: reply.status(),
            no_retry: reply.no_retry(),
            retry_after: reply.retry_after().map(str::to_owned),
            body: reply.into_body(),
        }
    }
}

/// The serve endpoint of one app, called in-process.
#[derive(Debug, Clone)]
pub(crate) struct InProcessServe {
    endpoint: ServeEndpoint,
}

impl InProcessServe {
    /// `ServeEndpoint::new(service, registry)`.
    pub(crate) fn new(service: Arc<dyn InngestService>, registry: FunctionRegistry) -> Self {
        Self {
            endpoint: ServeEndpoint::new(service, registry),
        }
    }

    /// The endpoint the runner calls.
    pub(crate) fn endpoint(&self) -> &ServeEndpoint {
        &self.endpoint
    }

    /// Runs one call request for `fn_id`, targeting `step_id` (`"step"` for discovery).
    pub(crate) async fn call(&self, fn_id: &str, step_id: &str, request: CallRequest) -> Answer {
        self.endpoint
            .execute(fn_id, Some(step_id), request)
            .await
            .into()
    }
}
