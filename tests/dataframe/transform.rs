//! select, filter, with_column, renames, drops, sort, limit, offset, distinct, sample,
//! repartition, window.

use arrow::datatypes::DataType;
use flint::prelude::*;

use crate::{assert_err, assert_same_as_sql, assert_same_ordered, ctx, sorted_rows};

#[test]
fn select_expressions_and_names() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .select(vec![
            col("name"),
            (col("salary") * lit(2) + lit(1)).alias("x"),
            upper(col("dept")),
            col("age").cast(DataType::Float64).alias("agef"),
            -col("id"),
        ])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT name, salary * 2 + 1 AS x, upper(dept) AS \"upper(dept)\", \
         CAST(age AS DOUBLE) AS agef, -id AS \"-id\" FROM emp",
    );
}

#[test]
fn select_wildcard_and_select_columns() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    assert_same_as_sql(
        &emp.select(vec![Expr::Wildcard(None), lit(1i64).alias("one")])
            .unwrap(),
        "SELECT *, 1 AS one FROM emp",
    );
    let df = emp.select_columns(&["emp.name", "id"]).unwrap();
    assert_eq!(df.columns(), ["name", "id"]);
    assert_same_as_sql(&df, "SELECT name, id FROM emp");
}

#[test]
fn unknown_columns_fail_where_named_listing_the_columns() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    assert_err(
        emp.select(vec![col("salry")]),
        "column \"salry\" not found; did you mean \"salary\"? (available columns: emp.id, emp.name",
    );
    assert_err(
        emp.filter(col("nope").gt(lit(1))),
        "column \"nope\" not found",
    );
    assert_err(emp.sort(vec![col("nope").sort(true, true)]), "not found");
    assert_err(emp.group_by(vec![col("nope")]), "not found");
    assert_err(emp.with_column("x", col("nope")), "not found");
    assert_err(
        emp.select_columns(&["other.name"]),
        "column \"other.name\" not found",
    );
    assert_err(emp.select(vec![]), "at least one expression");
}

#[test]
fn type_errors_fail_at_the_transformation() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    assert_err(
        emp.filter(col("id").like(lit("1%"))),
        "LIKE needs strings, got BIGINT",
    );
    assert_err(emp.select(vec![col("id") + lit(true)]), "cannot");
    assert_err(
        emp.select(vec![lower(col("id"))]),
        "lower(): argument 1 must be a string",
    );
    assert_err(
        emp.filter(sum(col("salary")).gt(lit(1))),
        "filter() cannot use aggregate",
    );
}

#[test]
fn filter_matches_sql_with_nulls() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .filter(
            col("age")
                .gt(lit(30))
                .and(col("dept").in_list(vec![lit("eng"), lit("sales")], false))
                .or(col("name").like(lit("c%"))),
        )
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT * FROM emp WHERE age > 30 AND dept IN ('eng', 'sales') OR name LIKE 'c%'",
    );
    let df = emp
        .filter(col("salary").is_null() | col("age").between(lit(30), lit(40)))
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT * FROM emp WHERE salary IS NULL OR age BETWEEN 30 AND 40",
    );
    let df = emp
        .filter(!col("dept").ilike(lit("E%")) & col("dept").is_not_null())
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT * FROM emp WHERE NOT dept ILIKE 'E%' AND dept IS NOT NULL",
    );
}

#[test]
fn case_when_and_casts() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let band = when(col("salary").gt_eq(lit(150)), lit("high"))
        .when(col("salary").gt_eq(lit(100)), lit("mid"))
        .otherwise(lit("low"));
    let simple = case(col("dept"))
        .when(lit("eng"), lit(1i64))
        .when(lit("ops"), lit(2i64))
        .end();
    let df = emp
        .select(vec![
            col("id"),
            band.alias("band"),
            simple.alias("d"),
            try_cast(col("name"), DataType::Int64).alias("n"),
        ])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT id, CASE WHEN salary >= 150 THEN 'high' WHEN salary >= 100 THEN 'mid' ELSE 'low' END AS band, \
         CASE dept WHEN 'eng' THEN 1 WHEN 'ops' THEN 2 END AS d, TRY_CAST(name AS BIGINT) AS n FROM emp",
    );
}

#[test]
fn with_column_adds_replaces_and_handles_windows() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .with_column("salary", col("salary") + lit(1))
        .unwrap()
        .with_column("bonus", coalesce(vec![col("salary"), lit(0)]) / lit(10))
        .unwrap();
    assert_eq!(
        df.columns(),
        ["id", "name", "dept", "salary", "age", "bonus"]
    );
    assert_same_as_sql(
        &df,
        "SELECT id, name, dept, salary + 1 AS salary, age, coalesce(salary + 1, 0) / 10 AS bonus FROM emp",
    );
    let w = WindowSpec::new()
        .partition_by(vec![col("dept")])
        .order_by(vec![
            col("salary").sort(false, true),
            col("id").sort(true, false),
        ]);
    let df = emp.with_column("rn", row_number().over(w)).unwrap();
    assert_same_as_sql(
        &df,
        "SELECT *, row_number() OVER (PARTITION BY dept ORDER BY salary DESC NULLS FIRST, id) AS rn FROM emp",
    );
}

#[test]
fn renames_and_drops() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .with_column_renamed("emp.name", "who")
        .unwrap()
        .drop_columns(&["age", "dept"])
        .unwrap();
    assert_eq!(df.columns(), ["id", "who", "salary"]);
    assert_same_as_sql(&df, "SELECT id, name AS who, salary FROM emp");
    assert_err(
        emp.with_column_renamed("nope", "x"),
        "column \"nope\" not found",
    );
    assert_err(emp.drop_columns(&["nope"]), "column \"nope\" not found");
    assert_err(
        emp.drop_columns(&["id", "name", "dept", "salary", "age"]),
        "every column",
    );
}

