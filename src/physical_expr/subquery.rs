//! Subqueries the optimizer could not turn into joins, evaluated directly:
//! once for an uncorrelated subquery, and once per distinct combination of
//! outer values for a correlated one (results are cached by those values).

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::fmt;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use datafusion_common::ScalarValue;
use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::{Error, Result};
use crate::logical::expr::{Expr, Subquery};
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::Column;
use crate::logical::tree_node::map_expressions;
use crate::physical_expr::in_list::in_set;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::runtime::CancellationToken;

/// Plans and runs a logical plan to completion (implemented by the session).
pub trait SubqueryRunner: Send + Sync + fmt::Debug {
    /// Optimizes, plans and executes `plan`, returning all its rows (a subquery evaluated per
    /// outer row: small, so in one partition); it stops when `cancel` (the outer query's) is set.
    fn run(&self, plan: LogicalPlan, cancel: &CancellationToken) -> Result<Vec<RecordBatch>>;

    /// As [`run`](Self::run), for a subquery evaluated once per query (uncorrelated), which
    /// may be as big as any query: in all the session's partitions.
    fn run_uncorrelated(
        &self,
        plan: LogicalPlan,
        cancel: &CancellationToken,
    ) -> Result<Vec<RecordBatch>> {
        self.run(plan, cancel)
    }
}

/// What the subquery computes for each outer row.
#[derive(Debug)]
pub enum SubqueryKind {
    /// One value (NULL for no rows; more than one row is an error).
    Scalar,
    /// Whether any row exists.
    Exists {
        /// `NOT EXISTS`.
        negated: bool,
    },
    /// Whether the tested value is among the subquery's values.
    In {
        /// The tested value.
        expr: PhysicalExprRef,
        /// `NOT IN`.
        negated: bool,
    },
}

/// Cached result of one evaluation.
#[derive(Debug, Clone)]
enum Outcome {
    Value(ScalarValue),
    Rows(ArrayRef),
}

/// A subquery inside an expression.
#[derive(Debug)]
pub struct SubqueryExpr {
    kind: SubqueryKind,
    plan: Arc<LogicalPlan>,
    /// Outer columns the subquery refers to, with how to read each from the input batch.
    outer_refs: Vec<(Column, PhysicalExprRef)>,
    runner: Arc<dyn SubqueryRunner>,
    data_type: DataType,
    cache: Mutex<HashMap<Vec<u8>, Outcome>>,
    /// The outcome of an uncorrelated subquery (or its error), computed by
    /// [`prepare`](Self::prepare) before the stages evaluating it start. No lock is held while
    /// it computes: a task blocked on it could sit on the very worker thread that computes it,
    /// under work stealing, and never let it finish.
    once: Mutex<Option<Result<Outcome>>>,
}

impl SubqueryExpr {
    /// A subquery expression.
    pub fn new(
        kind: SubqueryKind,
        subquery: &Subquery,
        outer_refs: Vec<(Column, PhysicalExprRef)>,
        runner: Arc<dyn SubqueryRunner>,
    ) -> Result<Self> {
        let data_type = match &kind {
            SubqueryKind::Scalar => subquery.plan.schema().data_type(0).clone(),
            _ => DataType::Boolean,
        };
        Ok(SubqueryExpr {
            kind,
            plan: subquery.plan.clone(),
            outer_refs,
            runner,
            data_type,
            cache: Mutex::new(HashMap::default()),
            once: Mutex::new(None),
        })
    }

    /// Whether the subquery refers to no outer column (it is computed once per query).
    pub fn is_uncorrelated(&self) -> bool {
        self.outer_refs.is_empty()
    }

    /// Computes an uncorrelated subquery, unless done already. The scheduler calls it before
    /// any stage of the query runs, from the thread driving the query, so no task ever waits
    /// for it. Its error, if any, is kept for the first evaluation (a subquery in a branch never
    /// taken fails nothing); a cancellation is returned at once.
    pub fn prepare(&self, cancel: &CancellationToken) -> Result<()> {
        if self.is_uncorrelated() {
            // an error is kept for evaluation; only a cancellation stops the query here
            let _ = self.uncorrelated_outcome(cancel);
        }
        cancel.check()
    }

