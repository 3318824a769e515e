//! Tests of scalar value texts under both styles.

use super::super::values::{
    Val, duckdb_text, fixed3, g15, printable, shortest_float, sqlite_text, text_to_float,
    text_to_int,
};

fn f64v(value: f64) -> Val {
    Val::Float {
        value,
        single: false,
    }
}

fn text(s: &str) -> Val {
    Val::Text(s.to_string())
}

#[test]
fn sqlite_integer_column() {
    assert_eq!(sqlite_text(&Val::Int(-42), 'I'), "-42");
    assert_eq!(sqlite_text(&f64v(2.9), 'I'), "2");
    assert_eq!(sqlite_text(&f64v(-2.9), 'I'), "-2");
    assert_eq!(sqlite_text(&f64v(f64::NAN), 'I'), "0");
    assert_eq!(sqlite_text(&f64v(1e300), 'I'), i64::MAX.to_string());
    assert_eq!(sqlite_text(&Val::Decimal("-12.75".into()), 'I'), "-12");
    assert_eq!(sqlite_text(&Val::Decimal("-0.75".into()), 'I'), "0");
    assert_eq!(sqlite_text(&text("17"), 'I'), "17");
    assert_eq!(sqlite_text(&text("3.99"), 'I'), "3");
    assert_eq!(sqlite_text(&text(" 12abc"), 'I'), "12");
    assert_eq!(sqlite_text(&text("abc"), 'I'), "0");
    assert_eq!(sqlite_text(&text(""), 'I'), "0");
    assert_eq!(sqlite_text(&Val::Bool(true), 'I'), "1");
    assert_eq!(sqlite_text(&Val::Bool(false), 'I'), "0");
    assert_eq!(sqlite_text(&Val::Null, 'I'), "NULL");
}

#[test]
fn sqlite_real_column() {
    assert_eq!(sqlite_text(&f64v(1.25), 'R'), "1.250");
    assert_eq!(sqlite_text(&f64v(2.0 / 3.0), 'R'), "0.667");
    assert_eq!(sqlite_text(&f64v(0.0625), 'R'), "0.062"); // exact tie rounds to even, like printf
    assert_eq!(sqlite_text(&f64v(-0.0001), 'R'), "-0.000");
    assert_eq!(sqlite_text(&Val::Int(9), 'R'), "9.000");
    assert_eq!(sqlite_text(&Val::Decimal("12.50".into()), 'R'), "12.500");
    assert_eq!(sqlite_text(&text("2.5xyz"), 'R'), "2.500");
    assert_eq!(sqlite_text(&text("abc"), 'R'), "0.000");
    assert_eq!(sqlite_text(&Val::Bool(true), 'R'), "1.000");
    assert_eq!(sqlite_text(&Val::Null, 'R'), "NULL");
    assert_eq!(fixed3(f64::INFINITY), "inf");
    assert_eq!(fixed3(f64::NEG_INFINITY), "-inf");
    assert_eq!(fixed3(f64::NAN), "nan");
}

#[test]
fn sqlite_text_column() {
    assert_eq!(sqlite_text(&text("hello world"), 'T'), "hello world");
    assert_eq!(sqlite_text(&text(""), 'T'), "(empty)");
    assert_eq!(sqlite_text(&text("a\tb\nc"), 'T'), "a@b@c");
    assert_eq!(sqlite_text(&text("é"), 'T'), "@@"); // byte-wise, like the C driver
    assert_eq!(sqlite_text(&Val::Int(7), 'T'), "7");
    assert_eq!(sqlite_text(&f64v(2.0), 'T'), "2.0");
    assert_eq!(sqlite_text(&f64v(0.1), 'T'), "0.1");
    assert_eq!(sqlite_text(&Val::Bool(true), 'T'), "true");
    assert_eq!(sqlite_text(&Val::Bool(false), 'T'), "false");
    assert_eq!(sqlite_text(&Val::Decimal("1.50".into()), 'T'), "1.50");
    assert_eq!(sqlite_text(&Val::Null, 'T'), "NULL");
    // Other letters are formatted like T.
    assert_eq!(sqlite_text(&text(""), 'D'), "(empty)");
}

