//! `MergeStream`: a streaming k-way merge of inputs that are each sorted by the same keys —
//! the last phase of an external sort (runs read back from spill files) and the read side of
//! the sort-preserving `SortMerge` exchange.
//!
//! ```text
//!  input 0 ─▶ cursor (batch + row-format keys) ─┐
//!  input 1 ─▶ cursor ───────────────────────────┼─▶ min-heap of inputs by current row ─▶ (batch, row) picks
//!  input k ─▶ cursor ───────────────────────────┘        ─▶ interleave every batch_size picks ─▶ output batch
//! ```
//! Only the current batch of each input (and batches still referenced by pending picks) stays
//! in memory; ties go to the lower input index, so merging runs in input order is stable. Once a
//! single input is left its batches pass through unchanged.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};

use crate::error::Result;
use crate::exec::BatchIter;
use crate::physical_expr::{PhysicalSortExpr, evaluate_sort_keys};
use crate::runtime::MemoryReservation;
use crate::runtime::memory_pool::batch_memory_size;

/// The current batch of one input and the position in it.
struct Cursor {
    rows: Rows,
    pos: usize,
    slot: usize,
}

/// Merges sorted inputs into one sorted stream of `batch_size`-row batches.
pub struct MergeStream {
    schema: SchemaRef,
    keys: Vec<PhysicalSortExpr>,
    converter: RowConverter,
    inputs: Vec<BatchIter>,
    cursors: Vec<Option<Cursor>>,
    /// Inputs with a current row, as a binary min-heap by that row.
    heap: Vec<usize>,
    /// Batches referenced by cursors or pending picks.
    slots: Vec<RecordBatch>,
    pending: Vec<(usize, usize)>,
    batch_size: usize,
    remaining: usize,
    reservation: Option<MemoryReservation>,
    started: bool,
    done: bool,
}

impl MergeStream {
    /// Merges `inputs` (each sorted by `keys`), stopping after `fetch` rows if given. The
    /// memory of the batches it holds is accounted in `reservation` (growing past the limit if
    /// it must: one batch per input is the least a merge needs).
    pub fn try_new(
        schema: SchemaRef,
        keys: Vec<PhysicalSortExpr>,
        inputs: Vec<BatchIter>,
        fetch: Option<usize>,
        batch_size: usize,
        reservation: Option<MemoryReservation>,
    ) -> Result<Self> {
        let fields = keys
            .iter()
            .map(|k| SortField::new_with_options(k.expr.data_type().clone(), k.options))
            .collect();
        let n = inputs.len();
        Ok(MergeStream {
            schema,
            keys,
            converter: RowConverter::new(fields)?,
            inputs,
            cursors: (0..n).map(|_| None).collect(),
            heap: Vec::with_capacity(n),
            slots: vec![],
            pending: Vec::with_capacity(batch_size),
            batch_size: batch_size.max(1),
            remaining: fetch.unwrap_or(usize::MAX),
            reservation,
            started: false,
            done: false,
        })
    }

    /// Makes the next non-empty batch of input `i` its current one; `false` when it is exhausted.
    fn load(&mut self, i: usize) -> Result<bool> {
        loop {
            let Some(batch) = self.inputs[i].next().transpose()? else {
                self.cursors[i] = None;
                return Ok(false);
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let cols = evaluate_sort_keys(&self.keys, &batch)?
                .into_iter()
                .map(|c| c.values)
                .collect::<Vec<_>>();
            let rows = self.converter.convert_columns(&cols)?;
            self.slots.push(batch);
            self.cursors[i] = Some(Cursor {
                rows,
                pos: 0,
                slot: self.slots.len() - 1,
            });
            self.account();
            return Ok(true);
        }
    }

    fn account(&mut self) {
        if let Some(r) = self.reservation.as_mut() {
            let held: usize = self.slots.iter().map(batch_memory_size).sum::<usize>()
                + self
                    .cursors
                    .iter()
                    .flatten()
                    .map(|c| c.rows.size())
                    .sum::<usize>();
            r.resize(held);
        }
    }

    fn less(&self, a: usize, b: usize) -> bool {
        match (&self.cursors[a], &self.cursors[b]) {
            (Some(x), Some(y)) => x
                .rows
                .row(x.pos)
                .cmp(&y.rows.row(y.pos))
                .then(a.cmp(&b))
                .is_lt(),
            _ => a < b,
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                return;
            }
            let mut m = l;
            if l + 1 < n && self.less(self.heap[l + 1], self.heap[l]) {
                m = l + 1;
            }
            if self.less(self.heap[m], self.heap[i]) {
                self.heap.swap(m, i);
                i = m;
            } else {
                return;
            }
        }
    }

    fn start(&mut self) -> Result<()> {
        for i in 0..self.inputs.len() {
            if self.load(i)? {
                self.heap.push(i);
            }
        }
        for i in (0..self.heap.len() / 2).rev() {
            self.sift_down(i);
        }
        Ok(())
    }

    /// Drops batches no pending pick or cursor refers to any more.
    fn compact(&mut self) {
        let mut keep: Vec<Option<usize>> = vec![None; self.slots.len()];
        let mut kept = vec![];
        for c in self.cursors.iter_mut().flatten() {
            let new = *keep[c.slot].get_or_insert_with(|| {
                kept.push(c.slot);
                kept.len() - 1
            });
            c.slot = new;
        }
        let mut old: Vec<Option<RecordBatch>> = self.slots.drain(..).map(Some).collect();
        self.slots = kept.into_iter().filter_map(|s| old[s].take()).collect();
        self.account();
    }

