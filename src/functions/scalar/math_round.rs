//! Rounding: `round`, `trunc`, `floor` and `ceil`, each with an optional number of digits.
//!
//! Result types:
//!
//! * floats keep their type; `round` rounds half away from zero;
//! * integers keep their type (unchanged unless the digit count is negative: `round(1250, -2)`
//!   is `1300`);
//! * `DECIMAL(p,s)` without digits gives `DECIMAL(p-s+1, 0)` (`p-s` for `trunc`), and with digits
//!   keeps scale `s` and gains one digit of precision for the possible carry (`round(9.95, 1)` is
//!   `10.00`), capped at 38.

use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Array, Float64Array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};

use super::{Arg, Rows, arity, bad_type, builtin, eval};
use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};

/// The rounding built-ins.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    use super::Signature::Custom;
    vec![
        builtin("round", Custom(signature), |a, n| apply(Mode::Round, a, n)),
        builtin("trunc", Custom(signature), |a, n| apply(Mode::Trunc, a, n)),
        builtin("floor", Custom(signature), |a, n| apply(Mode::Floor, a, n)),
        builtin("ceil", Custom(signature), |a, n| apply(Mode::Ceil, a, n)),
    ]
}

/// Which way a value is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Round,
    Trunc,
    Floor,
    Ceil,
}

impl Mode {
    fn of(name: &str) -> Mode {
        match name {
            "trunc" => Mode::Trunc,
            "floor" => Mode::Floor,
            "ceil" => Mode::Ceil,
            _ => Mode::Round,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Round => "round",
            Mode::Trunc => "trunc",
            Mode::Floor => "floor",
            Mode::Ceil => "ceil",
        }
    }

    fn float(self, x: f64) -> f64 {
        match self {
            Mode::Round => x.round(),
            Mode::Trunc => x.trunc(),
            Mode::Floor => x.floor(),
            Mode::Ceil => x.ceil(),
        }
    }

    /// Rounds `x` to `n` decimal digits (negative `n` rounds to tens, hundreds, ...).
    fn float_digits(self, x: f64, n: i64) -> f64 {
        let n = n.clamp(-400, 400) as i32;
        let y = if n >= 0 {
            let m = 10f64.powi(n);
            self.float(x * m) / m
        } else {
            let m = 10f64.powi(-n);
            self.float(x / m) * m
        };
        match (y.is_finite() || !x.is_finite(), n >= 0) {
            (true, _) => y,
            (false, true) => x, // more digits than a double has: nothing to round
            (false, false) => 0.0,
        }
    }

    /// `v / 10^k`, rounded this way.
    fn div_pow10(self, v: i128, k: u32) -> i128 {
        let Some(d) = 10i128.checked_pow(k) else {
            // |v| < 10^38 < 10^k: only floor and ceil move away from zero
            return match self {
                Mode::Floor if v < 0 => -1,
                Mode::Ceil if v > 0 => 1,
                _ => 0,
            };
        };
        let (q, r) = (v / d, v % d);
        match self {
            Mode::Floor if r < 0 => q - 1,
            Mode::Ceil if r > 0 => q + 1,
            Mode::Round if r.abs() >= d - r.abs() => q + v.signum(),
            _ => q,
        }
    }
}

/// Precision and scale of the result of rounding `DECIMAL(p,s)`, with or without digits.
fn decimal_result(mode: Mode, p: u8, s: i8, with_digits: bool) -> (u8, i8) {
    let carry = u8::from(mode != Mode::Trunc);
    match (with_digits, s) {
        (true, _) => ((p + carry).min(38), s),
        (false, s) if s <= 0 => (p, s),
        (false, s) => (
            p.saturating_sub(s as u8).saturating_add(carry).clamp(1, 38),
            0,
        ),
    }
}

fn signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 2)?;
    let mode = Mode::of(name);
    let with_digits = args.len() == 2;
    let (arg, ret) = match &args[0] {
        DataType::Null | DataType::Float64 => (DataType::Float64, DataType::Float64),
        DataType::Float16 | DataType::Float32 => (DataType::Float32, DataType::Float32),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            let (rp, rs) = decimal_result(mode, *p, *s, with_digits);
            (DataType::Decimal128(*p, *s), DataType::Decimal128(rp, rs))
        }
        t if t.is_integer() => (t.clone(), t.clone()),
        t => return Err(bad_type(name, t)),
    };
    let mut casts = vec![arg];
    if let Some(d) = args.get(1) {
        if !(d.is_integer() || *d == DataType::Null) {
            return Err(Error::type_mismatch(format!(
                "{name}(): the number of digits must be an integer, got {}",
                crate::logical::types::sql_type_name(d)
            )));
        }
        casts.push(DataType::Int64);
    }
    Ok((casts, ret))
}

