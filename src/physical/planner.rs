//! Logical plan → physical operators. Each logical node maps to the operator
//! of the same name (`Filter` → `FilterExec`); aggregation becomes two phases,
//! sorting becomes per-partition sort plus a sort-merge exchange, and joins
//! pick hash or nested-loop, build side and broadcast (see `join_selection.rs`).
//! Exchanges for other distribution needs are added afterwards by
//! `enforce_distribution`.

use std::sync::Arc;

use arrow::compute::SortOptions;
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::catalog::ScanArgs;
use crate::config::SessionConfig;
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::exchange::{ExchangeExec, ExchangeMode};
use crate::exec::filter::FilterExec;
use crate::exec::hash_aggregate::{AggregateMode, AggregateSpec, HashAggregateExec};
use crate::exec::limit::LimitExec;
use crate::exec::map_partitions::MapPartitionsExec;
use crate::exec::projection::ProjectionExec;
use crate::exec::recursive_query::RecursiveQueryExec;
use crate::exec::sample::SampleExec;
use crate::exec::sort::SortExec;
use crate::exec::union::UnionExec;
use crate::exec::unnest::UnnestExec;
use crate::exec::values::ValuesExec;
use crate::logical::expr::Expr;
use crate::logical::plan::{LogicalPlan, RepartitionScheme};
use crate::logical::schema::PlanSchema;
use crate::physical::enforce_distribution::{enforce_distribution, enforce_distribution_with};
use crate::physical::estimates::PlanEstimates;
use crate::physical::join_selection::plan_join;
use crate::physical::runtime_filters;
use crate::physical::statistics::estimate_rows;
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::subquery::SubqueryRunner;
use crate::physical_expr::{PhysicalExprRef, PhysicalSortExpr, create_physical_expr};

/// Turns logical plans into executable operator trees.
#[derive(Debug, Clone)]
pub struct PhysicalPlanner {
    /// Session settings (partitions, broadcast threshold).
    pub config: Arc<SessionConfig>,
    /// Runs subqueries that remain inside expressions.
    pub runner: Option<Arc<dyn SubqueryRunner>>,
    /// Where to record each operator's estimated rows (for EXPLAIN), if anywhere.
    pub estimates: Option<Arc<PlanEstimates>>,
}

impl PhysicalPlanner {
    /// A planner.
    pub fn new(config: Arc<SessionConfig>, runner: Option<Arc<dyn SubqueryRunner>>) -> Self {
        PhysicalPlanner {
            config,
            runner,
            estimates: None,
        }
    }

    /// The same planner, recording estimated rows per operator into `estimates`.
    pub fn with_estimates(mut self, estimates: Arc<PlanEstimates>) -> Self {
        self.estimates = Some(estimates);
        self
    }

    /// Plans `plan`, inserts the exchanges its operators need and adds runtime filters.
    pub fn create_physical_plan(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        let p = self.plan(plan)?;
        let p = self.enforce(p)?;
        if !self.config.runtime_filters {
            return Ok(p);
        }
        match &self.estimates {
            Some(est) => {
                runtime_filters::add_runtime_filters_with(p, &mut |from, to| est.inherit(from, to))
            }
            None => runtime_filters::add_runtime_filters(p),
        }
    }

    /// Inserts exchanges, keeping the estimates of rebuilt operators.
    fn enforce(&self, p: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
        match &self.estimates {
            Some(est) => {
                enforce_distribution_with(p, &self.config, &mut |from, to| est.inherit(from, to))
            }
            None => enforce_distribution(p, &self.config),
        }
    }

    /// Plans one expression over `schema`.
    pub fn expr(&self, e: &Expr, schema: &PlanSchema) -> Result<PhysicalExprRef> {
        create_physical_expr(e, schema, self.runner.as_ref())
    }

