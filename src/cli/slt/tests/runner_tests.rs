//! Tests of the execution loop, counting, reporting, and runs over the real corpora.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};

use super::super::{SltDb, SltOptions, Style, collect_files, run_file, run_paths};
use super::{MockDb, ints, result, temp_file, texts};

fn opts() -> SltOptions {
    SltOptions::default()
}

#[test]
fn statements() {
    let path = temp_file(
        "s.slt",
        "statement ok\nCREATE TABLE t(x INT)\n\nstatement ok\nBAD\n\nstatement error\nBAD\n\nstatement error no such table\nMISSING\n\nstatement error other text\nMISSING\n\nstatement error\nCREATE TABLE t(x INT)\n",
    );
    let mut db = MockDb::accepting()
        .with("BAD", Err("syntax error".into()))
        .with("MISSING", Err("Error: no such table: u".into()));
    let report = run_file(&path, &mut db, &opts());
    assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 0));
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, [4, 13, 16]);
    assert_eq!(report.failures[0].message, "statement failed: syntax error");
    assert_eq!(report.failures[0].sql, "BAD");
    assert_eq!(report.failures[1].message, "error message mismatch");
    assert_eq!(
        report.failures[2].message,
        "expected an error, but it succeeded"
    );
    let lenient = SltOptions {
        check_error_messages: false,
        ..opts()
    };
    let report = run_file(
        &path,
        &mut MockDb::accepting()
            .with("BAD", Err("e".into()))
            .with("MISSING", Err("x".into())),
        &lenient,
    );
    assert_eq!((report.passed, report.failed), (4, 2));
}

#[test]
fn queries_sqlite_style() {
    let path = temp_file(
        "q.test",
        "query I nosort\nSELECT 1\n----\n1\n\nquery T\nSELECT 'x'\n----\n(empty)\n\nquery II\nSELECT 1\n----\n1\n\nquery I\nCREATE TABLE t(x INT)\n----\n\nquery R rowsort\nSELECT r\n----\n0.500\n2.000\n\nquery I\nSELECT err\n----\n1\n",
    );
    let mut db = MockDb::accepting()
        .with("SELECT 1", ints(&[Some(1)]))
        .with("SELECT 'x'", texts(&[Some("")]))
        .with(
            "SELECT r",
            result(vec![(
                "r",
                Arc::new(Float64Array::from(vec![2.0, 0.5])) as ArrayRef,
            )]),
        )
        .with("SELECT err", Err("boom".into()));
    let report = run_file(&path, &mut db, &opts());
    assert_eq!(report.style, Some(Style::Sqlite));
    assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 0));
    let messages: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "expected 2 columns, got 1",
            "query returned no result set",
            "query failed: boom"
        ]
    );
    assert_eq!(report.failures[0].line, 11);
    assert_eq!(report.failures[2].actual, "error: boom");
}

#[test]
fn queries_duckdb_style() {
    let path = temp_file(
        "d.test",
        "# name: test/d.test\n\nquery IRT\nSELECT *\n----\n1\t12.000000\ta b\nNULL\t0.5\t(empty)\n\nquery I\nSELECT *\n----\n1\n",
    );
    let mut db = MockDb::accepting().with(
        "SELECT *",
        result(vec![
            (
                "i",
                Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                "r",
                Arc::new(Float64Array::from(vec![12.0, 0.5])) as ArrayRef,
            ),
            (
                "t",
                Arc::new(StringArray::from(vec!["a b", ""])) as ArrayRef,
            ),
        ]),
    );
    let report = run_file(&path, &mut db, &opts());
    assert_eq!(report.style, Some(Style::DuckDb));
    assert_eq!((report.passed, report.failed), (1, 1));
    assert_eq!(report.failures[0].message, "expected 1 columns, got 3");
}

#[test]
fn conditions_and_halt() {
    let path = temp_file(
        "c.test",
        "onlyif sqlite\nstatement ok\nA\n\nskipif flint\nstatement ok\nB\n\nonlyif flint\nstatement ok\nC\n\nskipif mysql # comment\nstatement ok\nD\n\nonlyif mssql\nhalt\n\nstatement ok\nE\n\nhalt\n\nstatement ok\nF\n\nquery I\nG\n----\n1\n",
    );
    let mut db = MockDb::accepting();
    let report = run_file(&path, &mut db, &opts());
    assert_eq!((report.passed, report.failed, report.skipped), (3, 0, 4));
    assert_eq!(db.log, ["C", "D", "E"]);
    // Another engine name sees other records.
    let mut db = MockDb::accepting();
    db.name = "sqlite".into();
    let report = run_file(&path, &mut db, &opts());
    assert_eq!(db.log, ["A", "B", "D", "E"]);
    assert_eq!(report.skipped, 3);
}

