//! The sqllogictest runner behind `flint slt PATH...` and the `cargo test` conformance suites.
//!
//! Files are parsed with the [`sqllogictest`] crate's parser (after a small, line-preserving
//! preprocessing pass, see below); execution, formatting and validation are done here because
//! the suites we run need conventions the crate's own runner does not have.
//!
//! # Records
//!
//! * `statement ok` passes when the statement succeeds (a result set, if any, is ignored);
//!   `statement count N` is treated like `statement ok` (row counts are not reported by [`SltDb`]).
//! * `statement error [regex]` passes when the statement fails. An inline text after `error` is a
//!   regular expression (as the crate parses it) that must match the error message. A DuckDB
//!   style message under `----` (ended by the next blank line) must be *contained* in the error
//!   message. [`SltOptions::check_error_messages`] turns both checks off (any error passes).
//!   `query error` works the same way.
//! * `query <types> [sortmode] [label]` runs a query and compares its result with the lines
//!   under `----` (no `----` means an empty result). Labels are ignored.
//! * `hash-threshold N`, `halt`, `skipif X`, `onlyif X`, `control sortmode M` and `include FILE`
//!   (a plain relative path, no globs) are honoured. Conditions apply to the next `statement`,
//!   `query` or `halt` (so `onlyif mysql` + `halt` only halts on mysql); labels are compared
//!   with [`SltDb::engine_name`] case-insensitively. Text after `#` on a condition line is a
//!   comment.
//! * DuckDB-only directives (`require`, `mode`, `loop`, `load`, ...) are parse errors, so such a
//!   file fails as a whole.
//! * `system`, `let` and other crate extensions are reported as failures ("unsupported").
//!
//! Counting: each `statement` and `query` record is one record. It is *passed* or *failed* when
//! run, and *skipped* when a `skipif`/`onlyif` condition excludes it, when it comes after a
//! `halt`, or when [`SltOptions::fail_fast`] stopped the file. A file that cannot be read or
//! parsed counts as one failure.
//!
//! # Two conventions ([`Style`]), detected per file
//!
//! A file is [`Style::DuckDb`] when a comment line starts with `# name:`, `# group:` or
//! `# description:` (DuckDB's header), or when a result line contains a TAB; otherwise it is
//! [`Style::Sqlite`]. [`SltOptions::style`] overrides the detection. Our own `sql-tests` files
//! should carry a `# name:` header so they are read as DuckDB style.
//!
//! **SQLite style** (SQLite's corpus): one value per result line, formatted by the declared
//! type letter of its column, as SQLite's reference driver does:
//! * `I`: integers as is; floats truncated toward zero (saturating, NaN is 0); decimals by their
//!   integer part; booleans `1`/`0`; a string that parses as a number gives its integer part,
//!   else its leading integer digits (SQLite's `sqlite3_column_int64`), else `0`.
//! * `R`: `printf("%.3f")` of the value (strings converted like `I`, but keeping the fraction);
//!   booleans `1.000`/`0.000`; NaN/infinities print as `nan`/`inf`/`-inf`.
//! * `T` (and any other letter): strings as is, with every byte outside `' '..='~'` replaced by
//!   `@` (byte-wise, like the C driver); integers as is; floats like SQLite's `%!.15g`
//!   (`2.0`, `0.1`, `1.0e+20`); booleans `true`/`false`; decimals with their scale.
//! * `NULL` is `NULL` in every column; an empty string is `(empty)` under `T`.
//! * The default hash threshold is 8 (the corpus was generated with it, e.g. `select1.test` has
//!   no `hash-threshold` line yet expects `30 values hashing to ...`).
//!
//! **DuckDB style** (DuckDB's suite and our own files): one row per line, values separated by
//! TAB; a file may also list one value per line (e.g. `test_aggregate_types.test`) since the
//! comparison flattens both sides into value lists. Values are formatted by their *actual* Arrow
//! type, whatever the type letter (letters only fix the column count):
//! * integers as is; booleans `true`/`false` (`boolean_autocast.test`);
//! * floats in shortest round-trip form with at least one fractional digit (`10.0` in
//!   `test_exponent_in_cast.test`, `0.0` in `abs.test`, `24.5` in `test_moderate_union_all.test`),
//!   switching to exponent form like DuckDB/Python (`1e+16`, `1e-05`); `nan`, `inf`, `-inf`;
//!   `Float32` uses the shortest form of the 32-bit value;
//! * decimals with all digits of their scale (`29733.00` in `test_window_fusion.test`, `21.000`
//!   in `window_mtcars.test`);
//! * dates `YYYY-MM-DD`; timestamps `YYYY-MM-DD HH:MM:SS` plus a fraction only when non-zero,
//!   trailing zeros trimmed (`2020-02-17 23:59:59.998` in `date_trunc_4202.test`); times
//!   `HH:MM:SS[.fff]`; time-zone aware timestamps are printed in UTC with a `+00` suffix;
//! * strings as is, `(empty)` for the empty string (`test_aggregate_types.test`); `NULL`;
//! * other types (intervals, lists, structs, binary) use Arrow's display format.
//! * The default hash threshold is 0 (never hash).
//!
//! # Comparison (both styles)
//!
//! * The number of type letters must equal the number of result columns
//!   ("expected N columns, got M").
//! * `rowsort` sorts rows (lexicographically by their formatted values, byte-wise like C's
//!   `strcmp`), `valuesort` sorts all values individually, `nosort` keeps the engine's order.
//!   The sort is applied to the actual values *and* to the expected values (a no-op for
//!   well-formed files, robust for hand-written ones).
//! * If the expected result is a single line `N values hashing to <md5>`, the actual values
//!   (after sorting) are hashed: MD5 over every value followed by `"\n"`; count and hash must
//!   match exactly. Otherwise expected lines are flattened into values (SQLite: one value per
//!   line; DuckDB: lines split on TAB) and compared value by value with the actual values.
//!   The hash threshold only decides how the *actual* result is shown in a failure report.
//! * Two values match when their texts are equal, or when both parse as numbers, at least one
//!   is not a plain integer literal, and `|a-b| <= max(1e-6, 1e-8 * max(|a|,|b|))` (so `12` and
//!   `12.000000` match, `0.9` and `0.900000` match, but integers compare exactly). Hash
//!   comparisons are always exact.
//!
//! # Preprocessing
//!
//! Before parsing, trailing `# comments` are stripped from `skipif`/`onlyif`/`halt`/
//! `hash-threshold` lines (the crate rejects them), and DuckDB-style error messages under `----`
//! of `statement error`/`query error` records are lifted out (the `----` line becomes blank and
//! the message lines become comments), because the crate would otherwise swallow following
//! records until two consecutive blank lines. Line numbers are preserved.
//!
//! Engine panics inside [`SltDb::run`] are caught and reported as failures of that record.

