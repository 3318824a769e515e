//! `WindowExec`: computes window functions over input sorted by
//! (PARTITION BY keys, ORDER BY keys), one partition of the input at a time.
//!
//! ```text
//!  sorted rows ─▶ split into window partitions (key changes) ─▶ peer groups (ORDER BY ties)
//!              ─▶ per function: ranks from positions; aggregates over each row's frame
//! ```
//! Aggregates over a whole partition are computed once per partition; other
//! frames feed each row's frame rows into the aggregate's accumulator with the
//! row as its group (cost: the total size of all frames).
//!
//! Memory: rows are buffered only until their window partition is complete (the
//! PARTITION BY key changes), then computed and emitted, so memory is bounded by
//! the largest window partition plus a batch. A window partition larger than the
//! memory limit (or a window without PARTITION BY over more rows than fit) fails
//! with a "resources exhausted" error naming the operator: windows do not spill.

mod frames;
mod spilled;
mod stream;

use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, UInt32Array};
use arrow::compute::{concat_batches, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::exec::window::stream::WindowStream;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::functions::AggregateFunction;
use crate::functions::aggregate::distinct::DistinctAccumulator;
use crate::logical::expr::{FrameBound, FrameUnits, WindowFrame, WindowFunc};
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::{PhysicalExprRef, PhysicalSortExpr};
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{CancellationToken, Metrics, TaskContext};

/// One window function computed by the operator.
#[derive(Debug, Clone)]
pub struct WindowSpec {
    /// The function.
    pub func: WindowFunc,
    /// Arguments.
    pub args: Vec<PhysicalExprRef>,
    /// Argument types.
    pub arg_types: Vec<DataType>,
    /// DISTINCT (aggregates).
    pub distinct: bool,
    /// Result type.
    pub return_type: DataType,
    /// Output column name.
    pub name: String,
    /// The frame.
    pub frame: WindowFrame,
}

/// Window functions sharing one PARTITION BY / ORDER BY.
#[derive(Debug)]
pub struct WindowExec {
    input: Arc<dyn ExecutionPlan>,
    partition_by: Vec<PhysicalExprRef>,
    order_by: Vec<PhysicalSortExpr>,
    functions: Vec<WindowSpec>,
    schema: SchemaRef,
    metrics: Arc<Metrics>,
}

impl WindowExec {
    /// Window functions over `input`, which must be sorted by partition then order keys.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        partition_by: Vec<PhysicalExprRef>,
        order_by: Vec<PhysicalSortExpr>,
        functions: Vec<WindowSpec>,
    ) -> Self {
        let mut fields: Vec<Field> = input
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for f in &functions {
            fields.push(Field::new(&f.name, f.return_type.clone(), true));
        }
        WindowExec {
            input,
            partition_by,
            order_by,
            functions,
            schema: Arc::new(Schema::new(fields)),
            metrics: Arc::new(Metrics::new()),
        }
    }
}

/// What computing the window functions over complete window partitions needs.
struct WindowComputer {
    schema: SchemaRef,
    partition_by: Vec<PhysicalExprRef>,
    order_by: Vec<PhysicalSortExpr>,
    functions: Vec<WindowSpec>,
    cancel: CancellationToken,
}

