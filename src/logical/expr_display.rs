//! How expressions print: SQL-like text used in EXPLAIN and as default column names.

use std::fmt;

use datafusion_common::ScalarValue;

use crate::logical::expr::Expr;
use crate::logical::window::WindowFrame;

fn write_child(f: &mut fmt::Formatter<'_>, child: &Expr, parent_prec: u8) -> fmt::Result {
    match child {
        Expr::Binary(_, op, _) if op.precedence() < parent_prec => write!(f, "({child})"),
        Expr::Between { .. } | Expr::Like { .. } | Expr::InList { .. } if parent_prec > 20 => {
            write!(f, "({child})")
        }
        _ => write!(f, "{child}"),
    }
}

/// Prints a literal the way SQL would spell it.
pub fn fmt_literal(f: &mut fmt::Formatter<'_>, v: &ScalarValue) -> fmt::Result {
    if v.is_null() {
        return f.write_str("NULL");
    }
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => {
            write!(f, "'{}'", s.replace('\'', "''"))
        }
        ScalarValue::Date32(_) => write!(f, "DATE '{v}'"),
        ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampNanosecond(..)
        | ScalarValue::TimestampSecond(..) => write!(f, "TIMESTAMP '{v}'"),
        ScalarValue::IntervalMonthDayNano(Some(i)) => {
            write!(
                f,
                "INTERVAL '{} months {} days {} ns'",
                i.months, i.days, i.nanoseconds
            )
        }
        ScalarValue::IntervalYearMonth(Some(m)) => write!(f, "INTERVAL '{m} months'"),
        ScalarValue::IntervalDayTime(Some(d)) => {
            write!(f, "INTERVAL '{} days {} ms'", d.days, d.milliseconds)
        }
        ScalarValue::Float64(Some(x)) => {
            if x.fract() == 0.0 && x.is_finite() && x.abs() < 1e15 {
                write!(f, "{x:.1}")
            } else {
                write!(f, "{x}")
            }
        }
        other => write!(f, "{other}"),
    }
}

impl fmt::Display for Expr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(c) => write!(f, "{c}"),
            Expr::OuterColumn(c, _) => write!(f, "outer({c})"),
            Expr::Literal(v) => fmt_literal(f, v),
            Expr::Alias(e, name) => write!(f, "{e} AS {name}"),
            Expr::Binary(l, op, r) => {
                let p = op.precedence();
                write_child(f, l, p)?;
                write!(f, " {op} ")?;
                write_child(f, r, p + 1)
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                write_child(f, e, 15)
            }
            Expr::Negative(e) => {
                f.write_str("-")?;
                write_child(f, e, 50)
            }
            Expr::IsNull(e) => {
                write_child(f, e, 21)?;
                f.write_str(" IS NULL")
            }
            Expr::IsNotNull(e) => {
                write_child(f, e, 21)?;
                f.write_str(" IS NOT NULL")
            }
            Expr::IsBool(e, v, negated) => {
                write_child(f, e, 21)?;
                let what = match v {
                    Some(true) => "TRUE",
                    Some(false) => "FALSE",
                    None => "UNKNOWN",
                };
                write!(f, " IS {}{what}", if *negated { "NOT " } else { "" })
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                write_child(f, expr, 21)?;
                write!(f, " {}BETWEEN ", if *negated { "NOT " } else { "" })?;
                write_child(f, low, 21)?;
                f.write_str(" AND ")?;
                write_child(f, high, 21)
            }
            Expr::Like {
                negated,
                expr,
                pattern,
                case_insensitive,
                escape,
            } => {
                write_child(f, expr, 21)?;
                write!(
                    f,
                    " {}{} ",
                    if *negated { "NOT " } else { "" },
                    if *case_insensitive { "ILIKE" } else { "LIKE" }
                )?;
                write_child(f, pattern, 21)?;
                if let Some(c) = escape {
                    write!(f, " ESCAPE '{c}'")?;
                }
                Ok(())
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                write_child(f, expr, 21)?;
                write!(f, " {}IN (", if *negated { "NOT " } else { "" })?;
                for (i, e) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")
            }
            Expr::Case {
                operand,
                when_then,
                else_expr,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in when_then {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = else_expr {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            Expr::Cast {
                expr,
                data_type,
                try_,
            } => {
                write!(
                    f,
                    "{}({expr} AS {})",
                    if *try_ { "TRY_CAST" } else { "CAST" },
                    crate::logical::types::sql_type_name(data_type)
                )
            }
            Expr::ScalarFunction(call) => {
                write!(f, "{}(", call.func.name())?;
                for (i, a) in call.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::Aggregate(a) => {
                write!(f, "{}(", a.func.name())?;
                if a.distinct {
                    f.write_str("DISTINCT ")?;
                }
                if a.args.is_empty() {
                    f.write_str("*")?;
                }
                for (i, e) in a.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")?;
                if let Some(filter) = &a.filter {
                    write!(f, " FILTER (WHERE {filter})")?;
                }
                Ok(())
            }
            Expr::Window(w) => {
                write!(f, "{}(", w.func.name())?;
                if w.distinct {
                    f.write_str("DISTINCT ")?;
                }
                for (i, e) in w.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(") OVER (")?;
                let mut sep = "";
                if !w.partition_by.is_empty() {
                    f.write_str("PARTITION BY ")?;
                    for (i, e) in w.partition_by.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{e}")?;
                    }
                    sep = " ";
                }
                if !w.order_by.is_empty() {
                    write!(f, "{sep}ORDER BY ")?;
                    for (i, e) in w.order_by.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{e}")?;
                    }
                    sep = " ";
                }
                if w.frame != WindowFrame::default_for(!w.order_by.is_empty()) {
                    write!(f, "{sep}{}", w.frame)?;
                }
                f.write_str(")")
            }
            Expr::ScalarSubquery(_) => f.write_str("(<subquery>)"),
            Expr::Exists { negated, .. } => {
                write!(
                    f,
                    "{}EXISTS (<subquery>)",
                    if *negated { "NOT " } else { "" }
                )
            }
            Expr::InSubquery { expr, negated, .. } => {
                write!(
                    f,
                    "{expr} {}IN (<subquery>)",
                    if *negated { "NOT " } else { "" }
                )
            }
            Expr::Wildcard(None) => f.write_str("*"),
            Expr::Wildcard(Some(q)) => write!(f, "{q}.*"),
        }
    }
}
