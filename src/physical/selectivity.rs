//! Selectivity of filter predicates: the estimated share of input rows that
//! pass. Comparisons of a column with constants use the column's statistics
//! (`= c`: one over the distinct values; `< c`, `BETWEEN`: the share of the
//! `[min, max]` range; `IS NULL`: the NULL count); other predicates get fixed
//! guesses. Conjuncts are not independent in real data (TPC-H Q6's date and
//! discount ranges are, a date range and a status often are not), so they are
//! combined with exponential backoff: the most selective counts fully, the
//! next by its square root, the third by its fourth root, and so on.

use datafusion_common::ScalarValue;

use crate::catalog::statistics::ColumnStatistics;
use crate::logical::expr::{BinaryOp, Expr};
use crate::logical::plan::LogicalPlan;
use crate::physical::statistics::column_statistics;

/// Share assumed for an equality on a column without statistics.
const EQ_GUESS: f64 = 0.1;
/// Share assumed for a range comparison without statistics (e.g. `HAVING sum(x) > c`). A
/// quarter, as for other predicates: with a third, TPC-H Q18's 57 big orders were estimated at
/// 200,041 rows, over the broadcast threshold, and the last join shuffled all of lineitem.
const RANGE_GUESS: f64 = 0.25;
/// Share assumed for any other predicate.
const OTHER_GUESS: f64 = 0.25;

/// Estimated share (0..=1) of the rows of `input` for which `predicate` is true.
pub fn selectivity(predicate: &Expr, input: &LogicalPlan) -> f64 {
    let conjuncts = predicate.conjuncts();
    // a lower and an upper bound on one column are one range (`d >= x AND d < y`: the share
    // of [x, y), not two independent shares)
    let mut ranges: Vec<(&Expr, Option<&ScalarValue>, Option<&ScalarValue>)> = vec![];
    let mut rest = vec![];
    for c in conjuncts {
        match bound_of(c) {
            Some((column, lower, value)) if column_of(column, input).is_some() => {
                let i = match ranges.iter().position(|(e, _, _)| *e == column) {
                    Some(i) => i,
                    None => {
                        ranges.push((column, None, None));
                        ranges.len() - 1
                    }
                };
                let slot = if lower {
                    &mut ranges[i].1
                } else {
                    &mut ranges[i].2
                };
                // the tighter bound (values of one column's type compare directly)
                let tighter = match (*slot, lower) {
                    (None, _) => true,
                    (Some(old), true) => {
                        value.partial_cmp(old) == Some(std::cmp::Ordering::Greater)
                    }
                    (Some(old), false) => value.partial_cmp(old) == Some(std::cmp::Ordering::Less),
                };
                if tighter {
                    *slot = Some(value);
                }
            }
            _ => rest.push(c),
        }
    }
    let mut shares: Vec<f64> = rest
        .into_iter()
        .map(|c| conjunct_selectivity(c, input))
        .collect();
    for (column, lo, hi) in ranges {
        let share = column_of(column, input)
            .and_then(|stats| range_share(&stats, lo, hi))
            .unwrap_or(RANGE_GUESS);
        shares.push(share);
    }
    shares.sort_by(f64::total_cmp);
    let mut out = 1.0;
    let mut exponent = 1.0;
    for s in shares {
        out *= s.powf(exponent);
        exponent /= 2.0;
    }
    out.clamp(0.0, 1.0)
}

fn conjunct_selectivity(e: &Expr, input: &LogicalPlan) -> f64 {
    let s = match e {
        Expr::Binary(_, BinaryOp::And, _) => selectivity(e, input),
        Expr::Binary(l, BinaryOp::Or, r) => {
            let (a, b) = (
                conjunct_selectivity(l, input),
                conjunct_selectivity(r, input),
            );
            a + b - a * b
        }
        Expr::Not(x) => 1.0 - conjunct_selectivity(x, input),
        Expr::Literal(ScalarValue::Boolean(Some(true))) => 1.0,
        Expr::Literal(_) => 0.0,
        Expr::IsNull(x) => null_share(x, input).unwrap_or(EQ_GUESS),
        Expr::IsNotNull(x) => 1.0 - null_share(x, input).unwrap_or(0.0),
        Expr::Binary(l, op, r) => comparison(l, *op, r, input),
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let s = match (column_of(expr, input), literal(low), literal(high)) {
                (Some(stats), Some(lo), Some(hi)) => {
                    range_share(&stats, Some(lo), Some(hi)).unwrap_or(OTHER_GUESS)
                }
                _ => OTHER_GUESS,
            };
            if *negated { 1.0 - s } else { s }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let s = match column_of(expr, input).and_then(|s| distinct(&s)) {
                Some(ndv) => (list.len() as f64 / ndv).min(1.0),
                None => (EQ_GUESS * list.len() as f64).min(0.5),
            };
            if *negated { 1.0 - s } else { s }
        }
        _ => OTHER_GUESS,
    };
    s.clamp(0.0, 1.0)
}

