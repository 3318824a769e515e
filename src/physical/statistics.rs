//! Row-count estimates of logical plans, used to pick join build sides and
//! broadcast joins. Deliberately simple: table row counts from providers and
//! fixed selectivities.

use crate::logical::plan::{JoinType, LogicalPlan};

/// Selectivity assumed for a filter.
const FILTER_SELECTIVITY: f64 = 0.25;
/// Fraction of input rows that are distinct groups.
const GROUP_FRACTION: f64 = 0.1;

/// Estimated output rows of `plan` (None when unknown).
pub fn estimate_rows(plan: &LogicalPlan) -> Option<usize> {
    Some(match plan {
        LogicalPlan::TableScan(t) => {
            let rows = t.source.row_count()?;
            let rows = if t.filters.is_empty() {
                rows
            } else {
                (rows as f64 * FILTER_SELECTIVITY) as usize
            };
            match t.fetch {
                Some(f) => rows.min(f),
                None => rows,
            }
        }
        LogicalPlan::Filter(f) => {
            let conjuncts = f.predicate.conjuncts().len().max(1) as i32;
            let sel = FILTER_SELECTIVITY.powi(conjuncts.min(3));
            ((estimate_rows(&f.input)? as f64) * sel).ceil() as usize
        }
        LogicalPlan::Projection(p) => estimate_rows(&p.input)?,
        LogicalPlan::SubqueryAlias(a) => estimate_rows(&a.input)?,
        LogicalPlan::Sort(s) => {
            let n = estimate_rows(&s.input)?;
            s.fetch.map(|f| f.min(n)).unwrap_or(n)
        }
        LogicalPlan::Window(w) => estimate_rows(&w.input)?,
        LogicalPlan::Repartition(r) => estimate_rows(&r.input)?,
        LogicalPlan::Limit(l) => {
            let n = estimate_rows(&l.input).unwrap_or(usize::MAX);
            let n = n.saturating_sub(l.skip);
            l.fetch.map(|f| f.min(n)).unwrap_or(n)
        }
        LogicalPlan::Aggregate(a) => {
            if a.group_exprs.is_empty() {
                1
            } else {
                ((estimate_rows(&a.input)? as f64) * GROUP_FRACTION).ceil() as usize
            }
        }
        LogicalPlan::Join(j) => {
            let l = estimate_rows(&j.left)?;
            let r = estimate_rows(&j.right)?;
            match j.join_type {
                _ if j.on.is_empty() && matches!(j.join_type, JoinType::Inner) => {
                    l.saturating_mul(r)
                }
                JoinType::Inner => l.max(r),
                JoinType::Left | JoinType::LeftMark => l.max(1),
                JoinType::Right => r.max(1),
                JoinType::Full => l + r,
                JoinType::LeftSemi | JoinType::LeftAnti => l / 2 + 1,
                JoinType::RightSemi | JoinType::RightAnti => r / 2 + 1,
            }
        }
        LogicalPlan::Union(u) => {
            let mut total = 0usize;
            for i in &u.inputs {
                total = total.saturating_add(estimate_rows(i)?);
            }
            total
        }
        LogicalPlan::Values(v) => v.rows.len(),
        LogicalPlan::EmptyRelation(e) => usize::from(e.produce_one_row),
    })
}
