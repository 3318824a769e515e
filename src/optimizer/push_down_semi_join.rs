//! `PushDownSemiJoin`: moves a semi or anti join (what `IN`/`EXISTS` subqueries become) below
//! the inner joins and filters under it, to the input whose rows it restricts.
//!
//! ```text
//!  (A ⋈ B) ⋉ S  on A.x = S.y    ─▶   (A ⋉ S) ⋈ B
//!  Filter(p, A) ⋉ S             ─▶   Filter(p, A ⋉ S)
//! ```
//! A semi (or anti) join keeps or drops each row by looking only at that row's columns and at
//! `S`, so it may be applied to `A`'s rows before they are joined with `B` when its condition
//! reads only `A`'s columns. In TPC-H Q18 this turns "join customers, orders and all of
//! lineitem, then keep the 57 big orders" into "keep the 57 big orders, then join".
//!
//! It moves only when the semi join would then see no more rows than where it is (by the
//! row estimates): below a join that multiplies `A`'s rows it saves work, but below a join
//! that keeps few of `A`'s rows (TPC-H Q21: lineitem joined with one nation's suppliers) it
//! would probe with many more rows than it does above.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::plan::{Filter, Join, JoinType, LogicalPlan};
use crate::logical::schema::PlanSchema;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::expr_columns;
use crate::physical::statistics::estimate_rows;

/// Pushes semi and anti joins towards the relation they filter.
#[derive(Debug)]
pub struct PushDownSemiJoin;

impl OptimizerRule for PushDownSemiJoin {
    fn name(&self) -> &'static str {
        "push_down_semi_join"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        Ok(plan.transform_down(|node| {
            let LogicalPlan::Join(j) = node else {
                return Ok(Transformed::no(node));
            };
            Ok(match push(&j)? {
                Some(pushed) => Transformed::yes(pushed),
                None => Transformed::no(LogicalPlan::Join(j)),
            })
        })?)
    }
}

/// The semi/anti join `j` one level further down, if it can go.
fn push(j: &Join) -> Result<Option<LogicalPlan>> {
    if !matches!(j.join_type, JoinType::LeftSemi | JoinType::LeftAnti) {
        return Ok(None);
    }
    // the columns of the kept side that the join's condition reads
    let mut reads = vec![];
    for (l, _) in &j.on {
        reads.extend(expr_columns(l));
    }
    if let Some(f) = &j.filter {
        reads.extend(
            expr_columns(f)
                .into_iter()
                .filter(|c| j.left.schema().has_column(c)),
        );
    }
    let reads_only = |s: &PlanSchema| reads.iter().all(|c| s.has_column(c));
    if !worth_moving(&j.left, &reads_only) {
        return Ok(None);
    }
    let below = |input: &Arc<LogicalPlan>| -> Result<Arc<LogicalPlan>> {
        let mut moved = j.clone();
        moved.left = input.clone();
        moved.schema = Arc::new(crate::logical::plan::join_schema(
            input.schema(),
            j.right.schema(),
            j.join_type,
        ));
        Ok(Arc::new(LogicalPlan::Join(moved)))
    };
    Ok(match j.left.as_ref() {
        LogicalPlan::Filter(f) => Some(LogicalPlan::Filter(Filter::try_new(
            f.predicate.clone(),
            below(&f.input)?,
        )?)),
        LogicalPlan::Join(inner) if inner.join_type == JoinType::Inner => {
            if reads_only(inner.left.schema()) {
                let mut out = inner.clone();
                out.left = below(&inner.left)?;
                Some(LogicalPlan::Join(out))
            } else if reads_only(inner.right.schema()) {
                let mut out = inner.clone();
                out.right = below(&inner.right)?;
                Some(LogicalPlan::Join(out))
            } else {
                None
            }
        }
        _ => None,
    })
}

/// The input a semi join over `left` would end up on, following filters and inner joins down
/// to the side its condition reads.
fn destination<'a>(
    left: &'a LogicalPlan,
    reads_only: &dyn Fn(&PlanSchema) -> bool,
) -> &'a LogicalPlan {
    match left {
        LogicalPlan::Filter(f) => destination(&f.input, reads_only),
        LogicalPlan::Join(inner) if inner.join_type == JoinType::Inner => {
            if reads_only(inner.left.schema()) {
                destination(&inner.left, reads_only)
            } else if reads_only(inner.right.schema()) {
                destination(&inner.right, reads_only)
            } else {
                left
            }
        }
        _ => left,
    }
}

/// Whether the semi join over `left` probes with no more rows at its destination than here
/// (unknown estimates: move, as the rows a semi join drops are usually worth dropping early).
fn worth_moving(left: &LogicalPlan, reads_only: &dyn Fn(&PlanSchema) -> bool) -> bool {
    match (
        estimate_rows(destination(left, reads_only)),
        estimate_rows(left),
    ) {
        (Some(there), Some(here)) => there <= here,
        _ => true,
    }
}