impl WindowComputer {
    /// The input rows of `batches` (whole window partitions) with the window columns added.
    fn compute_rows(
        &self,
        in_schema: &SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<Option<RecordBatch>> {
        let all = concat_batches(in_schema, batches)?;
        let n = all.num_rows();
        if n == 0 {
            return Ok(None);
        }
        let pkeys = self
            .partition_by
            .iter()
            .map(|e| e.evaluate(&all)?.into_array(n))
            .collect::<Result<Vec<_>>>()?;
        let okeys = self
            .order_by
            .iter()
            .map(|e| e.expr.evaluate(&all)?.into_array(n))
            .collect::<Result<Vec<_>>>()?;
        let parts = ranges_of(&pkeys, n)?;
        let mut peers = vec![];
        for part in &parts {
            let slice: Vec<ArrayRef> = okeys
                .iter()
                .map(|k| k.slice(part.start, part.len()))
                .collect();
            let rel = if slice.is_empty() {
                std::iter::once(0..part.len()).collect()
            } else {
                ranges_of(&slice, part.len())?
            };
            peers.push(
                rel.into_iter()
                    .map(|r| r.start + part.start..r.end + part.start)
                    .collect::<Vec<_>>(),
            );
        }
        let mut cols = all.columns().to_vec();
        for f in &self.functions {
            self.cancel.check()?;
            let c = compute(f, &all, &parts, &peers, &self.cancel)?;
            let c = if c.data_type() != &f.return_type {
                crate::physical_expr::cast::cast_array(&c, &f.return_type, false)?
            } else {
                c
            };
            cols.push(c);
        }
        Ok(Some(RecordBatch::try_new(self.schema.clone(), cols)?))
    }
}

/// Splits `0..n` into ranges of equal key values (the input is sorted by them).
fn ranges_of(keys: &[ArrayRef], n: usize) -> Result<Vec<Range<usize>>> {
    if keys.is_empty() || n == 0 {
        return Ok(if n == 0 {
            vec![]
        } else {
            std::iter::once(0..n).collect()
        });
    }
    Ok(arrow::compute::partition(keys)?.ranges())
}

/// Frame `[start, end)` of row `i` in a partition of `len` rows with peer group `peer`.
fn frame_of(frame: &WindowFrame, i: usize, len: usize, peer: &Range<usize>) -> (usize, usize) {
    let start = match (frame.units, frame.start) {
        (_, FrameBound::UnboundedPreceding) => 0,
        (FrameUnits::Rows, FrameBound::Preceding(k)) => i.saturating_sub(k as usize),
        (FrameUnits::Rows, FrameBound::CurrentRow) => i,
        (FrameUnits::Rows, FrameBound::Following(k)) => (i + k as usize).min(len),
        (_, FrameBound::CurrentRow) => peer.start,
        (_, FrameBound::UnboundedFollowing) => len,
        (_, FrameBound::Preceding(_)) | (_, FrameBound::Following(_)) => peer.start,
    };
    let end = match (frame.units, frame.end) {
        (_, FrameBound::UnboundedFollowing) => len,
        (FrameUnits::Rows, FrameBound::Following(k)) => (i + k as usize + 1).min(len),
        (FrameUnits::Rows, FrameBound::CurrentRow) => i + 1,
        (FrameUnits::Rows, FrameBound::Preceding(k)) => (i + 1).saturating_sub(k as usize),
        (_, FrameBound::CurrentRow) => peer.end,
        (_, FrameBound::UnboundedPreceding) => 0,
        (_, FrameBound::Preceding(_)) | (_, FrameBound::Following(_)) => peer.end,
    };
    (start, end.max(start))
}

/// The `ntile(k)` bucket (from 1) of row `r` of a partition of `len` rows: the first
/// `len % k` buckets get one extra row.
fn ntile_bucket(k: i64, r: usize, len: usize) -> Result<i64> {
    if k <= 0 {
        return Err(Error::execution("ntile() argument must be positive"));
    }
    let (r, len) = (r as i64, len as i64);
    let small = len / k;
    let extra = len % k;
    let bucket = if r < extra * (small + 1) {
        r / (small + 1)
    } else {
        extra + (r - extra * (small + 1)) / small.max(1)
    };
    Ok(bucket + 1)
}

fn int_arg(args: &[ArrayRef], k: usize, row: usize, default: i64) -> Result<i64> {
    match args.get(k) {
        None => Ok(default),
        Some(a) if a.is_null(row) => Ok(default),
        Some(a) => match ScalarValue::try_from_array(a, row)?.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(v)) => Ok(v),
            _ => Ok(default),
        },
    }
}

/// A ranking rule: (row in partition, partition length, peer range, peer group number, partition number) → value.
type RankFn = dyn Fn(usize, usize, &Range<usize>, usize, usize) -> i64;

