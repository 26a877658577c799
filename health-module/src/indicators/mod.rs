//! The indicators this crate ships.

mod inngest;
mod memory;

pub use inngest::{ExecutionLog, HealthMiddleware, InngestHealthIndicator, LastExecution};
pub use memory::{DEFAULT_MEMORY_LIMIT_BYTES, MemoryIndicator};
