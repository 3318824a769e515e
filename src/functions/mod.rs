//! Scalar and aggregate functions: the traits user-defined functions implement,
//! the built-in library, and the registry the SQL planner looks names up in.

pub mod aggregate;
pub mod expr_fn;
pub mod registry;
pub mod scalar;
pub mod udaf;
pub mod udf;

use std::fmt::Debug;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use crate::error::Result;
pub use crate::physical_expr::ColumnarValue;

pub use registry::FunctionRegistry;

/// A scalar function: one output value per input row, computed on whole arrays.
pub trait ScalarFunction: Debug + Send + Sync {
    /// The name SQL calls it by (lower case).
    fn name(&self) -> &str;

    /// Given the argument types, the types the arguments must be cast to and the return type.
    /// Fails with a type error naming the function when the arguments do not fit.
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)>;

    /// Computes the function. Arguments have the types `signature` asked for; `num_rows` is the
    /// batch length (needed when every argument is a scalar).
    fn invoke(&self, args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue>;

    /// Whether the function may return different results for the same arguments (`random()`).
    fn volatile(&self) -> bool {
        false
    }
}

/// An aggregate function such as `sum`: folds many rows of a group into one value.
pub trait AggregateFunction: Debug + Send + Sync {
    /// The name SQL calls it by (lower case).
    fn name(&self) -> &str;

    /// Given the argument types, the types the arguments must be cast to and the return type.
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)>;

    /// The types of the intermediate state (partial aggregation output), for the coerced args.
    fn state_types(&self, arg_types: &[DataType], return_type: &DataType) -> Result<Vec<DataType>>;

    /// A new accumulator for many groups at once.
    fn create_accumulator(
        &self,
        arg_types: &[DataType],
        return_type: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>>;

    /// Whether the result of this aggregate over zero rows is NULL (sum, min) rather than a value (count).
    fn null_on_empty(&self) -> bool {
        true
    }

    /// Whether it must see all of a group's rows in one accumulator (no partial aggregation
    /// whose states are merged later), as an aggregate with ORDER BY inside its call must.
    fn single_phase(&self) -> bool {
        false
    }
}

/// Accumulates many groups at once, vectorized: each call gets whole arrays and the group index of each row.
///
/// Group indices are dense (`0..total_num_groups`); a new group index may appear in any call.
pub trait GroupsAccumulator: Send + Debug {
    /// Folds raw input rows into their groups. `values` are the aggregate's (coerced) arguments.
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total_num_groups: usize,
    ) -> Result<()>;

    /// Folds intermediate states (as produced by `state`) into their groups.
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total_num_groups: usize,
    ) -> Result<()>;

    /// Emits the intermediate state of every group (one array per state column) and resets.
    fn state(&mut self) -> Result<Vec<ArrayRef>>;

    /// Emits the final value of every group and resets.
    fn evaluate(&mut self) -> Result<ArrayRef>;

    /// Approximate heap size in bytes, for memory accounting.
    fn size(&self) -> usize;
}
