//! Tests of preprocessing, style detection and parsing.

use super::super::Style;
use super::super::script::{ErrorSpec, Item, Sort, detect_style, parse_script, prepare};

const DUCKDB_ERRORS: &str = "# name: test/sql/x.test
# group: [x]

statement error
SELECT SUM(b)::BIGINT FROM bigints
----
Conversion Error: Type INT128 with value 4611686018427388403500

#
# Order by
#
statement ok
CREATE TABLE doubles(n DOUBLE);

statement error
SELECT 1
----

statement error
SELECT 2
----
first line
second line


query I
SELECT 3
----
3
";

#[test]
fn duckdb_error_messages_do_not_swallow_records() {
    let prepared = prepare(DUCKDB_ERRORS);
    assert_eq!(prepared.text.lines().count(), DUCKDB_ERRORS.lines().count());
    assert!(prepared.duckdb_header);
    let script = parse_script(DUCKDB_ERRORS, "x.test", None).expect("parses");
    assert_eq!(script.style, Style::DuckDb);
    let records: Vec<&Item> = script
        .items
        .iter()
        .filter(|i| matches!(i, Item::Statement { .. } | Item::Query { .. }))
        .collect();
    assert_eq!(records.len(), 5);
    match records[0] {
        Item::Statement {
            line: 4,
            sql,
            error: Some(ErrorSpec::Contains(message)),
        } => {
            assert_eq!(sql, "SELECT SUM(b)::BIGINT FROM bigints");
            assert_eq!(
                message,
                "Conversion Error: Type INT128 with value 4611686018427388403500"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        records[1],
        Item::Statement {
            line: 12,
            error: None,
            ..
        }
    ));
    assert!(matches!(
        records[2],
        Item::Statement {
            line: 15,
            error: Some(ErrorSpec::Any),
            ..
        }
    ));
    match records[3] {
        Item::Statement {
            error: Some(spec), ..
        } => {
            assert!(spec.matches("Error: first line\nsecond line and more"));
            assert!(!spec.matches("first line"));
        }
        other => panic!("unexpected {other:?}"),
    }
    match records[4] {
        Item::Query {
            line: 26,
            types,
            expected,
            sort: None,
            error: None,
            ..
        } => {
            assert_eq!(types, &['I']);
            assert_eq!(expected, &["3"]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn condition_comments_are_stripped() {
    let text = "skipif mysql # not compatible\nonlyif mssql  # this is allowed\nstatement ok\nSELECT 1\n\nonlyif oracle # x\nhalt\n\nhash-threshold 8 # comment\n";
    let script = parse_script(text, "c.test", None).expect("parses");
    assert_eq!(script.style, Style::Sqlite);
    assert!(
        matches!(&script.items[0], Item::Condition { skip_if: true, label } if label == "mysql")
    );
    assert!(
        matches!(&script.items[1], Item::Condition { skip_if: false, label } if label == "mssql")
    );
    assert!(matches!(&script.items[2], Item::Statement { line: 3, .. }));
    assert!(
        matches!(&script.items[3], Item::Condition { skip_if: false, label } if label == "oracle")
    );
    assert!(matches!(&script.items[4], Item::Halt));
    assert!(matches!(&script.items[5], Item::HashThreshold(8)));
}

#[test]
fn query_headers() {
    let text = "query IT rowsort label-1\nSELECT 1, 'a'\n----\n1\na\n\nquery R valuesort\nSELECT 1.0\n----\n1.000\n\nquery I nosort\nSELECT 1\n\ncontrol sortmode rowsort\n\nquery error division\nSELECT 1/0\n";
    let script = parse_script(text, "q.test", None).expect("parses");
    assert!(
        matches!(&script.items[0], Item::Query { sort: Some(Sort::Rows), types, .. } if types == &['I', 'T'])
    );
    assert!(matches!(
        &script.items[1],
        Item::Query {
            sort: Some(Sort::Values),
            ..
        }
    ));
    assert!(
        matches!(&script.items[2], Item::Query { sort: Some(Sort::None), expected, .. } if expected.is_empty())
    );
    assert!(matches!(&script.items[3], Item::DefaultSort(Sort::Rows)));
    match &script.items[4] {
        Item::Query {
            error: Some(spec), ..
        } => {
            assert!(spec.matches("Arrow error: division by zero"));
            assert!(!spec.matches("overflow"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn style_detection() {
    let tabs = prepare("query II\nSELECT 1, 2\n----\n1\t2\n");
    assert!(tabs.tab_results);
    assert_eq!(detect_style(&tabs), Style::DuckDb);
    // A TAB inside SQL does not count.
    let sql_tab = prepare("query I\nSELECT\t1\n----\n1\n");
    assert_eq!(detect_style(&sql_tab), Style::Sqlite);
    let header = prepare("# group: [x]\nstatement ok\nSELECT 1\n");
    assert_eq!(detect_style(&header), Style::DuckDb);
    let forced = parse_script(
        "query I\nSELECT 1\n----\n1\n",
        "f.test",
        Some(Style::DuckDb),
    );
    assert_eq!(forced.expect("parses").style, Style::DuckDb);
}

#[test]
fn parse_errors_carry_a_line() {
    let err = parse_script(
        "statement ok\nSELECT 1\n\nbogus directive\n",
        "bad.test",
        None,
    )
    .expect_err("invalid line");
    assert_eq!(err.line, 4);
    assert!(err.message.contains("bad.test:4"), "{}", err.message);
    let err = parse_script(
        "statement ok\nCREATE TABLE t(x INT)\n----\n1\n",
        "bad.test",
        None,
    )
    .expect_err("statement with results");
    assert!(
        err.message.contains("statement should have no result"),
        "{}",
        err.message
    );
}

#[test]
fn unsupported_records() {
    let script = parse_script("system ok\necho hi\n", "s.test", None).expect("parses");
    assert!(matches!(
        &script.items[0],
        Item::Unsupported { line: 1, .. }
    ));
}
