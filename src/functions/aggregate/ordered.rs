//! An aggregate with `ORDER BY` inside its call (`string_agg(x, ',' ORDER BY y DESC)`,
//! `array_agg(x ORDER BY y)`): the inner aggregate sees each group's rows in that order.
//!
//! The accumulator keeps the input arrays it was given, the sort keys encoded in Arrow's row
//! format (byte order is sort order), and per group which rows belong to it. At the end it sorts
//! each group's rows by their key bytes (stably, so ties keep input order), gathers the
//! arguments in that order with one `interleave`, and runs the inner aggregate once. Its state
//! (for spilling) is the group's rows: one list per argument plus a list of encoded keys. The
//! planner runs such aggregates in one phase, as it does DISTINCT ones.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryArray, ListArray};
use arrow::compute::SortOptions;
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, SortField};

use super::group_rows::{Flattened, GroupRows, list_of};
use crate::error::{Error, Result};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `inner(args ORDER BY keys)`: the call's arguments are the inner aggregate's, then the keys.
#[derive(Debug)]
pub struct OrderedAggregate {
    inner: Arc<dyn AggregateFunction>,
    /// How many of the arguments are the inner aggregate's (the rest are sort keys).
    n_args: usize,
    options: Vec<SortOptions>,
    /// The inner name and the key directions (calls with other directions differ).
    name: String,
}

impl OrderedAggregate {
    /// `inner` over its first `n_args` arguments, fed in the order of the remaining ones.
    pub fn new(
        inner: Arc<dyn AggregateFunction>,
        n_args: usize,
        options: Vec<SortOptions>,
    ) -> Self {
        let dirs: Vec<String> = options
            .iter()
            .map(|o| {
                format!(
                    "{} {}",
                    if o.descending { "DESC" } else { "ASC" },
                    if o.nulls_first {
                        "NULLS FIRST"
                    } else {
                        "NULLS LAST"
                    }
                )
            })
            .collect();
        let name = format!("{}[ORDER BY {}]", inner.name(), dirs.join(", "));
        OrderedAggregate {
            inner,
            n_args,
            options,
            name,
        }
    }

    fn split<'a>(&self, types: &'a [DataType]) -> Result<(&'a [DataType], &'a [DataType])> {
        if types.len() != self.n_args + self.options.len() {
            return Err(Error::internal("ordered aggregate arity"));
        }
        Ok(types.split_at(self.n_args))
    }
}