#[test]
fn sqlite_g15() {
    assert_eq!(g15(2.0), "2.0");
    assert_eq!(g15(-2.5), "-2.5");
    assert_eq!(g15(0.1 + 0.2), "0.3");
    assert_eq!(g15(1e20), "1.0e+20");
    assert_eq!(g15(1.5e-7), "1.5e-07");
    assert_eq!(g15(123456789012345.0), "123456789012345.0");
    assert_eq!(g15(1234567890123456.0), "1.23456789012346e+15");
    assert_eq!(g15(0.0001), "0.0001");
    assert_eq!(g15(0.0), "0.0");
    assert_eq!(g15(f64::INFINITY), "Inf");
}

#[test]
fn duckdb_values() {
    assert_eq!(duckdb_text(&Val::Int(-5)), "-5");
    assert_eq!(
        duckdb_text(&Val::Int(4611686018427388403500)),
        "4611686018427388403500"
    );
    assert_eq!(duckdb_text(&Val::Bool(true)), "true");
    assert_eq!(duckdb_text(&Val::Bool(false)), "false");
    assert_eq!(duckdb_text(&Val::Null), "NULL");
    assert_eq!(duckdb_text(&text("")), "(empty)");
    assert_eq!(duckdb_text(&text("a b")), "a b");
    assert_eq!(duckdb_text(&Val::Decimal("29733.00".into())), "29733.00");
    assert_eq!(duckdb_text(&f64v(10.0)), "10.0");
    assert_eq!(duckdb_text(&f64v(24.5)), "24.5");
}

#[test]
fn duckdb_shortest_floats() {
    assert_eq!(shortest_float(0.0, false), "0.0");
    assert_eq!(shortest_float(-0.0, false), "-0.0");
    assert_eq!(shortest_float(2.0, false), "2.0");
    assert_eq!(shortest_float(0.5, false), "0.5");
    assert_eq!(shortest_float(-1234.5678, false), "-1234.5678");
    assert_eq!(shortest_float(0.1 + 0.2, false), "0.30000000000000004");
    assert_eq!(shortest_float(1e15, false), "1000000000000000.0");
    assert_eq!(shortest_float(1e16, false), "1e+16");
    assert_eq!(shortest_float(1.5e17, false), "1.5e+17");
    assert_eq!(shortest_float(0.0001, false), "0.0001");
    assert_eq!(shortest_float(0.00001, false), "1e-05");
    assert_eq!(shortest_float(f64::NAN, false), "nan");
    assert_eq!(shortest_float(f64::INFINITY, false), "inf");
    assert_eq!(shortest_float(f64::NEG_INFINITY, false), "-inf");
    // 32-bit floats print their own shortest form.
    assert_eq!(shortest_float(f64::from(0.1f32), true), "0.1");
    assert_eq!(
        shortest_float(f64::from(0.1f32), false),
        "0.10000000149011612"
    );
}

#[test]
fn text_conversions() {
    assert_eq!(text_to_int("1e3"), 1000);
    assert_eq!(text_to_int("-7"), -7);
    assert_eq!(text_to_int("+7"), 7);
    assert_eq!(text_to_int(".5"), 0);
    assert_eq!(text_to_int("5."), 5);
    assert_eq!(text_to_int("-x"), 0);
    assert_eq!(text_to_int("99999999999999999999"), 99999999999999999999);
    assert_eq!(text_to_float("1.5"), 1.5);
    assert_eq!(text_to_float("-2.25e1abc"), -22.5);
    assert_eq!(text_to_float("é1"), 0.0);
    assert_eq!(text_to_float(""), 0.0);
    assert_eq!(printable("ok ~"), "ok ~");
}