    /// With one input left and nothing pending: the rest of its current batch, then its
    /// batches as they come.
    fn pass_through(&mut self, i: usize) -> Result<Option<RecordBatch>> {
        let out = match self.cursors[i].take() {
            Some(c) => {
                let b = &self.slots[c.slot];
                b.slice(c.pos, b.num_rows() - c.pos)
            }
            None => loop {
                match self.inputs[i].next().transpose()? {
                    Some(b) if b.num_rows() == 0 => continue,
                    Some(b) => break b,
                    None => return Ok(None),
                }
            },
        };
        self.slots.clear();
        self.account();
        let n = out.num_rows().min(self.remaining);
        self.remaining -= n;
        Ok(Some(out.slice(0, n)))
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if !self.started {
            self.started = true;
            self.start()?;
        }
        while self.pending.len() < self.batch_size && self.remaining > 0 {
            let Some(&top) = self.heap.first() else {
                break;
            };
            if self.heap.len() == 1 && self.pending.is_empty() {
                return self.pass_through(top);
            }
            let exhausted = {
                let Some(c) = self.cursors[top].as_mut() else {
                    break;
                };
                self.pending.push((c.slot, c.pos));
                c.pos += 1;
                c.pos == c.rows.num_rows()
            };
            self.remaining -= 1;
            if exhausted && !self.load(top)? {
                let last = self.heap.pop().unwrap_or(top);
                if !self.heap.is_empty() {
                    self.heap[0] = last;
                }
            }
            self.sift_down(0);
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let refs: Vec<&RecordBatch> = self.slots.iter().collect();
        let out = arrow::compute::interleave_record_batch(&refs, &self.pending)?;
        self.pending.clear();
        self.compact();
        Ok(Some(out))
    }

    /// The output schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

impl Iterator for MergeStream {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        if self.done || self.remaining == 0 && self.pending.is_empty() {
            self.release();
            return None;
        }
        match self.next_batch() {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => {
                self.release();
                None
            }
            Err(e) => {
                self.release();
                Some(Err(e))
            }
        }
    }
}

impl MergeStream {
    fn release(&mut self) {
        self.done = true;
        self.slots.clear();
        self.cursors.iter_mut().for_each(|c| *c = None);
        self.inputs.clear();
        if let Some(r) = self.reservation.as_mut() {
            r.free();
        }
    }
}

/// Merges sorted inputs into one sorted [`BatchIter`] (see [`MergeStream`]); a single input
/// passes through.
pub fn merge_sorted(
    schema: SchemaRef,
    keys: &[PhysicalSortExpr],
    mut inputs: Vec<BatchIter>,
    fetch: Option<usize>,
    batch_size: usize,
    reservation: Option<MemoryReservation>,
) -> Result<BatchIter> {
    if inputs.len() == 1 && fetch.is_none() {
        return Ok(inputs.remove(0));
    }
    Ok(Box::new(MergeStream::try_new(
        schema,
        keys.to_vec(),
        inputs,
        fetch,
        batch_size,
        reservation,
    )?))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{AsArray, Int64Array};
    use arrow::compute::SortOptions;
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use arrow::record_batch::RecordBatch;

    use super::merge_sorted;
    use crate::exec::BatchIter;
    use crate::physical_expr::PhysicalSortExpr;
    use crate::physical_expr::column::ColumnExpr;

    fn run(values: &[Option<i64>], batch: usize) -> BatchIter {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let batches: Vec<_> = values
            .chunks(batch)
            .map(|c| {
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(c.to_vec()))])
                    .unwrap()
            })
            .collect();
        Box::new(batches.into_iter().map(Ok))
    }

    #[test]
    fn merges_sorted_inputs_with_duplicates_nulls_and_a_fetch() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let keys = vec![PhysicalSortExpr {
            expr: Arc::new(ColumnExpr::new("a", 0, DataType::Int64, true)),
            options: SortOptions {
                descending: false,
                nulls_first: true,
            },
        }];
        let inputs = || {
            vec![
                run(&[None, Some(1), Some(4), Some(4), Some(9)], 2),
                run(&[], 3),
                run(&[Some(0), Some(4), Some(5)], 1),
                run(&[None, Some(2), Some(3), Some(10), Some(11), Some(12)], 4),
            ]
        };
        let collect = |it: BatchIter| -> Vec<Option<i64>> {
            it.flat_map(|b| {
                let b = b.unwrap();
                b.column(0)
                    .as_primitive::<Int64Type>()
                    .iter()
                    .collect::<Vec<_>>()
            })
            .collect()
        };
        let all = collect(merge_sorted(schema.clone(), &keys, inputs(), None, 3, None).unwrap());
        let mut expected = vec![
            None,
            None,
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(4),
            Some(4),
            Some(5),
            Some(9),
            Some(10),
            Some(11),
            Some(12),
        ];
        assert_eq!(all, expected);
        let top = collect(merge_sorted(schema, &keys, inputs(), Some(5), 2, None).unwrap());
        expected.truncate(5);
        assert_eq!(top, expected);
    }
}
