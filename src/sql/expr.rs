//! SQL expressions → logical `Expr`: operators, literals, CASE, CAST,
//! subqueries, and SQL's special syntax (EXTRACT, SUBSTRING, TRIM, POSITION).
//! Types are coerced later, when the expression is added to a plan.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;
use sqlparser::ast::{self, BinaryOperator, CastKind, UnaryOperator, Value};

use crate::error::{Error, ErrorKind, Result, SqlSpan};
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::{BinaryOp, Expr, Subquery};
use crate::logical::expr_schema::check_single_column;
use crate::logical::expr_schema::coerce_expr;
use crate::logical::types::sql_to_arrow_type;
pub use crate::sql::literal::{datetime_field_name, interval_literal, literal};
use crate::sql::planner::{MAX_EXPR_DEPTH, SqlPlanner};
use crate::sql::scope::Scope;

/// A fallback for identifiers that do not resolve in scope (select-list aliases).
pub type IdentFallback<'f> = dyn Fn(&ast::Ident) -> Option<Expr> + 'f;

impl SqlPlanner<'_> {
    /// Converts a SQL expression in `scope`.
    pub fn sql_to_expr(&self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        self.sql_to_expr_with(e, scope, &|_| None)
    }

    /// Converts a SQL expression; unresolvable bare identifiers are tried with `fallback`.
    #[recursive::recursive]
    pub fn sql_to_expr_with(
        &self,
        e: &ast::Expr,
        scope: &Scope,
        fallback: &IdentFallback,
    ) -> Result<Expr> {
        let depth = self.expr_depth.get();
        if depth >= MAX_EXPR_DEPTH {
            return Err(Error::plan(format!(
                "expression is nested too deeply (more than {MAX_EXPR_DEPTH} levels); \
                 split it up, e.g. use IN (...) instead of a long chain of OR"
            ))
            .with_span(SqlSpan::from_parser(sqlparser::ast::Spanned::span(
                leftmost_leaf(e),
            ))));
        }
        self.expr_depth.set(depth + 1);
        let mut converted = self.convert(e, scope, fallback);
        self.expr_depth.set(depth);
        // type errors surface when the plan is built, without a position: check a whole
        // expression's types here, where its place in the SQL is known (other errors, e.g.
        // select-list aliases not in the input, are left to the plan builder)
        if depth == 0
            && let Ok(expr) = &converted
            && let Err(err) = coerce_expr(expr.clone(), &scope.schema)
            && err.kind() == ErrorKind::TypeMismatch
        {
            converted = Err(err);
        }
        // the innermost expression that failed names the place; its span is computed only then
        // (a span is the union of the subtree's spans: computing it on every level is quadratic)
        converted.map_err(|err| match err.span() {
            Some(_) => err,
            None => err.with_span(SqlSpan::from_parser(sqlparser::ast::Spanned::span(e))),
        })
    }

    fn convert(&self, e: &ast::Expr, scope: &Scope, fb: &IdentFallback) -> Result<Expr> {
        let rec = |x: &ast::Expr| self.sql_to_expr_with(x, scope, fb);
        let boxed = |x: &ast::Expr| -> Result<Box<Expr>> { Ok(Box::new(rec(x)?)) };
        Ok(match e {
            ast::Expr::Identifier(id) if id.quote_style.is_none() && is_reserved(&id.value) => {
                // sqlparser accepts `SELECT 1 + FROM t`, reading FROM as a name
                return Err(Error::new(
                    crate::error::ErrorKind::SqlSyntax,
                    format!("syntax error at or near {}", id.value.to_uppercase()),
                )
                .with_span(SqlSpan::from_parser(id.span)));
            }
            ast::Expr::Identifier(id) if self.aliases_first.get() && fb(id).is_some() => {
                return fb(id).ok_or_else(|| Error::internal("alias vanished"));
            }
            ast::Expr::Identifier(id) => match scope.resolve(std::slice::from_ref(id)) {
                Ok(x) => x,
                Err(err) => fb(id).ok_or(err)?,
            },
            ast::Expr::CompoundIdentifier(ids) => scope.resolve(ids)?,
            ast::Expr::Value(v) => Expr::Literal(literal(&v.value)?),
            ast::Expr::TypedString(ts) => {
                let text = match &ts.value.value {
                    Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                let t = sql_to_arrow_type(&ts.data_type)?;
                if let DataType::Interval(_) = t {
                    Expr::Literal(interval_literal(&text)?)
                } else {
                    Expr::Literal(ScalarValue::Utf8(Some(text))).cast_to(t)
                }
            }
            ast::Expr::Interval(i) => self.interval(i)?,
            ast::Expr::Nested(x) => rec(x)?,
            ast::Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Minus => match expr.as_ref() {
                    ast::Expr::Value(v) if matches!(v.value, Value::Number(..)) => {
                        let Value::Number(n, l) = &v.value else {
                            unreachable!()
                        };
                        Expr::Literal(literal(&Value::Number(format!("-{n}"), *l))?)
                    }
                    other => Expr::Negative(boxed(other)?),
                },
                UnaryOperator::Plus => rec(expr)?,
                UnaryOperator::Not => Expr::Not(boxed(expr)?),
                other => {
                    return Err(Error::not_implemented(format!(
                        "unary operator {other} is not supported"
                    )));
                }
            },
            ast::Expr::BinaryOp { left, op, right } => self.binary(rec(left)?, op, rec(right)?)?,
            ast::Expr::IsNull(x) => Expr::IsNull(boxed(x)?),
            ast::Expr::IsNotNull(x) => Expr::IsNotNull(boxed(x)?),
            ast::Expr::IsTrue(x) => Expr::IsBool(boxed(x)?, Some(true), false),
            ast::Expr::IsFalse(x) => Expr::IsBool(boxed(x)?, Some(false), false),
            ast::Expr::IsUnknown(x) => Expr::IsBool(boxed(x)?, None, false),
            ast::Expr::IsNotTrue(x) => Expr::IsBool(boxed(x)?, Some(true), true),
            ast::Expr::IsNotFalse(x) => Expr::IsBool(boxed(x)?, Some(false), true),
            ast::Expr::IsNotUnknown(x) => Expr::IsBool(boxed(x)?, None, true),
            ast::Expr::IsDistinctFrom(a, b) | ast::Expr::IsNotDistinctFrom(a, b) => {
                let distinct = matches!(e, ast::Expr::IsDistinctFrom(..));
                // sqlparser binds `a IS DISTINCT FROM b AND c` as `a IS DISTINCT FROM (b AND c)`;
                // without explicit parentheses, AND/OR bind looser: `(a IS DISTINCT FROM b) AND c`
                if let ast::Expr::BinaryOp { left, op, right } = b.as_ref()
                    && matches!(op, BinaryOperator::And | BinaryOperator::Or)
                {
                    let inner = if distinct {
                        ast::Expr::IsDistinctFrom(a.clone(), left.clone())
                    } else {
                        ast::Expr::IsNotDistinctFrom(a.clone(), left.clone())
                    };
                    let fixed = ast::Expr::BinaryOp {
                        left: Box::new(inner),
                        op: op.clone(),
                        right: right.clone(),
                    };
                    return self.convert(&fixed, scope, fb);
                }
                let op = if distinct {
                    BinaryOp::IsDistinctFrom
                } else {
                    BinaryOp::IsNotDistinctFrom
                };
                Expr::binary(rec(a)?, op, rec(b)?)
            }
            ast::Expr::InList {
                expr,
                list,
                negated,
            } => {
                if list.is_empty() {
                    // x IN () is false, x NOT IN () true
                    return Ok(Expr::Literal(ScalarValue::Boolean(Some(*negated))));
                }
                Expr::InList {
                    expr: boxed(expr)?,
                    list: list.iter().map(rec).collect::<Result<Vec<_>>>()?,
                    negated: *negated,
                }
            }
            ast::Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let plan = self.plan_query(subquery, Some(scope))?;
                check_single_column(&plan, "IN")?;
                Expr::InSubquery {
                    expr: boxed(expr)?,
                    subquery: Subquery {
                        plan: Arc::new(plan),
                    },
                    negated: *negated,
                }
            }
            ast::Expr::Between {
                expr,
                negated,
                low,
                high,
            } => Expr::Between {
                expr: boxed(expr)?,
                negated: *negated,
                low: boxed(low)?,
                high: boxed(high)?,
            },
            ast::Expr::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | ast::Expr::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Err(Error::not_implemented("LIKE ANY is not supported"));
                }
                let escape = match escape_char {
                    None => None,
                    Some(v) => match &v.value {
                        Value::SingleQuotedString(s) if s.chars().count() == 1 => s.chars().next(),
                        Value::SingleQuotedString(s) if s.is_empty() => None,
                        // an unknown escape character makes the result unknown
                        Value::Null => {
                            rec(expr)?;
                            rec(pattern)?;
                            return Ok(Expr::Literal(ScalarValue::Boolean(None)));
                        }
                        other => {
                            return Err(Error::plan(format!(
                                "ESCAPE must be a single character, got {other}"
                            )));
                        }
                    },
                };
                Expr::Like {
                    negated: *negated,
                    expr: boxed(expr)?,
                    pattern: boxed(pattern)?,
                    case_insensitive: matches!(e, ast::Expr::ILike { .. }),
                    escape,
                }
            }
            ast::Expr::Cast {
                kind,
                expr,
                data_type,
                format,
                ..
            } => {
                if format.is_some() {
                    return Err(Error::not_implemented("CAST ... FORMAT is not supported"));
                }
                let t = sql_to_arrow_type(data_type)?;
                let inner = rec(expr)?;
                // interval strings need the interval parser, not Arrow's cast
                if let (DataType::Interval(_), Expr::Literal(ScalarValue::Utf8(Some(s)))) =
                    (&t, &inner)
                {
                    return interval_literal(s).map(Expr::Literal);
                }
                Expr::Cast {
                    expr: Box::new(inner),
                    data_type: t,
                    try_: matches!(kind, CastKind::TryCast | CastKind::SafeCast),
                }
            }
            ast::Expr::Extract { field, expr, .. } => {
                let name = datetime_field_name(field);
                const FIELDS: &[&str] = &[
                    "year",
                    "month",
                    "week",
                    "day",
                    "dow",
                    "doy",
                    "hour",
                    "minute",
                    "second",
                    "millisecond",
                    "microsecond",
                    "nanosecond",
                    "quarter",
                    "decade",
                    "century",
                    "millennium",
                    "epoch",
                    "isodow",
                    "isoyear",
                ];
                if !FIELDS.contains(&name.as_str()) {
                    return Err(Error::plan(format!(
                        "EXTRACT: unknown field '{name}' (fields: {})",
                        FIELDS.join(", ")
                    )));
                }
                self.call_scalar(
                    "date_part",
                    vec![Expr::Literal(ScalarValue::Utf8(Some(name))), rec(expr)?],
                )?
            }
            ast::Expr::Ceil { expr, field } | ast::Expr::Floor { expr, field } => {
                let f = if matches!(e, ast::Expr::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                match field {
                    ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) => {
                        self.call_scalar(f, vec![rec(expr)?])?
                    }
                    ast::CeilFloorKind::Scale(v) => {
                        self.call_scalar(f, vec![rec(expr)?, Expr::Literal(literal(&v.value)?)])?
                    }
                    other => {
                        return Err(Error::not_implemented(format!(
                            "{f}(... TO {other:?}) is not supported"
                        )));
                    }
                }
            }
            ast::Expr::Position { expr, r#in } => {
                self.call_scalar("position", vec![rec(r#in)?, rec(expr)?])?
            }
            ast::Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                if substring_from.is_none() && substring_for.is_none() {
                    return Err(Error::plan("substr() takes 2 or 3 arguments, got 1"));
                }
                let mut args = vec![rec(expr)?];
                args.push(match substring_from {
                    Some(f) => rec(f)?,
                    None => Expr::Literal(ScalarValue::Int64(Some(1))),
                });
                if let Some(f) = substring_for {
                    args.push(rec(f)?);
                }
                self.call_scalar("substr", args)?
            }
            ast::Expr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                let f = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                let mut args = vec![rec(expr)?];
                if let Some(w) = trim_what {
                    args.push(rec(w)?);
                } else if let Some(chars) = trim_characters
                    && let Some(c) = chars.first()
                {
                    args.push(rec(c)?);
                }
                self.call_scalar(f, args)?
            }
            ast::Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => Expr::Case {
                operand: operand.as_ref().map(|o| boxed(o)).transpose()?,
                when_then: conditions
                    .iter()
                    .map(|c| Ok((rec(&c.condition)?, rec(&c.result)?)))
                    .collect::<Result<Vec<_>>>()?,
                else_expr: else_result.as_ref().map(|x| boxed(x)).transpose()?,
            },
            ast::Expr::Function(f) => self.function(f, scope, fb)?,
            ast::Expr::Exists { subquery, negated } => {
                let plan = self.plan_query(subquery, Some(scope))?;
                Expr::Exists {
                    subquery: Subquery {
                        plan: Arc::new(plan),
                    },
                    negated: *negated,
                }
            }
            ast::Expr::Subquery(q) => {
                let plan = self.plan_query(q, Some(scope))?;
                check_single_column(&plan, "scalar")?;
                Expr::ScalarSubquery(Subquery {
                    plan: Arc::new(plan),
                })
            }
            ast::Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => self.quantified(left, compare_op, right, scope, fb, true)?,
            ast::Expr::AllOp {
                left,
                compare_op,
                right,
            } => self.quantified(left, compare_op, right, scope, fb, false)?,
            ast::Expr::Collate { expr, .. } => rec(expr)?,
            other => {
                return Err(Error::not_implemented(format!(
                    "expression is not supported: {other}"
                )));
            }
        })
    }

    fn binary(&self, l: Expr, op: &BinaryOperator, r: Expr) -> Result<Expr> {
        let op = match op {
            BinaryOperator::Plus => BinaryOp::Plus,
            BinaryOperator::Minus => BinaryOp::Minus,
            BinaryOperator::Multiply => BinaryOp::Multiply,
            BinaryOperator::Divide => BinaryOp::Divide,
            BinaryOperator::Modulo => BinaryOp::Modulo,
            BinaryOperator::StringConcat => BinaryOp::StringConcat,
            BinaryOperator::Gt => BinaryOp::Gt,
            BinaryOperator::Lt => BinaryOp::Lt,
            BinaryOperator::GtEq => BinaryOp::GtEq,
            BinaryOperator::LtEq => BinaryOp::LtEq,
            BinaryOperator::Eq => BinaryOp::Eq,
            BinaryOperator::NotEq => BinaryOp::NotEq,
            BinaryOperator::And => BinaryOp::And,
            BinaryOperator::Or => BinaryOp::Or,
            BinaryOperator::Spaceship => BinaryOp::IsNotDistinctFrom,
            BinaryOperator::DuckIntegerDivide | BinaryOperator::MyIntegerDivide => {
                // integer division: truncate the quotient
                let q = Expr::binary(l, BinaryOp::Divide, r);
                return Ok(q.cast_to(DataType::Int64));
            }
            BinaryOperator::Xor => {
                // a XOR b = (a OR b) AND NOT (a AND b)
                let either = Expr::binary(l.clone(), BinaryOp::Or, r.clone());
                let both = Expr::binary(l, BinaryOp::And, r);
                return Ok(either.and(both.negate()));
            }
            other => {
                return Err(Error::not_implemented(format!(
                    "operator {other} is not supported"
                )));
            }
        };
        Ok(Expr::binary(l, op, r))
    }

    /// `x op ANY (subquery)` / `x op ALL (subquery)` with SQL's NULL semantics, as a correlated
    /// scalar subquery over the values: ANY is true if some comparison is true, NULL if none is
    /// true but some is NULL, else false; ALL is false if some comparison is false, NULL if none
    /// is false but some is NULL, else true.
    fn quantified(
        &self,
        left: &ast::Expr,
        op: &BinaryOperator,
        right: &ast::Expr,
        scope: &Scope,
        fb: &IdentFallback,
        any: bool,
    ) -> Result<Expr> {
        let query = match right {
            ast::Expr::Subquery(q) => q,
            ast::Expr::Nested(inner) => match inner.as_ref() {
                ast::Expr::Subquery(q) => q,
                _ => return Err(Error::not_implemented("ANY/ALL need a subquery")),
            },
            _ => return Err(Error::not_implemented("ANY/ALL need a subquery")),
        };
        // `= ANY` is IN and `<> ALL` is NOT IN
        if any && matches!(op, BinaryOperator::Eq) {
            let plan = self.plan_query(query, Some(scope))?;
            check_single_column(&plan, "ANY")?;
            return Ok(Expr::InSubquery {
                expr: Box::new(self.sql_to_expr_with(left, scope, fb)?),
                subquery: Subquery {
                    plan: Arc::new(plan),
                },
                negated: false,
            });
        }
        if !any && matches!(op, BinaryOperator::NotEq) {
            let plan = self.plan_query(query, Some(scope))?;
            check_single_column(&plan, "ALL")?;
            return Ok(Expr::InSubquery {
                expr: Box::new(self.sql_to_expr_with(left, scope, fb)?),
                subquery: Subquery {
                    plan: Arc::new(plan),
                },
                negated: true,
            });
        }
        let values = self.plan_query(query, Some(scope))?;
        check_single_column(&values, if any { "ANY" } else { "ALL" })?;
        let alias = self.fresh_name("quantified");
        let values = LogicalPlanBuilder::from(values)
            .alias_with_columns(alias, &["__v".to_string()])?
            .build();
        // the tested value is evaluated against the outer row
        let x = to_outer_refs(self.sql_to_expr_with(left, scope, fb)?, scope)?;
        let v = Expr::Column(values.schema().column(0));
        let cmp = self.binary(x, op, v)?;
        let bool_or = self
            .ctx
            .functions()
            .aggregate("bool_or")
            .ok_or_else(|| Error::internal("bool_or is not registered"))?;
        let agg = |arg: Expr| {
            Expr::Aggregate(crate::logical::expr::AggregateCall {
                func: bool_or.clone(),
                args: vec![arg],
                distinct: false,
                filter: None,
            })
        };
        let decisive = if any {
            cmp.clone()
        } else {
            cmp.clone().negate()
        };
        let unknown = Expr::IsNull(Box::new(cmp));
        let aggregates = vec![agg(decisive), agg(unknown)];
        let agg_plan = LogicalPlanBuilder::from(values)
            .aggregate(vec![], aggregates)?
            .build();
        let s = agg_plan.schema().clone();
        let case = Expr::Case {
            operand: None,
            when_then: vec![
                (
                    Expr::Column(s.column(0)),
                    Expr::Literal(ScalarValue::Boolean(Some(any))),
                ),
                (
                    Expr::Column(s.column(1)),
                    Expr::Literal(ScalarValue::Boolean(None)),
                ),
            ],
            else_expr: Some(Box::new(Expr::Literal(ScalarValue::Boolean(Some(!any))))),
        };
        let plan = LogicalPlanBuilder::from(agg_plan)
            .project(vec![case.alias("__quantified")])?
            .build();
        Ok(Expr::ScalarSubquery(Subquery {
            plan: Arc::new(plan),
        }))
    }

    fn interval(&self, i: &ast::Interval) -> Result<Expr> {
        let text = match i.value.as_ref() {
            ast::Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => s.clone(),
                Value::Number(n, _) => n.clone(),
                other => other.to_string(),
            },
            other => {
                return Err(Error::not_implemented(format!(
                    "INTERVAL needs a literal, got {other}"
                )));
            }
        };
        let text = match &i.leading_field {
            Some(f) => format!("{text} {}", datetime_field_name(f)),
            None => text,
        };
        Ok(Expr::Literal(interval_literal(&text)?))
    }
}

