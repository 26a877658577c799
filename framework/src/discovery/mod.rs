//! Discovery: which built providers carry annotated methods.

mod entry;

pub use entry::{Erased, Instance, METHOD_ENTRIES, MethodCall, MethodEntry};
