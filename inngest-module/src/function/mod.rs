//! Declared functions: the spec each attribute generates and the registry discovery fills.

mod registry;
mod spec;

pub use registry::{FunctionRegistry, MiddlewarePool, RegisteredFunction};
pub use spec::FunctionSpec;
