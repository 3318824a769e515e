//! `LogicalPlanBuilder`: the one way SQL and the DataFrame API build plans.
//! Every method resolves names and applies the coercion rules to the
//! expressions it is given, so errors surface where the mistake was made.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::Field;
use datafusion_common::ScalarValue;

use crate::catalog::TableProvider;
use crate::error::{Error, Result};
use crate::logical::coercion::{common_supertype, comparison_type};
use crate::logical::expr::{BinaryOp, Expr, SortExpr};
use crate::logical::expr_schema::{cast_expr, coerce_expr, coerce_to_boolean};
use crate::logical::plan::*;
use crate::logical::schema::{Column, PlanSchema};
use crate::logical::types::sql_type_name;
use crate::logical::window::{WindowCall, WindowFrame, WindowFunc};

/// Builds a [`LogicalPlan`] step by step.
#[derive(Debug, Clone)]
pub struct LogicalPlanBuilder {
    plan: Arc<LogicalPlan>,
}

impl From<LogicalPlan> for LogicalPlanBuilder {
    fn from(plan: LogicalPlan) -> Self {
        LogicalPlanBuilder {
            plan: Arc::new(plan),
        }
    }
}

impl From<Arc<LogicalPlan>> for LogicalPlanBuilder {
    fn from(plan: Arc<LogicalPlan>) -> Self {
        LogicalPlanBuilder { plan }
    }
}

impl LogicalPlanBuilder {
    /// Starts from a table scan.
    pub fn scan(name: impl Into<String>, source: Arc<dyn TableProvider>) -> Result<Self> {
        Ok(LogicalPlan::TableScan(TableScan::try_new(name, source, None)?).into())
    }

    /// Starts from no rows, or one row without columns.
    pub fn empty(produce_one_row: bool) -> Self {
        LogicalPlan::EmptyRelation(EmptyRelation {
            produce_one_row,
            schema: Arc::new(PlanSchema::empty()),
        })
        .into()
    }

    /// Starts from literal rows; columns are named `column1`, `column2`, … and typed by the common
    /// supertype of each column.
    pub fn values(rows: Vec<Vec<Expr>>) -> Result<Self> {
        Self::values_with_schema(rows, &PlanSchema::empty())
    }