    /// Plans a sort key.
    pub fn sort_expr(
        &self,
        s: &crate::logical::expr::SortExpr,
        schema: &PlanSchema,
    ) -> Result<PhysicalSortExpr> {
        Ok(PhysicalSortExpr {
            expr: self.expr(&s.expr, schema)?,
            options: SortOptions {
                descending: !s.asc,
                nulls_first: s.nulls_first,
            },
        })
    }

    /// Plans a node with the exchanges its operators need, for a parent that decides its
    /// strategy by its input's partitioning (enforcing again higher up changes nothing here).
    pub fn plan_enforced(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        self.enforce(self.plan(plan)?)
    }

    /// Plans a node and its inputs (without enforcing distributions).
    pub fn plan(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        let p = self.plan_node(plan)?;
        if let Some(est) = &self.estimates {
            est.record(&p, estimate_rows(plan));
        }
        Ok(p)
    }

    fn plan_node(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(match plan {
            LogicalPlan::TableScan(t) => t.source.scan(ScanArgs {
                projection: t.projection.as_ref(),
                filters: &t.filters,
                fetch: t.fetch,
                config: &self.config,
            })?,
            LogicalPlan::Values(v) => {
                let schema = v.schema.arrow_schema().clone();
                let empty = PlanSchema::empty();
                let one = RecordBatch::try_new_with_options(
                    Arc::new(Schema::empty()),
                    vec![],
                    &RecordBatchOptions::new().with_row_count(Some(1)),
                )?;
                let mut columns: Vec<Vec<arrow::array::ArrayRef>> =
                    vec![vec![]; schema.fields().len()];
                for row in &v.rows {
                    for (c, e) in row.iter().enumerate() {
                        let pe = self.expr(e, &empty)?;
                        let a = pe.evaluate(&one)?.into_array(1)?;
                        let a = crate::physical_expr::cast::cast_array(
                            &a,
                            schema.field(c).data_type(),
                            false,
                        )?;
                        columns[c].push(a);
                    }
                }
                let arrays = columns
                    .iter()
                    .map(|parts| {
                        let refs: Vec<&dyn arrow::array::Array> =
                            parts.iter().map(|a| a.as_ref()).collect();
                        Ok(arrow::compute::concat(&refs)?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let batch = RecordBatch::try_new_with_options(
                    schema.clone(),
                    arrays,
                    &RecordBatchOptions::new().with_row_count(Some(v.rows.len())),
                )?;
                Arc::new(ValuesExec::new(schema, vec![batch]))
            }
            LogicalPlan::EmptyRelation(e) => {
                let schema = e.schema.arrow_schema().clone();
                let batches = if e.produce_one_row {
                    let cols = schema
                        .fields()
                        .iter()
                        .map(|f| arrow::array::new_null_array(f.data_type(), 1))
                        .collect();
                    vec![RecordBatch::try_new_with_options(
                        schema.clone(),
                        cols,
                        &RecordBatchOptions::new().with_row_count(Some(1)),
                    )?]
                } else {
                    vec![]
                };
                Arc::new(ValuesExec::new(schema, batches))
            }
            LogicalPlan::Projection(p) => {
                let input = self.plan(&p.input)?;
                let in_schema = p.input.schema();
                let exprs = p
                    .exprs
                    .iter()
                    .zip(p.schema.iter())
                    .map(|(e, (_, f))| Ok((self.expr(e, in_schema)?, f.name().clone())))
                    .collect::<Result<Vec<_>>>()?;
                let fields = p
                    .schema
                    .arrow_schema()
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                Arc::new(ProjectionExec::new(exprs, fields, input))
            }
            LogicalPlan::Filter(f) => {
                let input = self.plan(&f.input)?;
                let preds = f
                    .predicate
                    .conjuncts()
                    .into_iter()
                    .map(|c| self.expr(c, f.input.schema()))
                    .collect::<Result<Vec<_>>>()?;
                Arc::new(FilterExec::new(preds, input))
            }
            LogicalPlan::Aggregate(a) => self.plan_aggregate(a)?,
            LogicalPlan::Window(w) => crate::physical::planner_window::plan_window(self, w)?,
            LogicalPlan::Sort(s) => {
                let input = self.plan(&s.input)?;
                let keys = s
                    .exprs
                    .iter()
                    .map(|k| self.sort_expr(k, s.input.schema()))
                    .collect::<Result<Vec<_>>>()?;
                let sorted: Arc<dyn ExecutionPlan> =
                    Arc::new(SortExec::new(keys.clone(), s.fetch, input));
                if sorted.output_partitioning().partition_count() > 1 {
                    Arc::new(ExchangeExec::new(
                        sorted,
                        ExchangeMode::SortMerge(keys, s.fetch),
                    ))
                } else {
                    sorted
                }
            }
            LogicalPlan::Limit(l) => {
                let input = self.plan(&l.input)?;
                if input.output_partitioning().partition_count() > 1 {
                    let local: Arc<dyn ExecutionPlan> = match l.fetch {
                        Some(f) => Arc::new(LimitExec::new(0, Some(f + l.skip), false, input)),
                        None => input,
                    };
                    let merged = Arc::new(ExchangeExec::new(local, ExchangeMode::Coalesce));
                    Arc::new(LimitExec::new(l.skip, l.fetch, true, merged))
                } else {
                    Arc::new(LimitExec::new(l.skip, l.fetch, true, input))
                }
            }
            LogicalPlan::Join(j) => plan_join(self, j)?,
            LogicalPlan::Union(u) => {
                let inputs = u
                    .inputs
                    .iter()
                    .map(|i| self.plan(i))
                    .collect::<Result<Vec<_>>>()?;
                Arc::new(UnionExec::new(inputs, u.schema.arrow_schema().clone()))
            }
            LogicalPlan::SubqueryAlias(a) => {
                let input = self.plan(&a.input)?;
                if a.columns.is_empty() {
                    input
                } else {
                    // renamed columns: a projection gives the output its new names
                    let in_schema = input.schema();
                    let exprs = in_schema
                        .fields()
                        .iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let c: PhysicalExprRef =
                                Arc::new(crate::physical_expr::column::ColumnExpr::new(
                                    f.name().clone(),
                                    i,
                                    f.data_type().clone(),
                                    f.is_nullable(),
                                ));
                            (c, a.schema.field(i).name().clone())
                        })
                        .collect();
                    let fields = a
                        .schema
                        .arrow_schema()
                        .fields()
                        .iter()
                        .map(|f| f.as_ref().clone())
                        .collect();
                    Arc::new(ProjectionExec::new(exprs, fields, input))
                }
            }
            LogicalPlan::RecursiveQuery(r) => {
                let runner = self.runner.clone().ok_or_else(|| {
                    Error::internal("a recursive query needs a session to run its terms")
                })?;
                Arc::new(RecursiveQueryExec::new(
                    r.name.clone(),
                    r.static_term.as_ref().clone(),
                    r.recursive_term.as_ref().clone(),
                    r.work_table.clone(),
                    r.distinct,
                    r.schema.arrow_schema().clone(),
                    runner,
                ))
            }
            LogicalPlan::Repartition(r) => {
                let input = self.plan(&r.input)?;
                match &r.scheme {
                    RepartitionScheme::RoundRobin(n) => {
                        Arc::new(ExchangeExec::new(input, ExchangeMode::RoundRobin(*n)))
                    }
                    RepartitionScheme::Hash(keys, n) => {
                        let keys = keys
                            .iter()
                            .map(|k| self.expr(k, r.input.schema()))
                            .collect::<Result<Vec<_>>>()?;
                        Arc::new(ExchangeExec::new(input, ExchangeMode::Hash(keys, *n)))
                    }
                }
            }
            LogicalPlan::Unnest(u) => Arc::new(UnnestExec::new(
                self.plan(&u.input)?,
                u.column_indices()?,
                u.preserve_nulls,
                u.schema.arrow_schema().clone(),
            )),
            LogicalPlan::MapPartitions(m) => Arc::new(MapPartitionsExec::new(
                self.plan(&m.input)?,
                m.func.clone(),
                m.name.clone(),
                m.schema.arrow_schema().clone(),
            )),
            LogicalPlan::Sample(s) => {
                Arc::new(SampleExec::new(self.plan(&s.input)?, s.fraction, s.seed))
            }
        })
    }

    fn aggregate_specs(&self, a: &crate::logical::plan::Aggregate) -> Result<Vec<AggregateSpec>> {
        let in_schema = a.input.schema();
        let g = a.group_exprs.len();
        a.aggr_exprs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let Expr::Aggregate(call) = e.unaliased() else {
                    return Err(Error::internal(format!("not an aggregate: {e}")));
                };
                let args = call
                    .args
                    .iter()
                    .map(|x| self.expr(x, in_schema))
                    .collect::<Result<Vec<_>>>()?;
                let arg_types = call
                    .args
                    .iter()
                    .map(|x| x.data_type(in_schema))
                    .collect::<Result<Vec<_>>>()?;
                let filter = match &call.filter {
                    Some(f) => Some(self.expr(f, in_schema)?),
                    None => None,
                };
                let field = a.schema.field(g + i);
                Ok(AggregateSpec {
                    func: call.func.clone(),
                    args,
                    return_type: field.data_type().clone(),
                    arg_types,
                    distinct: call.distinct,
                    filter,
                    name: field.name().clone(),
                    nullable: field.is_nullable(),
                })
            })
            .collect()
    }

    fn plan_aggregate(
        &self,
        a: &crate::logical::plan::Aggregate,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // exchanges below first, so the input reports the partitioning it will really have
        let input = self.plan_enforced(&a.input)?;
        let in_schema = a.input.schema();
        let g = a.group_exprs.len();
        let group_exprs = a
            .group_exprs
            .iter()
            .zip(a.schema.iter())
            .map(|(e, (_, f))| Ok((self.expr(e, in_schema)?, f.name().clone())))
            .collect::<Result<Vec<_>>>()?;
        let group_fields: Vec<Field> = a.schema.arrow_schema().fields()[..g]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let specs = self.aggregate_specs(a)?;
        let any_distinct = specs.iter().any(|s| s.distinct || s.func.single_phase());
        let keys: Vec<PhysicalExprRef> = group_exprs.iter().map(|(e, _)| e.clone()).collect();
        let n_in = input.output_partitioning().partition_count();
        let pre_partitioned = g > 0
            && input
                .output_partitioning()
                .satisfies(&Distribution::HashPartitioned(keys));
        if any_distinct || n_in == 1 || pre_partitioned {
            return Ok(Arc::new(HashAggregateExec::try_new(
                AggregateMode::Single,
                group_exprs,
                group_fields,
                specs,
                input,
            )?));
        }
        let partial = HashAggregateExec::try_new(
            AggregateMode::Partial,
            group_exprs.clone(),
            group_fields.clone(),
            specs.clone(),
            input,
        )?;
        let final_groups: Vec<(PhysicalExprRef, String)> = partial
            .output_group_columns()
            .into_iter()
            .zip(group_exprs.iter().map(|(_, n)| n.clone()))
            .collect();
        let partial: Arc<dyn ExecutionPlan> = Arc::new(partial);
        Ok(Arc::new(HashAggregateExec::try_new(
            AggregateMode::Final,
            final_groups,
            group_fields,
            specs,
            partial,
        )?))
    }
}

/// Whether a plan's output has exactly one partition.
pub fn is_single(p: &Arc<dyn ExecutionPlan>) -> bool {
    matches!(p.output_partitioning(), Partitioning::Unknown(1))
        || p.output_partitioning().partition_count() == 1
}
