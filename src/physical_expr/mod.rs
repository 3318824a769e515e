//! Physical expressions: evaluated against a `RecordBatch`, producing an array
//! or a scalar ([`ColumnarValue`]). Built from logical `Expr`s by `planner.rs`.

pub mod binary;
pub mod case;
pub mod cast;
pub mod coalesce;
pub mod column;
pub mod decimal_arith;
pub mod in_list;
pub mod like;
pub mod literal;
pub mod normalize;
pub mod planner;
pub mod scalar_fn;
pub mod subquery;
pub mod unary;

use std::fmt::{Debug, Display};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};

pub use planner::create_physical_expr;

/// The value of an expression over a batch: a whole column, or one value for every row.
#[derive(Debug, Clone)]
pub enum ColumnarValue {
    /// One value per row.
    Array(ArrayRef),
    /// The same value for every row.
    Scalar(ScalarValue),
}

impl ColumnarValue {
    /// The data type of the value.
    pub fn data_type(&self) -> DataType {
        match self {
            ColumnarValue::Array(a) => a.data_type().clone(),
            ColumnarValue::Scalar(s) => s.data_type(),
        }
    }

    /// Materializes the value as an array of `num_rows` rows.
    pub fn into_array(self, num_rows: usize) -> Result<ArrayRef> {
        match self {
            ColumnarValue::Array(a) => Ok(a),
            ColumnarValue::Scalar(s) => Ok(s.to_array_of_size(num_rows)?),
        }
    }

    /// Materializes the value as an array, by reference.
    pub fn to_array(&self, num_rows: usize) -> Result<ArrayRef> {
        self.clone().into_array(num_rows)
    }

    /// Wraps the value for Arrow's `Datum` kernels (scalars stay scalars).
    pub fn to_datum(&self) -> Result<Box<dyn arrow::array::Datum>> {
        Ok(match self {
            ColumnarValue::Array(a) => Box::new(a.clone()),
            ColumnarValue::Scalar(s) => Box::new(s.to_scalar()?),
        })
    }
}

/// An expression ready to evaluate on batches.
pub trait PhysicalExpr: Debug + Display + Send + Sync {
    /// The type of the result.
    fn data_type(&self) -> &DataType;

    /// Whether the result may contain NULLs.
    fn nullable(&self) -> bool {
        true
    }

    /// Evaluates the expression on every row of `batch`.
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue>;

    /// Sub-expressions.
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>>;

    /// The value, when this expression is a literal.
    fn literal_value(&self) -> Option<&ScalarValue> {
        None
    }

    /// This expression as a subquery, when it is one.
    fn as_subquery(&self) -> Option<&subquery::SubqueryExpr> {
        None
    }

    /// The input column index, when this expression is a plain column reference.
    fn column_index(&self) -> Option<usize> {
        None
    }

    /// For a partitioning key that several always-equal columns stand for (the keys of an
    /// inner join, see `physical::partitioning::EquivalentKey`), those columns.
    fn equivalent_columns(&self) -> Option<&[Arc<dyn PhysicalExpr>]> {
        None
    }

    /// Evaluates only on the rows where `selection` is true; other rows of the result are NULL.
    /// Used by CASE and short-circuit AND/OR so that, e.g., a division guarded by a WHEN never
    /// runs on the rows the guard excludes.
    fn evaluate_selection(
        &self,
        batch: &RecordBatch,
        selection: &BooleanArray,
    ) -> Result<ColumnarValue> {
        let true_count = selection.true_count();
        if true_count == batch.num_rows() && selection.null_count() == 0 {
            return self.evaluate(batch);
        }
        let filtered = arrow::compute::filter_record_batch(batch, selection)?;
        let value = self.evaluate(&filtered)?;
        match value {
            ColumnarValue::Scalar(s) => Ok(ColumnarValue::Scalar(s)),
            ColumnarValue::Array(a) => Ok(ColumnarValue::Array(scatter(selection, a.as_ref())?)),
        }
    }
}

/// A shared physical expression.
pub type PhysicalExprRef = Arc<dyn PhysicalExpr>;

/// A sort key for operators: expression plus Arrow sort options.
#[derive(Debug, Clone)]
pub struct PhysicalSortExpr {
    /// The key.
    pub expr: PhysicalExprRef,
    /// Direction and NULL placement.
    pub options: arrow::compute::SortOptions,
}

impl std::fmt::Display for PhysicalSortExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}{}",
            self.expr,
            if self.options.descending {
                "DESC"
            } else {
                "ASC"
            },
            if self.options.nulls_first {
                " NULLS FIRST"
            } else {
                " NULLS LAST"
            }
        )
    }
}

/// Evaluates sort keys into arrays, one per key.
pub fn evaluate_sort_keys(
    keys: &[PhysicalSortExpr],
    batch: &RecordBatch,
) -> Result<Vec<arrow::compute::SortColumn>> {
    keys.iter()
        .map(|k| {
            Ok(arrow::compute::SortColumn {
                values: k.expr.evaluate(batch)?.into_array(batch.num_rows())?,
                options: Some(k.options),
            })
        })
        .collect()
}

/// Spreads `values` (one per true slot of `mask`) back to the length of `mask`, NULL elsewhere.
pub fn scatter(mask: &BooleanArray, values: &dyn Array) -> Result<ArrayRef> {
    let mut indices: Vec<Option<u32>> = Vec::with_capacity(mask.len());
    let mut next = 0u32;
    for i in 0..mask.len() {
        if mask.is_valid(i) && mask.value(i) {
            indices.push(Some(next));
            next += 1;
        } else {
            indices.push(None);
        }
    }
    let idx = arrow::array::UInt32Array::from(indices);
    Ok(arrow::compute::take(values, &idx, None)?)
}

/// Evaluates a predicate to a boolean array of the batch's length (NULL counts as false for filters
/// only at the caller).
pub fn evaluate_predicate(expr: &dyn PhysicalExpr, batch: &RecordBatch) -> Result<BooleanArray> {
    let value = expr.evaluate(batch)?.into_array(batch.num_rows())?;
    value
        .as_any()
        .downcast_ref::<BooleanArray>()
        .cloned()
        .ok_or_else(|| Error::internal(format!("predicate {expr} did not evaluate to booleans")))
}
