//! Planning one `SELECT`: FROM → WHERE → GROUP BY/aggregates → HAVING →
//! window functions → ORDER BY → projection → DISTINCT.
//!
//! Aggregates and window calls found in the select list, HAVING and ORDER BY
//! are computed by `Aggregate`/`Window` nodes; the expressions above them are
//! rewritten to refer to those nodes' output columns. ORDER BY is evaluated
//! below the final projection, so it may use columns that are not selected.

use datafusion_common::tree_node::{Transformed, TreeNode};
use sqlparser::ast::{self, GroupByExpr, Select, SelectItem, SelectItemQualifiedWildcardKind};

use crate::error::{Error, Result, SqlSpan};
use crate::logical::builder::{LogicalPlanBuilder, expand_wildcard};
use crate::logical::expr::{Expr, SortExpr};
use crate::logical::expr_schema::coerce_expr;
use crate::logical::plan::{LogicalPlan, Unnest};
use crate::logical::schema::PlanSchema;
use crate::sql::grouping_sets::{collect_grouping_calls, plan_grouping_sets, resolve_group_by};
use crate::sql::planner::SqlPlanner;
use crate::sql::scope::{Scope, normalize_ident};

/// A select-list entry after wildcard expansion.
struct SelectEntry {
    expr: Expr,
    name: String,
    /// `unnest(list)`: `expr` is the list, whose elements become rows.
    unnest: bool,
}

/// How an ORDER BY item refers to the query.
enum OrderRef {
    /// A select-list entry (ordinal or output name).
    Item(usize),
    /// An expression over the FROM clause.
    Expr(Expr),
}

