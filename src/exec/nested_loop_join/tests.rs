use std::sync::Arc;

use arrow::array::Int64Array;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::block::JoinSpec;
use super::build::{BuildSide, collect_build};
use super::stream::NestedLoopStream;
use crate::config::SessionConfig;
use crate::exec::BatchIter;
use crate::logical::expr::BinaryOp;
use crate::logical::plan::JoinType;
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::binary::BinaryExpr;
use crate::physical_expr::column::ColumnExpr;
use crate::runtime::{Metrics, TaskContext};

fn schema(a: &str, b: &str) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(a, DataType::Int64, true),
        Field::new(b, DataType::Int64, true),
    ]))
}

/// `rows` rows `(i, k)` with `k` NULL every `nulls` rows and repeating every `period`, in
/// batches of 100.
fn input(schema: &SchemaRef, rows: i64, period: i64, nulls: i64) -> BatchIter {
    let batches: Vec<RecordBatch> = (0..rows)
        .step_by(100)
        .map(|from| {
            let to = (from + 100).min(rows);
            let i = Int64Array::from_iter_values(from..to);
            let k =
                Int64Array::from_iter((from..to).map(|v| (v % nulls != 0).then_some(v % period)));
            RecordBatch::try_new(schema.clone(), vec![Arc::new(i), Arc::new(k)]).unwrap()
        })
        .collect();
    Box::new(batches.into_iter().map(Ok))
}

/// The join of 2,000 build rows and 300 probe rows on `build.k < probe.k - 30`, as sorted text
/// rows, with the build side in memory or in blocks.
fn join(join_type: JoinType, limit: Option<usize>, dir: &std::path::Path) -> (Vec<String>, usize) {
    let (bs, ps) = (schema("bi", "bk"), schema("pi", "pk"));
    let mut config = SessionConfig::default()
        .with_batch_size(128)
        .with_spill_dir(dir);
    if let Some(l) = limit {
        config = config.with_memory_limit(l);
    }
    let ctx = TaskContext::new(config);
    let metrics = Arc::new(Metrics::new());
    let build = collect_build(input(&bs, 2000, 97, 7), &bs, "test build", &ctx, &metrics).unwrap();
    let blocks = match &build {
        BuildSide::Memory(_) => 1,
        BuildSide::Blocks(files) => files.len(),
    };
    let joined: SchemaRef = Arc::new(Schema::new(
        bs.fields()
            .iter()
            .chain(ps.fields().iter())
            .cloned()
            .collect::<Vec<_>>(),
    ));
    let out_schema = match join_type {
        JoinType::LeftSemi | JoinType::LeftAnti => bs.clone(),
        JoinType::RightSemi | JoinType::RightAnti => ps.clone(),
        _ => joined.clone(),
    };
    let col = |i: usize| -> PhysicalExprRef { Arc::new(ColumnExpr::of_field(i, joined.field(i))) };
    let thirty: PhysicalExprRef = Arc::new(crate::physical_expr::literal::LiteralExpr::new(
        datafusion_common::ScalarValue::Int64(Some(30)),
    ));
    let minus: PhysicalExprRef = Arc::new(BinaryExpr::new(
        col(3),
        BinaryOp::Minus,
        thirty,
        DataType::Int64,
    ));
    let filter: PhysicalExprRef = Arc::new(BinaryExpr::new(
        col(1),
        BinaryOp::Lt,
        minus,
        DataType::Boolean,
    ));
    let spec = JoinSpec {
        filter: Some(filter),
        join_type,
        schema: out_schema.clone(),
        joined_schema: joined,
        build_width: 2,
        batch_size: 128,
    };
    let stream = NestedLoopStream::new(
        spec,
        build,
        bs,
        input(&ps, 300, 89, 5),
        ps,
        "test probe".into(),
        &ctx,
        &metrics,
    );
    let mut rows = vec![];
    for b in stream {
        let b = b.unwrap();
        assert_eq!(b.schema(), out_schema);
        for i in 0..b.num_rows() {
            let row: Vec<String> = b
                .columns()
                .iter()
                .map(|c| arrow::util::display::array_value_to_string(c, i).unwrap())
                .collect();
            rows.push(row.join("|"));
        }
    }
    rows.sort();
    assert_eq!(ctx.spill.live_files(), 0, "spill files outlive the join");
    (rows, blocks)
}

#[test]
fn blocks_give_the_in_memory_result_for_every_join_type() {
    let dir = tempfile::tempdir().unwrap();
    for join_type in [
        JoinType::Inner,
        JoinType::Left,
        JoinType::Right,
        JoinType::Full,
        JoinType::LeftSemi,
        JoinType::LeftAnti,
        JoinType::RightSemi,
        JoinType::RightAnti,
    ] {
        let (expected, one) = join(join_type, None, dir.path());
        assert_eq!(one, 1);
        assert!(!expected.is_empty(), "{join_type}");
        let (got, blocks) = join(join_type, Some(16 * 1024), dir.path());
        assert!(blocks > 2, "{join_type}: {blocks} blocks");
        assert!(
            got == expected,
            "{join_type}: results differ with {blocks} blocks"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