/// Computes one window function over sorted rows with the given partitions and peer groups.
fn compute(
    spec: &WindowSpec,
    batch: &RecordBatch,
    parts: &[Range<usize>],
    peers: &[Vec<Range<usize>>],
    cancel: &CancellationToken,
) -> Result<ArrayRef> {
    let n = batch.num_rows();
    let args = spec
        .args
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(n))
        .collect::<Result<Vec<_>>>()?;
    let ranking = |f: &RankFn| -> Int64Array {
        let mut out = Vec::with_capacity(n);
        for (p, part) in parts.iter().enumerate() {
            let len = part.len();
            for (g, peer) in peers[p].iter().enumerate() {
                for i in peer.clone() {
                    out.push(f(
                        i - part.start,
                        len,
                        &(peer.start - part.start..peer.end - part.start),
                        g,
                        p,
                    ));
                }
            }
        }
        Int64Array::from(out)
    };
    Ok(match &spec.func {
        WindowFunc::RowNumber => Arc::new(ranking(&|i, _, _, _, _| i as i64 + 1)),
        WindowFunc::Rank => Arc::new(ranking(&|_, _, peer, _, _| peer.start as i64 + 1)),
        WindowFunc::DenseRank => Arc::new(ranking(&|_, _, _, g, _| g as i64 + 1)),
        WindowFunc::PercentRank => {
            let mut out = Vec::with_capacity(n);
            for (p, part) in parts.iter().enumerate() {
                for peer in &peers[p] {
                    for _ in peer.clone() {
                        let len = part.len();
                        out.push(if len <= 1 {
                            0.0
                        } else {
                            (peer.start - part.start) as f64 / (len - 1) as f64
                        });
                    }
                }
            }
            Arc::new(Float64Array::from(out))
        }
        WindowFunc::CumeDist => {
            let mut out = Vec::with_capacity(n);
            for (p, part) in parts.iter().enumerate() {
                for peer in &peers[p] {
                    for _ in peer.clone() {
                        out.push((peer.end - part.start) as f64 / part.len() as f64);
                    }
                }
            }
            Arc::new(Float64Array::from(out))
        }
        WindowFunc::Ntile => {
            let mut out = Vec::with_capacity(n);
            for part in parts {
                let len = part.len();
                for i in part.clone() {
                    let k = int_arg(&args, 0, i, 1)?;
                    out.push(ntile_bucket(k, i - part.start, len)?);
                }
            }
            Arc::new(Int64Array::from(out))
        }
        WindowFunc::Lag | WindowFunc::Lead => {
            let value = args
                .first()
                .ok_or_else(|| Error::plan(format!("{}() needs an argument", spec.func.name())))?;
            let lead = matches!(spec.func, WindowFunc::Lead);
            let mut idx: Vec<Option<u32>> = Vec::with_capacity(n);
            let mut use_default = vec![false; n];
            for part in parts {
                for i in part.clone() {
                    let off = int_arg(&args, 1, i, 1)?;
                    let j = if lead { i as i64 + off } else { i as i64 - off };
                    if j >= part.start as i64 && j < part.end as i64 {
                        idx.push(Some(j as u32));
                    } else {
                        idx.push(None);
                        use_default[i] = args.len() > 2;
                    }
                }
            }
            let taken = take(value.as_ref(), &UInt32Array::from(idx), None)?;
            if use_default.iter().any(|d| *d) {
                let default =
                    crate::physical_expr::cast::cast_array(&args[2], value.data_type(), false)?;
                let mask: arrow::array::BooleanArray = use_default.into_iter().map(Some).collect();
                arrow::compute::kernels::zip::zip(&mask, &default, &taken)?
            } else {
                taken
            }
        }
        WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue => {
            let value = args
                .first()
                .ok_or_else(|| Error::plan(format!("{}() needs an argument", spec.func.name())))?;
            let mut idx: Vec<Option<u32>> = Vec::with_capacity(n);
            for (p, part) in parts.iter().enumerate() {
                for peer in &peers[p] {
                    for i in peer.clone() {
                        let rel_peer = peer.start - part.start..peer.end - part.start;
                        let (s, e) = frame_of(&spec.frame, i - part.start, part.len(), &rel_peer);
                        let pick = match spec.func {
                            WindowFunc::FirstValue => (s < e).then_some(s),
                            WindowFunc::LastValue => (s < e).then(|| e - 1),
                            _ => {
                                let k = int_arg(&args, 1, i, 1)?;
                                if k < 1 {
                                    return Err(Error::execution(
                                        "nth_value() position must be at least 1",
                                    ));
                                }
                                let j = s + k as usize - 1;
                                (j < e).then_some(j)
                            }
                        };
                        idx.push(pick.map(|j| (j + part.start) as u32));
                    }
                }
            }
            take(value.as_ref(), &UInt32Array::from(idx), None)?
        }
        WindowFunc::Aggregate(f) => {
            aggregate_over_frames(spec, f.as_ref(), &args, parts, peers, n, cancel)?
        }
    })
}