impl SqlPlanner<'_> {
    /// Plans a SELECT with the ORDER BY of its query (if any).
    pub(crate) fn plan_select(
        &self,
        s: &Select,
        outer: Option<&Scope>,
        order_by: &[ast::OrderByExpr],
    ) -> Result<LogicalPlan> {
        self.check_select_supported(s)?;
        let (from, using) = if s.from.is_empty() {
            (LogicalPlanBuilder::empty(true).build(), vec![])
        } else {
            self.plan_from(&s.from, outer)?
        };
        let scope = Scope {
            schema: from.schema().clone(),
            using,
            parent: outer,
        };
        let mut plan = from;
        if let Some(w) = &s.selection {
            let e = self.sql_to_expr(w, &scope)?;
            if e.contains_aggregate() {
                return Err(Error::plan("aggregate functions are not allowed in WHERE")
                    .with_span(span_of(w)));
            }
            if e.contains_window() {
                return Err(
                    Error::plan("window functions are not allowed in WHERE").with_span(span_of(w))
                );
            }
            plan = LogicalPlanBuilder::from(plan).filter(e)?.build();
        }
        let input_schema = plan.schema().clone();
        let entries = self.select_entries(&s.projection, &scope)?;

        // GROUP BY: expressions, ordinals, or select-list aliases; ROLLUP, CUBE and GROUPING
        // SETS make several grouping sets of them
        let group_by = resolve_group_by(&s.group_by, |g| {
            if let ast::Expr::Value(v) = g
                && matches!(v.value, ast::Value::Number(..))
            {
                let k = self.ordinal(g, entries.len())?;
                if entries[k].expr.contains_aggregate() {
                    return Err(Error::plan(format!(
                        "GROUP BY position {} refers to an aggregate",
                        k + 1
                    ))
                    .with_span(span_of(g)));
                }
                return coerce_expr(entries[k].expr.clone(), &input_schema);
            }
            let e = match self.sql_to_expr(g, &scope) {
                Ok(e) => e,
                Err(err) => match self.alias_ref(g, &entries) {
                    Some(k) => entries[k].expr.clone(),
                    None => return Err(err),
                },
            };
            coerce_expr(e, &input_schema)
        })?;
        let grouping_sets = group_by.sets;
        let mut group_exprs = group_by.keys;
        if matches!(s.group_by, GroupByExpr::All(_)) {
            group_exprs = entries
                .iter()
                .filter(|e| !e.expr.contains_aggregate() && !e.expr.contains_window())
                .map(|e| e.expr.clone())
                .collect();
        }

        let having = match &s.having {
            Some(h) => Some(match self.sql_to_expr(h, &scope) {
                Ok(e) => e,
                Err(err) => self.with_aliases(h, &scope, &entries).map_err(|_| err)?,
            }),
            None => None,
        };
        // the same HAVING with select-list aliases taking precedence over input columns
        // (DuckDB and SQLite accept `SELECT a AS x ... GROUP BY a HAVING x > 1`)
        let having_alt = match &s.having {
            Some(h) => self.with_aliases_first(h, &scope, &entries).ok(),
            None => None,
        };

        // ORDER BY items, resolved before aggregation so aggregates in them are computed too
        let mut order_refs = vec![];
        for o in order_by {
            let r = match &o.expr {
                ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    OrderRef::Item(self.ordinal(&o.expr, entries.len())?)
                }
                e => match self.alias_ref(e, &entries) {
                    Some(k) => OrderRef::Item(k),
                    None => match self.sql_to_expr(e, &scope) {
                        Ok(x) => OrderRef::Expr(x),
                        Err(err) => self
                            .with_aliases(e, &scope, &entries)
                            .map(OrderRef::Expr)
                            .map_err(|_| err)?,
                    },
                },
            };
            order_refs.push((r, &o.options));
        }

        // coerce everything against the FROM/WHERE output
        let mut items = entries
            .iter()
            .map(|e| coerce_expr(e.expr.clone(), &input_schema))
            .collect::<Result<Vec<_>>>()?;
        let group_exprs = group_exprs
            .into_iter()
            .map(|e| coerce_expr(e, &input_schema))
            .collect::<Result<Vec<_>>>()?;
        let mut having = match having {
            Some(h) => Some(coerce_expr(h, &input_schema)?),
            None => None,
        };
        let having_alt = match having_alt {
            Some(h) if Some(&h) != having.as_ref() => coerce_expr(h, &input_schema).ok(),
            _ => None,
        };
        let mut order_exprs: Vec<Option<Expr>> = order_refs
            .iter()
            .map(|(r, _)| match r {
                OrderRef::Expr(e) => coerce_expr(e.clone(), &input_schema).map(Some),
                OrderRef::Item(_) => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;

        // aggregation: the aggregates and grouping(...) calls the query uses
        let mut aggregates: Vec<Expr> = vec![];
        let mut groupings: Vec<Expr> = vec![];
        for e in items
            .iter()
            .chain(having.iter())
            .chain(having_alt.iter())
            .chain(order_exprs.iter().flatten())
        {
            collect_aggregates(e, &mut aggregates);
            collect_grouping_calls(e, &mut groupings);
        }
        // the same key twice adds nothing (and would make its column ambiguous)
        let mut group_exprs = group_exprs;
        let mut seen = vec![];
        group_exprs.retain(|g| {
            let dup = seen.contains(g);
            seen.push(g.clone());
            !dup
        });
        // a plain GROUP BY with grouping(...) is one grouping set of all keys
        let grouping_sets = match grouping_sets {
            None if !groupings.is_empty() => Some(vec![(0..group_exprs.len()).collect()]),
            sets => sets,
        };
        if !aggregates.is_empty()
            || !group_exprs.is_empty()
            || having.is_some()
            || grouping_sets.is_some()
        {
            let agg = match &grouping_sets {
                Some(sets) => {
                    plan_grouping_sets(plan, &group_exprs, sets, &aggregates, &groupings)?
                }
                None => LogicalPlanBuilder::from(plan)
                    .aggregate(group_exprs.clone(), aggregates.clone())?
                    .build(),
            };
            let agg_schema = agg.schema().clone();
            // grouping(...) calls are columns after the aggregates
            let computed: Vec<Expr> = aggregates.iter().chain(&groupings).cloned().collect();
            let rewrite = |e: Expr| rewrite_over_aggregate(e, &group_exprs, &computed, &agg_schema);
            items = items.into_iter().map(rewrite).collect::<Result<Vec<_>>>()?;
            having = match (having.map(rewrite).transpose(), having_alt) {
                (Ok(h), _) => h,
                (Err(e), Some(alt)) => Some(rewrite(alt).map_err(|_| e)?),
                (Err(e), None) => return Err(e),
            };
            order_exprs = order_exprs
                .into_iter()
                .map(|o| o.map(rewrite).transpose())
                .collect::<Result<Vec<_>>>()?;
            plan = agg;
            if let Some(h) = having.take() {
                plan = LogicalPlanBuilder::from(plan).filter(h)?.build();
            }
        }

        // window functions
        let mut windows: Vec<Expr> = vec![];
        for e in items.iter().chain(order_exprs.iter().flatten()) {
            collect_windows(e, &mut windows);
        }
        if !windows.is_empty() {
            let width = plan.schema().len();
            plan = LogicalPlanBuilder::from(plan)
                .window(windows.clone())?
                .build();
            let schema = plan.schema().clone();
            let rewrite = |e: Expr| -> Result<Expr> {
                Ok(e.transform_down(|x| {
                    Ok(match windows.iter().position(|w| *w == x) {
                        Some(k) => Transformed::yes(Expr::Column(schema.column(width + k))),
                        None => Transformed::no(x),
                    })
                })?
                .data)
            };
            items = items.into_iter().map(rewrite).collect::<Result<Vec<_>>>()?;
            order_exprs = order_exprs
                .into_iter()
                .map(|o| o.map(rewrite).transpose())
                .collect::<Result<Vec<_>>>()?;
        }

        let projection: Vec<Expr> = items
            .iter()
            .zip(entries.iter())
            .map(|(e, entry)| match e {
                Expr::Column(c) if c.name == entry.name => e.clone(),
                _ => e.clone().alias(entry.name.clone()),
            })
            .collect();
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => {
                return Err(Error::not_implemented(
                    "SELECT DISTINCT ON is not supported",
                ));
            }
        };

        let unnested: Vec<usize> = (0..entries.len()).filter(|k| entries[*k].unnest).collect();
        if distinct || !unnested.is_empty() {
            // UNNEST and DISTINCT apply to the projection's output; ORDER BY then sorts that
            // output, so it must only use selected columns
            let mut b = LogicalPlanBuilder::from(plan).project(projection)?;
            if !unnested.is_empty() {
                let out = b.schema().clone();
                let cols = unnested.iter().map(|k| out.column(*k)).collect();
                let node = Unnest::try_new(b.build_arc(), cols, false)?;
                b = LogicalPlanBuilder::from(LogicalPlan::Unnest(node));
            }
            if distinct {
                b = b.distinct()?;
            }
            if !order_refs.is_empty() {
                let out = b.schema().clone();
                let mut keys = vec![];
                for (i, (r, opts)) in order_refs.iter().enumerate() {
                    let k = match r {
                        OrderRef::Item(k) => *k,
                        OrderRef::Expr(_) => {
                            let e = order_exprs[i]
                                .as_ref()
                                .ok_or_else(|| Error::internal("missing ORDER BY expression"))?;
                            items.iter().position(|it| it == e).ok_or_else(|| {
                                Error::plan(if distinct {
                                    "for SELECT DISTINCT, ORDER BY expressions must appear in the select list"
                                } else {
                                    "with UNNEST in the select list, ORDER BY expressions must appear in the select list"
                                })
                            })?
                        }
                    };
                    keys.push(self.sort_key(Expr::Column(out.column(k)), opts));
                }
                b = b.sort(keys)?;
            }
            return Ok(b.build());
        }

        if !order_refs.is_empty() {
            let keys: Vec<SortExpr> = order_refs
                .iter()
                .enumerate()
                .map(|(i, (r, opts))| {
                    let e = match r {
                        OrderRef::Item(k) => items[*k].clone(),
                        OrderRef::Expr(_) => {
                            order_exprs[i].clone().unwrap_or_else(|| items[0].clone())
                        }
                    };
                    self.sort_key(e, opts)
                })
                .collect();
            plan = LogicalPlanBuilder::from(plan).sort(keys)?.build();
        }
        Ok(LogicalPlanBuilder::from(plan).project(projection)?.build())
    }

    fn check_select_supported(&self, s: &Select) -> Result<()> {
        let unsupported =
            |what: &str| Err(Error::not_implemented(format!("{what} is not supported")));
        if s.top.is_some() {
            return unsupported("SELECT TOP");
        }
        if s.into.is_some() {
            return unsupported("SELECT INTO");
        }
        if !s.lateral_views.is_empty() {
            return unsupported("LATERAL VIEW");
        }
        if s.qualify.is_some() {
            return unsupported("QUALIFY");
        }
        if !s.named_window.is_empty() {
            return unsupported("named WINDOW clauses");
        }
        if s.prewhere.is_some() || !s.connect_by.is_empty() {
            return unsupported("PREWHERE/CONNECT BY");
        }
        if !s.cluster_by.is_empty() || !s.distribute_by.is_empty() || !s.sort_by.is_empty() {
            return unsupported("CLUSTER/DISTRIBUTE/SORT BY");
        }
        Ok(())
    }

    /// The select-list entry a bare identifier names (an output alias), if any.
    fn alias_ref(&self, e: &ast::Expr, entries: &[SelectEntry]) -> Option<usize> {
        match e {
            ast::Expr::Identifier(id) => {
                let n = normalize_ident(id);
                entries.iter().position(|x| x.name == n)
            }
            _ => None,
        }
    }

    /// Plans `e` where bare identifiers may also be select-list aliases (DuckDB allows this in
    /// HAVING and ORDER BY).
    fn with_aliases(&self, e: &ast::Expr, scope: &Scope, entries: &[SelectEntry]) -> Result<Expr> {
        let expr = self.sql_to_expr_with(e, scope, &|id: &ast::Ident| {
            let n = normalize_ident(id);
            entries.iter().find(|x| x.name == n).map(|x| x.expr.clone())
        })?;
        Ok(expr)
    }

    /// Plans `e` where bare identifiers naming select-list aliases mean those aliases, even
    /// when an input column has the same name.
    fn with_aliases_first(
        &self,
        e: &ast::Expr,
        scope: &Scope,
        entries: &[SelectEntry],
    ) -> Result<Expr> {
        self.aliases_first.set(true);
        let out = self.with_aliases(e, scope, entries);
        self.aliases_first.set(false);
        out
    }

    /// Expands the select list: wildcards become columns, other items get their output names.
    fn select_entries(&self, items: &[SelectItem], scope: &Scope) -> Result<Vec<SelectEntry>> {
        let mut out = vec![];
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e) if unnest_arg(e).is_some() => {
                    let arg = unnest_arg(e).ok_or_else(|| Error::internal("unnest argument"))?;
                    out.push(SelectEntry {
                        expr: self.sql_to_expr(arg, scope)?,
                        name: e.to_string(),
                        unnest: true,
                    });
                }
                SelectItem::ExprWithAlias { expr, alias } if unnest_arg(expr).is_some() => {
                    let arg = unnest_arg(expr).ok_or_else(|| Error::internal("unnest argument"))?;
                    out.push(SelectEntry {
                        expr: self.sql_to_expr(arg, scope)?,
                        name: normalize_ident(alias),
                        unnest: true,
                    });
                }
                SelectItem::UnnamedExpr(e) => {
                    let expr = self.sql_to_expr(e, scope)?;
                    let name = match (&expr, e) {
                        (
                            Expr::Column(c),
                            ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_),
                        ) => c.name.clone(),
                        (_, ast::Expr::Identifier(id)) => normalize_ident(id),
                        (_, ast::Expr::CompoundIdentifier(ids)) => {
                            ids.last().map(normalize_ident).unwrap_or_default()
                        }
                        _ => e.to_string(),
                    };
                    out.push(SelectEntry {
                        expr,
                        name,
                        unnest: false,
                    });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let e = self.sql_to_expr(expr, scope)?;
                    out.push(SelectEntry {
                        expr: e,
                        name: normalize_ident(alias),
                        unnest: false,
                    });
                }
                SelectItem::ExprWithAliases { .. } => {
                    return Err(Error::not_implemented(
                        "multiple aliases for one select item are not supported",
                    ));
                }
                SelectItem::Wildcard(opts) => {
                    check_wildcard_options(opts)?;
                    out.extend(self.expand_star(scope, None)?);
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    check_wildcard_options(opts)?;
                    let q = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            n.0.last()
                                .and_then(|p| p.as_ident())
                                .map(normalize_ident)
                                .unwrap_or_default()
                        }
                        SelectItemQualifiedWildcardKind::Expr(_) => {
                            return Err(Error::not_implemented("expression.* is not supported"));
                        }
                    };
                    out.extend(self.expand_star(scope, Some(&q))?);
                }
            }
        }
        Ok(out)
    }

    fn expand_star(&self, scope: &Scope, qualifier: Option<&str>) -> Result<Vec<SelectEntry>> {
        if scope.schema.is_empty() && qualifier.is_none() {
            return Err(Error::plan(
                "SELECT * with no tables specified is not valid",
            ));
        }
        let cols = expand_wildcard(&scope.schema, qualifier)?;
        let mut out = vec![];
        for e in cols {
            let Expr::Column(c) = &e else { continue };
            if qualifier.is_none() {
                // a USING column appears once, merged, at the left side's position
                if let Some(u) = scope.using.iter().find(|u| u.right == *c) {
                    let _ = u;
                    continue;
                }
                if let Some(u) = scope.using.iter().find(|u| u.left == *c) {
                    out.push(SelectEntry {
                        expr: u.merged(),
                        name: u.name.clone(),
                        unnest: false,
                    });
                    continue;
                }
            }
            out.push(SelectEntry {
                name: c.name.clone(),
                expr: e,
                unnest: false,
            });
        }
        Ok(out)
    }
}

