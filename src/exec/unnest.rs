//! `UnnestExec`: one output row per list element. For each input batch it computes every row's
//! output length (its longest list; 1 for an all-NULL/empty row when NULLs are preserved), then
//! builds two kinds of `take` indices: the input row repeated that many times (for the other
//! columns) and the position of each element in the list's child array (NULL past the end of a
//! shorter list). Output batches hold about `batch_size` rows: input rows are taken in chunks
//! whose expansion fits.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, OffsetSizeTrait, UInt32Array, UInt64Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Expands list columns into rows.
#[derive(Debug)]
pub struct UnnestExec {
    input: Arc<dyn ExecutionPlan>,
    columns: Vec<usize>,
    preserve_nulls: bool,
    schema: SchemaRef,
    metrics: Arc<Metrics>,
}

impl UnnestExec {
    /// Unnests the list columns at `columns` of `input`; `schema` is the output schema.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        columns: Vec<usize>,
        preserve_nulls: bool,
        schema: SchemaRef,
    ) -> Self {
        UnnestExec {
            input,
            columns,
            preserve_nulls,
            schema,
            metrics: Arc::new(Metrics::new()),
        }
    }
}

/// Where each row's list starts in the child array and how long it is (0 for NULL).
struct ListLayout {
    values: ArrayRef,
    starts: Vec<u64>,
    lens: Vec<u64>,
}

fn list_layout(array: &ArrayRef) -> Result<ListLayout> {
    let n = array.len();
    let nulls = array.logical_nulls();
    let valid = |i: usize| nulls.as_ref().is_none_or(|nb| nb.is_valid(i));
    fn offsets<O: OffsetSizeTrait>(
        array: &ArrayRef,
        valid: impl Fn(usize) -> bool,
    ) -> (ArrayRef, Vec<u64>, Vec<u64>) {
        let l = array.as_list::<O>();
        let o = l.value_offsets();
        let n = l.len();
        let starts = (0..n).map(|i| o[i].as_usize() as u64).collect();
        let lens = (0..n)
            .map(|i| {
                if valid(i) {
                    (o[i + 1] - o[i]).as_usize() as u64
                } else {
                    0
                }
            })
            .collect();
        (l.values().clone(), starts, lens)
    }
    let (values, starts, lens): (ArrayRef, Vec<u64>, Vec<u64>) = match array.data_type() {
        DataType::List(_) => offsets::<i32>(array, valid),
        DataType::LargeList(_) => offsets::<i64>(array, valid),
        DataType::FixedSizeList(_, size) => {
            let l = array.as_fixed_size_list();
            let size = *size as u64;
            let base = l.offset() as u64 * size;
            (
                l.values().clone(),
                (0..n).map(|i| base + i as u64 * size).collect(),
                (0..n).map(|i| if valid(i) { size } else { 0 }).collect(),
            )
        }
        other => {
            return Err(Error::internal(format!(
                "unnest of a non-list column of type {other}"
            )));
        }
    };
    Ok(ListLayout {
        values,
        starts,
        lens,
    })
}

/// Unnests rows `[from, to)` of `batch`, given each row's output length.
fn unnest_rows(
    batch: &RecordBatch,
    layouts: &[(usize, ListLayout)],
    out_lens: &[u64],
    (from, to): (usize, usize),
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let total: u64 = out_lens[from..to].iter().sum();
    let mut repeat: Vec<u32> = Vec::with_capacity(total as usize);
    for (r, len) in out_lens.iter().enumerate().take(to).skip(from) {
        repeat.extend(std::iter::repeat_n(r as u32, *len as usize));
    }
    let repeat = UInt32Array::from(repeat);
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (i, column) in batch.columns().iter().enumerate() {
        match layouts.iter().find(|(c, _)| *c == i) {
            Some((_, layout)) => {
                let mut idx: Vec<Option<u64>> = Vec::with_capacity(total as usize);
                for (r, out_len) in out_lens.iter().enumerate().take(to).skip(from) {
                    let (start, len) = (layout.starts[r], layout.lens[r]);
                    idx.extend((0..*out_len).map(|k| (k < len).then_some(start + k)));
                }
                columns.push(take(layout.values.as_ref(), &UInt64Array::from(idx), None)?);
            }
            None => columns.push(take(column.as_ref(), &repeat, None)?),
        }
    }
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(total as usize)),
    )?)
}

