//! Private API for generated code.

pub use nestling::__private::*;
