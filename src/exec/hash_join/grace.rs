//! Grace hash join: the join of one task when its build side was spilled to hash buckets.
//!
//! ```text
//!  build side ─(refused)─▶ build buckets 0..32 (hash of build keys, seed of the level)
//!  probe side ──────────▶ probe buckets 0..32 (same hash of probe keys)
//!  for each bucket b: hash table of build bucket b ◀─ probe bucket b streams through it
//!                     └─ unmatched build rows of b (outer / semi / anti joins)
//!                     └─ build bucket still too big: split both buckets one level deeper
//! ```
//! Rows with equal keys share a bucket on both sides, so every match, and every row without
//! one, is found within its bucket; all join types work as in memory. NOT IN (null-aware anti
//! join) needs two facts about the whole build side — whether it has rows and whether one has
//! a NULL key — which each bucket's table carries over from the spilled build.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::bucket_spill::BucketSpiller;
use crate::exec::hash_join::build::{
    BuildParams, BuildSide, JoinHashTable, SpilledBuild, build_side, evaluate_keys,
};
use crate::exec::hash_join::probe::{ProbeSpec, finish_build_side, probe_batch};
use crate::exec::hash_join::split_into;
use crate::exec::{BatchIter, empty_iter};
use crate::logical::plan::JoinType;
use crate::physical_expr::PhysicalExprRef;
use crate::runtime::spill::{SpillFile, SpillReader};
use crate::runtime::{Metrics, TaskContext};

/// The build side's description, for re-reading bucket files.
pub struct GraceBuild {
    /// Build input schema.
    pub schema: SchemaRef,
    /// Build key expressions.
    pub key_exprs: Vec<PhysicalExprRef>,
    /// NULL keys match each other.
    pub null_equals_null: bool,
    /// Operator name for reservations and messages.
    pub consumer: String,
}

/// A pair of buckets still to join.
struct BucketPair {
    build: Option<Arc<SpillFile>>,
    probe: Option<Arc<SpillFile>>,
    level: usize,
}

/// The bucket being probed now.
struct Current {
    table: Arc<JoinHashTable>,
    probe: Option<SpillReader>,
    visited: Vec<bool>,
}

/// The output of a grace hash join task.
pub struct GraceJoin {
    build: GraceBuild,
    spec: ProbeSpec,
    probe_schema: SchemaRef,
    build_rows: usize,
    build_has_null_key: bool,
    stack: Vec<BucketPair>,
    current: Option<Current>,
    pending: VecDeque<RecordBatch>,
    hashes: Vec<u64>,
    ctx: Arc<TaskContext>,
    metrics: Arc<Metrics>,
    done: bool,
}

impl GraceJoin {
    /// Partitions `probe` into buckets like the spilled build side, ready to join bucket by
    /// bucket.
    #[allow(clippy::too_many_arguments)]
    pub fn try_new(
        build: GraceBuild,
        spilled: &SpilledBuild,
        probe: BatchIter,
        probe_schema: SchemaRef,
        spec: ProbeSpec,
        ctx: &Arc<TaskContext>,
        metrics: &Arc<Metrics>,
    ) -> Result<Self> {
        let probe_buckets = split_probe(
            probe,
            &probe_schema,
            &spec.keys,
            spilled.level,
            ctx,
            metrics,
            &build.consumer,
        )?;
        let stack = spilled
            .buckets
            .iter()
            .cloned()
            .zip(probe_buckets)
            .rev()
            .map(|(b, p)| BucketPair {
                build: b,
                probe: p,
                level: spilled.level,
            })
            .collect();
        Ok(GraceJoin {
            build,
            spec,
            probe_schema,
            build_rows: spilled.rows,
            build_has_null_key: spilled.has_null_key,
            stack,
            current: None,
            pending: VecDeque::new(),
            hashes: vec![],
            ctx: ctx.clone(),
            metrics: metrics.clone(),
            done: false,
        })
    }

