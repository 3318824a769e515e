//! `PushDownProjection`: every operator reads only the columns it needs.
//! Walks the plan top-down with the set of columns required from each node,
//! drops unused projection items and aggregates, and tells scans which
//! columns to read (so Parquet decodes only those). The root's output is
//! left as it is.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion_common::tree_node::Transformed;

use crate::error::Result;
use crate::logical::expr::Expr;
use crate::logical::plan::*;
use crate::logical::recursive::RecursiveQuery;
use crate::logical::schema::{Column, PlanSchema};
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::expr_columns;

/// Prunes unused columns.
#[derive(Debug)]
pub struct PushDownProjection;

impl OptimizerRule for PushDownProjection {
    fn name(&self) -> &'static str {
        "push_down_projection"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let before = plan.clone();
        let after = prune(plan, None)?;
        let changed = after != before;
        Ok(Transformed::new_transformed(after, changed))
    }
}

type Required = Option<HashSet<Column>>;

fn add_exprs<'a>(set: &mut HashSet<Column>, exprs: impl IntoIterator<Item = &'a Expr>) {
    for e in exprs {
        set.extend(expr_columns(e));
    }
}

/// Indices of `schema` that are required (all when `None`).
fn required_indices(schema: &PlanSchema, req: &Required) -> Vec<usize> {
    match req {
        None => (0..schema.len()).collect(),
        Some(set) => (0..schema.len())
            .filter(|i| {
                let c = schema.column(*i);
                set.iter()
                    .any(|r| r.name == c.name && (r.relation.is_none() || r.relation == c.relation))
            })
            .collect(),
    }
}

fn all_of(schema: &PlanSchema) -> HashSet<Column> {
    schema.columns().into_iter().collect()
}

fn prune_arc(p: &Arc<LogicalPlan>, req: Required) -> Result<Arc<LogicalPlan>> {
    Ok(Arc::new(prune(p.as_ref().clone(), req)?))
}

