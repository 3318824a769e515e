//! Plan tests for the 22 TPC-H queries.
//!
//! - Snapshots: `tests/plans/qNN.txt` holds the `EXPLAIN` text (optimized logical plan and
//!   physical plan with estimated rows) of each query over the in-memory TPC-H data at scale
//!   factor 0.01 with 4 partitions. The tables' row counts at SF 0.01 are those of SF 1
//!   divided by 100 except `nation` and `region` (fixed sizes), so join orders are those of
//!   SF 1 wherever they do not hinge on `nation` against `supplier` (100 rows here, 10,000 at
//!   SF 1). Run with `FLINT_UPDATE_PLANS=1` to rewrite the snapshots after a deliberate plan
//!   change, and review the diff.
//! - Structure, over all 22: no join without equi keys except against a single row (the
//!   value of an uncorrelated scalar subquery); every conjunct of a filter that reads the
//!   columns of one base table sits in a filter right over that table's scan (and in the
//!   scan's own filters, for pruning); each hash join builds on its smaller estimated input.
//!
//! The queries are read from `sql-tests/tpch/qNN.slt`, whose expected results check that the
//! plans compute the right answers.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use flint::exec::ExecutionPlan;
use flint::logical::expr::Expr;
use flint::logical::plan::{JoinType, LogicalPlan};
use flint::physical::estimates::PlanEstimates;
use flint::physical::statistics::estimate_rows;
use flint::{SessionConfig, SessionContext};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn session() -> &'static SessionContext {
    static CTX: OnceLock<SessionContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(4));
        ctx.load_tpch(0.01).expect("TPC-H data");
        ctx
    })
}

/// The SQL of query `n`, taken from its sqllogictest file.
fn query(n: usize) -> String {
    let path = root().join(format!("sql-tests/tpch/q{n:02}.slt"));
    let text = std::fs::read_to_string(&path).expect("TPC-H slt file");
    let start = text
        .find("\nquery ")
        .and_then(|i| text[i + 1..].find('\n').map(|j| i + 1 + j + 1))
        .expect("a query record");
    let end = text[start..].find("\n----").expect("expected results") + start;
    text[start..end].to_string()
}

struct Planned {
    logical: LogicalPlan,
    physical: Arc<dyn ExecutionPlan>,
    estimates: Arc<PlanEstimates>,
}

fn plan(n: usize) -> Planned {
    let ctx = session();
    let df = ctx.sql(&query(n)).expect("query plans");
    let logical = ctx.optimize(df.logical_plan()).expect("optimizes");
    let (physical, estimates) = ctx
        .physical_plan_with_estimates(&logical)
        .expect("physical plan");
    Planned {
        logical,
        physical,
        estimates,
    }
}

fn explain(n: usize) -> String {
    let df = session().sql(&query(n)).expect("query plans");
    df.explain(false, false).expect("explain")
}

fn snapshot_path(n: usize) -> PathBuf {
    root().join(format!("tests/plans/q{n:02}.txt"))
}

#[test]
fn tpch_plans_match_snapshots() {
    let update = std::env::var("FLINT_UPDATE_PLANS").is_ok_and(|v| v == "1");
    let mut failures = vec![];
    for n in 1..=22 {
        let text = format!("-- TPC-H Q{n:02} at SF 0.01, 4 partitions\n{}", explain(n));
        let path = snapshot_path(n);
        if update {
            std::fs::write(&path, &text).expect("write snapshot");
            continue;
        }
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if old != text {
            failures.push(first_difference(&path, &old, &text));
        }
    }
    assert!(
        failures.is_empty(),
        "plans changed (FLINT_UPDATE_PLANS=1 cargo test --test plans rewrites the snapshots):\n{}",
        failures.join("\n")
    );
}

fn first_difference(path: &Path, old: &str, new: &str) -> String {
    let (o, n): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let i = (0..o.len().max(n.len()))
        .find(|i| o.get(*i) != n.get(*i))
        .unwrap_or(0);
    format!(
        "{}: line {}\n  was: {}\n  now: {}",
        path.display(),
        i + 1,
        o.get(i).unwrap_or(&"<end>"),
        n.get(i).unwrap_or(&"<end>")
    )
}

fn walk<'a>(p: &'a LogicalPlan, f: &mut dyn FnMut(&'a LogicalPlan)) {
    f(p);
    for e in p.expressions() {
        walk_subqueries(e, f);
    }
    for i in p.inputs() {
        walk(i, f);
    }
}

fn walk_subqueries<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a LogicalPlan)) {
    match e {
        Expr::ScalarSubquery(sq) | Expr::Exists { subquery: sq, .. } => walk(&sq.plan, f),
        Expr::InSubquery { expr, subquery, .. } => {
            walk_subqueries(expr, f);
            walk(&subquery.plan, f);
        }
        other => {
            for c in other.children() {
                walk_subqueries(c, f);
            }
        }
    }
}

