//! Bad input never crashes the engine: malformed SQL, odd values and
//! mutated versions of valid queries all end in a result or an error.

use std::panic::{AssertUnwindSafe, catch_unwind};

use flint::{ErrorKind, SessionConfig, SessionContext};

fn session() -> SessionContext {
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    ctx.execute_sql(
        "CREATE TABLE t (a INT, b VARCHAR, c DOUBLE, d DATE, e DECIMAL(10,2));
         INSERT INTO t VALUES (1, 'x', 1.5, DATE '2024-01-01', 10.25), (NULL, NULL, NULL, NULL, NULL),
                              (-2147483648, '', -0.0, DATE '1970-01-01', -99999999.99);",
    )
    .expect("setup");
    ctx
}

/// Runs `sql`, failing the test only if the engine panics.
fn run_no_panic(ctx: &SessionContext, sql: &str) -> Option<flint::Error> {
    match catch_unwind(AssertUnwindSafe(|| ctx.execute_sql(sql))) {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => panic!("engine panicked on: {sql}"),
    }
}

#[test]
fn malformed_sql_gives_syntax_errors_with_positions() {
    let ctx = session();
    for sql in [
        "SELEC 1",
        "SELECT 1 +",
        "SELECT * FROM",
        "SELECT (1",
        "SELECT 'unterminated",
        "SELECT * FROM t WHERE",
        "INSERT INTO t VALUES (1,,2)",
        "CREATE TABLE (a INT)",
        "SELECT a FROM t GROUP",
        "SELECT 1 1",
        "))))",
        "SELECT \"",
    ] {
        let e = run_no_panic(&ctx, sql).unwrap_or_else(|| panic!("no error for {sql}"));
        assert_eq!(e.kind(), ErrorKind::SqlSyntax, "{sql}: {e}");
        assert!(e.span().is_some(), "{sql}: error has no position: {e}");
    }
}

#[test]
fn bad_names_and_types_are_reported_not_crashed() {
    let ctx = session();
    let cases = [
        ("SELECT zzz FROM t", ErrorKind::NotFound),
        ("SELECT * FROM nope", ErrorKind::NotFound),
        ("SELECT nosuchfn(a) FROM t", ErrorKind::NotFound),
        ("SELECT c + d FROM t", ErrorKind::TypeMismatch),
        ("SELECT CAST('abc' AS INT)", ErrorKind::TypeMismatch),
        ("SELECT 1 / 0", ErrorKind::Execution),
        ("SELECT a / 0 FROM t", ErrorKind::Execution),
        ("SELECT 9223372036854775807 + 1", ErrorKind::Execution),
        ("SELECT (SELECT a FROM t)", ErrorKind::Execution),
    ];
    for (sql, kind) in cases {
        let e = run_no_panic(&ctx, sql).unwrap_or_else(|| panic!("no error for {sql}"));
        assert_eq!(e.kind(), kind, "{sql}: {e}");
    }
    let e = run_no_panic(&ctx, "SELECT aa FROM t").unwrap_or_else(|| panic!("no error"));
    assert!(e.to_string().contains("did you mean \"a\""), "{e}");
    // a type mismatch names the operator and types, and where it is
    let sql = "SELECT a, c + d FROM t";
    let e = run_no_panic(&ctx, sql).unwrap_or_else(|| panic!("no error"));
    assert!(e.to_string().contains("DOUBLE and DATE"), "{e}");
    let span = e.span().unwrap_or_else(|| panic!("no position: {e}"));
    assert_eq!((span.line, span.column), (1, 11), "{e}");
}

#[test]
fn odd_values_and_mutations_never_panic() {
    let ctx = session();
    let base = [
        "SELECT a, b, c, d, e FROM t WHERE a > 0 ORDER BY c DESC NULLS FIRST LIMIT 2",
        "SELECT b, count(*), sum(e), avg(c), min(d) FROM t GROUP BY b HAVING count(*) > 0",
        "SELECT x.a FROM t x JOIN t y ON x.a = y.a AND x.c < y.c",
        "SELECT a FROM t WHERE a IN (SELECT a FROM t WHERE b IS NOT NULL) OR c = -0.0",
        "SELECT CASE WHEN a IS NULL THEN 'n' ELSE b || '!' END, substr(b, 0, 2), round(e, 1) FROM t",
        "SELECT d + INTERVAL '1' MONTH, extract(year FROM d), date_trunc('week', d) FROM t",
        "SELECT row_number() OVER (PARTITION BY b ORDER BY a), lag(c) OVER (ORDER BY a) FROM t",
    ];
    // deleting a token or swapping two must end in a result or an error
    for sql in base {
        let tokens: Vec<&str> = sql.split(' ').collect();
        for i in 0..tokens.len() {
            let mut dropped = tokens.clone();
            dropped.remove(i);
            run_no_panic(&ctx, &dropped.join(" "));
            if i + 1 < tokens.len() {
                let mut swapped = tokens.clone();
                swapped.swap(i, i + 1);
                run_no_panic(&ctx, &swapped.join(" "));
            }
        }
    }
    for sql in [
        "SELECT CAST(1e308 * 10 AS INT)",
        "SELECT CAST('99999999999999999999999' AS BIGINT)",
        "SELECT CAST(-0.0 AS VARCHAR), CAST('nan' AS DOUBLE), CAST('inf' AS DOUBLE) > 1",
        "SELECT repeat('x', 100000) LIKE '%y%'",
        "SELECT 1 FROM t LIMIT 0",
        "SELECT * FROM t LIMIT 9223372036854775807 OFFSET 2",
        "SELECT * FROM range(0)",
        "SELECT sum(a) FROM t WHERE false",
        "SELECT DATE '9999-12-31' + INTERVAL '1' DAY",
        "SELECT CAST(e AS DECIMAL(3,1)) FROM t",
    ] {
        run_no_panic(&ctx, sql);
    }
}

/// Deeply nested expressions run up to the depth limit (on a test thread's small stack, in a
/// debug build) and are refused, not crashed on, beyond it.
#[test]
fn deep_expressions_run_or_are_refused() {
    let ctx = session();
    let chain = |n: usize, op: &str, term: &str| vec![term; n].join(op);
    let under = flint::sql::MAX_EXPR_DEPTH - 10;
    for sql in [
        format!("SELECT {}", chain(under, " + ", "1")),
        format!(
            "SELECT count(*) FROM t WHERE {}",
            chain(under, " OR ", "a = 1")
        ),
        format!(
            "SELECT count(*) FROM t WHERE {}",
            chain(under, " AND ", "a IS NOT NULL")
        ),
        format!("SELECT {} FROM t", chain(under, " || ", "b")),
    ] {
        if let Some(e) = run_no_panic(&ctx, &sql) {
            panic!("{}...: {e}", &sql[..40]);
        }
    }
    let over = flint::sql::MAX_EXPR_DEPTH + 1;
    for sql in [
        format!("SELECT {}", chain(over, " + ", "1")),
        format!("SELECT a FROM t WHERE {}", chain(100_000, " OR ", "a = 1")),
    ] {
        let e = run_no_panic(&ctx, &sql).expect("too deep must be an error");
        assert!(e.to_string().contains("nested too deeply"), "{e}");
    }
}
