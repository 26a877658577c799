//! The input a discovered handler is called with, built by the serve endpoint from a call
//! request.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::execution::state::{Execution, ExecutionParams};
use crate::{FunctionError, MiddlewareStack, RunInfo};

/// Sends events to the Event API on behalf of `step.send_event`; returns their ids.
pub(crate) trait EventSender: Send + Sync {
    fn send_events(
        &self,
        events: Vec<Value>,
    ) -> BoxFuture<'static, Result<Vec<String>, FunctionError>>;
}

/// What a run can use besides its request: the Event API and its middleware.
pub(crate) struct RunServices {
    pub(crate) events: Option<Arc<dyn EventSender>>,
    pub(crate) middleware: MiddlewareStack,
    pub(crate) run: RunInfo,
}

/// One call request, ready for a handler: the raw events and the execution state.
///
/// The serve endpoint builds it and passes it, type-erased, to the `MethodEntry::call` shim
/// the function attribute generated; [`invoke_handler`](crate::__private::invoke_handler)
/// takes it back. It cannot be built outside this crate.
pub struct Invocation {
    pub(crate) exec: Arc<Execution>,
    pub(crate) event: Value,
    pub(crate) events: Vec<Value>,
}

impl std::fmt::Debug for Invocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("exec", &self.exec)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// Everything needed to build an [`Invocation`].
pub(crate) struct InvocationParts {
    /// The run's facts, the targeted step and the memoised steps.
    pub(crate) execution: ExecutionParams,
    pub(crate) event: Value,
    pub(crate) events: Vec<Value>,
    pub(crate) events_api: Option<Arc<dyn EventSender>>,
    pub(crate) middleware: MiddlewareStack,
}

impl Invocation {
    pub(crate) fn new(parts: InvocationParts) -> Self {
        let InvocationParts {
            execution,
            event,
            events,
            events_api,
            middleware,
        } = parts;

        let run = RunInfo {
            app_id: execution.app_id.clone(),
            function_id: execution.function_id.clone(),
            run_id: execution.run_id.clone(),
            attempt: execution.attempt,
            max_attempts: execution.max_attempts,
        };
        let services = Arc::new(RunServices {
            events: events_api,
            middleware,
            run,
        });
        let exec = Execution::new(execution, services);

        Self {
            exec,
            event,
            events,
        }
    }
}
