//! `HashJoinExec`: equi-join with an optional residual filter, all join types.
//!
//! ```text
//!  build (left) ──▶ JoinHashTable (per partition, or once when broadcast)
//!                          │
//!  probe (right) ─batch─▶ lookup by key hash ─▶ verify keys ─▶ residual filter ─▶ output rows
//!                                                            └─ after the last batch: unmatched build rows
//! ```
//! Modes: `Partitioned` (both sides hash-partitioned on the keys, one table per
//! partition) and `CollectLeft` (the build side in one partition, broadcast to
//! every probe partition). A build side the memory pool refuses is written to
//! hash buckets on disk, and the task becomes a grace hash join (`grace.rs`). Join types that emit build rows after probing
//! (LEFT, FULL, LEFT SEMI/ANTI) need `Partitioned`, so each build row is owned
//! by exactly one task.

pub mod build;
pub mod chunked;
pub mod grace;
pub mod probe;

use std::any::Any;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::runtime_filter::{BuildKeys, RuntimeFilter};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::logical::plan::JoinType;
use crate::physical::partitioning::{EquivalentKey, key_forms};
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};
use build::{BuildParams, BuildSide, build_side};
use grace::{GraceBuild, GraceJoin};
use probe::{ProbeSpec, finish_build_side, probe_batch};

/// How the build side is distributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinMode {
    /// Both inputs hash-partitioned on the keys.
    Partitioned,
    /// The build input is one partition shared by all probe partitions.
    CollectLeft,
}

/// Hash join; left is the build side, right the probe side.
#[derive(Debug)]
pub struct HashJoinExec {
    left: Arc<dyn ExecutionPlan>,
    right: Arc<dyn ExecutionPlan>,
    on: Vec<(PhysicalExprRef, PhysicalExprRef)>,
    filter: Option<PhysicalExprRef>,
    join_type: JoinType,
    mode: JoinMode,
    null_equals_null: bool,
    null_aware: bool,
    schema: SchemaRef,
    joined_schema: SchemaRef,
    shared: OnceLock<Result<BuildSide>>,
    /// Where the build keys go once built (for scans under the probe side).
    runtime_filter: Option<Arc<RuntimeFilter>>,
    metrics: Arc<Metrics>,
}

/// Parameters of a hash join besides its inputs.
#[derive(Debug, Clone)]
pub struct HashJoinSpec {
    /// `(build key, probe key)` pairs.
    pub on: Vec<(PhysicalExprRef, PhysicalExprRef)>,
    /// Residual filter over `build ++ probe` columns.
    pub filter: Option<PhysicalExprRef>,
    /// Join type (left = build).
    pub join_type: JoinType,
    /// Partitioned or broadcast.
    pub mode: JoinMode,
    /// NULL keys match.
    pub null_equals_null: bool,
    /// NOT IN semantics.
    pub null_aware: bool,
    /// Output schema.
    pub schema: SchemaRef,
    /// Schema of `build ++ probe`.
    pub joined_schema: SchemaRef,
}

