//! `ExchangeExec`: the stage boundary. It redistributes its input's rows into
//! new partitions (hash, round-robin, or all into one), optionally merging
//! sorted inputs into one sorted output.
//!
//! ```text
//!   stage N (tasks per input partition)        stage N+1
//!   ┌──────────┐  hash(keys) % n   ┌──────────┐
//!   │ input p0 │ ───────┬────────▶ │ output 0 │
//!   │ input p1 │ ───────┴────────▶ │ output 1 │
//!   └──────────┘  (shuffle write)  └──────────┘
//! ```
//! Like Spark's shuffle, the whole input is computed and buffered before any
//! output partition is read (the scheduler calls `materialize` first), so no
//! worker thread ever waits on another task's output. The buffers are reserved
//! memory; when refused, a task writes its buffers to spill files
//! (`shuffle.rs`), and the reader streams them back. After all tasks, the
//! exchange keeps at most half of the memory limit in use for the next stage
//! (spilling its largest in-memory buffers). Each output partition is read
//! once: its memory is released as it is read. The build side's exchange of a partitioned join
//! may also publish its rows' join keys as a runtime filter for the scans under the probe
//! side's exchange (`key_publisher.rs`).

pub mod key_publisher;
pub mod shuffle;

use std::any::Any;
use std::sync::{Arc, Mutex, OnceLock};

use arrow::array::{ArrayRef, UInt32Array};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_select::coalesce::BatchCoalescer;

use crate::error::{Error, Result};
use crate::exec::sort::merge::merge_sorted;
use crate::exec::{BatchIter, ExecutionPlan, StageBoundary, take_rows};
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::normalize::evaluate_keys;
use crate::physical_expr::{PhysicalExprRef, PhysicalSortExpr};
use crate::runtime::scheduler::run_tasks;
use crate::runtime::{Metrics, TaskContext};
use key_publisher::KeyPublisher;
use shuffle::{Segment, ShuffleWriter};

/// The seed-fixed hash all of flint partitions rows by (so hash-partitioned tables and exchanges agree).
pub fn partition_hashes(keys: &[ArrayRef], hashes: &mut Vec<u64>) -> Result<()> {
    let n = keys.first().map(|k| k.len()).unwrap_or(0);
    hashes.clear();
    hashes.resize(n, 0);
    let state = datafusion_common::hash_utils::RandomState::with_seed(0x5eed_f11e);
    datafusion_common::hash_utils::create_hashes(keys.iter(), &state, hashes)?;
    Ok(())
}

/// Splits batches into `n` partitions by `hash(keys) % n` — the placement every hash exchange
/// and every hash-partitioned table uses, so they co-partition.
#[derive(Debug)]
pub struct HashSplitter {
    keys: Vec<PhysicalExprRef>,
    n: usize,
    hashes: Vec<u64>,
    part_rows: Vec<Vec<u32>>,
}

impl HashSplitter {
    /// A splitter by `keys` into `n` partitions.
    pub fn new(keys: Vec<PhysicalExprRef>, n: usize) -> Self {
        let n = n.max(1);
        HashSplitter {
            keys,
            n,
            hashes: vec![],
            part_rows: vec![vec![]; n],
        }
    }

    /// The rows of `batch` for each partition that gets any, as `(partition, rows)`.
    pub fn split(&mut self, batch: &RecordBatch) -> Result<Vec<(usize, RecordBatch)>> {
        let key_arrays = evaluate_keys(&self.keys, batch)?;
        partition_hashes(&key_arrays, &mut self.hashes)?;
        for r in self.part_rows.iter_mut() {
            r.clear();
        }
        for (i, h) in self.hashes.iter().enumerate() {
            self.part_rows[(*h % self.n as u64) as usize].push(i as u32);
        }
        let mut out = vec![];
        for (j, rows) in self.part_rows.iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let piece = if rows.len() == batch.num_rows() {
                batch.clone()
            } else {
                take_rows(batch, &UInt32Array::from(rows.clone()))?
            };
            out.push((j, piece));
        }
        Ok(out)
    }
}

/// How an exchange distributes rows.
#[derive(Debug, Clone)]
pub enum ExchangeMode {
    /// Into `n` partitions by hash of the keys.
    Hash(Vec<PhysicalExprRef>, usize),
    /// Into `n` partitions, batch by batch in turn.
    RoundRobin(usize),
    /// Everything into one partition, input partitions in order.
    Coalesce,
    /// Everything into one partition, merging inputs that are each sorted by the keys.
    SortMerge(Vec<PhysicalSortExpr>, Option<usize>),
}