/// A fresh accumulator of the aggregate `f` of window function `spec`.
fn make_accumulator(
    spec: &WindowSpec,
    f: &dyn AggregateFunction,
) -> Result<Box<dyn crate::functions::GroupsAccumulator>> {
    let inner = f.create_accumulator(&spec.arg_types, &spec.return_type)?;
    Ok(if spec.distinct {
        Box::new(DistinctAccumulator::new(inner, spec.arg_types.clone()))
    } else {
        inner
    })
}

fn aggregate_over_frames(
    spec: &WindowSpec,
    f: &dyn AggregateFunction,
    args: &[ArrayRef],
    parts: &[Range<usize>],
    peers: &[Vec<Range<usize>>],
    n: usize,
    cancel: &CancellationToken,
) -> Result<ArrayRef> {
    let make = || make_accumulator(spec, f);
    let whole = matches!(spec.frame.start, FrameBound::UnboundedPreceding)
        && matches!(spec.frame.end, FrameBound::UnboundedFollowing);
    if whole {
        // one value per partition, repeated for its rows
        let mut acc = make()?;
        let mut groups = vec![0u32; n];
        for (p, part) in parts.iter().enumerate() {
            for g in &mut groups[part.clone()] {
                *g = p as u32;
            }
        }
        acc.update_batch(args, &groups, parts.len().max(1))?;
        let per_part = acc.evaluate()?;
        return Ok(take(per_part.as_ref(), &UInt32Array::from(groups), None)?);
    }
    // each row's frame as a range of rows (frames never cross their window partition)
    let mut frames = Vec::with_capacity(n);
    for (p, part) in parts.iter().enumerate() {
        for peer in &peers[p] {
            for i in peer.clone() {
                let rel_peer = peer.start - part.start..peer.end - part.start;
                let (s, e) = frame_of(&spec.frame, i - part.start, part.len(), &rel_peer);
                frames.push(part.start + s..part.start + e);
            }
        }
    }
    frames::aggregate_frames(&make, args, n, &frames, None, cancel)
}

impl ExecutionPlan for WindowExec {
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        let keys = self.partition_by.iter();
        let order = self.order_by.iter().map(|k| &k.expr);
        let args = self.functions.iter().flat_map(|f| f.args.iter());
        keys.chain(order).chain(args).collect()
    }
    fn name(&self) -> &'static str {
        "WindowExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        match self.input.output_partitioning() {
            p @ Partitioning::Hash(..) => p,
            other => Partitioning::Unknown(other.partition_count()),
        }
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        if self.partition_by.is_empty() {
            vec![Distribution::SinglePartition]
        } else {
            vec![Distribution::HashPartitioned(self.partition_by.clone())]
        }
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(WindowExec::new(
            children.remove(0),
            self.partition_by.clone(),
            self.order_by.clone(),
            self.functions.clone(),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let input = self.input.execute(partition, ctx)?;
        let computer = Arc::new(WindowComputer {
            schema: self.schema.clone(),
            partition_by: self.partition_by.clone(),
            order_by: self.order_by.clone(),
            functions: self.functions.clone(),
            cancel: ctx.cancel.clone(),
        });
        let consumer = format!("WindowExec[{partition}]");
        let reservation = ctx
            .memory
            .reserve_spillable(consumer.clone())
            .with_metrics(&self.metrics);
        let key_types: Vec<SortField> = self
            .partition_by
            .iter()
            .map(|e| SortField::new(e.data_type().clone()))
            .collect();
        let converter = if key_types.is_empty() {
            None
        } else {
            Some(RowConverter::new(key_types)?)
        };
        let stream = WindowStream::new(
            input,
            self.input.schema(),
            computer,
            converter,
            consumer,
            reservation,
            ctx.clone(),
            self.metrics.clone(),
        );
        Ok(Box::new(MeteredIter::new(stream, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let f = self
            .functions
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let p = self
            .partition_by
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let o = self
            .order_by
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        format!("[{f}] partition_by=[{p}] order_by=[{o}]")
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
