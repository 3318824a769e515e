//! `Expr`: the expression tree shared by SQL and the DataFrame API.
//!
//! Expressions name columns by [`Column`] (qualifier + name) and are typed
//! against the schema of the plan node that holds them (see `expr_schema.rs`).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use crate::functions::{AggregateFunction, ScalarFunction};
pub use crate::logical::expr_display::fmt_literal;
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::Column;
pub use crate::logical::window::{FrameBound, FrameUnits, WindowCall, WindowFrame, WindowFunc};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryOp {
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Multiply,
    /// `/` (integer division truncates)
    Divide,
    /// `%`
    Modulo,
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `AND` (three-valued)
    And,
    /// `OR` (three-valued)
    Or,
    /// `IS DISTINCT FROM`
    IsDistinctFrom,
    /// `IS NOT DISTINCT FROM`
    IsNotDistinctFrom,
    /// `||`
    StringConcat,
}

impl BinaryOp {
    /// Whether the operator is a comparison producing a boolean.
    pub fn is_comparison(&self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
                | BinaryOp::IsDistinctFrom
                | BinaryOp::IsNotDistinctFrom
        )
    }
    /// Whether the operator is arithmetic.
    pub fn is_arithmetic(&self) -> bool {
        matches!(
            self,
            BinaryOp::Plus
                | BinaryOp::Minus
                | BinaryOp::Multiply
                | BinaryOp::Divide
                | BinaryOp::Modulo
        )
    }
    /// The comparison with operands swapped (`a < b` is `b > a`).
    pub fn swap(&self) -> Option<BinaryOp> {
        Some(match self {
            BinaryOp::Eq => BinaryOp::Eq,
            BinaryOp::NotEq => BinaryOp::NotEq,
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::GtEq => BinaryOp::LtEq,
            BinaryOp::IsDistinctFrom => BinaryOp::IsDistinctFrom,
            BinaryOp::IsNotDistinctFrom => BinaryOp::IsNotDistinctFrom,
            _ => return None,
        })
    }
    /// The negated comparison (`a < b` is `NOT a >= b`), for non-null operands.
    pub fn negate(&self) -> Option<BinaryOp> {
        Some(match self {
            BinaryOp::Eq => BinaryOp::NotEq,
            BinaryOp::NotEq => BinaryOp::Eq,
            BinaryOp::Lt => BinaryOp::GtEq,
            BinaryOp::LtEq => BinaryOp::Gt,
            BinaryOp::Gt => BinaryOp::LtEq,
            BinaryOp::GtEq => BinaryOp::Lt,
            BinaryOp::IsDistinctFrom => BinaryOp::IsNotDistinctFrom,
            BinaryOp::IsNotDistinctFrom => BinaryOp::IsDistinctFrom,
            _ => return None,
        })
    }
    /// SQL spelling.
    pub fn sql(&self) -> &'static str {
        match self {
            BinaryOp::Plus => "+",
            BinaryOp::Minus => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Modulo => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::IsDistinctFrom => "IS DISTINCT FROM",
            BinaryOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
            BinaryOp::StringConcat => "||",
        }
    }
    /// Binding strength used when printing (higher binds tighter).
    pub(crate) fn precedence(&self) -> u8 {
        match self {
            BinaryOp::Or => 5,
            BinaryOp::And => 10,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq
            | BinaryOp::IsDistinctFrom
            | BinaryOp::IsNotDistinctFrom => 20,
            BinaryOp::StringConcat => 25,
            BinaryOp::Plus | BinaryOp::Minus => 30,
            BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo => 40,
        }
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

/// A subquery inside an expression, with the outer columns it refers to.
#[derive(Debug, Clone)]
pub struct Subquery {
    /// The subquery's plan; references to outer columns are `Expr::OuterColumn`.
    pub plan: Arc<LogicalPlan>,
}

impl PartialEq for Subquery {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.plan, &other.plan) || self.plan == other.plan
    }
}
impl Eq for Subquery {}
impl Hash for Subquery {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.plan.schema().len().hash(state);
    }
}

