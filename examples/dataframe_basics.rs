//! DataFrame basics: build a DataFrame, transform it lazily, run actions, mix with SQL.
//!
//! `cargo run --example dataframe_basics`

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use flint::prelude::*;

fn main() -> Result<()> {
    let ctx = SessionContext::new();
    let batch = RecordBatch::try_from_iter(vec![
        (
            "name",
            Arc::new(StringArray::from(vec!["ann", "bob", "cid", "dee", "eve"])) as ArrayRef,
        ),
        (
            "dept",
            Arc::new(StringArray::from(vec!["eng", "eng", "ops", "ops", "eng"])) as _,
        ),
        (
            "age",
            Arc::new(Int64Array::from(vec![31, 45, 28, 39, 52])) as _,
        ),
        (
            "salary",
            Arc::new(Float64Array::from(vec![120.0, 150.0, 90.0, 110.0, 180.0])) as _,
        ),
    ])?;
    let people = ctx
        .read_batches(batch.schema(), vec![batch])?
        .alias("people")?;

    // transformations build a plan; nothing runs yet
    let seniors = people
        .filter(col("age").gt_eq(lit(30)))?
        .with_column(
            "band",
            when(col("salary").gt(lit(140.0)), lit("high")).otherwise(lit("normal")),
        )?
        .select(vec![
            col("name"),
            col("dept"),
            col("band"),
            round_to(col("salary") * lit(1.1), lit(2)).alias("raised"),
        ])?
        .sort(vec![col("name").sort(true, false)])?;
    println!("{} seniors:", seniors.count()?);
    seniors.show()?;

    let per_dept = people
        .group_by(vec![col("dept")])?
        .agg(vec![
            avg(col("salary")).alias("avg_salary"),
            count_all().alias("n"),
        ])?
        .sort(vec![col("dept").sort(true, false)])?;
    per_dept.show()?;

    // window functions: rank within the department
    let ranked = people.with_column(
        "rank_in_dept",
        rank().over(
            WindowSpec::new()
                .partition_by(vec![col("dept")])
                .order_by(vec![col("salary").sort(false, true)]),
        ),
    )?;
    ranked
        .sort(vec![
            col("dept").sort(true, false),
            col("rank_in_dept").sort(true, false),
        ])?
        .show()?;

    // SQL and DataFrames mix: a DataFrame as a view, a SQL result as a DataFrame
    people.create_or_replace_temp_view("people")?;
    let from_sql = ctx.sql("SELECT dept, max(age) AS oldest FROM people GROUP BY dept")?;
    let joined = per_dept
        .join(
            &from_sql.alias("o")?,
            JoinType::Inner,
            &["dept"],
            &["dept"],
            None,
        )?
        .select(vec![col("people.dept"), col("avg_salary"), col("oldest")])?;
    joined.sort(vec![col("dept").sort(true, false)])?.show()?;
    let first = joined.sort(vec![col("dept").sort(true, false)])?.first()?;
    println!(
        "first row: {}",
        first.map(|r| r.to_string()).unwrap_or_default()
    );
    println!("{}", joined.explain(false, false)?);
    Ok(())
}
