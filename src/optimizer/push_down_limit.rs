//! `PushDownLimit`: `ORDER BY ... LIMIT n` becomes a top-k sort (`Sort` with
//! `fetch`), also through projections and aliases; a limit directly over a scan (or a
//! projection of one) tells the scan to stop early; limits go into each
//! input of a UNION ALL.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::plan::{Limit, LogicalPlan, Projection, Sort, SubqueryAlias, Union};
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};

/// Pushes limits down.
#[derive(Debug)]
pub struct PushDownLimit;

impl OptimizerRule for PushDownLimit {
    fn name(&self) -> &'static str {
        "push_down_limit"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        Ok(plan.transform_down(|node| {
            let LogicalPlan::Limit(l) = &node else {
                return Ok(Transformed::no(node));
            };
            let Some(fetch) = l.fetch else {
                return Ok(Transformed::no(node));
            };
            let need = fetch.saturating_add(l.skip);
            match push_into(l.input.as_ref(), need) {
                Some(new_input) => Ok(Transformed::yes(LogicalPlan::Limit(Limit {
                    skip: l.skip,
                    fetch: l.fetch,
                    input: Arc::new(new_input),
                }))),
                None => Ok(Transformed::no(node)),
            }
        })?)
    }
}

/// `input` limited to its first `need` rows, if that can be expressed lower down.
fn push_into(input: &LogicalPlan, need: usize) -> Option<LogicalPlan> {
    match input {
        LogicalPlan::Sort(s) => {
            let fetch = Some(s.fetch.map_or(need, |f| f.min(need)));
            if fetch == s.fetch {
                return None;
            }
            Some(LogicalPlan::Sort(Sort {
                exprs: s.exprs.clone(),
                input: s.input.clone(),
                fetch,
            }))
        }
        LogicalPlan::Projection(p) => {
            if p.exprs.iter().any(|e| e.contains_subquery()) {
                return None;
            }
            let inner = push_into(p.input.as_ref(), need)?;
            Projection::try_new(p.exprs.clone(), Arc::new(inner))
                .ok()
                .map(LogicalPlan::Projection)
        }
        LogicalPlan::SubqueryAlias(a) => {
            let inner = push_into(a.input.as_ref(), need)?;
            SubqueryAlias::try_new_with_columns(Arc::new(inner), a.alias.clone(), a.columns.clone())
                .ok()
                .map(LogicalPlan::SubqueryAlias)
        }
        LogicalPlan::TableScan(t) => {
            if t.fetch.is_some_and(|f| f <= need) {
                return None;
            }
            let mut t = t.clone();
            t.fetch = Some(need);
            Some(LogicalPlan::TableScan(t))
        }
        LogicalPlan::Union(u) => {
            if u.inputs.iter().all(|i| matches!(i.as_ref(), LogicalPlan::Limit(l) if l.skip == 0 && l.fetch.is_some_and(|f| f <= need))) {
                return None;
            }
            let inputs = u
                .inputs
                .iter()
                .map(|i| {
                    Arc::new(LogicalPlan::Limit(Limit {
                        skip: 0,
                        fetch: Some(need),
                        input: i.clone(),
                    }))
                })
                .collect();
            Some(LogicalPlan::Union(Union {
                inputs,
                schema: u.schema.clone(),
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::builder::LogicalPlanBuilder;
    use crate::logical::expr_fn::{col, lit};
    use crate::optimizer::test_util::{optimize_with, scan};

    fn run(plan: LogicalPlan) -> String {
        optimize_with(&PushDownLimit, plan)
    }

    #[test]
    fn limits_reach_the_scan_through_projections_and_aliases() {
        let plan = LogicalPlanBuilder::from(scan("t", &["a", "b"]))
            .project(vec![col("t.a")])
            .unwrap()
            .alias("s")
            .unwrap()
            .limit(2, Some(3))
            .unwrap()
            .build();
        assert_eq!(
            run(plan),
            "Limit: skip=2, fetch=3\
            \n  SubqueryAlias: s\
            \n    Projection: t.a\
            \n      TableScan: t fetch=5\n"
        );
    }

    #[test]
    fn limits_go_into_each_union_input_but_not_below_filters() {
        let filtered = LogicalPlanBuilder::from(scan("u", &["a"]))
            .filter(col("u.a").gt(lit(1i64)))
            .unwrap()
            .build();
        let plan = LogicalPlanBuilder::from(scan("t", &["a"]))
            .union(filtered)
            .unwrap()
            .limit(0, Some(4))
            .unwrap()
            .build();
        assert_eq!(
            run(plan),
            "Limit: skip=0, fetch=4\
            \n  Union\
            \n    Limit: skip=0, fetch=4\
            \n      TableScan: t fetch=4\
            \n    Limit: skip=0, fetch=4\
            \n      Filter: u.a > 1\
            \n        TableScan: u\n"
        );
    }

    #[test]
    fn order_by_limit_becomes_top_k() {
        let plan = LogicalPlanBuilder::from(scan("t", &["a"]))
            .sort(vec![col("t.a").sort(false, true)])
            .unwrap()
            .project(vec![col("t.a")])
            .unwrap()
            .limit(0, Some(7))
            .unwrap()
            .build();
        let out = run(plan);
        assert!(out.contains("Sort: t.a DESC NULLS FIRST, fetch=7"), "{out}");
    }
}
