//! Places runtime filters (see `exec::runtime_filter`): for each hash join whose unmatched probe
//! rows produce nothing, each probe key that is a plain column is followed down the probe side,
//! within the join's stage, to the scan that produces it; the scan gets the join's filter for
//! that column. The path may pass only operators that keep row identity and partition numbers:
//! projections (of that column), filters, and the probe side of hash joins whose every output row
//! comes from one probe row (INNER, RIGHT, RIGHT SEMI, RIGHT ANTI with left = build). An
//! exchange, a limit, an aggregate or anything else ends the search: below an exchange the scan
//! runs in an earlier stage, before the join's build side is complete. Except when both inputs
//! of the join are exchanges: the build side's exchange is complete before the probe side's
//! runs, so it publishes the keys itself and the search goes on below the probe side's exchange.

use std::sync::Arc;

use crate::error::Result;
use crate::exec::ExecutionPlan;
use crate::exec::exchange::ExchangeExec;
use crate::exec::exchange::key_publisher::KeyPublisher;
use crate::exec::filter::FilterExec;
use crate::exec::hash_join::HashJoinExec;
use crate::exec::projection::ProjectionExec;
use crate::exec::runtime_filter::{RuntimeFilter, ScanFilter};
use crate::exec::scan::MemoryScanExec;
use crate::exec::scan::parquet::ParquetScanExec;
use crate::logical::plan::JoinType;
use crate::physical::enforce_distribution::OnNewOperator;
use crate::physical_expr::PhysicalExprRef;

/// `plan` with runtime filters from its hash joins to the scans under their probe sides.
pub fn add_runtime_filters(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    add_runtime_filters_with(plan, &mut |_, _| {})
}

/// [`add_runtime_filters`], telling `on_new` of each operator it rebuilds (old, new), so
/// per-operator facts such as EXPLAIN's row estimates carry over.
pub fn add_runtime_filters_with(
    plan: Arc<dyn ExecutionPlan>,
    on_new: &mut OnNewOperator<'_>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    let plan = if children.is_empty() {
        plan
    } else {
        let new = children
            .iter()
            .map(|c| add_runtime_filters_with(c.clone(), on_new))
            .collect::<Result<Vec<_>>>()?;
        if new.iter().zip(&children).any(|(a, b)| !Arc::ptr_eq(a, b)) {
            let rebuilt = plan.clone().with_new_children(new)?;
            on_new(&plan, &rebuilt);
            rebuilt
        } else {
            plan
        }
    };
    let Some(join) = plan.as_any().downcast_ref::<HashJoinExec>() else {
        return Ok(plan);
    };
    if !join.drops_unmatched_probe_rows() {
        return Ok(plan);
    }
    if let Some(rebuilt) = across_shuffle(&plan, join, on_new)? {
        return Ok(rebuilt);
    }
    let filter = Arc::new(join.new_runtime_filter());
    let probe = plan.children()[1].clone();
    let Some(probe) = attach_keys(join, &probe, &filter, on_new)? else {
        return Ok(plan);
    };
    let rebuilt: Arc<dyn ExecutionPlan> = Arc::new(join.with_runtime_filter(probe, filter)?);
    on_new(&plan, &rebuilt);
    Ok(rebuilt)
}

