//! The execution loop: runs the records of one file against an [`SltDb`] and fills a
//! [`FileReport`].

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super::compare::check_result;
use super::format::format_rows;
use super::report::{Failure, FileReport};
use super::script::{ErrorSpec, Item, ParseFailure, Script, Sort, parse_script};
use super::{SltDb, SltOptions, SltOutput, Style};

/// How deeply `include` may nest (guards against include cycles).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Runs one test file against `db` (which should be fresh) and reports per-record results.
/// Never panics on bad input: unreadable or unparsable files are reported as one failure,
/// and panics inside [`SltDb::run`] are reported as failures of their record.
pub fn run_file(path: &Path, db: &mut dyn SltDb, opts: &SltOptions) -> FileReport {
    let mut report = FileReport::new(path.to_path_buf());
    let script = match load(path, opts.style) {
        Ok(script) => script,
        Err(error) => {
            report.push_failure(file_failure(path, error), opts.max_failures_printed.max(1));
            return report;
        }
    };
    report.style = Some(script.style);
    let mut run = Run {
        db,
        opts,
        style: script.style,
        threshold: opts
            .hash_threshold
            .unwrap_or(script.style.default_hash_threshold()),
        default_sort: Sort::None,
        halted: false,
        stopped: false,
        report,
    };
    run.items(path, &script.items, 0);
    run.report
}