fn apply(mode: Mode, args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let digits = a.get(1).map(Arg::primitive::<Int64Type>).transpose()?;
        let x = &a[0];
        match x.array.data_type() {
            DataType::Float64 => floats(mode, x, digits, rows),
            DataType::Float32 => {
                let wide = Arg {
                    array: arrow::compute::cast(&x.array, &DataType::Float64)?,
                    scalar: x.scalar,
                };
                Ok(arrow::compute::cast(
                    &floats(mode, &wide, digits, rows)?,
                    &DataType::Float32,
                )?)
            }
            DataType::Decimal128(p, s) => {
                let out = decimals(mode, x, *s, digits, rows)?;
                let (p, s) = decimal_result(mode, *p, *s, digits.is_some());
                let out = out.with_precision_and_scale(p, s)?;
                out.validate_decimal_precision(p).map_err(|_| {
                    Error::execution(format!(
                        "{}: result does not fit DECIMAL({p},{s})",
                        mode.name()
                    ))
                })?;
                Ok(Arc::new(out))
            }
            t if t.is_integer() => match digits {
                None => Ok(x.array.clone()),
                Some(digits) => {
                    // round at negative digit counts through DECIMAL(38,0), then back
                    let dec = DataType::Decimal128(38, 0);
                    let wide = Arg {
                        array: arrow::compute::cast(&x.array, &dec)?,
                        scalar: x.scalar,
                    };
                    let out: ArrayRef =
                        Arc::new(decimals(mode, &wide, 0, Some(digits), rows)?.with_data_type(dec));
                    let options = CastOptions {
                        safe: false,
                        ..Default::default()
                    };
                    cast_with_options(&out, t, &options).map_err(|_| {
                        Error::execution(format!("{}: integer result out of range", mode.name()))
                    })
                }
            },
            _ => Ok(x.full(rows)?),
        }
    })
}

fn floats(
    mode: Mode,
    x: &Arg,
    digits: Option<Rows<&arrow::array::Int64Array>>,
    rows: usize,
) -> Result<ArrayRef> {
    let values = x.primitive::<Float64Type>()?;
    let out: Float64Array = match digits {
        None => values.array().unary(|v| mode.float(v)),
        Some(n) => (0..rows)
            .map(|i| Some(mode.float_digits(values.get(i)?, n.get(i)?)))
            .collect(),
    };
    Ok(Arc::new(out))
}