    fn once_outcome(&self) -> Option<Result<Outcome>> {
        self.once.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The outcome of an uncorrelated subquery: the one computed already (by `prepare`), or
    /// computed now, with no lock held.
    fn uncorrelated_outcome(&self, cancel: &CancellationToken) -> Result<Outcome> {
        if let Some(o) = self.once_outcome() {
            return o;
        }
        let outcome = self.run_once(&[], cancel);
        cancel.check()?;
        self.once
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(outcome)
            .clone()
    }

    fn run_once(
        &self,
        values: &[(Column, ScalarValue)],
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        let plan = substitute_outer_refs(self.plan.as_ref().clone(), values)?;
        let plan = match self.kind {
            // EXISTS needs at most one row
            SubqueryKind::Exists { .. } => crate::logical::builder::LogicalPlanBuilder::from(plan)
                .limit(0, Some(1))?
                .build(),
            SubqueryKind::Scalar => crate::logical::builder::LogicalPlanBuilder::from(plan)
                .limit(0, Some(2))?
                .build(),
            _ => plan,
        };
        let batches = if self.outer_refs.is_empty() {
            self.runner.run_uncorrelated(plan, cancel)?
        } else {
            self.runner.run(plan, cancel)?
        };
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        Ok(match &self.kind {
            SubqueryKind::Scalar => {
                if rows > 1 {
                    return Err(Error::execution(
                        "scalar subquery returned more than one row",
                    ));
                }
                match batches.iter().find(|b| b.num_rows() > 0) {
                    Some(b) => Outcome::Value(ScalarValue::try_from_array(b.column(0), 0)?),
                    None => Outcome::Value(ScalarValue::try_from(&self.data_type)?),
                }
            }
            SubqueryKind::Exists { negated } => {
                Outcome::Value(ScalarValue::Boolean(Some((rows > 0) != *negated)))
            }
            SubqueryKind::In { .. } => {
                let cols: Vec<&dyn Array> = batches.iter().map(|b| b.column(0).as_ref()).collect();
                let all = if cols.is_empty() {
                    let t = self.plan.schema().data_type(0).clone();
                    arrow::array::new_empty_array(&t)
                } else {
                    arrow::compute::concat(&cols)?
                };
                Outcome::Rows(all)
            }
        })
    }

    fn finish(&self, outcome: &Outcome, value: Option<ArrayRef>) -> Result<ScalarValue> {
        match (outcome, &self.kind, value) {
            (Outcome::Value(v), _, _) => Ok(v.clone()),
            (Outcome::Rows(set), SubqueryKind::In { negated, .. }, Some(v)) => {
                let r = in_set(&v, set, *negated)?;
                Ok(ScalarValue::try_from_array(&r, 0)?)
            }
            _ => Err(Error::internal("inconsistent subquery outcome")),
        }
    }
}

impl fmt::Display for SubqueryExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refs = self
            .outer_refs
            .iter()
            .map(|(c, _)| c.flat_name())
            .collect::<Vec<_>>()
            .join(", ");
        match &self.kind {
            SubqueryKind::Scalar => write!(f, "scalar_subquery(outer=[{refs}])"),
            SubqueryKind::Exists { negated } => {
                write!(
                    f,
                    "{}exists_subquery(outer=[{refs}])",
                    if *negated { "not_" } else { "" }
                )
            }
            SubqueryKind::In { expr, negated } => {
                write!(
                    f,
                    "{expr} {}in_subquery(outer=[{refs}])",
                    if *negated { "not_" } else { "" }
                )
            }
        }
    }
}

