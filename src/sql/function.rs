//! Function calls: scalar functions, aggregates (with DISTINCT, FILTER and ORDER BY inside the
//! call), and window functions (`OVER (PARTITION BY .. ORDER BY .. frame)`).

use datafusion_common::ScalarValue;
use sqlparser::ast::{
    self, DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArguments, WindowType,
};

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::functions::aggregate::ordered::OrderedAggregate;
use crate::logical::expr::{
    AggregateCall, Expr, FrameBound, FrameUnits, ScalarCall, WindowCall, WindowFrame, WindowFunc,
};
use crate::sql::expr::IdentFallback;
use crate::sql::planner::SqlPlanner;
use crate::sql::scope::Scope;

impl SqlPlanner<'_> {
    /// A call of a scalar function by name.
    pub(crate) fn call_scalar(&self, name: &str, args: Vec<Expr>) -> Result<Expr> {
        let func = self.ctx.functions().scalar_or_err(name)?;
        Ok(Expr::ScalarFunction(ScalarCall { func, args }))
    }

    /// Converts a function call.
    pub(crate) fn function(
        &self,
        f: &ast::Function,
        scope: &Scope,
        fb: &IdentFallback,
    ) -> Result<Expr> {
        let name = f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.to_lowercase())
            .unwrap_or_default();
        if name == "unnest" {
            return Err(Error::not_implemented(
                "UNNEST is only supported as a whole select-list item: SELECT unnest(list) [AS name] ...",
            ));
        }
        if !f.within_group.is_empty() {
            return Err(Error::not_implemented("WITHIN GROUP is not supported"));
        }
        // `agg(x ORDER BY k)`: the order an aggregate sees its rows in
        let mut order_by: &[ast::OrderByExpr] = &[];
        let (distinct, arg_list): (bool, Vec<FunctionArg>) = match &f.args {
            FunctionArguments::None => (false, vec![]),
            FunctionArguments::Subquery(_) => {
                return Err(Error::not_implemented(format!(
                    "{name}(subquery) is not supported"
                )));
            }
            FunctionArguments::List(l) => {
                for c in &l.clauses {
                    match c {
                        FunctionArgumentClause::OrderBy(keys) => {
                            order_by = keys.as_slice();
                        }
                        other => {
                            return Err(Error::not_implemented(format!(
                                "{other} inside {name}(...) is not supported"
                            )));
                        }
                    }
                }
                (
                    matches!(l.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
                    l.args.clone(),
                )
            }
        };
        let mut args = vec![];
        let mut star = false;
        for a in &arg_list {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => {
                    args.push(self.sql_to_expr_with(e, scope, fb)?)
                }
                FunctionArg::Unnamed(
                    FunctionArgExpr::Wildcard | FunctionArgExpr::QualifiedWildcard(_),
                ) => star = true,
                other => {
                    return Err(Error::not_implemented(format!(
                        "argument {other} of {name}() is not supported"
                    )));
                }
            }
        }
        if star && name != "count" {
            return Err(Error::plan(format!(
                "{name}(*) is not valid; only count(*) takes *"
            )));
        }
        let filter = match &f.filter {
            Some(x) => Some(Box::new(self.sql_to_expr_with(x, scope, fb)?)),
            None => None,
        };

        if !order_by.is_empty()
            && (f.over.is_some() || self.ctx.functions().aggregate(&name).is_none())
        {
            return Err(Error::plan(format!(
                "ORDER BY inside {name}(...) is only allowed for aggregate functions (not over a window)"
            )));
        }

        if let Some(over) = &f.over {
            let spec = match over {
                WindowType::WindowSpec(s) => s,
                WindowType::NamedWindow(n) => {
                    return Err(Error::not_implemented(format!(
                        "named window {n} is not supported"
                    )));
                }
            };
            if filter.is_some() {
                return Err(Error::not_implemented(
                    "FILTER on window functions is not supported",
                ));
            }
            let func = match name.as_str() {
                "row_number" => WindowFunc::RowNumber,
                "rank" => WindowFunc::Rank,
                "dense_rank" => WindowFunc::DenseRank,
                "percent_rank" => WindowFunc::PercentRank,
                "cume_dist" => WindowFunc::CumeDist,
                "ntile" => WindowFunc::Ntile,
                "lag" => WindowFunc::Lag,
                "lead" => WindowFunc::Lead,
                "first_value" => WindowFunc::FirstValue,
                "last_value" => WindowFunc::LastValue,
                "nth_value" => WindowFunc::NthValue,
                other => match self.ctx.functions().aggregate(other) {
                    Some(a) => WindowFunc::Aggregate(a),
                    None => return Err(self.ctx.functions().unknown(other)),
                },
            };
            let (min_args, max_args) = match func {
                WindowFunc::RowNumber
                | WindowFunc::Rank
                | WindowFunc::DenseRank
                | WindowFunc::PercentRank
                | WindowFunc::CumeDist => (0, 0),
                WindowFunc::Ntile | WindowFunc::FirstValue | WindowFunc::LastValue => (1, 1),
                WindowFunc::Lag | WindowFunc::Lead => (1, 3),
                WindowFunc::NthValue => (2, 2),
                WindowFunc::Aggregate(_) => (0, usize::MAX),
            };
            if args.len() < min_args || args.len() > max_args {
                let want = if min_args == max_args {
                    format!("{min_args}")
                } else {
                    format!("{min_args} to {max_args}")
                };
                return Err(Error::plan(format!(
                    "{name}() takes {want} arguments, got {}",
                    args.len()
                )));
            }
            let partition_by = spec
                .partition_by
                .iter()
                .map(|e| self.sql_to_expr_with(e, scope, fb))
                .collect::<Result<Vec<_>>>()?;
            let order_by = spec
                .order_by
                .iter()
                .map(|o| Ok(self.sort_key(self.sql_to_expr_with(&o.expr, scope, fb)?, &o.options)))
                .collect::<Result<Vec<_>>>()?;
            let frame = match &spec.window_frame {
                Some(fr) => self.window_frame(fr)?,
                None => WindowFrame::default_for(!order_by.is_empty()),
            };
            return Ok(Expr::Window(Box::new(WindowCall {
                func,
                args,
                distinct,
                partition_by,
                order_by,
                frame,
            })));
        }

        if let Some(agg) = self.ctx.functions().aggregate(&name) {
            if star && !args.is_empty() {
                return Err(Error::plan("count(*) takes no other arguments"));
            }
            if order_by.is_empty() {
                return Ok(Expr::Aggregate(AggregateCall {
                    func: agg,
                    args,
                    distinct,
                    filter,
                }));
            }
            let n_args = args.len();
            let mut all = args;
            let mut options = vec![];
            for o in order_by {
                let k = self.sort_key(self.sql_to_expr_with(&o.expr, scope, fb)?, &o.options);
                options.push(arrow::compute::SortOptions {
                    descending: !k.asc,
                    nulls_first: k.nulls_first,
                });
                all.push(k.expr);
            }
            return Ok(Expr::Aggregate(AggregateCall {
                func: Arc::new(OrderedAggregate::new(agg, n_args, options)),
                args: all,
                distinct,
                filter,
            }));
        }
        if distinct || filter.is_some() {
            return Err(Error::plan(format!(
                "{name}() is not an aggregate function; DISTINCT/FILTER are not allowed"
            )));
        }
        match name.as_str() {
            "if" | "iif" => {
                if args.len() != 3 {
                    return Err(Error::plan(format!("{name}() takes 3 arguments")));
                }
                let mut it = args.into_iter();
                let (c, a, b) = (it.next(), it.next(), it.next());
                match (c, a, b) {
                    (Some(c), Some(a), Some(b)) => Ok(Expr::Case {
                        operand: None,
                        when_then: vec![(c, a)],
                        else_expr: Some(Box::new(b)),
                    }),
                    _ => Err(Error::internal("if() arguments")),
                }
            }
            "current_date" | "current_timestamp" | "now" | "localtimestamp" if args.is_empty() => {
                self.call_scalar(
                    if name == "current_date" {
                        "current_date"
                    } else {
                        "now"
                    },
                    vec![],
                )
            }
            _ => self.call_scalar(&name, args),
        }
    }

    fn window_frame(&self, f: &ast::WindowFrame) -> Result<WindowFrame> {
        let units = match f.units {
            ast::WindowFrameUnits::Rows => FrameUnits::Rows,
            ast::WindowFrameUnits::Range => FrameUnits::Range,
            ast::WindowFrameUnits::Groups => FrameUnits::Groups,
        };
        let start = self.frame_bound(&f.start_bound, true)?;
        let end = match &f.end_bound {
            Some(b) => self.frame_bound(b, false)?,
            None => FrameBound::CurrentRow,
        };
        if matches!(start, FrameBound::UnboundedFollowing)
            || matches!(end, FrameBound::UnboundedPreceding)
        {
            return Err(Error::plan("invalid window frame bounds"));
        }
        if units == FrameUnits::Range
            && (matches!(start, FrameBound::Preceding(n) | FrameBound::Following(n) if n > 0)
                || matches!(end, FrameBound::Preceding(n) | FrameBound::Following(n) if n > 0))
        {
            return Err(Error::not_implemented(
                "RANGE frames with offsets are not supported; use ROWS",
            ));
        }
        Ok(WindowFrame { units, start, end })
    }

    fn frame_bound(&self, b: &ast::WindowFrameBound, _is_start: bool) -> Result<FrameBound> {
        let count = |e: &ast::Expr| -> Result<u64> {
            match self.const_count(e, "window frame offset")? {
                Some(n) => Ok(n as u64),
                None => Err(Error::plan("window frame offset must not be NULL")),
            }
        };
        Ok(match b {
            ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
            ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
            ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
            ast::WindowFrameBound::Preceding(Some(e)) => FrameBound::Preceding(count(e)?),
            ast::WindowFrameBound::Following(Some(e)) => FrameBound::Following(count(e)?),
        })
    }
}

/// A string literal expression.
pub fn string_lit(s: &str) -> Expr {
    Expr::Literal(ScalarValue::Utf8(Some(s.to_string())))
}