/// Rounds decimals of scale `s`: to an integer (scale 0) without digits, else to `n` digits
/// keeping the scale.
fn decimals(
    mode: Mode,
    x: &Arg,
    s: i8,
    digits: Option<Rows<&arrow::array::Int64Array>>,
    rows: usize,
) -> Result<Decimal128Array> {
    let values = x.primitive::<Decimal128Type>()?;
    let Some(n) = digits else {
        if s <= 0 {
            return Ok(values.array().clone());
        }
        return Ok(values.array().unary(|v| mode.div_pow10(v, s as u32)));
    };
    let overflow = || Error::execution(format!("{}: decimal result out of range", mode.name()));
    (0..rows)
        .map(|i| {
            let (Some(v), Some(n)) = (values.get(i), n.get(i)) else {
                return Ok(None);
            };
            let k = i64::from(s).saturating_sub(n);
            if k <= 0 {
                return Ok(Some(v));
            }
            let k = u32::try_from(k).unwrap_or(u32::MAX);
            match mode.div_pow10(v, k) {
                0 => Ok(Some(0)),
                q => 10i128
                    .checked_pow(k)
                    .and_then(|d| q.checked_mul(d))
                    .map(Some)
                    .ok_or_else(overflow),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use arrow::array::{Array, Decimal128Array, Float32Array, Int32Array};
    use arrow::datatypes::DataType;
    use datafusion_common::ScalarValue;
    use std::sync::Arc;

    fn dec(v: &[Option<i128>], p: u8, s: i8) -> arrow::array::ArrayRef {
        Arc::new(
            Decimal128Array::from(v.to_vec())
                .with_precision_and_scale(p, s)
                .unwrap(),
        )
    }

    #[test]
    fn floats_round_half_away_from_zero() {
        let out = call(
            "round",
            vec![floats(&[
                Some(2.5),
                Some(-2.5),
                Some(0.49),
                None,
                Some(-0.5),
            ])],
        )
        .unwrap();
        assert_eq!(
            out.as_ref(),
            floats(&[Some(3.0), Some(-3.0), Some(0.0), None, Some(-1.0)]).as_ref()
        );
        assert_eq!(
            call_scalars("round", vec![f(1.2345), i(2)]).unwrap(),
            f(1.23)
        );
        assert_eq!(call_scalars("round", vec![f(-1.5), i(0)]).unwrap(), f(-2.0));
        assert_eq!(
            call_scalars("round", vec![f(1234.5), i(-2)]).unwrap(),
            f(1200.0)
        );
        assert_eq!(call_scalars("round", vec![f(1.5), i(400)]).unwrap(), f(1.5));
        assert_eq!(
            call_scalars("round", vec![f(1.5), i(-400)]).unwrap(),
            f(0.0)
        );
        assert_eq!(
            call_scalars("round", vec![f(2.5), ScalarValue::Int64(None)]).unwrap(),
            ScalarValue::Float64(None)
        );
        assert_eq!(call_scalars("trunc", vec![f(-2.7)]).unwrap(), f(-2.0));
        assert_eq!(call_scalars("trunc", vec![f(2.789), i(1)]).unwrap(), f(2.7));
        assert_eq!(call_scalars("floor", vec![f(-2.1)]).unwrap(), f(-3.0));
        assert_eq!(call_scalars("ceil", vec![f(2.1)]).unwrap(), f(3.0));
        assert_eq!(call_scalars("ceil", vec![f(2.121), i(2)]).unwrap(), f(2.13));
        assert_eq!(
            call_scalars("floor", vec![f(-2.121), i(1)]).unwrap(),
            f(-2.2)
        );
        assert_eq!(
            call_scalars("ceil", vec![ScalarValue::Null]).unwrap(),
            ScalarValue::Float64(None)
        );
        let r = call("round", vec![Arc::new(Float32Array::from(vec![1.5f32]))]).unwrap();
        assert_eq!(r.as_ref(), &Float32Array::from(vec![2.0f32]) as &dyn Array);
    }

    #[test]
    fn integers_keep_type() {
        let a: arrow::array::ArrayRef =
            Arc::new(Int32Array::from(vec![Some(1250), Some(-1250), None]));
        assert_eq!(call("floor", vec![a.clone()]).unwrap().as_ref(), a.as_ref());
        let out = call("round", vec![a.clone(), ints(&[Some(-2); 3])]).unwrap();
        assert_eq!(
            out.as_ref(),
            &Int32Array::from(vec![Some(1300), Some(-1300), None]) as &dyn Array
        );
        let out = call("trunc", vec![a.clone(), ints(&[Some(-2); 3])]).unwrap();
        assert_eq!(
            out.as_ref(),
            &Int32Array::from(vec![Some(1200), Some(-1200), None]) as &dyn Array
        );
        assert_eq!(call_scalars("round", vec![i(17), i(2)]).unwrap(), i(17));
        assert_eq!(call_scalars("round", vec![i(17), i(-50)]).unwrap(), i(0));
        assert!(err_msg(call_scalars("round", vec![i(i64::MAX), i(-1)])).contains("out of range"));
    }

    #[test]
    fn decimals_round_at_digits() {
        // 12.345, -12.345, 9.995 as DECIMAL(5,3)
        let a = dec(&[Some(12345), Some(-12345), Some(9995), None], 5, 3);
        let out = call("round", vec![a.clone(), ints(&[Some(2); 4])]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(12350), Some(-12350), Some(10000), None], 6, 3).as_ref()
        );
        let out = call("round", vec![a.clone()]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(12), Some(-12), Some(10), None], 3, 0).as_ref()
        );
        let out = call("trunc", vec![a.clone()]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(12), Some(-12), Some(9), None], 2, 0).as_ref()
        );
        let out = call("floor", vec![a.clone()]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(12), Some(-13), Some(9), None], 3, 0).as_ref()
        );
        let out = call("ceil", vec![a.clone()]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(13), Some(-12), Some(10), None], 3, 0).as_ref()
        );
        let out = call("round", vec![a.clone(), ints(&[Some(-1); 4])]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(10000), Some(-10000), Some(10000), None], 6, 3).as_ref()
        );
        let out = call("round", vec![a.clone(), ints(&[Some(-60); 4])]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(0), Some(0), Some(0), None], 6, 3).as_ref()
        );
        let half = dec(&[Some(5), Some(-5), Some(4)], 1, 1);
        let out = call("round", vec![half]).unwrap();
        assert_eq!(
            out.as_ref(),
            dec(&[Some(1), Some(-1), Some(0)], 1, 0).as_ref()
        );
        let (_, ret) = func("trunc")
            .signature(&[DataType::Decimal128(2, 2)])
            .unwrap();
        assert_eq!(ret, DataType::Decimal128(1, 0));
        let full = dec(
            &[Some(99_999_999_999_999_999_999_999_999_999_999_999_999)],
            38,
            0,
        );
        assert!(call("round", vec![full, ints(&[Some(-1)])]).is_err());
    }

    #[test]
    fn signature_errors() {
        assert!(func("floor").signature(&[]).is_err());
        assert!(func("round").signature(&[DataType::Utf8]).is_err());
        assert!(
            func("round")
                .signature(&[DataType::Float64, DataType::Float64])
                .is_err()
        );
    }
}