#[test]
fn no_cross_joins() {
    for n in 1..=22 {
        let p = plan(n);
        walk(&p.logical, &mut |node| {
            if let LogicalPlan::Join(j) = node
                && j.on.is_empty()
            {
                let l = estimate_rows(&j.left).unwrap_or(usize::MAX);
                let r = estimate_rows(&j.right).unwrap_or(usize::MAX);
                assert!(
                    l.min(r) <= 1,
                    "Q{n:02}: a join without equi keys between {l} and {r} rows:\n{node}"
                );
            }
        });
    }
}

/// The qualifier and the names of the columns of a conjunct, if it reads one relation only.
fn single_relation(c: &Expr) -> Option<(String, Vec<String>)> {
    if c.contains_subquery() {
        return None;
    }
    let cols = c.column_refs();
    let q = cols.first()?.relation.clone()?;
    if cols.iter().any(|x| x.relation.as_ref() != Some(&q)) {
        return None;
    }
    Some((q.to_string(), cols.iter().map(|x| x.name.clone()).collect()))
}

/// Whether under `p` the relation `q` is a base table scan (maybe renamed by an alias or
/// filtered) whose table has all of `names`.
fn base_relation_has(p: &LogicalPlan, q: &str, names: &[String]) -> bool {
    fn scan_has(p: &LogicalPlan, names: &[String]) -> bool {
        match p {
            LogicalPlan::TableScan(t) => {
                let s = t.source.schema();
                names.iter().all(|n| s.field_with_name(n).is_ok())
            }
            LogicalPlan::Filter(f) => scan_has(&f.input, names),
            _ => false,
        }
    }
    match p {
        LogicalPlan::TableScan(t) if t.table_name == q => scan_has(p, names),
        LogicalPlan::SubqueryAlias(a) if a.alias == q && a.columns.is_empty() => {
            scan_has(&a.input, names)
        }
        // the relation's rows reach the filter only through these nodes unchanged
        LogicalPlan::Projection(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Sort(_) => p.inputs().iter().any(|i| base_relation_has(i, q, names)),
        LogicalPlan::Join(j) => {
            let left_ok = matches!(
                j.join_type,
                JoinType::Inner | JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti
            );
            let right_ok = matches!(
                j.join_type,
                JoinType::Inner | JoinType::Right | JoinType::RightSemi | JoinType::RightAnti
            );
            (left_ok && base_relation_has(&j.left, q, names))
                || (right_ok && base_relation_has(&j.right, q, names))
        }
        _ => false,
    }
}

#[test]
fn filters_sit_at_their_table_scans() {
    for n in 1..=22 {
        let p = plan(n);
        walk(&p.logical, &mut |node| {
            let LogicalPlan::Filter(f) = node else { return };
            if let LogicalPlan::TableScan(t) = f.input.as_ref() {
                for c in f.predicate.conjuncts() {
                    if !c.contains_subquery() {
                        assert!(
                            t.filters.contains(c),
                            "Q{n:02}: {c} is not among the scan's filters:\n{node}"
                        );
                    }
                }
                return;
            }
            for c in f.predicate.conjuncts() {
                if let Some((q, names)) = single_relation(c) {
                    assert!(
                        !base_relation_has(&f.input, &q, &names),
                        "Q{n:02}: {c} reads only {q} but is not at its scan:\n{node}"
                    );
                }
            }
        });
    }
}

fn physical_walk(p: &Arc<dyn ExecutionPlan>, f: &mut dyn FnMut(&Arc<dyn ExecutionPlan>)) {
    f(p);
    for c in p.children() {
        physical_walk(c, f);
    }
}

#[test]
fn hash_joins_build_on_the_smaller_input() {
    for n in 1..=22 {
        let p = plan(n);
        physical_walk(&p.physical, &mut |op| {
            if op.name() != "HashJoinExec" || op.describe().contains("null_aware") {
                return;
            }
            let kids = op.children();
            let (build, probe) = (p.estimates.get(kids[0]), p.estimates.get(kids[1]));
            let (Some(b), Some(pr)) = (build, probe) else {
                panic!(
                    "Q{n:02}: a hash join input without an estimate: {}",
                    op.describe()
                );
            };
            assert!(
                b <= pr,
                "Q{n:02}: builds on {b} rows, probes {pr}: {}",
                op.describe()
            );
        });
    }
}

#[test]
fn explain_verbose_shows_the_plan_after_each_rule_that_changed_it() {
    let sql = "SELECT c_name, o_totalprice FROM customer LEFT JOIN orders ON c_custkey = o_custkey \
               WHERE o_totalprice > 1000";
    let text = session()
        .sql(sql)
        .expect("plans")
        .explain(true, false)
        .expect("explain");
    assert!(text.starts_with("== Initial Logical Plan ==\n"), "{text}");
    let after = text
        .find("== After simplify_outer_join")
        .expect("the outer join rule changed the plan");
    assert!(text[after..].contains("Inner Join"), "{text}");
    assert!(text.contains("== After push_down_filter"), "{text}");
    // rules that changed nothing are not shown
    assert!(!text.contains("== After push_down_limit"), "{text}");
    assert!(text.contains("== Logical Plan ==\n"), "{text}");
    let physical = &text[text.find("== Physical Plan ==").expect("physical plan")..];
    for line in physical.lines().filter(|l| l.contains("Exec")) {
        assert!(line.contains("rows≈"), "no estimate: {line}");
    }
}
