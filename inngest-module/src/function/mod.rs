//! function.