/// `column < value` and the like as (column, whether a lower bound, value), either way round.
fn bound_of(e: &Expr) -> Option<(&Expr, bool, &ScalarValue)> {
    let Expr::Binary(l, op, r) = e else {
        return None;
    };
    let (column, op, value) = match (l.unaliased(), literal(r), r.unaliased(), literal(l)) {
        (c @ Expr::Column(_), Some(v), _, _) => (c, *op, v),
        (_, _, c @ Expr::Column(_), Some(v)) => (c, op.swap()?, v),
        _ => return None,
    };
    match op {
        BinaryOp::Gt | BinaryOp::GtEq => Some((column, true, value)),
        BinaryOp::Lt | BinaryOp::LtEq => Some((column, false, value)),
        _ => None,
    }
}

/// Statistics of `e` when it is a column of `input` with known statistics.
fn column_of(e: &Expr, input: &LogicalPlan) -> Option<ColumnStatistics> {
    match e.unaliased() {
        Expr::Column(c) => column_statistics(input, c).map(|(s, _)| s),
        _ => None,
    }
}

fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v) if !v.is_null() => Some(v),
        _ => None,
    }
}

/// Distinct values, when really known (counted, or bounded by an integer range).
fn distinct(s: &ColumnStatistics) -> Option<f64> {
    if let Some(d) = s.distinct {
        return Some(d.max(1) as f64);
    }
    let (lo, hi) = (as_f64(s.min.as_ref()?)?, as_f64(s.max.as_ref()?)?);
    let integral = matches!(
        s.min.as_ref().map(|v| v.data_type()),
        Some(t) if t.is_integer() || t == arrow::datatypes::DataType::Date32
    );
    (integral && hi >= lo).then_some(hi - lo + 1.0)
}

fn null_share(e: &Expr, input: &LogicalPlan) -> Option<f64> {
    let Expr::Column(c) = e.unaliased() else {
        return None;
    };
    let (s, rows) = column_statistics(input, c)?;
    Some(s.null_count? as f64 / rows.max(1) as f64)
}

fn comparison(l: &Expr, op: BinaryOp, r: &Expr, input: &LogicalPlan) -> f64 {
    // column op constant, either way round
    let (stats, value, op) = match (
        column_of(l, input),
        literal(r),
        column_of(r, input),
        literal(l),
    ) {
        (Some(s), Some(v), _, _) => (Some(s), Some(v), Some(op)),
        (_, _, Some(s), Some(v)) => (Some(s), Some(v), op.swap()),
        _ => (None, None, Some(op)),
    };
    let Some(op) = op else {
        return OTHER_GUESS;
    };
    let eq = || {
        stats
            .as_ref()
            .and_then(distinct)
            .map_or(EQ_GUESS, |d| 1.0 / d)
    };
    match (op, stats.as_ref(), value) {
        (BinaryOp::Eq, _, _) => eq(),
        (BinaryOp::NotEq, _, _) => 1.0 - eq(),
        (BinaryOp::Lt | BinaryOp::LtEq, Some(s), Some(v)) => {
            range_share(s, None, Some(v)).unwrap_or(RANGE_GUESS)
        }
        (BinaryOp::Gt | BinaryOp::GtEq, Some(s), Some(v)) => {
            range_share(s, Some(v), None).unwrap_or(RANGE_GUESS)
        }
        (BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq, _, _) => RANGE_GUESS,
        _ => OTHER_GUESS,
    }
}

