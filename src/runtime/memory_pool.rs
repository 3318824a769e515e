//! Memory accounting: operators reserve memory from a session-wide pool
//! before holding data. Operators that can spill (sort, aggregate, join build,
//! exchange buffers) ask with [`MemoryReservation::grow_if_fits`] and write
//! data to disk when refused; the others use [`MemoryReservation::try_grow`]
//! and fail with a "resources exhausted" error naming the operator, the sizes
//! and the setting to raise.
//!
//! Fairness: a spilling operator is refused once it would hold more than its
//! share, `limit / max(spilling operators holding memory, tasks of the running
//! stages)`. Without this, the tasks of a stage that ask first keep the pool
//! and the last one spills one batch at a time. An operator that cannot spill
//! is never refused its task's share (`limit / tasks`), even while spilling
//! operators of other tasks fill the pool: it takes the memory and they spill
//! at their next request, so the pool may pass the limit by up to that share.
//!
//! Stored tables (`cache()`, `CREATE TABLE .. AS`, `CACHE TABLE`, see
//! [`crate::catalog::stored`]) hold memory between queries under *storage* reservations
//! ([`MemoryPool::reserve_storage`]). Like Spark's storage fraction, all storage reservations
//! together may take at most [`STORAGE_FRACTION`] of the limit, so queries always keep the other
//! half; a stored table writes what does not fit to disk at once. And like Spark's unified
//! memory, an operator that cannot spill and is refused first has stored tables move their
//! memory to disk (see [`MemoryPool::set_storage_reclaimer`]), then asks again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::runtime::Metrics;

/// The share of the memory limit that stored tables may take together (the rest stays for
/// queries).
pub const STORAGE_FRACTION: f64 = 0.5;

/// `limit` value standing for "no limit".
const NO_LIMIT: usize = usize::MAX;

/// Moves stored tables' memory to disk to free at least the given bytes (as far as it can);
/// returns the bytes freed.
pub type StorageReclaimer = dyn Fn(usize) -> usize + Send + Sync;

/// A pool of memory shared by all operators of a session.
pub struct MemoryPool {
    /// Frees stored tables' memory for operators that cannot spill (set by the session).
    reclaimer: std::sync::RwLock<Option<Arc<StorageReclaimer>>>,
    /// The limit in bytes, [`NO_LIMIT`] for none (changed in place by `SET memory_limit`, so
    /// stored tables' reservations stay counted).
    limit: AtomicUsize,
    used: AtomicUsize,
    /// Bytes held by storage reservations (stored tables).
    storage_used: AtomicUsize,
    peak: AtomicUsize,
    /// Spillable reservations holding memory now.
    active_spillable: AtomicUsize,
    /// Tasks of the stages running now (see [`MemoryPool::tasks_started`]).
    running_tasks: AtomicUsize,
}

impl MemoryPool {
    /// A pool with an optional limit in bytes.
    pub fn new(limit: Option<usize>) -> Arc<Self> {
        Arc::new(MemoryPool {
            reclaimer: std::sync::RwLock::new(None),
            limit: AtomicUsize::new(limit.unwrap_or(NO_LIMIT)),
            used: AtomicUsize::new(0),
            storage_used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            active_spillable: AtomicUsize::new(0),
            running_tasks: AtomicUsize::new(0),
        })
    }

