//! Window partitions larger than memory: `WindowExec` writes the rows of a window partition that
//! does not fit to a spill file, then [`SpilledWindow`] computes the window functions over it a
//! chunk of output rows at a time, holding only the rows the chunk's frames reach.
//!
//! ```text
//!  spill file (the partition's n rows, sorted) ─▶ pass 1 (only if needed): whole-partition
//!                                                  aggregates, the last row
//!  pass 2: rows [start, end) in memory ── chunk [a, b) ─▶ peers, frames, offsets (global rows)
//!            ▲ read ahead to the furthest row needed     ─▶ release rows before the nearest
//!            └ rows released fold into running (prefix) aggregate states ─▶ output batch
//! ```
//! What each function keeps:
//! - ranking functions: positions, the peer group (its start carried over from earlier chunks,
//!   its end read ahead) and `n`;
//! - `lag`/`lead`: the rows at their offsets (which must not reach back before rows already
//!   released, so offsets that vary from row to row may fail);
//! - `first_value`/`last_value`/`nth_value`: the picked rows, plus the partition's first batch
//!   and last row for frames starting or ending unbounded;
//! - aggregates: over the whole partition, one value from pass 1; over frames starting
//!   `UNBOUNDED PRECEDING`, the state of the released rows merged with the frame's rows in
//!   memory; over frames ending `UNBOUNDED FOLLOWING`, the frame's rows up to the end of their
//!   spill batch, then a segment tree of per-batch states from pass 1; over other bounded
//!   frames, the frames' rows.
//!
//! A frame (a peer group, an offset) wider than the memory limit fails with a "resources
//! exhausted" error that says so.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, UInt32Array, new_empty_array};
use arrow::compute::{concat, concat_batches, take};
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::window::frames::{StateTree, aggregate_frames};
use crate::exec::window::{
    WindowComputer, WindowSpec, frame_of, int_arg, make_accumulator, ranges_of,
};
use crate::functions::GroupsAccumulator;
use crate::logical::expr::{FrameBound, FrameUnits, WindowFrame, WindowFunc};
use crate::runtime::memory_pool::{batch_memory_size, human_bytes};
use crate::runtime::spill::{SpillFile, SpillReader};
use crate::runtime::{CancellationToken, MemoryReservation};

/// How one window function is computed over a spilled partition.
enum Plan {
    /// Ranking functions and `lag`/`lead`: positions, peer groups and rows at an offset.
    Rows,
    /// `first_value`/`last_value`/`nth_value`: the row each frame picks.
    Value,
    /// An aggregate over the whole partition: its value, from pass 1.
    Whole(ArrayRef),
    /// An aggregate over frames starting at the partition's first row: the accumulator of the
    /// rows already released.
    Prefix(Box<dyn GroupsAccumulator>),
    /// An aggregate over frames within the rows in memory.
    Frames,
    /// An aggregate over frames ending `UNBOUNDED FOLLOWING` (and starting later than the first
    /// row): the frame's rows up to the end of their spill batch from memory, the batches after
    /// that from a tree of per-batch states built in pass 1.
    Suffix(Option<Suffix>),
}

/// Per-batch states of a spilled partition, for frames that run to its end.
struct Suffix {
    blocks: StateTree,
    /// The first row of each batch, then `n`.
    starts: Vec<usize>,
}

impl Suffix {
    /// The batch holding row `row` (< n).
    fn block_of(&self, row: usize) -> usize {
        self.starts.partition_point(|s| *s <= row) - 1
    }
}

/// Peer group facts of one output row, in partition positions.
struct Peer {
    range: Range<usize>,
    group: usize,
}

