//! Planning of `Window` nodes: window calls with the same PARTITION BY and
//! ORDER BY share one sort (hash-partitioned on the partition keys, or all in
//! one partition) and one `WindowExec`.

use std::sync::Arc;

use arrow::compute::SortOptions;

use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::sort::SortExec;
use crate::exec::window::{WindowExec, WindowSpec};
use crate::logical::expr::{Expr, WindowCall};
use crate::logical::plan::Window;
use crate::physical::Distribution;
use crate::physical::planner::PhysicalPlanner;
use crate::physical_expr::PhysicalSortExpr;

/// Plans a window node.
pub fn plan_window(planner: &PhysicalPlanner, w: &Window) -> Result<Arc<dyn ExecutionPlan>> {
    let mut plan = planner.plan(&w.input)?;
    let in_schema = w.input.schema();
    let width = in_schema.len();
    let calls: Vec<&WindowCall> = w
        .window_exprs
        .iter()
        .map(|e| match e.unaliased() {
            Expr::Window(c) => Ok(c.as_ref()),
            other => Err(Error::internal(format!("not a window call: {other}"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut i = 0;
    while i < calls.len() {
        // consecutive calls with the same window share one operator
        let mut j = i + 1;
        while j < calls.len()
            && calls[j].partition_by == calls[i].partition_by
            && calls[j].order_by == calls[i].order_by
        {
            j += 1;
        }
        let first = calls[i];
        let partition_by = first
            .partition_by
            .iter()
            .map(|e| planner.expr(e, in_schema))
            .collect::<Result<Vec<_>>>()?;
        let order_by = first
            .order_by
            .iter()
            .map(|s| planner.sort_expr(s, in_schema))
            .collect::<Result<Vec<_>>>()?;
        let mut sort_keys: Vec<PhysicalSortExpr> = partition_by
            .iter()
            .map(|e| PhysicalSortExpr {
                expr: e.clone(),
                options: SortOptions {
                    descending: false,
                    nulls_first: true,
                },
            })
            .collect();
        sort_keys.extend(order_by.iter().cloned());
        let distribution = if partition_by.is_empty() {
            Distribution::SinglePartition
        } else {
            Distribution::HashPartitioned(partition_by.clone())
        };
        if !sort_keys.is_empty() {
            plan = Arc::new(
                SortExec::new(sort_keys, None, plan).with_required_distribution(distribution),
            );
        }
        let mut specs = vec![];
        for (k, call) in calls[i..j].iter().enumerate() {
            let args = call
                .args
                .iter()
                .map(|e| planner.expr(e, in_schema))
                .collect::<Result<Vec<_>>>()?;
            let arg_types = call
                .args
                .iter()
                .map(|e| e.data_type(in_schema))
                .collect::<Result<Vec<_>>>()?;
            let field = w.schema.field(width + i + k);
            specs.push(WindowSpec {
                func: call.func.clone(),
                args,
                arg_types,
                distinct: call.distinct,
                return_type: field.data_type().clone(),
                name: field.name().clone(),
                frame: call.frame,
            });
        }
        plan = Arc::new(WindowExec::new(plan, partition_by, order_by, specs));
        i = j;
    }
    Ok(plan)
}
