//! `AggregateState`: the group table and accumulators of one running aggregation: folds
//! batches into groups, and emits them as final values or as intermediate states.

use arrow::array::{ArrayRef, BooleanArray, UInt32Array};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::hash_aggregate::group_values::{GroupValues, new_group_values};
use crate::exec::hash_aggregate::{AggregateMode, AggregateSpec};
use crate::functions::GroupsAccumulator;
use crate::physical_expr::case::null_as_false;
use crate::physical_expr::normalize::evaluate_keys;
use crate::physical_expr::{PhysicalExprRef, evaluate_predicate};

/// Groups and accumulators of one aggregation.
pub struct AggregateState {
    mode: AggregateMode,
    group_exprs: Vec<PhysicalExprRef>,
    aggregates: Vec<AggregateSpec>,
    /// For Final mode: first state column and width of each aggregate.
    state_offsets: Vec<(usize, usize)>,
    groups: Option<Box<dyn GroupValues>>,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    group_indices: Vec<u32>,
}

impl AggregateState {
    /// A state for `mode`; in Final mode the input has the group keys, then
    /// `state_widths[i]` state columns for aggregate `i`.
    pub fn try_new(
        mode: AggregateMode,
        group_exprs: Vec<PhysicalExprRef>,
        group_types: &[DataType],
        aggregates: Vec<AggregateSpec>,
        state_widths: &[usize],
    ) -> Result<Self> {
        let mut state_offsets = vec![];
        let mut offset = group_exprs.len();
        for w in state_widths {
            state_offsets.push((offset, *w));
            offset += w;
        }
        Ok(AggregateState {
            mode,
            groups: if group_exprs.is_empty() {
                None
            } else {
                Some(new_group_values(group_types)?)
            },
            group_exprs,
            accumulators: aggregates
                .iter()
                .map(|a| a.accumulator())
                .collect::<Result<Vec<_>>>()?,
            aggregates,
            state_offsets,
            group_indices: vec![],
        })
    }

    fn total_groups(&self) -> usize {
        match &self.groups {
            Some(g) => g.len(),
            None => 1,
        }
    }

    /// Number of groups held.
    pub fn num_groups(&self) -> usize {
        match &self.groups {
            Some(g) => g.len(),
            None => 1,
        }
    }

    /// Folds a batch (raw rows, or states in Final mode) into the groups.
    pub fn consume(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        match &mut self.groups {
            Some(gv) => {
                let keys = evaluate_keys(&self.group_exprs, batch)?;
                gv.intern(&keys, &mut self.group_indices)?;
            }
            None => {
                self.group_indices.clear();
                self.group_indices.resize(n, 0);
            }
        }
        let total = self.total_groups();
        for (i, spec) in self.aggregates.iter().enumerate() {
            let acc = &mut self.accumulators[i];
            match self.mode {
                AggregateMode::Final => {
                    let (start, len) = self.state_offsets[i];
                    let states: Vec<ArrayRef> = batch.columns()[start..start + len].to_vec();
                    acc.merge_batch(&states, &self.group_indices, total)?;
                }
                AggregateMode::Partial | AggregateMode::Single => {
                    let args = spec
                        .args
                        .iter()
                        .map(|e| e.evaluate(batch)?.into_array(n))
                        .collect::<Result<Vec<_>>>()?;
                    match &spec.filter {
                        None => acc.update_batch(&args, &self.group_indices, total)?,
                        Some(f) => {
                            let mask: BooleanArray =
                                null_as_false(&evaluate_predicate(f.as_ref(), batch)?);
                            let keep: Vec<u32> =
                                (0..n as u32).filter(|i| mask.value(*i as usize)).collect();
                            let idx = UInt32Array::from(keep.clone());
                            let args = args
                                .iter()
                                .map(|a| Ok(arrow::compute::take(a.as_ref(), &idx, None)?))
                                .collect::<Result<Vec<_>>>()?;
                            let groups: Vec<u32> = keep
                                .iter()
                                .map(|r| self.group_indices[*r as usize])
                                .collect();
                            acc.update_batch(&args, &groups, total)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Approximate bytes held.
    pub fn size(&self) -> usize {
        self.groups.as_ref().map(|g| g.size()).unwrap_or(0)
            + self.accumulators.iter().map(|a| a.size()).sum::<usize>()
            + self.group_indices.capacity() * 4
    }

    /// Emits every group as the group keys followed by each aggregate's intermediate state, and
    /// starts over with no groups (only with GROUP BY keys).
    pub fn emit_states(&mut self) -> Result<Vec<ArrayRef>> {
        let mut columns = match &mut self.groups {
            Some(gv) => gv.emit()?,
            None => vec![],
        };
        for acc in self.accumulators.iter_mut() {
            columns.extend(acc.state()?);
        }
        Ok(columns)
    }

    /// Emits every group (states in Partial mode, final values otherwise) as one batch of
    /// `schema`, and starts over with no groups.
    pub fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = match &mut self.groups {
            Some(gv) => gv.emit()?,
            None => {
                // one group even for empty input: make sure every accumulator knows it
                for (i, spec) in self.aggregates.iter().enumerate() {
                    let acc = &mut self.accumulators[i];
                    match self.mode {
                        AggregateMode::Final => {
                            let empty = spec
                                .state_types()?
                                .iter()
                                .map(arrow::array::new_empty_array)
                                .collect::<Vec<_>>();
                            acc.merge_batch(&empty, &[], 1)?;
                        }
                        _ => {
                            let empty = spec
                                .arg_types
                                .iter()
                                .map(arrow::array::new_empty_array)
                                .collect::<Vec<_>>();
                            acc.update_batch(&empty, &[], 1)?;
                        }
                    }
                }
                vec![]
            }
        };
        let rows = match &self.groups {
            Some(_) => columns.first().map(|c| c.len()).unwrap_or(0),
            None => 1,
        };
        for acc in self.accumulators.iter_mut() {
            match self.mode {
                AggregateMode::Partial => columns.extend(acc.state()?),
                _ => columns.push(acc.evaluate()?),
            }
        }
        to_schema(schema, columns, rows)
    }
}

/// A batch of `schema` from `columns` (accumulator output types must match the declared
/// schema, e.g. decimal precision).
pub fn to_schema(schema: &SchemaRef, columns: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch> {
    crate::exec::batch_with_schema(schema, columns, rows)
}
