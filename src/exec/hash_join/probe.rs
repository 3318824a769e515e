//! The probe side of a hash join: for each probe batch, find candidate build
//! rows by hash, verify keys (vectorized), apply the residual filter, and
//! assemble output rows for the join type. Unmatched build rows are emitted
//! after the last probe batch.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, UInt32Array};
use arrow::compute::kernels::cmp;
use arrow::compute::{and, filter_record_batch, take};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::Result;
use crate::exec::cast_to_schema as align_types;
use crate::exec::hash_aggregate::group_values::table_hashes;
use crate::exec::hash_join::build::{CHAIN_END, JoinHashTable};
use crate::logical::expr::BinaryOp;
use crate::logical::plan::JoinType;
use crate::physical_expr::binary::compare_nested;
use crate::physical_expr::case::null_as_false;
use crate::physical_expr::normalize::evaluate_keys;
use crate::physical_expr::{PhysicalExprRef, evaluate_predicate};

/// Everything the probe loop needs that does not change between batches.
pub struct ProbeSpec {
    /// Probe key expressions.
    pub keys: Vec<PhysicalExprRef>,
    /// Residual filter over `build columns ++ probe columns`.
    pub filter: Option<PhysicalExprRef>,
    /// Schema of `build ++ probe` (for the filter).
    pub joined_schema: SchemaRef,
    /// Output schema.
    pub output_schema: SchemaRef,
    /// Join type (left = build, right = probe).
    pub join_type: JoinType,
    /// NULL keys match each other.
    pub null_equals_null: bool,
    /// NOT IN semantics for anti joins.
    pub null_aware: bool,
}

/// Matching pairs `(build row, probe row)` for one probe batch, after key checks and filter.
fn matches(
    table: &JoinHashTable,
    spec: &ProbeSpec,
    probe: &RecordBatch,
    hashes: &mut Vec<u64>,
) -> Result<(UInt32Array, UInt32Array)> {
    let n = probe.num_rows();
    let keys = evaluate_keys(&spec.keys, probe)?;
    table_hashes(&keys, hashes)?;
    let probe_has_nulls = keys.iter().any(|k| k.null_count() > 0);
    let mut build_idx: Vec<u32> = Vec::with_capacity(n);
    let mut probe_idx: Vec<u32> = Vec::with_capacity(n);
    for (i, &h) in hashes.iter().enumerate() {
        if probe_has_nulls && !spec.null_equals_null && keys.iter().any(|k| k.is_null(i)) {
            continue;
        }
        if let Some(&(_, head)) = table.map.find(h, |(bh, _)| *bh == h) {
            let mut j = head;
            while j != CHAIN_END {
                build_idx.push(j);
                probe_idx.push(i as u32);
                j = table.next[j as usize];
            }
        }
    }
    let mut build_idx = UInt32Array::from(build_idx);
    let mut probe_idx = UInt32Array::from(probe_idx);
    if build_idx.is_empty() {
        return Ok((build_idx, probe_idx));
    }
    // verify keys: equal hashes do not mean equal keys
    let mut mask: Option<BooleanArray> = None;
    for (bk, pk) in table.keys.iter().zip(keys.iter()) {
        let b = take(bk.as_ref(), &build_idx, None)?;
        let p = take(pk.as_ref(), &probe_idx, None)?;
        let eq = if b.data_type().is_nested() {
            // lists and structs: Arrow's comparison kernels take only flat types
            let op = if spec.null_equals_null {
                BinaryOp::IsNotDistinctFrom
            } else {
                BinaryOp::Eq
            };
            null_as_false(compare_nested(op, &b, &p)?.as_boolean())
        } else if spec.null_equals_null {
            cmp::not_distinct(&b, &p)?
        } else {
            null_as_false(&cmp::eq(&b, &p)?)
        };
        mask = Some(match mask {
            None => eq,
            Some(m) => and(&m, &eq)?,
        });
    }
    if let Some(m) = mask
        && m.true_count() < m.len()
    {
        build_idx = filter_indices(&build_idx, &m)?;
        probe_idx = filter_indices(&probe_idx, &m)?;
    }
    if let Some(filter) = &spec.filter
        && !build_idx.is_empty()
    {
        let joined = pair_batch(
            &spec.joined_schema,
            &table.batch,
            probe,
            &build_idx,
            &probe_idx,
        )?;
        let m = null_as_false(&evaluate_predicate(filter.as_ref(), &joined)?);
        if m.true_count() < m.len() {
            build_idx = filter_indices(&build_idx, &m)?;
            probe_idx = filter_indices(&probe_idx, &m)?;
        }
    }
    Ok((build_idx, probe_idx))
}