/// Computes the window functions over one window partition read from a spill file.
pub(super) struct SpilledWindow {
    computer: Arc<WindowComputer>,
    consumer: String,
    n: usize,
    reader: SpillReader,
    /// Rows `[start, end)` of the partition, in memory.
    rows: RecordBatch,
    start: usize,
    end: usize,
    /// The first output row not yet emitted.
    next: usize,
    chunk_rows: usize,
    frames: Vec<WindowFrame>,
    plans: Vec<Plan>,
    /// The partition's first batch (rows `0..first.num_rows()`), when a frame starting
    /// `UNBOUNDED PRECEDING` picks a row.
    first: Option<RecordBatch>,
    /// The partition's last row, when a frame ending `UNBOUNDED FOLLOWING` picks a row.
    last: Option<RecordBatch>,
    /// The peer group start and group number of row `start`.
    start_peer: (usize, usize),
    needs_peer_end: bool,
    reservation: MemoryReservation,
    cancel: CancellationToken,
}

impl SpilledWindow {
    /// Prepares the evaluation of a partition of `file.rows()` rows; fails at once when some
    /// function cannot be computed from disk.
    pub(super) fn try_new(
        computer: Arc<WindowComputer>,
        consumer: String,
        file: Arc<SpillFile>,
        reservation: MemoryReservation,
        chunk_rows: usize,
        cancel: CancellationToken,
    ) -> Result<Self> {
        let n = file.rows();
        let has_order = !computer.order_by.is_empty();
        let frames: Vec<WindowFrame> = computer
            .functions
            .iter()
            .map(|f| effective_frame(&f.frame, has_order))
            .collect();
        let mut plans = vec![];
        for (spec, frame) in computer.functions.iter().zip(&frames) {
            plans.push(plan_for(spec, frame)?);
        }
        let value_frames = || {
            computer
                .functions
                .iter()
                .zip(&frames)
                .filter(|(s, _)| value_function(&s.func))
        };
        let wants_first = value_frames().any(|(_, f)| f.start == FrameBound::UnboundedPreceding);
        let wants_last = value_frames().any(|(_, f)| f.end == FrameBound::UnboundedFollowing);
        let needs_peer_end = has_order
            && computer.functions.iter().zip(&frames).any(|(s, f)| {
                matches!(s.func, WindowFunc::CumeDist)
                    || (f.units != FrameUnits::Rows
                        && !matches!(
                            f.end,
                            FrameBound::UnboundedFollowing | FrameBound::UnboundedPreceding
                        ))
            });
        let mut window = SpilledWindow {
            rows: RecordBatch::new_empty(file.schema().clone()),
            reader: file.read()?,
            computer,
            consumer,
            n,
            start: 0,
            end: 0,
            next: 0,
            chunk_rows: chunk_rows.max(1),
            frames,
            plans,
            first: None,
            last: None,
            start_peer: (0, 0),
            needs_peer_end,
            reservation,
            cancel,
        };
        window.first_pass(&file, wants_last)?;
        if wants_first && window.load()? {
            window.first = Some(window.rows.clone());
        }
        Ok(window)
    }