/// Unnests one batch into output batches of about `batch_size` rows.
fn unnest_batch(
    batch: &RecordBatch,
    columns: &[usize],
    preserve_nulls: bool,
    schema: &SchemaRef,
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    let layouts = columns
        .iter()
        .map(|c| Ok((*c, list_layout(batch.column(*c))?)))
        .collect::<Result<Vec<_>>>()?;
    let n = batch.num_rows();
    let out_lens: Vec<u64> = (0..n)
        .map(|r| {
            let longest = layouts.iter().map(|(_, l)| l.lens[r]).max().unwrap_or(0);
            if longest == 0 && preserve_nulls {
                1
            } else {
                longest
            }
        })
        .collect();
    let mut out = vec![];
    let mut from = 0;
    while from < n {
        let mut to = from;
        let mut rows = 0u64;
        while to < n && (to == from || rows + out_lens[to] <= batch_size as u64) {
            rows += out_lens[to];
            to += 1;
        }
        if rows > 0 {
            out.push(unnest_rows(batch, &layouts, &out_lens, (from, to), schema)?);
        }
        from = to;
    }
    Ok(out)
}

impl ExecutionPlan for UnnestExec {
    fn name(&self) -> &'static str {
        "UnnestExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        // columns keep their positions; hash keys survive unless they are unnested
        match self.input.output_partitioning() {
            Partitioning::Hash(keys, n) => {
                let kept = keys
                    .iter()
                    .all(|k| k.column_index().is_some_and(|i| !self.columns.contains(&i)));
                if kept {
                    Partitioning::Hash(keys, n)
                } else {
                    Partitioning::Unknown(n)
                }
            }
            other => other,
        }
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(UnnestExec::new(
            children.remove(0),
            self.columns.clone(),
            self.preserve_nulls,
            self.schema.clone(),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let columns = self.columns.clone();
        let preserve_nulls = self.preserve_nulls;
        let schema = self.schema.clone();
        let batch_size = ctx.batch_size();
        let iter = self
            .input
            .execute(partition, ctx)?
            .map(move |b| unnest_batch(&b?, &columns, preserve_nulls, &schema, batch_size))
            .flat_map(|r: Result<Vec<RecordBatch>>| match r {
                Ok(v) => v.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            });
        Ok(Box::new(MeteredIter::new(
            Box::new(iter),
            self.metrics.clone(),
        )))
    }
    fn describe(&self) -> String {
        let names = self
            .columns
            .iter()
            .map(|i| self.schema.field(*i).name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if self.preserve_nulls {
            format!("columns=[{names}], preserve_nulls")
        } else {
            format!("columns=[{names}]")
        }
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, ListArray, StringArray};
    use arrow::datatypes::{Field, Int32Type, Schema};

    fn input() -> RecordBatch {
        let lists = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![]),
            Some(vec![Some(3), None, Some(5)]),
        ]);
        let ids = StringArray::from(vec!["a", "b", "c", "d"]);
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(ids) as ArrayRef),
            ("xs", Arc::new(lists) as ArrayRef),
        ])
        .unwrap()
    }

    fn out_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("xs", DataType::Int32, true),
        ]))
    }

    #[test]
    fn expands_lists_and_drops_empty_rows() {
        let out = unnest_batch(&input(), &[1], false, &out_schema(), 8192).unwrap();
        let b = arrow::compute::concat_batches(&out_schema(), &out).unwrap();
        let ids = b.column(0).as_string::<i32>();
        let xs = b.column(1).as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(
            ids.iter().flatten().collect::<Vec<_>>(),
            ["a", "a", "d", "d", "d"]
        );
        assert_eq!(
            xs.iter().collect::<Vec<_>>(),
            [Some(1), Some(2), Some(3), None, Some(5)]
        );
    }

    #[test]
    fn preserves_null_and_empty_rows_and_chunks_output() {
        let out = unnest_batch(&input(), &[1], true, &out_schema(), 2).unwrap();
        assert!(out.iter().all(|b| b.num_rows() <= 3));
        let b = arrow::compute::concat_batches(&out_schema(), &out).unwrap();
        assert_eq!(b.num_rows(), 7);
        let xs = b.column(1).as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(
            xs.iter().collect::<Vec<_>>(),
            [Some(1), Some(2), None, None, Some(3), None, Some(5)]
        );
    }
}