/// Share of the column's `[min, max]` range inside `[lo, hi]` (open ends where `None`).
fn range_share(
    s: &ColumnStatistics,
    lo: Option<&ScalarValue>,
    hi: Option<&ScalarValue>,
) -> Option<f64> {
    let min = as_f64(s.min.as_ref()?)?;
    let max = as_f64(s.max.as_ref()?)?;
    if max <= min {
        return None;
    }
    let lo = match lo {
        Some(v) => as_f64(v)?.max(min),
        None => min,
    };
    let hi = match hi {
        Some(v) => as_f64(v)?.min(max),
        None => max,
    };
    Some(((hi - lo) / (max - min)).clamp(0.0, 1.0))
}

/// A number standing for `v` on a scale where differences are meaningful.
fn as_f64(v: &ScalarValue) -> Option<f64> {
    Some(match v {
        ScalarValue::Int8(Some(x)) => *x as f64,
        ScalarValue::Int16(Some(x)) => *x as f64,
        ScalarValue::Int32(Some(x)) => *x as f64,
        ScalarValue::Int64(Some(x)) => *x as f64,
        ScalarValue::UInt8(Some(x)) => *x as f64,
        ScalarValue::UInt16(Some(x)) => *x as f64,
        ScalarValue::UInt32(Some(x)) => *x as f64,
        ScalarValue::UInt64(Some(x)) => *x as f64,
        ScalarValue::Float32(Some(x)) => *x as f64,
        ScalarValue::Float64(Some(x)) => *x,
        ScalarValue::Date32(Some(x)) => *x as f64,
        ScalarValue::Date64(Some(x)) => *x as f64,
        ScalarValue::Decimal128(Some(x), _, s) => *x as f64 / 10f64.powi(*s as i32),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::expr_fn::{col, lit};
    use crate::optimizer::test_util::scan_rows;

    #[test]
    fn ranges_equalities_and_nulls_use_statistics() {
        // a: 0..1000, no NULLs
        let t = scan_rows("t", &["a"], 1000);
        let s = |e: Expr| selectivity(&e, &t);
        assert!((s(col("t.a").lt(lit(250i64))) - 0.25).abs() < 0.01);
        assert!((s(lit(750i64).lt(col("t.a"))) - 0.25).abs() < 0.01);
        assert!((s(col("t.a").eq(lit(3i64))) - 0.001).abs() < 1e-6);
        assert!((s(col("t.a").between(lit(100i64), lit(199i64))) - 0.1).abs() < 0.01);
        assert_eq!(s(col("t.a").is_null()), 0.0);
        assert_eq!(s(col("t.a").gt(lit(5000i64))), 0.0);
        let ors = col("t.a").lt(lit(100i64)).or(col("t.a").gt(lit(899i64)));
        assert!((s(ors) - 0.19).abs() < 0.01);
    }

    #[test]
    fn bounds_on_one_column_are_one_range() {
        let t = scan_rows("t", &["a", "b"], 1000);
        let s = |e: Expr| selectivity(&e, &t);
        // [100, 140) of 0..1000: 4%, not 10% * sqrt(90%)
        let range = col("t.a")
            .gt_eq(lit(100i64))
            .and(col("t.a").lt(lit(140i64)));
        assert!((s(range) - 0.04).abs() < 0.01);
        // either way round, and the tighter of two bounds on one side
        let range = lit(100i64)
            .lt_eq(col("t.a"))
            .and(col("t.a").lt(lit(500i64)))
            .and(col("t.a").lt(lit(140i64)));
        assert!((s(range) - 0.04).abs() < 0.01);
        // bounds on different columns still back off
        let two = col("t.a").lt(lit(100i64)).and(col("t.b").gt(lit(899i64)));
        assert!((s(two) - 0.0316).abs() < 0.002);
    }

    #[test]
    fn conjuncts_back_off() {
        let t = scan_rows("t", &["a", "b"], 1000);
        let both = col("t.a").lt(lit(100i64)).and(col("t.b").lt(lit(100i64)));
        // 0.1 * sqrt(0.1), not 0.01: predicates are rarely independent
        assert!((selectivity(&both, &t) - 0.0316).abs() < 0.001);
        // no statistics: fixed guesses
        let empty = crate::optimizer::test_util::scan("e", &["a"]);
        assert_eq!(selectivity(&col("e.a").lt(lit(1i64)), &empty), RANGE_GUESS);
    }
}