fn check_wildcard_options(o: &ast::WildcardAdditionalOptions) -> Result<()> {
    if o.opt_ilike.is_some()
        || o.opt_exclude.is_some()
        || o.opt_except.is_some()
        || o.opt_replace.is_some()
        || o.opt_rename.is_some()
    {
        return Err(Error::not_implemented(
            "wildcard options (EXCLUDE, REPLACE, ...) are not supported",
        ));
    }
    Ok(())
}

/// The argument of a select item that is exactly `unnest(arg)`.
fn unnest_arg(e: &ast::Expr) -> Option<&ast::Expr> {
    let ast::Expr::Function(f) = e else {
        return None;
    };
    let name = f.name.0.last()?.as_ident()?.value.to_lowercase();
    let ast::FunctionArguments::List(l) = &f.args else {
        return None;
    };
    match (name.as_str(), l.args.as_slice()) {
        ("unnest", [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(arg))])
            if l.duplicate_treatment.is_none() && f.over.is_none() && f.filter.is_none() =>
        {
            Some(arg)
        }
        _ => None,
    }
}

fn span_of(e: &ast::Expr) -> Option<SqlSpan> {
    SqlSpan::from_parser(sqlparser::ast::Spanned::span(e))
}

/// Collects distinct aggregate calls (not looking inside subqueries).
pub fn collect_aggregates(e: &Expr, out: &mut Vec<Expr>) {
    if let Expr::Aggregate(_) = e {
        if !out.contains(e) {
            out.push(e.clone());
        }
        return;
    }
    if let Expr::Window(_) = e {
        // aggregates inside a window's arguments or keys are computed below the window
        for c in e.children() {
            collect_aggregates(c, out);
        }
        return;
    }
    for c in e.children() {
        collect_aggregates(c, out);
    }
}

