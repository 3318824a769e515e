//! group_by/agg, aggregate, count_by_value, set operations.

use flint::prelude::*;

use crate::{assert_err, assert_same_as_sql, ctx};

#[test]
fn group_by_agg_matches_sql() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .group_by(vec![col("dept")])
        .unwrap()
        .agg(vec![
            sum(col("salary")).alias("total"),
            avg(col("age")).alias("avg_age"),
            count(col("age")).alias("with_age"),
            count_all().alias("n"),
            count_distinct(col("age")).alias("ages"),
            min(col("name")).alias("first_name"),
            max(col("salary")).alias("top"),
            string_agg(col("name"), lit(",")).alias("names"),
        ])
        .unwrap();
    // string_agg order is not defined: compare it separately by length
    let core = df.drop_columns(&["names"]).unwrap();
    assert_same_as_sql(
        &core,
        "SELECT dept, sum(salary) AS total, avg(age) AS avg_age, count(age) AS with_age, count(*) AS n, \
         count(DISTINCT age) AS ages, min(name) AS first_name, max(salary) AS top FROM emp GROUP BY dept",
    );
    assert_eq!(df.count().unwrap(), 4);
}

#[test]
fn agg_expressions_over_aggregates_and_keys() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .group_by(vec![col("dept"), (col("age") % lit(2)).alias("parity")])
        .unwrap()
        .agg(vec![
            (max(col("salary")) - min(col("salary"))).alias("spread"),
            (sum(col("salary")) + col("age") % lit(2)).alias("odd"),
        ])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT dept, age % 2 AS parity, max(salary) - min(salary) AS spread, sum(salary) + age % 2 AS odd \
         FROM emp GROUP BY dept, age % 2",
    );
    assert_err(
        emp.group_by(vec![col("dept")])
            .unwrap()
            .agg(vec![col("salary") + lit(1)]),
        "must use an aggregate function",
    );
    assert_err(
        emp.group_by(vec![col("dept")])
            .unwrap()
            .agg(vec![sum(col("salary")) + col("age")]),
        "must appear in the GROUP BY clause",
    );
    assert_err(
        emp.group_by(vec![sum(col("age"))]),
        "cannot be aggregate or window",
    );
    assert_err(
        emp.group_by(vec![col("dept")])
            .unwrap()
            .agg(vec![sum(col("name"))]),
        "sum() cannot be applied to VARCHAR",
    );
}

#[test]
fn aggregate_without_keys_and_over_empty_input() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .aggregate(vec![], vec![sum(col("salary")), count_all().alias("n")])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT sum(salary) AS \"sum(salary)\", count(*) AS n FROM emp",
    );
    let empty = emp.filter(lit(false)).unwrap();
    let df = empty
        .aggregate(
            vec![],
            vec![sum(col("salary")).alias("s"), count_all().alias("n")],
        )
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT sum(salary) AS s, count(*) AS n FROM emp WHERE false",
    );
    let df = empty
        .group_by(vec![col("dept")])
        .unwrap()
        .agg(vec![count_all().alias("n")])
        .unwrap();
    assert_eq!(df.count().unwrap(), 0);
}

#[test]
fn grouped_count_and_count_by_value() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    assert_same_as_sql(
        &emp.group_by(vec![col("dept")]).unwrap().count().unwrap(),
        "SELECT dept, count(*) AS count FROM emp GROUP BY dept",
    );
    assert_same_as_sql(
        &emp.count_by_value("age").unwrap(),
        "SELECT age, count(*) AS count FROM emp GROUP BY age",
    );
    assert_err(emp.count_by_value("nope"), "column \"nope\" not found");
}

#[test]
fn set_operations_match_sql() {
    let ctx = ctx();
    let a = ctx.sql("SELECT dept FROM emp").unwrap();
    let b = ctx.sql("SELECT code FROM dept").unwrap();
    assert_same_as_sql(
        &a.union_distinct(&b).unwrap(),
        "SELECT dept FROM emp UNION SELECT code FROM dept",
    );
    assert_same_as_sql(
        &a.union(&b).unwrap(),
        "SELECT dept FROM emp UNION ALL SELECT code FROM dept",
    );
    assert_same_as_sql(
        &a.union_all(&b).unwrap(),
        "SELECT dept FROM emp UNION ALL SELECT code FROM dept",
    );
    assert_same_as_sql(
        &a.intersect(&b).unwrap(),
        "SELECT dept FROM emp INTERSECT SELECT code FROM dept",
    );
    assert_same_as_sql(
        &a.except(&b).unwrap(),
        "SELECT dept FROM emp EXCEPT SELECT code FROM dept",
    );
    assert_same_as_sql(
        &b.except(&a).unwrap(),
        "SELECT code FROM dept EXCEPT SELECT dept FROM emp",
    );
    // types widen: INTEGER and DOUBLE
    let ints = ctx.sql("SELECT id FROM emp").unwrap();
    let doubles = ctx
        .sql("SELECT CAST(floor AS DOUBLE) AS f FROM dept")
        .unwrap();
    assert_same_as_sql(
        &ints.union_all(&doubles).unwrap(),
        "SELECT id FROM emp UNION ALL SELECT CAST(floor AS DOUBLE) AS f FROM dept",
    );
    let two = ctx.sql("SELECT id, name FROM emp").unwrap();
    assert_err(a.union_distinct(&two), "different numbers of columns");
    let dates = ctx.sql("SELECT DATE '2020-01-01' AS d").unwrap();
    let bools = ctx.sql("SELECT true AS b").unwrap();
    assert_err(dates.union_all(&bools), "do not mix");
}
