//! Running physical plans: stages and tasks on a rayon pool (`scheduler`),
//! the per-query context (`task_context`), memory accounting (`memory_pool`),
//! spill files (`spill`), operator metrics (`metrics`), cancellation (`cancel`), fair sharing
//! of the cores between queries (`fair`), streaming
//! results (`stream`), the tokio runtime for I/O (`io_runtime`) and the process allocator's
//! handling of freed memory (`allocator`).

pub mod allocator;
pub mod cancel;
pub mod fair;
pub mod io_runtime;
pub mod memory_pool;
pub mod metrics;
pub mod scheduler;
pub mod spill;
pub mod stream;
pub mod system_memory;
pub mod task_context;

pub use cancel::CancellationToken;
pub use memory_pool::{MemoryPool, MemoryReservation, TaskGuard};
pub use metrics::Metrics;
pub use task_context::TaskContext;
