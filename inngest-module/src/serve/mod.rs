//! The serve transport: the HTTP endpoint Inngest calls to introspect, sync and run the app's
//! functions.

mod call;
mod endpoint;
mod reply;

pub use endpoint::ServeEndpoint;
pub use nestling_inngest_protocol::{CallContext, CallRequest};
pub use reply::ExecutionReply;
