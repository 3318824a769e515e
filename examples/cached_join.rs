//! A pre-partitioned join: repartition both tables by the join key once, cache them, and
//! join them (twice) without shuffling again. The printed plans show it: the only exchanges
//! are the ones `repartition` asked for, under the cached tables.
//!
//! `cargo run --example cached_join`

use flint::prelude::*;

fn main() -> Result<()> {
    let ctx = SessionContext::new();
    let users = ctx.sql(
        "SELECT x AS user_id, 'user' || CAST(x AS VARCHAR) AS name, x % 5 AS region \
         FROM generate_series(1, 20000) t(x)",
    )?;
    let orders = ctx.sql(
        "SELECT x AS order_id, (x * 7) % 20000 + 1 AS user_id, x % 100 AS amount \
         FROM generate_series(1, 100000) t(x)",
    )?;

    // shuffle once by the join key and keep the partitions
    let by_user = |df: &DataFrame| df.repartition(Partitioning::Hash(vec![col("user_id")], 8));
    let users_cached = by_user(&users)?.cache()?.alias("u")?;
    let orders_cached = by_user(&orders)?.cache()?.alias("o")?;

    // join 1: orders with their users
    let enriched = orders_cached.join(
        &users_cached,
        JoinType::Inner,
        &["o.user_id"],
        &["u.user_id"],
        None,
    )?;
    // join 2: the result (still partitioned by user_id) with per-user totals
    let totals = orders_cached
        .group_by(vec![col("user_id")])?
        .agg(vec![sum(col("amount")).alias("user_total")])?
        .alias("t")?;
    let report = enriched
        .join(
            &totals,
            JoinType::Inner,
            &["o.user_id"],
            &["t.user_id"],
            None,
        )?
        .filter(col("u.region").eq(lit(3)))?
        .select(vec![
            col("o.order_id"),
            col("u.name"),
            col("o.amount"),
            col("t.user_total"),
        ])?;

    let plan = report.explain(false, false)?;
    println!("{plan}");
    let exchanges = plan.lines().filter(|l| l.contains("ExchangeExec")).count();
    println!("exchanges in the plan: {exchanges}");
    assert_eq!(
        exchanges, 0,
        "a cached, co-partitioned join must not shuffle"
    );
    println!("rows: {}", report.count()?);

    // the same report in SQL over the uncached data agrees
    users.create_or_replace_temp_view("users")?;
    orders.create_or_replace_temp_view("orders")?;
    let check = |df: &DataFrame| -> Result<String> {
        df.aggregate(
            vec![],
            vec![
                count_all(),
                sum(col("amount")),
                sum(col("user_total")),
                max(col("name")),
            ],
        )?
        .to_pretty_string(None)
    };
    let sql = ctx.sql(
        "SELECT o.order_id, u.name, o.amount, t.user_total FROM orders o \
         JOIN users u ON o.user_id = u.user_id \
         JOIN (SELECT user_id, sum(amount) AS user_total FROM orders GROUP BY user_id) t \
           ON o.user_id = t.user_id \
         WHERE u.region = 3",
    )?;
    assert_eq!(check(&report)?, check(&sql)?);
    report
        .sort(vec![col("order_id").sort(true, false)])?
        .show_limit(5)?;
    Ok(())
}
