//! middleware.
