//! Joins of every kind, on column pairs or expressions, against SQL.

use flint::prelude::*;

use crate::{assert_err, assert_same_as_sql, ctx};

#[test]
fn join_on_columns_every_type() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let dept = ctx.table("dept").unwrap();
    let cases = [
        (JoinType::Inner, "JOIN"),
        (JoinType::Left, "LEFT JOIN"),
        (JoinType::Right, "RIGHT JOIN"),
        (JoinType::Full, "FULL JOIN"),
    ];
    for (jt, sql) in cases {
        let df = emp.join(&dept, jt, &["dept"], &["code"], None).unwrap();
        assert_same_as_sql(&df, &format!("SELECT * FROM emp {sql} dept ON dept = code"));
        let df = emp
            .join(
                &dept,
                jt,
                &["dept"],
                &["code"],
                Some(col("floor").lt(lit(2))),
            )
            .unwrap();
        assert_same_as_sql(
            &df,
            &format!("SELECT * FROM emp {sql} dept ON dept = code AND floor < 2"),
        );
    }
    let semi = emp
        .join(&dept, JoinType::LeftSemi, &["dept"], &["code"], None)
        .unwrap();
    assert_same_as_sql(
        &semi,
        "SELECT * FROM emp WHERE dept IN (SELECT code FROM dept)",
    );
    let anti = emp
        .join(&dept, JoinType::LeftAnti, &["dept"], &["code"], None)
        .unwrap();
    assert_same_as_sql(
        &anti,
        "SELECT * FROM emp WHERE NOT EXISTS (SELECT 1 FROM dept WHERE code = dept)",
    );
    let rsemi = emp
        .join(&dept, JoinType::RightSemi, &["dept"], &["code"], None)
        .unwrap();
    assert_same_as_sql(
        &rsemi,
        "SELECT * FROM dept WHERE code IN (SELECT dept FROM emp)",
    );
    let ranti = emp
        .join(&dept, JoinType::RightAnti, &["dept"], &["code"], None)
        .unwrap();
    assert_same_as_sql(
        &ranti,
        "SELECT * FROM dept WHERE NOT EXISTS (SELECT 1 FROM emp WHERE dept = code)",
    );
}

#[test]
fn join_on_expressions_and_cross_join() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let dept = ctx.table("dept").unwrap();
    let df = emp
        .join_on(
            &dept,
            JoinType::Left,
            vec![
                col("emp.dept").eq(col("dept.code")),
                col("salary").gt(lit(100)),
            ],
        )
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT * FROM emp LEFT JOIN dept ON emp.dept = dept.code AND salary > 100",
    );
    // a non-equi join only
    let df = emp
        .join_on(&dept, JoinType::Inner, vec![col("id").lt(col("floor"))])
        .unwrap();
    assert_same_as_sql(&df, "SELECT * FROM emp JOIN dept ON id < floor");
    let df = emp.cross_join(&dept).unwrap();
    assert_same_as_sql(&df, "SELECT * FROM emp CROSS JOIN dept");
}

#[test]
fn self_join_needs_an_alias_and_works_with_one() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    assert_err(
        emp.join(&emp, JoinType::Inner, &["id"], &["id"], None),
        "both sides are named \"emp\": give one an alias",
    );
    let a = emp.alias("a").unwrap();
    let b = emp.alias("b").unwrap();
    let df = a
        .join(
            &b,
            JoinType::Inner,
            &["a.dept"],
            &["b.dept"],
            Some(col("a.id").lt(col("b.id"))),
        )
        .unwrap()
        .select_columns(&["a.name", "b.name"])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT a.name, b.name FROM emp a JOIN emp b ON a.dept = b.dept AND a.id < b.id",
    );
    // semi joins output one side only: no alias needed
    let semi = emp
        .join(&emp, JoinType::LeftSemi, &["id"], &["id"], None)
        .unwrap();
    assert_eq!(semi.count().unwrap(), 8);
}

#[test]
fn join_errors_name_the_problem() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let dept = ctx.table("dept").unwrap();
    assert_err(
        emp.join(&dept, JoinType::Inner, &["dept", "id"], &["code"], None),
        "as many left key columns as right ones",
    );
    assert_err(
        emp.join(&dept, JoinType::Inner, &["nope"], &["code"], None),
        "column \"nope\" not found",
    );
    assert_err(
        emp.join(&dept, JoinType::Inner, &["dept"], &["nope"], None),
        "available columns: dept.code, dept.title, dept.floor",
    );
    let dates = ctx.sql("SELECT DATE '2020-01-01' AS d").unwrap();
    assert_err(
        emp.join(&dates, JoinType::Inner, &["id"], &["d"], None),
        "cannot be compared",
    );
    assert_err(
        emp.join_on(&dept, JoinType::Inner, vec![col("zz").eq(col("code"))]),
        "column \"zz\" not found",
    );
}

#[test]
fn aggregates_joined_then_grouped() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let dept = ctx.table("dept").unwrap();
    let per_dept = emp
        .group_by(vec![col("dept")])
        .unwrap()
        .agg(vec![sum(col("salary")).alias("total")])
        .unwrap()
        .alias("s")
        .unwrap();
    let floors = dept
        .group_by(vec![col("code")])
        .unwrap()
        .agg(vec![max(col("floor")).alias("fl")])
        .unwrap()
        .alias("f")
        .unwrap();
    let df = per_dept
        .join(&floors, JoinType::Inner, &["dept"], &["code"], None)
        .unwrap()
        .group_by(vec![(col("fl") % lit(2)).alias("odd")])
        .unwrap()
        .agg(vec![sum(col("total")).alias("t")])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT fl % 2 AS odd, sum(total) AS t FROM \
         (SELECT dept, sum(salary) AS total FROM emp GROUP BY dept) s \
         JOIN (SELECT code, max(floor) AS fl FROM dept GROUP BY code) f ON dept = code GROUP BY fl % 2",
    );
}
