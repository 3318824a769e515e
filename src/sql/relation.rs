//! Planning the FROM clause: tables, views, CTEs, files, table functions,
//! derived tables, and joins (ON, USING, NATURAL, CROSS, comma).

use std::sync::Arc;

use sqlparser::ast::{self, JoinConstraint, JoinOperator, TableFactor, TableWithJoins};

use crate::catalog::CatalogEntry;
use crate::error::{Error, Result, SqlSpan};
use crate::logical::builder::{LogicalPlanBuilder, using_columns};
use crate::logical::expr::Expr;
use crate::logical::plan::{JoinType, LogicalPlan};
use crate::sql::planner::SqlPlanner;
use crate::sql::scope::{Scope, UsingColumn, normalize_ident};

impl SqlPlanner<'_> {
    /// Plans a FROM list (comma-separated items are cross joined).
    pub(crate) fn plan_from(
        &self,
        from: &[TableWithJoins],
        outer: Option<&Scope>,
    ) -> Result<(LogicalPlan, Vec<UsingColumn>)> {
        let mut iter = from.iter();
        let first = iter.next().ok_or_else(|| Error::internal("empty FROM"))?;
        let (mut plan, mut using) = self.plan_table_with_joins(first, outer)?;
        for twj in iter {
            let (right, u) = self.plan_table_with_joins(twj, outer)?;
            check_distinct_names(&plan, &right)?;
            using.extend(u);
            plan = LogicalPlanBuilder::from(plan)
                .cross_join(Arc::new(right))?
                .build();
        }
        Ok((plan, using))
    }

    fn plan_table_with_joins(
        &self,
        twj: &TableWithJoins,
        outer: Option<&Scope>,
    ) -> Result<(LogicalPlan, Vec<UsingColumn>)> {
        let (mut plan, mut using) = self.plan_table_factor(&twj.relation, outer)?;
        for join in &twj.joins {
            let (right, ru) = self.plan_table_factor(&join.relation, outer)?;
            using.extend(ru);
            let (p, u) = self.plan_join(plan, right, &join.join_operator, outer, &using)?;
            plan = p;
            using.extend(u);
        }
        Ok((plan, using))
    }

    fn plan_join(
        &self,
        left: LogicalPlan,
        right: LogicalPlan,
        op: &JoinOperator,
        outer: Option<&Scope>,
        using_so_far: &[UsingColumn],
    ) -> Result<(LogicalPlan, Vec<UsingColumn>)> {
        check_distinct_names(&left, &right)?;
        let (join_type, constraint) = match op {
            JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::StraightJoin(c) => {
                (JoinType::Inner, c)
            }
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinType::Left, c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinType::Right, c),
            JoinOperator::FullOuter(c) => (JoinType::Full, c),
            JoinOperator::CrossJoin(c) => (JoinType::Inner, c),
            JoinOperator::Semi(c) | JoinOperator::LeftSemi(c) => (JoinType::LeftSemi, c),
            JoinOperator::Anti(c) | JoinOperator::LeftAnti(c) => (JoinType::LeftAnti, c),
            JoinOperator::RightSemi(c) => (JoinType::RightSemi, c),
            JoinOperator::RightAnti(c) => (JoinType::RightAnti, c),
            other => {
                return Err(Error::not_implemented(format!(
                    "join operator {other:?} is not supported"
                )));
            }
        };
        let right = Arc::new(right);
        let names: Vec<String> = match constraint {
            JoinConstraint::Using(cols) => cols
                .iter()
                .map(|c| {
                    c.0.last()
                        .and_then(|p| p.as_ident())
                        .map(normalize_ident)
                        .unwrap_or_default()
                })
                .collect(),
            JoinConstraint::Natural => {
                let r = right.schema();
                let mut names: Vec<String> = vec![];
                for (_, f) in left.schema().iter() {
                    if r.iter().any(|(_, g)| g.name() == f.name()) && !names.contains(f.name()) {
                        names.push(f.name().clone());
                    }
                }
                names
            }
            _ => vec![],
        };
        match constraint {
            JoinConstraint::On(cond) => {
                let joined = Arc::new(left.schema().join(right.schema()));
                let scope = Scope {
                    schema: joined,
                    using: using_so_far.to_vec(),
                    parent: outer,
                };
                let e = self.sql_to_expr(cond, &scope)?;
                if e.contains_aggregate() {
                    return Err(Error::plan(
                        "aggregate functions are not allowed in JOIN conditions",
                    ));
                }
                let plan = LogicalPlanBuilder::from(left)
                    .join_on(right, join_type, Some(e))?
                    .build();
                Ok((plan, vec![]))
            }
            JoinConstraint::Using(_) | JoinConstraint::Natural => {
                // a name merged by an earlier USING join means that merged column
                let mut pairs = vec![];
                for n in &names {
                    let earlier = using_so_far.iter().rev().find(|u| &u.name == n);
                    let left_col = match earlier {
                        Some(u) if u.join_type == JoinType::Right => u.right.clone(),
                        Some(u) => u.left.clone(),
                        None => {
                            using_columns(std::slice::from_ref(n), left.schema(), right.schema())?
                                .remove(0)
                                .0
                        }
                    };
                    let right_col =
                        using_columns(std::slice::from_ref(n), right.schema(), right.schema())?
                            .remove(0)
                            .0;
                    pairs.push((left_col, right_col));
                }
                let on = pairs
                    .iter()
                    .map(|(l, r)| (Expr::Column(l.clone()), Expr::Column(r.clone())))
                    .collect();
                let plan = LogicalPlanBuilder::from(left)
                    .join_detailed(right, join_type, on, None, false)?
                    .build();
                let using = names
                    .into_iter()
                    .zip(pairs)
                    .map(|(name, (l, r))| UsingColumn {
                        name,
                        left: l,
                        right: r,
                        join_type,
                    })
                    .collect();
                Ok((plan, using))
            }
            JoinConstraint::None => {
                if !matches!(op, JoinOperator::CrossJoin(_)) {
                    return Err(Error::plan(format!(
                        "{join_type} JOIN needs an ON or USING condition (or use CROSS JOIN)"
                    )));
                }
                Ok((
                    LogicalPlanBuilder::from(left).cross_join(right)?.build(),
                    vec![],
                ))
            }
        }
    }

    /// Plans one FROM item.
    pub(crate) fn plan_table_factor(
        &self,
        factor: &TableFactor,
        outer: Option<&Scope>,
    ) -> Result<(LogicalPlan, Vec<UsingColumn>)> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts: Vec<&ast::Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
                let span = parts.first().and_then(|p| SqlSpan::from_parser(p.span));
                let last = parts
                    .last()
                    .ok_or_else(|| Error::plan("empty table name"))?;
                let table_name = normalize_ident(last);
                let plan = if let Some(args) = args {
                    self.plan_table_function(&table_name, &args.args, outer)
                        .map_err(|e| e.with_span(span))?
                } else if last.quote_style == Some('\'')
                    || last.quote_style == Some('"') && looks_like_path(&last.value)
                {
                    // FROM 'data/x.parquet'
                    let t = self
                        .ctx
                        .file_table(&last.value, None, &[])
                        .map_err(|e| e.with_span(span))?;
                    let qualifier = file_stem(&last.value);
                    LogicalPlanBuilder::scan(qualifier, t)?.build()
                } else {
                    self.plan_named_table(&table_name)
                        .map_err(|e| e.with_span(span))?
                };
                Ok((
                    self.apply_alias(plan, alias.as_ref(), Some(&table_name))?,
                    vec![],
                ))
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                if *lateral {
                    return Err(Error::not_implemented(
                        "LATERAL subqueries are not supported",
                    ));
                }
                let plan = self.plan_query(subquery, outer)?;
                let plan = match alias {
                    Some(_) => self.apply_alias(plan, alias.as_ref(), None)?,
                    None => {
                        let name = self.fresh_name("subquery");
                        LogicalPlanBuilder::from(plan).alias(name)?.build()
                    }
                };
                Ok((plan, vec![]))
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let (plan, using) = self.plan_table_with_joins(table_with_joins, outer)?;
                match alias {
                    Some(_) => Ok((self.apply_alias(plan, alias.as_ref(), None)?, vec![])),
                    None => Ok((plan, using)),
                }
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                let fname = name.to_string().to_lowercase();
                let plan = self.plan_table_function(&fname, args, outer)?;
                Ok((
                    self.apply_alias(plan, alias.as_ref(), Some(&fname))?,
                    vec![],
                ))
            }
            other => Err(Error::not_implemented(format!(
                "FROM item is not supported: {other}"
            ))),
        }
    }

    /// A table, view or CTE by name.
    fn plan_named_table(&self, name: &str) -> Result<LogicalPlan> {
        if let Some(cte) = self.cte(name) {
            return Ok(cte.as_ref().clone());
        }
        match self.ctx.entry(name) {
            Some(CatalogEntry::Table(t)) => Ok(LogicalPlanBuilder::scan(name, t)?.build()),
            Some(CatalogEntry::View { query, columns }) => {
                // a view is planned in its own context: no outer scope, no caller CTEs
                let inner = SqlPlanner::new(self.ctx);
                let b = LogicalPlanBuilder::from(inner.plan_query(&query, None)?);
                Ok(b.alias_with_columns(name, &columns)?.build())
            }
            Some(CatalogEntry::Plan(p)) => Ok(LogicalPlanBuilder::from(p.as_ref().clone())
                .alias(name)?
                .build()),
            None => Err(self.ctx.table_not_found(name)),
        }
    }

    /// Applies `AS alias(col, ...)`; without an alias, qualifies with `default` when given.
    fn apply_alias(
        &self,
        plan: LogicalPlan,
        alias: Option<&ast::TableAlias>,
        default: Option<&str>,
    ) -> Result<LogicalPlan> {
        match alias {
            Some(a) => {
                let mut b = LogicalPlanBuilder::from(plan);
                if !a.columns.is_empty() {
                    let names: Vec<String> =
                        a.columns.iter().map(|c| normalize_ident(&c.name)).collect();
                    b = b.alias_with_columns(normalize_ident(&a.name), &names)?;
                    return Ok(b.build());
                }
                Ok(b.alias(normalize_ident(&a.name))?.build())
            }
            None => match (default, &plan) {
                (Some(d), p)
                    if p.schema()
                        .iter()
                        .any(|(q, _)| q.map(|q| q.as_ref()) != Some(d)) =>
                {
                    Ok(LogicalPlanBuilder::from(plan).alias(d)?.build())
                }
                _ => Ok(plan),
            },
        }
    }
}

fn looks_like_path(s: &str) -> bool {
    s.contains('/') || s.contains('.')
}

/// `data/lineitem.parquet` → `lineitem`.
pub fn file_stem(path: &str) -> String {
    let base = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    let stem = base.split('.').next().unwrap_or(base);
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "file".to_string()
    } else {
        clean.to_lowercase()
    }
}

/// Two FROM items may not have the same name (`FROM t, t` needs an alias).
fn check_distinct_names(left: &LogicalPlan, right: &LogicalPlan) -> Result<()> {
    let names = |p: &LogicalPlan| -> std::collections::HashSet<String> {
        p.schema()
            .iter()
            .filter_map(|(q, _)| q.map(|q| q.to_string()))
            .collect()
    };
    let l = names(left);
    if let Some(dup) = names(right)
        .into_iter()
        .find(|n| l.contains(n) && !n.starts_with("__"))
    {
        return Err(Error::plan(format!(
            "table name \"{dup}\" specified more than once; give one of them an alias"
        )));
    }
    Ok(())
}