impl PhysicalExpr for SubqueryExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn as_subquery(&self) -> Option<&SubqueryExpr> {
        Some(self)
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        match &self.kind {
            SubqueryKind::In { expr, .. } => vec![expr],
            _ => vec![],
        }
    }
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        // the subquery stops with the query evaluating it
        let cancel = crate::runtime::fair::current_cancellation().unwrap_or_default();
        let tested = match &self.kind {
            SubqueryKind::In { expr, .. } => Some(expr.evaluate(batch)?.into_array(n)?),
            _ => None,
        };
        if self.is_uncorrelated() {
            let outcome = self.uncorrelated_outcome(&cancel)?;
            return match (&outcome, &self.kind, tested) {
                (Outcome::Value(v), _, _) => Ok(ColumnarValue::Scalar(v.clone())),
                (Outcome::Rows(set), SubqueryKind::In { negated, .. }, Some(t)) => {
                    if t.data_type() == &DataType::Null {
                        return Ok(ColumnarValue::Array(Arc::new(BooleanArray::new_null(n))));
                    }
                    Ok(ColumnarValue::Array(Arc::new(in_set(&t, set, *negated)?)))
                }
                _ => Err(Error::internal("inconsistent subquery outcome")),
            };
        }
        // correlated: one evaluation per distinct combination of outer values
        let arrays = self
            .outer_refs
            .iter()
            .map(|(_, e)| e.evaluate(batch)?.into_array(n))
            .collect::<Result<Vec<_>>>()?;
        let converter = RowConverter::new(
            arrays
                .iter()
                .map(|a| SortField::new(a.data_type().clone()))
                .collect(),
        )?;
        let rows = converter.convert_columns(&arrays)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let key = rows.row(i).as_ref().to_vec();
            let cached = self
                .cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned();
            let outcome = match cached {
                Some(o) => o,
                None => {
                    let values = self
                        .outer_refs
                        .iter()
                        .zip(arrays.iter())
                        .map(|((c, _), a)| Ok((c.clone(), ScalarValue::try_from_array(a, i)?)))
                        .collect::<Result<Vec<_>>>()?;
                    let o = self.run_once(&values, &cancel)?;
                    self.cache
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key, o.clone());
                    o
                }
            };
            let v = tested.as_ref().map(|t| t.slice(i, 1));
            out.push(self.finish(&outcome, v)?);
        }
        if out.is_empty() {
            return Ok(ColumnarValue::Array(arrow::array::new_empty_array(
                &self.data_type,
            )));
        }
        Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
    }
}

/// Replaces references to the given outer columns (anywhere in the plan, including nested
/// subqueries) with literal values.
pub fn substitute_outer_refs(
    plan: LogicalPlan,
    values: &[(Column, ScalarValue)],
) -> Result<LogicalPlan> {
    if values.is_empty() {
        return Ok(plan);
    }
    let rewritten = plan.transform_up(|node| {
        let node = map_expressions(node, |e| substitute_in_expr(e, values))?;
        Ok(Transformed::yes(node))
    })?;
    Ok(rewritten.data)
}

fn substitute_in_expr(e: Expr, values: &[(Column, ScalarValue)]) -> Result<Expr> {
    let t = e.transform_up(|x| {
        Ok(match x {
            Expr::OuterColumn(c, t) => match values.iter().find(|(vc, _)| *vc == c) {
                Some((_, v)) => {
                    let v = if v.data_type() == t {
                        v.clone()
                    } else {
                        v.cast_to(&t)?
                    };
                    Transformed::yes(Expr::Literal(v))
                }
                None => Transformed::no(Expr::OuterColumn(c, t)),
            },
            Expr::ScalarSubquery(sq) => {
                Transformed::yes(Expr::ScalarSubquery(sub_plan(sq, values)?))
            }
            Expr::Exists { subquery, negated } => Transformed::yes(Expr::Exists {
                subquery: sub_plan(subquery, values)?,
                negated,
            }),
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => Transformed::yes(Expr::InSubquery {
                expr,
                subquery: sub_plan(subquery, values)?,
                negated,
            }),
            other => Transformed::no(other),
        })
    })?;
    Ok(t.data)
}

fn sub_plan(sq: Subquery, values: &[(Column, ScalarValue)]) -> Result<Subquery> {
    Ok(Subquery {
        plan: Arc::new(substitute_outer_refs(sq.plan.as_ref().clone(), values)?),
    })
}

/// All outer column references inside a plan (deep, including nested subqueries).
pub fn outer_references(plan: &LogicalPlan) -> Vec<(Column, DataType)> {
    let mut out: Vec<(Column, DataType)> = vec![];
    fn visit_expr(e: &Expr, out: &mut Vec<(Column, DataType)>) {
        match e {
            Expr::OuterColumn(c, t) => {
                if !out.iter().any(|(x, _)| x == c) {
                    out.push((c.clone(), t.clone()));
                }
            }
            Expr::ScalarSubquery(sq) | Expr::Exists { subquery: sq, .. } => {
                visit_plan(&sq.plan, out)
            }
            Expr::InSubquery { expr, subquery, .. } => {
                visit_expr(expr, out);
                visit_plan(&subquery.plan, out);
            }
            other => {
                for c in other.children() {
                    visit_expr(c, out);
                }
            }
        }
    }
    fn visit_plan(p: &LogicalPlan, out: &mut Vec<(Column, DataType)>) {
        for e in p.expressions() {
            visit_expr(e, out);
        }
        for i in p.inputs() {
            visit_plan(i, out);
        }
    }
    visit_plan(plan, &mut out);
    out
}
