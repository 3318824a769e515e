//! The campaign / events roll-up: filter events, aggregate spend and events per campaign,
//! join the two aggregates, then group by channel.
//!
//! `cargo run --example campaign_rollup`
//!
//! The roll-up is also written as Parquet (`totals.write_parquet(..)`) into a temporary folder
//! and read back.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use flint::prelude::*;

/// Deterministic demo data: 20 campaigns on 3 channels, 50,000 events.
fn demo_data(ctx: &SessionContext) -> Result<(DataFrame, DataFrame)> {
    let channels = ["search", "social", "video"];
    let ids: Vec<i64> = (0..20).collect();
    let campaigns = RecordBatch::try_from_iter(vec![
        (
            "campaign_id",
            Arc::new(Int64Array::from(ids.clone())) as ArrayRef,
        ),
        (
            "channel",
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|i| channels[*i as usize % 3]),
            )) as _,
        ),
        (
            "daily_budget",
            Arc::new(Int64Array::from_iter_values(
                ids.iter().map(|i| 100 + i * 10),
            )) as _,
        ),
    ])?;
    let n = 50_000i64;
    let kinds = ["view", "click", "purchase"];
    let events = RecordBatch::try_from_iter(vec![
        (
            "campaign_id",
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| (i * 7) % 20))) as ArrayRef,
        ),
        ("ts", Arc::new(Int64Array::from_iter_values(0..n)) as _),
        (
            "event_type",
            Arc::new(StringArray::from_iter_values((0..n).map(|i| {
                match (i / 20 * 7) % 10 {
                    0..=6 => kinds[0],
                    7 | 8 => kinds[1],
                    _ => kinds[2],
                }
            }))) as _,
        ),
        (
            "value",
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| i % 97))) as _,
        ),
    ])?;
    Ok((
        ctx.read_batches(campaigns.schema(), vec![campaigns])?
            .alias("campaigns")?,
        ctx.read_batches(events.schema(), vec![events])?
            .alias("events")?,
    ))
}

fn main() -> Result<()> {
    let ctx = SessionContext::new();
    let (campaigns, events) = demo_data(&ctx)?;
    let watermark = 10_000i64;

    // the pipeline: one campaign's recent events by type
    let totals = events
        .filter(
            col("campaign_id")
                .eq(lit(7i64))
                .and(col("ts").gt(lit(watermark))),
        )?
        .group_by(vec![col("event_type")])?
        .agg(vec![sum(col("value")).alias("total")])?
        .sort(vec![col("total").sort(false, true)])?;
    totals.show()?;
    let out = std::env::temp_dir().join(format!("flint-campaign-{}", std::process::id()));
    let target = out.join("totals").display().to_string();
    let written = totals.write_parquet(&target, WriteOptions::default())?;
    let back = ctx.read_parquet(&target)?;
    assert_eq!(back.count()?, written.rows as usize);
    println!("wrote {} rows to {target}", written.rows);
    std::fs::remove_dir_all(&out)?;

    // two aggregates over the recent events, joined, then rolled up per channel
    let recent = events.filter(col("ts").gt(lit(watermark)))?;
    let purchases = recent
        .filter(col("event_type").eq(lit("purchase")))?
        .group_by(vec![col("campaign_id")])?
        .agg(vec![
            count_all().alias("purchases"),
            sum(col("value")).alias("revenue"),
        ])?
        .alias("p")?;
    let activity = recent
        .group_by(vec![col("campaign_id")])?
        .agg(vec![count_all().alias("events")])?
        .alias("a")?;
    let per_campaign = activity
        .join(
            &purchases,
            JoinType::Left,
            &["a.campaign_id"],
            &["p.campaign_id"],
            None,
        )?
        .join(
            &campaigns,
            JoinType::Inner,
            &["a.campaign_id"],
            &["campaigns.campaign_id"],
            None,
        )?;
    let per_channel = per_campaign
        .group_by(vec![col("channel")])?
        .agg(vec![
            count_all().alias("campaigns"),
            sum(col("events")).alias("events"),
            sum(coalesce(vec![col("purchases"), lit(0i64)])).alias("purchases"),
            sum(col("revenue")).alias("revenue"),
            (sum(col("revenue")).cast(arrow::datatypes::DataType::Float64)
                / sum(col("daily_budget")).cast(arrow::datatypes::DataType::Float64))
            .alias("revenue_per_budget"),
        ])?
        .sort(vec![col("revenue").sort(false, true)])?;
    per_channel.show()?;

    // the same roll-up in SQL gives the same rows
    events.create_or_replace_temp_view("events")?;
    campaigns.create_or_replace_temp_view("campaigns")?;
    let sql = ctx.sql(&format!(
        "WITH recent AS (SELECT * FROM events WHERE ts > {watermark}), \
         p AS (SELECT campaign_id, count(*) AS purchases, sum(value) AS revenue FROM recent \
               WHERE event_type = 'purchase' GROUP BY campaign_id), \
         a AS (SELECT campaign_id, count(*) AS events FROM recent GROUP BY campaign_id) \
         SELECT channel, count(*) AS campaigns, sum(events) AS events, \
                sum(coalesce(purchases, 0)) AS purchases, sum(revenue) AS revenue, \
                CAST(sum(revenue) AS DOUBLE) / CAST(sum(daily_budget) AS DOUBLE) AS revenue_per_budget \
         FROM a LEFT JOIN p ON a.campaign_id = p.campaign_id \
         JOIN campaigns c ON a.campaign_id = c.campaign_id \
         GROUP BY channel ORDER BY revenue DESC"
    ))?;
    assert_eq!(
        sql.to_pretty_string(None)?,
        per_channel.to_pretty_string(None)?
    );
    println!("SQL gives the same roll-up");
    Ok(())
}
