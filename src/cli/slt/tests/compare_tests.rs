//! Tests of sorting, hashing and result comparison.

use super::super::Style;
use super::super::compare::{
    check_result, hash_values, parse_hash_line, render_values, sorted_values, values_match,
};
use super::super::script::Sort;

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter().map(|r| strings(r)).collect()
}

/// The values of the first query of SQLite's select1.test, in its ORDER BY order.
const SELECT1_FIRST_QUERY: [&str; 30] = [
    "358", "364", "376", "382", "398", "402", "410", "426", "432", "440", "458", "468", "478",
    "486", "490", "1000", "1050", "1120", "1180", "1240", "1290", "1300", "1390", "1430", "1450",
    "1510", "1580", "1600", "1670", "1700",
];

#[test]
fn md5_of_values() {
    assert_eq!(hash_values(&[]), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        hash_values(&strings(&["a"])),
        "60b725f10c9c85c70d97880dfe8191b3"
    );
    // select1.test line 94: `30 values hashing to 3c13dee48d9356ae19af2515e05e6b54`.
    assert_eq!(
        hash_values(&strings(&SELECT1_FIRST_QUERY)),
        "3c13dee48d9356ae19af2515e05e6b54"
    );
}

#[test]
fn hash_lines() {
    assert_eq!(
        parse_hash_line("30 values hashing to 3C13DEE48D9356AE19AF2515E05E6B54"),
        Some((30, "3c13dee48d9356ae19af2515e05e6b54".to_string()))
    );
    assert_eq!(parse_hash_line("30 values hashing to xyz"), None);
    assert_eq!(parse_hash_line("30"), None);
}

#[test]
fn sort_modes() {
    let input = rows(&[&["b", "1"], &["a", "2"], &["a", "10"]]);
    assert_eq!(
        sorted_values(input.clone(), Sort::None),
        ["b", "1", "a", "2", "a", "10"]
    );
    // Rows compare value by value, each value byte-wise like strcmp ("10" < "2").
    assert_eq!(
        sorted_values(input.clone(), Sort::Rows),
        ["a", "10", "a", "2", "b", "1"]
    );
    assert_eq!(
        sorted_values(input, Sort::Values),
        ["1", "10", "2", "a", "a", "b"]
    );
}

#[test]
fn tolerant_matching() {
    assert!(values_match("abc", "abc"));
    assert!(values_match("12.000000", "12"));
    assert!(values_match("0.900000", "0.8999999999999999"));
    assert!(values_match("2.123456", "2.1234560000000045"));
    assert!(values_match(
        "-9223372036854776000.000",
        "-9223372036854775808.000"
    ));
    assert!(values_match("nan", "NaN"));
    assert!(!values_match("1.0", "1.1"));
    assert!(!values_match("0.001", "0.002"));
    // Plain integers compare exactly, however large.
    assert!(!values_match(
        "4611686018427388403500",
        "4611686018427388403501"
    ));
    assert!(!values_match("NULL", "0"));
    assert!(!values_match("(empty)", "0"));
    assert!(values_match("true", "1"));
    assert!(values_match("TRUE", "true"));
    assert!(values_match("False", "false"));
    assert!(!values_match("TRUE", "false"));
    assert!(!values_match("TRUE", "TRUE1"));
}

#[test]
fn hashed_expectation() {
    let expected = strings(&["30 values hashing to 3c13dee48d9356ae19af2515e05e6b54"]);
    let mut actual: Vec<Vec<String>> = SELECT1_FIRST_QUERY.iter().map(|v| strings(&[v])).collect();
    assert_eq!(
        check_result(&expected, actual.clone(), 1, Sort::None, Style::Sqlite, 8),
        Ok(())
    );
    // valuesort would reorder ("1000" < "358"), which changes the hash.
    let err = check_result(&expected, actual.clone(), 1, Sort::Values, Style::Sqlite, 8)
        .expect_err("different order");
    assert!(err.message.contains("hash mismatch"), "{}", err.message);
    actual.pop();
    let err =
        check_result(&expected, actual, 1, Sort::None, Style::Sqlite, 8).expect_err("fewer values");
    assert_eq!(err.message, "expected 30 values, got 29 (29 rows)");
    assert!(
        err.actual.starts_with("29 values hashing to "),
        "{}",
        err.actual
    );
}

#[test]
fn listed_expectation_sqlite() {
    let expected = strings(&["1", "x", "2", "y"]);
    let actual = rows(&[&["2", "y"], &["1", "x"]]);
    assert_eq!(
        check_result(&expected, actual.clone(), 2, Sort::Rows, Style::Sqlite, 8),
        Ok(())
    );
    let err =
        check_result(&expected, actual, 2, Sort::None, Style::Sqlite, 8).expect_err("wrong order");
    assert_eq!(
        err.message,
        "mismatch at row 1, column 1: expected \"1\", got \"2\""
    );
    assert_eq!(err.actual, "2\ny\n1\nx");
}

#[test]
fn listed_expectation_duckdb() {
    let expected = strings(&["1\t12.000000", "2\tNULL"]);
    let actual = rows(&[&["1", "12"], &["2", "NULL"]]);
    assert_eq!(
        check_result(&expected, actual, 2, Sort::None, Style::DuckDb, 0),
        Ok(())
    );
    // One value per line is accepted too.
    let expected = strings(&["1", "12.000000", "2", "NULL"]);
    let actual = rows(&[&["1", "12"], &["2", "NULL"]]);
    assert_eq!(
        check_result(&expected, actual.clone(), 2, Sort::None, Style::DuckDb, 0),
        Ok(())
    );
    // Expected rows in another order than the sorted actual rows are sorted too.
    let expected = strings(&["2\tNULL", "1\t12"]);
    assert_eq!(
        check_result(&expected, actual, 2, Sort::Rows, Style::DuckDb, 0),
        Ok(())
    );
}

#[test]
fn count_mismatch_messages() {
    let expected = strings(&["1\t2", "3\t4"]);
    let err = check_result(
        &expected,
        rows(&[&["1", "2"]]),
        2,
        Sort::None,
        Style::DuckDb,
        0,
    )
    .expect_err("row missing");
    assert_eq!(
        err.message,
        "expected 4 values (2 rows of 2), got 2 values (1 rows)"
    );
    assert_eq!(err.actual, "1\t2");
    let err = check_result(&[], rows(&[&["1", "2"]]), 2, Sort::None, Style::DuckDb, 0)
        .expect_err("unexpected row");
    assert!(
        err.message.starts_with("expected 0 values"),
        "{}",
        err.message
    );
    assert_eq!(
        check_result(&[], Vec::new(), 2, Sort::Rows, Style::DuckDb, 0),
        Ok(())
    );
    // Zero columns must not divide by zero.
    assert!(
        check_result(
            &strings(&["x"]),
            Vec::new(),
            0,
            Sort::Rows,
            Style::Sqlite,
            8
        )
        .is_err()
    );
}

#[test]
fn large_actual_results_are_hashed_and_bounded_in_reports() {
    let actual: Vec<Vec<String>> = (0..100).map(|i| vec![i.to_string()]).collect();
    let err = check_result(&strings(&["0"]), actual, 1, Sort::None, Style::Sqlite, 8)
        .expect_err("too many values");
    assert!(
        err.actual.starts_with("100 values hashing to "),
        "{}",
        err.actual
    );
    assert!(
        err.actual.ends_with("... (60 more values)"),
        "{}",
        err.actual
    );
    let values = strings(&["a", "b", "c"]);
    assert_eq!(render_values(&values, 2, Style::DuckDb), "a\tb\nc");
}