/// A sort key: expression, direction and NULL placement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortExpr {
    /// The key.
    pub expr: Expr,
    /// Ascending?
    pub asc: bool,
    /// NULLs before non-NULLs?
    pub nulls_first: bool,
}

impl SortExpr {
    /// A sort key.
    pub fn new(expr: Expr, asc: bool, nulls_first: bool) -> Self {
        SortExpr {
            expr,
            asc,
            nulls_first,
        }
    }
}

impl fmt::Display for SortExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.expr,
            if self.asc { "ASC" } else { "DESC" },
            if self.nulls_first {
                "NULLS FIRST"
            } else {
                "NULLS LAST"
            }
        )
    }
}

/// A call of an aggregate function.
#[derive(Debug, Clone)]
pub struct AggregateCall {
    /// The function.
    pub func: Arc<dyn AggregateFunction>,
    /// Arguments (empty for `count(*)`).
    pub args: Vec<Expr>,
    /// `DISTINCT` inside the call.
    pub distinct: bool,
    /// `FILTER (WHERE ...)`.
    pub filter: Option<Box<Expr>>,
}

impl PartialEq for AggregateCall {
    fn eq(&self, other: &Self) -> bool {
        self.func.name() == other.func.name()
            && self.args == other.args
            && self.distinct == other.distinct
            && self.filter == other.filter
    }
}
impl Eq for AggregateCall {}
impl Hash for AggregateCall {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.func.name().hash(state);
        self.args.hash(state);
        self.distinct.hash(state);
        self.filter.hash(state);
    }
}

/// A scalar function call.
#[derive(Debug, Clone)]
pub struct ScalarCall {
    /// The function.
    pub func: Arc<dyn ScalarFunction>,
    /// Arguments, already coerced to the types the function accepts.
    pub args: Vec<Expr>,
}

impl PartialEq for ScalarCall {
    fn eq(&self, other: &Self) -> bool {
        self.func.name() == other.func.name() && self.args == other.args
    }
}
impl Eq for ScalarCall {}
impl Hash for ScalarCall {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.func.name().hash(state);
        self.args.hash(state);
    }
}

/// A logical expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A column of the input.
    Column(Column),
    /// A column of an enclosing query (correlated subqueries), with its type.
    OuterColumn(Column, DataType),
    /// A constant.
    Literal(ScalarValue),
    /// `expr AS name`.
    Alias(Box<Expr>, String),
    /// `left op right`.
    Binary(Box<Expr>, BinaryOp, Box<Expr>),
    /// `NOT expr`.
    Not(Box<Expr>),
    /// `- expr`.
    Negative(Box<Expr>),
    /// `expr IS NULL`.
    IsNull(Box<Expr>),
    /// `expr IS NOT NULL`.
    IsNotNull(Box<Expr>),
    /// `expr IS [NOT] TRUE/FALSE/UNKNOWN`: `(expr, value, negated)` with value `None` for UNKNOWN.
    IsBool(Box<Expr>, Option<bool>, bool),
    /// `expr [NOT] BETWEEN low AND high`.
    Between {
        /// The tested value.
        expr: Box<Expr>,
        /// `NOT BETWEEN`.
        negated: bool,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
    },
    /// `expr [NOT] [I]LIKE pattern [ESCAPE c]`.
    Like {
        /// `NOT LIKE`.
        negated: bool,
        /// The tested string.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// `ILIKE`.
        case_insensitive: bool,
        /// The escape character.
        escape: Option<char>,
    },
    /// `expr [NOT] IN (list)`.
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        /// The operand of the simple form.
        operand: Option<Box<Expr>>,
        /// `(when, then)` pairs.
        when_then: Vec<(Expr, Expr)>,
        /// ELSE result.
        else_expr: Option<Box<Expr>>,
    },
    /// `CAST(expr AS type)`; `try` gives NULL instead of an error.
    Cast {
        /// The value.
        expr: Box<Expr>,
        /// The target type.
        data_type: DataType,
        /// `TRY_CAST`.
        try_: bool,
    },
    /// A scalar function call.
    ScalarFunction(ScalarCall),
    /// An aggregate function call (only inside `Aggregate` nodes).
    Aggregate(AggregateCall),
    /// A window function call (only inside `Window` nodes).
    Window(Box<WindowCall>),
    /// `(SELECT ...)` returning one value.
    ScalarSubquery(Subquery),
    /// `[NOT] EXISTS (SELECT ...)`.
    Exists {
        /// The subquery.
        subquery: Subquery,
        /// `NOT EXISTS`.
        negated: bool,
    },
    /// `expr [NOT] IN (SELECT ...)`.
    InSubquery {
        /// The tested value.
        expr: Box<Expr>,
        /// The subquery (one column).
        subquery: Subquery,
        /// `NOT IN`.
        negated: bool,
    },
    /// `*` or `t.*` (only while building projections and in `count(*)`).
    Wildcard(Option<String>),
}

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

