//! [`InngestService`]: what application code resolves from the container to send events and
//! inspect or register the app's functions, and [`DefaultInngestService`], the module's
//! implementation.

mod ext;
mod inngest_service;
mod records;
mod state;

pub use ext::InngestServiceExt;
pub use inngest_service::{DefaultInngestService, FRAMEWORK, InngestService};
pub use records::{EngineStorageReport, SyncOutcome, SyncRecord};
pub use state::{AutoRegistration, ConnectionState, EventTransform, FunctionSource, SkipReason};
