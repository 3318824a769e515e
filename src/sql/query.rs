//! Planning a whole query: `WITH`, set operations, `ORDER BY` over set
//! operations, `LIMIT`/`OFFSET`/`FETCH`, and `VALUES`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion_common::ScalarValue;
use datafusion_common::tree_node::TreeNode;
use sqlparser::ast::{self, LimitClause, OrderByKind, Query, SetExpr, SetOperator, SetQuantifier};

use crate::catalog::{MemTable, TableProvider};
use crate::error::{Error, Result, SqlSpan};
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::{Expr, SortExpr};
use crate::logical::expr_schema::{cast_expr, coerce_expr};
use crate::logical::plan::LogicalPlan;
use crate::logical::recursive::RecursiveQuery;
use crate::logical::schema::PlanSchema;
use crate::sql::planner::SqlPlanner;
use crate::sql::scope::{Scope, normalize_ident};

impl SqlPlanner<'_> {
    /// Plans a query; `outer` is the enclosing query's scope for correlated subqueries.
    pub fn plan_query(&self, q: &Query, outer: Option<&Scope>) -> Result<LogicalPlan> {
        if q.fetch.is_some() && q.limit_clause.is_some() {
            return Err(Error::plan("a query cannot have both LIMIT and FETCH"));
        }
        let Some(with) = &q.with else {
            return self.plan_query_body(q, outer);
        };
        self.ctes.borrow_mut().push(HashMap::new());
        let result = (|| {
            for cte in &with.cte_tables {
                let name = normalize_ident(&cte.alias.name);
                if self
                    .ctes
                    .borrow()
                    .last()
                    .is_some_and(|m| m.contains_key(&name))
                {
                    return Err(Error::plan(format!(
                        "WITH query name \"{name}\" specified more than once"
                    )));
                }
                let names: Vec<String> = cte
                    .alias
                    .columns
                    .iter()
                    .map(|c| normalize_ident(&c.name))
                    .collect();
                let recursive = match with.recursive {
                    true => self.plan_recursive_cte(&name, &names, &cte.query, outer)?,
                    false => None,
                };
                let plan = match recursive {
                    Some(plan) => plan,
                    None => {
                        let b = LogicalPlanBuilder::from(self.plan_query(&cte.query, outer)?);
                        name_cte(b, &name, &names)?.build()
                    }
                };
                if let Some(m) = self.ctes.borrow_mut().last_mut() {
                    m.insert(name, Arc::new(plan));
                }
            }
            self.plan_query_body(q, outer)
        })();
        self.ctes.borrow_mut().pop();
        result
    }

    /// Plans `name AS (static UNION [ALL] recursive)` of a `WITH RECURSIVE` whose recursive
    /// term refers to `name`; `None` when the query is not of that form (then it is an
    /// ordinary CTE).
    fn plan_recursive_cte(
        &self,
        name: &str,
        names: &[String],
        query: &Query,
        outer: Option<&Scope>,
    ) -> Result<Option<LogicalPlan>> {
        let SetExpr::SetOperation {
            left,
            op: SetOperator::Union,
            set_quantifier,
            right,
        } = query.body.as_ref()
        else {
            return Ok(None);
        };
        let distinct = match set_quantifier {
            SetQuantifier::All => false,
            SetQuantifier::Distinct | SetQuantifier::None => true,
            other => {
                return Err(Error::not_implemented(format!(
                    "set quantifier {other} is not supported"
                )));
            }
        };
        let static_term = name_cte(
            LogicalPlanBuilder::from(self.plan_set_expr(left, outer)?),
            name,
            names,
        )?
        .build();
        // the recursive term reads the newest rows from a work table named like the CTE
        let work_schema = static_term.schema().arrow_schema().clone();
        let work_schema = Arc::new(arrow::datatypes::Schema::new(
            work_schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let work_table: Arc<dyn TableProvider> = Arc::new(MemTable::try_new(work_schema, vec![])?);
        let work_scan = LogicalPlanBuilder::scan(name, work_table.clone())?.build();
        if let Some(m) = self.ctes.borrow_mut().last_mut() {
            m.insert(name.to_string(), Arc::new(work_scan));
        }
        let recursive_term = self.plan_set_expr(right, outer);
        if let Some(m) = self.ctes.borrow_mut().last_mut() {
            m.remove(name);
        }
        let recursive_term = recursive_term?;
        let refers_to_itself = recursive_term
            .exists(|p| {
                Ok(matches!(p, LogicalPlan::TableScan(t) if Arc::ptr_eq(&t.source, &work_table)))
            })
            .unwrap_or(false);
        if !refers_to_itself {
            return Ok(None);
        }
        if query.order_by.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
            return Err(Error::not_implemented(format!(
                "ORDER BY, LIMIT and FETCH inside the recursive query \"{name}\" are not supported; \
                 apply them where the CTE is used"
            )));
        }
        // the recursive term's columns take the static term's types and names
        let (s, r) = (
            static_term.schema().clone(),
            recursive_term.schema().clone(),
        );
        if s.len() != r.len() {
            return Err(Error::plan(format!(
                "the terms of the recursive query \"{name}\" have {} and {} columns",
                s.len(),
                r.len()
            )));
        }
        let exprs =
            (0..s.len())
                .map(|i| {
                    let col = Expr::Column(r.column(i));
                    Ok(cast_expr(col, r.data_type(i), s.data_type(i))?
                        .alias(s.field(i).name().clone()))
                })
                .collect::<Result<Vec<_>>>()?;
        let recursive_term = LogicalPlanBuilder::from(recursive_term)
            .project(exprs)?
            .build();
        let plan = LogicalPlan::RecursiveQuery(RecursiveQuery::try_new(
            name,
            Arc::new(static_term),
            Arc::new(recursive_term),
            work_table,
            distinct,
        )?);
        Ok(Some(LogicalPlanBuilder::from(plan).alias(name)?.build()))
    }

    fn plan_query_body(&self, q: &Query, outer: Option<&Scope>) -> Result<LogicalPlan> {
        let order_by: Vec<ast::OrderByExpr> = match &q.order_by {
            None => vec![],
            Some(o) => match &o.kind {
                OrderByKind::Expressions(e) => e.clone(),
                OrderByKind::All(_) => {
                    return Err(Error::not_implemented("ORDER BY ALL is not supported"));
                }
            },
        };
        let plan = match q.body.as_ref() {
            SetExpr::Select(s) => self.plan_select(s, outer, &order_by)?,
            other => {
                let p = self.plan_set_expr(other, outer)?;
                if order_by.is_empty() {
                    p
                } else {
                    self.order_by_output(p, &order_by, outer)?
                }
            }
        };
        let (skip, fetch) = match &q.limit_clause {
            None => (0, None),
            Some(LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(Error::not_implemented("LIMIT BY is not supported"));
                }
                let fetch = match limit {
                    Some(l) => self.const_count(l, "LIMIT")?,
                    None => None,
                };
                let skip = match offset {
                    Some(o) => self.const_count(&o.value, "OFFSET")?.unwrap_or(0),
                    None => 0,
                };
                (skip, fetch)
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => (
                self.const_count(offset, "OFFSET")?.unwrap_or(0),
                self.const_count(limit, "LIMIT")?,
            ),
        };
        let fetch = match &q.fetch {
            Some(f) => {
                if f.percent || f.with_ties {
                    return Err(Error::not_implemented(
                        "FETCH ... PERCENT / WITH TIES is not supported",
                    ));
                }
                match &f.quantity {
                    Some(e) => self.const_count(e, "FETCH")?,
                    None => Some(1),
                }
            }
            None => fetch,
        };
        if skip == 0 && fetch.is_none() {
            return Ok(plan);
        }
        Ok(LogicalPlanBuilder::from(plan).limit(skip, fetch)?.build())
    }

    /// Evaluates a constant non-negative integer (LIMIT/OFFSET); NULL means "no limit".
    pub(crate) fn const_count(&self, e: &ast::Expr, what: &str) -> Result<Option<usize>> {
        let span = SqlSpan::from_parser(sqlparser::ast::Spanned::span(e));
        let scope = Scope::empty(None);
        let expr = self
            .sql_to_expr(e, &scope)
            .map_err(|err| err.with_span(span))?;
        let v = self.eval_const(expr)?;
        match v {
            v if v.is_null() => Ok(None),
            ScalarValue::Int64(Some(n)) if n >= 0 => Ok(Some(n as usize)),
            other => {
                let as_i64 = other.cast_to(&arrow::datatypes::DataType::Int64);
                match as_i64 {
                    Ok(ScalarValue::Int64(Some(n))) if n >= 0 && other.data_type().is_integer() => {
                        Ok(Some(n as usize))
                    }
                    _ => Err(Error::plan(format!(
                        "{what} must be a non-negative integer, got {other}"
                    ))
                    .with_span(span)),
                }
            }
        }
    }

    /// Evaluates an expression without columns to a value.
    pub(crate) fn eval_const(&self, expr: Expr) -> Result<ScalarValue> {
        let empty = PlanSchema::empty();
        let expr = coerce_expr(expr, &empty)?;
        if let Expr::Literal(v) = &expr {
            return Ok(v.clone());
        }
        let pe = crate::physical_expr::create_physical_expr(&expr, &empty, None)?;
        let one = RecordBatch::try_new_with_options(
            Arc::new(arrow::datatypes::Schema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(1)),
        )?;
        let a = pe.evaluate(&one)?.into_array(1)?;
        Ok(ScalarValue::try_from_array(&a, 0)?)
    }

    /// Plans UNION / INTERSECT / EXCEPT trees, parenthesized queries and VALUES.
    pub(crate) fn plan_set_expr(
        &self,
        body: &SetExpr,
        outer: Option<&Scope>,
    ) -> Result<LogicalPlan> {
        match body {
            SetExpr::Select(s) => self.plan_select(s, outer, &[]),
            SetExpr::Query(q) => self.plan_query(q, outer),
            SetExpr::Values(v) => self.plan_values(v, outer),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let l = self.plan_set_expr(left, outer)?;
                let r = self.plan_set_expr(right, outer)?;
                let all = match set_quantifier {
                    SetQuantifier::All => true,
                    SetQuantifier::Distinct | SetQuantifier::None => false,
                    other => {
                        return Err(Error::not_implemented(format!(
                            "set quantifier {other} is not supported"
                        )));
                    }
                };
                let b = LogicalPlanBuilder::from(l);
                Ok(match op {
                    SetOperator::Union => {
                        let u = b.union(r)?;
                        if all {
                            u.build()
                        } else {
                            u.distinct()?.build()
                        }
                    }
                    SetOperator::Intersect => b.intersect_or_except(r, true, all)?.build(),
                    SetOperator::Except | SetOperator::Minus => {
                        b.intersect_or_except(r, false, all)?.build()
                    }
                })
            }
            other => Err(Error::not_implemented(format!(
                "query body is not supported: {other}"
            ))),
        }
    }

    /// `VALUES (..), (..)`.
    pub(crate) fn plan_values(
        &self,
        v: &ast::Values,
        outer: Option<&Scope>,
    ) -> Result<LogicalPlan> {
        let empty = Scope::empty(outer);
        let rows = v
            .rows
            .iter()
            .map(|r| {
                r.content
                    .iter()
                    .map(|e| self.sql_to_expr(e, &empty))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LogicalPlanBuilder::values(rows)?.build())
    }

    /// ORDER BY over the output of a set operation: ordinals, output names, or expressions of them.
    fn order_by_output(
        &self,
        plan: LogicalPlan,
        order_by: &[ast::OrderByExpr],
        outer: Option<&Scope>,
    ) -> Result<LogicalPlan> {
        let schema = plan.schema().clone();
        let scope = Scope {
            schema: schema.clone(),
            using: vec![],
            parent: outer,
        };
        let mut keys = vec![];
        for o in order_by {
            let expr = match &o.expr {
                ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    let k = self.ordinal(&o.expr, schema.len())?;
                    Expr::Column(schema.column(k))
                }
                other => self.sql_to_expr(other, &scope)?,
            };
            keys.push(self.sort_key(expr, &o.options));
        }
        Ok(LogicalPlanBuilder::from(plan).sort(keys)?.build())
    }

    /// A 0-based position from a 1-based ordinal literal.
    pub(crate) fn ordinal(&self, e: &ast::Expr, len: usize) -> Result<usize> {
        let span = SqlSpan::from_parser(sqlparser::ast::Spanned::span(e));
        let text = e.to_string();
        let k: i64 = text.parse().map_err(|_| {
            Error::plan(format!("position {text} is not an integer")).with_span(span)
        })?;
        if k < 1 || k as usize > len {
            return Err(
                Error::plan(format!("position {k} is not in select list (1..{len})"))
                    .with_span(span),
            );
        }
        Ok(k as usize - 1)
    }

    /// A sort key: ASC by default, NULL placement from the session's `default_null_order`.
    pub(crate) fn sort_key(&self, expr: Expr, options: &ast::OrderByOptions) -> SortExpr {
        let asc = options.asc.unwrap_or(true);
        let nulls_first = options
            .nulls_first
            .unwrap_or_else(|| self.ctx.config().default_null_order.nulls_first(asc));
        SortExpr::new(expr, asc, nulls_first)
    }
}

/// Names a CTE's plan: qualified by the CTE name, columns renamed by `names` when given.
fn name_cte(b: LogicalPlanBuilder, name: &str, names: &[String]) -> Result<LogicalPlanBuilder> {
    if names.is_empty() {
        b.alias(name)
    } else {
        b.alias_with_columns(name, names)
    }
}
