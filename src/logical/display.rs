//! Text rendering of logical plans for `EXPLAIN`: one node per line, indented by depth.

use std::fmt::{self, Write};

use datafusion_common::ScalarValue;

use crate::logical::expr::{Expr, fmt_literal};
use crate::logical::plan::{LogicalPlan, RepartitionScheme};

/// A literal as SQL text.
pub fn literal_sql(v: &ScalarValue) -> String {
    struct L<'a>(&'a ScalarValue);
    impl fmt::Display for L<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt_literal(f, self.0)
        }
    }
    L(v).to_string()
}

fn list(exprs: &[Expr]) -> String {
    exprs
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line describing the node itself (without inputs).
pub fn node_line(plan: &LogicalPlan) -> String {
    match plan {
        LogicalPlan::Projection(p) => format!("Projection: {}", list(&p.exprs)),
        LogicalPlan::Filter(f) => format!("Filter: {}", f.predicate),
        LogicalPlan::Aggregate(a) => format!(
            "Aggregate: groupBy=[{}], aggr=[{}]",
            list(&a.group_exprs),
            list(&a.aggr_exprs)
        ),
        LogicalPlan::Window(w) => format!("Window: {}", list(&w.window_exprs)),
        LogicalPlan::Sort(s) => {
            let keys = s
                .exprs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            match s.fetch {
                Some(n) => format!("Sort: {keys}, fetch={n}"),
                None => format!("Sort: {keys}"),
            }
        }
        LogicalPlan::Limit(l) => match l.fetch {
            Some(n) => format!("Limit: skip={}, fetch={n}", l.skip),
            None => format!("Limit: skip={}, fetch=all", l.skip),
        },
        LogicalPlan::Join(j) => {
            let mut s = if j.on.is_empty()
                && j.filter.is_none()
                && j.join_type == crate::logical::plan::JoinType::Inner
            {
                "CrossJoin:".to_string()
            } else {
                format!("{} Join:", j.join_type)
            };
            if !j.on.is_empty() {
                let keys =
                    j.on.iter()
                        .map(|(l, r)| {
                            if j.null_equals_null {
                                format!("{l} IS NOT DISTINCT FROM {r}")
                            } else {
                                format!("{l} = {r}")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                let _ = write!(s, " on=[{keys}]");
            }
            if let Some(f) = &j.filter {
                let _ = write!(s, " filter={f}");
            }
            if j.null_aware {
                s.push_str(" null_aware");
            }
            s
        }
        LogicalPlan::Union(_) => "Union".to_string(),
        LogicalPlan::SubqueryAlias(a) if a.columns.is_empty() => {
            format!("SubqueryAlias: {}", a.alias)
        }
        LogicalPlan::SubqueryAlias(a) => {
            format!("SubqueryAlias: {}({})", a.alias, a.columns.join(", "))
        }
        LogicalPlan::TableScan(t) => {
            let mut s = format!("TableScan: {}", t.table_name);
            if t.projection.is_some() {
                let cols = t
                    .schema
                    .iter()
                    .map(|(_, f)| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = write!(s, " projection=[{cols}]");
            }
            if !t.filters.is_empty() {
                let _ = write!(s, " filters=[{}]", list(&t.filters));
            }
            if let Some(n) = t.fetch {
                let _ = write!(s, " fetch={n}");
            }
            s
        }
        LogicalPlan::Values(v) => format!("Values: {} rows", v.rows.len()),
        LogicalPlan::EmptyRelation(e) => {
            if e.produce_one_row {
                "EmptyRelation: one row".to_string()
            } else {
                "EmptyRelation".to_string()
            }
        }
        LogicalPlan::Repartition(r) => match &r.scheme {
            RepartitionScheme::RoundRobin(n) => format!("Repartition: RoundRobin({n})"),
            RepartitionScheme::Hash(k, n) => format!("Repartition: Hash([{}], {n})", list(k)),
        },
        LogicalPlan::RecursiveQuery(r) => format!(
            "RecursiveQuery: {} ({})",
            r.name,
            if r.distinct { "UNION" } else { "UNION ALL" }
        ),
        LogicalPlan::Unnest(u) => {
            let cols = u
                .columns
                .iter()
                .map(|c| c.flat_name())
                .collect::<Vec<_>>()
                .join(", ");
            if u.preserve_nulls {
                format!("Unnest: [{cols}] preserve_nulls")
            } else {
                format!("Unnest: [{cols}]")
            }
        }
        LogicalPlan::MapPartitions(m) => format!("MapPartitions: {} -> {}", m.name, m.schema),
        LogicalPlan::Sample(s) => format!("Sample: fraction={}, seed={}", s.fraction, s.seed),
    }
}

/// Renders the whole plan, indented two spaces per level; subqueries inside expressions are
/// rendered below the node that holds them.
pub fn display_plan(plan: &LogicalPlan) -> String {
    let mut out = String::new();
    render(plan, 0, &mut out);
    out
}

fn render(plan: &LogicalPlan, depth: usize, out: &mut String) {
    let _ = writeln!(out, "{}{}", "  ".repeat(depth), node_line(plan));
    for e in plan.expressions() {
        let mut subs = vec![];
        collect_subqueries(e, &mut subs);
        for s in subs {
            let _ = writeln!(out, "{}Subquery:", "  ".repeat(depth + 1));
            render(s, depth + 2, out);
        }
    }
    for input in plan.inputs() {
        render(input, depth + 1, out);
    }
}

fn collect_subqueries<'a>(e: &'a Expr, out: &mut Vec<&'a LogicalPlan>) {
    match e {
        Expr::ScalarSubquery(sq) | Expr::Exists { subquery: sq, .. } => out.push(&sq.plan),
        Expr::InSubquery { expr, subquery, .. } => {
            collect_subqueries(expr, out);
            out.push(&subquery.plan);
        }
        other => {
            for c in other.children() {
                collect_subqueries(c, out);
            }
        }
    }
}

impl fmt::Display for LogicalPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&display_plan(self))
    }
}