impl Expr {
    /// `self AS name`.
    pub fn alias(self, name: impl Into<String>) -> Expr {
        match self {
            Expr::Alias(e, _) => Expr::Alias(e, name.into()),
            e => Expr::Alias(Box::new(e), name.into()),
        }
    }
    /// Removes a top-level alias.
    pub fn unalias(self) -> Expr {
        match self {
            Expr::Alias(e, _) => e.unalias(),
            e => e,
        }
    }
    /// Removes a top-level alias (by reference).
    pub fn unaliased(&self) -> &Expr {
        match self {
            Expr::Alias(e, _) => e.unaliased(),
            e => e,
        }
    }

    /// A binary expression.
    pub fn binary(left: Expr, op: BinaryOp, right: Expr) -> Expr {
        Expr::Binary(Box::new(left), op, Box::new(right))
    }

    /// `self AND other`.
    pub fn and(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::And, other)
    }
    /// `self OR other`.
    pub fn or(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::Or, other)
    }
    /// `self = other`.
    pub fn eq(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::Eq, other)
    }
    /// `self <> other`.
    pub fn not_eq(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::NotEq, other)
    }
    /// `self < other`.
    pub fn lt(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::Lt, other)
    }
    /// `self <= other`.
    pub fn lt_eq(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::LtEq, other)
    }
    /// `self > other`.
    pub fn gt(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::Gt, other)
    }
    /// `self >= other`.
    pub fn gt_eq(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::GtEq, other)
    }
    /// `NOT self` (also `!expr`).
    pub fn negate(self) -> Expr {
        Expr::Not(Box::new(self))
    }
    /// `self IS NULL`.
    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }
    /// `self IS NOT NULL`.
    pub fn is_not_null(self) -> Expr {
        Expr::IsNotNull(Box::new(self))
    }
    /// `CAST(self AS data_type)`.
    pub fn cast_to(self, data_type: DataType) -> Expr {
        Expr::Cast {
            expr: Box::new(self),
            data_type,
            try_: false,
        }
    }
    /// Sort key on this expression.
    pub fn sort(self, asc: bool, nulls_first: bool) -> SortExpr {
        SortExpr::new(self, asc, nulls_first)
    }

    /// Whether this is a literal NULL.
    pub fn is_null_literal(&self) -> bool {
        matches!(self, Expr::Literal(v) if v.is_null())
    }

    /// The name of the output column this expression produces.
    pub fn output_name(&self) -> String {
        match self {
            Expr::Alias(_, name) => name.clone(),
            Expr::Column(c) => c.name.clone(),
            Expr::OuterColumn(c, _) => c.name.clone(),
            other => other.to_string(),
        }
    }

    /// Splits a conjunction into its conjuncts.
    pub fn split_conjunction(self) -> Vec<Expr> {
        let mut out = vec![];
        #[recursive::recursive]
        fn go(e: Expr, out: &mut Vec<Expr>) {
            match e {
                Expr::Binary(l, BinaryOp::And, r) => {
                    go(*l, out);
                    go(*r, out);
                }
                Expr::Alias(e, _) => go(*e, out),
                e => out.push(e),
            }
        }
        go(self, &mut out);
        out
    }

    /// Splits a conjunction by reference.
    pub fn conjuncts(&self) -> Vec<&Expr> {
        let mut out = vec![];
        #[recursive::recursive]
        fn go<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
            match e {
                Expr::Binary(l, BinaryOp::And, r) => {
                    go(l, out);
                    go(r, out);
                }
                Expr::Alias(e, _) => go(e, out),
                e => out.push(e),
            }
        }
        go(self, &mut out);
        out
    }

    /// Joins predicates with AND; `None` for an empty list.
    pub fn conjunction(exprs: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        exprs.into_iter().reduce(Expr::and)
    }

    /// Joins predicates with OR; `None` for an empty list.
    pub fn disjunction(exprs: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        exprs.into_iter().reduce(Expr::or)
    }

    /// Children of this expression (not descending into subqueries).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Column(_) | Expr::OuterColumn(..) | Expr::Literal(_) | Expr::Wildcard(_) => {
                vec![]
            }
            Expr::ScalarSubquery(_) | Expr::Exists { .. } => vec![],
            Expr::Alias(e, _)
            | Expr::Not(e)
            | Expr::Negative(e)
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::IsBool(e, _, _) => vec![e],
            Expr::Cast { expr, .. } => vec![expr],
            Expr::InSubquery { expr, .. } => vec![expr],
            Expr::Binary(l, _, r) => vec![l, r],
            Expr::Between {
                expr, low, high, ..
            } => vec![expr, low, high],
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::InList { expr, list, .. } => {
                std::iter::once(expr.as_ref()).chain(list.iter()).collect()
            }
            Expr::Case {
                operand,
                when_then,
                else_expr,
            } => {
                let mut v: Vec<&Expr> = vec![];
                if let Some(o) = operand {
                    v.push(o);
                }
                for (w, t) in when_then {
                    v.push(w);
                    v.push(t);
                }
                if let Some(e) = else_expr {
                    v.push(e);
                }
                v
            }
            Expr::ScalarFunction(f) => f.args.iter().collect(),
            Expr::Aggregate(a) => {
                let mut v: Vec<&Expr> = a.args.iter().collect();
                if let Some(f) = &a.filter {
                    v.push(f);
                }
                v
            }
            Expr::Window(w) => w
                .args
                .iter()
                .chain(w.partition_by.iter())
                .chain(w.order_by.iter().map(|s| &s.expr))
                .collect(),
        }
    }

    /// Whether any node of this expression satisfies `f` (not descending into subqueries).
    pub fn any(&self, f: &mut impl FnMut(&Expr) -> bool) -> bool {
        if f(self) {
            return true;
        }
        self.children().into_iter().any(|c| c.any(f))
    }

    /// Columns referenced by this expression (not inside subqueries).
    pub fn column_refs(&self) -> Vec<&Column> {
        let mut out = vec![];
        fn go<'a>(e: &'a Expr, out: &mut Vec<&'a Column>) {
            if let Expr::Column(c) = e {
                out.push(c);
            }
            for c in e.children() {
                go(c, out);
            }
        }
        go(self, &mut out);
        out
    }

    /// Whether the expression contains an aggregate call.
    pub fn contains_aggregate(&self) -> bool {
        self.any(&mut |e| matches!(e, Expr::Aggregate(_)))
    }

    /// Whether the expression contains a window call.
    pub fn contains_window(&self) -> bool {
        self.any(&mut |e| matches!(e, Expr::Window(_)))
    }

    /// Whether the expression contains a subquery.
    pub fn contains_subquery(&self) -> bool {
        self.any(&mut |e| {
            matches!(
                e,
                Expr::ScalarSubquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. }
            )
        })
    }

    /// Whether the expression is deterministic and free of side effects.
    pub fn is_volatile(&self) -> bool {
        self.any(&mut |e| matches!(e, Expr::ScalarFunction(f) if f.func.volatile()))
    }
}
