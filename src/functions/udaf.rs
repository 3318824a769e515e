//! Aggregate user-defined functions: an [`Accumulator`] holding the state of one group.
//!
//! flint aggregates in two phases (partial per partition, then final after the shuffle), so an
//! accumulator both folds raw rows (`update_batch`) and merges the states of other accumulators
//! (`merge_batch`), and exposes its state as values (`state`). [`GroupsAccumulatorAdapter`]
//! runs one accumulator per group behind the engine's vectorized `GroupsAccumulator`: each batch's
//! rows are sorted by group (one `take`), and each group present gets a zero-copy slice, so the
//! work per batch does not grow with the number of groups.
//!
//! ```
//! use arrow::array::{ArrayRef, AsArray};
//! use arrow::datatypes::{DataType, Float64Type};
//! use datafusion_common::ScalarValue;
//! use flint::functions::udaf::{Accumulator, create_udaf};
//! use flint::prelude::*;
//!
//! /// Geometric mean: state is (sum of logs, count).
//! #[derive(Debug, Default)]
//! struct GeoMean { logs: f64, n: i64 }
//! impl Accumulator for GeoMean {
//!     fn update_batch(&mut self, values: &[ArrayRef]) -> flint::Result<()> {
//!         for v in values[0].as_primitive::<Float64Type>().iter().flatten() {
//!             self.logs += v.ln();
//!             self.n += 1;
//!         }
//!         Ok(())
//!     }
//!     fn merge_batch(&mut self, states: &[ArrayRef]) -> flint::Result<()> {
//!         self.logs += states[0].as_primitive::<Float64Type>().iter().flatten().sum::<f64>();
//!         self.n += states[1].as_primitive::<arrow::datatypes::Int64Type>().iter().flatten().sum::<i64>();
//!         Ok(())
//!     }
//!     fn state(&mut self) -> flint::Result<Vec<ScalarValue>> {
//!         Ok(vec![ScalarValue::from(self.logs), ScalarValue::from(self.n)])
//!     }
//!     fn evaluate(&mut self) -> flint::Result<ScalarValue> {
//!         Ok(ScalarValue::Float64((self.n > 0).then(|| (self.logs / self.n as f64).exp())))
//!     }
//! }
//! let geo_mean = create_udaf(
//!     "geo_mean",
//!     vec![DataType::Float64],
//!     DataType::Float64,
//!     vec![DataType::Float64, DataType::Int64],
//!     || Ok(Box::new(GeoMean::default())),
//! );
//! let ctx = SessionContext::new();
//! ctx.register_udaf(geo_mean);
//! let df = ctx.sql("SELECT geo_mean(x) AS g FROM (VALUES (1.0), (4.0)) t(x)").unwrap();
//! let batches = df.collect().unwrap();
//! assert_eq!(batches[0].column(0).as_primitive::<Float64Type>().value(0), 2.0);
//! ```

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, UInt32Array, new_empty_array};
use arrow::compute::take;
use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::functions::udf::udf_arg_types;
use crate::functions::{AggregateFunction, GroupsAccumulator};
use crate::logical::expr::{AggregateCall, Expr};

/// The state of one group of a user-defined aggregate.
pub trait Accumulator: Send + fmt::Debug {
    /// Folds raw input rows (the arguments, cast to the declared types) into the state.
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()>;
    /// Folds the states of other accumulators (one array per state column, as produced by
    /// [`state`](Self::state)) into this one.
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()>;
    /// The state, one value per declared state type.
    fn state(&mut self) -> Result<Vec<ScalarValue>>;
    /// The final result.
    fn evaluate(&mut self) -> Result<ScalarValue>;
    /// Approximate size in bytes (for memory accounting).
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// Creates a fresh accumulator for a new group.
pub type AccumulatorFactory = dyn Fn() -> Result<Box<dyn Accumulator>> + Send + Sync;

/// A user-defined aggregate function. Cheap to clone.
#[derive(Clone)]
pub struct AggregateUdf {
    name: String,
    arg_types: Vec<DataType>,
    return_type: DataType,
    state_types: Vec<DataType>,
    factory: Arc<AccumulatorFactory>,
}

/// An aggregate UDF named `name` over `arg_types` returning `return_type`, whose groups keep
/// states of `state_types`, each group's accumulator made by `factory`.
pub fn create_udaf(
    name: &str,
    arg_types: Vec<DataType>,
    return_type: DataType,
    state_types: Vec<DataType>,
    factory: impl Fn() -> Result<Box<dyn Accumulator>> + Send + Sync + 'static,
) -> AggregateUdf {
    AggregateUdf {
        name: name.to_lowercase(),
        arg_types,
        return_type,
        state_types,
        factory: Arc::new(factory),
    }
}

impl AggregateUdf {
    /// A call of this aggregate on `args`, for the DataFrame API (`group_by(..).agg(..)`).
    pub fn call(&self, args: Vec<Expr>) -> Expr {
        Expr::Aggregate(AggregateCall {
            func: Arc::new(self.clone()),
            args,
            distinct: false,
            filter: None,
        })
    }
}

impl fmt::Debug for AggregateUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AggregateUdf({})", self.name)
    }
}