    /// Pass 1, when needed: aggregates over the whole partition and its last row.
    fn first_pass(&mut self, file: &Arc<SpillFile>, wants_last: bool) -> Result<()> {
        // (function, accumulator, per batch or over all rows)
        let mut accs: Vec<(usize, Box<dyn GroupsAccumulator>, bool)> = vec![];
        for (i, spec) in self.computer.functions.iter().enumerate() {
            if let WindowFunc::Aggregate(f) = &spec.func {
                match &self.plans[i] {
                    Plan::Whole(_) => accs.push((i, make_accumulator(spec, f.as_ref())?, false)),
                    Plan::Suffix(_) => accs.push((i, make_accumulator(spec, f.as_ref())?, true)),
                    _ => {}
                }
            }
        }
        if accs.is_empty() && !wants_last {
            return Ok(());
        }
        let mut last = None;
        let mut starts = vec![0];
        for (block, batch) in file.read()?.enumerate() {
            self.cancel.check()?;
            let batch = batch?;
            let rows = batch.num_rows();
            for (i, acc, per_block) in &mut accs {
                let args = evaluate_args(&self.computer.functions[*i], &batch)?;
                if *per_block {
                    acc.update_batch(&args, &vec![block as u32; rows], block + 1)?;
                } else {
                    acc.update_batch(&args, &vec![0; rows], 1)?;
                }
            }
            starts.push(starts[block] + rows);
            if rows > 0 {
                last = Some(batch.slice(rows - 1, 1));
            }
        }
        let blocks = starts.len() - 1;
        for (i, mut acc, per_block) in accs {
            self.plans[i] = if per_block {
                let spec = &self.computer.functions[i];
                let WindowFunc::Aggregate(f) = &spec.func else {
                    continue;
                };
                // register every block, also when the last ones held no rows
                let empty: Vec<ArrayRef> = spec.arg_types.iter().map(new_empty_array).collect();
                acc.update_batch(&empty, &[], blocks)?;
                let make = || make_accumulator(spec, f.as_ref());
                Plan::Suffix(Some(Suffix {
                    blocks: StateTree::over_states(&make, acc.state()?, blocks)?,
                    starts: starts.clone(),
                }))
            } else {
                Plan::Whole(acc.evaluate()?)
            };
        }
        if wants_last {
            self.last = last;
            let pinned = self.last.as_ref().map_or(0, batch_memory_size);
            self.reservation.try_grow(pinned)?;
        }
        Ok(())
    }

    /// Reads the next batch of the partition into memory; `false` at its end.
    fn load(&mut self) -> Result<bool> {
        let Some(batch) = self.reader.next().transpose()? else {
            return Ok(false);
        };
        self.end += batch.num_rows();
        self.rows = concat_batches(&self.rows.schema(), [&self.rows, &batch])?;
        let pinned = self.first.as_ref().map_or(0, batch_memory_size)
            + self.last.as_ref().map_or(0, batch_memory_size);
        let needed = batch_memory_size(&self.rows) + pinned;
        self.reservation.try_resize(needed).map_err(|e| {
            Error::resources_exhausted(format!(
                "{}: the window frames of a {}-row window partition (spilled to disk) need \
                 rows {}..{} in memory at once ({}): {}",
                self.consumer,
                self.n,
                self.start,
                self.end,
                human_bytes(needed),
                e.message()
            ))
        })?;
        Ok(true)
    }

    /// Reads until row `row - 1` is in memory (or the partition ends).
    fn load_until(&mut self, row: usize) -> Result<()> {
        while self.end < row.min(self.n) {
            if !self.load()? {
                return Err(Error::internal(format!(
                    "{}: spill file ended at row {} of {}",
                    self.consumer, self.end, self.n
                )));
            }
        }
        Ok(())
    }

    /// Peer groups of rows `a..b` (in memory), reading ahead to their ends where needed; also
    /// the local peer ranges of the rows in memory.
    fn peers(&mut self, a: usize, b: usize) -> Result<(Vec<Peer>, Vec<Range<usize>>)> {
        if self.computer.order_by.is_empty() {
            let all = (a..b)
                .map(|_| Peer {
                    range: 0..self.n,
                    group: 0,
                })
                .collect();
            return Ok((all, std::iter::once(0..self.end - self.start).collect()));
        }
        loop {
            let len = self.end - self.start;
            let keys = self
                .computer
                .order_by
                .iter()
                .map(|e| e.expr.evaluate(&self.rows)?.into_array(len))
                .collect::<Result<Vec<_>>>()?;
            let ranges = ranges_of(&keys, len)?;
            let last = ranges.last().map_or(0, |r| r.start);
            let open = self.end < self.n && last + self.start < b;
            if open && self.needs_peer_end {
                // the peer group of the chunk's last row may go on past the rows in memory
                self.load()?;
                continue;
            }
            let mut out = Vec::with_capacity(b - a);
            for (g, r) in ranges.iter().enumerate() {
                let (lo, hi) = (r.start + self.start, r.end + self.start);
                if hi <= a || lo >= b {
                    continue;
                }
                let start = if g == 0 { self.start_peer.0 } else { lo };
                let group = self.start_peer.1 + g;
                for _ in lo.max(a)..hi.min(b) {
                    out.push(Peer {
                        range: start..hi,
                        group,
                    });
                }
            }
            return Ok((out, ranges));
        }
    }