    /// Counts `n` tasks that run at once (a stage's tasks, up to the worker threads) until
    /// the guard is dropped: spilling operators share the pool with the other tasks of their
    /// stage from the start, not just with those that asked first.
    pub fn tasks_started(self: &Arc<Self>, n: usize) -> TaskGuard {
        self.running_tasks.fetch_add(n, Ordering::SeqCst);
        TaskGuard {
            pool: self.clone(),
            n,
        }
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Largest number of bytes reserved at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Starts counting the peak from what is in use now (for one query's `EXPLAIN ANALYZE`).
    pub fn reset_peak(&self) {
        self.peak.store(self.used(), Ordering::Relaxed);
    }

    /// The limit, if any.
    pub fn limit(&self) -> Option<usize> {
        match self.limit.load(Ordering::Relaxed) {
            NO_LIMIT => None,
            l => Some(l),
        }
    }

    /// Changes the limit (`SET memory_limit`). Memory already held stays held (stored tables
    /// are not moved to disk); later requests see the new limit.
    pub fn set_limit(&self, limit: Option<usize>) {
        self.limit
            .store(limit.unwrap_or(NO_LIMIT), Ordering::SeqCst);
    }

    /// Sets what frees stored tables' memory when an operator that cannot spill is refused:
    /// like Spark's unified memory, queries may take memory back from cached data.
    pub fn set_storage_reclaimer(&self, reclaimer: Arc<StorageReclaimer>) {
        *self.reclaimer.write().unwrap_or_else(|e| e.into_inner()) = Some(reclaimer);
    }

    /// Asks stored tables to free `bytes` (moving data to disk); returns the bytes freed.
    fn reclaim_storage(&self, bytes: usize) -> usize {
        if self.storage_used() == 0 {
            return 0;
        }
        let reclaimer = self
            .reclaimer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        reclaimer.map_or(0, |r| r(bytes))
    }

    /// Adds `bytes` to the stored tables' bytes when that keeps them within
    /// [`storage_limit`](Self::storage_limit); `false` (nothing added) otherwise.
    fn claim_storage(&self, bytes: usize) -> bool {
        let max = self.storage_limit().unwrap_or(usize::MAX);
        let mut cur = self.storage_used.load(Ordering::SeqCst);
        loop {
            if cur.saturating_add(bytes) > max {
                return false;
            }
            match self.storage_used.compare_exchange(
                cur,
                cur + bytes,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Bytes held by stored tables now.
    pub fn storage_used(&self) -> usize {
        self.storage_used.load(Ordering::Relaxed)
    }

    /// The most stored tables may hold together (`None` without a limit).
    pub fn storage_limit(&self) -> Option<usize> {
        self.limit().map(|l| (l as f64 * STORAGE_FRACTION) as usize)
    }

    /// Bytes that may still be reserved before the limit (`usize::MAX` without a limit).
    pub fn available(&self) -> usize {
        match self.limit() {
            Some(limit) => limit.saturating_sub(self.used()),
            None => usize::MAX,
        }
    }

    /// Reserves `bytes` if that keeps the pool within its limit; `Err(in use)` otherwise.
    fn grow_within_limit(&self, bytes: usize) -> std::result::Result<(), usize> {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let new = cur + bytes;
            if let Some(limit) = self.limit()
                && new > limit
            {
                return Err(cur);
            }
            match self
                .used
                .compare_exchange_weak(cur, new, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(new, Ordering::Relaxed);
                    return Ok(());
                }
                Err(actual) => cur = actual,
            }
        }
    }

    fn try_grow(&self, consumer: &str, bytes: usize) -> Result<()> {
        self.grow_within_limit(bytes).map_err(|in_use| {
            Error::resources_exhausted(format!(
                "{consumer} needs {} more but the memory limit is {} and {} are in use; \
                 raise it with SET memory_limit = '...' (flint --memory-limit)",
                human_bytes(bytes),
                human_bytes(self.limit().unwrap_or(usize::MAX)),
                human_bytes(in_use)
            ))
        })
    }

    fn grow(&self, bytes: usize) {
        let new = self.used.fetch_add(bytes, Ordering::SeqCst) + bytes;
        self.peak.fetch_max(new, Ordering::Relaxed);
    }

    fn shrink(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::SeqCst);
    }

    /// A new reservation of zero bytes for `consumer` (an operator name).
    pub fn reserve(self: &Arc<Self>, consumer: impl Into<String>) -> MemoryReservation {
        MemoryReservation {
            pool: self.clone(),
            consumer: consumer.into(),
            size: 0,
            spillable: false,
            storage: false,
            metrics: None,
        }
    }

    /// A new reservation for a stored table's data: [`MemoryReservation::grow_if_fits`] also
    /// keeps all storage reservations together within [`storage_limit`](Self::storage_limit).
    pub fn reserve_storage(self: &Arc<Self>, consumer: impl Into<String>) -> MemoryReservation {
        MemoryReservation {
            pool: self.clone(),
            consumer: consumer.into(),
            size: 0,
            spillable: false,
            storage: true,
            metrics: None,
        }
    }

    /// A new reservation for an operator that spills when refused: besides the limit, it is
    /// held to a fair share of the pool (see the module docs).
    pub fn reserve_spillable(self: &Arc<Self>, consumer: impl Into<String>) -> MemoryReservation {
        MemoryReservation {
            pool: self.clone(),
            consumer: consumer.into(),
            size: 0,
            spillable: true,
            storage: false,
            metrics: None,
        }
    }
}

impl std::fmt::Debug for MemoryPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryPool")
            .field("limit", &self.limit())
            .field("used", &self.used())
            .field("storage_used", &self.storage_used())
            .finish()
    }
}