impl HashJoinExec {
    /// A hash join.
    pub fn try_new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        spec: HashJoinSpec,
    ) -> Result<Self> {
        if spec.mode == JoinMode::CollectLeft
            && matches!(
                spec.join_type,
                JoinType::Left
                    | JoinType::Full
                    | JoinType::LeftSemi
                    | JoinType::LeftAnti
                    | JoinType::LeftMark
            )
        {
            return Err(Error::internal(format!(
                "{} join cannot broadcast its build side",
                spec.join_type
            )));
        }
        Ok(HashJoinExec {
            left,
            right,
            on: spec.on,
            filter: spec.filter,
            join_type: spec.join_type,
            mode: spec.mode,
            null_equals_null: spec.null_equals_null,
            null_aware: spec.null_aware,
            schema: spec.schema,
            joined_schema: spec.joined_schema,
            shared: OnceLock::new(),
            runtime_filter: None,
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// The `(build key, probe key)` pairs.
    pub fn on(&self) -> &[(PhysicalExprRef, PhysicalExprRef)] {
        &self.on
    }

    /// Whether a probe row whose key matches no build key produces nothing, so a scan under the
    /// probe side may drop it early: INNER, LEFT, LEFT SEMI, LEFT ANTI (left = build) and RIGHT
    /// SEMI, not NOT IN (null-aware) joins.
    pub fn drops_unmatched_probe_rows(&self) -> bool {
        !self.null_aware
            && matches!(
                self.join_type,
                JoinType::Inner
                    | JoinType::Left
                    | JoinType::LeftSemi
                    | JoinType::LeftAnti
                    | JoinType::RightSemi
            )
    }

    /// A runtime filter for this join (one slot per partition, or one when broadcast).
    pub fn new_runtime_filter(&self) -> RuntimeFilter {
        RuntimeFilter::new(
            self.right.output_partitioning().partition_count(),
            self.mode == JoinMode::CollectLeft,
            self.null_equals_null,
        )
    }

    /// A runtime filter published by this join's build-side exchange: one slot, for the scans
    /// under the probe side's exchange, which read all build keys.
    pub fn new_shuffle_filter(&self) -> RuntimeFilter {
        RuntimeFilter::new(1, true, self.null_equals_null)
    }

    /// Whether NULL keys match each other.
    pub fn null_equals_null(&self) -> bool {
        self.null_equals_null
    }

    /// This join over a new probe input, publishing its build keys to `filter` once built.
    pub fn with_runtime_filter(
        &self,
        right: Arc<dyn ExecutionPlan>,
        filter: Arc<RuntimeFilter>,
    ) -> Result<Self> {
        let mut j = HashJoinExec::try_new(self.left.clone(), right, self.spec())?;
        j.runtime_filter = Some(filter);
        Ok(j)
    }

    fn publish_build_keys(&self, partition: usize, build: &BuildSide) {
        if let Some(f) = &self.runtime_filter {
            f.publish(partition, || match build {
                BuildSide::Table(t) => Some(BuildKeys::from_arrays(
                    &t.keys,
                    t.num_rows(),
                    self.null_equals_null,
                )),
                BuildSide::Spilled(_) => None,
            });
        }
    }

    fn spec(&self) -> HashJoinSpec {
        HashJoinSpec {
            on: self.on.clone(),
            filter: self.filter.clone(),
            join_type: self.join_type,
            mode: self.mode,
            null_equals_null: self.null_equals_null,
            null_aware: self.null_aware,
            schema: self.schema.clone(),
            joined_schema: self.joined_schema.clone(),
        }
    }

    /// The join type.
    pub fn join_type(&self) -> JoinType {
        self.join_type
    }
    /// The mode.
    pub fn mode(&self) -> JoinMode {
        self.mode
    }

    fn build_keys(&self) -> Vec<PhysicalExprRef> {
        self.on.iter().map(|(l, _)| l.clone()).collect()
    }

    fn consumer(&self, partition: usize) -> String {
        match self.mode {
            JoinMode::Partitioned => format!("HashJoinExec[{partition}] build"),
            JoinMode::CollectLeft => "HashJoinExec build (broadcast)".to_string(),
        }
    }

    fn build_side(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BuildSide> {
        let keys = self.build_keys();
        let schema = self.left.schema();
        let params = BuildParams {
            schema: &schema,
            key_exprs: &keys,
            null_equals_null: self.null_equals_null,
            consumer: self.consumer(partition),
            metrics: &self.metrics,
        };
        match self.mode {
            JoinMode::Partitioned => {
                build_side(self.left.execute(partition, ctx)?, &params, 0, ctx)
            }
            JoinMode::CollectLeft => self
                .shared
                .get_or_init(|| build_side(self.left.execute(0, ctx)?, &params, 0, ctx))
                .clone(),
        }
    }
}

impl HashJoinExec {
    /// Build-side partitioning keys of an inner join, each extended with the probe-side key it
    /// equals (a plain probe column, shifted past the build columns): both sides' keys partition
    /// the output alike.
    fn with_probe_equivalents(&self, keys: Vec<PhysicalExprRef>) -> Vec<PhysicalExprRef> {
        let width = self.left.schema().fields().len();
        keys.into_iter()
            .map(|k| {
                let mut forms = key_forms(&k);
                let texts: Vec<String> = forms.iter().map(|f| f.to_string()).collect();
                for (b, p) in &self.on {
                    let (Some(idx), true) = (p.column_index(), texts.contains(&b.to_string()))
                    else {
                        continue;
                    };
                    let i = width + idx;
                    forms.push(Arc::new(ColumnExpr::of_field(i, self.schema.field(i))));
                }
                EquivalentKey::key(forms).unwrap_or(k)
            })
            .collect()
    }
}

impl ExecutionPlan for HashJoinExec {
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        self.on
            .iter()
            .flat_map(|(l, r)| [l, r])
            .chain(self.filter.as_ref())
            .collect()
    }
    fn name(&self) -> &'static str {
        "HashJoinExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        let n = self.right.output_partitioning().partition_count();
        match (self.mode, self.join_type, self.right.output_partitioning()) {
            // probe-side partitioning survives when probe columns come out unshifted
            (_, JoinType::RightSemi | JoinType::RightAnti, p) => p,
            (
                JoinMode::Partitioned,
                JoinType::Inner | JoinType::LeftSemi | JoinType::LeftAnti | JoinType::Left,
                _,
            ) => match self.left.output_partitioning() {
                Partitioning::Hash(k, n) if self.join_type == JoinType::Inner => {
                    Partitioning::Hash(self.with_probe_equivalents(k), n)
                }
                Partitioning::Hash(k, n) => Partitioning::Hash(k, n),
                _ => Partitioning::Unknown(n),
            },
            _ => Partitioning::Unknown(n),
        }
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.left, &self.right]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        match self.mode {
            JoinMode::Partitioned => vec![
                Distribution::HashPartitioned(self.on.iter().map(|(l, _)| l.clone()).collect()),
                Distribution::HashPartitioned(self.on.iter().map(|(_, r)| r.clone()).collect()),
            ],
            JoinMode::CollectLeft => vec![Distribution::SinglePartition, Distribution::Unspecified],
        }
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let right = children.remove(1);
        let left = children.remove(0);
        let mut j = HashJoinExec::try_new(left, right, self.spec())?;
        j.runtime_filter = self.runtime_filter.clone();
        Ok(Arc::new(j))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let build = self.build_side(partition, ctx)?;
        self.publish_build_keys(partition, &build);
        let spec = ProbeSpec {
            keys: self.on.iter().map(|(_, r)| r.clone()).collect(),
            filter: self.filter.clone(),
            joined_schema: self.joined_schema.clone(),
            output_schema: self.schema.clone(),
            join_type: self.join_type,
            null_equals_null: self.null_equals_null,
            null_aware: self.null_aware,
        };
        let mut probe_input = self.right.execute(partition, ctx)?;
        let table = match build {
            BuildSide::Table(t) => t,
            BuildSide::Spilled(spilled) => {
                let grace = GraceJoin::try_new(
                    GraceBuild {
                        schema: self.left.schema(),
                        key_exprs: self.build_keys(),
                        null_equals_null: self.null_equals_null,
                        consumer: self.consumer(partition),
                        metrics: self.metrics.clone(),
                    },
                    &spilled,
                    probe_input,
                    self.right.schema(),
                    spec,
                    ctx,
                    &self.metrics,
                )?;
                return Ok(Box::new(MeteredIter::new(grace, self.metrics.clone())));
            }
        };
        let mut visited = match self.join_type {
            JoinType::Left | JoinType::Full | JoinType::LeftSemi | JoinType::LeftAnti => {
                vec![false; table.num_rows()]
            }
            _ => vec![],
        };
        let mut hashes = vec![];
        let mut finished = false;
        let cancel = ctx.cancel.clone();
        let batch_size = ctx.batch_size();
        let mut pending: std::collections::VecDeque<RecordBatch> = Default::default();
        let iter = std::iter::from_fn(move || -> Option<Result<RecordBatch>> {
            loop {
                if let Some(b) = pending.pop_front() {
                    return Some(Ok(b));
                }
                if finished {
                    return None;
                }
                if let Err(e) = cancel.check() {
                    return Some(Err(e));
                }
                match probe_input.next() {
                    Some(Ok(batch)) => {
                        match probe_batch(&table, &spec, &batch, &mut visited, &mut hashes) {
                            Ok(Some(out)) => split_into(&mut pending, out, batch_size),
                            Ok(None) => continue,
                            Err(e) => return Some(Err(e)),
                        }
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        finished = true;
                        match finish_build_side(&table, &spec, &visited) {
                            Ok(Some(out)) => split_into(&mut pending, out, batch_size),
                            Ok(None) => {}
                            Err(e) => return Some(Err(e)),
                        }
                    }
                }
            }
        });
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let keys = self
            .on
            .iter()
            .map(|(l, r)| format!("{l} = {r}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mode = match self.mode {
            JoinMode::Partitioned => "Partitioned",
            JoinMode::CollectLeft => "Broadcast",
        };
        let mut s = format!("{} {mode} on=[{keys}]", self.join_type);
        if let Some(f) = &self.filter {
            s.push_str(&format!(" filter={f}"));
        }
        if self.null_aware {
            s.push_str(" null_aware");
        }
        s
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}

/// Splits a large output batch into batch-size pieces.
pub fn split_into(
    out: &mut std::collections::VecDeque<RecordBatch>,
    batch: RecordBatch,
    batch_size: usize,
) {
    let mut off = 0;
    while off < batch.num_rows() {
        let len = batch_size.min(batch.num_rows() - off);
        out.push_back(batch.slice(off, len));
        off += len;
    }
}
