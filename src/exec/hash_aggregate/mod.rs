//! `HashAggregateExec`: GROUP BY with aggregates, in one of three modes.
//!
//! ```text
//!   Partial (per input partition)      Final (per key partition)
//!   rows ─▶ group table ─▶ states ─▶ hash exchange on keys ─▶ group table ─▶ merge states ─▶ values
//!   Single: rows ─▶ group table ─▶ values (input already partitioned on the keys, or DISTINCT)
//! ```
//! Keys are interned to dense group indices (`group_values.rs`); accumulators
//! fold whole arrays by those indices (`state.rs`). Without GROUP BY there is exactly one
//! group, so an empty input still yields one row (`count(*) = 0`, `sum = NULL`).
//!
//! Under a memory limit (`stream.rs`): a Partial aggregation that is refused memory emits its
//! groups early; a Final or Single one writes its groups' states to hash buckets on disk and
//! merges them bucket by bucket at the end (`spill.rs`).

mod column_group_values;
pub mod group_values;
pub mod spill;
pub mod state;
pub mod stream;

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::functions::aggregate::distinct::DistinctAccumulator;
use crate::functions::{AggregateFunction, GroupsAccumulator};
use crate::physical::partitioning::key_forms;
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};
use state::AggregateState;
use stream::AggregateStream;

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
    /// Types of the state written when a Final or Single aggregation spills (a DISTINCT
    /// aggregate keeps each group's set of distinct values).
    pub fn spill_state_types(&self) -> Result<Vec<DataType>> {
        if self.distinct {
            Ok(vec![DistinctAccumulator::state_type()])
        } else {
            self.state_types()
        }
    }
    fn accumulator(&self) -> Result<Box<dyn GroupsAccumulator>> {
        let inner = self
            .func
            .create_accumulator(&self.arg_types, &self.return_type)?;
        Ok(if self.distinct {
            Box::new(DistinctAccumulator::new(inner, self.arg_types.clone()))
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

impl ExecutionPlan for HashAggregateExec {
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        let groups = self.group_exprs.iter().map(|(e, _)| e);
        let aggregates = self
            .aggregates
            .iter()
            .flat_map(|a| a.args.iter().chain(a.filter.as_ref()));
        groups.chain(aggregates).collect()
    }
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
        let input = self.input.execute(partition, ctx)?;
        let widths = self
            .aggregates
            .iter()
            .map(|a| Ok(a.state_types()?.len()))
            .collect::<Result<Vec<_>>>()?;
        let group_types = self
            .group_exprs
            .iter()
            .map(|(e, _)| e.data_type().clone())
            .collect::<Vec<_>>();
        let state = AggregateState::try_new(
            self.mode,
            self.group_exprs.iter().map(|(e, _)| e.clone()).collect(),
            &group_types,
            self.aggregates.clone(),
            &widths,
        )?;
        let stream = AggregateStream::new(
            self.mode,
            self.group_exprs.len(),
            self.aggregates.clone(),
            input,
            state,
            self.schema.clone(),
            ctx,
            self.metrics.clone(),
            partition,
        );
        Ok(Box::new(MeteredIter::new(stream, self.metrics.clone())))
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
