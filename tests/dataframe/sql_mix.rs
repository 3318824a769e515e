//! SQL and DataFrames together: sql() as a DataFrame, DataFrames as views, table().

use flint::prelude::*;

use crate::{assert_err, assert_same_as_sql, ctx, sorted_rows};

#[test]
fn sql_returns_a_lazy_dataframe_to_transform() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT name, salary FROM emp WHERE salary > 100")
        .unwrap();
    let df = df.filter(col("name").not_eq(lit("bob"))).unwrap();
    assert_same_as_sql(
        &df,
        "SELECT name, salary FROM emp WHERE salary > 100 AND name <> 'bob'",
    );
    // DDL runs right away; its DataFrame is the (empty) result
    ctx.sql("CREATE TABLE extra (a INT)").unwrap();
    assert!(ctx.table_names().contains(&"extra".to_string()));
}

#[test]
fn register_dataframe_and_temp_views_round_trip() {
    let ctx = ctx();
    let rich = ctx
        .table("emp")
        .unwrap()
        .filter(col("salary").gt_eq(lit(120)))
        .unwrap();
    ctx.register_dataframe("rich", &rich).unwrap();
    let back = ctx
        .sql("SELECT rich.name, dept.title FROM rich JOIN dept ON rich.dept = dept.code")
        .unwrap();
    assert_same_as_sql(
        &back,
        "SELECT e.name, d.title FROM emp e JOIN dept d ON e.dept = d.code WHERE e.salary >= 120",
    );
    // the view is the plan: it sees later changes to its tables
    ctx.execute_sql("INSERT INTO emp VALUES (9, 'ivy', 'ops', 500, 30)")
        .unwrap();
    assert_eq!(ctx.table("rich").unwrap().count().unwrap(), 4);
    // the Spark spelling, replacing the view
    ctx.table("dept")
        .unwrap()
        .create_or_replace_temp_view("rich")
        .unwrap();
    assert_eq!(
        sorted_rows(&ctx.sql("SELECT count(*) FROM rich").unwrap()),
        ["4"]
    );
    // names are case-insensitive like other tables
    ctx.register_dataframe("MixedCase", &rich).unwrap();
    assert_eq!(ctx.table("mixedcase").unwrap().count().unwrap(), 4);
    assert_err(ctx.table("nosuch"), "table \"nosuch\" does not exist");
}

#[test]
fn table_of_a_view_and_read_batches() {
    let ctx = ctx();
    ctx.execute_sql("CREATE VIEW eng AS SELECT * FROM emp WHERE dept = 'eng'")
        .unwrap();
    let eng = ctx.table("eng").unwrap();
    assert_eq!(eng.count().unwrap(), 3);
    let batches = eng.collect().unwrap();
    let copy = ctx.read_batches(eng.schema(), batches).unwrap();
    assert_eq!(sorted_rows(&copy), sorted_rows(&eng));
}

#[test]
fn parquet_files_as_dataframes() {
    let ctx = ctx();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sql-tests/data/rowgroups.parquet"
    );
    let df = ctx.read_parquet(path).unwrap();
    let out = df
        .filter(
            col("k")
                .between(lit(2995), lit(4004))
                .and(col("v").is_not_null()),
        )
        .unwrap()
        .group_by(vec![col("v")])
        .unwrap()
        .agg(vec![count_all().alias("n"), max(col("k")).alias("top")])
        .unwrap();
    assert_same_as_sql(
        &out,
        &format!(
            "SELECT v, count(*) AS n, max(k) AS top FROM '{path}' \
             WHERE k BETWEEN 2995 AND 4004 AND v IS NOT NULL GROUP BY v"
        ),
    );
    // a file scan streams batch by batch
    let mut batches = 0;
    let mut rows = 0;
    for b in df.execute_stream().unwrap() {
        batches += 1;
        rows += b.unwrap().num_rows();
    }
    assert_eq!(rows, 10000);
    assert!(
        batches >= 10,
        "one batch per row group at least, got {batches}"
    );
    assert_err(
        ctx.read_parquet("/nonexistent/dir/x.parquet"),
        "/nonexistent/dir/x.parquet",
    );
}