    /// Whether a bucket pair can give output rows.
    fn may_produce(&self, pair: &BucketPair) -> bool {
        let jt = self.spec.join_type;
        let needs_probe_rows = matches!(jt, JoinType::Right | JoinType::Full | JoinType::RightAnti);
        let needs_build_rows = matches!(jt, JoinType::Left | JoinType::Full | JoinType::LeftAnti);
        match (&pair.build, &pair.probe) {
            (Some(_), Some(_)) => true,
            (None, Some(_)) => needs_probe_rows,
            (Some(_), None) => needs_build_rows,
            (None, None) => false,
        }
    }

    /// Loads the next bucket's table, or splits a bucket too big for memory one level deeper.
    fn start_bucket(&mut self, pair: BucketPair) -> Result<()> {
        let params = BuildParams {
            schema: &self.build.schema,
            key_exprs: &self.build.key_exprs,
            null_equals_null: self.build.null_equals_null,
            consumer: self.build.consumer.clone(),
            metrics: &self.metrics,
        };
        let input: BatchIter = match &pair.build {
            Some(f) => Box::new(f.read()?),
            None => empty_iter(),
        };
        match build_side(input, &params, pair.level + 1, &self.ctx)? {
            BuildSide::Table(table) => {
                let mut table = Arc::try_unwrap(table)
                    .map_err(|_| Error::internal("a bucket's hash table is shared"))?;
                table.build_side_rows = self.build_rows;
                table.has_null_key = self.build_has_null_key;
                let visited = vec![false; table.num_rows()];
                self.current = Some(Current {
                    table: Arc::new(table),
                    probe: pair.probe.as_ref().map(|f| f.read()).transpose()?,
                    visited,
                });
            }
            BuildSide::Spilled(sub) => {
                let probe: BatchIter = match &pair.probe {
                    Some(f) => Box::new(f.read()?),
                    None => empty_iter(),
                };
                let probe_buckets = split_probe(
                    probe,
                    &self.probe_schema,
                    &self.spec.keys,
                    sub.level,
                    &self.ctx,
                    &self.metrics,
                    &self.build.consumer,
                )?;
                for (b, p) in sub.buckets.iter().cloned().zip(probe_buckets).rev() {
                    self.stack.push(BucketPair {
                        build: b,
                        probe: p,
                        level: sub.level,
                    });
                }
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<()> {
        let batch_size = self.ctx.batch_size();
        let Some(cur) = self.current.as_mut() else {
            match self.stack.pop() {
                Some(pair) if self.may_produce(&pair) => self.start_bucket(pair)?,
                Some(_) => {}
                None => self.done = true,
            }
            return Ok(());
        };
        self.ctx.cancel.check()?;
        let next = cur.probe.as_mut().and_then(|r| r.next());
        match next {
            Some(batch) => {
                let batch = batch?;
                if let Some(out) = probe_batch(
                    &cur.table,
                    &self.spec,
                    &batch,
                    &mut cur.visited,
                    &mut self.hashes,
                )? {
                    split_into(&mut self.pending, out, batch_size);
                }
            }
            None => {
                if let Some(out) = finish_build_side(&cur.table, &self.spec, &cur.visited)? {
                    split_into(&mut self.pending, out, batch_size);
                }
                self.current = None;
            }
        }
        Ok(())
    }
}

impl Iterator for GraceJoin {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(Ok(b));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.step() {
                self.done = true;
                self.current = None;
                self.stack.clear();
                return Some(Err(e));
            }
        }
    }
}

/// Writes the probe input to buckets by the hash of its keys at `level`.
fn split_probe(
    probe: BatchIter,
    schema: &SchemaRef,
    keys: &[PhysicalExprRef],
    level: usize,
    ctx: &Arc<TaskContext>,
    metrics: &Arc<Metrics>,
    consumer: &str,
) -> Result<Vec<Option<Arc<SpillFile>>>> {
    let mut spiller = BucketSpiller::try_new(schema.clone(), level, ctx, metrics, consumer)?;
    for b in probe {
        ctx.cancel.check()?;
        let b = b?;
        if b.num_rows() == 0 {
            continue;
        }
        let k = evaluate_keys(keys, &b)?;
        spiller.write(&b, &k)?;
    }
    spiller.finish()
}