/// Collects distinct window calls.
pub fn collect_windows(e: &Expr, out: &mut Vec<Expr>) {
    if let Expr::Window(_) = e {
        if !out.contains(e) {
            out.push(e.clone());
        }
        return;
    }
    for c in e.children() {
        collect_windows(c, out);
    }
}

/// Rewrites an expression over an aggregation's input into one over its output:
/// group expressions and aggregate calls become column references; any other
/// input column left over is an error.
pub(crate) fn rewrite_over_aggregate(
    e: Expr,
    groups: &[Expr],
    aggregates: &[Expr],
    agg_schema: &PlanSchema,
) -> Result<Expr> {
    let g = groups.len();
    let rewritten = e
        .transform_down(|x| {
            if let Some(i) = groups.iter().position(|ge| *ge == x) {
                return Ok(Transformed::yes(Expr::Column(agg_schema.column(i))));
            }
            if let Some(j) = aggregates.iter().position(|a| *a == x) {
                return Ok(Transformed::yes(Expr::Column(agg_schema.column(g + j))));
            }
            Ok(Transformed::no(x))
        })?
        .data;
    let mut bad = None;
    rewritten.any(&mut |x| {
        if let Expr::Column(c) = x
            && !agg_schema.has_column(c)
        {
            bad = Some(c.clone());
            return true;
        }
        false
    });
    if let Some(c) = bad {
        return Err(Error::plan(format!(
            "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
            c.flat_name()
        )));
    }
    Ok(rewritten)
}
