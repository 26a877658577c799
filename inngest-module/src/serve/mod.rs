//! The serve transport: the HTTP endpoint Inngest calls to introspect, sync and run the app's
//! functions.

mod endpoint;
mod reply;

pub use endpoint::ServeEndpoint;