mod compare;
mod format;
mod report;
mod runner;
mod script;
mod values;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

pub use report::{Failure, FileReport, Summary};
pub use runner::run_file;

/// What a statement returns to the runner: `None` for statements without a result set,
/// `Some((schema, batches))` for queries.
pub type SltOutput = Option<(SchemaRef, Vec<RecordBatch>)>;

/// What the runner needs from a database.
pub trait SltDb {
    /// Runs one SQL statement. Ok(None) for statements without a result set (DDL/DML),
    /// Ok(Some((schema, batches))) for queries (batches may be empty). Err(message) on failure.
    fn run(&mut self, sql: &str) -> Result<SltOutput, String>;

    /// Engine name for skipif/onlyif ("flint").
    fn engine_name(&self) -> &str {
        "flint"
    }
}

/// The result conventions of a test file (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// SQLite's corpus: one value per line, formatted by the declared type letter,
    /// default hash threshold 8.
    Sqlite,
    /// DuckDB's suite (and flint's own files): TAB-separated rows, values formatted by their
    /// actual type, default hash threshold 0.
    DuckDb,
}

impl Style {
    /// The hash threshold a file of this style starts with.
    pub fn default_hash_threshold(self) -> u64 {
        match self {
            Style::Sqlite => 8,
            Style::DuckDb => 0,
        }
    }

    /// Lower-case name (`sqlite` or `duckdb`).
    pub fn name(self) -> &'static str {
        match self {
            Style::Sqlite => "sqlite",
            Style::DuckDb => "duckdb",
        }
    }
}

impl std::str::FromStr for Style {
    type Err = String;

    /// Parses `sqlite` or `duckdb` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Style::Sqlite),
            "duckdb" => Ok(Style::DuckDb),
            other => Err(format!(
                "unknown slt style {other:?} (expected sqlite or duckdb)"
            )),
        }
    }
}