    /// Releases rows before `row`, folding them into the running aggregates first.
    fn release_until(&mut self, row: usize, ranges: &[Range<usize>]) -> Result<()> {
        if row <= self.start {
            return Ok(());
        }
        let k = row - self.start;
        let gone = self.rows.slice(0, k);
        for (spec, plan) in self.computer.functions.iter().zip(&mut self.plans) {
            if let Plan::Prefix(acc) = plan {
                let args = evaluate_args(spec, &gone)?;
                acc.update_batch(&args, &vec![0; k], 1)?;
            }
        }
        if let Some(g) = ranges.iter().position(|r| r.contains(&k))
            && g > 0
        {
            self.start_peer = (self.start + ranges[g].start, self.start_peer.1 + g);
        }
        self.rows = self.rows.slice(k, self.rows.num_rows() - k);
        self.start = row;
        Ok(())
    }

    /// Computes output rows `a..b`.
    fn chunk(&mut self, a: usize, b: usize) -> Result<RecordBatch> {
        self.load_until(b)?;
        let (peers, ranges) = self.peers(a, b)?;
        let m = b - a;
        let chunk_rows = self.rows.slice(a - self.start, m);
        // rows each function reaches, as partition positions
        let mut lo = a;
        let mut hi = b;
        let mut frames: Vec<Vec<Range<usize>>> = vec![];
        let mut picks: Vec<Vec<Option<usize>>> = vec![];
        for (f, spec) in self.computer.functions.iter().enumerate() {
            let frame = &self.frames[f];
            let row_frames: Vec<Range<usize>> = (a..b)
                .zip(&peers)
                .map(|(i, p)| {
                    let (s, e) = frame_of(frame, i, self.n, &p.range);
                    s..e
                })
                .collect();
            let args = evaluate_args(spec, &chunk_rows)?;
            let pick = match (&spec.func, &self.plans[f]) {
                (WindowFunc::Lag | WindowFunc::Lead, _) => offset_picks(spec, &args, a, b, self.n)?,
                (_, Plan::Value) => value_picks(spec, &args, &row_frames)?,
                _ => vec![],
            };
            for j in pick.iter().flatten() {
                if !self.pinned(*j) {
                    lo = lo.min(*j);
                    hi = hi.max(*j + 1);
                }
            }
            match &self.plans[f] {
                Plan::Prefix(_) => {
                    for r in &row_frames {
                        lo = lo.min(r.end);
                        hi = hi.max(r.end);
                    }
                }
                Plan::Frames => {
                    for r in row_frames.iter().filter(|r| !r.is_empty()) {
                        lo = lo.min(r.start);
                        hi = hi.max(r.end);
                    }
                }
                Plan::Suffix(Some(suffix)) => {
                    // the frame's rows up to the end of their batch
                    for r in row_frames.iter().filter(|r| !r.is_empty()) {
                        lo = lo.min(r.start);
                        hi = hi.max(suffix.starts[suffix.block_of(r.start) + 1]);
                    }
                }
                _ => {}
            }
            frames.push(row_frames);
            picks.push(pick);
        }
        if lo < self.start {
            return Err(Error::resources_exhausted(format!(
                "{}: over a {}-row window partition spilled to disk, a frame or offset of \
                 output row {a} reaches back to row {lo}, already released (offsets that vary \
                 from row to row cannot be computed from disk); raise the memory limit \
                 (SET memory_limit)",
                self.consumer, self.n
            )));
        }
        self.release_until(lo, &ranges)?;
        self.load_until(hi)?;
        let mut cols = chunk_rows.columns().to_vec();
        let window = self.rows.clone();
        let computer = self.computer.clone();
        for (f, spec) in computer.functions.iter().enumerate() {
            let c = self.compute(f, spec, &window, a, b, &peers, &frames[f], &picks[f])?;
            let c = if c.data_type() != &spec.return_type {
                crate::physical_expr::cast::cast_array(&c, &spec.return_type, false)?
            } else {
                c
            };
            cols.push(c);
        }
        Ok(RecordBatch::try_new(self.computer.schema.clone(), cols)?)
    }