/// Redistributes rows between stages.
#[derive(Debug)]
pub struct ExchangeExec {
    input: Arc<dyn ExecutionPlan>,
    mode: ExchangeMode,
    /// Per output partition: one segment per input partition, taken when read.
    output: OnceLock<Vec<Mutex<Option<Vec<Segment>>>>>,
    /// Publishes the join keys of the rows, once complete, to the scans of another stage
    /// (runtime filters across a shuffle, see `key_publisher`).
    publisher: Option<Arc<KeyPublisher>>,
    metrics: Arc<Metrics>,
}

impl ExchangeExec {
    /// An exchange of `input` in `mode`.
    pub fn new(input: Arc<dyn ExecutionPlan>, mode: ExchangeMode) -> Self {
        ExchangeExec {
            input,
            mode,
            output: OnceLock::new(),
            publisher: None,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// This exchange, publishing the values of its rows' join keys through `publisher` once
    /// complete.
    pub fn with_key_publisher(&self, publisher: KeyPublisher) -> Self {
        let mut x = ExchangeExec::new(self.input.clone(), self.mode.clone());
        x.publisher = Some(Arc::new(publisher));
        x
    }

    /// The mode.
    pub fn mode(&self) -> &ExchangeMode {
        &self.mode
    }

    /// The input.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// The mode, for EXPLAIN.
    fn describe_mode(&self) -> String {
        match &self.mode {
            ExchangeMode::Hash(k, n) => format!(
                "Hash([{}], {n})",
                k.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ExchangeMode::RoundRobin(n) => format!("RoundRobin({n})"),
            ExchangeMode::Coalesce => "Coalesce".to_string(),
            ExchangeMode::SortMerge(keys, fetch) => {
                let k = keys
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                match fetch {
                    Some(f) => format!("SortMerge([{k}], fetch={f})"),
                    None => format!("SortMerge([{k}])"),
                }
            }
        }
    }

    fn output_count(&self) -> usize {
        match &self.mode {
            ExchangeMode::Hash(_, n) | ExchangeMode::RoundRobin(n) => *n,
            ExchangeMode::Coalesce | ExchangeMode::SortMerge(..) => 1,
        }
    }

    /// Runs every input partition as a task, each buffering (or spilling) its rows per output
    /// partition; returns, per output partition, the segments of all tasks in input order.
    fn compute(&self, ctx: &Arc<TaskContext>) -> Result<Vec<Vec<Segment>>> {
        let n_in = self.input.output_partitioning().partition_count();
        let n_out = self.output_count();
        let schema = self.input.schema();
        let batch_size = ctx.batch_size();
        let per_input: Vec<Vec<Segment>> = run_tasks(ctx, n_in, |p| -> Result<Vec<Segment>> {
            let mut iter = self.input.execute(p, ctx)?;
            if let Some(publisher) = self.publisher.clone() {
                iter = Box::new(iter.inspect(move |b| {
                    if let Ok(b) = b {
                        publisher.observe(b)
                    }
                }));
            }
            let mut out = ShuffleWriter::new(
                schema.clone(),
                n_out,
                ctx,
                self.metrics.clone(),
                format!("ExchangeExec[{p}] buffer"),
            );
            match &self.mode {
                ExchangeMode::Coalesce | ExchangeMode::SortMerge(..) => {
                    for b in iter {
                        ctx.cancel.check()?;
                        out.push(0, b?)?;
                    }
                }
                ExchangeMode::RoundRobin(n) => {
                    let mut next = p % n;
                    for b in iter {
                        ctx.cancel.check()?;
                        let b = b?;
                        if b.num_rows() == 0 {
                            continue;
                        }
                        out.push(next, b)?;
                        next = (next + 1) % n;
                    }
                }
                ExchangeMode::Hash(keys, n) => {
                    let mut coalescers: Vec<BatchCoalescer> = (0..*n)
                        .map(|_| BatchCoalescer::new(schema.clone(), batch_size))
                        .collect();
                    let mut splitter = HashSplitter::new(keys.clone(), *n);
                    for b in iter {
                        ctx.cancel.check()?;
                        let b = b?;
                        if b.num_rows() == 0 {
                            continue;
                        }
                        for (j, piece) in splitter.split(&b)? {
                            coalescers[j].push_batch(piece)?;
                            while let Some(done) = coalescers[j].next_completed_batch() {
                                out.push(j, done)?;
                            }
                        }
                    }
                    for (j, c) in coalescers.iter_mut().enumerate() {
                        c.finish_buffered_batch()?;
                        while let Some(done) = c.next_completed_batch() {
                            out.push(j, done)?;
                        }
                    }
                }
            }
            out.finish()
        })?;
        let mut outputs: Vec<Vec<Segment>> = (0..n_out).map(|_| vec![]).collect();
        for parts in per_input {
            for (j, segment) in parts.into_iter().enumerate() {
                outputs[j].push(segment);
            }
        }
        self.leave_room(&mut outputs, ctx)?;
        Ok(outputs)
    }

    /// Spills the largest in-memory buffers until at most half of the memory limit is in use,
    /// so the next stage (which reads these partitions a few at a time) has room to work.
    fn leave_room(&self, outputs: &mut [Vec<Segment>], ctx: &Arc<TaskContext>) -> Result<()> {
        let Some(limit) = ctx.memory.limit() else {
            return Ok(());
        };
        let target = limit / 2;
        if ctx.memory.used() <= target {
            return Ok(());
        }
        let mut by_size: Vec<(usize, usize, usize)> = vec![];
        for (j, segments) in outputs.iter().enumerate() {
            for (i, s) in segments.iter().enumerate() {
                if s.memory() > 0 {
                    by_size.push((s.memory(), j, i));
                }
            }
        }
        by_size.sort_unstable_by(|a, b| b.cmp(a));
        let schema = self.input.schema();
        for (_, j, i) in by_size {
            if ctx.memory.used() <= target {
                break;
            }
            ctx.cancel.check()?;
            outputs[j][i].spill(ctx, &schema, &self.metrics)?;
        }
        Ok(())
    }
}

impl StageBoundary for ExchangeExec {
    fn materialize(&self, ctx: &Arc<TaskContext>) -> Result<()> {
        if self.output.get().is_some() {
            return Ok(());
        }
        let out = self.compute(ctx)?;
        let _ = self
            .output
            .set(out.into_iter().map(|s| Mutex::new(Some(s))).collect());
        if let Some(p) = &self.publisher {
            p.publish();
        }
        Ok(())
    }
    fn is_materialized(&self) -> bool {
        self.output.get().is_some()
    }
}

impl ExecutionPlan for ExchangeExec {
    fn name(&self) -> &'static str {
        "ExchangeExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
    fn output_partitioning(&self) -> Partitioning {
        match &self.mode {
            ExchangeMode::Hash(k, n) => Partitioning::Hash(k.clone(), *n),
            ExchangeMode::RoundRobin(n) => Partitioning::Unknown(*n),
            ExchangeMode::Coalesce | ExchangeMode::SortMerge(..) => Partitioning::Unknown(1),
        }
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut x = ExchangeExec::new(children.remove(0), self.mode.clone());
        x.publisher = self.publisher.as_ref().map(|p| Arc::new(p.fresh()));
        Ok(Arc::new(x))
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::Unspecified]
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        if self.output.get().is_none() {
            // run on demand when used outside the scheduler (e.g. nested evaluation)
            self.materialize(ctx)?;
        }
        let segments = self
            .output
            .get()
            .and_then(|o| o.get(partition))
            .ok_or_else(|| {
                Error::internal(format!("exchange has no output partition {partition}"))
            })?
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| {
                Error::internal(format!(
                    "exchange output partition {partition} was already read (each is read once)"
                ))
            })?;
        let streams = segments
            .into_iter()
            .map(|s| s.into_stream())
            .collect::<Result<Vec<_>>>()?;
        match &self.mode {
            ExchangeMode::SortMerge(keys, fetch) => merge_sorted(
                self.schema(),
                keys,
                streams,
                *fetch,
                ctx.batch_size(),
                Some(
                    ctx.memory
                        .reserve("ExchangeExec SortMerge")
                        .with_metrics(&self.metrics),
                ),
            ),
            _ => Ok(Box::new(streams.into_iter().flatten())),
        }
    }
    fn describe(&self) -> String {
        let mode = self.describe_mode();
        match &self.publisher {
            Some(p) => format!("{mode}, publishes {}", p.describe()),
            None => mode,
        }
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
    fn as_stage_boundary(&self) -> Option<&dyn StageBoundary> {
        Some(self)
    }
}
