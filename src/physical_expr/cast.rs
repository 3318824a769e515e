//! `CAST` and `TRY_CAST` with SQL's rules on top of Arrow's cast kernel:
//! a value that does not convert is an error (or NULL for `TRY_CAST`), and
//! timestamps print as `YYYY-MM-DD HH:MM:SS`.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::CastOptions;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::util::display::FormatOptions;

use crate::error::{Error, Result};
use crate::logical::types::sql_type_name;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// Casts an array, failing (or giving NULL when `try_`) on values that do not convert.
pub fn cast_array(array: &ArrayRef, to: &DataType, try_: bool) -> Result<ArrayRef> {
    if array.data_type() == to {
        return Ok(array.clone());
    }
    // more digits at the same scale: every value still fits, only the type changes (no copy)
    if let (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) = (array.data_type(), to)
        && s1 == s2
        && p2 >= p1
    {
        let values = array
            .as_primitive::<arrow::datatypes::Decimal128Type>()
            .clone();
        return Ok(Arc::new(values.with_precision_and_scale(*p2, *s2)?));
    }
    let options = CastOptions {
        safe: try_,
        format_options: FormatOptions::default()
            .with_timestamp_format(Some(TIMESTAMP_FORMAT))
            .with_datetime_format(Some(TIMESTAMP_FORMAT)),
    };
    // Arrow rounds floats to integers by truncating and accepts any string for booleans it knows;
    // both match SQLite's CAST. Strings with surrounding spaces convert after trimming.
    let source = match (array.data_type(), to) {
        (DataType::Utf8, t) if t.is_numeric() || t.is_temporal() || *t == DataType::Boolean => {
            trim_strings(array)
        }
        // floats round to integers half to even, decimals half away from zero (PostgreSQL, DuckDB)
        (DataType::Float32 | DataType::Float64, t) if t.is_integer() => {
            let f = arrow::compute::cast(array, &DataType::Float64)?;
            let f = f.as_primitive::<arrow::datatypes::Float64Type>();
            Arc::new(f.unary::<_, arrow::datatypes::Float64Type>(f64::round_ties_even)) as ArrayRef
        }
        (DataType::Decimal128(p, s), t) if t.is_integer() && *s > 0 => {
            arrow::compute::cast(array, &DataType::Decimal128((*p).max(1), 0))?
        }
        _ => array.clone(),
    };
    if matches!(array.data_type(), DataType::Float32 | DataType::Float64) && *to == DataType::Utf8 {
        return float_strings(&source, try_);
    }
    arrow::compute::cast_with_options(&source, to, &options).map_err(|e| {
        let detail = match e {
            arrow::error::ArrowError::CastError(m) | arrow::error::ArrowError::ParseError(m) => m,
            other => other.to_string(),
        };
        Error::execution(format!(
            "cannot cast {} to {}: {detail}",
            sql_type_name(array.data_type()),
            sql_type_name(to)
        ))
    })
}

/// A float as text the way PostgreSQL prints it: the shortest digits that read back to the same
/// value, in positional form unless the exponent is below -4 or at least 15 (`1e+16`, `1e-05`).
pub fn float_text(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // `{:e}` gives the shortest round-trip mantissa and the exponent
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..15).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let point = exp + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    if neg { format!("-{body}") } else { body }
}

/// Floats as text, see [`float_text`].
fn float_strings(array: &ArrayRef, _try: bool) -> Result<ArrayRef> {
    let f = arrow::compute::cast(array, &DataType::Float64)?;
    let f = f.as_primitive::<arrow::datatypes::Float64Type>();
    let out: arrow::array::StringArray = f.iter().map(|v| v.map(float_text)).collect();
    Ok(Arc::new(out))
}

fn trim_strings(array: &ArrayRef) -> ArrayRef {
    let s = array.as_any().downcast_ref::<arrow::array::StringArray>();
    match s {
        Some(s)
            if s.iter()
                .any(|v| v.is_some_and(|v| v.starts_with(' ') || v.ends_with(' '))) =>
        {
            Arc::new(
                s.iter()
                    .map(|v| v.map(str::trim))
                    .collect::<arrow::array::StringArray>(),
            )
        }
        _ => array.clone(),
    }
}

/// `CAST(expr AS type)`.
#[derive(Debug)]
pub struct CastExpr {
    expr: PhysicalExprRef,
    to: DataType,
    try_: bool,
}

impl CastExpr {
    /// A cast.
    pub fn new(expr: PhysicalExprRef, to: DataType, try_: bool) -> Self {
        CastExpr { expr, to, try_ }
    }
}

impl fmt::Display for CastExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CAST({} AS {})", self.expr, sql_type_name(&self.to))
    }
}

impl PhysicalExpr for CastExpr {
    fn data_type(&self) -> &DataType {
        &self.to
    }
    fn nullable(&self) -> bool {
        self.try_ || self.expr.nullable()
    }
    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        match self.expr.evaluate(batch)? {
            ColumnarValue::Array(a) => {
                Ok(ColumnarValue::Array(cast_array(&a, &self.to, self.try_)?))
            }
            ColumnarValue::Scalar(s) => {
                let a = s.to_array_of_size(1)?;
                let c = cast_array(&a, &self.to, self.try_)?;
                Ok(ColumnarValue::Scalar(
                    datafusion_common::ScalarValue::try_from_array(&c, 0)?,
                ))
            }
        }
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.expr]
    }
}

/// Whether an array has any value at all (used by callers deciding on fast paths).
pub fn has_values(a: &dyn Array) -> bool {
    a.len() > a.null_count()
}

#[cfg(test)]
mod tests {
    use super::float_text;

    #[test]
    fn floats_print_like_postgres() {
        assert_eq!(float_text(1e16), "1e+16");
        assert_eq!(float_text(1e-5), "1e-05");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(123.5), "123.5");
        assert_eq!(float_text(-2.0), "-2");
        assert_eq!(float_text(100.0), "100");
        assert_eq!(float_text(0.0001), "0.0001");
        assert_eq!(float_text(123456789012345.0), "123456789012345");
        assert_eq!(float_text(1.5e300), "1.5e+300");
    }
}
