//! Joins in the logical plan: the join types and the `Join` node with its schema rules.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field};

use crate::error::{Error, Result};
use crate::logical::expr::Expr;
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::{PlanSchema, PlanSchemaRef};

/// How two inputs are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinType {
    /// Matching pairs only.
    Inner,
    /// All left rows; right columns NULL where unmatched.
    Left,
    /// All right rows; left columns NULL where unmatched.
    Right,
    /// All rows of both sides.
    Full,
    /// Left rows with at least one match (left columns only).
    LeftSemi,
    /// Left rows with no match (left columns only).
    LeftAnti,
    /// Right rows with at least one match (right columns only).
    RightSemi,
    /// Right rows with no match (right columns only).
    RightAnti,
    /// All left rows plus a boolean `mark` column: whether the row has a match
    /// (NULL when unknown under `null_aware` IN semantics).
    LeftMark,
}

impl JoinType {
    /// The same join with inputs swapped.
    pub fn swap(&self) -> JoinType {
        match self {
            JoinType::Inner => JoinType::Inner,
            JoinType::Left => JoinType::Right,
            JoinType::Right => JoinType::Left,
            JoinType::Full => JoinType::Full,
            JoinType::LeftSemi => JoinType::RightSemi,
            JoinType::LeftAnti => JoinType::RightAnti,
            JoinType::RightSemi => JoinType::LeftSemi,
            JoinType::RightAnti => JoinType::LeftAnti,
            JoinType::LeftMark => JoinType::LeftMark,
        }
    }
    /// Whether the output has the left side's columns.
    pub fn outputs_left(&self) -> bool {
        !matches!(self, JoinType::RightSemi | JoinType::RightAnti)
    }
    /// Whether the output has the right side's columns.
    pub fn outputs_right(&self) -> bool {
        matches!(
            self,
            JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
        )
    }
    /// Whether unmatched left rows appear (with NULLs) in the output.
    pub fn preserves_left(&self) -> bool {
        matches!(self, JoinType::Left | JoinType::Full)
    }
    /// Whether unmatched right rows appear (with NULLs) in the output.
    pub fn preserves_right(&self) -> bool {
        matches!(self, JoinType::Right | JoinType::Full)
    }
}

impl fmt::Display for JoinType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            JoinType::Inner => "Inner",
            JoinType::Left => "Left",
            JoinType::Right => "Right",
            JoinType::Full => "Full",
            JoinType::LeftSemi => "LeftSemi",
            JoinType::LeftAnti => "LeftAnti",
            JoinType::RightSemi => "RightSemi",
            JoinType::RightAnti => "RightAnti",
            JoinType::LeftMark => "LeftMark",
        };
        f.write_str(s)
    }
}

/// Joins two inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// Left input.
    pub left: Arc<LogicalPlan>,
    /// Right input.
    pub right: Arc<LogicalPlan>,
    /// Equi-join keys `(left expr, right expr)`.
    pub on: Vec<(Expr, Expr)>,
    /// Other join conditions, evaluated on the joined row.
    pub filter: Option<Expr>,
    /// Join kind.
    pub join_type: JoinType,
    /// Whether NULL keys match each other (`IS NOT DISTINCT FROM` keys, set operations).
    pub null_equals_null: bool,
    /// For anti and mark joins from `NOT IN`/`IN`: NULLs on the right make the result unknown.
    pub null_aware: bool,
    /// Output schema.
    pub schema: PlanSchemaRef,
}

/// Output schema of a join.
pub fn join_schema(left: &PlanSchema, right: &PlanSchema, join_type: JoinType) -> PlanSchema {
    let nullable = |s: &PlanSchema, make: bool| -> Vec<_> {
        s.iter()
            .map(|(q, f)| {
                let f = if make && !f.is_nullable() {
                    Arc::new(f.as_ref().clone().with_nullable(true))
                } else {
                    f.clone()
                };
                (q.cloned(), f)
            })
            .collect()
    };
    match join_type {
        JoinType::Inner => left.join(right),
        JoinType::Left => {
            let mut f = nullable(left, false);
            f.extend(nullable(right, true));
            PlanSchema::new(f)
        }
        JoinType::Right => {
            let mut f = nullable(left, true);
            f.extend(nullable(right, false));
            PlanSchema::new(f)
        }
        JoinType::Full => {
            let mut f = nullable(left, true);
            f.extend(nullable(right, true));
            PlanSchema::new(f)
        }
        JoinType::LeftSemi | JoinType::LeftAnti => left.clone(),
        JoinType::RightSemi | JoinType::RightAnti => right.clone(),
        JoinType::LeftMark => {
            let mut f = nullable(left, false);
            f.push((None, Arc::new(Field::new("mark", DataType::Boolean, true))));
            PlanSchema::new(f)
        }
    }
}

impl Join {
    /// Builds a join and its schema; keys must already be coerced to matching types.
    pub fn try_new(
        left: Arc<LogicalPlan>,
        right: Arc<LogicalPlan>,
        on: Vec<(Expr, Expr)>,
        filter: Option<Expr>,
        join_type: JoinType,
        null_equals_null: bool,
    ) -> Result<Self> {
        for (l, r) in &on {
            let lt = l.data_type(left.schema())?;
            let rt = r.data_type(right.schema())?;
            if lt != rt {
                return Err(Error::internal(format!(
                    "join keys {l} ({lt}) and {r} ({rt}) have different types"
                )));
            }
        }
        let schema = Arc::new(join_schema(left.schema(), right.schema(), join_type));
        Ok(Join {
            left,
            right,
            on,
            filter,
            join_type,
            null_equals_null,
            null_aware: false,
            schema,
        })
    }
}