    /// Like [`values`](Self::values), with row expressions typed against `outer` (for correlated use).
    pub fn values_with_schema(rows: Vec<Vec<Expr>>, outer: &PlanSchema) -> Result<Self> {
        let width = rows.first().map(|r| r.len()).unwrap_or(0);
        if rows.iter().any(|r| r.len() != width) {
            return Err(Error::plan(
                "all VALUES rows must have the same number of columns",
            ));
        }
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|e| coerce_expr(e, outer))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let mut fields = vec![];
        let mut types = vec![];
        for c in 0..width {
            let col_types = rows
                .iter()
                .map(|r| r[c].data_type(outer))
                .collect::<Result<Vec<_>>>()?;
            let t = common_supertype(col_types.iter()).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "VALUES column {} mixes types {}",
                    c + 1,
                    col_types
                        .iter()
                        .map(sql_type_name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            // an all-NULL column keeps the NULL type, so it can still become any type
            let nullable = rows.iter().any(|r| r[c].nullable(outer).unwrap_or(true));
            fields.push((
                None,
                Arc::new(Field::new(format!("column{}", c + 1), t.clone(), nullable)),
            ));
            types.push(t);
        }
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .enumerate()
                    .map(|(c, e)| {
                        let et = e.data_type(outer)?;
                        cast_expr(e, &et, &types[c])
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LogicalPlan::Values(Values {
            schema: Arc::new(PlanSchema::new(fields)),
            rows,
        })
        .into())
    }

    /// The plan's schema so far.
    pub fn schema(&self) -> &PlanSchema {
        self.plan.schema()
    }

    /// Finishes.
    pub fn build(self) -> LogicalPlan {
        Arc::try_unwrap(self.plan).unwrap_or_else(|a| (*a).clone())
    }

    /// Finishes as a shared plan.
    pub fn build_arc(self) -> Arc<LogicalPlan> {
        self.plan
    }

    /// Computes `exprs` (wildcards expand to all columns).
    pub fn project(self, exprs: Vec<Expr>) -> Result<Self> {
        let schema = self.plan.schema().clone();
        let mut out = vec![];
        for e in exprs {
            match e {
                Expr::Wildcard(q) => out.extend(expand_wildcard(&schema, q.as_deref())?),
                e => out.push(coerce_expr(e, &schema)?),
            }
        }
        Ok(LogicalPlan::Projection(Projection::try_new(out, self.plan)?).into())
    }

    /// Keeps rows where `predicate` is true.
    pub fn filter(self, predicate: Expr) -> Result<Self> {
        let p = coerce_to_boolean(predicate, self.plan.schema(), "WHERE")?;
        Ok(LogicalPlan::Filter(Filter::try_new(p, self.plan)?).into())
    }

    /// Groups by `group_exprs` and computes `aggr_exprs` (aggregate calls, possibly aliased).
    pub fn aggregate(self, group_exprs: Vec<Expr>, aggr_exprs: Vec<Expr>) -> Result<Self> {
        let schema = self.plan.schema().clone();
        let group_exprs = group_exprs
            .into_iter()
            .map(|e| coerce_expr(e, &schema))
            .collect::<Result<Vec<_>>>()?;
        let aggr_exprs = aggr_exprs
            .into_iter()
            .map(|e| coerce_expr(e, &schema))
            .collect::<Result<Vec<_>>>()?;
        for e in &group_exprs {
            if e.contains_aggregate() {
                return Err(Error::plan(format!(
                    "aggregate functions are not allowed in GROUP BY: {e}"
                )));
            }
        }
        Ok(LogicalPlan::Aggregate(Aggregate::try_new(self.plan, group_exprs, aggr_exprs)?).into())
    }

    /// Computes window expressions, appended after the input columns.
    pub fn window(self, window_exprs: Vec<Expr>) -> Result<Self> {
        let schema = self.plan.schema().clone();
        let exprs = window_exprs
            .into_iter()
            .map(|e| coerce_expr(e, &schema))
            .collect::<Result<Vec<_>>>()?;
        Ok(LogicalPlan::Window(Window::try_new(self.plan, exprs)?).into())
    }

    /// Orders rows.
    pub fn sort(self, exprs: Vec<SortExpr>) -> Result<Self> {
        let schema = self.plan.schema().clone();
        let exprs = exprs
            .into_iter()
            .map(|s| {
                Ok(SortExpr {
                    expr: coerce_expr(s.expr, &schema)?,
                    asc: s.asc,
                    nulls_first: s.nulls_first,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LogicalPlan::Sort(Sort {
            exprs,
            input: self.plan,
            fetch: None,
        })
        .into())
    }

    /// Skips `skip` rows, then keeps at most `fetch`.
    pub fn limit(self, skip: usize, fetch: Option<usize>) -> Result<Self> {
        Ok(LogicalPlan::Limit(Limit {
            skip,
            fetch,
            input: self.plan,
        })
        .into())
    }

    /// Renames the relation.
    pub fn alias(self, alias: impl Into<String>) -> Result<Self> {
        Ok(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(self.plan, alias)?).into())
    }

    /// Renames the relation to `alias` and its first columns to `names`, by position
    /// (`AS t(a, b)`; fewer names than columns rename a prefix).
    pub fn alias_with_columns(self, alias: impl Into<String>, names: &[String]) -> Result<Self> {
        Ok(
            LogicalPlan::SubqueryAlias(SubqueryAlias::try_new_with_columns(
                self.plan,
                alias,
                names.to_vec(),
            )?)
            .into(),
        )
    }

    /// Removes duplicate rows.
    pub fn distinct(self) -> Result<Self> {
        let schema = self.plan.schema().clone();
        let unique =
            (0..schema.len()).all(|i| matches!(schema.find(&schema.column(i)), Ok(Some(_))));
        if unique {
            let groups = schema.columns().into_iter().map(Expr::Column).collect();
            return self.aggregate(groups, vec![]);
        }
        // columns with the same name (`SELECT DISTINCT a, a`): group under unique names, then
        // give the output its names back
        let names: Vec<String> = schema.iter().map(|(_, f)| f.name().clone()).collect();
        let tmp: Vec<String> = (0..schema.len())
            .map(|i| format!("__distinct{i}"))
            .collect();
        let b = self.alias_with_columns("__distinct", &tmp)?;
        let s = b.schema().clone();
        let groups = s.columns().into_iter().map(Expr::Column).collect();
        b.aggregate(groups, vec![])?
            .alias_with_columns("__distinct", &names)
    }

    /// Joins with `right`: equi keys `on` as `(left expr, right expr)` plus an optional residual filter.
    pub fn join(
        self,
        right: LogicalPlan,
        join_type: JoinType,
        on: Vec<(Expr, Expr)>,
        filter: Option<Expr>,
    ) -> Result<Self> {
        self.join_detailed(Arc::new(right), join_type, on, filter, false)
    }

    /// Joins, choosing whether NULL keys match each other.
    pub fn join_detailed(
        self,
        right: Arc<LogicalPlan>,
        join_type: JoinType,
        on: Vec<(Expr, Expr)>,
        filter: Option<Expr>,
        null_equals_null: bool,
    ) -> Result<Self> {
        let ls = self.plan.schema().clone();
        let rs = right.schema().clone();
        let mut keys = vec![];
        for (l, r) in on {
            let l = coerce_expr(l, &ls)?;
            let r = coerce_expr(r, &rs)?;
            let lt = l.data_type(&ls)?;
            let rt = r.data_type(&rs)?;
            let t = comparison_type(&lt, &rt).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "join keys {l} ({}) and {r} ({}) cannot be compared",
                    sql_type_name(&lt),
                    sql_type_name(&rt)
                ))
            })?;
            keys.push((cast_expr(l, &lt, &t)?, cast_expr(r, &rt, &t)?));
        }
        let filter = match filter {
            Some(f) => {
                let joined = ls.join(&rs);
                Some(coerce_to_boolean(f, &joined, "JOIN condition")?)
            }
            None => None,
        };
        let join = Join::try_new(self.plan, right, keys, filter, join_type, null_equals_null)?;
        Ok(LogicalPlan::Join(join).into())
    }

    /// Joins on a general condition: equalities between a left and a right column expression become
    /// hash keys, the rest stays a residual filter.
    pub fn join_on(
        self,
        right: Arc<LogicalPlan>,
        join_type: JoinType,
        condition: Option<Expr>,
    ) -> Result<Self> {
        let ls = self.plan.schema().clone();
        let rs = right.schema().clone();
        let (on, filter) = match condition {
            Some(c) => {
                let joined = ls.join(&rs);
                let c = coerce_to_boolean(c, &joined, "JOIN condition")?;
                split_join_condition(c, &ls, &rs)
            }
            None => (vec![], None),
        };
        self.join_detailed(right, join_type, on, filter, false)
    }

    /// A cross join.
    pub fn cross_join(self, right: Arc<LogicalPlan>) -> Result<Self> {
        self.join_detailed(right, JoinType::Inner, vec![], None, false)
    }

    /// UNION ALL with another plan of compatible column types (casting to the common types).
    pub fn union(self, other: LogicalPlan) -> Result<Self> {
        let left = self.plan;
        let right = Arc::new(other);
        let (ls, rs) = (left.schema().clone(), right.schema().clone());
        if ls.len() != rs.len() {
            return Err(Error::plan(format!(
                "set operation inputs have different numbers of columns: {} and {}",
                ls.len(),
                rs.len()
            )));
        }
        let mut types = vec![];
        let mut fields = vec![];
        for i in 0..ls.len() {
            let (lt, rt) = (ls.data_type(i), rs.data_type(i));
            let t = common_supertype([lt, rt]).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "set operation column {} has types {} and {} that do not mix",
                    i + 1,
                    sql_type_name(lt),
                    sql_type_name(rt)
                ))
            })?;
            // an all-NULL column keeps the NULL type, so it can still become any type
            let nullable = ls.field(i).is_nullable() || rs.field(i).is_nullable();
            fields.push((
                None,
                Arc::new(Field::new(ls.field(i).name(), t.clone(), nullable)),
            ));
            types.push(t);
        }
        let cast_input = |p: Arc<LogicalPlan>| -> Result<Arc<LogicalPlan>> {
            let s = p.schema().clone();
            let needs = (0..s.len()).any(|i| s.data_type(i) != &types[i]);
            if !needs {
                return Ok(p);
            }
            let exprs = (0..s.len())
                .map(|i| {
                    let c = Expr::Column(s.column(i));
                    Ok(cast_expr(c, s.data_type(i), &types[i])?.alias(s.field(i).name().clone()))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(LogicalPlan::Projection(Projection::try_new(
                exprs, p,
            )?)))
        };
        let mut inputs = vec![];
        for p in [left, right] {
            let p = cast_input(p)?;
            // flatten nested unions
            match p.as_ref() {
                LogicalPlan::Union(u) => inputs.extend(u.inputs.iter().cloned()),
                _ => inputs.push(p),
            }
        }
        Ok(LogicalPlan::Union(Union {
            inputs,
            schema: Arc::new(PlanSchema::new(fields)),
        })
        .into())
    }

    /// INTERSECT / EXCEPT (DISTINCT forms) as a null-safe semi/anti join on all columns, then distinct.
    pub fn intersect_or_except(
        self,
        other: LogicalPlan,
        intersect: bool,
        all: bool,
    ) -> Result<Self> {
        let left_schema = self.plan.schema().clone();
        if left_schema.len() != other.schema().len() {
            return Err(Error::plan(format!(
                "set operation inputs have different numbers of columns: {} and {}",
                left_schema.len(),
                other.schema().len()
            )));
        }
        // For ALL, the n-th copy of a row on the left matches the n-th copy on the right:
        // number the copies (`row_number() OVER (PARTITION BY every column)`) and make the
        // number part of the key. INTERSECT ALL then keeps min(l, r) copies, EXCEPT ALL
        // max(l - r, 0). Without ALL the result is made distinct below.
        let side = |plan: Arc<LogicalPlan>, alias: &str| -> Result<Arc<LogicalPlan>> {
            let b = LogicalPlanBuilder::from(plan).alias(alias)?;
            if !all {
                return Ok(b.build_arc());
            }
            let columns = (0..left_schema.len())
                .map(|i| Expr::Column(b.schema().column(i)))
                .collect();
            let copy_number = Expr::Window(Box::new(WindowCall {
                func: WindowFunc::RowNumber,
                args: vec![],
                distinct: false,
                partition_by: columns,
                order_by: vec![],
                frame: WindowFrame::default_for(false),
            }));
            Ok(b.window(vec![copy_number])?.alias(alias)?.build_arc())
        };
        let left = side(self.plan, "__set_l")?;
        let right = side(Arc::new(other), "__set_r")?;
        let on = (0..left.schema().len())
            .map(|i| {
                (
                    Expr::Column(left.schema().column(i)),
                    Expr::Column(right.schema().column(i)),
                )
            })
            .collect();
        let jt = if intersect {
            JoinType::LeftSemi
        } else {
            JoinType::LeftAnti
        };
        let joined = LogicalPlanBuilder::from(left).join_detailed(right, jt, on, None, true)?;
        // restore unqualified output names (and drop the copy number)
        let s = joined.schema().clone();
        let exprs = (0..left_schema.len())
            .map(|i| Expr::Column(s.column(i)).alias(left_schema.field(i).name().clone()))
            .collect();
        if all {
            joined.project(exprs)
        } else {
            joined.distinct()?.project(exprs)
        }
    }
}

