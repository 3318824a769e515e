//! One block of build rows paired with probe batches, chunk by chunk: the inner loop of the
//! nested-loop join, the same whether the block is the whole build side (in memory) or one
//! block of a spilled build side.
//!
//! ```text
//!  probe batch ─▶ pairs (block × batch, ~batch_size at a time) ─▶ condition ─▶ matched pairs
//!                 └─ after the batch: its per-row "matched" flags (for the caller to emit or keep)
//!  after the last probe batch: the block's unmatched (or, for semi joins, matched) build rows
//! ```

use arrow::array::{BooleanArray, UInt32Array};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::Result;
use crate::exec::hash_join::probe::{pair_batch, with_nulls};
use crate::logical::plan::JoinType;
use crate::physical_expr::case::null_as_false;
use crate::physical_expr::{PhysicalExprRef, evaluate_predicate};

/// What a nested-loop join task needs besides its inputs.
#[derive(Debug, Clone)]
pub struct JoinSpec {
    /// The join condition over `build ++ probe` columns (`None`: every pair matches).
    pub filter: Option<PhysicalExprRef>,
    /// Join type (left = build, right = probe).
    pub join_type: JoinType,
    /// Output schema.
    pub schema: SchemaRef,
    /// Schema of `build ++ probe`.
    pub joined_schema: SchemaRef,
    /// Columns of the build side.
    pub build_width: usize,
    /// Pairs formed at a time (and rows per output batch).
    pub batch_size: usize,
}

impl JoinSpec {
    /// Whether build rows need "matched" flags: the join emits unmatched build rows (LEFT,
    /// FULL), or build rows by whether they matched (LEFT SEMI/ANTI).
    pub fn tracks_build_rows(&self) -> bool {
        matches!(
            self.join_type,
            JoinType::Left
                | JoinType::Full
                | JoinType::LeftSemi
                | JoinType::LeftAnti
                | JoinType::LeftMark
        )
    }

    /// Whether probe rows need "matched" flags: the join emits unmatched probe rows (RIGHT,
    /// FULL), or probe rows by whether they matched (RIGHT SEMI/ANTI).
    pub fn tracks_probe_rows(&self) -> bool {
        matches!(
            self.join_type,
            JoinType::Right | JoinType::Full | JoinType::RightSemi | JoinType::RightAnti
        )
    }

    /// Whether matching pairs are output rows.
    fn emits_pairs(&self) -> bool {
        matches!(
            self.join_type,
            JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
        )
    }

    /// `columns` as a batch of the output schema.
    fn output(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            batch.columns().to_vec(),
            &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
        )?)
    }

    /// The rows of a probe batch the join type emits once it is known, over every build row,
    /// which of them `matched`: unmatched rows with NULL build columns (RIGHT, FULL), matched
    /// rows (RIGHT SEMI) or unmatched ones (RIGHT ANTI).
    pub fn probe_rows_out(
        &self,
        probe: &RecordBatch,
        matched: &[bool],
    ) -> Result<Option<RecordBatch>> {
        let want = match self.join_type {
            JoinType::Right | JoinType::Full | JoinType::RightAnti => false,
            JoinType::RightSemi => true,
            _ => return Ok(None),
        };
        let mask: BooleanArray = matched.iter().map(|m| Some(*m == want)).collect();
        if mask.true_count() == 0 {
            return Ok(None);
        }
        let rows = filter_record_batch(probe, &mask)?;
        Ok(Some(match self.join_type {
            JoinType::Right | JoinType::Full => with_nulls(
                &self.schema,
                None,
                Some(&rows),
                self.build_width,
                rows.num_rows(),
            )?,
            _ => self.output(&rows)?,
        }))
    }
}

/// What one pairing step gave.
pub enum Step {
    /// Matching pairs of the next chunk (possibly none).
    Pairs(Option<RecordBatch>),
    /// The probe batch is paired with every row of the block: the batch and which of its rows
    /// matched a row of this block.
    ProbeDone(RecordBatch, Vec<bool>),
    /// No probe batch in progress.
    Idle,
}

/// A probe batch being paired: the batch, the next (probe row, build row) pair to form, and
/// which probe rows matched.
struct Probing {
    probe: RecordBatch,
    next: (usize, usize),
    matched: Vec<bool>,
}