    /// Whether partition row `j` is kept aside (first batch, last row).
    fn pinned(&self, j: usize) -> bool {
        self.first.as_ref().is_some_and(|f| j < f.num_rows())
            || (self.last.is_some() && j + 1 == self.n)
    }

    /// One function's values for output rows `a..b`; `window` holds rows `start..end`.
    #[allow(clippy::too_many_arguments)]
    fn compute(
        &mut self,
        f: usize,
        spec: &WindowSpec,
        window: &RecordBatch,
        a: usize,
        b: usize,
        peers: &[Peer],
        frames: &[Range<usize>],
        picks: &[Option<usize>],
    ) -> Result<ArrayRef> {
        let n = self.n;
        let m = b - a;
        let chunk_args = || evaluate_args(spec, &window.slice(a - self.start, m));
        Ok(match (&spec.func, &mut self.plans[f]) {
            (WindowFunc::RowNumber, _) => {
                Arc::new(Int64Array::from_iter_values((a..b).map(|i| i as i64 + 1)))
            }
            (WindowFunc::Rank, _) => Arc::new(Int64Array::from_iter_values(
                peers.iter().map(|p| p.range.start as i64 + 1),
            )),
            (WindowFunc::DenseRank, _) => Arc::new(Int64Array::from_iter_values(
                peers.iter().map(|p| p.group as i64 + 1),
            )),
            (WindowFunc::PercentRank, _) => {
                Arc::new(Float64Array::from_iter_values(peers.iter().map(|p| {
                    if n <= 1 {
                        0.0
                    } else {
                        p.range.start as f64 / (n - 1) as f64
                    }
                })))
            }
            (WindowFunc::CumeDist, _) => Arc::new(Float64Array::from_iter_values(
                peers.iter().map(|p| p.range.end as f64 / n as f64),
            )),
            (WindowFunc::Ntile, _) => {
                let args = chunk_args()?;
                let mut out = Vec::with_capacity(m);
                for (k, i) in (a..b).enumerate() {
                    out.push(super::ntile_bucket(int_arg(&args, 0, k, 1)?, i, n)?);
                }
                Arc::new(Int64Array::from(out))
            }
            (WindowFunc::Lag | WindowFunc::Lead, _) => {
                let args = chunk_args()?;
                let values = self.pickable(spec, window)?;
                let taken = take(values.as_ref(), &self.pick_indices(picks), None)?;
                if args.len() > 2 {
                    // rows whose offset leaves the partition take the default
                    let default =
                        crate::physical_expr::cast::cast_array(&args[2], taken.data_type(), false)?;
                    let mask: arrow::array::BooleanArray =
                        picks.iter().map(|p| Some(p.is_none())).collect();
                    arrow::compute::kernels::zip::zip(&mask, &default, &taken)?
                } else {
                    taken
                }
            }
            (_, Plan::Value) => {
                let values = self.pickable(spec, window)?;
                take(values.as_ref(), &self.pick_indices(picks), None)?
            }
            (_, Plan::Whole(value)) => {
                take(value.as_ref(), &UInt32Array::from(vec![0u32; m]), None)?
            }
            (WindowFunc::Aggregate(agg), Plan::Prefix(acc)) => {
                let prefix = acc.state()?;
                acc.merge_batch(&prefix, &[0], 1)?;
                let local: Vec<Range<usize>> =
                    frames.iter().map(|r| 0..r.end - self.start).collect();
                let args = evaluate_args(spec, window)?;
                aggregate_frames(
                    &|| make_accumulator(spec, agg.as_ref()),
                    &args,
                    window.num_rows(),
                    &local,
                    Some(&prefix),
                    &self.cancel,
                )?
            }
            (WindowFunc::Aggregate(agg), Plan::Frames) => {
                let local: Vec<Range<usize>> = frames
                    .iter()
                    .map(|r| {
                        if r.is_empty() {
                            0..0
                        } else {
                            r.start - self.start..r.end - self.start
                        }
                    })
                    .collect();
                let args = evaluate_args(spec, window)?;
                aggregate_frames(
                    &|| make_accumulator(spec, agg.as_ref()),
                    &args,
                    window.num_rows(),
                    &local,
                    None,
                    &self.cancel,
                )?
            }
            (WindowFunc::Aggregate(agg), Plan::Suffix(Some(suffix))) => {
                let make = || make_accumulator(spec, agg.as_ref());
                let mut out = make()?;
                let empty: Vec<ArrayRef> = spec.arg_types.iter().map(new_empty_array).collect();
                out.update_batch(&empty, &[], m)?;
                // rows of the frame's first batch, then the batches after it
                let (mut near, mut far) = (Vec::with_capacity(m), Vec::with_capacity(m));
                for r in frames {
                    if r.is_empty() {
                        near.push(0..0);
                        far.push(0..0);
                    } else {
                        let block = suffix.block_of(r.start);
                        near.push(r.start - self.start..suffix.starts[block + 1] - self.start);
                        far.push(block + 1..suffix.starts.len() - 1);
                    }
                }
                let args = evaluate_args(spec, window)?;
                StateTree::over_rows(&make, &args, window.num_rows())?.merge_into(
                    &near,
                    out.as_mut(),
                    &self.cancel,
                )?;
                suffix.blocks.merge_into(&far, out.as_mut(), &self.cancel)?;
                out.evaluate()?
            }
            _ => {
                return Err(Error::internal(format!(
                    "{}: no plan for {} over a spilled partition",
                    self.consumer,
                    spec.func.name()
                )));
            }
        })
    }

