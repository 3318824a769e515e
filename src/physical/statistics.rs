//! Row-count estimates of logical plans, used to order joins, pick build
//! sides and broadcast joins: table row counts and column statistics from the
//! providers, filter selectivities from them (`selectivity.rs`), and for
//! equi-joins `|L|·|R| / max(ndv(l), ndv(r))` over the most selective key.

use crate::catalog::statistics::ColumnStatistics;
use crate::logical::expr::Expr;
use crate::logical::plan::{JoinType, LogicalPlan};
use crate::logical::schema::Column;
use crate::physical::selectivity::selectivity;

/// Selectivity assumed for a join's non-equi condition.
const FILTER_SELECTIVITY: f64 = 0.25;
/// Fraction of input rows that are distinct groups.
const GROUP_FRACTION: f64 = 0.1;

/// Estimated output rows of `plan` (None when unknown).
pub fn estimate_rows(plan: &LogicalPlan) -> Option<usize> {
    Some(match plan {
        LogicalPlan::TableScan(t) => {
            // filters pushed into the scan are also applied by a Filter above it, which counts
            // their selectivity
            let rows = t.source.row_count()?;
            match t.fetch {
                Some(f) => rows.min(f),
                None => rows,
            }
        }
        LogicalPlan::Filter(f) => {
            let sel = selectivity(&f.predicate, &f.input);
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
        LogicalPlan::RecursiveQuery(_) => return None,
        LogicalPlan::Sample(s) => ((estimate_rows(&s.input)? as f64) * s.fraction).ceil() as usize,
        // unknown fan-out / user code: the input's size is the best guess
        LogicalPlan::Unnest(u) => estimate_rows(&u.input)?,
        LogicalPlan::MapPartitions(m) => estimate_rows(&m.input)?,
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
                    let rows = l.saturating_mul(r);
                    if j.filter.is_some() {
                        (rows as f64 * FILTER_SELECTIVITY).ceil() as usize
                    } else {
                        rows
                    }
                }
                JoinType::Inner => inner_join_rows(j, l, r),
                JoinType::Left | JoinType::LeftMark => l.max(1),
                JoinType::Right => r.max(1),
                JoinType::Full => l + r,
                JoinType::LeftSemi => semi_join_rows(j, l, r, false),
                JoinType::LeftAnti => l.saturating_sub(semi_join_rows(j, l, r, false)).max(l / 10),
                JoinType::RightSemi => semi_join_rows(j, l, r, true),
                JoinType::RightAnti => r.saturating_sub(semi_join_rows(j, l, r, true)).max(r / 10),
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

/// Rows of an inner equi-join: `|L|·|R| / max(ndv)` using the most selective key.
fn inner_join_rows(j: &crate::logical::plan::Join, l: usize, r: usize) -> usize {
    let mut best: Option<f64> = None;
    for (lk, rk) in &j.on {
        let ln = expr_ndv(&j.left, lk, l);
        let rn = expr_ndv(&j.right, rk, r);
        let d = ln.max(rn).max(1.0);
        best = Some(best.map_or(d, |b: f64| b.max(d)));
    }
    let d = best.unwrap_or(1.0);
    let rows = (l as f64) * (r as f64) / d;
    let rows = if j.filter.is_some() {
        rows * FILTER_SELECTIVITY
    } else {
        rows
    };
    rows.ceil().max(1.0).min(usize::MAX as f64 / 2.0) as usize
}

/// Rows of the kept side of a semi join: its rows times the share of its key values that the
/// other side has (`ndv(other) / ndv(kept)`, at most 1) over the most selective key; half of
/// them without keys.
fn semi_join_rows(j: &crate::logical::plan::Join, l: usize, r: usize, keep_right: bool) -> usize {
    let kept = if keep_right { r } else { l };
    let mut share: Option<f64> = None;
    for (lk, rk) in &j.on {
        let ln = expr_ndv(&j.left, lk, l).max(1.0);
        let rn = expr_ndv(&j.right, rk, r).max(1.0);
        let s = if keep_right { ln / rn } else { rn / ln };
        share = Some(share.map_or(s, |b: f64| b.min(s)));
    }
    let share = share.unwrap_or(0.5).min(1.0);
    ((kept as f64) * share).ceil().max(1.0) as usize
}

/// Estimated distinct values of `e` over `plan` (with `rows` rows); `rows` when unknown.
fn expr_ndv(plan: &LogicalPlan, e: &Expr, rows: usize) -> f64 {
    match e.unaliased() {
        Expr::Column(c) => column_ndv(plan, c).map_or(rows as f64, |n| n.min(rows as f64)),
        Expr::Cast { expr, .. } => expr_ndv(plan, expr, rows),
        _ => rows as f64,
    }
}

/// Estimated distinct values of a column of `plan`, from the statistics of the table it comes from.
pub fn column_ndv(plan: &LogicalPlan, col: &Column) -> Option<f64> {
    let (cs, rows) = column_statistics(plan, col)?;
    Some(cs.ndv(rows) as f64)
}

/// The statistics of the table column that `col` of `plan` passes on unchanged, with the
/// table's row count (they describe the table, not what filters above it keep).
pub fn column_statistics(plan: &LogicalPlan, col: &Column) -> Option<(ColumnStatistics, usize)> {
    match plan {
        LogicalPlan::TableScan(t) => {
            let i = t.schema.find(col).ok()??;
            let table_i = match &t.projection {
                Some(p) => *p.get(i)?,
                None => i,
            };
            let stats = t.source.statistics()?;
            let cs = stats.columns.get(table_i)?;
            Some((cs.clone(), stats.row_count))
        }
        LogicalPlan::Filter(f) => column_statistics(&f.input, col),
        LogicalPlan::Sort(s) => column_statistics(&s.input, col),
        LogicalPlan::Limit(l) => column_statistics(&l.input, col),
        LogicalPlan::Repartition(r) => column_statistics(&r.input, col),
        LogicalPlan::Window(w) => column_statistics(&w.input, col),
        LogicalPlan::Projection(p) => {
            let i = p.schema.find(col).ok()??;
            match p.exprs[i].unaliased() {
                Expr::Column(c) => column_statistics(&p.input, c),
                _ => None,
            }
        }
        LogicalPlan::SubqueryAlias(a) => {
            let i = a.schema.find(col).ok()??;
            column_statistics(&a.input, &a.input.schema().column(i))
        }
        LogicalPlan::Aggregate(a) => {
            let i = a.schema.find(col).ok()??;
            match a.group_exprs.get(i).map(|e| e.unaliased()) {
                Some(Expr::Column(c)) => column_statistics(&a.input, c),
                _ => None,
            }
        }
        LogicalPlan::Join(j) => {
            if j.left.schema().has_column(col) {
                column_statistics(&j.left, col)
            } else {
                column_statistics(&j.right, col)
            }
        }
        _ => None,
    }
}