fn prune(plan: LogicalPlan, req: Required) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Projection(p) => {
            let keep = required_indices(&p.schema, &req);
            // a projection must output something; keep the first item when nothing is needed
            let keep = if keep.is_empty() && !p.exprs.is_empty() && req.is_some() {
                vec![0]
            } else {
                keep
            };
            let exprs: Vec<Expr> = keep.iter().map(|i| p.exprs[*i].clone()).collect();
            let mut need = HashSet::new();
            add_exprs(&mut need, &exprs);
            let input = prune_arc(&p.input, Some(need))?;
            Ok(LogicalPlan::Projection(Projection::try_new(exprs, input)?))
        }
        LogicalPlan::Filter(f) => {
            let mut need = req.unwrap_or_else(|| all_of(f.input.schema()));
            add_exprs(&mut need, [&f.predicate]);
            let input = prune_arc(&f.input, Some(need))?;
            Ok(LogicalPlan::Filter(Filter::try_new(f.predicate, input)?))
        }
        LogicalPlan::Sort(s) => {
            let mut need = req.unwrap_or_else(|| all_of(s.input.schema()));
            add_exprs(&mut need, s.exprs.iter().map(|e| &e.expr));
            let input = prune_arc(&s.input, Some(need))?;
            Ok(LogicalPlan::Sort(Sort {
                exprs: s.exprs,
                input,
                fetch: s.fetch,
            }))
        }
        LogicalPlan::Limit(l) => {
            let input = prune_arc(&l.input, req)?;
            Ok(LogicalPlan::Limit(Limit {
                skip: l.skip,
                fetch: l.fetch,
                input,
            }))
        }
        LogicalPlan::Aggregate(a) => {
            let g = a.group_exprs.len();
            let keep_aggs: Vec<Expr> = match &req {
                None => a.aggr_exprs.clone(),
                Some(_) => {
                    let idx = required_indices(&a.schema, &req);
                    a.aggr_exprs
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| idx.contains(&(g + i)))
                        .map(|(_, e)| e.clone())
                        .collect()
                }
            };
            let mut need = HashSet::new();
            add_exprs(&mut need, a.group_exprs.iter().chain(keep_aggs.iter()));
            let input = prune_arc(&a.input, Some(need))?;
            Ok(LogicalPlan::Aggregate(Aggregate::try_new(
                input,
                a.group_exprs,
                keep_aggs,
            )?))
        }
        LogicalPlan::Window(w) => {
            let mut need = req.unwrap_or_else(|| all_of(&w.schema));
            add_exprs(&mut need, w.window_exprs.iter());
            let input = prune_arc(&w.input, Some(need))?;
            Ok(LogicalPlan::Window(Window::try_new(input, w.window_exprs)?))
        }
        LogicalPlan::Join(j) => {
            let mut need = req.unwrap_or_else(|| all_of(&j.schema));
            for (l, r) in &j.on {
                add_exprs(&mut need, [l, r]);
            }
            if let Some(f) = &j.filter {
                add_exprs(&mut need, [f]);
            }
            let ls = j.left.schema().clone();
            let rs = j.right.schema().clone();
            let left_need: HashSet<Column> = need
                .iter()
                .filter(|c| !required_indices(&ls, &Some([(*c).clone()].into())).is_empty())
                .cloned()
                .collect();
            let right_need: HashSet<Column> = need
                .iter()
                .filter(|c| !required_indices(&rs, &Some([(*c).clone()].into())).is_empty())
                .cloned()
                .collect();
            let left = prune_arc(&j.left, Some(left_need))?;
            let right = prune_arc(&j.right, Some(right_need))?;
            let mut nj =
                Join::try_new(left, right, j.on, j.filter, j.join_type, j.null_equals_null)?;
            nj.null_aware = j.null_aware;
            Ok(LogicalPlan::Join(nj))
        }
        LogicalPlan::SubqueryAlias(a) => {
            let inner = a.input.schema().clone();
            let unique_inner =
                (0..inner.len()).all(|i| matches!(inner.find(&inner.column(i)), Ok(Some(_))));
            if req.is_none() || (!a.columns.is_empty() && !unique_inner) {
                // renamed columns of an input with duplicate names cannot be tracked: keep all
                let input = prune_arc(&a.input, None)?;
                return Ok(LogicalPlan::SubqueryAlias(
                    SubqueryAlias::try_new_with_columns(input, a.alias, a.columns)?,
                ));
            }
            let idx = required_indices(&a.schema, &req);
            let need: HashSet<Column> = idx.iter().map(|i| inner.column(*i)).collect();
            let input = prune_arc(&a.input, Some(need))?;
            // the renames follow their columns into the pruned input
            let columns = if a.columns.is_empty() {
                vec![]
            } else {
                let new_inner = input.schema().clone();
                let mut names = vec![];
                for k in 0..new_inner.len() {
                    let c = new_inner.column(k);
                    let old = inner.find(&c).ok().flatten();
                    names.push(match old {
                        Some(i) => a.schema.field(i).name().clone(),
                        None => c.name.clone(),
                    });
                }
                names
            };
            Ok(LogicalPlan::SubqueryAlias(
                SubqueryAlias::try_new_with_columns(input, a.alias, columns)?,
            ))
        }
        LogicalPlan::TableScan(t) => {
            let Some(_) = &req else {
                return Ok(LogicalPlan::TableScan(t));
            };
            let mut need = req.clone().unwrap_or_default();
            // scan filters are evaluated above the scan too, so they need no extra columns here
            let idx = required_indices(&t.schema, &Some(std::mem::take(&mut need)));
            let table_idx: Vec<usize> = match &t.projection {
                Some(p) => idx.iter().map(|i| p[*i]).collect(),
                None => idx,
            };
            if t.projection.as_ref() == Some(&table_idx) {
                return Ok(LogicalPlan::TableScan(t));
            }
            let mut nt =
                TableScan::try_new(t.table_name.clone(), t.source.clone(), Some(table_idx))?;
            nt.filters = t.filters;
            nt.fetch = t.fetch;
            // keep the scan's qualifier (it may have been requalified)
            Ok(LogicalPlan::TableScan(nt))
        }
        LogicalPlan::Repartition(r) => {
            let mut need = req.unwrap_or_else(|| all_of(r.input.schema()));
            if let RepartitionScheme::Hash(keys, _) = &r.scheme {
                add_exprs(&mut need, keys.iter());
            }
            let input = prune_arc(&r.input, Some(need))?;
            Ok(LogicalPlan::Repartition(Repartition {
                input,
                scheme: r.scheme,
            }))
        }
        LogicalPlan::Union(u) => {
            // keep all columns (positions must line up); prune inside each input
            let inputs = u
                .inputs
                .iter()
                .map(|i| prune_arc(i, None))
                .collect::<Result<Vec<_>>>()?;
            Ok(LogicalPlan::Union(Union {
                inputs,
                schema: u.schema,
            }))
        }
        LogicalPlan::RecursiveQuery(r) => {
            // every column of both terms feeds the next iteration; prune inside each term
            let static_term = prune_arc(&r.static_term, None)?;
            let recursive_term = prune_arc(&r.recursive_term, None)?;
            Ok(LogicalPlan::RecursiveQuery(RecursiveQuery::try_new(
                r.name,
                static_term,
                recursive_term,
                r.work_table,
                r.distinct,
            )?))
        }
        LogicalPlan::Unnest(u) => {
            // the unnested columns decide how many rows there are: always needed
            let mut need = req.unwrap_or_else(|| all_of(&u.schema));
            need.extend(u.columns.iter().cloned());
            let input = prune_arc(&u.input, Some(need))?;
            Ok(LogicalPlan::Unnest(Unnest::try_new(
                input,
                u.columns,
                u.preserve_nulls,
            )?))
        }
        LogicalPlan::MapPartitions(m) => {
            // user code sees whole input rows
            let input = prune_arc(&m.input, None)?;
            Ok(LogicalPlan::MapPartitions(MapPartitions { input, ..m }))
        }
        LogicalPlan::Sample(s) => {
            // which rows are kept depends on row positions only, not on the columns read
            let input = prune_arc(&s.input, req)?;
            Ok(LogicalPlan::Sample(Sample { input, ..s }))
        }
        leaf @ (LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_)) => Ok(leaf),
    }
}