/// Running tasks, counted by their pool until dropped.
#[derive(Debug)]
pub struct TaskGuard {
    pool: Arc<MemoryPool>,
    n: usize,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.pool.running_tasks.fetch_sub(self.n, Ordering::SeqCst);
    }
}

/// Memory held by one operator; released when dropped.
#[derive(Debug)]
pub struct MemoryReservation {
    pool: Arc<MemoryPool>,
    consumer: String,
    size: usize,
    spillable: bool,
    /// Holds a stored table's data (counted in the pool's storage share).
    storage: bool,
    /// The operator's metrics, which add up the memory of its reservations (and keep the peak).
    metrics: Option<Arc<Metrics>>,
}

impl MemoryReservation {
    /// Counts this reservation's memory in the operator's `metrics` too (its peak shows in
    /// `EXPLAIN ANALYZE`).
    pub fn with_metrics(mut self, metrics: &Arc<Metrics>) -> Self {
        if let Some(old) = &self.metrics {
            old.memory_shrank(self.size);
        }
        metrics.memory_grew(self.size);
        self.metrics = Some(metrics.clone());
        self
    }

    /// Records a size change (keeping the count of spillable reservations that hold memory).
    fn set_size(&mut self, new: usize) {
        self.set_size_counted(new, false);
    }

    /// [`set_size`](Self::set_size), where `storage_counted` says a growth of a storage
    /// reservation was already added to the pool's storage bytes (claimed atomically).
    fn set_size_counted(&mut self, new: usize, storage_counted: bool) {
        if let Some(m) = &self.metrics {
            if new > self.size {
                m.memory_grew(new - self.size);
            } else {
                m.memory_shrank(self.size - new);
            }
        }
        if self.spillable {
            match (self.size > 0, new > 0) {
                (false, true) => {
                    self.pool.active_spillable.fetch_add(1, Ordering::SeqCst);
                }
                (true, false) => {
                    self.pool.active_spillable.fetch_sub(1, Ordering::SeqCst);
                }
                _ => {}
            }
        }
        if self.storage && !(storage_counted && new > self.size) {
            if new > self.size {
                self.pool
                    .storage_used
                    .fetch_add(new - self.size, Ordering::SeqCst);
            } else {
                self.pool
                    .storage_used
                    .fetch_sub(self.size - new, Ordering::SeqCst);
            }
        }
        self.size = new;
    }

    /// Takes over the memory of `other` (same pool), which ends up empty: for data that moves
    /// from one holder to another without being copied.
    pub fn absorb(&mut self, mut other: MemoryReservation) {
        let bytes = other.size;
        other.set_size(0);
        self.set_size(self.size + bytes);
    }