/// Reads and parses a file.
fn load(path: &Path, style: Option<Style>) -> Result<Script, ParseFailure> {
    let bytes = std::fs::read(path).map_err(|e| ParseFailure {
        line: 0,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    parse_script(&text, &path.display().to_string(), style)
}

/// A file-level failure (unreadable or unparsable file).
fn file_failure(path: &Path, error: ParseFailure) -> Failure {
    Failure {
        file: path.to_path_buf(),
        line: error.line,
        message: error.message,
        sql: String::new(),
        expected: String::new(),
        actual: String::new(),
    }
}

/// Runs `sql`, turning a panic of the engine into an error.
fn execute(db: &mut dyn SltDb, sql: &str) -> Result<SltOutput, String> {
    match catch_unwind(AssertUnwindSafe(|| db.run(sql))) {
        Ok(result) => result,
        Err(payload) => Err(format!("panic: {}", panic_text(payload.as_ref()))),
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// State of running one top-level file (shared with the files it includes).
struct Run<'a> {
    db: &'a mut dyn SltDb,
    opts: &'a SltOptions,
    style: Style,
    threshold: u64,
    default_sort: Sort,
    halted: bool,
    stopped: bool,
    report: FileReport,
}

/// What a failing record reports, before the file is known.
struct Outcome {
    message: String,
    expected: String,
    actual: String,
}

impl Outcome {
    fn new(
        message: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Outcome {
            message: message.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl Run<'_> {
    fn items(&mut self, file: &Path, items: &[Item], depth: usize) {
        let mut conditions: Vec<(bool, &str)> = Vec::new();
        for item in items {
            match item {
                Item::Condition { skip_if, label } => conditions.push((*skip_if, label)),
                Item::HashThreshold(n) => {
                    if self.opts.hash_threshold.is_none() {
                        self.threshold = *n;
                    }
                }
                Item::DefaultSort(sort) => self.default_sort = *sort,
                Item::Halt => {
                    if !self.excluded(&conditions) {
                        self.halted = true;
                    }
                    conditions.clear();
                }
                Item::Include { line, filename } => {
                    conditions.clear();
                    self.include(file, *line, filename, depth);
                }
                counted => {
                    let excluded = self.excluded(&conditions);
                    conditions.clear();
                    if excluded || self.halted || self.stopped {
                        self.report.skipped += 1;
                        continue;
                    }
                    self.record(file, counted);
                    if self.opts.fail_fast && self.report.failed > 0 {
                        self.stopped = true;
                    }
                }
            }
        }
    }

    /// Whether skipif/onlyif conditions exclude this engine.
    fn excluded(&self, conditions: &[(bool, &str)]) -> bool {
        let engine = self.db.engine_name();
        conditions.iter().any(|(skip_if, label)| {
            let same = label.eq_ignore_ascii_case(engine);
            if *skip_if { same } else { !same }
        })
    }

    fn include(&mut self, file: &Path, line: usize, filename: &str, depth: usize) {
        let fail = |message: String| Failure {
            file: file.to_path_buf(),
            line,
            message,
            sql: format!("include {filename}"),
            expected: String::new(),
            actual: String::new(),
        };
        let limit = self.opts.max_failures_printed;
        if filename.contains(['*', '?', '[']) {
            let failure = fail("include with a glob pattern is not supported".to_string());
            self.report.push_failure(failure, limit);
            return;
        }
        if depth >= MAX_INCLUDE_DEPTH {
            self.report
                .push_failure(fail("include nested too deeply".to_string()), limit);
            return;
        }
        let target: PathBuf = file
            .parent()
            .map(|dir| dir.join(filename))
            .unwrap_or_else(|| PathBuf::from(filename));
        match load(&target, Some(self.style)) {
            Ok(script) => self.items(&target, &script.items, depth + 1),
            Err(error) => self
                .report
                .push_failure(file_failure(&target, error), limit),
        }
    }

    /// Runs one counted record and records its outcome.
    fn record(&mut self, file: &Path, item: &Item) {
        let (line, sql, outcome) = match item {
            Item::Statement { line, sql, error } => {
                (*line, sql.as_str(), self.statement(sql, error.as_ref()))
            }
            Item::Query {
                line,
                sql,
                types,
                sort,
                expected,
                error,
            } => {
                let outcome = match error {
                    Some(spec) => self.statement(sql, Some(spec)),
                    None => self.query(sql, types, sort.unwrap_or(self.default_sort), expected),
                };
                (*line, sql.as_str(), outcome)
            }
            Item::Unsupported { line, what } => (
                *line,
                what.as_str(),
                Some(Outcome::new("unsupported record", "", "")),
            ),
            _ => return,
        };
        match outcome {
            None => {
                self.report.passed += 1;
                if self.opts.verbose {
                    let first = sql.lines().next().unwrap_or("").to_string();
                    self.report.passes.push((line, first));
                }
            }
            Some(outcome) => {
                let failure = Failure {
                    file: file.to_path_buf(),
                    line,
                    message: outcome.message,
                    sql: sql.to_string(),
                    expected: outcome.expected,
                    actual: outcome.actual,
                };
                self.report
                    .push_failure(failure, self.opts.max_failures_printed);
            }
        }
    }

    /// A statement (or `query error`): `None` when it passed.
    fn statement(&mut self, sql: &str, error: Option<&ErrorSpec>) -> Option<Outcome> {
        let result = execute(&mut *self.db, sql);
        match (error, result) {
            (None, Ok(_)) => None,
            (None, Err(e)) => Some(Outcome::new(
                format!("statement failed: {}", first_line(&e)),
                "ok",
                format!("error: {e}"),
            )),
            (Some(spec), Ok(_)) => Some(Outcome::new(
                "expected an error, but it succeeded",
                spec.describe(),
                "ok",
            )),
            (Some(spec), Err(e)) => {
                if !self.opts.check_error_messages || spec.matches(&e) {
                    None
                } else {
                    Some(Outcome::new(
                        "error message mismatch",
                        spec.describe(),
                        format!("error: {e}"),
                    ))
                }
            }
        }
    }

    /// A query with expected results: `None` when it passed.
    fn query(
        &mut self,
        sql: &str,
        types: &[char],
        sort: Sort,
        expected: &[String],
    ) -> Option<Outcome> {
        let expected_text = expected.join("\n");
        let (schema, batches) = match execute(&mut *self.db, sql) {
            Err(e) => {
                return Some(Outcome::new(
                    format!("query failed: {}", first_line(&e)),
                    expected_text,
                    format!("error: {e}"),
                ));
            }
            Ok(None) => {
                return Some(Outcome::new(
                    "query returned no result set",
                    expected_text,
                    "(no result set)",
                ));
            }
            Ok(Some(output)) => output,
        };
        let ncols = schema.fields().len();
        if types.len() != ncols {
            return Some(Outcome::new(
                format!("expected {} columns, got {ncols}", types.len()),
                expected_text,
                format!("columns: {}", column_names(&schema)),
            ));
        }
        let rows = match format_rows(&batches, types, self.style) {
            Ok(rows) => rows,
            Err(e) => {
                return Some(Outcome::new(
                    format!("cannot format result: {e}"),
                    expected_text,
                    "",
                ));
            }
        };
        match check_result(expected, rows, ncols, sort, self.style, self.threshold) {
            Ok(()) => None,
            Err(mismatch) => Some(Outcome::new(
                mismatch.message,
                expected_text,
                mismatch.actual,
            )),
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn column_names(schema: &arrow::datatypes::Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}
