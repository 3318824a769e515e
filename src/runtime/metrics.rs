//! Per-operator metrics for `EXPLAIN ANALYZE`: rows, batches, time, peak reserved memory, and
//! named counters (spill files, spilled rows and bytes, scan statistics...).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use arrow::record_batch::RecordBatch;

use crate::error::Result;

/// Counters of one operator, summed over its partitions.
#[derive(Debug, Default)]
pub struct Metrics {
    output_rows: AtomicUsize,
    output_batches: AtomicUsize,
    elapsed_ns: AtomicU64,
    /// Bytes the operator's memory reservations hold now, over all its partitions.
    memory: AtomicUsize,
    /// The most they held at once.
    peak_memory: AtomicUsize,
    extra: Mutex<Vec<(&'static str, usize)>>,
}

impl Metrics {
    /// New zeroed metrics.
    pub fn new() -> Self {
        Self::default()
    }
    /// Rows produced.
    pub fn output_rows(&self) -> usize {
        self.output_rows.load(Ordering::Relaxed)
    }
    /// Batches produced.
    pub fn output_batches(&self) -> usize {
        self.output_batches.load(Ordering::Relaxed)
    }
    /// Time spent producing output, including time spent in inputs pulled inline.
    pub fn elapsed_ns(&self) -> u64 {
        self.elapsed_ns.load(Ordering::Relaxed)
    }
    /// Records one output batch.
    pub fn record_batch(&self, batch: &RecordBatch) {
        self.output_rows
            .fetch_add(batch.num_rows(), Ordering::Relaxed);
        self.output_batches.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds elapsed time.
    pub fn add_elapsed(&self, ns: u64) {
        self.elapsed_ns.fetch_add(ns, Ordering::Relaxed);
    }
    /// Records that the operator's reservations grew by `bytes` (keeping the peak).
    pub fn memory_grew(&self, bytes: usize) {
        let now = self.memory.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak_memory.fetch_max(now, Ordering::Relaxed);
    }
    /// Records that the operator's reservations shrank by `bytes`.
    pub fn memory_shrank(&self, bytes: usize) {
        self.memory.fetch_sub(bytes, Ordering::Relaxed);
    }
    /// The most memory the operator's reservations held at once (all partitions together).
    pub fn peak_memory(&self) -> usize {
        self.peak_memory.load(Ordering::Relaxed)
    }
    /// Adds to a named counter (e.g. `row_groups_pruned`).
    pub fn add(&self, name: &'static str, value: usize) {
        let mut extra = self.extra.lock().unwrap_or_else(|e| e.into_inner());
        match extra.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v += value,
            None => extra.push((name, value)),
        }
    }
    /// Named counters.
    pub fn extra(&self) -> Vec<(&'static str, usize)> {
        self.extra.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Wraps an operator's output iterator to count rows, batches and time; each `next` is also a
/// [`checkpoint`](crate::runtime::fair::checkpoint) of the task (cancellation, fair sharing).
pub struct MeteredIter<I> {
    inner: I,
    metrics: std::sync::Arc<Metrics>,
}

impl<I> MeteredIter<I> {
    /// Meters `inner` into `metrics`.
    pub fn new(inner: I, metrics: std::sync::Arc<Metrics>) -> Self {
        MeteredIter { inner, metrics }
    }
}

impl<I: Iterator<Item = Result<RecordBatch>>> Iterator for MeteredIter<I> {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Self::Item> {
        // between two batches: where a task stops when cancelled and lets a query that had less
        // CPU time go first
        if let Err(e) = crate::runtime::fair::checkpoint() {
            return Some(Err(e));
        }
        let start = Instant::now();
        let item = self.inner.next();
        self.metrics.add_elapsed(start.elapsed().as_nanos() as u64);
        if let Some(Ok(b)) = &item {
            self.metrics.record_batch(b);
        }
        item
    }
}