/// When both inputs of `join` are exchanges: the build side's exchange (complete first)
/// publishes its join keys, and the scans under the probe side's exchange filter with them
/// before the shuffle (see `exec::exchange::key_publisher`).
fn across_shuffle(
    plan: &Arc<dyn ExecutionPlan>,
    join: &HashJoinExec,
    on_new: &mut OnNewOperator<'_>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let children = plan.children();
    let (Some(build), Some(probe)) = (
        children[0].as_any().downcast_ref::<ExchangeExec>(),
        children[1].as_any().downcast_ref::<ExchangeExec>(),
    ) else {
        return Ok(None);
    };
    let filter = Arc::new(join.new_shuffle_filter());
    // an exchange passes its input's columns through unchanged
    let Some(probe_input) = attach_keys(join, probe.input(), &filter, on_new)? else {
        return Ok(None);
    };
    let build_keys = join.on().iter().map(|(b, _)| b.clone()).collect();
    let publisher = KeyPublisher::new(filter, build_keys, join.null_equals_null());
    let new_build: Arc<dyn ExecutionPlan> = Arc::new(build.with_key_publisher(publisher));
    on_new(children[0], &new_build);
    let new_probe = children[1].clone().with_new_children(vec![probe_input])?;
    on_new(children[1], &new_probe);
    let rebuilt = plan.clone().with_new_children(vec![new_build, new_probe])?;
    on_new(plan, &rebuilt);
    Ok(Some(rebuilt))
}

/// `probe` (whose columns are those of the join's probe side) with `filter` attached, for each
/// join key that is a plain probe column of the build key's type, to the scan producing it;
/// `None` when no key reaches a scan.
fn attach_keys(
    join: &HashJoinExec,
    probe: &Arc<dyn ExecutionPlan>,
    filter: &Arc<RuntimeFilter>,
    on_new: &mut OnNewOperator<'_>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let mut probe = probe.clone();
    let mut attached = false;
    for (key, (build_key, probe_key)) in join.on().iter().enumerate() {
        let Some(column) = plain_column(probe_key) else {
            continue;
        };
        if build_key.data_type() != probe_key.data_type() {
            continue;
        }
        let target = Target { filter, key };
        if let Some(p) = attach(&probe, column, &target, on_new)? {
            probe = p;
            attached = true;
        }
    }
    Ok(attached.then_some(probe))
}

/// The filter and join key being placed.
struct Target<'a> {
    filter: &'a Arc<RuntimeFilter>,
    key: usize,
}

impl Target<'_> {
    fn at(&self, column: usize) -> ScanFilter {
        ScanFilter {
            filter: self.filter.clone(),
            key: self.key,
            column,
        }
    }
}

/// The input column of a plain column reference.
fn plain_column(e: &PhysicalExprRef) -> Option<usize> {
    if e.equivalent_columns().is_some() {
        return None;
    }
    e.column_index()
}

/// `plan` with the filter on `column` attached to the scan producing it, if one is reachable.
fn attach(
    plan: &Arc<dyn ExecutionPlan>,
    column: usize,
    target: &Target<'_>,
    on_new: &mut OnNewOperator<'_>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let any = plan.as_any();
    let scan = if let Some(scan) = any.downcast_ref::<MemoryScanExec>() {
        Some(
            scan.with_runtime_filter(target.at(column))
                .map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>),
        )
    } else {
        any.downcast_ref::<ParquetScanExec>().map(|scan| {
            scan.with_runtime_filter(target.at(column))
                .map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>)
        })
    };
    if let Some(scan) = scan {
        if let Some(new) = &scan {
            on_new(plan, new);
        }
        return Ok(scan);
    }
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    // which child, and which of its columns, the output column comes from
    let (child, child_column) = if let Some(p) = any.downcast_ref::<ProjectionExec>() {
        match p.exprs().get(column).and_then(|(e, _)| plain_column(e)) {
            Some(c) => (0, c),
            None => return Ok(None),
        }
    } else if any.is::<FilterExec>() {
        (0, column)
    } else if let Some(j) = any.downcast_ref::<HashJoinExec>() {
        let build_width = children[0].schema().fields().len();
        match j.join_type() {
            JoinType::Inner | JoinType::Right if column >= build_width => (1, column - build_width),
            JoinType::RightSemi | JoinType::RightAnti => (1, column),
            _ => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let Some(new_child) = attach(&children[child], child_column, target, on_new)? else {
        return Ok(None);
    };
    let mut new_children = children;
    new_children[child] = new_child;
    let rebuilt = plan.clone().with_new_children(new_children)?;
    on_new(plan, &rebuilt);
    Ok(Some(rebuilt))
}
