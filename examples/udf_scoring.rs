//! A scoring pipeline with user code: a scalar UDF (vectorized Rust over Arrow arrays), an
//! aggregate UDF, and `map_partitions`, where an expensive "model client" is created once
//! per partition and then scores every batch of it, in parallel across partitions.
//!
//! `cargo run --example udf_scoring`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion_common::ScalarValue;
use flint::prelude::*;

/// Stands for a client that is costly to create (a model loaded, a connection opened).
struct ModelClient {
    weights: [f64; 2],
}

impl ModelClient {
    fn connect() -> ModelClient {
        ModelClient {
            weights: [0.7, 0.3],
        }
    }
    fn score(&self, recency: f64, spend: f64) -> f64 {
        self.weights[0] * recency + self.weights[1] * spend
    }
}

/// An aggregate UDF: the largest value's share of the total.
#[derive(Debug, Default)]
struct TopShare {
    max: f64,
    total: f64,
}

impl Accumulator for TopShare {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for v in values[0].as_primitive::<Float64Type>().iter().flatten() {
            self.max = self.max.max(v);
            self.total += v;
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let maxes = states[0].as_primitive::<Float64Type>();
        let totals = states[1].as_primitive::<Float64Type>();
        for (m, t) in maxes.iter().zip(totals.iter()) {
            self.max = self.max.max(m.unwrap_or(0.0));
            self.total += t.unwrap_or(0.0);
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::from(self.max),
            ScalarValue::from(self.total),
        ])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (self.total > 0.0).then(|| self.max / self.total),
        ))
    }
}

fn main() -> Result<()> {
    let ctx = SessionContext::new();
    let customers = ctx.sql(
        "SELECT x AS customer_id, x % 4 AS segment, CAST(x % 30 AS DOUBLE) AS days_since_visit, \
                CAST((x * 37) % 500 AS DOUBLE) AS spend \
         FROM generate_series(1, 40000) t(x)",
    )?;

    // scalar UDF: recency in [0, 1], vectorized with an Arrow kernel
    let recency = create_udf(
        "recency",
        vec![DataType::Float64],
        DataType::Float64,
        |args| {
            let days = args[0].as_primitive::<Float64Type>();
            let out: Float64Array =
                arrow::compute::kernels::arity::unary(days, |d| 1.0 / (1.0 + d));
            Ok(Arc::new(out) as ArrayRef)
        },
    );
    ctx.register_udf(recency.clone());
    let features = customers.with_column("recency", recency.call(vec![col("days_since_visit")]))?;

    // map_partitions: one client per partition, then every batch scored with it
    let clients_created = Arc::new(AtomicUsize::new(0));
    let created = clients_created.clone();
    let mut fields: Vec<Field> = features
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("score", DataType::Float64, false));
    let scored_schema = Arc::new(Schema::new(fields));
    let out_schema = scored_schema.clone();
    let scored = features.map_partitions(scored_schema, move |_partition, batches| {
        let client = ModelClient::connect();
        created.fetch_add(1, Ordering::Relaxed);
        let schema = out_schema.clone();
        Ok(batches.map(move |b| {
            let b = b?;
            let spend = b
                .column_by_name("spend")
                .map(|c| c.as_primitive::<Float64Type>().clone());
            let rec = b
                .column_by_name("recency")
                .map(|c| c.as_primitive::<Float64Type>().clone());
            let (Some(spend), Some(rec)) = (spend, rec) else {
                return Err(Error::execution("missing feature columns"));
            };
            let scores: Float64Array = rec
                .iter()
                .zip(spend.iter())
                .map(|(r, s)| Some(client.score(r.unwrap_or(0.0), s.unwrap_or(0.0) / 500.0)))
                .collect();
            let mut cols = b.columns().to_vec();
            cols.push(Arc::new(scores));
            Ok(RecordBatch::try_new(schema.clone(), cols)?)
        }))
    })?;

    // aggregate UDF over the scores, per segment
    let top_share = create_udaf(
        "top_share",
        vec![DataType::Float64],
        DataType::Float64,
        vec![DataType::Float64, DataType::Float64],
        || Ok(Box::new(TopShare::default())),
    );
    ctx.register_udaf(top_share.clone());
    let summary = scored
        .group_by(vec![col("segment")])?
        .agg(vec![
            count_all().alias("customers"),
            avg(col("score")).alias("avg_score"),
            top_share.call(vec![col("score")]).alias("top_share"),
        ])?
        .sort(vec![col("segment").sort(true, false)])?;
    summary.show()?;
    let best = scored
        .sort(vec![
            col("score").sort(false, true),
            col("customer_id").sort(true, false),
        ])?
        .select(vec![col("customer_id"), col("segment"), col("score")])?;
    best.show_limit(5)?;
    println!(
        "model clients created: {} (one per partition per run)",
        clients_created.load(Ordering::Relaxed)
    );

    // the UDFs are callable from SQL too
    scored.create_or_replace_temp_view("scored")?;
    let sql = ctx.sql(
        "SELECT segment, top_share(score) AS top_share, max(recency(days_since_visit)) AS max_recency \
         FROM scored GROUP BY segment ORDER BY segment",
    )?;
    sql.show()?;
    let n: i64 = sql.aggregate(vec![], vec![count_all()])?.collect()?[0]
        .column(0)
        .as_primitive::<Int64Type>()
        .value(0);
    assert_eq!(n, 4);
    Ok(())
}
