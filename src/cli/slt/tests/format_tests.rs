//! Tests of Arrow value extraction and row formatting.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Date64Array, Decimal128Array, DictionaryArray,
    Float32Array, Float64Array, Int8Array, Int32Array, Int64Array, LargeStringArray, ListArray,
    NullArray, StringArray, StringViewArray, Time32SecondArray, Time64MicrosecondArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt64Array,
};
use arrow::datatypes::{Int32Type, Int64Type};

use super::super::Style;
use super::super::format::{column_values, format_rows};
use super::super::values::{Val, duckdb_text};
use super::result;

/// DuckDB texts of every value of an array.
fn duck(array: ArrayRef) -> Vec<String> {
    match column_values(array.as_ref()) {
        Ok(values) => values.iter().map(duckdb_text).collect(),
        Err(e) => vec![format!("error: {e}")],
    }
}

#[test]
fn integers_and_booleans() {
    assert_eq!(
        duck(Arc::new(Int8Array::from(vec![Some(-8), None]))),
        ["-8", "NULL"]
    );
    assert_eq!(
        duck(Arc::new(UInt64Array::from(vec![u64::MAX]))),
        [u64::MAX.to_string()]
    );
    assert_eq!(
        duck(Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None
        ]))),
        ["true", "false", "NULL"]
    );
}

#[test]
fn floats() {
    assert_eq!(
        duck(Arc::new(Float64Array::from(vec![
            Some(2.0),
            Some(0.5),
            None,
            Some(f64::NAN)
        ]))),
        ["2.0", "0.5", "NULL", "nan"]
    );
    assert_eq!(
        duck(Arc::new(Float32Array::from(vec![0.1f32, 3.0]))),
        ["0.1", "3.0"]
    );
}

#[test]
fn decimals_keep_their_scale() {
    let array = Decimal128Array::from(vec![Some(1250), Some(-5), None, Some(2973300)])
        .with_precision_and_scale(10, 2)
        .expect("valid decimal type");
    assert_eq!(
        duck(Arc::new(array)),
        ["12.50", "-0.05", "NULL", "29733.00"]
    );
    let array = Decimal128Array::from(vec![21000])
        .with_precision_and_scale(5, 3)
        .expect("valid decimal type");
    assert_eq!(duck(Arc::new(array)), ["21.000"]);
}

#[test]
fn strings() {
    assert_eq!(
        duck(Arc::new(StringArray::from(vec![
            Some("a b"),
            Some(""),
            None
        ]))),
        ["a b", "(empty)", "NULL"]
    );
    assert_eq!(duck(Arc::new(LargeStringArray::from(vec!["x"]))), ["x"]);
    assert_eq!(
        duck(Arc::new(StringViewArray::from(vec![
            "a long string value, longer than twelve"
        ]))),
        ["a long string value, longer than twelve"]
    );
    let dict: DictionaryArray<Int32Type> = vec!["p", "q", "p"].into_iter().collect();
    assert_eq!(duck(Arc::new(dict)), ["p", "q", "p"]);
}

#[test]
fn dates_times_and_timestamps() {
    // 1992-01-01 is day 8035 after the epoch.
    assert_eq!(
        duck(Arc::new(Date32Array::from(vec![Some(8035), None]))),
        ["1992-01-01", "NULL"]
    );
    assert_eq!(
        duck(Arc::new(Date64Array::from(vec![8035 * 86_400_000]))),
        ["1992-01-01"]
    );
    // 2020-02-17 23:59:59.998 UTC.
    let millis = 1_581_983_999_998i64;
    assert_eq!(
        duck(Arc::new(TimestampMillisecondArray::from(vec![
            millis,
            1_581_984_000_000
        ]))),
        ["2020-02-17 23:59:59.998", "2020-02-18 00:00:00"]
    );
    assert_eq!(
        duck(Arc::new(TimestampMicrosecondArray::from(vec![
            millis * 1000 + 500
        ]))),
        ["2020-02-17 23:59:59.9985"]
    );
    assert_eq!(
        duck(Arc::new(TimestampNanosecondArray::from(vec![-1]))),
        ["1969-12-31 23:59:59.999999999"]
    );
    assert_eq!(
        duck(Arc::new(
            TimestampSecondArray::from(vec![0]).with_timezone("UTC")
        )),
        ["1970-01-01 00:00:00+00"]
    );
    assert_eq!(
        duck(Arc::new(Time32SecondArray::from(vec![3661]))),
        ["01:01:01"]
    );
    assert_eq!(
        duck(Arc::new(Time64MicrosecondArray::from(vec![
            Some(45_296_500_000),
            None
        ]))),
        ["12:34:56.5", "NULL"]
    );
}

#[test]
fn null_and_nested_types() {
    assert_eq!(duck(Arc::new(NullArray::new(2))), ["NULL", "NULL"]);
    let list =
        ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1), Some(2)]), None]);
    assert_eq!(duck(Arc::new(list)), ["[1, 2]", "NULL"]);
}

#[test]
fn rows_in_both_styles() {
    let response = result(vec![
        (
            "i",
            Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
        ),
        (
            "r",
            Arc::new(Float64Array::from(vec![Some(2.5), Some(1.0)])) as ArrayRef,
        ),
        (
            "t",
            Arc::new(StringArray::from(vec![Some(""), Some("x")])) as ArrayRef,
        ),
        (
            "b",
            Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef,
        ),
    ]);
    let Ok(Some((_, batches))) = response else {
        panic!("mock result");
    };
    let sqlite = format_rows(&batches, &['I', 'R', 'T', 'I'], Style::Sqlite).expect("formats");
    assert_eq!(
        sqlite,
        [["1", "2.500", "(empty)", "1"], ["NULL", "1.000", "x", "0"]]
    );
    let duckdb = format_rows(&batches, &['I', 'R', 'T', 'I'], Style::DuckDb).expect("formats");
    assert_eq!(
        duckdb,
        [
            ["1", "2.5", "(empty)", "true"],
            ["NULL", "1.0", "x", "false"]
        ]
    );
    // Floats under I truncate; the letter decides in SQLite style only.
    let sqlite = format_rows(&batches, &['T', 'I', 'I', 'T'], Style::Sqlite).expect("formats");
    assert_eq!(
        sqlite,
        [["1", "2", "0", "true"], ["NULL", "1", "0", "false"]]
    );
}

#[test]
fn rows_from_several_batches_and_bad_column_count() {
    let one = result(vec![(
        "x",
        Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef,
    )]);
    let two = result(vec![("x", Arc::new(Int32Array::from(vec![3])) as ArrayRef)]);
    let (Ok(Some((_, mut batches))), Ok(Some((_, more)))) = (one, two) else {
        panic!("mock results");
    };
    batches.extend(more);
    let rows = format_rows(&batches, &['I'], Style::DuckDb).expect("formats");
    assert_eq!(rows, [["1"], ["2"], ["3"]]);
    assert!(format_rows(&batches, &['I', 'I'], Style::DuckDb).is_err());
    assert!(
        format_rows(&[], &['I'], Style::DuckDb)
            .expect("no batches")
            .is_empty()
    );
}

#[test]
fn values_keep_nulls_of_sliced_arrays() {
    let array = Int64Array::from(vec![Some(1), None, Some(3)]).slice(1, 2);
    assert_eq!(
        column_values(&array).expect("extracts"),
        [Val::Null, Val::Int(3)]
    );
}
