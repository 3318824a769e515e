//! Runs a physical plan the way Spark does: the plan is cut into stages at
//! exchanges; stages run bottom-up, each as one task per partition on the
//! session's rayon pool, and an exchange's output is fully materialized
//! before the stage that reads it starts (so no task ever waits on another) —
//! in memory, or partly in spill files when the memory pool refuses it. Before any stage,
//! the uncorrelated subqueries in the operators' expressions run, one by one, so tasks only
//! read their results.
//!
//! A stage runs at most `permits` tasks at once (the session's `target_partitions`), each
//! computing only while it holds a permit of the session's
//! [`FairScheduler`](crate::runtime::fair::FairScheduler), so queries running at once share the
//! cores fairly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical_expr::PhysicalExprRef;
use crate::runtime::stream::PartitionStream;
use crate::runtime::{TaskContext, fair};

/// Runs the plan's uncorrelated subqueries, then materializes every stage boundary under
/// `plan`, deepest first.
pub fn run_stages(plan: &Arc<dyn ExecutionPlan>, ctx: &Arc<TaskContext>) -> Result<()> {
    run_uncorrelated_subqueries(plan.as_ref(), ctx)?;
    materialize_stages(plan, ctx)
}

/// Computes every uncorrelated subquery in the operators' expressions, one after the other from
/// the calling thread, before any task starts (as Spark does before a stage): tasks then only
/// read the results, and never block on a subquery computed by another task (which, with work
/// stealing, could be suspended under the blocked task on the same thread).
fn run_uncorrelated_subqueries(plan: &dyn ExecutionPlan, ctx: &Arc<TaskContext>) -> Result<()> {
    fn visit(e: &PhysicalExprRef, ctx: &Arc<TaskContext>) -> Result<()> {
        for child in e.children() {
            visit(child, ctx)?;
        }
        match e.as_subquery() {
            Some(sq) if sq.is_uncorrelated() => sq.prepare(&ctx.cancel),
            _ => Ok(()),
        }
    }
    for child in plan.children() {
        run_uncorrelated_subqueries(child.as_ref(), ctx)?;
    }
    for e in plan.expressions() {
        visit(e, ctx)?;
    }
    Ok(())
}

fn materialize_stages(plan: &Arc<dyn ExecutionPlan>, ctx: &Arc<TaskContext>) -> Result<()> {
    for child in plan.children() {
        materialize_stages(child, ctx)?;
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
    run_tasks(ctx, n, |p| drain(plan.execute(p, ctx)?, ctx))
}

/// Runs `task(0..n)` as the tasks of one stage — at most `permits` at once, each under a permit
/// of the fair scheduler — and returns their results in partition order (the first error
/// otherwise). Called from inside a task, it runs them one after another on the calling thread.
pub fn run_tasks<T: Send>(
    ctx: &Arc<TaskContext>,
    n: usize,
    task: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let width = n.min(ctx.query.permits()).max(1);
    let _tasks = ctx.memory.tasks_started(width);
    if n <= 1 || fair::in_task() {
        // A plan run by a task (a correlated subquery, a recursive CTE's term): its tasks run
        // one after another on this thread, under the task's permit. In parallel, this thread
        // would run other queued tasks while waiting for its own, under work stealing, and one
        // of those could wait for something (a shared build side) suspended beneath it.
        return (0..n).map(|p| ctx.query.run_task(|| task(p))).collect();
    }
    let results: Vec<Mutex<Option<Result<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    // `width` runners take the next partition until none is left (and stop at the first error)
    let runner = |_| {
        loop {
            let p = next.fetch_add(1, Ordering::SeqCst);
            if p >= n {
                return;
            }
            let r = ctx.query.run_task(|| task(p));
            let failed = r.is_err();
            *results[p].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            if failed {
                next.store(n, Ordering::SeqCst);
                return;
            }
        }
    };
    ctx.pool
        .install(|| (0..width).into_par_iter().for_each(runner));
    let mut out = Vec::with_capacity(n);
    let mut first_err = None;
    for r in results {
        match r.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => {
                first_err.get_or_insert(e);
            }
            // not run: an earlier task failed
            None => {}
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
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
        fair::yield_point();
        let b = b?;
        if b.num_rows() > 0 {
            out.push(b);
        }
    }
    Ok(out)
}
