//! Results of running test files, and how they are printed.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

use super::{SltOptions, Style};

/// Lines of SQL, expected or actual text shown per failure before eliding the rest.
const MAX_BLOCK_LINES: usize = 40;

/// One failing record (or a file that could not be read or parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// File the record is in (differs from the report's path for records of included files).
    pub file: PathBuf,
    /// 1-based line of the record header (0 when unknown).
    pub line: usize,
    /// One-line reason, e.g. `expected 2 columns, got 3`.
    pub message: String,
    /// The SQL of the record (empty for file-level failures).
    pub sql: String,
    /// What the record expects (`ok`, an error, or the expected result lines).
    pub expected: String,
    /// What happened (`ok`, `error: ...`, or the actual result lines).
    pub actual: String,
}

/// The outcome of one test file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// The style its results were read in (`None` when the file could not be parsed).
    pub style: Option<Style>,
    /// Records that ran and passed.
    pub passed: usize,
    /// Records that ran and failed (or 1 for a file that could not be read or parsed).
    pub failed: usize,
    /// Records not run (skipif/onlyif, after `halt`, or after a failure with `fail_fast`).
    pub skipped: usize,
    /// Details of failures, at most [`SltOptions::max_failures_printed`] of them.
    pub failures: Vec<Failure>,
    /// `(line, first SQL line)` of passing records; filled only with [`SltOptions::verbose`].
    pub passes: Vec<(usize, String)>,
}

impl FileReport {
    /// An empty report for `path`.
    pub fn new(path: PathBuf) -> Self {
        FileReport {
            path,
            style: None,
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: Vec::new(),
            passes: Vec::new(),
        }
    }

    /// True when no record failed.
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }

    /// Records a failure, keeping at most `limit` details.
    pub(crate) fn push_failure(&mut self, failure: Failure, limit: usize) {
        self.failed += 1;
        if self.failures.len() < limit {
            self.failures.push(failure);
        }
    }

    /// Prints `path: P passed, F failed, S skipped`, then passing records (verbose) and the
    /// kept failure details.
    pub fn write_to(&self, out: &mut dyn Write, opts: &SltOptions) -> io::Result<()> {
        writeln!(
            out,
            "{}: {} passed, {} failed, {} skipped",
            self.path.display(),
            self.passed,
            self.failed,
            self.skipped
        )?;
        if opts.verbose {
            for (line, sql) in &self.passes {
                writeln!(out, "  ok   {}:{line}: {sql}", self.path.display())?;
            }
        }
        for failure in &self.failures {
            write_failure(out, failure)?;
        }
        if self.failed > self.failures.len() {
            writeln!(
                out,
                "  ... and {} more failures in {}",
                self.failed - self.failures.len(),
                self.path.display()
            )?;
        }
        Ok(())
    }
}

fn write_failure(out: &mut dyn Write, failure: &Failure) -> io::Result<()> {
    writeln!(
        out,
        "  FAIL {}:{}: {}",
        failure.file.display(),
        failure.line,
        failure.message
    )?;
    if !failure.sql.is_empty() {
        write_block(out, "sql", &failure.sql)?;
    }
    if !failure.expected.is_empty() || !failure.actual.is_empty() {
        write_block(out, "expected", &failure.expected)?;
        write_block(out, "actual", &failure.actual)?;
    }
    Ok(())
}

fn write_block(out: &mut dyn Write, title: &str, text: &str) -> io::Result<()> {
    writeln!(out, "    {title}:")?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        writeln!(out, "      (nothing)")?;
    }
    for line in lines.iter().take(MAX_BLOCK_LINES) {
        writeln!(out, "      {line}")?;
    }
    if lines.len() > MAX_BLOCK_LINES {
        writeln!(
            out,
            "      ... ({} more lines)",
            lines.len() - MAX_BLOCK_LINES
        )?;
    }
    Ok(())
}

/// Totals over many files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files run.
    pub files: usize,
    /// Files with at least one failure.
    pub failed_files: Vec<PathBuf>,
    /// Records passed.
    pub passed: usize,
    /// Records failed.
    pub failed: usize,
    /// Records skipped.
    pub skipped: usize,
}

impl Summary {
    /// Adds one file's counts.
    pub fn add(&mut self, report: &FileReport) {
        self.files += 1;
        self.passed += report.passed;
        self.failed += report.failed;
        self.skipped += report.skipped;
        if report.failed > 0 {
            self.failed_files.push(report.path.clone());
        }
    }

    /// True when no record failed.
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }
}

impl fmt::Display for Summary {
    /// Exactly `N passed, M failed, K skipped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}
