//! `[NOT] LIKE` / `ILIKE` with an optional `ESCAPE` character, on Arrow's like kernels.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, StringArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::error::Result;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// `expr [NOT] [I]LIKE pattern [ESCAPE c]`.
#[derive(Debug)]
pub struct LikeExpr {
    expr: PhysicalExprRef,
    pattern: PhysicalExprRef,
    negated: bool,
    case_insensitive: bool,
    escape: Option<char>,
}

impl LikeExpr {
    /// A LIKE expression.
    pub fn new(
        expr: PhysicalExprRef,
        pattern: PhysicalExprRef,
        negated: bool,
        case_insensitive: bool,
        escape: Option<char>,
    ) -> Self {
        LikeExpr {
            expr,
            pattern,
            negated,
            case_insensitive,
            escape,
        }
    }
}

impl fmt::Display for LikeExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}{} {}",
            self.expr,
            if self.negated { "NOT " } else { "" },
            if self.case_insensitive {
                "ILIKE"
            } else {
                "LIKE"
            },
            self.pattern
        )
    }
}

/// Rewrites a pattern with escape character `esc` into Arrow's backslash-escaped form.
/// Without an ESCAPE clause a backslash is an ordinary character (as in SQLite and the standard).
pub fn to_arrow_pattern(p: &str, esc: Option<char>) -> String {
    let mut out = String::with_capacity(p.len() + 4);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if Some(c) == esc {
            match chars.next() {
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push_str("\\\\"),
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

impl PhysicalExpr for LikeExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.expr, &self.pattern]
    }
    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let v = self.expr.evaluate(batch)?;
        let p = self.pattern.evaluate(batch)?;
        let p = match p {
            ColumnarValue::Scalar(ScalarValue::Utf8(s)) => ColumnarValue::Scalar(
                ScalarValue::Utf8(s.map(|s| to_arrow_pattern(&s, self.escape))),
            ),
            ColumnarValue::Scalar(other) => ColumnarValue::Scalar(other),
            ColumnarValue::Array(a) => {
                let s = a.as_any().downcast_ref::<StringArray>();
                match s {
                    Some(s) => ColumnarValue::Array(Arc::new(
                        s.iter()
                            .map(|x| x.map(|x| to_arrow_pattern(x, self.escape)))
                            .collect::<StringArray>(),
                    )),
                    None => ColumnarValue::Array(a),
                }
            }
        };
        let both_scalar = matches!(
            (&v, &p),
            (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_))
        );
        let vd = v.to_datum()?;
        let pd = p.to_datum()?;
        use arrow::compute::kernels::comparison as k;
        let out = match (self.negated, self.case_insensitive) {
            (false, false) => k::like(vd.as_ref(), pd.as_ref())?,
            (true, false) => k::nlike(vd.as_ref(), pd.as_ref())?,
            (false, true) => k::ilike(vd.as_ref(), pd.as_ref())?,
            (true, true) => k::nilike(vd.as_ref(), pd.as_ref())?,
        };
        if both_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        let _ = n;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// Whether a value is NULL (helper for tests).
pub fn is_null_at(a: &dyn Array, i: usize) -> bool {
    a.is_null(i)
}
