//! Join strategy: hash join when there are equi keys (build side = the smaller
//! input by estimate; broadcast when it is under the threshold and the join
//! type allows), nested-loop join otherwise. A swapped hash join is followed
//! by a projection restoring the logical column order.

use std::sync::Arc;

use arrow::datatypes::Field;

use crate::error::Result;
use crate::exec::ExecutionPlan;
use crate::exec::hash_join::{HashJoinExec, HashJoinSpec, JoinMode};
use crate::exec::nested_loop_join::NestedLoopJoinExec;
use crate::exec::projection::ProjectionExec;
use crate::logical::plan::{Join, JoinType, join_schema};
use crate::physical::partitioning::co_partitioned;
use crate::physical::planner::PhysicalPlanner;
use crate::physical::statistics::estimate_rows;
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;

/// Whether a hash join of this type (left = build) may broadcast its build side.
fn can_broadcast(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Inner | JoinType::Right | JoinType::RightSemi | JoinType::RightAnti
    )
}

/// Whether both inputs are already hash-partitioned on their join keys (at the same positions)
/// into the same number (more than one) of partitions, so a partitioned join needs no exchange.
fn inputs_co_partitioned(
    planner: &PhysicalPlanner,
    j: &Join,
    build: &Arc<dyn ExecutionPlan>,
    probe: &Arc<dyn ExecutionPlan>,
    swap: bool,
) -> Result<bool> {
    let (ls, rs) = (j.left.schema(), j.right.schema());
    let mut left_keys = vec![];
    let mut right_keys = vec![];
    for (l, r) in &j.on {
        left_keys.push(planner.expr(l, ls)?);
        right_keys.push(planner.expr(r, rs)?);
    }
    let (build_keys, probe_keys) = if swap {
        (right_keys, left_keys)
    } else {
        (left_keys, right_keys)
    };
    let (bp, pp) = (build.output_partitioning(), probe.output_partitioning());
    Ok(bp.partition_count() > 1
        && co_partitioned(&[(bp, build_keys.as_slice()), (pp, probe_keys.as_slice())]))
}

/// Whether a build side over the broadcast threshold is still better broadcast: a partitioned
/// join shuffles both sides, a broadcast one builds a single shared table and leaves the probe
/// side where it is. When the probe side is many times larger (TPC-H Q9 at SF10: 60 million
/// lineitem rows against ~0.4 million part/partsupp rows), moving it costs far more than the
/// bigger table; the build is still capped (at 10x the threshold) to bound its memory.
fn broadcast_pays(build_rows: usize, probe_rows: usize, threshold: usize) -> bool {
    build_rows <= threshold.saturating_mul(10) && build_rows.saturating_mul(16) <= probe_rows
}

/// Plans a logical join.
pub fn plan_join(planner: &PhysicalPlanner, j: &Join) -> Result<Arc<dyn ExecutionPlan>> {
    let left = planner.plan_enforced(&j.left)?;
    let right = planner.plan_enforced(&j.right)?;
    let ls = j.left.schema();
    let rs = j.right.schema();
    if j.on.is_empty() {
        let filter = match &j.filter {
            Some(f) => Some(planner.expr(f, &ls.join(rs))?),
            None => None,
        };
        let joined = Arc::new(arrow::datatypes::Schema::new(
            ls.join(rs)
                .arrow_schema()
                .fields()
                .iter()
                .cloned()
                .collect::<Vec<_>>(),
        ));
        return Ok(Arc::new(NestedLoopJoinExec::new(
            left,
            right,
            filter,
            j.join_type,
            j.schema.arrow_schema().clone(),
            joined,
        )));
    }

    let left_rows = estimate_rows(&j.left);
    let right_rows = estimate_rows(&j.right);
    let threshold = planner.config.broadcast_rows_threshold;
    // Build on the smaller side; NOT IN (null-aware) must build the subquery (right) side.
    let swap = if j.null_aware {
        true
    } else {
        match (left_rows, right_rows) {
            (Some(l), Some(r)) => r < l,
            (None, Some(_)) => true,
            _ => false,
        }
    };
    let (build_plan, probe_plan, build_rows, build_schema, probe_schema, join_type) = if swap {
        (right, left, right_rows, rs, ls, j.join_type.swap())
    } else {
        (left, right, left_rows, ls, rs, j.join_type)
    };
    // inputs already hash-partitioned on the keys alike (cached or bucketed tables) join
    // partition by partition: broadcasting would throw that away and move data
    let co_partitioned =
        !j.null_aware && inputs_co_partitioned(planner, j, &build_plan, &probe_plan, swap)?;
    let probe_rows = if swap { left_rows } else { right_rows };
    let broadcast = can_broadcast(join_type)
        && !co_partitioned
        && (j.null_aware
            || build_rows.is_some_and(|r| r <= threshold)
            || build_rows
                .zip(probe_rows)
                .is_some_and(|(b, p)| broadcast_pays(b, p, threshold)));
    let on =
        j.on.iter()
            .map(|(l, r)| {
                let (b, p) = if swap { (r, l) } else { (l, r) };
                Ok((
                    planner.expr(b, build_schema)?,
                    planner.expr(p, probe_schema)?,
                ))
            })
            .collect::<Result<Vec<(PhysicalExprRef, PhysicalExprRef)>>>()?;
    let joined_plan_schema = build_schema.join(probe_schema);
    let filter = match &j.filter {
        Some(f) => Some(planner.expr(f, &joined_plan_schema)?),
        None => None,
    };
    let out_schema = join_schema(build_schema, probe_schema, join_type);
    let join = HashJoinExec::try_new(
        build_plan,
        probe_plan,
        HashJoinSpec {
            on,
            filter,
            join_type,
            mode: if broadcast {
                JoinMode::CollectLeft
            } else {
                JoinMode::Partitioned
            },
            null_equals_null: j.null_equals_null,
            null_aware: j.null_aware,
            schema: out_schema.arrow_schema().clone(),
            joined_schema: joined_plan_schema.arrow_schema().clone(),
        },
    )?;
    let join: Arc<dyn ExecutionPlan> = Arc::new(join);
    if !swap || !join_type.outputs_left() || !join_type.outputs_right() {
        return Ok(join);
    }
    // restore left ++ right column order
    let bw = build_schema.len();
    let pw = probe_schema.len();
    let js = join.schema();
    let mut exprs = vec![];
    let mut fields: Vec<Field> = vec![];
    let logical = j.schema.arrow_schema();
    for (k, idx) in (bw..bw + pw).chain(0..bw).enumerate() {
        let f = js.field(idx);
        exprs.push((
            Arc::new(ColumnExpr::new(
                f.name().clone(),
                idx,
                f.data_type().clone(),
                f.is_nullable(),
            )) as PhysicalExprRef,
            logical.field(k).name().clone(),
        ));
        fields.push(logical.field(k).as_ref().clone());
    }
    Ok(Arc::new(ProjectionExec::new(exprs, fields, join)))
}

#[cfg(test)]
mod tests {
    use super::broadcast_pays;

    #[test]
    fn a_big_build_is_broadcast_only_against_a_much_bigger_probe() {
        // TPC-H Q9 at SF10: ~2 million estimated part/partsupp rows against 60 million lineitem
        assert!(broadcast_pays(2_000_000, 60_000_000, 200_000));
        // comparable sides: shuffle both
        assert!(!broadcast_pays(2_000_000, 15_000_000, 200_000));
        // past 10x the threshold the build is too big to hold once per join
        assert!(!broadcast_pays(2_500_000, 1_000_000_000, 200_000));
    }
}
