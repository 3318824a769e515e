//! Aggregates over sliding and growing window frames with a segment tree of partial states.
//!
//! ```text
//!  level 3   [0 .................. 8)
//!  level 2   [0 ...... 4) [4 ...... 8)
//!  level 1   [0,2) [2,4)  [4,6) [6,8)    ← each node: the aggregate's intermediate state
//!  level 0   0  1  2  3   4  5  6  7     ← one row each
//! ```
//! Each row's frame `[s, e)` is the union of at most two nodes per level, so every frame is
//! computed from O(log n) partial states, merged into the row's own group with the
//! accumulator's two-phase `merge_batch`: O(n log n) work and memory in all, for any aggregate
//! (feeding every frame's rows one by one would cost the sum of the frame sizes, quadratic for
//! running totals). Nodes are merged into each row in left-to-right order, so order-sensitive
//! aggregates such as `string_agg` see the frame's rows in order.

use std::ops::Range;

use arrow::array::{ArrayRef, UInt32Array};
use arrow::compute::{concat, take};

use crate::error::Result;
use crate::functions::GroupsAccumulator;
use crate::runtime::CancellationToken;

/// A fresh accumulator of the window's aggregate.
pub type MakeAccumulator<'a> = dyn Fn() -> Result<Box<dyn GroupsAccumulator>> + 'a;

/// The aggregate of `args` (of `rows` rows) over each output row's frame: `frames[i]`, a range
/// of those rows, for output row `i`. With `prefix` (the intermediate state of one group), every
/// frame is taken to start with the rows that state holds, ahead of its own; otherwise empty
/// frames give the aggregate of no rows.
pub fn aggregate_frames(
    make: &MakeAccumulator<'_>,
    args: &[ArrayRef],
    rows: usize,
    frames: &[Range<usize>],
    prefix: Option<&[ArrayRef]>,
    cancel: &CancellationToken,
) -> Result<ArrayRef> {
    let n = frames.len();
    let tree = StateTree::over_rows(make, args, rows)?;
    let mut out = make()?;
    let mut any = false;
    if let Some(state) = prefix {
        let first = UInt32Array::from(vec![0u32; n]);
        let states = state
            .iter()
            .map(|s| Ok(take(s.as_ref(), &first, None)?))
            .collect::<Result<Vec<_>>>()?;
        let groups: Vec<u32> = (0..n as u32).collect();
        out.merge_batch(&states, &groups, n)?;
        any = n > 0;
    }
    any |= tree.merge_into(frames, out.as_mut(), cancel)?;
    if !any {
        // no row has a non-empty frame: every group is the aggregate of no rows
        out.update_batch(&empty_args(args)?, &[], n)?;
    }
    out.evaluate()
}

/// A segment tree of an aggregate's intermediate states over a sequence of leaves (rows, or
/// blocks of rows given by their states).
pub struct StateTree {
    levels: Vec<Vec<ArrayRef>>,
}

impl StateTree {
    /// The tree over `rows` rows of `args`, one leaf per row.
    pub fn over_rows(make: &MakeAccumulator<'_>, args: &[ArrayRef], rows: usize) -> Result<Self> {
        let mut acc = make()?;
        let groups: Vec<u32> = (0..rows as u32).collect();
        acc.update_batch(args, &groups, rows)?;
        Self::over_states(make, acc.state()?, rows)
    }

    /// The tree over `leaves` leaves whose intermediate states are given.
    pub fn over_states(
        make: &MakeAccumulator<'_>,
        states: Vec<ArrayRef>,
        leaves: usize,
    ) -> Result<Self> {
        Ok(StateTree {
            levels: build_levels(make, states, leaves)?,
        })
    }

