//! Text rendering of physical plans for `EXPLAIN` and `EXPLAIN ANALYZE`:
//! one operator per line with its output partitioning, exchanges marked as
//! stage boundaries, its estimated rows, and (after a run) its metrics.

use std::fmt::Write;
use std::sync::Arc;

use crate::exec::ExecutionPlan;
use crate::physical::estimates::PlanEstimates;
use crate::runtime::memory_pool::human_bytes;

/// Renders the operator tree; with `metrics`, adds rows, batches, time, peak reserved memory and
/// counters (spills, scan statistics) per operator.
pub fn display_physical(plan: &Arc<dyn ExecutionPlan>, metrics: bool) -> String {
    display_physical_with(plan, metrics, None)
}

/// [`display_physical`], adding each operator's estimated rows (`rows≈N`) where known.
pub fn display_physical_with(
    plan: &Arc<dyn ExecutionPlan>,
    metrics: bool,
    estimates: Option<&PlanEstimates>,
) -> String {
    let mut out = String::new();
    let mut stage = 0usize;
    count_stages(plan, &mut stage);
    let _ = writeln!(
        out,
        "Stage {stage} (final, partitions={})",
        plan.output_partitioning().partition_count()
    );
    render(plan, 1, metrics, estimates, &mut stage, &mut out);
    out
}

fn count_stages(plan: &Arc<dyn ExecutionPlan>, n: &mut usize) {
    for c in plan.children() {
        count_stages(c, n);
    }
    if plan.as_stage_boundary().is_some() {
        *n += 1;
    }
}

fn inclusive_ns(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    plan.metrics().map(|m| m.elapsed_ns()).unwrap_or(0)
}

fn render(
    plan: &Arc<dyn ExecutionPlan>,
    depth: usize,
    metrics: bool,
    estimates: Option<&PlanEstimates>,
    stage: &mut usize,
    out: &mut String,
) {
    let indent = "  ".repeat(depth);
    let desc = plan.describe();
    let mut part = plan.output_partitioning().to_string();
    if let Some(n) = estimates.and_then(|e| e.get(plan)) {
        part = format!("{part}, rows≈{n}");
    }
    let mut line = if desc.is_empty() {
        format!("{indent}{} [partitioning={part}]", plan.name())
    } else {
        format!("{indent}{}: {desc} [partitioning={part}]", plan.name())
    };
    if metrics && let Some(m) = plan.metrics() {
        // time spent in this operator alone: its pulls minus the pulls of inputs it drives inline
        let own = if plan.as_stage_boundary().is_some() {
            0
        } else {
            let children: u64 = plan
                .children()
                .iter()
                .filter(|c| c.as_stage_boundary().is_none())
                .map(|c| inclusive_ns(c))
                .sum();
            inclusive_ns(plan).saturating_sub(children)
        };
        let _ = write!(
            line,
            " rows={} batches={} time={:.3}ms",
            m.output_rows(),
            m.output_batches(),
            own as f64 / 1e6
        );
        if m.peak_memory() > 0 {
            let _ = write!(line, " peak_mem={}", human_bytes(m.peak_memory()));
        }
        for (k, v) in m.extra() {
            if k.ends_with("bytes") {
                let _ = write!(line, " {k}={}", human_bytes(v));
            } else {
                let _ = write!(line, " {k}={v}");
            }
        }
    }
    let _ = writeln!(out, "{line}");
    if plan.as_stage_boundary().is_some() {
        *stage = stage.saturating_sub(1);
        let _ = writeln!(
            out,
            "{indent}  -- stage {} (input partitions={}) --",
            *stage,
            plan.children()
                .first()
                .map(|c| c.output_partitioning().partition_count())
                .unwrap_or(0)
        );
    }
    for c in plan.children() {
        render(c, depth + 1, metrics, estimates, stage, out);
    }
}
