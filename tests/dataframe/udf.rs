//! Scalar and aggregate UDFs from the DataFrame API and from SQL.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::datatypes::{DataType, Int64Type};
use datafusion_common::ScalarValue;
use flint::prelude::*;

use crate::{assert_err, assert_same_as_sql, ctx, sorted_rows};

fn shout() -> ScalarUdf {
    create_udf(
        "shout",
        vec![DataType::Utf8, DataType::Int64],
        DataType::Utf8,
        |args| {
            let s = args[0].as_string::<i32>();
            let n = args[1].as_primitive::<Int64Type>();
            let out: StringArray = s
                .iter()
                .zip(n.iter())
                .map(|(s, n)| Some(format!("{}{}", s?.to_uppercase(), "!".repeat(n? as usize))))
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        },
    )
}

#[test]
fn scalar_udf_in_dataframe_and_sql() {
    let ctx = ctx();
    ctx.register_udf(shout());
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .select(vec![shout().call(vec![col("name"), col("id")]).alias("s")])
        .unwrap();
    assert_same_as_sql(&df, "SELECT shout(name, id) AS s FROM emp");
    assert!(sorted_rows(&df).contains(&"ANN!".to_string()));
    let by_name = ctx
        .call_function("SHOUT", vec![col("name"), lit(2)])
        .unwrap();
    assert_same_as_sql(
        &emp.select(vec![by_name.alias("s")]).unwrap(),
        "SELECT shout(name, 2) AS s FROM emp",
    );
    // constant arguments are computed once
    assert_eq!(
        sorted_rows(&ctx.sql("SELECT shout('a', 3) AS s").unwrap()),
        ["A!!!"]
    );
}

#[test]
fn scalar_udf_errors() {
    let ctx = ctx();
    ctx.register_udf(shout());
    let emp = ctx.table("emp").unwrap();
    assert_err(
        emp.select(vec![shout().call(vec![col("name")])]),
        "shout() takes 2 arguments, got 1",
    );
    assert_err(
        emp.select(vec![shout().call(vec![col("id"), col("id")])]),
        "shout(): argument 1 must be VARCHAR, got BIGINT",
    );
    assert_err(ctx.sql("SELECT shout(name) FROM emp"), "takes 2 arguments");
    // a UDF returning the wrong type or length fails the query, naming it
    let bad = create_udf("bad", vec![DataType::Int64], DataType::Int64, |args| {
        Ok(Arc::new(Int64Array::from(vec![1; args[0].len() + 1])) as ArrayRef)
    });
    let df = emp.select(vec![bad.call(vec![col("id")])]).unwrap();
    assert_err(df.collect(), "bad() returned");
    let failing = create_udf("failing", vec![DataType::Int64], DataType::Int64, |_| {
        Err(Error::execution("model unavailable"))
    });
    let df = emp.select(vec![failing.call(vec![col("id")])]).unwrap();
    assert_err(df.collect(), "model unavailable");
}

/// Sum of squares, with a count in its state (two state columns).
#[derive(Debug, Default)]
struct SumSquares {
    sum: i64,
    n: i64,
}

impl Accumulator for SumSquares {
    fn update_batch(&mut self, values: &[ArrayRef]) -> flint::Result<()> {
        for v in values[0].as_primitive::<Int64Type>().iter().flatten() {
            self.sum += v * v;
            self.n += 1;
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> flint::Result<()> {
        let s = states[0].as_primitive::<Int64Type>();
        let n = states[1].as_primitive::<Int64Type>();
        for i in 0..s.len() {
            self.sum += s.value(i);
            self.n += n.value(i);
        }
        Ok(())
    }
    fn state(&mut self) -> flint::Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::from(self.sum), ScalarValue::from(self.n)])
    }
    fn evaluate(&mut self) -> flint::Result<ScalarValue> {
        Ok(ScalarValue::Int64((self.n > 0).then_some(self.sum)))
    }
}

fn sum_squares() -> AggregateUdf {
    create_udaf(
        "sum_squares",
        vec![DataType::Int64],
        DataType::Int64,
        vec![DataType::Int64, DataType::Int64],
        || Ok(Box::new(SumSquares::default())),
    )
}

#[test]
fn aggregate_udf_two_phase_in_dataframe_and_sql() {
    let ctx = ctx();
    ctx.register_udaf(sum_squares());
    let emp = ctx.table("emp").unwrap();
    let df = emp
        .group_by(vec![col("dept")])
        .unwrap()
        .agg(vec![sum_squares().call(vec![col("age")]).alias("sq")])
        .unwrap();
    assert_same_as_sql(
        &df,
        "SELECT dept, sum(age * age) AS sq FROM emp GROUP BY dept",
    );
    assert_same_as_sql(
        &ctx.sql("SELECT dept, sum_squares(age) AS sq FROM emp GROUP BY dept")
            .unwrap(),
        "SELECT dept, sum(age * age) AS sq FROM emp GROUP BY dept",
    );
    // many groups across partitions (partial + final phases), and the global form
    let big = ctx
        .sql("SELECT x % 100 AS g, x FROM generate_series(1, 5000) t(x)")
        .unwrap();
    let df = big
        .group_by(vec![col("g")])
        .unwrap()
        .agg(vec![sum_squares().call(vec![col("x")]).alias("sq")])
        .unwrap();
    ctx.register_dataframe("big", &big).unwrap();
    assert_same_as_sql(&df, "SELECT g, sum(x * x) AS sq FROM big GROUP BY g");
    let all = big
        .aggregate(vec![], vec![sum_squares().call(vec![col("x")]).alias("sq")])
        .unwrap();
    assert_same_as_sql(&all, "SELECT sum(x * x) AS sq FROM big");
    // over no rows: the accumulator's own answer (NULL here)
    let none = big
        .filter(lit(false))
        .unwrap()
        .aggregate(vec![], vec![sum_squares().call(vec![col("x")]).alias("sq")])
        .unwrap();
    assert_eq!(sorted_rows(&none), ["NULL"]);
    // as a window aggregate
    ctx.register_udaf(sum_squares());
    assert_same_as_sql(
        &ctx.sql("SELECT id, sum_squares(age) OVER (PARTITION BY dept) AS w FROM emp")
            .unwrap(),
        "SELECT id, sum(age * age) OVER (PARTITION BY dept) AS w FROM emp",
    );
    assert_err(
        emp.aggregate(vec![], vec![sum_squares().call(vec![col("name")])]),
        "sum_squares(): argument 1 must be BIGINT, got VARCHAR",
    );
}
