//! The crate's error type.

/// Everything that can go wrong in `nestling-inngest`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- execution, serve, function and module errors (owned by the execution/serve side) ---

    // --- options, client and service errors (owned by the options/client side) ---
}
