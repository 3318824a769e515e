//! `HashAggregateExec`: GROUP BY with aggregates, in one of three modes.
//!
//! ```text
//!   Partial (per input partition)      Final (per key partition)
//!   rows ─▶ group table ─▶ states ─▶ hash exchange on keys ─▶ group table ─▶ merge states ─▶ values
//!   Single: rows ─▶ group table ─▶ values (input already partitioned on the keys, or DISTINCT)
//! ```
//! Keys are interned to dense group indices (`group_values.rs`); accumulators
//! fold whole arrays by those indices. Without GROUP BY there is exactly one
//! group, so an empty input still yields one row (`count(*) = 0`, `sum = NULL`).

pub mod group_values;

use std::any::Any;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::functions::aggregate::distinct::DistinctAccumulator;
use crate::functions::{AggregateFunction, GroupsAccumulator};
use crate::physical::partitioning::key_forms;
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::case::null_as_false;
use crate::physical_expr::column::ColumnExpr;
use crate::physical_expr::{PhysicalExprRef, evaluate_predicate};
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};
use group_values::{GroupValues, new_group_values};

/// Which phase of aggregation an operator performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateMode {
    /// Raw rows in, intermediate states out.
    Partial,
    /// States in, final values out.
    Final,
    /// Raw rows in, final values out.
    Single,
}

/// One aggregate computed by the operator.
#[derive(Debug, Clone)]
pub struct AggregateSpec {
    /// The function.
    pub func: Arc<dyn AggregateFunction>,
    /// Argument expressions (over the raw input; unused in Final mode).
    pub args: Vec<PhysicalExprRef>,
    /// Argument types.
    pub arg_types: Vec<DataType>,
    /// Result type.
    pub return_type: DataType,
    /// `DISTINCT`.
    pub distinct: bool,
    /// `FILTER (WHERE ...)` over the raw input.
    pub filter: Option<PhysicalExprRef>,
    /// Output column name.
    pub name: String,
    /// Whether the result may be NULL.
    pub nullable: bool,
}

impl AggregateSpec {
    fn state_types(&self) -> Result<Vec<DataType>> {
        self.func.state_types(&self.arg_types, &self.return_type)
    }
    fn accumulator(&self) -> Result<Box<dyn GroupsAccumulator>> {
        let inner = self
            .func
            .create_accumulator(&self.arg_types, &self.return_type)?;
        Ok(if self.distinct {
            Box::new(DistinctAccumulator::new(inner))
        } else {
            inner
        })
    }
}

/// Hash aggregation.
#[derive(Debug)]
pub struct HashAggregateExec {
    mode: AggregateMode,
    group_exprs: Vec<(PhysicalExprRef, String)>,
    aggregates: Vec<AggregateSpec>,
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    metrics: Arc<Metrics>,
}