    /// Whether growing by `bytes` keeps a spillable reservation within its fair share.
    fn within_share(&self, bytes: usize) -> bool {
        let Some(limit) = self.pool.limit() else {
            return true;
        };
        if !self.spillable {
            return true;
        }
        let active = self.pool.active_spillable.load(Ordering::Relaxed);
        let holders = if self.size == 0 { active + 1 } else { active };
        let sharers = holders
            .max(self.pool.running_tasks.load(Ordering::Relaxed))
            .max(1);
        self.size + bytes <= limit / sharers
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.size
    }
    /// The operator this reservation belongs to.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }
    /// Grows by `bytes` or fails when the pool's limit would be exceeded (for operators that
    /// cannot spill; the error names the operator and the setting to raise).
    pub fn try_grow(&mut self, bytes: usize) -> Result<()> {
        let mut first = self.pool.try_grow(&self.consumer, bytes);
        if first.is_err() && !self.storage && self.pool.reclaim_storage(bytes) > 0 {
            // stored tables moved memory to disk: try again
            first = self.pool.try_grow(&self.consumer, bytes);
        }
        if let Err(e) = first {
            let tasks = self.pool.running_tasks.load(Ordering::Relaxed).max(1);
            let share = self.pool.limit().unwrap_or(usize::MAX) / tasks;
            if self.size + bytes > share {
                return Err(e);
            }
            // within its task's share: spilling operators make room at their next request
            self.pool.grow(bytes);
        }
        self.set_size(self.size + bytes);
        Ok(())
    }
    /// Grows by `bytes` when that keeps the pool within its limit; `false` (nothing reserved)
    /// tells a spilling operator to write data to disk first.
    pub fn grow_if_fits(&mut self, bytes: usize) -> bool {
        if !self.within_share(bytes) {
            return false;
        }
        // stored tables writing at once must not pass their share together: claim the bytes
        // in one atomic step before taking them from the pool
        if self.storage && !self.pool.claim_storage(bytes) {
            return false;
        }
        if self.pool.grow_within_limit(bytes).is_err() {
            if self.storage {
                self.pool.storage_used.fetch_sub(bytes, Ordering::SeqCst);
            }
            return false;
        }
        self.set_size_counted(self.size + bytes, true);
        true
    }
    /// Sets the held size to `bytes` when growing fits (shrinking always does); `false` when
    /// refused, leaving the size unchanged.
    pub fn resize_if_fits(&mut self, bytes: usize) -> bool {
        if bytes > self.size {
            self.grow_if_fits(bytes - self.size)
        } else {
            self.shrink(self.size - bytes);
            true
        }
    }
    /// Grows by `bytes` even past the limit: for the little working memory a spilling
    /// operator needs to make progress at all (one batch per input of a merge, say).
    pub fn grow(&mut self, bytes: usize) {
        self.pool.grow(bytes);
        self.set_size(self.size + bytes);
    }
    /// Sets the held size to `bytes`, growing past the limit if needed (see [`grow`](Self::grow)).
    pub fn resize(&mut self, bytes: usize) {
        if bytes > self.size {
            self.grow(bytes - self.size)
        } else {
            self.shrink(self.size - bytes)
        }
    }
    /// Moves `bytes` (at most the held size) into a new reservation of the same consumer, so
    /// the memory can be released with the data it stands for.
    /// The new reservation is not spillable: it stands for data waiting to be read, not for an
    /// operator asking for more.
    pub fn split(&mut self, bytes: usize) -> MemoryReservation {
        let b = bytes.min(self.size);
        self.set_size(self.size - b);
        if let Some(m) = &self.metrics {
            // the memory stays the operator's: count it back
            m.memory_grew(b);
        }
        if self.storage {
            // the memory stays stored data
            self.pool.storage_used.fetch_add(b, Ordering::SeqCst);
        }
        MemoryReservation {
            pool: self.pool.clone(),
            consumer: self.consumer.clone(),
            size: b,
            spillable: false,
            storage: self.storage,
            metrics: self.metrics.clone(),
        }
    }
    /// Sets the held size to `bytes`, growing or shrinking.
    pub fn try_resize(&mut self, bytes: usize) -> Result<()> {
        if bytes > self.size {
            self.try_grow(bytes - self.size)
        } else {
            self.shrink(self.size - bytes);
            Ok(())
        }
    }
    /// Releases `bytes`.
    pub fn shrink(&mut self, bytes: usize) {
        let b = bytes.min(self.size);
        self.pool.shrink(b);
        self.set_size(self.size - b);
    }
    /// Releases everything.
    pub fn free(&mut self) {
        self.shrink(self.size);
    }
}

impl Drop for MemoryReservation {
    fn drop(&mut self) {
        self.free();
    }
}

/// Memory a batch holds, counting only the rows of sliced arrays (a batch cut into slices
/// must not count the shared buffers once per slice).
pub fn batch_memory_size(batch: &arrow::record_batch::RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|c| array_memory_size(c.as_ref()))
        .sum()
}

/// Memory an array holds, counting only its rows when it is a slice.
pub fn array_memory_size(array: &dyn arrow::array::Array) -> usize {
    array
        .to_data()
        .get_slice_memory_size()
        .unwrap_or_else(|_| array.get_array_memory_size())
}

