//! `MemTable`: a table held as Arrow batches in memory. Scans split the rows
//! into contiguous ranges, one per partition, so collecting the partitions in
//! order returns the rows in insertion order.

use std::any::Any;
use std::sync::{Arc, RwLock};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::catalog::statistics::{TableStatistics, compute_statistics};
use crate::catalog::{ScanArgs, TableKind, TableProvider};
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::scan::MemoryScanExec;

/// An in-memory table.
#[derive(Debug)]
pub struct MemTable {
    schema: SchemaRef,
    batches: RwLock<Vec<RecordBatch>>,
    stats: RwLock<Option<Arc<TableStatistics>>>,
    defaults: Vec<Option<datafusion_common::ScalarValue>>,
}

impl MemTable {
    /// A table with the given rows.
    pub fn try_new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self> {
        let batches = conform_all(&schema, batches)?;
        Ok(MemTable {
            schema,
            batches: RwLock::new(batches),
            stats: RwLock::new(None),
            defaults: vec![],
        })
    }

    /// Sets the `DEFAULT` values of the columns.
    pub fn with_defaults(mut self, defaults: Vec<Option<datafusion_common::ScalarValue>>) -> Self {
        self.defaults = defaults;
        self
    }

    /// A copy of the current rows.
    pub fn batches(&self) -> Vec<RecordBatch> {
        self.batches
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Re-labels a batch with the table's schema, checking types and NOT NULL columns.
fn conform(schema: &SchemaRef, b: RecordBatch) -> Result<RecordBatch> {
    let bs = b.schema();
    if bs.fields().len() != schema.fields().len()
        || bs
            .fields()
            .iter()
            .zip(schema.fields())
            .any(|(a, b)| a.data_type() != b.data_type())
    {
        return Err(Error::internal(format!(
            "batch schema {bs:?} does not match table schema {schema:?}"
        )));
    }
    for (f, c) in schema.fields().iter().zip(b.columns()) {
        if !f.is_nullable() && c.null_count() > 0 {
            return Err(Error::execution(format!(
                "NULL value in column \"{}\" violates NOT NULL",
                f.name()
            )));
        }
    }
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        b.columns().to_vec(),
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
    )?)
}

fn conform_all(schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    batches
        .into_iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| conform(schema, b))
        .collect()
}

/// Many small INSERTs leave many tiny batches; merge trailing small batches once there are enough
/// of them, so scans stay fast (amortized: each row is copied a bounded number of times).
fn compact_tail(schema: &SchemaRef, data: &mut Vec<RecordBatch>) -> Result<()> {
    const SMALL: usize = 1024;
    const MAX_SMALL: usize = 32;
    let small = data
        .iter()
        .rev()
        .take_while(|b| b.num_rows() < SMALL)
        .count();
    if small >= MAX_SMALL {
        let start = data.len() - small;
        let merged = arrow::compute::concat_batches(schema, &data[start..])?;
        data.truncate(start);
        data.push(merged);
    }
    Ok(())
}

/// Splits batches into `n` contiguous ranges of about equal row counts.
pub fn split_contiguous(batches: &[RecordBatch], n: usize) -> Vec<Vec<RecordBatch>> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let n = n.max(1);
    if total == 0 {
        return vec![vec![]];
    }
    let per = total.div_ceil(n);
    let mut parts: Vec<Vec<RecordBatch>> = vec![vec![]];
    let mut in_part = 0usize;
    for b in batches {
        let mut off = 0;
        while off < b.num_rows() {
            if in_part == per {
                parts.push(vec![]);
                in_part = 0;
            }
            let take = (per - in_part).min(b.num_rows() - off);
            if let Some(last) = parts.last_mut() {
                last.push(b.slice(off, take));
            }
            in_part += take;
            off += take;
        }
    }
    parts
}

impl TableProvider for MemTable {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn kind(&self) -> TableKind {
        TableKind::Memory
    }
    fn scan(&self, args: ScanArgs<'_>) -> Result<Arc<dyn ExecutionPlan>> {
        let batches = self.batches();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        // small tables are not worth splitting
        let n = if rows < args.config.batch_size {
            1
        } else {
            args.config.target_partitions
        };
        let partitions = split_contiguous(&batches, n);
        let schema = match args.projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        Ok(Arc::new(MemoryScanExec::new(
            partitions,
            schema,
            args.projection.cloned(),
            args.fetch,
            None,
        )))
    }
    fn column_default(&self, i: usize) -> Option<datafusion_common::ScalarValue> {
        self.defaults.get(i).cloned().flatten()
    }
    fn statistics(&self) -> Option<Arc<TableStatistics>> {
        if let Some(s) = self.stats.read().unwrap_or_else(|e| e.into_inner()).clone() {
            return Some(s);
        }
        let batches = self.batches();
        let s = Arc::new(compute_statistics(self.schema.fields().len(), &batches));
        *self.stats.write().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
        Some(s)
    }
    fn row_count(&self) -> Option<usize> {
        Some(
            self.batches
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|b| b.num_rows())
                .sum(),
        )
    }
    fn insert(&self, batches: Vec<RecordBatch>) -> Result<usize> {
        let batches = conform_all(&self.schema, batches)?;
        let n = batches.iter().map(|b| b.num_rows()).sum();
        let mut data = self.batches.write().unwrap_or_else(|e| e.into_inner());
        data.extend(batches);
        compact_tail(&self.schema, &mut data)?;
        *self.stats.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(n)
    }
    fn replace(&self, batches: Vec<RecordBatch>) -> Result<()> {
        let batches = conform_all(&self.schema, batches)?;
        *self.batches.write().unwrap_or_else(|e| e.into_inner()) = batches;
        *self.stats.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }
}
