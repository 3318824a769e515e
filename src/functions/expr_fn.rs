//! Function calls as Rust free functions: scalar functions (`lower(col("name"))`), aggregates
//! (`sum(col("x"))`, `count_all()`) and window functions (`row_number().over(..)`). Each builds
//! the call the SQL planner would build for the same SQL, bound to the built-in function of that
//! name; user-defined functions are called with `ScalarUdf::call` / `AggregateUdf::call` or by
//! name with `SessionContext::call_function`.
//!
//! ```
//! use flint::prelude::*;
//! let ctx = SessionContext::new();
//! let df = ctx.sql("SELECT * FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) t(k, v)").unwrap();
//! let out = df
//!     .group_by(vec![upper(col("k")).alias("k")]).unwrap()
//!     .agg(vec![sum(col("v")).alias("total"), count_all().alias("n")]).unwrap()
//!     .with_column("rank", rank().over(WindowSpec::new().order_by(vec![col("total").sort(false, true)]))).unwrap()
//!     .sort(vec![col("k").sort(true, false)]).unwrap();
//! let expected = ctx.sql(
//!     "SELECT upper(k) AS k, sum(v) AS total, count(*) AS n, rank() OVER (ORDER BY sum(v) DESC) AS rank \
//!      FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) t(k, v) GROUP BY upper(k) ORDER BY k",
//! ).unwrap();
//! assert_eq!(out.collect().unwrap(), expected.collect().unwrap());
//! ```

use std::sync::{Arc, OnceLock};

use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::functions::{AggregateFunction, ColumnarValue, FunctionRegistry, ScalarFunction};
use crate::logical::expr::{
    AggregateCall, Expr, FrameBound, FrameUnits, ScalarCall, SortExpr, WindowCall, WindowFrame,
    WindowFunc,
};

/// The built-in functions, looked up by the wrappers below.
fn builtins() -> &'static FunctionRegistry {
    static BUILTINS: OnceLock<FunctionRegistry> = OnceLock::new();
    BUILTINS.get_or_init(FunctionRegistry::with_builtins)
}

/// A call of a built-in scalar function (an error call if there is no such built-in, which the
/// unit tests rule out for every wrapper here).
fn scalar(name: &str, args: Vec<Expr>) -> Expr {
    match builtins().scalar(name) {
        Some(func) => Expr::ScalarFunction(ScalarCall { func, args }),
        None => invalid(format!("function {name}() does not exist"), args),
    }
}

/// A call of a built-in aggregate.
fn aggregate(name: &str, args: Vec<Expr>, distinct: bool) -> Expr {
    match builtins().aggregate(name) {
        Some(func) => Expr::Aggregate(AggregateCall {
            func,
            args,
            distinct,
            filter: None,
        }),
        None => invalid(format!("aggregate {name}() does not exist"), args),
    }
}

/// An expression that fails to plan with `message`: how a builder that returns a bare `Expr`
/// reports misuse at the transformation that uses it.
fn invalid(message: String, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction(ScalarCall {
        func: Arc::new(InvalidCall { message }),
        args,
    })
}

/// The function behind [`invalid`]: its signature is the error.
#[derive(Debug)]
struct InvalidCall {
    message: String,
}

impl ScalarFunction for InvalidCall {
    fn name(&self) -> &str {
        "invalid"
    }
    fn signature(&self, _arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        Err(Error::plan(self.message.clone()))
    }
    fn invoke(&self, _args: &[ColumnarValue], _num_rows: usize) -> Result<ColumnarValue> {
        Err(Error::plan(self.message.clone()))
    }
}