/// Formats a byte count as `12.3 MB`.
pub fn human_bytes(b: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryPool;

    #[test]
    fn limit_is_enforced_and_released() {
        let pool = MemoryPool::new(Some(100));
        let mut r = pool.reserve("test");
        r.try_grow(60).unwrap();
        let err = r.try_grow(50).unwrap_err();
        assert!(err.to_string().contains("test needs"));
        assert!(err.to_string().contains("SET memory_limit"));
        drop(r);
        assert_eq!(pool.used(), 0);
        assert_eq!(pool.peak(), 60);
    }

    #[test]
    fn spilling_operators_get_fair_shares() {
        let pool = MemoryPool::new(Some(100));
        let mut a = pool.reserve_spillable("a");
        let mut b = pool.reserve_spillable("b");
        assert!(a.grow_if_fits(60));
        // b would be the second holder: its share is 50
        assert!(!b.grow_if_fits(45));
        assert!(b.grow_if_fits(40));
        // now a is over its share and may not grow, though the pool has room
        assert!(!a.grow_if_fits(1));
        b.free();
        assert!(a.grow_if_fits(30));
        assert_eq!(pool.used(), 90);
        // plain reservations only see the limit
        let mut c = pool.reserve("c");
        assert!(c.grow_if_fits(10));
        assert!(!c.grow_if_fits(1));
    }

    #[test]
    fn operators_that_cannot_spill_get_their_task_share() {
        let pool = MemoryPool::new(Some(100));
        let _tasks = pool.tasks_started(2);
        let mut spilling = pool.reserve_spillable("sort");
        let mut other = pool.reserve_spillable("sort 2");
        assert!(spilling.grow_if_fits(50));
        assert!(other.grow_if_fits(50));
        let mut window = pool.reserve("window");
        // the pool is full, but 40 is within the window's task share of 50
        window.try_grow(40).unwrap();
        assert_eq!(pool.used(), 140);
        assert!(window.try_grow(20).is_err());
        // the spilling operators are refused until the pool is back under the limit
        assert!(!spilling.grow_if_fits(1));
    }

    #[test]
    fn stored_tables_take_at_most_their_fraction() {
        let pool = MemoryPool::new(Some(100));
        let mut t1 = pool.reserve_storage("t1");
        let mut t2 = pool.reserve_storage("t2");
        assert!(t1.grow_if_fits(30));
        // the two tables together may hold 50
        assert!(!t2.grow_if_fits(30));
        assert!(t2.grow_if_fits(20));
        assert_eq!(pool.storage_used(), 50);
        // queries still get the rest
        let mut q = pool.reserve_spillable("sort");
        assert!(q.grow_if_fits(50));
        let mut moved = pool.reserve_storage("t2");
        moved.absorb(t2);
        assert_eq!((pool.storage_used(), pool.used()), (50, 100));
        pool.set_limit(Some(200));
        assert!(t1.grow_if_fits(50));
        drop((t1, moved));
        assert_eq!((pool.storage_used(), pool.used()), (0, 50));
    }

    #[test]
    fn running_tasks_share_the_pool_from_the_start() {
        let pool = MemoryPool::new(Some(100));
        let tasks = pool.tasks_started(4);
        let mut a = pool.reserve_spillable("a");
        assert!(a.grow_if_fits(25));
        assert!(!a.grow_if_fits(1));
        drop(tasks);
        assert!(a.grow_if_fits(70));
    }

    #[test]
    fn stored_tables_writing_at_once_stay_within_their_share() {
        // storage may take half of 100 KB; 8 writers race for 1 KB at a time
        let pool = MemoryPool::new(Some(100 * 1024));
        let held: Vec<(usize, super::MemoryReservation)> = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..8)
                .map(|i| {
                    let pool = pool.clone();
                    scope.spawn(move || {
                        let mut r = pool.reserve_storage(format!("table {i}"));
                        let mut got = 0;
                        for _ in 0..100 {
                            if r.grow_if_fits(1024) {
                                got += 1024;
                            }
                        }
                        (got, r)
                    })
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let granted: usize = held.iter().map(|(got, _)| got).sum();
        assert_eq!(granted, 50 * 1024);
        assert_eq!(pool.storage_used(), 50 * 1024);
        drop(held);
        assert_eq!(pool.storage_used(), 0);
    }

    #[test]
    fn spilling_operators_are_refused_without_an_error() {
        let pool = MemoryPool::new(Some(100));
        let mut a = pool.reserve("a");
        assert!(a.grow_if_fits(70));
        assert!(!a.grow_if_fits(40));
        assert_eq!(a.size(), 70);
        assert!(a.resize_if_fits(90));
        assert!(!a.resize_if_fits(101));
        assert!(a.resize_if_fits(10));
        assert_eq!(pool.used(), 10);
        // forced growth is accounted (and shows in the peak) but never refused
        a.grow(200);
        assert_eq!(pool.used(), 210);
        assert_eq!(pool.peak(), 210);
        let part = a.split(150);
        assert_eq!((a.size(), part.size()), (60, 150));
        drop(part);
        assert_eq!(pool.used(), 60);
        assert_eq!(pool.available(), 40);
    }
}
