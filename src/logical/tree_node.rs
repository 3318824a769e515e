//! `TreeNode` (from datafusion-common) for `Expr` and `LogicalPlan`, so rewrites
//! use `transform_up`/`transform_down`/`apply` and report whether they changed anything.

use std::sync::Arc;

use datafusion_common::Result as DfResult;
use datafusion_common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};

use crate::logical::expr::{AggregateCall, Expr, ScalarCall, SortExpr};
use crate::logical::plan::LogicalPlan;

impl TreeNode for Expr {
    fn apply_children<'n, F: FnMut(&'n Self) -> DfResult<TreeNodeRecursion>>(
        &'n self,
        mut f: F,
    ) -> DfResult<TreeNodeRecursion> {
        for c in self.children() {
            if f(c)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn map_children<F: FnMut(Self) -> DfResult<Transformed<Self>>>(
        self,
        mut f: F,
    ) -> DfResult<Transformed<Self>> {
        let mut changed = false;
        let mut go = |e: Expr| -> DfResult<Expr> {
            let t = f(e)?;
            changed |= t.transformed;
            Ok(t.data)
        };
        let go_box = |e: Box<Expr>,
                      go: &mut dyn FnMut(Expr) -> DfResult<Expr>|
         -> DfResult<Box<Expr>> { Ok(Box::new(go(*e)?)) };
        let new = match self {
            e
            @ (Expr::Column(_) | Expr::OuterColumn(..) | Expr::Literal(_) | Expr::Wildcard(_)) => e,
            e @ (Expr::ScalarSubquery(_) | Expr::Exists { .. }) => e,
            Expr::Alias(e, n) => Expr::Alias(go_box(e, &mut go)?, n),
            Expr::Binary(l, op, r) => {
                let l = go_box(l, &mut go)?;
                let r = go_box(r, &mut go)?;
                Expr::Binary(l, op, r)
            }
            Expr::Not(e) => Expr::Not(go_box(e, &mut go)?),
            Expr::Negative(e) => Expr::Negative(go_box(e, &mut go)?),
            Expr::IsNull(e) => Expr::IsNull(go_box(e, &mut go)?),
            Expr::IsNotNull(e) => Expr::IsNotNull(go_box(e, &mut go)?),
            Expr::IsBool(e, v, n) => Expr::IsBool(go_box(e, &mut go)?, v, n),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => Expr::Between {
                expr: go_box(expr, &mut go)?,
                negated,
                low: go_box(low, &mut go)?,
                high: go_box(high, &mut go)?,
            },
            Expr::Like {
                negated,
                expr,
                pattern,
                case_insensitive,
                escape,
            } => Expr::Like {
                negated,
                expr: go_box(expr, &mut go)?,
                pattern: go_box(pattern, &mut go)?,
                case_insensitive,
                escape,
            },
            Expr::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: go_box(expr, &mut go)?,
                list: list
                    .into_iter()
                    .map(&mut go)
                    .collect::<DfResult<Vec<_>>>()?,
                negated,
            },
            Expr::Case {
                operand,
                when_then,
                else_expr,
            } => Expr::Case {
                operand: match operand {
                    Some(o) => Some(go_box(o, &mut go)?),
                    None => None,
                },
                when_then: when_then
                    .into_iter()
                    .map(|(w, t)| Ok((go(w)?, go(t)?)))
                    .collect::<DfResult<Vec<_>>>()?,
                else_expr: match else_expr {
                    Some(e) => Some(go_box(e, &mut go)?),
                    None => None,
                },
            },
            Expr::Cast {
                expr,
                data_type,
                try_,
            } => Expr::Cast {
                expr: go_box(expr, &mut go)?,
                data_type,
                try_,
            },
            Expr::ScalarFunction(c) => Expr::ScalarFunction(ScalarCall {
                func: c.func,
                args: c
                    .args
                    .into_iter()
                    .map(&mut go)
                    .collect::<DfResult<Vec<_>>>()?,
            }),
            Expr::Aggregate(a) => Expr::Aggregate(AggregateCall {
                func: a.func,
                args: a
                    .args
                    .into_iter()
                    .map(&mut go)
                    .collect::<DfResult<Vec<_>>>()?,
                distinct: a.distinct,
                filter: match a.filter {
                    Some(f) => Some(go_box(f, &mut go)?),
                    None => None,
                },
            }),
            Expr::Window(w) => {
                let mut w = *w;
                w.args = w
                    .args
                    .into_iter()
                    .map(&mut go)
                    .collect::<DfResult<Vec<_>>>()?;
                w.partition_by = w
                    .partition_by
                    .into_iter()
                    .map(&mut go)
                    .collect::<DfResult<Vec<_>>>()?;
                w.order_by = w
                    .order_by
                    .into_iter()
                    .map(|s| {
                        Ok(SortExpr {
                            expr: go(s.expr)?,
                            asc: s.asc,
                            nulls_first: s.nulls_first,
                        })
                    })
                    .collect::<DfResult<Vec<_>>>()?;
                Expr::Window(Box::new(w))
            }
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => Expr::InSubquery {
                expr: go_box(expr, &mut go)?,
                subquery,
                negated,
            },
        };
        Ok(Transformed::new_transformed(new, changed))
    }
}

