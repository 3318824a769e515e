//! User code over the data: `map_partitions` runs a closure once per partition (set up an
//! expensive client once, then score every batch: Spark's `mapPartitions`), `map_batches` once
//! per batch. Partitions run in parallel on the session's workers.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::dataframe::DataFrame;
use crate::error::Result;
use crate::exec::BatchIter;
use crate::logical::plan::{LogicalPlan, MapPartitions};

impl DataFrame {
    /// Runs `f(partition_index, batches)` once per partition: `batches` iterates over the
    /// partition's input, and `f` returns the iterator of output batches, whose columns must
    /// match `output_schema` (pass [`DataFrame::schema`] to keep the input's). Whatever `f`
    /// sets up before returning is made once per partition and lives as long as the returned
    /// iterator. Errors in the output fail the query; a panic becomes an error too.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, AsArray, Int64Array};
    /// use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    /// use arrow::record_batch::RecordBatch;
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT * FROM generate_series(1, 10) t(x)").unwrap();
    /// let out_schema = Arc::new(Schema::new(vec![Field::new("scored", DataType::Int64, false)]));
    /// let schema = out_schema.clone();
    /// let scored = df.map_partitions(out_schema, move |_partition, batches| {
    ///     let weight = 10; // expensive setup, once per partition
    ///     let schema = schema.clone();
    ///     Ok(batches.map(move |b| {
    ///         let b = b?;
    ///         let x = b.column(0).as_primitive::<Int64Type>();
    ///         let y: Int64Array = x.iter().map(|v| v.map(|v| v * weight)).collect();
    ///         Ok(RecordBatch::try_new(schema.clone(), vec![Arc::new(y) as ArrayRef])?)
    ///     }))
    /// }).unwrap();
    /// let total = scored.aggregate(vec![], vec![sum(col("scored"))]).unwrap();
    /// assert_eq!(total.first().unwrap().unwrap().get(0).unwrap().to_string(), "550");
    /// ```
    pub fn map_partitions<F, I>(&self, output_schema: SchemaRef, f: F) -> Result<DataFrame>
    where
        F: Fn(usize, BatchIter) -> Result<I> + Send + Sync + 'static,
        I: Iterator<Item = Result<RecordBatch>> + Send + 'static,
    {
        let func = move |partition: usize, input: BatchIter| -> Result<BatchIter> {
            Ok(Box::new(f(partition, input)?))
        };
        self.map_node("map_partitions", output_schema, Arc::new(func))
    }

    /// Runs `f` on every batch (in parallel across partitions); its output batches must match
    /// `output_schema`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, AsArray};
    /// use arrow::datatypes::Int64Type;
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 5) t(x)").unwrap();
    /// // keep the even rows
    /// let evens = df.map_batches(df.schema(), |b| {
    ///     let x = b.column(0).as_primitive::<Int64Type>();
    ///     let mask = arrow::compute::kernels::cmp::eq(
    ///         &arrow::compute::kernels::numeric::rem(x, &arrow::array::Int64Array::new_scalar(2))?,
    ///         &arrow::array::Int64Array::new_scalar(0),
    ///     )?;
    ///     Ok(arrow::compute::filter_record_batch(&b, &mask)?)
    /// }).unwrap();
    /// assert_eq!(evens.count().unwrap(), 2);
    /// ```
    pub fn map_batches<F>(&self, output_schema: SchemaRef, f: F) -> Result<DataFrame>
    where
        F: Fn(RecordBatch) -> Result<RecordBatch> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let func = move |_partition: usize, input: BatchIter| -> Result<BatchIter> {
            let f = f.clone();
            Ok(Box::new(input.map(move |b| f(b?))))
        };
        self.map_node("map_batches", output_schema, Arc::new(func))
    }

    fn map_node(
        &self,
        name: &str,
        output_schema: SchemaRef,
        func: Arc<crate::logical::plan::PartitionFn>,
    ) -> Result<DataFrame> {
        let node = MapPartitions::try_new(self.plan.clone(), func, name, output_schema)?;
        Ok(self.with_plan(LogicalPlan::MapPartitions(node).into()))
    }
}
