//! `TaskContext`: what a running operator may use: settings, the thread pool,
//! memory pool, spill files, cancellation flag and CPU share of its query.

use std::sync::Arc;

use crate::config::SessionConfig;
use crate::runtime::fair::{FairScheduler, QueryShare, worker_threads};
use crate::runtime::spill::SpillManager;
use crate::runtime::{CancellationToken, MemoryPool};

/// Shared by all tasks of one query.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// Session settings at the time the query started.
    pub config: Arc<SessionConfig>,
    /// The pool tasks run on.
    pub pool: Arc<rayon::ThreadPool>,
    /// Memory accounting.
    pub memory: Arc<MemoryPool>,
    /// Spill files of this query (directory, quota, counts).
    pub spill: Arc<SpillManager>,
    /// Cancellation flag of this query.
    pub cancel: CancellationToken,
    /// This query's share of the session's compute permits (tasks run through it).
    pub query: Arc<QueryShare>,
}

impl TaskContext {
    /// A context with its own pool (used by tests and one-off runs).
    pub fn new(config: SessionConfig) -> Arc<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(worker_threads(config.target_partitions))
            .thread_name(|i| format!("flint-worker-{i}"))
            .build()
            .expect("building a thread pool");
        let memory = MemoryPool::new(config.memory_limit);
        let config_partitions = config.target_partitions;
        let cancel = CancellationToken::new();
        let spill = SpillManager::new(config.spill_dir.clone(), config.max_spill_size);
        Arc::new(TaskContext {
            config: Arc::new(config),
            pool: Arc::new(pool),
            memory,
            spill,
            query: FairScheduler::new(config_partitions).register(cancel.clone()),
            cancel,
        })
    }

    /// Target rows per batch.
    pub fn batch_size(&self) -> usize {
        self.config.batch_size
    }
}
