//! Binding DML: `INSERT` (positional, with column lists and DEFAULT values), `DELETE`
//! and `UPDATE` on in-memory tables.

use arrow::datatypes::SchemaRef;
use datafusion_common::ScalarValue;
use sqlparser::ast;

use crate::catalog::CatalogEntry;
use crate::error::{Error, Result};
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::Expr;
use crate::logical::expr_schema::cast_expr;
use crate::logical::plan::LogicalPlan;
use crate::sql::planner::SqlPlanner;
use crate::sql::scope::{Scope, normalize_ident};
use crate::sql::statement::{StatementPlan, object_name};

impl SqlPlanner<'_> {
    /// Casts and reorders a query's output to a table schema; `columns` names which table
    /// columns the query provides (others become NULL).
    pub(crate) fn conform_to(
        &self,
        plan: LogicalPlan,
        schema: &SchemaRef,
        columns: Option<&[usize]>,
        defaults: &[Option<ScalarValue>],
    ) -> Result<LogicalPlan> {
        // give the query's columns unique names first: INSERT is positional
        let names: Vec<String> = (0..plan.schema().len())
            .map(|i| format!("__c{i}"))
            .collect();
        let plan = LogicalPlanBuilder::from(plan)
            .alias_with_columns("__insert", &names)?
            .build();
        let ps = plan.schema().clone();
        let provided: Vec<usize> = match columns {
            Some(c) => c.to_vec(),
            None => (0..schema.fields().len()).collect(),
        };
        if ps.len() != provided.len() {
            return Err(Error::plan(format!(
                "INSERT has {} target columns but the query returns {}",
                provided.len(),
                ps.len()
            )));
        }
        let mut exprs = vec![];
        for (i, f) in schema.fields().iter().enumerate() {
            let e = match provided.iter().position(|p| *p == i) {
                Some(k) => cast_expr(Expr::Column(ps.column(k)), ps.data_type(k), f.data_type())?,
                None => match defaults.get(i).cloned().flatten() {
                    Some(v) => cast_expr(Expr::Literal(v.clone()), &v.data_type(), f.data_type())?,
                    None => Expr::Literal(ScalarValue::try_from(f.data_type())?),
                },
            };
            exprs.push(e.alias(f.name().clone()));
        }
        Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build())
    }

    fn table_schema(&self, name: &str) -> Result<(SchemaRef, Vec<Option<ScalarValue>>)> {
        match self.ctx.entry(name) {
            Some(CatalogEntry::Table(t)) => {
                let s = t.schema();
                let defaults = (0..s.fields().len()).map(|i| t.column_default(i)).collect();
                Ok((s, defaults))
            }
            Some(_) => Err(Error::plan(format!("\"{name}\" is a view, not a table"))),
            None => Err(self.ctx.table_not_found(name)),
        }
    }

    pub(crate) fn plan_insert(&self, i: &ast::Insert) -> Result<StatementPlan> {
        let table = match &i.table {
            ast::TableObject::TableName(n) => object_name(n)?,
            other => {
                return Err(Error::not_implemented(format!(
                    "INSERT INTO {other} is not supported"
                )));
            }
        };
        if i.or.is_some() || i.on.is_some() || i.returning.is_some() || i.overwrite {
            return Err(Error::not_implemented(
                "INSERT OR/ON CONFLICT/RETURNING/OVERWRITE are not supported",
            ));
        }
        let (schema, defaults) = self.table_schema(&table)?;
        let columns = if i.columns.is_empty() {
            None
        } else {
            let mut idx = vec![];
            for c in &i.columns {
                let n =
                    c.0.last()
                        .and_then(|p| p.as_ident())
                        .map(normalize_ident)
                        .unwrap_or_default();
                let k = schema.index_of(&n).map_err(|_| {
                    Error::not_found(format!(
                        "column \"{n}\" of table \"{table}\" does not exist"
                    ))
                })?;
                if idx.contains(&k) {
                    return Err(Error::plan(format!(
                        "column \"{n}\" specified more than once"
                    )));
                }
                idx.push(k);
            }
            Some(idx)
        };
        let source = i.source.as_ref().ok_or_else(|| {
            Error::not_implemented("INSERT without a query or VALUES is not supported")
        })?;
        let plan = self.plan_query(source, None)?;
        let plan = self.conform_to(plan, &schema, columns.as_deref(), &defaults)?;
        Ok(StatementPlan::Insert {
            table,
            source: plan,
        })
    }

    /// A scan of a table for DELETE/UPDATE, with the scope its expressions are planned in.
    fn dml_scan(&self, table_with_alias: &ast::TableWithJoins) -> Result<(String, LogicalPlan)> {
        if !table_with_alias.joins.is_empty() {
            return Err(Error::not_implemented(
                "DELETE/UPDATE with joins are not supported",
            ));
        }
        let (name, alias) = match &table_with_alias.relation {
            ast::TableFactor::Table { name, alias, .. } => (
                object_name(name)?,
                alias.as_ref().map(|a| normalize_ident(&a.name)),
            ),
            other => {
                return Err(Error::not_implemented(format!(
                    "DELETE/UPDATE of {other} is not supported"
                )));
            }
        };
        let provider = match self.ctx.entry(&name) {
            Some(CatalogEntry::Table(t)) => t,
            Some(_) => return Err(Error::plan(format!("cannot modify view \"{name}\""))),
            None => return Err(self.ctx.table_not_found(&name)),
        };
        let plan = LogicalPlanBuilder::scan(alias.as_deref().unwrap_or(&name), provider)?.build();
        Ok((name, plan))
    }

    pub(crate) fn plan_delete(&self, d: &ast::Delete) -> Result<StatementPlan> {
        let from = match &d.from {
            ast::FromTable::WithFromKeyword(f) | ast::FromTable::WithoutKeyword(f) => f,
        };
        if from.len() != 1 || d.using.is_some() || d.returning.is_some() || d.limit.is_some() {
            return Err(Error::not_implemented(
                "DELETE supports one table with an optional WHERE",
            ));
        }
        let (table, scan) = self.dml_scan(&from[0])?;
        let scope = Scope::new(scan.schema().clone());
        let (keep, removed) = match &d.selection {
            None => (
                LogicalPlanBuilder::from(scan.clone())
                    .filter(Expr::Literal(ScalarValue::Boolean(Some(false))))?
                    .build(),
                scan,
            ),
            Some(w) => {
                let p = self.sql_to_expr(w, &scope)?;
                // keep rows where the predicate is not true (false or NULL)
                let keep = Expr::IsBool(Box::new(p.clone()), Some(true), true);
                (
                    LogicalPlanBuilder::from(scan.clone()).filter(keep)?.build(),
                    LogicalPlanBuilder::from(scan).filter(p)?.build(),
                )
            }
        };
        Ok(StatementPlan::Delete {
            table,
            keep,
            removed,
        })
    }

    pub(crate) fn plan_update(&self, u: &ast::Update) -> Result<StatementPlan> {
        if u.from.is_some() || u.returning.is_some() || u.limit.is_some() {
            return Err(Error::not_implemented(
                "UPDATE ... FROM/RETURNING/LIMIT is not supported",
            ));
        }
        let (table, scan) = self.dml_scan(&u.table)?;
        let schema = scan.schema().clone();
        let scope = Scope::new(schema.clone());
        let predicate = match &u.selection {
            Some(w) => Some(self.sql_to_expr(w, &scope)?),
            None => None,
        };
        let mut new_values: Vec<Option<Expr>> = vec![None; schema.len()];
        for a in &u.assignments {
            let col = match &a.target {
                ast::AssignmentTarget::ColumnName(n) => object_name(n)?,
                other => {
                    return Err(Error::not_implemented(format!(
                        "assignment to {other} is not supported"
                    )));
                }
            };
            let k = (0..schema.len())
                .find(|i| schema.field(*i).name() == &col)
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "column \"{col}\" of table \"{table}\" does not exist"
                    ))
                })?;
            new_values[k] = Some(self.sql_to_expr(&a.value, &scope)?);
        }
        let mut exprs = vec![];
        for (k, v) in new_values.into_iter().enumerate() {
            let old = Expr::Column(schema.column(k));
            let t = schema.data_type(k).clone();
            let e = match v {
                None => old,
                Some(v) => {
                    let v = v.cast_to(t.clone());
                    match &predicate {
                        None => v,
                        Some(p) => Expr::Case {
                            operand: None,
                            when_then: vec![(p.clone(), v)],
                            else_expr: Some(Box::new(old)),
                        },
                    }
                }
            };
            exprs.push(e.alias(schema.field(k).name().clone()));
        }
        let contents = LogicalPlanBuilder::from(scan.clone())
            .project(exprs)?
            .build();
        let changed = match predicate {
            Some(p) => LogicalPlanBuilder::from(scan).filter(p)?.build(),
            None => scan,
        };
        Ok(StatementPlan::Update {
            table,
            contents,
            changed,
        })
    }
}
