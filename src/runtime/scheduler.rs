//! Runs a physical plan the way Spark does: the plan is cut into stages at
//! exchanges; stages run bottom-up, each as one task per partition on the
//! session's rayon pool, and an exchange's output is fully materialized
//! before the stage that reads it starts (so no task ever waits on another) —
//! in memory, or partly in spill files when the memory pool refuses it.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::runtime::TaskContext;
use crate::runtime::stream::PartitionStream;

/// Materializes every stage boundary under `plan`, deepest first.
pub fn run_stages(plan: &Arc<dyn ExecutionPlan>, ctx: &Arc<TaskContext>) -> Result<()> {
    for child in plan.children() {
        run_stages(child, ctx)?;
    }
    if let Some(boundary) = plan.as_stage_boundary()
        && !boundary.is_materialized()
    {
        ctx.cancel.check()?;
        boundary.materialize(ctx)?;
    }
    Ok(())
}

/// Runs the plan and returns each output partition's batches.
pub fn collect_partitioned(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &Arc<TaskContext>,
) -> Result<Vec<Vec<RecordBatch>>> {
    run_stages(plan, ctx)?;
    let n = plan.output_partitioning().partition_count();
    let _tasks = ctx
        .memory
        .tasks_started(n.min(ctx.pool.current_num_threads()));
    if n == 1 {
        let batches = drain(plan.execute(0, ctx)?, ctx)?;
        return Ok(vec![batches]);
    }
    ctx.pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|p| drain(plan.execute(p, ctx)?, ctx))
            .collect::<Result<Vec<_>>>()
    })
}

/// Runs the plan and returns all output batches, partition by partition in order.
pub fn collect(plan: &Arc<dyn ExecutionPlan>, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
    Ok(collect_partitioned(plan, ctx)?
        .into_iter()
        .flatten()
        .collect())
}

/// Runs the stages below the final one, then streams the final stage's partitions in order
/// (see [`PartitionStream`]: partitions compute ahead on their own threads, each holding at most
/// a batch or two, so memory for the final stage stays bounded).
pub fn execute_stream(plan: Arc<dyn ExecutionPlan>, ctx: Arc<TaskContext>) -> Result<BatchIter> {
    run_stages(&plan, &ctx)?;
    let ahead = ctx.config.target_partitions;
    Ok(Box::new(PartitionStream::new(plan, ctx, ahead)?))
}

fn drain(iter: BatchIter, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
    let mut out = vec![];
    for b in iter {
        ctx.cancel.check()?;
        let b = b?;
        if b.num_rows() > 0 {
            out.push(b);
        }
    }
    Ok(out)
}