    /// The first argument of `spec` over the rows picks can name: the rows in memory, then
    /// the first batch, then the last row.
    fn pickable(&self, spec: &WindowSpec, window: &RecordBatch) -> Result<ArrayRef> {
        let mut parts = vec![first_arg(spec, window)?];
        if let Some(first) = &self.first {
            parts.push(first_arg(spec, first)?);
        }
        if let Some(last) = &self.last {
            parts.push(first_arg(spec, last)?);
        }
        let refs: Vec<&dyn arrow::array::Array> = parts.iter().map(|p| p.as_ref()).collect();
        Ok(concat(&refs)?)
    }

    /// Indices into [`pickable`](Self::pickable) of picked partition rows.
    fn pick_indices(&self, picks: &[Option<usize>]) -> UInt32Array {
        let in_memory = self.end - self.start;
        let first_len = self.first.as_ref().map_or(0, |f| f.num_rows());
        picks
            .iter()
            .map(|p| {
                p.map(|j| {
                    if (self.start..self.end).contains(&j) {
                        (j - self.start) as u32
                    } else if j < first_len {
                        (in_memory + j) as u32
                    } else {
                        (in_memory + first_len) as u32
                    }
                })
            })
            .collect()
    }
}

impl Iterator for SpilledWindow {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        if self.next >= self.n {
            self.reservation.free();
            return None;
        }
        if let Err(e) = self.cancel.check() {
            return Some(Err(e));
        }
        let a = self.next;
        let b = (a + self.chunk_rows).min(self.n);
        self.next = b;
        Some(self.chunk(a, b))
    }
}

