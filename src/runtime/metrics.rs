//! Per-operator metrics for `EXPLAIN ANALYZE`: rows, batches, time, and named counters.

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

/// Wraps an operator's output iterator to count rows, batches and time.
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
        let start = Instant::now();
        let item = self.inner.next();
        self.metrics.add_elapsed(start.elapsed().as_nanos() as u64);
        if let Some(Ok(b)) = &item {
            self.metrics.record_batch(b);
        }
        item
    }
}
