//! `NestedLoopJoinExec`: joins without equi keys (non-equi conditions and cross joins), as a
//! block nested-loop join. The left (build) input is collected once, in memory when the pool
//! grants it, else in block files on disk (`build.rs`); every partition of the right (probe)
//! input streams past one block at a time, paired in bounded chunks and filtered by the join
//! condition (`block.rs`). With several blocks the probe side is written to a spill file during
//! the first block's pass and re-read for the others (`stream.rs`).
//!
//! ```text
//!  left (one partition, collected once) ─▶ in memory │ refused: block files 0..n
//!  right partition ─batch─▶ pairs (block × batch, chunked) ─▶ condition ─▶ output
//!                           └ several blocks: probe spill file, re-read for blocks 1..n
//! ```
//! Join types that emit left rows by their matches (LEFT, FULL, LEFT SEMI/ANTI) need the right
//! side in one partition too, so that "unmatched" is known globally; those that emit right rows
//! by their matches (RIGHT, FULL, RIGHT SEMI/ANTI) see every left row in every task, from
//! memory or from the blocks.

pub mod block;
pub mod build;
pub mod stream;

use std::any::Any;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::SchemaRef;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::logical::plan::JoinType;
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::PhysicalExprRef;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};
use block::JoinSpec;
use build::{BuildSide, collect_build};
use stream::NestedLoopStream;

/// Nested loop join of `left` (collected, spilled in blocks when refused) and `right`
/// (streamed).
#[derive(Debug)]
pub struct NestedLoopJoinExec {
    left: Arc<dyn ExecutionPlan>,
    right: Arc<dyn ExecutionPlan>,
    filter: Option<PhysicalExprRef>,
    join_type: JoinType,
    schema: SchemaRef,
    joined_schema: SchemaRef,
    build: OnceLock<Result<BuildSide>>,
    metrics: Arc<Metrics>,
}

impl NestedLoopJoinExec {
    /// A nested loop join; `filter` is over `left ++ right` columns (`joined_schema`).
    pub fn new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        filter: Option<PhysicalExprRef>,
        join_type: JoinType,
        schema: SchemaRef,
        joined_schema: SchemaRef,
    ) -> Self {
        NestedLoopJoinExec {
            left,
            right,
            filter,
            join_type,
            schema,
            joined_schema,
            build: OnceLock::new(),
            metrics: Arc::new(Metrics::new()),
        }
    }

    fn needs_global_left(&self) -> bool {
        matches!(
            self.join_type,
            JoinType::Left
                | JoinType::Full
                | JoinType::LeftSemi
                | JoinType::LeftAnti
                | JoinType::LeftMark
        )
    }

    fn build_side(&self, ctx: &Arc<TaskContext>) -> Result<BuildSide> {
        self.build
            .get_or_init(|| {
                collect_build(
                    self.left.execute(0, ctx)?,
                    &self.left.schema(),
                    "NestedLoopJoinExec build",
                    ctx,
                    &self.metrics,
                )
            })
            .clone()
    }
}

impl ExecutionPlan for NestedLoopJoinExec {
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        self.filter.iter().collect()
    }
    fn name(&self) -> &'static str {
        "NestedLoopJoinExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(self.right.output_partitioning().partition_count())
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.left, &self.right]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        if self.needs_global_left() {
            vec![Distribution::SinglePartition, Distribution::SinglePartition]
        } else {
            vec![Distribution::SinglePartition, Distribution::Unspecified]
        }
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let right = children.remove(1);
        let left = children.remove(0);
        Ok(Arc::new(NestedLoopJoinExec::new(
            left,
            right,
            self.filter.clone(),
            self.join_type,
            self.schema.clone(),
            self.joined_schema.clone(),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let build = self.build_side(ctx)?;
        let spec = JoinSpec {
            filter: self.filter.clone(),
            join_type: self.join_type,
            schema: self.schema.clone(),
            joined_schema: self.joined_schema.clone(),
            build_width: self.left.schema().fields().len(),
            batch_size: ctx.batch_size(),
        };
        let stream = NestedLoopStream::new(
            spec,
            build,
            self.left.schema(),
            self.right.execute(partition, ctx)?,
            self.right.schema(),
            format!("NestedLoopJoinExec[{partition}] block"),
            ctx,
            &self.metrics,
        );
        Ok(Box::new(MeteredIter::new(stream, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        match &self.filter {
            Some(f) => format!("{} filter={f}", self.join_type),
            None => format!("{}", self.join_type),
        }
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}

#[cfg(test)]
mod tests;
