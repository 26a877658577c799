//! Running a function: the handler's context, the step tools, errors and the per-request
//! driver that memoises steps and decides what to answer the executor.

mod context;
mod driver;
mod error;
mod event;
mod invocation;
mod memo;
mod outcome;
mod state;
mod step;

pub use context::{Ctx, RunLogger};
pub use driver::IntoFunctionResult;
pub use error::{FunctionError, NonRetriableError, Retry, RetryAfter, RetryAfterError, StepError};
pub use event::{Event, FunctionFailed, IntoEvents};
pub use invocation::Invocation;
pub use outcome::ExecutionOutcome;
pub use step::{Instant, Invoke, Step, StepOptions, TimeSpan, WaitForEvent};

pub(crate) use driver::run_handler;
pub(crate) use invocation::{EventSender, InvocationParts};
pub(crate) use memo::Memo;
pub(crate) use outcome::internal_error_body;
pub(crate) use state::ExecutionParams;

#[cfg(test)]
mod tests;