macro_rules! scalar_fns {
    ($($(#[$doc:meta])* $name:ident($($arg:ident),*);)*) => {
        $(
            $(#[$doc])*
            pub fn $name($($arg: Expr),*) -> Expr {
                scalar(stringify!($name), vec![$($arg),*])
            }
        )*
    };
}

scalar_fns! {
    /// `abs(x)`: absolute value.
    abs(x);
    /// `ceil(x)`: smallest integer not below `x`.
    ceil(x);
    /// `floor(x)`: largest integer not above `x`.
    floor(x);
    /// `round(x)`: rounds half away from zero to an integer value.
    round(x);
    /// `trunc(x)`: rounds toward zero.
    trunc(x);
    /// `sqrt(x)`.
    sqrt(x);
    /// `exp(x)`.
    exp(x);
    /// `ln(x)`: natural logarithm.
    ln(x);
    /// `log10(x)`.
    log10(x);
    /// `power(x, y)`: `x` raised to `y`.
    power(x, y);
    /// `sign(x)`: -1, 0 or 1.
    sign(x);
    /// `random()`: a uniform DOUBLE in `[0, 1)` per row.
    random();
    /// `lower(s)`.
    lower(s);
    /// `upper(s)`.
    upper(s);
    /// `length(s)`: characters in `s`.
    length(s);
    /// `trim(s)`: removes leading and trailing spaces.
    trim(s);
    /// `ltrim(s)`.
    ltrim(s);
    /// `rtrim(s)`.
    rtrim(s);
    /// `replace(s, from, to)`: replaces every occurrence.
    replace(s, from, to);
    /// `reverse(s)`.
    reverse(s);
    /// `left(s, n)`: the first `n` characters.
    left(s, n);
    /// `right(s, n)`: the last `n` characters.
    right(s, n);
    /// `starts_with(s, prefix)`.
    starts_with(s, prefix);
    /// `ends_with(s, suffix)`.
    ends_with(s, suffix);
    /// `contains(s, part)`.
    contains(s, part);
    /// `position(part, s)`: 1-based position of `part` in `s`, 0 if absent.
    position(part, s);
    /// `split_part(s, sep, n)`: the `n`-th field of `s` split by `sep`.
    split_part(s, sep, n);
    /// `string_to_array(s, sep)`: `s` split by `sep` into a list (PostgreSQL rules).
    string_to_array(s, sep);
    /// `string_split(s, sep)`: `s` split by `sep` into a list (DuckDB rules).
    string_split(s, sep);
    /// `cardinality(list)`: the number of elements of a list.
    cardinality(list);
    /// `md5(s)`: hex digest.
    md5(s);
    /// `nullif(a, b)`: NULL if `a = b`, else `a`.
    nullif(a, b);
    /// `date_trunc(unit, t)`: truncates a date or timestamp to `unit` ('month', 'day', ...).
    date_trunc(unit, t);
    /// `date_part(part, t)`: a field of a date or timestamp ('year', 'dow', ...).
    date_part(part, t);
    /// `to_date(s)`: parses a date.
    to_date(s);
    /// `now()`: the current timestamp.
    now();
}

/// `substr(s, start, len)`: `len` characters from 1-based `start`.
pub fn substr(s: Expr, start: Expr, len: Expr) -> Expr {
    scalar("substr", vec![s, start, len])
}

/// `round(x, digits)`: rounds to `digits` decimal places.
pub fn round_to(x: Expr, digits: Expr) -> Expr {
    scalar("round", vec![x, digits])
}

/// `concat(a, b, ...)`: concatenation, skipping NULLs.
pub fn concat(args: Vec<Expr>) -> Expr {
    scalar("concat", args)
}

/// `concat_ws(sep, a, b, ...)`: concatenation with a separator, skipping NULLs.
pub fn concat_ws(sep: Expr, args: Vec<Expr>) -> Expr {
    scalar("concat_ws", std::iter::once(sep).chain(args).collect())
}

/// `coalesce(a, b, ...)`: the first non-NULL argument.
pub fn coalesce(args: Vec<Expr>) -> Expr {
    scalar("coalesce", args)
}

/// `greatest(a, b, ...)`: the largest non-NULL argument.
pub fn greatest(args: Vec<Expr>) -> Expr {
    scalar("greatest", args)
}

/// `least(a, b, ...)`: the smallest non-NULL argument.
pub fn least(args: Vec<Expr>) -> Expr {
    scalar("least", args)
}

/// `sum(x)`.
pub fn sum(x: Expr) -> Expr {
    aggregate("sum", vec![x], false)
}
/// `avg(x)`.
pub fn avg(x: Expr) -> Expr {
    aggregate("avg", vec![x], false)
}
/// `min(x)`.
pub fn min(x: Expr) -> Expr {
    aggregate("min", vec![x], false)
}
/// `max(x)`.
pub fn max(x: Expr) -> Expr {
    aggregate("max", vec![x], false)
}
/// `count(x)`: rows where `x` is not NULL.
pub fn count(x: Expr) -> Expr {
    aggregate("count", vec![x], false)
}
/// `count(*)`: all rows.
pub fn count_all() -> Expr {
    aggregate("count", vec![], false)
}
/// `count(DISTINCT x)`.
pub fn count_distinct(x: Expr) -> Expr {
    aggregate("count", vec![x], true)
}
/// `any_value(x)`: some value of the group.
pub fn any_value(x: Expr) -> Expr {
    aggregate("any_value", vec![x], false)
}
/// `bool_and(p)`: whether `p` holds for every row.
pub fn bool_and(p: Expr) -> Expr {
    aggregate("bool_and", vec![p], false)
}
/// `bool_or(p)`: whether `p` holds for some row.
pub fn bool_or(p: Expr) -> Expr {
    aggregate("bool_or", vec![p], false)
}
/// `string_agg(s, sep)`: the group's strings joined by `sep`.
pub fn string_agg(s: Expr, sep: Expr) -> Expr {
    aggregate("string_agg", vec![s, sep], false)
}

/// A window function call with an empty window (give it one with [`Expr::over`]).
fn window(func: WindowFunc, args: Vec<Expr>) -> Expr {
    Expr::Window(Box::new(WindowCall {
        func,
        args,
        distinct: false,
        partition_by: vec![],
        order_by: vec![],
        frame: WindowFrame::default_for(false),
    }))
}

/// `row_number()`: 1, 2, 3, ... within the window partition.
pub fn row_number() -> Expr {
    window(WindowFunc::RowNumber, vec![])
}
/// `rank()`: rank with gaps for ties.
pub fn rank() -> Expr {
    window(WindowFunc::Rank, vec![])
}
/// `dense_rank()`: rank without gaps.
pub fn dense_rank() -> Expr {
    window(WindowFunc::DenseRank, vec![])
}
/// `percent_rank()`: `(rank - 1) / (rows - 1)`.
pub fn percent_rank() -> Expr {
    window(WindowFunc::PercentRank, vec![])
}
/// `cume_dist()`: fraction of rows up to this row's peers.
pub fn cume_dist() -> Expr {
    window(WindowFunc::CumeDist, vec![])
}
/// `ntile(n)`: bucket number from 1 to `n`.
pub fn ntile(n: i64) -> Expr {
    window(
        WindowFunc::Ntile,
        vec![Expr::Literal(ScalarValue::Int64(Some(n)))],
    )
}
/// `lag(x, offset, default)`: `x` of the row `offset` rows before (`default` past the start).
pub fn lag(x: Expr, offset: i64, default: Option<Expr>) -> Expr {
    let mut args = vec![x, Expr::Literal(ScalarValue::Int64(Some(offset)))];
    args.extend(default);
    window(WindowFunc::Lag, args)
}
/// `lead(x, offset, default)`: `x` of the row `offset` rows after (`default` past the end).
pub fn lead(x: Expr, offset: i64, default: Option<Expr>) -> Expr {
    let mut args = vec![x, Expr::Literal(ScalarValue::Int64(Some(offset)))];
    args.extend(default);
    window(WindowFunc::Lead, args)
}
/// `first_value(x)`: `x` of the frame's first row.
pub fn first_value(x: Expr) -> Expr {
    window(WindowFunc::FirstValue, vec![x])
}
/// `last_value(x)`: `x` of the frame's last row.
pub fn last_value(x: Expr) -> Expr {
    window(WindowFunc::LastValue, vec![x])
}
/// `nth_value(x, n)`: `x` of the frame's `n`-th row.
pub fn nth_value(x: Expr, n: i64) -> Expr {
    window(
        WindowFunc::NthValue,
        vec![x, Expr::Literal(ScalarValue::Int64(Some(n)))],
    )
}

/// The window of a window function: `OVER (PARTITION BY .. ORDER BY .. frame)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowSpec {
    partition_by: Vec<Expr>,
    order_by: Vec<SortExpr>,
    frame: Option<WindowFrame>,
}

impl WindowSpec {
    /// The whole input as one window (`OVER ()`).
    pub fn new() -> Self {
        Self::default()
    }
    /// `PARTITION BY exprs`.
    pub fn partition_by(mut self, exprs: Vec<Expr>) -> Self {
        self.partition_by = exprs;
        self
    }
    /// `ORDER BY keys` (with ORDER BY the default frame runs from the partition start to the
    /// current row's last peer, as in SQL).
    pub fn order_by(mut self, keys: Vec<SortExpr>) -> Self {
        self.order_by = keys;
        self
    }
    /// `ROWS BETWEEN start AND end`.
    pub fn rows_between(mut self, start: FrameBound, end: FrameBound) -> Self {
        self.frame = Some(WindowFrame {
            units: FrameUnits::Rows,
            start,
            end,
        });
        self
    }
    /// `RANGE BETWEEN start AND end` (offsets other than 0 are not supported).
    pub fn range_between(mut self, start: FrameBound, end: FrameBound) -> Self {
        self.frame = Some(WindowFrame {
            units: FrameUnits::Range,
            start,
            end,
        });
        self
    }
}

impl Expr {
    /// Computes a window function or an aggregate over `window`:
    /// `sum(col("x")).over(WindowSpec::new().partition_by(vec![col("k")]))`.
    /// On any other expression the transformation using it fails.
    pub fn over(self, window: WindowSpec) -> Expr {
        let frame = |w: &WindowSpec| {
            w.frame
                .unwrap_or_else(|| WindowFrame::default_for(!w.order_by.is_empty()))
        };
        match self {
            Expr::Alias(e, name) => e.over(window).alias(name),
            Expr::Window(mut call) => {
                call.frame = frame(&window);
                call.partition_by = window.partition_by;
                call.order_by = window.order_by;
                Expr::Window(call)
            }
            Expr::Aggregate(a) if a.filter.is_none() => Expr::Window(Box::new(WindowCall {
                func: WindowFunc::Aggregate(a.func as Arc<dyn AggregateFunction>),
                args: a.args,
                distinct: a.distinct,
                frame: frame(&window),
                partition_by: window.partition_by,
                order_by: window.order_by,
            })),
            other => invalid(
                format!("{other} is not a window function or aggregate, so it cannot have OVER"),
                vec![],
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::expr_fn::col;

    #[test]
    fn every_wrapper_binds_a_builtin() {
        let x = || col("x");
        let calls = vec![
            abs(x()),
            ceil(x()),
            floor(x()),
            round(x()),
            round_to(x(), x()),
            trunc(x()),
            sqrt(x()),
            exp(x()),
            ln(x()),
            log10(x()),
            power(x(), x()),
            sign(x()),
            random(),
            lower(x()),
            upper(x()),
            length(x()),
            trim(x()),
            ltrim(x()),
            rtrim(x()),
            replace(x(), x(), x()),
            reverse(x()),
            left(x(), x()),
            right(x(), x()),
            starts_with(x(), x()),
            ends_with(x(), x()),
            contains(x(), x()),
            position(x(), x()),
            split_part(x(), x(), x()),
            string_to_array(x(), x()),
            string_split(x(), x()),
            cardinality(x()),
            md5(x()),
            nullif(x(), x()),
            date_trunc(x(), x()),
            date_part(x(), x()),
            to_date(x()),
            now(),
            substr(x(), x(), x()),
            concat(vec![x()]),
            concat_ws(x(), vec![x()]),
            coalesce(vec![x()]),
            greatest(vec![x()]),
            least(vec![x()]),
            sum(x()),
            avg(x()),
            min(x()),
            max(x()),
            count(x()),
            count_all(),
            count_distinct(x()),
            any_value(x()),
            bool_and(x()),
            bool_or(x()),
            string_agg(x(), x()),
        ];
        for c in calls {
            match &c {
                Expr::ScalarFunction(f) => assert_ne!(f.func.name(), "invalid", "{c}"),
                Expr::Aggregate(_) => {}
                other => panic!("unexpected {other}"),
            }
        }
    }

    #[test]
    fn over_turns_aggregates_into_window_calls() {
        let w = WindowSpec::new().partition_by(vec![col("k")]);
        let e = sum(col("x")).alias("s").over(w.clone());
        assert!(
            matches!(e, Expr::Alias(ref inner, ref n) if n == "s" && matches!(**inner, Expr::Window(_)))
        );
        let bad = lower(col("x")).over(w);
        assert!(matches!(bad, Expr::ScalarFunction(ref f) if f.func.name() == "invalid"));
    }
}