/// The frame as computed: without ORDER BY every row is a peer of every other, so RANGE and
/// GROUPS frames bounded by the current row span the whole partition.
fn effective_frame(frame: &WindowFrame, has_order: bool) -> WindowFrame {
    if has_order || frame.units == FrameUnits::Rows {
        return *frame;
    }
    let mut f = *frame;
    if !matches!(f.start, FrameBound::UnboundedFollowing) {
        f.start = FrameBound::UnboundedPreceding;
    }
    if !matches!(f.end, FrameBound::UnboundedPreceding) {
        f.end = FrameBound::UnboundedFollowing;
    }
    f
}

fn value_function(func: &WindowFunc) -> bool {
    matches!(
        func,
        WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue
    )
}

/// How `spec` is computed over a spilled partition, or why it cannot be.
fn plan_for(spec: &WindowSpec, frame: &WindowFrame) -> Result<Plan> {
    if value_function(&spec.func) {
        return Ok(Plan::Value);
    }
    let WindowFunc::Aggregate(f) = &spec.func else {
        return Ok(Plan::Rows);
    };
    let from_first = frame.start == FrameBound::UnboundedPreceding;
    let to_last = frame.end == FrameBound::UnboundedFollowing;
    Ok(match (from_first, to_last) {
        (true, true) => Plan::Whole(new_empty_array(&spec.return_type)),
        (true, false) => {
            let mut acc = make_accumulator(spec, f.as_ref())?;
            let empty: Vec<ArrayRef> = spec.arg_types.iter().map(new_empty_array).collect();
            acc.update_batch(&empty, &[], 1)?;
            Plan::Prefix(acc)
        }
        (false, true) => Plan::Suffix(None),
        (false, false) => Plan::Frames,
    })
}

fn evaluate_args(spec: &WindowSpec, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    let n = batch.num_rows();
    spec.args
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(n))
        .collect()
}

fn first_arg(spec: &WindowSpec, batch: &RecordBatch) -> Result<ArrayRef> {
    let e = spec
        .args
        .first()
        .ok_or_else(|| Error::plan(format!("{}() needs an argument", spec.func.name())))?;
    e.evaluate(batch)?.into_array(batch.num_rows())
}

/// Rows `lag`/`lead` read for output rows `a..b` (`None`: outside the partition).
fn offset_picks(
    spec: &WindowSpec,
    args: &[ArrayRef],
    a: usize,
    b: usize,
    n: usize,
) -> Result<Vec<Option<usize>>> {
    let lead = matches!(spec.func, WindowFunc::Lead);
    let mut out = Vec::with_capacity(b - a);
    for (k, i) in (a..b).enumerate() {
        let off = int_arg(args, 1, k, 1)?;
        let j = if lead { i as i64 + off } else { i as i64 - off };
        out.push((j >= 0 && j < n as i64).then_some(j as usize));
    }
    Ok(out)
}

/// Rows `first_value`/`last_value`/`nth_value` pick from each output row's frame.
fn value_picks(
    spec: &WindowSpec,
    args: &[ArrayRef],
    frames: &[Range<usize>],
) -> Result<Vec<Option<usize>>> {
    let mut out = Vec::with_capacity(frames.len());
    for (k, r) in frames.iter().enumerate() {
        let (s, e) = (r.start, r.end);
        out.push(match spec.func {
            WindowFunc::FirstValue => (s < e).then_some(s),
            WindowFunc::LastValue => (s < e).then(|| e - 1),
            _ => {
                let nth = int_arg(args, 1, k, 1)?;
                if nth < 1 {
                    return Err(Error::execution("nth_value() position must be at least 1"));
                }
                let j = s + nth as usize - 1;
                (j < e).then_some(j)
            }
        });
    }
    Ok(out)
}