/// Expands `*` or `t.*` over `schema`.
pub fn expand_wildcard(schema: &PlanSchema, qualifier: Option<&str>) -> Result<Vec<Expr>> {
    let mut out = vec![];
    for i in 0..schema.len() {
        let c = schema.column(i);
        if c.name.starts_with("__") {
            continue; // internal columns
        }
        match qualifier {
            Some(q) if c.relation.as_deref() != Some(q) => continue,
            _ => out.push(Expr::Column(c)),
        }
    }
    if out.is_empty()
        && let Some(q) = qualifier
    {
        return Err(Error::not_found(format!(
            "table \"{q}\" not found in FROM clause"
        )));
    }
    Ok(out)
}

/// Which side(s) of a join an expression's columns come from.
fn expr_sides(e: &Expr, left: &PlanSchema, right: &PlanSchema) -> (bool, bool) {
    let mut l = false;
    let mut r = false;
    for c in e.column_refs() {
        if left.has_column(c) {
            l = true;
        } else if right.has_column(c) {
            r = true;
        }
    }
    (l, r)
}

/// Splits a join condition into equi keys `(left, right)` and a residual filter.
pub fn split_join_condition(
    cond: Expr,
    left: &PlanSchema,
    right: &PlanSchema,
) -> (Vec<(Expr, Expr)>, Option<Expr>) {
    let mut keys = vec![];
    let mut rest = vec![];
    for c in cond.split_conjunction() {
        if let Expr::Binary(a, BinaryOp::Eq, b) = &c
            && !a.contains_subquery()
            && !b.contains_subquery()
            && !a.is_volatile()
            && !b.is_volatile()
        {
            let (al, ar) = expr_sides(a, left, right);
            let (bl, br) = expr_sides(b, left, right);
            if al && !ar && br && !bl {
                keys.push((a.as_ref().clone(), b.as_ref().clone()));
                continue;
            }
            if ar && !al && bl && !br {
                keys.push((b.as_ref().clone(), a.as_ref().clone()));
                continue;
            }
        }
        rest.push(c);
    }
    (keys, Expr::conjunction(rest))
}

/// Columns of `schema` referenced by name in `cols` (for USING joins).
pub fn using_columns(
    names: &[String],
    left: &PlanSchema,
    right: &PlanSchema,
) -> Result<Vec<(Column, Column)>> {
    let mut out = vec![];
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert(n.clone()) {
            return Err(Error::plan(format!(
                "column \"{n}\" appears twice in USING"
            )));
        }
        let lc = Column::bare(n.clone());
        let li = left.index_of(&lc).map_err(|_| {
            Error::not_found(format!("column \"{n}\" in USING is not in the left input"))
        })?;
        let ri = right.index_of(&lc).map_err(|_| {
            Error::not_found(format!("column \"{n}\" in USING is not in the right input"))
        })?;
        out.push((left.column(li), right.column(ri)));
    }
    Ok(out)
}

/// A literal expression.
pub fn lit(v: impl Into<ScalarValue>) -> Expr {
    Expr::Literal(v.into())
}
