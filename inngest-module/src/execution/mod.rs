//! execution.
