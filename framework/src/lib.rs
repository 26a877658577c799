//! NestJS-style module container, lifecycle, discovery, config and HTTP application for Rust.

pub mod discovery;

/// Private API used by the code that macros generate. Not covered by semver.
#[doc(hidden)]
pub mod __private {
    pub use crate::discovery::{Erased, Instance, METHOD_ENTRIES, MethodCall, MethodEntry};
    pub use futures;
    pub use linkme;
}
