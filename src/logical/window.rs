//! Window function calls: the function, its PARTITION BY / ORDER BY and frame.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::functions::AggregateFunction;
use crate::logical::expr::{Expr, SortExpr};

/// The function a window expression computes.
#[derive(Debug, Clone)]
pub enum WindowFunc {
    /// An aggregate computed over the frame.
    Aggregate(Arc<dyn AggregateFunction>),
    /// `row_number()`
    RowNumber,
    /// `rank()`
    Rank,
    /// `dense_rank()`
    DenseRank,
    /// `percent_rank()`
    PercentRank,
    /// `cume_dist()`
    CumeDist,
    /// `ntile(n)`
    Ntile,
    /// `lag(x, offset, default)`
    Lag,
    /// `lead(x, offset, default)`
    Lead,
    /// `first_value(x)`
    FirstValue,
    /// `last_value(x)`
    LastValue,
    /// `nth_value(x, n)`
    NthValue,
}

impl WindowFunc {
    /// The function's name.
    pub fn name(&self) -> &str {
        match self {
            WindowFunc::Aggregate(a) => a.name(),
            WindowFunc::RowNumber => "row_number",
            WindowFunc::Rank => "rank",
            WindowFunc::DenseRank => "dense_rank",
            WindowFunc::PercentRank => "percent_rank",
            WindowFunc::CumeDist => "cume_dist",
            WindowFunc::Ntile => "ntile",
            WindowFunc::Lag => "lag",
            WindowFunc::Lead => "lead",
            WindowFunc::FirstValue => "first_value",
            WindowFunc::LastValue => "last_value",
            WindowFunc::NthValue => "nth_value",
        }
    }
}

/// Units of a window frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameUnits {
    /// Physical rows.
    Rows,
    /// Peers by ORDER BY value.
    Range,
    /// Peer groups.
    Groups,
}

/// One end of a window frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameBound {
    /// `UNBOUNDED PRECEDING`
    UnboundedPreceding,
    /// `n PRECEDING`
    Preceding(u64),
    /// `CURRENT ROW`
    CurrentRow,
    /// `n FOLLOWING`
    Following(u64),
    /// `UNBOUNDED FOLLOWING`
    UnboundedFollowing,
}

/// A window frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowFrame {
    /// ROWS, RANGE or GROUPS.
    pub units: FrameUnits,
    /// Start of the frame.
    pub start: FrameBound,
    /// End of the frame.
    pub end: FrameBound,
}

impl WindowFrame {
    /// The SQL default frame: with ORDER BY, `RANGE UNBOUNDED PRECEDING .. CURRENT ROW`; without, the whole partition.
    pub fn default_for(has_order: bool) -> Self {
        if has_order {
            WindowFrame {
                units: FrameUnits::Range,
                start: FrameBound::UnboundedPreceding,
                end: FrameBound::CurrentRow,
            }
        } else {
            WindowFrame {
                units: FrameUnits::Rows,
                start: FrameBound::UnboundedPreceding,
                end: FrameBound::UnboundedFollowing,
            }
        }
    }
}

impl std::fmt::Display for FrameBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameBound::UnboundedPreceding => f.write_str("UNBOUNDED PRECEDING"),
            FrameBound::Preceding(n) => write!(f, "{n} PRECEDING"),
            FrameBound::CurrentRow => f.write_str("CURRENT ROW"),
            FrameBound::Following(n) => write!(f, "{n} FOLLOWING"),
            FrameBound::UnboundedFollowing => f.write_str("UNBOUNDED FOLLOWING"),
        }
    }
}

impl std::fmt::Display for WindowFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let units = match self.units {
            FrameUnits::Rows => "ROWS",
            FrameUnits::Range => "RANGE",
            FrameUnits::Groups => "GROUPS",
        };
        write!(f, "{units} BETWEEN {} AND {}", self.start, self.end)
    }
}

/// A window function call: `f(args) OVER (PARTITION BY .. ORDER BY .. frame)`.
#[derive(Debug, Clone)]
pub struct WindowCall {
    /// The function.
    pub func: WindowFunc,
    /// Arguments.
    pub args: Vec<Expr>,
    /// `DISTINCT` (aggregates only).
    pub distinct: bool,
    /// PARTITION BY keys.
    pub partition_by: Vec<Expr>,
    /// ORDER BY keys.
    pub order_by: Vec<SortExpr>,
    /// The frame.
    pub frame: WindowFrame,
}

impl PartialEq for WindowCall {
    fn eq(&self, other: &Self) -> bool {
        self.func.name() == other.func.name()
            && self.args == other.args
            && self.distinct == other.distinct
            && self.partition_by == other.partition_by
            && self.order_by == other.order_by
            && self.frame == other.frame
    }
}
impl Eq for WindowCall {}
impl Hash for WindowCall {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.func.name().hash(state);
        self.args.hash(state);
        self.partition_by.hash(state);
    }
}