    /// Merges the leaves of `frames[i]` (left to right) into group `i` of `out` (of
    /// `frames.len()` groups); whether any frame was non-empty.
    pub fn merge_into(
        &self,
        frames: &[Range<usize>],
        out: &mut dyn GroupsAccumulator,
        cancel: &CancellationToken,
    ) -> Result<bool> {
        let n = frames.len();
        let mut any = false;
        // rows a chunk at a time, so the node lists (up to 2 log n per row) stay small
        for chunk_start in (0..n).step_by(ROWS_PER_CHUNK) {
            cancel.check()?;
            let chunk = &frames[chunk_start..(chunk_start + ROWS_PER_CHUNK).min(n)];
            any |= merge_chunk(&self.levels, chunk, chunk_start, n, out)?;
        }
        Ok(any)
    }
}

/// Rows whose frames are decomposed into tree nodes at once.
const ROWS_PER_CHUNK: usize = 16 * 1024;

/// Merges the nodes of the frames of rows `first..first + frames.len()` into their groups of
/// `out` (of `n` groups); whether any of these frames was non-empty.
fn merge_chunk(
    levels: &[Vec<ArrayRef>],
    frames: &[Range<usize>],
    first: usize,
    n: usize,
    out: &mut dyn GroupsAccumulator,
) -> Result<bool> {
    // each row's nodes, left to right: (level, node index)
    let nodes: Vec<Vec<(usize, usize)>> = frames.iter().map(|f| decompose(f.clone())).collect();
    let rounds = nodes.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..rounds {
        // the `round`-th node of every row that has one, gathered level by level
        let mut per_level: Vec<(Vec<u32>, Vec<u32>)> = vec![(vec![], vec![]); levels.len()];
        for (row, row_nodes) in nodes.iter().enumerate() {
            if let Some(&(level, node)) = row_nodes.get(round) {
                per_level[level].0.push(node as u32);
                per_level[level].1.push((first + row) as u32);
            }
        }
        let mut parts: Vec<Vec<ArrayRef>> = vec![];
        let mut groups: Vec<u32> = vec![];
        for (level, (idx, rows)) in per_level.into_iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let idx = UInt32Array::from(idx);
            parts.push(
                levels[level]
                    .iter()
                    .map(|s| Ok(take(s.as_ref(), &idx, None)?))
                    .collect::<Result<Vec<_>>>()?,
            );
            groups.extend(rows);
        }
        let columns = parts.first().map_or(0, Vec::len);
        let states = (0..columns)
            .map(|c| {
                let arrays: Vec<&dyn arrow::array::Array> =
                    parts.iter().map(|p| p[c].as_ref()).collect();
                Ok(concat(&arrays)?)
            })
            .collect::<Result<Vec<_>>>()?;
        out.merge_batch(&states, &groups, n)?;
    }
    Ok(rounds > 0)
}

/// The intermediate states of the tree: level 0 holds each leaf's state, level `k` node `j`
/// the state of leaves `[j·2^k, (j+1)·2^k)`.
fn build_levels(
    make: &MakeAccumulator<'_>,
    leaves: Vec<ArrayRef>,
    n: usize,
) -> Result<Vec<Vec<ArrayRef>>> {
    let mut levels = vec![leaves];
    let mut width = n;
    while width > 1 {
        let mut acc = make()?;
        let pairs: Vec<u32> = (0..width as u32).map(|i| i / 2).collect();
        let below = levels.last().map(Vec::as_slice).unwrap_or_default();
        acc.merge_batch(below, &pairs, width.div_ceil(2))?;
        levels.push(acc.state()?);
        width = width.div_ceil(2);
    }
    Ok(levels)
}

/// The nodes covering `[s, e)`, left to right: the largest aligned blocks that fit, at most
/// two per level.
fn decompose(frame: Range<usize>) -> Vec<(usize, usize)> {
    let (mut s, e) = (frame.start, frame.end);
    let mut out = vec![];
    while s < e {
        let mut size = 1usize;
        while s % (size * 2) == 0 && s + size * 2 <= e {
            size *= 2;
        }
        out.push((size.trailing_zeros() as usize, s / size));
        s += size;
    }
    out
}

/// Argument arrays with no rows.
fn empty_args(args: &[ArrayRef]) -> Result<Vec<ArrayRef>> {
    Ok(args.iter().map(|a| a.slice(0, 0)).collect())
}
