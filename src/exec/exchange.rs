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
//! worker thread ever waits on another task's output.

use std::any::Any;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, UInt32Array};
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};
use arrow_select::coalesce::BatchCoalescer;
use rayon::prelude::*;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan, StageBoundary, take_rows};
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::{PhysicalExprRef, PhysicalSortExpr};
use crate::runtime::{Metrics, TaskContext};

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
        let key_arrays = self
            .keys
            .iter()
            .map(|k| k.evaluate(batch)?.into_array(batch.num_rows()))
            .collect::<Result<Vec<_>>>()?;
        let key_arrays = crate::physical_expr::normalize::normalize_keys(key_arrays)?;
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
    output: OnceLock<Vec<Vec<RecordBatch>>>,
    metrics: Arc<Metrics>,
}

impl ExchangeExec {
    /// An exchange of `input` in `mode`.
    pub fn new(input: Arc<dyn ExecutionPlan>, mode: ExchangeMode) -> Self {
        ExchangeExec {
            input,
            mode,
            output: OnceLock::new(),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// The mode.
    pub fn mode(&self) -> &ExchangeMode {
        &self.mode
    }

    /// The input.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    fn output_count(&self) -> usize {
        match &self.mode {
            ExchangeMode::Hash(_, n) | ExchangeMode::RoundRobin(n) => *n,
            ExchangeMode::Coalesce | ExchangeMode::SortMerge(..) => 1,
        }
    }

    fn compute(&self, ctx: &Arc<TaskContext>) -> Result<Vec<Vec<RecordBatch>>> {
        let n_in = self.input.output_partitioning().partition_count();
        let n_out = self.output_count();
        let schema = self.input.schema();
        let batch_size = ctx.batch_size();
        let per_input: Vec<Vec<Vec<RecordBatch>>> = ctx.pool.install(|| {
            (0..n_in)
                .into_par_iter()
                .map(|p| -> Result<Vec<Vec<RecordBatch>>> {
                    let iter = self.input.execute(p, ctx)?;
                    match &self.mode {
                        ExchangeMode::Coalesce | ExchangeMode::SortMerge(..) => {
                            let mut out = vec![];
                            for b in iter {
                                ctx.cancel.check()?;
                                let b = b?;
                                if b.num_rows() > 0 {
                                    out.push(b);
                                }
                            }
                            Ok(vec![out])
                        }
                        ExchangeMode::RoundRobin(n) => {
                            let mut outs: Vec<Vec<RecordBatch>> = vec![vec![]; *n];
                            let mut next = p % n;
                            for b in iter {
                                ctx.cancel.check()?;
                                let b = b?;
                                if b.num_rows() == 0 {
                                    continue;
                                }
                                outs[next].push(b);
                                next = (next + 1) % n;
                            }
                            Ok(outs)
                        }
                        ExchangeMode::Hash(keys, n) => {
                            let mut coalescers: Vec<BatchCoalescer> = (0..*n)
                                .map(|_| BatchCoalescer::new(schema.clone(), batch_size))
                                .collect();
                            let mut outs: Vec<Vec<RecordBatch>> = vec![vec![]; *n];
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
                                        outs[j].push(done);
                                    }
                                }
                            }
                            for (j, c) in coalescers.iter_mut().enumerate() {
                                c.finish_buffered_batch()?;
                                while let Some(done) = c.next_completed_batch() {
                                    outs[j].push(done);
                                }
                            }
                            Ok(outs)
                        }
                    }
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let mut outputs: Vec<Vec<RecordBatch>> = vec![vec![]; n_out];
        if let ExchangeMode::SortMerge(keys, fetch) = &self.mode {
            // each input partition is one sorted run
            let mut runs = vec![];
            for mut parts in per_input {
                let batches = parts.pop().unwrap_or_default();
                if batches.len() == 1 {
                    runs.extend(batches);
                } else if !batches.is_empty() {
                    runs.push(concat_batches(&schema, &batches)?);
                }
            }
            outputs = vec![merge_runs(&schema, runs, keys, *fetch, batch_size)?];
        } else {
            for parts in per_input {
                for (j, batches) in parts.into_iter().enumerate() {
                    outputs[j].extend(batches);
                }
            }
        }
        for out in &outputs {
            for b in out {
                self.metrics.record_batch(b);
            }
        }
        Ok(outputs)
    }
}

/// A k-way merge of sorted runs by row-encoded keys.
pub fn merge_runs(
    schema: &SchemaRef,
    runs: Vec<RecordBatch>,
    keys: &[PhysicalSortExpr],
    fetch: Option<usize>,
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    let runs: Vec<RecordBatch> = runs.into_iter().filter(|r| r.num_rows() > 0).collect();
    if runs.is_empty() {
        return Ok(vec![]);
    }
    if runs.len() == 1 {
        let r = &runs[0];
        let n = fetch.map(|f| f.min(r.num_rows())).unwrap_or(r.num_rows());
        return Ok(vec![r.slice(0, n)]);
    }
    let fields = keys
        .iter()
        .map(|k| {
            Ok(SortField::new_with_options(
                k.expr.data_type().clone(),
                k.options,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let converter = RowConverter::new(fields)?;
    let rows: Vec<Rows> = runs
        .iter()
        .map(|r| {
            let cols = crate::physical_expr::evaluate_sort_keys(keys, r)?
                .into_iter()
                .map(|c| c.values)
                .collect::<Vec<_>>();
            Ok(converter.convert_columns(&cols)?)
        })
        .collect::<Result<Vec<_>>>()?;
    struct Head<'a> {
        rows: &'a Rows,
        run: usize,
        idx: usize,
    }
    impl PartialEq for Head<'_> {
        fn eq(&self, o: &Self) -> bool {
            self.cmp(o) == Ordering::Equal
        }
    }
    impl Eq for Head<'_> {}
    impl PartialOrd for Head<'_> {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Head<'_> {
        fn cmp(&self, o: &Self) -> Ordering {
            // reversed for a min-heap; ties broken by run index for stability
            o.rows
                .row(o.idx)
                .cmp(&self.rows.row(self.idx))
                .then_with(|| o.run.cmp(&self.run))
        }
    }
    let mut heap = BinaryHeap::new();
    for (run, r) in rows.iter().enumerate() {
        heap.push(Head {
            rows: r,
            run,
            idx: 0,
        });
    }
    let limit = fetch.unwrap_or(usize::MAX);
    let refs: Vec<&RecordBatch> = runs.iter().collect();
    let mut out = vec![];
    let mut pending: Vec<(usize, usize)> = Vec::with_capacity(batch_size);
    let mut produced = 0;
    while let Some(mut h) = heap.pop() {
        if produced >= limit {
            break;
        }
        pending.push((h.run, h.idx));
        produced += 1;
        if pending.len() == batch_size {
            out.push(arrow::compute::interleave_record_batch(&refs, &pending)?);
            pending.clear();
        }
        h.idx += 1;
        if h.idx < runs[h.run].num_rows() {
            heap.push(h);
        }
    }
    if !pending.is_empty() {
        out.push(arrow::compute::interleave_record_batch(&refs, &pending)?);
    }
    let _ = schema;
    Ok(out)
}

impl StageBoundary for ExchangeExec {
    fn materialize(&self, ctx: &Arc<TaskContext>) -> Result<()> {
        if self.output.get().is_some() {
            return Ok(());
        }
        let out = self.compute(ctx)?;
        let _ = self.output.set(out);
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
        Ok(Arc::new(ExchangeExec::new(
            children.remove(0),
            self.mode.clone(),
        )))
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::Unspecified]
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        if self.output.get().is_none() {
            // run on demand when used outside the scheduler (e.g. nested evaluation)
            self.materialize(ctx)?;
        }
        let out = self
            .output
            .get()
            .map(|o| o.get(partition).cloned().unwrap_or_default())
            .unwrap_or_default();
        Ok(Box::new(out.into_iter().map(Ok)))
    }
    fn describe(&self) -> String {
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
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
    fn as_stage_boundary(&self) -> Option<&dyn StageBoundary> {
        Some(self)
    }
}