impl AggregateFunction for OrderedAggregate {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        let (args, keys) = self.split(arg_types)?;
        let (mut coerced, ret) = self.inner.signature(args)?;
        for k in keys {
            if !RowConverter::supports_fields(&[SortField::new(k.clone())]) {
                return Err(Error::type_mismatch(format!(
                    "{}(): cannot ORDER BY a value of type {k}",
                    self.inner.name()
                )));
            }
        }
        coerced.extend(keys.iter().cloned());
        Ok((coerced, ret))
    }
    fn state_types(&self, arg_types: &[DataType], _rt: &DataType) -> Result<Vec<DataType>> {
        let (args, _) = self.split(arg_types)?;
        let mut out: Vec<DataType> = args.iter().map(list_of).collect();
        out.push(list_of(&DataType::Binary));
        Ok(out)
    }
    fn create_accumulator(
        &self,
        arg_types: &[DataType],
        return_type: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let (args, keys) = self.split(arg_types)?;
        let fields = keys
            .iter()
            .zip(&self.options)
            .map(|(t, o)| SortField::new_with_options(t.clone(), *o))
            .collect();
        Ok(Box::new(OrderedAccumulator {
            inner: self.inner.clone(),
            arg_types: args.to_vec(),
            return_type: return_type.clone(),
            converter: RowConverter::new(fields)?,
            batches: vec![],
            rows: GroupRows::default(),
            bytes: 0,
        }))
    }
    fn null_on_empty(&self) -> bool {
        self.inner.null_on_empty()
    }
    fn single_phase(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct OrderedAccumulator {
    inner: Arc<dyn AggregateFunction>,
    arg_types: Vec<DataType>,
    return_type: DataType,
    converter: RowConverter,
    /// Kept inputs: the arguments and the encoded keys of their rows.
    batches: Vec<(Vec<ArrayRef>, BinaryArray)>,
    /// Per group, its rows in `batches`, in arrival order.
    rows: GroupRows,
    bytes: usize,
}

/// Every group's rows, sorted and gathered: the arguments, the keys, and the groups' ranges.
struct Gathered {
    args: Vec<ArrayRef>,
    keys: ArrayRef,
    rows: Flattened,
}

impl OrderedAccumulator {
    fn keep(&mut self, args: Vec<ArrayRef>, keys: BinaryArray) -> usize {
        self.bytes += args
            .iter()
            .map(|a| a.get_array_memory_size())
            .sum::<usize>()
            + keys.get_array_memory_size();
        self.batches.push((args, keys));
        self.batches.len() - 1
    }

    /// Takes every group's rows, each group sorted by its keys, and resets.
    fn gather(&mut self) -> Result<Gathered> {
        let batches = std::mem::take(&mut self.batches);
        self.bytes = 0;
        self.rows
            .sort_each(|a, b| batches[a.0].1.value(a.1).cmp(batches[b.0].1.value(b.1)));
        let rows = self.rows.take()?;
        let mut args = Vec::with_capacity(self.arg_types.len());
        for (i, t) in self.arg_types.iter().enumerate() {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.0[i].as_ref()).collect();
            args.push(rows.gather(&parts, t)?);
        }
        let parts: Vec<&dyn Array> = batches.iter().map(|b| &b.1 as &dyn Array).collect();
        let keys = rows.gather(&parts, &DataType::Binary)?;
        Ok(Gathered { args, keys, rows })
    }
}

impl GroupsAccumulator for OrderedAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        let n = self.arg_types.len();
        let keys = self.converter.convert_columns(&values[n..])?;
        let keys = BinaryArray::from_iter_values(keys.iter().map(|r| r.data()));
        let b = self.keep(values[..n].to_vec(), keys);
        self.rows.add_rows(b, group_indices, total);
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        let lists: Vec<&ListArray> = states.iter().map(|s| s.as_list::<i32>()).collect();
        let Some((key_list, arg_lists)) = lists.split_last() else {
            return Err(Error::internal("ordered aggregate state"));
        };
        let args = arg_lists.iter().map(|l| l.values().clone()).collect();
        let keys = key_list.values().as_binary::<i32>().clone();
        let b = self.keep(args, keys);
        // every state list of a row has the same length: the keys' offsets stand for all
        self.rows.add_lists(b, key_list, group_indices, total);
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let g = self.gather()?;
        let mut out = Vec::with_capacity(g.args.len() + 1);
        for a in g.args {
            out.push(g.rows.lists(a)?);
        }
        out.push(g.rows.lists(g.keys)?);
        Ok(out)
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let g = self.gather()?;
        let groups = g.rows.offsets.len() - 1;
        // the inner aggregate sees each group's rows in order
        let mut group_indices = Vec::with_capacity(g.rows.indices.len());
        for (i, w) in g.rows.offsets.windows(2).enumerate() {
            group_indices.extend(std::iter::repeat_n(i as u32, (w[1] - w[0]) as usize));
        }
        let mut inner = self
            .inner
            .create_accumulator(&self.arg_types, &self.return_type)?;
        inner.update_batch(&g.args, &group_indices, groups)?;
        let out = inner.evaluate()?;
        // every group has a value, also one the inner aggregate never saw a row of
        if out.len() != groups {
            return Err(Error::internal(format!(
                "ordered aggregate: {} values for {groups} groups",
                out.len()
            )));
        }
        Ok(out)
    }
    fn size(&self) -> usize {
        self.bytes + self.rows.size()
    }
}
