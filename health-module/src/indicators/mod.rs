//! The indicators this crate ships.

mod engine;
mod inngest;
mod memory;

pub use engine::EngineStorageIndicator;
pub use inngest::{
    ExecutionLog, ExecutionOutcome, HealthMiddleware, InngestHealthIndicator, LastExecution,
};
pub use memory::{DEFAULT_MEMORY_LIMIT_BYTES, MemoryIndicator};
