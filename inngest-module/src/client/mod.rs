//! The HTTP client of the Inngest API and event API ([`InngestClient`]) and its retry
//! policy ([`RetryPolicy`]).
//!
//! Most code sends events through [`InngestService`](crate::InngestService); the client is the
//! layer below it, also used by the serve endpoint (registration, `use_api` loading).

mod api;
mod retry;
mod seed;

pub use api::{CheckpointOutcome, InngestClient, SDK_HEADER, SDK_REGISTER_ID};
pub use retry::RetryPolicy;
