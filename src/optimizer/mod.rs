//! The logical optimizer: an ordered list of rules, each in its own file,
//! each switchable by name (`SET disabled_rules = 'push_down_filter'`).
//! After every rule the driver checks that the plan's output schema did not
//! change, and keeps the plan after each rule that changed it for
//! `EXPLAIN VERBOSE`.

pub mod common_subexpr_eliminate;
pub mod decorrelate_predicate_subquery;
pub mod infer_join_predicates;
pub mod push_down_filter;
pub mod push_down_limit;
pub mod push_down_projection;
pub mod push_down_semi_join;
pub mod push_join_keys_into_aggregate;
pub mod reorder_joins;
pub mod rule;
pub mod scalar_subquery_to_join;
pub mod simplify_expressions;
pub mod simplify_outer_join;
#[cfg(test)]
pub mod test_util;
pub mod utils;

use std::sync::Arc;
use std::time::Instant;

use crate::config::SessionConfig;
use crate::error::{Error, Result};
use crate::logical::plan::LogicalPlan;
pub use rule::{OptimizerContext, OptimizerRule};

/// One step of an optimizer run, for `EXPLAIN VERBOSE`.
#[derive(Debug, Clone)]
pub struct OptimizerStep {
    /// Rule name.
    pub rule: String,
    /// The plan after the rule (only when it changed something).
    pub plan: Option<LogicalPlan>,
    /// Time spent.
    pub micros: u128,
}

/// Runs the rules in order.
#[derive(Debug, Clone)]
pub struct Optimizer {
    rules: Vec<Arc<dyn OptimizerRule>>,
}

impl Default for Optimizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Optimizer {
    /// The default rule list.
    pub fn new() -> Self {
        let rules: Vec<Arc<dyn OptimizerRule>> = vec![
            Arc::new(simplify_expressions::SimplifyExpressions),
            Arc::new(decorrelate_predicate_subquery::DecorrelatePredicateSubquery),
            Arc::new(scalar_subquery_to_join::ScalarSubqueryToJoin),
            // again: an IN/EXISTS whose subquery held a correlated scalar subquery becomes
            // decorrelatable once that inner subquery is a join (TPC-H Q20)
            Arc::new(decorrelate_predicate_subquery::DecorrelatePredicateSubquery),
            Arc::new(simplify_expressions::SimplifyExpressions),
            Arc::new(simplify_outer_join::SimplifyOuterJoin),
            Arc::new(infer_join_predicates::InferJoinPredicates),
            Arc::new(push_down_filter::PushDownFilter),
            // again: pushed filters now sit right above the joins whose NULLs they reject
            Arc::new(simplify_outer_join::SimplifyOuterJoin),
            Arc::new(push_down_semi_join::PushDownSemiJoin),
            Arc::new(reorder_joins::ReorderJoins),
            Arc::new(push_join_keys_into_aggregate::PushJoinKeysIntoAggregate),
            Arc::new(push_down_filter::PushDownFilter),
            Arc::new(push_down_limit::PushDownLimit),
            Arc::new(push_down_projection::PushDownProjection),
            Arc::new(common_subexpr_eliminate::CommonSubexprEliminate),
        ];
        Optimizer { rules }
    }

    /// Names of the rules, in order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name()).collect()
    }

    /// Optimizes `plan`.
    pub fn optimize(&self, plan: LogicalPlan, config: &SessionConfig) -> Result<LogicalPlan> {
        Ok(self.optimize_with_steps(plan, config, false)?.0)
    }

    /// Optimizes `plan`, recording each rule's effect when `record` is set.
    pub fn optimize_with_steps(
        &self,
        plan: LogicalPlan,
        config: &SessionConfig,
        record: bool,
    ) -> Result<(LogicalPlan, Vec<OptimizerStep>)> {
        let ctx = OptimizerContext { config };
        let mut plan = plan;
        let mut steps = vec![];
        for rule in &self.rules {
            if config.disabled_rules.iter().any(|d| d == rule.name()) {
                continue;
            }
            let before = plan.schema().clone();
            let start = Instant::now();
            // subqueries inside expressions first (innermost first), then the plan itself
            let plan_in = rewrite_subqueries(plan.clone(), &|p| Ok(rule.rewrite(p, &ctx)?.data))?;
            let out = rule
                .rewrite(plan_in, &ctx)
                .map_err(|e| e.context(format!("optimizer rule {}", rule.name())))?;
            let changed = out.transformed;
            let new = out.data;
            check_schema(rule.name(), &before, new.schema())?;
            steps.push(OptimizerStep {
                rule: rule.name().to_string(),
                plan: if record && changed {
                    Some(new.clone())
                } else {
                    None
                },
                micros: start.elapsed().as_micros(),
            });
            plan = new;
        }
        Ok((plan, steps))
    }
}

/// Applies `f` to the plan of every subquery inside the expressions of `plan` (recursively).
pub fn rewrite_subqueries(
    plan: LogicalPlan,
    f: &dyn Fn(LogicalPlan) -> Result<LogicalPlan>,
) -> Result<LogicalPlan> {
    use crate::logical::expr::{Expr, Subquery};
    use datafusion_common::tree_node::{Transformed, TreeNode};
    let out = plan.transform_up(|node| {
        if !node.expressions().iter().any(|e| e.contains_subquery()) {
            return Ok(Transformed::no(node));
        }
        let node = crate::logical::tree_node::map_expressions(node, |e| {
            Ok(e.transform_up(|x| {
                let sub = |sq: Subquery| -> Result<Subquery> {
                    let inner = rewrite_subqueries(sq.plan.as_ref().clone(), f)?;
                    Ok(Subquery {
                        plan: Arc::new(f(inner)?),
                    })
                };
                Ok(match x {
                    Expr::ScalarSubquery(sq) => Transformed::yes(Expr::ScalarSubquery(sub(sq)?)),
                    Expr::Exists { subquery, negated } => Transformed::yes(Expr::Exists {
                        subquery: sub(subquery)?,
                        negated,
                    }),
                    Expr::InSubquery {
                        expr,
                        subquery,
                        negated,
                    } => Transformed::yes(Expr::InSubquery {
                        expr,
                        subquery: sub(subquery)?,
                        negated,
                    }),
                    other => Transformed::no(other),
                })
            })?
            .data)
        })?;
        Ok(Transformed::yes(node))
    })?;
    Ok(out.data)
}

fn check_schema(
    rule: &str,
    before: &crate::logical::schema::PlanSchema,
    after: &crate::logical::schema::PlanSchema,
) -> Result<()> {
    let same = before.len() == after.len()
        && before
            .iter()
            .zip(after.iter())
            .all(|((_, a), (_, b))| a.name() == b.name() && a.data_type() == b.data_type());
    if !same {
        return Err(Error::internal(format!(
            "optimizer rule {rule} changed the plan's schema from {before} to {after}"
        )));
    }
    Ok(())
}