/// Keeps the indices where `mask` is true.
fn filter_indices(idx: &UInt32Array, mask: &BooleanArray) -> Result<UInt32Array> {
    use arrow::array::AsArray;
    Ok(arrow::compute::filter(idx, mask)?
        .as_primitive::<arrow::datatypes::UInt32Type>()
        .clone())
}

/// Rows `build[bi] ++ probe[pi]` for each pair.
pub fn pair_batch(
    schema: &SchemaRef,
    build: &RecordBatch,
    probe: &RecordBatch,
    bi: &UInt32Array,
    pi: &UInt32Array,
) -> Result<RecordBatch> {
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for c in build.columns() {
        cols.push(take(c.as_ref(), bi, None)?);
    }
    for c in probe.columns() {
        cols.push(take(c.as_ref(), pi, None)?);
    }
    let cols = align_types(schema, cols)?;
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(bi.len())),
    )?)
}

/// Builds a batch with NULL columns for one side.
pub fn with_nulls(
    schema: &SchemaRef,
    build: Option<&RecordBatch>,
    probe: Option<&RecordBatch>,
    build_width: usize,
    rows: usize,
) -> Result<RecordBatch> {
    let mut cols: Vec<ArrayRef> = vec![];
    for (i, f) in schema.fields().iter().enumerate() {
        if i < build_width {
            match build {
                Some(b) => cols.push(b.column(i).clone()),
                None => cols.push(arrow::array::new_null_array(f.data_type(), rows)),
            }
        } else {
            match probe {
                Some(p) => cols.push(p.column(i - build_width).clone()),
                None => cols.push(arrow::array::new_null_array(f.data_type(), rows)),
            }
        }
    }
    let cols = align_types(schema, cols)?;
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )?)
}

/// Probes one batch, returning output rows; marks matched build rows in `visited`.
pub fn probe_batch(
    table: &JoinHashTable,
    spec: &ProbeSpec,
    probe: &RecordBatch,
    visited: &mut [bool],
    hashes: &mut Vec<u64>,
) -> Result<Option<RecordBatch>> {
    let Some((pairs, pi)) = probe_pairs(table, spec, probe, visited, hashes)? else {
        return Ok(None);
    };
    let mut matched = vec![false; probe.num_rows()];
    for i in pi.values() {
        matched[*i as usize] = true;
    }
    let rest = probe_side_rows(table, spec, probe, &matched)?;
    let out = match (pairs, rest) {
        (None, None) => return Ok(None),
        (Some(p), None) | (None, Some(p)) => p,
        (Some(p), Some(r)) => arrow::compute::concat_batches(&spec.output_schema, &[p, r])?,
    };
    Ok(if out.num_rows() == 0 { None } else { Some(out) })
}

/// The matches of one probe batch: the joined rows of matching pairs (for the join types that
/// output them) and the matching probe rows' indices; marks matched build rows in `visited`.
/// `None` when nothing can match (NOT IN against a set with a NULL).
pub fn probe_pairs(
    table: &JoinHashTable,
    spec: &ProbeSpec,
    probe: &RecordBatch,
    visited: &mut [bool],
    hashes: &mut Vec<u64>,
) -> Result<Option<(Option<RecordBatch>, UInt32Array)>> {
    // NOT IN: a NULL on the build (subquery) side makes every comparison unknown
    if spec.null_aware
        && spec.join_type == JoinType::RightAnti
        && table.build_side_rows > 0
        && table.has_null_key
    {
        return Ok(None);
    }
    let (bi, pi) = matches(table, spec, probe, hashes)?;
    for j in bi.values() {
        if let Some(v) = visited.get_mut(*j as usize) {
            *v = true;
        }
    }
    let pairs = match spec.join_type {
        JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full if !bi.is_empty() => {
            Some(pair_batch(
                &spec.output_schema,
                &table.batch,
                probe,
                &bi,
                &pi,
            )?)
        }
        _ => None,
    };
    Ok(Some((pairs, pi)))
}