#[test]
fn hash_thresholds() {
    let values: Vec<Option<i64>> = (1..=9).map(Some).collect();
    let hash = "9 values hashing to 0c4b8d8ec2e0e0c2a3bbdc7cb1e4e9d4";
    let text = format!(
        "query I\nSELECT n\n----\n{hash}\n\nhash-threshold 0\n\nquery I\nSELECT n\n----\n1\n"
    );
    let path = temp_file("h.test", &text);
    let mut db = MockDb::accepting().with("SELECT n", ints(&values));
    let report = run_file(&path, &mut db, &opts());
    // The first record fails on the hash (a made-up one), showing the actual hash;
    // the second lists values, which is compared value by value.
    assert_eq!(report.failed, 2);
    assert!(
        report.failures[0].message.starts_with("hash mismatch"),
        "{}",
        report.failures[0].message
    );
    assert!(
        report.failures[0]
            .actual
            .starts_with("9 values hashing to ")
    );
    assert!(report.failures[1].message.starts_with("expected 1 values"));
    assert!(!report.failures[1].actual.contains("hashing"));
}

#[test]
fn select1_first_query_hash_reproduced() {
    let sql =
        "SELECT CASE WHEN c>(SELECT avg(c) FROM t1) THEN a*2 ELSE b*10 END\n  FROM t1\n ORDER BY 1";
    let values: Vec<Option<i64>> = [
        358, 364, 376, 382, 398, 402, 410, 426, 432, 440, 458, 468, 478, 486, 490, 1000, 1050,
        1120, 1180, 1240, 1290, 1300, 1390, 1430, 1450, 1510, 1580, 1600, 1670, 1700,
    ]
    .into_iter()
    .map(Some)
    .collect();
    let mut db = MockDb::failing().with(sql, ints(&values));
    let path = Path::new("/work/shared/slt/sqlite/select1.test");
    if !path.exists() {
        return;
    }
    let unlimited = SltOptions {
        max_failures_printed: usize::MAX,
        ..opts()
    };
    let report = run_file(path, &mut db, &unlimited);
    // The query appears twice (lines 94 and 1857); both expect the same hash.
    assert_eq!(report.passed, 2);
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.line != 94 && f.line != 1857)
    );
}

#[test]
fn bad_files_are_one_failure() {
    let path = temp_file("p.test", "statement ok\nSELECT 1\n\nnonsense here\n");
    let report = run_file(&path, &mut MockDb::accepting(), &opts());
    assert_eq!((report.passed, report.failed, report.skipped), (0, 1, 0));
    assert_eq!(report.failures[0].line, 4);
    assert!(report.failures[0].message.contains("parse error"));
    let missing = PathBuf::from("/nonexistent/dir/x.test");
    let report = run_file(&missing, &mut MockDb::accepting(), &opts());
    assert_eq!(report.failed, 1);
    assert!(report.failures[0].message.starts_with("cannot read"));
    let binary = temp_file("b.test", "statement ok\nSELECT '\u{0}\u{ff}'\n");
    let report = run_file(&binary, &mut MockDb::accepting(), &opts());
    assert_eq!(report.passed, 1);
}

#[test]
fn includes() {
    let inner = temp_file("inner.slt", "statement ok\nINNER\n\nstatement ok\nBAD\n");
    let dir = inner.parent().map(Path::to_path_buf).unwrap_or_default();
    let outer = dir.join("outer.slt");
    std::fs::write(
        &outer,
        "statement ok\nOUTER\n\ninclude inner.slt\n\ninclude missing.slt\n\ninclude *.slt\n",
    )
    .expect("write");
    let mut db = MockDb::accepting().with("BAD", Err("bad".into()));
    let report = run_file(&outer, &mut db, &opts());
    assert_eq!(db.log, ["OUTER", "INNER", "BAD"]);
    assert_eq!((report.passed, report.failed), (2, 3));
    assert_eq!(report.failures[0].file, inner);
    assert_eq!(report.failures[0].line, 4);
    assert!(report.failures[1].message.starts_with("cannot read"));
    assert!(report.failures[2].message.contains("glob"));
    // A file including itself stops at the nesting limit instead of overflowing the stack.
    let selfish = dir.join("self.slt");
    std::fs::write(&selfish, "statement ok\nX\n\ninclude self.slt\n").expect("write");
    let report = run_file(&selfish, &mut MockDb::accepting(), &opts());
    assert_eq!((report.passed, report.failed), (17, 1));
}

