//! Table functions in FROM: `range(...)`, `generate_series(...)`, `read_parquet('path')`, `read_csv('path', ...)`.

use std::sync::Arc;

use datafusion_common::ScalarValue;
use sqlparser::ast::{self, FunctionArg, FunctionArgExpr};

use crate::catalog::range::RangeTable;
use crate::error::{Error, Result};
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::plan::LogicalPlan;
use crate::sql::planner::SqlPlanner;
use crate::sql::relation::file_stem;
use crate::sql::scope::{Scope, normalize_ident};

impl SqlPlanner<'_> {
    /// Plans a table function call.
    pub(crate) fn plan_table_function(
        &self,
        name: &str,
        args: &[FunctionArg],
        outer: Option<&Scope>,
    ) -> Result<LogicalPlan> {
        let _ = outer;
        let mut positional = vec![];
        let mut named: Vec<(String, ScalarValue)> = vec![];
        for a in args {
            match a {
                // `option = value` (DuckDB style) names an option
                FunctionArg::Unnamed(FunctionArgExpr::Expr(ast::Expr::BinaryOp {
                    left,
                    op: ast::BinaryOperator::Eq,
                    right,
                })) if matches!(left.as_ref(), ast::Expr::Identifier(_)) => {
                    let ast::Expr::Identifier(id) = left.as_ref() else {
                        unreachable!()
                    };
                    named.push((normalize_ident(id), self.const_value(right)?));
                }
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => {
                    positional.push(self.const_value(e)?)
                }
                FunctionArg::Named {
                    name,
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => named.push((normalize_ident(name), self.const_value(e)?)),
                FunctionArg::ExprNamed {
                    name,
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => named.push((name.to_string().to_lowercase(), self.const_value(e)?)),
                other => {
                    return Err(Error::plan(format!(
                        "unsupported argument {other} to {name}()"
                    )));
                }
            }
        }
        match name {
            "range" | "generate_series" => {
                let ints = positional
                    .iter()
                    .map(|v| match v.cast_to(&arrow::datatypes::DataType::Int64) {
                        Ok(ScalarValue::Int64(Some(n))) => Ok(n),
                        _ => Err(Error::type_mismatch(format!(
                            "{name}() needs integer arguments, got {v}"
                        ))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let (start, stop, step) = match ints.as_slice() {
                    [stop] => (0, *stop, 1),
                    [start, stop] => (*start, *stop, 1),
                    [start, stop, step] => (*start, *stop, *step),
                    _ => return Err(Error::plan(format!("{name}() takes 1 to 3 arguments"))),
                };
                if step == 0 {
                    return Err(Error::plan(format!("{name}() step must not be zero")));
                }
                let inclusive = name == "generate_series";
                let t = RangeTable::new(name, start, stop, step, inclusive);
                Ok(LogicalPlanBuilder::scan(name, Arc::new(t))?.build())
            }
            "read_parquet" | "read_csv" | "read_csv_auto" => {
                if positional.len() > 1 {
                    return Err(Error::plan(format!(
                        "{name}() takes one path; give options by name, e.g. header = true"
                    )));
                }
                let path = match positional.first() {
                    Some(ScalarValue::Utf8(Some(p))) => p.clone(),
                    _ => {
                        return Err(Error::plan(format!(
                            "{name}() needs a path string as its first argument"
                        )));
                    }
                };
                let format = if name == "read_parquet" {
                    "parquet"
                } else {
                    "csv"
                };
                let options: Vec<(String, String)> = named
                    .into_iter()
                    .map(|(k, v)| {
                        let s = match v {
                            ScalarValue::Utf8(Some(s)) => s,
                            other => other.to_string(),
                        };
                        (k, s)
                    })
                    .collect();
                let t = self.ctx.file_table(&path, Some(format), &options)?;
                Ok(LogicalPlanBuilder::scan(file_stem(&path), t)?.build())
            }
            other => Err(Error::not_found(format!(
                "table function {other}() does not exist"
            ))),
        }
    }

    /// Evaluates a constant argument.
    fn const_value(&self, e: &ast::Expr) -> Result<ScalarValue> {
        let scope = Scope::empty(None);
        let expr = self.sql_to_expr(e, &scope)?;
        self.eval_const(expr)
    }
}