/// The probe rows a join outputs by whether they matched (`matched[i]`, over every build row
/// the probe row was checked against): unmatched ones with NULL build columns (RIGHT, FULL),
/// matched ones (RIGHT SEMI) or unmatched ones (RIGHT ANTI, with NOT IN's NULL rules).
pub fn probe_side_rows(
    table: &JoinHashTable,
    spec: &ProbeSpec,
    probe: &RecordBatch,
    matched: &[bool],
) -> Result<Option<RecordBatch>> {
    let n = probe.num_rows();
    let build_width = table.batch.num_columns();
    let out = match spec.join_type {
        JoinType::Right | JoinType::Full => {
            let unmatched: BooleanArray = matched.iter().map(|m| Some(!m)).collect();
            if unmatched.true_count() == 0 {
                return Ok(None);
            }
            let rest = filter_record_batch(probe, &unmatched)?;
            with_nulls(
                &spec.output_schema,
                None,
                Some(&rest),
                build_width,
                rest.num_rows(),
            )?
        }
        JoinType::RightSemi | JoinType::RightAnti => {
            if spec.null_aware
                && spec.join_type == JoinType::RightAnti
                && table.build_side_rows > 0
                && table.has_null_key
            {
                return Ok(None);
            }
            let keep_matched = spec.join_type == JoinType::RightSemi;
            let mut keep: Vec<bool> = matched.iter().map(|m| *m == keep_matched).collect();
            if spec.join_type == JoinType::RightAnti && spec.null_aware && table.build_side_rows > 0
            {
                // a NULL probe key is "unknown" against a non-empty set: excluded
                let keys = spec
                    .keys
                    .iter()
                    .map(|e| e.evaluate(probe)?.into_array(n))
                    .collect::<Result<Vec<_>>>()?;
                for (i, k) in keep.iter_mut().enumerate() {
                    if keys.iter().any(|a| a.is_null(i)) {
                        *k = false;
                    }
                }
            }
            let mask: BooleanArray = keep.into_iter().map(Some).collect();
            if mask.true_count() == 0 {
                return Ok(None);
            }
            let kept = filter_record_batch(probe, &mask)?;
            RecordBatch::try_new_with_options(
                spec.output_schema.clone(),
                align_types(&spec.output_schema, kept.columns().to_vec())?,
                &RecordBatchOptions::new().with_row_count(Some(kept.num_rows())),
            )?
        }
        _ => return Ok(None),
    };
    Ok(if out.num_rows() == 0 { None } else { Some(out) })
}

/// Rows emitted after all probing: unmatched (or matched) build rows for build-preserving joins.
pub fn finish_build_side(
    table: &JoinHashTable,
    spec: &ProbeSpec,
    visited: &[bool],
) -> Result<Option<RecordBatch>> {
    let build_width = table.batch.num_columns();
    let want_visited = match spec.join_type {
        JoinType::Left | JoinType::Full | JoinType::LeftAnti => false,
        JoinType::LeftSemi => true,
        _ => return Ok(None),
    };
    let mask: BooleanArray = visited.iter().map(|v| Some(*v == want_visited)).collect();
    if mask.true_count() == 0 {
        return Ok(None);
    }
    let rows = filter_record_batch(&table.batch, &mask)?;
    let out = match spec.join_type {
        JoinType::Left | JoinType::Full => with_nulls(
            &spec.output_schema,
            Some(&rows),
            None,
            build_width,
            rows.num_rows(),
        )?,
        _ => RecordBatch::try_new_with_options(
            spec.output_schema.clone(),
            align_types(&spec.output_schema, rows.columns().to_vec())?,
            &RecordBatchOptions::new().with_row_count(Some(rows.num_rows())),
        )?,
    };
    Ok(Some(out))
}

/// Shares a hash table between tasks.
pub type SharedTable = Arc<JoinHashTable>;