#[test]
fn panics_are_failures() {
    let path = temp_file("x.slt", "statement ok\nPANIC\n\nstatement ok\nSELECT 1\n");
    let report = run_file(&path, &mut MockDb::accepting(), &opts());
    assert_eq!((report.passed, report.failed), (1, 1));
    assert_eq!(
        report.failures[0].message,
        "statement failed: panic: mock panic"
    );
}

#[test]
fn fail_fast_and_bounded_failures() {
    let path = temp_file("f.slt", &"statement ok\nX\n\n".repeat(30));
    let fast = SltOptions {
        fail_fast: true,
        ..opts()
    };
    let report = run_file(&path, &mut MockDb::failing(), &fast);
    assert_eq!((report.passed, report.failed, report.skipped), (0, 1, 29));
    let report = run_file(&path, &mut MockDb::failing(), &opts());
    assert_eq!((report.failed, report.failures.len()), (30, 20));
    let mut out = Vec::new();
    report.write_to(&mut out, &opts()).expect("write");
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with(&format!(
        "{}: 0 passed, 30 failed, 0 skipped\n",
        path.display()
    )));
    assert!(out.contains("... and 10 more failures"), "{out}");
    assert!(out.contains(&format!(
        "  FAIL {}:1: statement failed: mock failure",
        path.display()
    )));
}

#[test]
fn run_paths_output() {
    let a = temp_file("a.slt", "statement ok\nOK\n\nquery I\nQ\n----\n2\n");
    let dir = a.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("sub/b.test"), "statement ok\nOK\n").expect("write");
    std::fs::write(dir.join("c.txt"), "not a test").expect("write");
    assert_eq!(
        collect_files(std::slice::from_ref(&dir)),
        [a.clone(), dir.join("sub/b.test")]
    );
    let make_db =
        || -> Box<dyn SltDb> { Box::new(MockDb::accepting().with("Q", ints(&[Some(1)]))) };
    let verbose = SltOptions {
        verbose: true,
        ..opts()
    };
    let mut out = Vec::new();
    let summary = run_paths(std::slice::from_ref(&dir), &make_db, &verbose, &mut out);
    assert_eq!(
        (
            summary.files,
            summary.passed,
            summary.failed,
            summary.skipped
        ),
        (2, 2, 1, 0)
    );
    assert_eq!(summary.failed_files, std::slice::from_ref(&a));
    let out = String::from_utf8_lossy(&out);
    assert!(out.ends_with("2 passed, 1 failed, 0 skipped\n"), "{out}");
    assert!(
        out.contains(&format!("  ok   {}:1: OK", a.display())),
        "{out}"
    );
    assert!(
        out.contains("mismatch at row 1, column 1: expected \"2\", got \"1\""),
        "{out}"
    );
    let fast = SltOptions {
        fail_fast: true,
        ..opts()
    };
    let summary = run_paths(std::slice::from_ref(&dir), &make_db, &fast, &mut Vec::new());
    assert_eq!(summary.files, 1);
    // one file at a time or several: the same report, in the same order
    for jobs in [1, 3] {
        let mut again = Vec::new();
        let opts = SltOptions {
            jobs,
            ..verbose.clone()
        };
        run_paths(std::slice::from_ref(&dir), &make_db, &opts, &mut again);
        assert_eq!(String::from_utf8_lossy(&again), out);
    }
}

/// Counts `statement`/`query` header lines the simple way.
fn count_records(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|line| line.starts_with("statement ") || line.starts_with("query "))
        .count()
}

#[test]
fn real_corpora_parse_and_count() {
    let root = Path::new("/work/shared/slt");
    if !root.exists() {
        return;
    }
    let files = collect_files(&[
        root.join("sqlite/select1.test"),
        root.join("sqlite/evidence"),
        root.join("duckdb"),
    ]);
    assert!(files.len() > 60);
    for file in files {
        let mut db = MockDb::failing();
        let report = run_file(&file, &mut db, &opts());
        assert!(
            report.style.is_some(),
            "{}: {:?}",
            file.display(),
            report.failures.first()
        );
        let total = report.passed + report.failed + report.skipped;
        assert_eq!(total, count_records(&file), "{}", file.display());
        let expected_style = if file.starts_with(root.join("duckdb")) {
            Style::DuckDb
        } else {
            Style::Sqlite
        };
        assert_eq!(report.style, Some(expected_style), "{}", file.display());
    }
}

#[test]
fn select1_with_failing_db() {
    let path = Path::new("/work/shared/slt/sqlite/select1.test");
    if !path.exists() {
        return;
    }
    let report = run_file(path, &mut MockDb::failing(), &opts());
    // 1031 `statement`/`query` records, none skipped, none expecting an error.
    assert_eq!((report.passed, report.failed, report.skipped), (0, 1031, 0));
    assert_eq!(report.failures.len(), 20);
    assert_eq!(report.failures[0].line, 1);
}