#[test]
fn sort_limit_offset() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .sort(vec![
            col("age").sort(false, false),
            col("id").sort(true, false),
        ])
        .unwrap();
    assert_same_ordered(&df, "SELECT * FROM emp ORDER BY age DESC NULLS LAST, id");
    let page = df.offset(2).unwrap().limit(3).unwrap();
    assert_same_ordered(
        &page,
        "SELECT * FROM emp ORDER BY age DESC NULLS LAST, id LIMIT 3 OFFSET 2",
    );
    assert_eq!(emp.limit(0).unwrap().count().unwrap(), 0);
    assert_err(emp.sort(vec![]), "at least one key");
}

#[test]
fn distinct_and_select_aggregates() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp.select_columns(&["dept"]).unwrap().distinct().unwrap();
    assert_same_as_sql(&df, "SELECT DISTINCT dept FROM emp");
    let df = emp
        .select(vec![
            max(col("salary")),
            (sum(col("age")) / count_all()).alias("m"),
        ])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT max(salary) AS \"max(salary)\", sum(age) / count(*) AS m FROM emp",
    );
    assert_err(
        emp.select(vec![col("name"), max(col("salary"))]),
        "must appear in the GROUP BY clause",
    );
}

#[test]
fn window_appends_columns() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let by_dept = WindowSpec::new().partition_by(vec![col("dept")]);
    let ordered = by_dept.clone().order_by(vec![col("id").sort(true, false)]);
    let df = emp
        .window(vec![
            sum(col("salary")).over(by_dept.clone()).alias("dept_total"),
            lag(col("name"), 1, Some(lit("-")))
                .over(ordered.clone())
                .alias("prev"),
            sum(col("salary"))
                .over(ordered.rows_between(FrameBound::Preceding(1), FrameBound::CurrentRow))
                .alias("pair"),
            dense_rank()
                .over(by_dept.order_by(vec![col("age").sort(true, true)]))
                .alias("dr"),
        ])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT *, sum(salary) OVER (PARTITION BY dept) AS dept_total, \
         lag(name, 1, '-') OVER (PARTITION BY dept ORDER BY id) AS prev, \
         sum(salary) OVER (PARTITION BY dept ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair, \
         dense_rank() OVER (PARTITION BY dept ORDER BY age NULLS FIRST) AS dr FROM emp",
    );
    assert_err(
        emp.window(vec![col("id")]),
        "window() takes window function calls",
    );
    assert_err(
        emp.window(vec![lower(col("name")).over(WindowSpec::new())]),
        "is not a window function or aggregate",
    );
}

#[test]
fn sample_is_deterministic_and_bounded() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT * FROM generate_series(1, 20000) t(x)")
        .unwrap();
    let s = df.sample(0.25, 7).unwrap();
    let a = sorted_rows(&s);
    let b = sorted_rows(&s);
    assert_eq!(a, b, "same seed, same sample");
    assert!(a.len() > 4000 && a.len() < 6000, "{} rows", a.len());
    let other = sorted_rows(&df.sample(0.25, 8).unwrap());
    assert_ne!(a, other, "another seed, another sample");
    assert_eq!(df.sample(0.0, 1).unwrap().count().unwrap(), 0);
    assert_eq!(df.sample(1.0, 1).unwrap().count().unwrap(), 20000);
    // rows of the sample are rows of the input
    assert!(s.filter(col("x").gt(lit(20000))).unwrap().count().unwrap() == 0);
    // selecting fewer columns does not change which rows are chosen
    let narrow = ctx
        .sql("SELECT x, x * 2 AS y FROM generate_series(1, 20000) t(x)")
        .unwrap()
        .sample(0.25, 7)
        .unwrap()
        .select_columns(&["x"])
        .unwrap();
    assert_eq!(sorted_rows(&narrow), a);
    assert_err(df.sample(1.5, 1), "between 0 and 1");
    assert_err(df.sample(f64::NAN, 1), "between 0 and 1");
    assert!(
        df.sample(0.5, 1)
            .unwrap()
            .explain(false, false)
            .unwrap()
            .contains("SampleExec")
    );
}

#[test]
fn repartition_round_robin_and_hash() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT x, x % 7 AS k FROM generate_series(1, 1000) t(x)")
        .unwrap();
    let rr = df.repartition(Partitioning::RoundRobin(3)).unwrap();
    let parts = rr.collect_partitioned().unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(sorted_rows(&rr), sorted_rows(&df));
    let hashed = df
        .repartition(Partitioning::Hash(vec![col("k")], 5))
        .unwrap();
    let parts = hashed.collect_partitioned().unwrap();
    assert_eq!(parts.len(), 5);
    // every key lives in exactly one partition
    let mut owner = std::collections::HashMap::new();
    for (p, batches) in parts.iter().enumerate() {
        for row in crate::rows_of(batches) {
            let k = row.split('|').nth(1).unwrap().to_string();
            assert_eq!(*owner.entry(k).or_insert(p), p);
        }
    }
    assert_eq!(owner.len(), 7);
    assert!(
        hashed
            .explain(false, false)
            .unwrap()
            .contains("ExchangeExec: Hash([k@1], 5)")
    );
    assert_err(
        df.repartition(Partitioning::RoundRobin(0)),
        "at least one partition",
    );
    assert_err(
        df.repartition(Partitioning::Hash(vec![], 2)),
        "at least one key",
    );
    assert_err(
        df.repartition(Partitioning::Hash(vec![col("zz")], 2)),
        "column \"zz\" not found",
    );
}
