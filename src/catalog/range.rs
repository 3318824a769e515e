//! `RangeTable`: the rows of `range(start, stop, step)` (stop excluded) or
//! `generate_series(start, stop, step)` (stop included), generated at scan time.

use std::any::Any;
use std::sync::Arc;

use arrow::array::Int64Array;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::catalog::{ScanArgs, TableKind, TableProvider};
use crate::error::Result;
use crate::exec::ExecutionPlan;
use crate::exec::scan::MemoryScanExec;

/// A generated integer series.
#[derive(Debug)]
pub struct RangeTable {
    schema: SchemaRef,
    start: i64,
    stop: i64,
    step: i64,
    inclusive: bool,
}

impl RangeTable {
    /// A series with one BIGINT column named `column`.
    pub fn new(column: &str, start: i64, stop: i64, step: i64, inclusive: bool) -> Self {
        RangeTable {
            schema: Arc::new(Schema::new(vec![Field::new(
                column,
                DataType::Int64,
                false,
            )])),
            start,
            stop,
            step,
            inclusive,
        }
    }

    fn len(&self) -> usize {
        let span = if self.step > 0 {
            self.stop as i128 - self.start as i128
        } else {
            self.start as i128 - self.stop as i128
        };
        let step = (self.step as i128).abs();
        if span < 0 {
            return 0;
        }
        let n = if self.inclusive {
            span / step + 1
        } else {
            (span + step - 1) / step
        };
        n.max(0) as usize
    }
}

impl TableProvider for RangeTable {
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
        let n = match args.fetch {
            Some(f) => self.len().min(f),
            None => self.len(),
        };
        let batch_size = args.config.batch_size;
        let parts = if n < batch_size {
            1
        } else {
            args.config.target_partitions.max(1)
        };
        let per = n.div_ceil(parts.max(1)).max(1);
        let mut partitions = vec![];
        let mut i = 0usize;
        while i < n || partitions.is_empty() {
            let end = (i + per).min(n);
            let mut batches = vec![];
            let mut j = i;
            while j < end {
                let k = (j + batch_size).min(end);
                let values: Int64Array =
                    (j..k).map(|x| self.start + self.step * x as i64).collect();
                batches.push(RecordBatch::try_new(
                    self.schema.clone(),
                    vec![Arc::new(values)],
                )?);
                j = k;
            }
            partitions.push(batches);
            i = end;
            if n == 0 {
                break;
            }
        }
        let schema = match args.projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        Ok(Arc::new(MemoryScanExec::new(
            partitions,
            schema,
            args.projection.cloned(),
            None,
            None,
        )))
    }
    fn row_count(&self) -> Option<usize> {
        Some(self.len())
    }
}