/// Settings of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SltOptions {
    /// Hash threshold to use instead of the style's default and the files' `hash-threshold`
    /// lines (0 = never hash). Only affects how actual results are shown in failures.
    pub hash_threshold: Option<u64>,
    /// Style to use instead of auto-detection.
    pub style: Option<Style>,
    /// Also print passing records.
    pub verbose: bool,
    /// Stop at the first failing record (the rest of the file counts as skipped, later files
    /// are not run).
    pub fail_fast: bool,
    /// At most this many failures are kept and printed per file (the counts stay exact).
    pub max_failures_printed: usize,
    /// Check expected error messages of `statement error`/`query error` records; when false,
    /// any error passes.
    pub check_error_messages: bool,
    /// Files run at the same time by [`run_paths`] (default: the number of cores).
    pub jobs: usize,
}

impl Default for SltOptions {
    fn default() -> Self {
        SltOptions {
            hash_threshold: None,
            style: None,
            verbose: false,
            fail_fast: false,
            max_failures_printed: 20,
            check_error_messages: true,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Expands `paths` into the list of test files to run: a directory is searched recursively
/// for `*.slt` and `*.test` files (sorted by path); a file is taken as is, whatever its
/// extension. Paths that do not exist, and directories that cannot be listed, are kept in the
/// list so that running them reports the error.
pub fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk_dir(path, &mut found);
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files
}

fn walk_dir(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        found.push(dir.to_path_buf());
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk_dir(&path, found);
        } else if is_test_file(&path) {
            found.push(path);
        }
    }
}

fn is_test_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("slt") | Some("test")
    )
}

/// Stack size of the threads that run test files in parallel.
const FILE_THREAD_STACK: usize = 64 * 1024 * 1024;

/// Runs every test file under `paths` (see [`collect_files`]) with a fresh database from
/// `make_db` per file, printing one line per file (`path: P passed, F failed, S skipped`),
/// the details of failing records (bounded by [`SltOptions::max_failures_printed`]) and, last,
/// exactly `N passed, M failed, K skipped`. Write errors on `out` are ignored.
///
/// Files run on [`SltOptions::jobs`] threads at once (each with its own database, created on
/// the thread that runs the file); reports are printed in file order all the same. With
/// [`SltOptions::fail_fast`] files run one at a time and the run stops at the first failing file.
pub fn run_paths(
    paths: &[PathBuf],
    make_db: &(dyn Fn() -> Box<dyn SltDb> + Sync),
    opts: &SltOptions,
    out: &mut dyn Write,
) -> Summary {
    let files = collect_files(paths);
    let jobs = if opts.fail_fast { 1 } else { opts.jobs.max(1) };
    let mut summary = Summary::default();
    let mut record = |report: &FileReport, summary: &mut Summary| {
        let _ = report.write_to(out, opts);
        let _ = out.flush();
        summary.add(report);
    };
    if jobs == 1 || files.len() < 2 {
        for file in &files {
            let mut db = make_db();
            let report = run_file(file, db.as_mut(), opts);
            record(&report, &mut summary);
            if opts.fail_fast && report.failed > 0 {
                break;
            }
        }
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<(usize, FileReport)>();
        std::thread::scope(|scope| {
            let work = |tx: std::sync::mpsc::Sender<(usize, FileReport)>| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let mut db = make_db();
                    if tx.send((i, run_file(file, db.as_mut(), opts))).is_err() {
                        break;
                    }
                }
            };
            let mut started = 0;
            for _ in 0..jobs.min(files.len()) {
                let tx = tx.clone();
                // planning deep joins recurses deeply: give file threads a main thread's stack
                started += std::thread::Builder::new()
                    .stack_size(FILE_THREAD_STACK)
                    .spawn_scoped(scope, move || work(tx))
                    .is_ok() as usize;
            }
            if started == 0 {
                work(tx.clone()); // no threads to be had: run the files here
            }
            drop(tx);
            // print in file order: hold reports that finish early until their turn comes
            let mut pending = std::collections::BTreeMap::new();
            let mut turn = 0;
            for (i, report) in rx {
                pending.insert(i, report);
                while let Some(report) = pending.remove(&turn) {
                    record(&report, &mut summary);
                    turn += 1;
                }
            }
        });
    }
    let _ = writeln!(out, "{summary}");
    let _ = out.flush();
    summary
}