impl AggregateFunction for AggregateUdf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        let args = udf_arg_types(&self.name, &self.arg_types, arg_types)?;
        Ok((args, self.return_type.clone()))
    }
    fn state_types(&self, _arg_types: &[DataType], _rt: &DataType) -> Result<Vec<DataType>> {
        Ok(self.state_types.clone())
    }
    fn create_accumulator(
        &self,
        _arg_types: &[DataType],
        _rt: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(GroupsAccumulatorAdapter {
            name: self.name.clone(),
            factory: self.factory.clone(),
            groups: vec![],
            state_types: self.state_types.clone(),
            return_type: self.return_type.clone(),
        }))
    }
}

/// Runs one [`Accumulator`] per group as a [`GroupsAccumulator`].
pub struct GroupsAccumulatorAdapter {
    name: String,
    factory: Arc<AccumulatorFactory>,
    groups: Vec<Box<dyn Accumulator>>,
    state_types: Vec<DataType>,
    return_type: DataType,
}

impl fmt::Debug for GroupsAccumulatorAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GroupsAccumulatorAdapter({}, {} groups)",
            self.name,
            self.groups.len()
        )
    }
}

impl GroupsAccumulatorAdapter {
    /// Hands each group's rows of `arrays` to its accumulator (`merge`: as states).
    fn dispatch(
        &mut self,
        arrays: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
        merge: bool,
    ) -> Result<()> {
        while self.groups.len() < total {
            self.groups.push((self.factory)()?);
        }
        let Some(&first) = group_indices.first() else {
            return Ok(());
        };
        let feed = |acc: &mut Box<dyn Accumulator>, part: &[ArrayRef]| {
            if merge {
                acc.merge_batch(part)
            } else {
                acc.update_batch(part)
            }
        };
        if group_indices.iter().all(|g| *g == first) {
            return feed(&mut self.groups[first as usize], arrays);
        }
        // the rows sorted by group (stable: a group sees its rows in order), one `take`, then a
        // zero-copy slice per group present in the batch
        let mut order: Vec<u32> = (0..group_indices.len() as u32).collect();
        order.sort_by_key(|r| group_indices[*r as usize]);
        let sorted_groups: Vec<u32> = order.iter().map(|r| group_indices[*r as usize]).collect();
        let order = UInt32Array::from(order);
        let sorted = arrays
            .iter()
            .map(|a| Ok(take(a.as_ref(), &order, None)?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let mut start = 0;
        while start < sorted_groups.len() {
            let g = sorted_groups[start];
            let end = start + sorted_groups[start..].partition_point(|x| *x == g);
            let part: Vec<ArrayRef> = sorted.iter().map(|a| a.slice(start, end - start)).collect();
            feed(&mut self.groups[g as usize], &part)?;
            start = end;
        }
        Ok(())
    }

    /// Builds a column of `t` from one value per group.
    fn column(&self, values: Vec<ScalarValue>, t: &DataType) -> Result<ArrayRef> {
        if values.is_empty() {
            return Ok(new_empty_array(t));
        }
        let values = values
            .into_iter()
            .map(|v| {
                if v.data_type() == *t {
                    Ok(v)
                } else if v.is_null() {
                    Ok(ScalarValue::try_from(t)?)
                } else {
                    Err(Error::execution(format!(
                        "{}: accumulator produced a {} value where {} was declared",
                        self.name,
                        v.data_type(),
                        t
                    )))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ScalarValue::iter_to_array(values)?)
    }
}

impl GroupsAccumulator for GroupsAccumulatorAdapter {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total_num_groups: usize,
    ) -> Result<()> {
        self.dispatch(values, group_indices, total_num_groups, false)
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total_num_groups: usize,
    ) -> Result<()> {
        self.dispatch(states, group_indices, total_num_groups, true)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let groups = std::mem::take(&mut self.groups);
        let mut columns: Vec<Vec<ScalarValue>> = vec![vec![]; self.state_types.len()];
        for mut acc in groups {
            let state = acc.state()?;
            if state.len() != self.state_types.len() {
                return Err(Error::execution(format!(
                    "{}: accumulator state has {} values, {} state types were declared",
                    self.name,
                    state.len(),
                    self.state_types.len()
                )));
            }
            for (col, v) in columns.iter_mut().zip(state) {
                col.push(v);
            }
        }
        columns
            .into_iter()
            .zip(&self.state_types)
            .map(|(values, t)| self.column(values, t))
            .collect()
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let groups = std::mem::take(&mut self.groups);
        let values = groups
            .into_iter()
            .map(|mut acc| acc.evaluate())
            .collect::<Result<Vec<_>>>()?;
        self.column(values, &self.return_type)
    }
    fn size(&self) -> usize {
        self.groups.iter().map(|a| a.size()).sum::<usize>()
            + self.groups.capacity() * std::mem::size_of::<Box<dyn Accumulator>>()
    }
}
