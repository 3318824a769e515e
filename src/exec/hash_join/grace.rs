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
//! one, is found within its bucket; all join types work as in memory. Rows with a NULL key
//! (unless NULLs match) go to a bucket of their own on each side: they match nothing, so they
//! are streamed out (outer joins) or dropped without a hash table, however many there are.
//! A bucket that cannot be split — it stays (almost) whole one level deeper, or the deepest
//! level is reached, because many rows share one key — is joined chunk by chunk
//! (`chunked.rs`). NOT IN (null-aware anti join) needs two facts about the whole build side — whether it has
//! rows and whether one has a NULL key — which each bucket's table carries over from the
//! spilled build.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_select::coalesce::BatchCoalescer;

use crate::error::{Error, Result};
use crate::exec::bucket_spill::{BUCKETS, BucketSpiller, MAX_LEVEL};
use crate::exec::hash_join::build::{
    BuildParams, BuildSide, JoinHashTable, SpilledBuild, build_estimate, build_side,
};
use crate::exec::hash_join::chunked::ChunkedBucket;
use crate::exec::hash_join::probe::{ProbeSpec, finish_build_side, probe_batch};
use crate::exec::{BatchIter, empty_iter};
use crate::logical::plan::JoinType;
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::normalize::evaluate_keys;
use crate::runtime::spill::SpillFile;
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
    /// The operator's metrics (its reservations count there).
    pub metrics: Arc<Metrics>,
}

/// What a bucket pair holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PairKind {
    /// Rows hashed into the same bucket on both sides.
    Keys,
    /// Build rows with a NULL key (they match nothing).
    NullBuild,
    /// Probe rows with a NULL key (they match nothing).
    NullProbe,
}

/// A pair of buckets still to join.
struct BucketPair {
    build: Option<Arc<SpillFile>>,
    probe: Option<Arc<SpillFile>>,
    level: usize,
    kind: PairKind,
    /// Splitting did not make the build bucket smaller: join it chunk by chunk.
    chunked: bool,
}