/// Keywords that can never be a column name without quotes.
fn is_reserved(word: &str) -> bool {
    const RESERVED: &[&str] = &[
        "FROM",
        "WHERE",
        "SELECT",
        "GROUP",
        "ORDER",
        "HAVING",
        "LIMIT",
        "OFFSET",
        "UNION",
        "INTERSECT",
        "EXCEPT",
        "JOIN",
        "ON",
        "AS",
        "AND",
        "OR",
        "NOT",
        "BY",
        "INTO",
        "VALUES",
        "WINDOW",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Rewrites columns of `scope` (the outer query) into outer references, for expressions that
/// are moved into a subquery.
fn to_outer_refs(e: Expr, scope: &Scope) -> Result<Expr> {
    use datafusion_common::tree_node::{Transformed, TreeNode};
    Ok(e.transform_up(|x| {
        Ok(match x {
            Expr::Column(c) => {
                let i = scope.schema.index_of(&c)?;
                Transformed::yes(Expr::OuterColumn(c, scope.schema.data_type(i).clone()))
            }
            other => Transformed::no(other),
        })
    })?
    .data)
}

/// The first operand of an operator chain, found without recursion (a span of the whole chain
/// would walk all of it, recursively).
fn leftmost_leaf(mut e: &ast::Expr) -> &ast::Expr {
    loop {
        e = match e {
            ast::Expr::BinaryOp { left, .. } => left,
            ast::Expr::UnaryOp { expr, .. } | ast::Expr::Nested(expr) => expr,
            _ => return e,
        }
    }
}
