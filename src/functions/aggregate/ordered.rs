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

use arrow::array::{Array, ArrayRef, AsArray, BinaryArray, ListArray, new_empty_array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::SortOptions;
use arrow::datatypes::{DataType, Field};
use arrow::row::{RowConverter, SortField};

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

fn list_of(t: &DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", t.clone(), true)))
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
            rows: vec![],
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
    /// Per group, its rows as (batch, row), in arrival order.
    rows: Vec<Vec<(usize, usize)>>,
    bytes: usize,
}

/// Every group's rows, gathered: the arguments, the keys, and each group's row range.
struct Gathered {
    args: Vec<ArrayRef>,
    keys: ArrayRef,
    offsets: Vec<i32>,
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
        let mut rows = std::mem::take(&mut self.rows);
        let batches = std::mem::take(&mut self.batches);
        self.bytes = 0;
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0i32);
        let mut indices = vec![];
        for g in &mut rows {
            g.sort_by(|a, b| batches[a.0].1.value(a.1).cmp(batches[b.0].1.value(b.1)));
            indices.extend_from_slice(g);
            offsets.push(
                i32::try_from(indices.len()).map_err(|_| {
                    Error::execution("ordered aggregate: a group of over 2^31 rows")
                })?,
            );
        }
        let mut args = Vec::with_capacity(self.arg_types.len());
        for (i, t) in self.arg_types.iter().enumerate() {
            args.push(if indices.is_empty() {
                new_empty_array(t)
            } else {
                let parts: Vec<&dyn Array> = batches.iter().map(|b| b.0[i].as_ref()).collect();
                arrow::compute::interleave(&parts, &indices)?
            });
        }
        let keys = if indices.is_empty() {
            new_empty_array(&DataType::Binary)
        } else {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| &b.1 as &dyn Array).collect();
            arrow::compute::interleave(&parts, &indices)?
        };
        Ok(Gathered {
            args,
            keys,
            offsets,
        })
    }
}

fn list(values: ArrayRef, offsets: &[i32], valid: &NullBuffer) -> Result<ArrayRef> {
    let field = Arc::new(Field::new("item", values.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.to_vec().into()),
        values,
        Some(valid.clone()),
    )?))
}

impl GroupsAccumulator for OrderedAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.rows.resize(total, vec![]);
        let n = self.arg_types.len();
        let keys = self.converter.convert_columns(&values[n..])?;
        let keys = BinaryArray::from_iter_values(keys.iter().map(|r| r.as_ref().to_vec()));
        let b = self.keep(values[..n].to_vec(), keys);
        for (row, g) in group_indices.iter().enumerate() {
            self.rows[*g as usize].push((b, row));
        }
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.rows.resize(total, vec![]);
        let lists: Vec<&ListArray> = states.iter().map(|s| s.as_list::<i32>()).collect();
        let Some((key_list, arg_lists)) = lists.split_last() else {
            return Err(Error::internal("ordered aggregate state"));
        };
        let args = arg_lists.iter().map(|l| l.values().clone()).collect();
        let keys = key_list.values().as_binary::<i32>().clone();
        let b = self.keep(args, keys);
        let offsets = key_list.value_offsets();
        for (row, g) in group_indices.iter().enumerate() {
            if key_list.is_null(row) {
                continue;
            }
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            self.rows[*g as usize].extend((start..end).map(|i| (b, i)));
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let groups = self.rows.len();
        let valid = NullBuffer::from(self.rows.iter().map(|g| !g.is_empty()).collect::<Vec<_>>());
        let g = self.gather()?;
        debug_assert_eq!(g.offsets.len(), groups + 1);
        let mut out = Vec::with_capacity(g.args.len() + 1);
        for a in g.args {
            out.push(list(a, &g.offsets, &valid)?);
        }
        out.push(list(g.keys, &g.offsets, &valid)?);
        Ok(out)
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let groups = self.rows.len();
        let g = self.gather()?;
        // the inner aggregate sees each group's rows in order
        let mut group_indices = Vec::with_capacity(g.args.first().map_or(0, |a| a.len()));
        for (i, w) in g.offsets.windows(2).enumerate() {
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
        self.bytes
            + self
                .rows
                .iter()
                .map(|g| 24 + g.capacity() * 16)
                .sum::<usize>()
    }
}
