//! What the process allocator (mimalloc, the global allocator of the `flint` binary and the
//! benchmarks) does with freed memory.
//!
//! By default mimalloc gives freed pages back to the OS after a short delay, and the next batch
//! allocated faults them in again, each zeroed by the kernel: a query engine that allocates and
//! frees batches all the time paid about a tenth of its CPU time for that (TPC-H SF1 in one
//! process: 211,000 page faults and 40.0 s of CPU time, against 1,700 faults and 32.2 s when
//! freed pages are kept for reuse). So without an explicit memory limit freed memory is kept;
//! under one (`flint --memory-limit`, or a later `SET memory_limit = '...'` in any session) it
//! goes back at once, so that the resident size follows the memory pool.
//!
//! Setting these options is harmless in a program whose global allocator is not mimalloc.

/// `mi_option_purge_delay` in mimalloc's option enum (libmimalloc-sys 0.1.49 has no constant
/// for it: it sits between `mi_option_eager_commit_delay` = 14 and `mi_option_use_numa_nodes`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets the policy for a process that runs with (`true`) or without an explicit memory limit:
/// return freed pages to the OS at once, or keep them for reuse. Call it before the first query.
pub fn set_freed_memory_policy(explicit_memory_limit: bool) {
    let delay_ms = if explicit_memory_limit { 0 } else { -1 };
    // SAFETY: sets a plain integer option; mimalloc reads options atomically
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, delay_ms) };
}