/// The work in progress.
enum Current {
    /// Probing the table of one bucket's build rows with that bucket's probe rows.
    Bucket {
        table: Arc<JoinHashTable>,
        probe: Option<BatchIter>,
        visited: Vec<bool>,
    },
    /// Emitting build rows with NULL keys as unmatched, a batch at a time.
    NullBuild(BatchIter),
    /// Passing probe rows with NULL keys through an empty table (no matches).
    NullProbe {
        table: Arc<JoinHashTable>,
        probe: BatchIter,
    },
    /// A bucket too big for memory however it is split, joined chunk by chunk.
    Chunked(Box<ChunkedBucket>),
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
    /// Output rows, joined into full batches (a bucket's probe gives small pieces).
    output: BatchCoalescer,
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
            &spec,
            spilled.level,
            ctx,
            metrics,
            &build.consumer,
        )?;
        let stack = bucket_pairs(&spilled.buckets, probe_buckets, spilled.level, None);
        let spec_schema = spec.output_schema.clone();
        Ok(GraceJoin {
            build,
            spec,
            probe_schema,
            build_rows: spilled.rows,
            build_has_null_key: spilled.has_null_key,
            stack,
            current: None,
            output: BatchCoalescer::new(spec_schema, ctx.batch_size()),
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

    /// An empty table that carries the facts about the whole build side.
    fn empty_table(&self) -> Result<JoinHashTable> {
        let mut table = JoinHashTable::build(
            vec![],
            &self.build.schema,
            &self.build.key_exprs,
            self.build.null_equals_null,
            self.ctx
                .memory
                .reserve(self.build.consumer.clone())
                .with_metrics(&self.build.metrics),
        )?;
        table.build_side_rows = self.build_rows;
        table.has_null_key = self.build_has_null_key;
        Ok(table)
    }

    /// Starts on the next pair of buckets.
    fn start_pair(&mut self, pair: BucketPair) -> Result<()> {
        let batch_size = self.ctx.batch_size();
        match pair.kind {
            PairKind::Keys => self.start_bucket(pair),
            PairKind::NullBuild => {
                if let Some(f) = &pair.build {
                    self.current = Some(Current::NullBuild(f.read_coalesced(batch_size)?));
                }
                Ok(())
            }
            PairKind::NullProbe => {
                if let Some(f) = &pair.probe {
                    self.current = Some(Current::NullProbe {
                        table: Arc::new(self.empty_table()?),
                        probe: f.read_coalesced(batch_size)?,
                    });
                }
                Ok(())
            }
        }
    }

    /// Loads the next bucket's table, or splits a bucket too big for memory one level deeper.
    fn start_bucket(&mut self, pair: BucketPair) -> Result<()> {
        if let Some(build) = &pair.build
            && (pair.chunked || pair.level >= MAX_LEVEL)
        {
            let chunked = ChunkedBucket::try_new(
                build,
                pair.probe.clone(),
                &self.spec,
                self.empty_table()?,
                &self.ctx,
            )?;
            self.current = Some(Current::Chunked(Box::new(chunked)));
            self.metrics.add("chunked_buckets", 1);
            return Ok(());
        }
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
                self.current = Some(Current::Bucket {
                    table: Arc::new(table),
                    probe: pair
                        .probe
                        .as_ref()
                        .map(|f| f.read_coalesced(self.ctx.batch_size()))
                        .transpose()?,
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
                    &self.spec,
                    sub.level,
                    &self.ctx,
                    &self.metrics,
                    &self.build.consumer,
                )?;
                let parent_rows = pair.build.as_ref().map(|f| f.rows());
                self.stack.extend(bucket_pairs(
                    &sub.buckets,
                    probe_buckets,
                    sub.level,
                    parent_rows,
                ));
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<()> {
        let Some(cur) = self.current.as_mut() else {
            match self.stack.pop() {
                Some(pair) if self.may_produce(&pair) => self.start_pair(pair)?,
                Some(_) => {}
                None => {
                    self.output.finish_buffered_batch()?;
                    self.done = true;
                }
            }
            return Ok(());
        };
        self.ctx.cancel.check()?;
        let out = match cur {
            Current::Bucket {
                table,
                probe,
                visited,
            } => match probe.as_mut().and_then(|r| r.next()) {
                Some(batch) => probe_batch(table, &self.spec, &batch?, visited, &mut self.hashes)?,
                None => {
                    let out = finish_build_side(table, &self.spec, visited)?;
                    self.current = None;
                    out
                }
            },
            Current::NullBuild(reader) => match reader.next() {
                Some(batch) => {
                    let batch = batch?;
                    let mut reservation = self
                        .ctx
                        .memory
                        .reserve(self.build.consumer.clone())
                        .with_metrics(&self.build.metrics);
                    reservation.grow(build_estimate(&batch));
                    let table = JoinHashTable::build(
                        vec![batch],
                        &self.build.schema,
                        &self.build.key_exprs,
                        self.build.null_equals_null,
                        reservation,
                    )?;
                    finish_build_side(&table, &self.spec, &vec![false; table.num_rows()])?
                }
                None => {
                    self.current = None;
                    None
                }
            },
            Current::Chunked(chunked) => {
                match chunked.step(&self.build, &self.spec, &mut self.hashes, &self.ctx)? {
                    Some(out) => out,
                    None => {
                        self.current = None;
                        None
                    }
                }
            }
            Current::NullProbe { table, probe } => match probe.next() {
                Some(batch) => {
                    let mut visited = vec![];
                    probe_batch(table, &self.spec, &batch?, &mut visited, &mut self.hashes)?
                }
                None => {
                    self.current = None;
                    None
                }
            },
        };
        if let Some(out) = out
            && out.num_rows() > 0
        {
            self.output.push_batch(out)?;
        }
        Ok(())
    }
}

/// The pairs of same-numbered build and probe buckets, to be popped in bucket order; the NULL
/// buckets become one pair per side. A build bucket with (nearly) all of `parent_rows`, the
/// rows of the bucket just split, is joined chunk by chunk: splitting does not shrink it.
fn bucket_pairs(
    build: &[Option<Arc<SpillFile>>],
    probe: Vec<Option<Arc<SpillFile>>>,
    level: usize,
    parent_rows: Option<usize>,
) -> Vec<BucketPair> {
    let mut pairs = vec![];
    for (i, (b, p)) in build.iter().cloned().zip(probe).enumerate() {
        let chunked = match (&b, parent_rows) {
            (Some(f), Some(parent)) => f.rows() * 20 >= parent * 19,
            _ => false,
        };
        if i == BUCKETS {
            pairs.push(BucketPair {
                build: b,
                probe: None,
                level,
                kind: PairKind::NullBuild,
                chunked: false,
            });
            pairs.push(BucketPair {
                build: None,
                probe: p,
                level,
                kind: PairKind::NullProbe,
                chunked: false,
            });
        } else {
            pairs.push(BucketPair {
                build: b,
                probe: p,
                level,
                kind: PairKind::Keys,
                chunked,
            });
        }
    }
    pairs.reverse();
    pairs
}

impl Iterator for GraceJoin {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(b) = self.output.next_completed_batch() {
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

/// Writes the probe input to buckets by the hash of its keys at `level` (NULL keys apart, unless
/// NULLs match).
fn split_probe(
    probe: BatchIter,
    schema: &SchemaRef,
    spec: &ProbeSpec,
    level: usize,
    ctx: &Arc<TaskContext>,
    metrics: &Arc<Metrics>,
    consumer: &str,
) -> Result<Vec<Option<Arc<SpillFile>>>> {
    let keys = &spec.keys;
    let mut spiller = BucketSpiller::try_new(schema.clone(), level, ctx, metrics, consumer)?;
    if !spec.null_equals_null {
        spiller = spiller.with_null_bucket();
    }
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
