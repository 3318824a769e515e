//! Lists: string_to_array/string_split, unnest/explode/flat_map, word count against SQL.

use flint::prelude::*;

use crate::{assert_err, assert_same_as_sql, ctx, sorted_rows};

fn lines(ctx: &SessionContext) -> DataFrame {
    ctx.sql(
        "SELECT * FROM (VALUES (1, 'the cat sat'), (2, 'the dog'), (3, ''), (4, NULL), (5, 'cat cat')) t(id, line)",
    )
    .unwrap()
}

#[test]
fn word_count_dataframe_equals_sql() {
    let ctx = ctx();
    let words = lines(&ctx)
        .flat_map("word", string_split(col("line"), lit(" ")))
        .unwrap()
        .filter(col("word").not_eq(lit("")))
        .unwrap();
    let counts = words.count_by_value("word").unwrap();
    ctx.register_dataframe("lines", &lines(&ctx)).unwrap();
    assert_same_as_sql(
        &counts,
        "SELECT word, count(*) AS count FROM \
         (SELECT unnest(string_split(line, ' ')) AS word FROM lines) WHERE word <> '' GROUP BY word",
    );
    assert_eq!(sorted_rows(&counts), ["cat|3", "dog|1", "sat|1", "the|2"]);
}

#[test]
fn unnest_keeps_other_columns_and_drops_empty_lists() {
    let ctx = ctx();
    let df = lines(&ctx)
        .with_column("parts", string_to_array(col("line"), lit(" ")))
        .unwrap();
    assert_eq!(
        df.schema().field(2).data_type(),
        &arrow::datatypes::DataType::new_list(arrow::datatypes::DataType::Utf8, true)
    );
    let rows = df
        .explode("parts")
        .unwrap()
        .select_columns(&["id", "parts"])
        .unwrap();
    assert_eq!(
        sorted_rows(&rows),
        [
            "1|cat", "1|sat", "1|the", "2|dog", "2|the", "5|cat", "5|cat"
        ]
    );
    // preserving NULL and empty lists (explode_outer)
    let outer = df.unnest_columns_with(&["parts"], true).unwrap();
    assert_eq!(outer.count().unwrap(), 9);
    // list columns survive filters, collect and show
    let with_list = df.filter(cardinality(col("parts")).gt(lit(1))).unwrap();
    assert_eq!(with_list.count().unwrap(), 3);
    let text = with_list
        .sort(vec![col("id").sort(true, false)])
        .unwrap()
        .to_pretty_string(None)
        .unwrap();
    assert!(text.contains("[the, cat, sat]"), "{text}");
    assert_same_as_sql(
        &df.select(vec![col("id"), cardinality(col("parts")).alias("n")])
            .unwrap(),
        "SELECT id, cardinality(string_to_array(line, ' ')) AS n FROM \
         (VALUES (1, 'the cat sat'), (2, 'the dog'), (3, ''), (4, NULL), (5, 'cat cat')) t(id, line)",
    );
}

#[test]
fn unnest_several_columns_zips_them() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT string_split('a,b,c', ',') AS xs, string_split('1,2', ',') AS ys, 7 AS k")
        .unwrap();
    let out = df.unnest_columns(&["xs", "ys"]).unwrap();
    assert_eq!(sorted_rows(&out), ["a|1|7", "b|2|7", "c|NULL|7"]);
    assert_same_as_sql(
        &out,
        "SELECT unnest(string_split('a,b,c', ',')) AS xs, unnest(string_split('1,2', ',')) AS ys, 7 AS k",
    );
}

#[test]
fn unnest_errors() {
    let ctx = ctx();
    let df = lines(&ctx);
    assert_err(
        df.unnest_columns(&["line"]),
        "unnest needs a list column, but \"line\" is VARCHAR",
    );
    assert_err(df.unnest_columns(&["nope"]), "column \"nope\" not found");
    assert_err(df.unnest_columns(&[]), "at least one column");
    assert_err(
        ctx.sql("SELECT upper(unnest(string_split('a b', ' ')))"),
        "UNNEST is only supported as a whole select-list item",
    );
}