impl TreeNode for LogicalPlan {
    fn apply_children<'n, F: FnMut(&'n Self) -> DfResult<TreeNodeRecursion>>(
        &'n self,
        mut f: F,
    ) -> DfResult<TreeNodeRecursion> {
        for c in self.inputs() {
            if let TreeNodeRecursion::Stop = f(c.as_ref())? {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn map_children<F: FnMut(Self) -> DfResult<Transformed<Self>>>(
        self,
        mut f: F,
    ) -> DfResult<Transformed<Self>> {
        let inputs = self.inputs();
        if inputs.is_empty() {
            return Ok(Transformed::no(self));
        }
        let mut changed = false;
        let mut new_inputs = Vec::with_capacity(inputs.len());
        for i in inputs {
            let t = f(i.as_ref().clone())?;
            changed |= t.transformed;
            new_inputs.push(Arc::new(t.data));
        }
        if !changed {
            return Ok(Transformed::no(self));
        }
        let new = self.with_new_inputs(new_inputs)?;
        Ok(Transformed::yes(new))
    }
}

/// Rewrites every expression of a plan node with `f` (not its inputs), rebuilding the node.
pub fn map_expressions(
    plan: LogicalPlan,
    mut f: impl FnMut(Expr) -> crate::error::Result<Expr>,
) -> crate::error::Result<LogicalPlan> {
    use crate::logical::plan::*;
    Ok(match plan {
        LogicalPlan::Projection(p) => {
            let exprs = p
                .exprs
                .into_iter()
                .map(|e| keep_name(e, &mut f))
                .collect::<crate::error::Result<Vec<_>>>()?;
            LogicalPlan::Projection(Projection::try_new(exprs, p.input)?)
        }
        LogicalPlan::Filter(x) => LogicalPlan::Filter(Filter::try_new(f(x.predicate)?, x.input)?),
        LogicalPlan::Aggregate(a) => {
            let g = a
                .group_exprs
                .into_iter()
                .map(|e| keep_name(e, &mut f))
                .collect::<crate::error::Result<Vec<_>>>()?;
            let ag = a
                .aggr_exprs
                .into_iter()
                .map(|e| keep_name(e, &mut f))
                .collect::<crate::error::Result<Vec<_>>>()?;
            LogicalPlan::Aggregate(Aggregate::try_new(a.input, g, ag)?)
        }
        LogicalPlan::Window(w) => {
            let e = w
                .window_exprs
                .into_iter()
                .map(|e| keep_name(e, &mut f))
                .collect::<crate::error::Result<Vec<_>>>()?;
            LogicalPlan::Window(Window::try_new(w.input, e)?)
        }
        LogicalPlan::Sort(s) => {
            let exprs = s
                .exprs
                .into_iter()
                .map(|se| {
                    Ok(SortExpr {
                        expr: f(se.expr)?,
                        asc: se.asc,
                        nulls_first: se.nulls_first,
                    })
                })
                .collect::<crate::error::Result<Vec<_>>>()?;
            LogicalPlan::Sort(Sort {
                exprs,
                input: s.input,
                fetch: s.fetch,
            })
        }
        LogicalPlan::Join(j) => {
            let on =
                j.on.into_iter()
                    .map(|(l, r)| Ok((f(l)?, f(r)?)))
                    .collect::<crate::error::Result<Vec<_>>>()?;
            let filter = match j.filter {
                Some(x) => Some(f(x)?),
                None => None,
            };
            let mut nj =
                Join::try_new(j.left, j.right, on, filter, j.join_type, j.null_equals_null)?;
            nj.null_aware = j.null_aware;
            LogicalPlan::Join(nj)
        }
        LogicalPlan::Values(v) => {
            let rows = v
                .rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(&mut f)
                        .collect::<crate::error::Result<Vec<_>>>()
                })
                .collect::<crate::error::Result<Vec<_>>>()?;
            LogicalPlan::Values(Values {
                schema: v.schema,
                rows,
            })
        }
        LogicalPlan::Repartition(r) => {
            let scheme = match r.scheme {
                RepartitionScheme::Hash(k, n) => RepartitionScheme::Hash(
                    k.into_iter()
                        .map(&mut f)
                        .collect::<crate::error::Result<Vec<_>>>()?,
                    n,
                ),
                s => s,
            };
            LogicalPlan::Repartition(Repartition {
                input: r.input,
                scheme,
            })
        }
        other => other,
    })
}

/// Rewrites an output expression, aliasing the result to the old output name if it changed,
/// so that rewrites never change a node's schema.
pub fn keep_name(
    e: Expr,
    f: &mut impl FnMut(Expr) -> crate::error::Result<Expr>,
) -> crate::error::Result<Expr> {
    let name = e.output_name();
    let qualified_column = matches!(e, Expr::Column(_));
    let new = f(e)?;
    if new.output_name() != name || (qualified_column && !matches!(new, Expr::Column(_))) {
        Ok(new.alias(name))
    } else {
        Ok(new)
    }
}
