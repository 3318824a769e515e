//! A reference to an input column by index.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::physical_expr::{ColumnarValue, PhysicalExpr};

/// Input column `index` (named `name` for display).
#[derive(Debug, Clone)]
pub struct ColumnExpr {
    name: String,
    index: usize,
    data_type: DataType,
    nullable: bool,
}

impl ColumnExpr {
    /// A column reference.
    pub fn new(name: impl Into<String>, index: usize, data_type: DataType, nullable: bool) -> Self {
        ColumnExpr {
            name: name.into(),
            index,
            data_type,
            nullable,
        }
    }
    /// A reference to column `index`, described by its field.
    pub fn of_field(index: usize, field: &arrow::datatypes::Field) -> Self {
        Self::new(
            field.name().clone(),
            index,
            field.data_type().clone(),
            field.is_nullable(),
        )
    }
    /// Index into the input batch.
    pub fn index(&self) -> usize {
        self.index
    }
    /// Column name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ColumnExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.index)
    }
}

impl PhysicalExpr for ColumnExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn nullable(&self) -> bool {
        self.nullable
    }
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        batch
            .columns()
            .get(self.index)
            .cloned()
            .map(ColumnarValue::Array)
            .ok_or_else(|| {
                Error::internal(format!(
                    "column {self} out of range ({} columns)",
                    batch.num_columns()
                ))
            })
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![]
    }
    fn column_index(&self) -> Option<usize> {
        Some(self.index)
    }
}
