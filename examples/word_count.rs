//! Word count over a text file, the DataFrame way and the SQL way.
//!
//! `cargo run --example word_count [FILE]` (default: examples/data/hamlet.txt)

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::record_batch::RecordBatch;
use flint::prelude::*;

fn main() -> Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/hamlet.txt").into());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("cannot read {path}: {e}")))?;
    let lines: ArrayRef = Arc::new(StringArray::from(text.lines().collect::<Vec<_>>()));
    let batch = RecordBatch::try_from_iter(vec![("line", lines)])?;

    let ctx = SessionContext::new();
    let lines = ctx.read_batches(batch.schema(), vec![batch])?;

    // normalize: lower case, punctuation to spaces; then one row per word
    let cleaned = lower(col("line"));
    let cleaned = [",", ".", ":", ";", "!", "?"]
        .iter()
        .fold(cleaned, |e, p| replace(e, lit(*p), lit(" ")));
    let words = lines
        .flat_map("word", string_split(cleaned, lit(" ")))?
        .filter(col("word").not_eq(lit("")))?;
    let counts = words.count_by_value("word")?.sort(vec![
        col("count").sort(false, true),
        col("word").sort(true, false),
    ])?;
    println!("top words of {path}:");
    counts.show_limit(10)?;

    // the same in SQL over the same lines, registered as a view
    lines.create_or_replace_temp_view("lines")?;
    let sql = ctx.sql(
        "SELECT word, count(*) AS count FROM ( \
           SELECT unnest(string_split(replace(replace(replace(replace(replace(replace( \
             lower(line), ',', ' '), '.', ' '), ':', ' '), ';', ' '), '!', ' '), '?', ' '), ' ')) AS word \
           FROM lines) \
         WHERE word <> '' GROUP BY word ORDER BY count DESC, word LIMIT 10",
    )?;
    assert_eq!(
        sql.to_pretty_string(None)?,
        counts.to_pretty_string(Some(10))?
    );
    println!(
        "SQL agrees on the top 10; {} distinct words",
        counts.count()?
    );
    Ok(())
}
