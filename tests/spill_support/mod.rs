//! Helpers shared by the spilling and cancellation tests: counting spill files, printing rows
//! for comparison, and reading an EXPLAIN ANALYZE metric.

#![allow(dead_code)]

use std::path::Path;

use arrow::record_batch::RecordBatch;

/// Spill files (`flint-spill-*`) in `dir` now.
pub fn spill_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("flint-spill-"))
                .count()
        })
        .unwrap_or(0)
}

/// Each row as its values joined by `|`, in batch order.
pub fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = vec![];
    for b in batches {
        for i in 0..b.num_rows() {
            let row: Vec<String> = b
                .columns()
                .iter()
                .map(|c| {
                    arrow::util::display::array_value_to_string(c, i)
                        .unwrap_or_else(|e| e.to_string())
                })
                .collect();
            out.push(row.join("|"));
        }
    }
    out
}

/// The number after `name=` in an EXPLAIN ANALYZE line (`spilled_bytes=1.5 MB` gives 1.5), or 0.
pub fn metric(line: &str, name: &str) -> f64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