/// A block of build rows and the probe batch being paired with it.
pub struct BlockJoin {
    block: RecordBatch,
    /// Whether each build row matched (when the join type needs it).
    visited: Vec<bool>,
    current: Option<Probing>,
}

impl BlockJoin {
    /// Pairs `block` with probe batches.
    pub fn new(block: RecordBatch, spec: &JoinSpec) -> Self {
        let visited = if spec.tracks_build_rows() {
            vec![false; block.num_rows()]
        } else {
            vec![]
        };
        BlockJoin {
            block,
            visited,
            current: None,
        }
    }

    /// Starts pairing a new probe batch.
    pub fn start(&mut self, probe: RecordBatch) {
        let n = probe.num_rows();
        self.current = Some(Probing {
            probe,
            next: (0, 0),
            matched: vec![false; n],
        });
    }

    /// Pairs the next chunk of the current probe batch (about `batch_size` pairs) and returns
    /// the matching pairs the join type outputs; after the last chunk, the batch and its
    /// "matched" flags. Chunking keeps memory bounded and lets the caller check for
    /// cancellation between chunks.
    pub fn next_chunk(&mut self, spec: &JoinSpec) -> Result<Step> {
        let Some(Probing {
            probe,
            next: (r0, l0),
            mut matched,
        }) = self.current.take()
        else {
            return Ok(Step::Idle);
        };
        let nl = self.block.num_rows();
        let nr = probe.num_rows();
        if nl == 0 || r0 >= nr {
            return Ok(Step::ProbeDone(probe, matched));
        }
        let batch_size = spec.batch_size.max(1);
        // a chunk is about batch_size pairs: all build rows with enough probe rows, or (with
        // more build rows than that) one probe row with the next batch_size build rows
        let (r1, l1, next) = if nl <= batch_size {
            let r1 = (r0 + (batch_size / nl).max(1)).min(nr);
            (r1, nl, (r1, 0))
        } else {
            let l1 = (l0 + batch_size).min(nl);
            let next = if l1 == nl { (r0 + 1, 0) } else { (r0, l1) };
            (r0 + 1, l1, next)
        };
        let mut li = Vec::with_capacity((r1 - r0) * (l1 - l0));
        let mut ri = Vec::with_capacity((r1 - r0) * (l1 - l0));
        for r in r0..r1 {
            for l in l0..l1 {
                li.push(l as u32);
                ri.push(r as u32);
            }
        }
        let li = UInt32Array::from(li);
        let ri = UInt32Array::from(ri);
        let pairs = pair_batch(&spec.joined_schema, &self.block, &probe, &li, &ri)?;
        let mask = match &spec.filter {
            Some(f) => null_as_false(&evaluate_predicate(f.as_ref(), &pairs)?),
            None => BooleanArray::from(vec![true; pairs.num_rows()]),
        };
        for (k, m) in mask.iter().enumerate() {
            if m == Some(true) {
                if let Some(v) = self.visited.get_mut(li.value(k) as usize) {
                    *v = true;
                }
                matched[ri.value(k) as usize] = true;
            }
        }
        let mut out = None;
        if spec.emits_pairs() {
            let kept = filter_record_batch(&pairs, &mask)?;
            if kept.num_rows() > 0 {
                out = Some(spec.output(&kept)?);
            }
        }
        self.current = Some(Probing {
            probe,
            next,
            matched,
        });
        Ok(Step::Pairs(out))
    }

    /// After every probe row was paired with the block: its unmatched build rows with NULL
    /// probe columns (LEFT, FULL), its matched rows (LEFT SEMI) or unmatched ones (LEFT ANTI).
    pub fn build_rows_out(&self, spec: &JoinSpec) -> Result<Option<RecordBatch>> {
        let want = match spec.join_type {
            JoinType::Left | JoinType::Full | JoinType::LeftAnti => false,
            JoinType::LeftSemi => true,
            _ => return Ok(None),
        };
        let mask: BooleanArray = self.visited.iter().map(|v| Some(*v == want)).collect();
        if mask.true_count() == 0 {
            return Ok(None);
        }
        let rows = filter_record_batch(&self.block, &mask)?;
        Ok(Some(match spec.join_type {
            JoinType::Left | JoinType::Full => with_nulls(
                &spec.schema,
                Some(&rows),
                None,
                spec.build_width,
                rows.num_rows(),
            )?,
            _ => spec.output(&rows)?,
        }))
    }
}