impl HashAggregateExec {
    /// An aggregation; `group_fields` are the output fields of the group keys.
    pub fn try_new(
        mode: AggregateMode,
        group_exprs: Vec<(PhysicalExprRef, String)>,
        group_fields: Vec<Field>,
        aggregates: Vec<AggregateSpec>,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Self> {
        let mut fields = group_fields;
        for a in &aggregates {
            match mode {
                AggregateMode::Partial => {
                    for (i, t) in a.state_types()?.into_iter().enumerate() {
                        fields.push(Field::new(format!("{}[{i}]", a.name), t, true));
                    }
                }
                _ => fields.push(Field::new(&a.name, a.return_type.clone(), a.nullable)),
            }
        }
        Ok(HashAggregateExec {
            mode,
            group_exprs,
            aggregates,
            input,
            schema: Arc::new(Schema::new(fields)),
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// The mode.
    pub fn mode(&self) -> AggregateMode {
        self.mode
    }
    /// Group key expressions.
    pub fn group_exprs(&self) -> &[(PhysicalExprRef, String)] {
        &self.group_exprs
    }
    /// The aggregates.
    pub fn aggregates(&self) -> &[AggregateSpec] {
        &self.aggregates
    }

    /// Column references to this operator's group key outputs (for the Final phase).
    pub fn output_group_columns(&self) -> Vec<PhysicalExprRef> {
        (0..self.group_exprs.len())
            .map(|i| {
                let f = self.schema.field(i);
                Arc::new(ColumnExpr::new(
                    f.name().clone(),
                    i,
                    f.data_type().clone(),
                    f.is_nullable(),
                )) as PhysicalExprRef
            })
            .collect()
    }
}

struct AggregateState {
    mode: AggregateMode,
    group_exprs: Vec<PhysicalExprRef>,
    aggregates: Vec<AggregateSpec>,
    /// For Final mode: first state column of each aggregate.
    state_offsets: Vec<(usize, usize)>,
    groups: Option<Box<dyn GroupValues>>,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    group_indices: Vec<u32>,
}

impl AggregateState {
    fn total_groups(&self) -> usize {
        match &self.groups {
            Some(g) => g.len(),
            None => 1,
        }
    }

    fn consume(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        match &mut self.groups {
            Some(gv) => {
                let keys = self
                    .group_exprs
                    .iter()
                    .map(|e| e.evaluate(batch)?.into_array(n))
                    .collect::<Result<Vec<_>>>()?;
                let keys = crate::physical_expr::normalize::normalize_keys(keys)?;
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

    fn size(&self) -> usize {
        self.groups.as_ref().map(|g| g.size()).unwrap_or(0)
            + self.accumulators.iter().map(|a| a.size()).sum::<usize>()
            + self.group_indices.capacity() * 4
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
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
        // accumulator output types must match the declared schema (e.g. decimal precision)
        let columns = columns
            .into_iter()
            .zip(schema.fields())
            .map(|(c, f)| {
                if c.data_type() != f.data_type() {
                    crate::physical_expr::cast::cast_array(&c, f.data_type(), false)
                } else {
                    Ok(c)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?)
    }
}

impl ExecutionPlan for HashAggregateExec {
    fn name(&self) -> &'static str {
        "HashAggregateExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        match self.input.output_partitioning() {
            // after a Final/Single aggregation over hash-partitioned keys, output stays partitioned by them
            Partitioning::Hash(keys, n) if self.mode != AggregateMode::Partial => {
                let mut mapped = vec![];
                for k in &keys {
                    let forms: Vec<String> = key_forms(k).iter().map(|f| f.to_string()).collect();
                    let pos = self
                        .group_exprs
                        .iter()
                        .position(|(g, _)| forms.contains(&g.to_string()));
                    match pos {
                        Some(p) => {
                            let f = self.schema.field(p);
                            mapped.push(Arc::new(ColumnExpr::new(
                                f.name().clone(),
                                p,
                                f.data_type().clone(),
                                f.is_nullable(),
                            )) as PhysicalExprRef);
                        }
                        None => return Partitioning::Unknown(n),
                    }
                }
                Partitioning::Hash(mapped, n)
            }
            other => Partitioning::Unknown(other.partition_count()),
        }
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        match self.mode {
            AggregateMode::Partial => vec![Distribution::Unspecified],
            _ if self.group_exprs.is_empty() => vec![Distribution::SinglePartition],
            _ => vec![Distribution::HashPartitioned(
                self.group_exprs.iter().map(|(e, _)| e.clone()).collect(),
            )],
        }
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let g = self.group_exprs.len();
        let group_fields = self.schema.fields()[..g]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        Ok(Arc::new(HashAggregateExec::try_new(
            self.mode,
            self.group_exprs.clone(),
            group_fields,
            self.aggregates.clone(),
            children.remove(0),
        )?))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let mut input = Some(self.input.execute(partition, ctx)?);
        let g = self.group_exprs.len();
        let mut state_offsets = vec![];
        let mut offset = g;
        for a in &self.aggregates {
            let len = a.state_types()?.len();
            state_offsets.push((offset, len));
            offset += len;
        }
        let group_types = self
            .group_exprs
            .iter()
            .map(|(e, _)| e.data_type().clone())
            .collect::<Vec<_>>();
        let mut state = AggregateState {
            mode: self.mode,
            group_exprs: self.group_exprs.iter().map(|(e, _)| e.clone()).collect(),
            aggregates: self.aggregates.clone(),
            state_offsets,
            groups: if g == 0 {
                None
            } else {
                Some(new_group_values(&group_types)?)
            },
            accumulators: self
                .aggregates
                .iter()
                .map(|a| a.accumulator())
                .collect::<Result<Vec<_>>>()?,
            group_indices: vec![],
        };
        let schema = self.schema.clone();
        let batch_size = ctx.batch_size();
        let mut reservation = ctx
            .memory
            .reserve(format!("HashAggregateExec[{partition}]"));
        let cancel = ctx.cancel.clone();
        let mut output: Option<std::vec::IntoIter<RecordBatch>> = None;
        let iter = std::iter::from_fn(move || -> Option<Result<RecordBatch>> {
            if output.is_none() {
                let mut run = || -> Result<Vec<RecordBatch>> {
                    for b in input.take().into_iter().flatten() {
                        cancel.check()?;
                        let b = b?;
                        if b.num_rows() == 0 {
                            continue;
                        }
                        state.consume(&b)?;
                        reservation.try_resize(state.size())?;
                    }
                    let out = state.finish(&schema)?;
                    let mut batches = vec![];
                    let mut off = 0;
                    while off < out.num_rows() {
                        let len = batch_size.min(out.num_rows() - off);
                        batches.push(out.slice(off, len));
                        off += len;
                    }
                    if out.num_rows() == 0 && g == 0 {
                        batches.push(out);
                    }
                    Ok(batches)
                };
                match run() {
                    Ok(v) => output = Some(v.into_iter()),
                    Err(e) => {
                        output = Some(Vec::new().into_iter());
                        return Some(Err(e));
                    }
                }
            }
            output.as_mut().and_then(|o| o.next()).map(Ok)
        });
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let mode = match self.mode {
            AggregateMode::Partial => "Partial",
            AggregateMode::Final => "Final",
            AggregateMode::Single => "Single",
        };
        let groups = self
            .group_exprs
            .iter()
            .map(|(e, _)| e.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let aggs = self
            .aggregates
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
            .join(", ");
        format!("mode={mode}, gby=[{groups}], aggr=[{aggs}]")
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}

/// Fails when an aggregate cannot run in two phases.
pub fn check_two_phase(aggregates: &[AggregateSpec]) -> Result<()> {
    if aggregates.iter().any(|a| a.distinct) {
        return Err(Error::internal(
            "DISTINCT aggregates need single-phase aggregation",
        ));
    }
    Ok(())
}
