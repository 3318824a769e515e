//! Math functions: `abs`, `sign`, `mod`, `power`, logarithms, trigonometry, `gcd`/`lcm`,
//! `factorial`, `isnan`, `pi` and `random`. Rounding lives in `math_round`.
//!
//! Functions of real numbers take and return `DOUBLE`; values outside a function's domain
//! (square root of a negative number, logarithm of zero) are errors, as in PostgreSQL.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowNativeTypeOp, AsArray, BooleanArray, Float64Array, Int64Array,
};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type,
};
use datafusion_common::ScalarValue;

use super::{Param, Signature, arity, bad_type, builtin, eval, is_number_like, volatile_builtin};
use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};
use crate::logical::coercion::numeric_supertype;

/// A domain check: the error message for an argument outside the domain, if it is.
type Domain = fn(f64) -> Option<&'static str>;

/// The math built-ins of this module.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    const F: &[Param] = &[Param::Float];
    const FF: &[Param] = &[Param::Float, Param::Float];
    const II: &[Param] = &[Param::Int, Param::Int];
    let f64_ret = || Signature::exact(FF, DataType::Float64);
    let mut all: Vec<Arc<dyn ScalarFunction>> = vec![
        builtin("abs", Signature::Custom(same_numeric), abs),
        builtin("sign", Signature::Custom(sign_signature), sign),
        builtin("mod", Signature::Custom(mod_signature), modulo),
        builtin("power", f64_ret(), power),
        builtin("atan2", f64_ret(), atan2),
        builtin(
            "log",
            Signature::Fixed {
                params: FF,
                required: 1,
                ret: DataType::Float64,
            },
            log,
        ),
        builtin("gcd", Signature::exact(II, DataType::Int64), gcd),
        builtin("lcm", Signature::exact(II, DataType::Int64), lcm),
        builtin(
            "factorial",
            Signature::exact(&[Param::Int], DataType::Int64),
            factorial,
        ),
        builtin("isnan", Signature::exact(F, DataType::Boolean), isnan),
        builtin("pi", Signature::exact(&[], DataType::Float64), pi),
        volatile_builtin("random", Signature::exact(&[], DataType::Float64), random),
    ];
    let float_fn =
        |name, f, domain| Arc::new(FloatFn { name, f, domain }) as Arc<dyn ScalarFunction>;
    let any: Domain = |_| None;
    all.extend([
        float_fn("sqrt", f64::sqrt, |x| {
            (x < 0.0).then_some("cannot take square root of a negative number")
        }),
        float_fn("cbrt", f64::cbrt, any),
        float_fn("exp", f64::exp, any),
        float_fn("exp2", f64::exp2, any),
        float_fn("ln", f64::ln, log_domain),
        float_fn("log10", f64::log10, log_domain),
        float_fn("log2", f64::log2, log_domain),
        float_fn("degrees", f64::to_degrees, any),
        float_fn("radians", f64::to_radians, any),
        float_fn("sin", f64::sin, any),
        float_fn("cos", f64::cos, any),
        float_fn("tan", f64::tan, any),
        float_fn("cot", |x| 1.0 / x.tan(), any),
        float_fn("asin", f64::asin, unit_domain),
        float_fn("acos", f64::acos, unit_domain),
        float_fn("atan", f64::atan, any),
        float_fn("sinh", f64::sinh, any),
        float_fn("cosh", f64::cosh, any),
        float_fn("tanh", f64::tanh, any),
    ]);
    all
}

fn log_domain(x: f64) -> Option<&'static str> {
    if x == 0.0 {
        Some("cannot take logarithm of zero")
    } else if x < 0.0 {
        Some("cannot take logarithm of a negative number")
    } else {
        None
    }
}

fn unit_domain(x: f64) -> Option<&'static str> {
    (x.abs() > 1.0).then_some("input is out of range")
}

/// A function of one `DOUBLE` with an optional domain check, e.g. `sqrt`.
#[derive(Debug)]
struct FloatFn {
    name: &'static str,
    f: fn(f64) -> f64,
    domain: Domain,
}

impl ScalarFunction for FloatFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        Signature::exact(&[Param::Float], DataType::Float64).resolve(self.name, arg_types)
    }
    fn invoke(&self, args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
        eval(args, num_rows, |a, _| {
            let x = a[0].primitive::<Float64Type>()?;
            let out: Float64Array = x.array().try_unary(|v| match (self.domain)(v) {
                Some(msg) => Err(Error::execution(format!("{}: {msg}", self.name))),
                None => Ok((self.f)(v)),
            })?;
            Ok(Arc::new(out))
        })
    }
}

/// Signature of functions that return their numeric argument's type (NULL becomes `BIGINT`).
pub(super) fn same_numeric(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 1)?;
    let t = match &args[0] {
        DataType::Null => DataType::Int64,
        DataType::Float16 => DataType::Float32,
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => DataType::Decimal128(*p, *s),
        t if t.is_integer()
            || matches!(
                t,
                DataType::Float32 | DataType::Float64 | DataType::Decimal128(..)
            ) =>
        {
            t.clone()
        }
        t => return Err(bad_type(name, t)),
    };
    Ok((vec![t.clone()], t))
}

fn abs(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    fn checked<T: ArrowPrimitiveType>(a: &ArrayRef) -> Result<ArrayRef>
    where
        T::Native: ArrowNativeTypeOp,
    {
        let a = a.as_primitive::<T>();
        let out = a
            .try_unary::<_, T, _>(|v| {
                if v.is_lt(T::Native::ZERO) {
                    v.neg_checked()
                } else {
                    Ok(v)
                }
            })
            .map_err(|_| Error::execution("abs: value out of range"))?;
        Ok(Arc::new(out.with_data_type(a.data_type().clone())))
    }
    eval(args, num_rows, |a, _| {
        let a = &a[0].array;
        match a.data_type() {
            DataType::Int8 => checked::<Int8Type>(a),
            DataType::Int16 => checked::<Int16Type>(a),
            DataType::Int32 => checked::<Int32Type>(a),
            DataType::Int64 => checked::<Int64Type>(a),
            DataType::Decimal128(..) => checked::<Decimal128Type>(a),
            DataType::Float32 => Ok(Arc::new(
                a.as_primitive::<Float32Type>()
                    .unary::<_, Float32Type>(f32::abs),
            )),
            DataType::Float64 => Ok(Arc::new(
                a.as_primitive::<Float64Type>()
                    .unary::<_, Float64Type>(f64::abs),
            )),
            _ => Ok(a.clone()), // unsigned integers are their own absolute value
        }
    })
}

/// `sign`: integers (and NULL) give `BIGINT`, other numbers `DOUBLE`.
fn sign_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 1)?;
    let t = match &args[0] {
        t if t.is_integer() || *t == DataType::Null => DataType::Int64,
        t if t.is_numeric() => DataType::Float64,
        t => return Err(bad_type(name, t)),
    };
    Ok((vec![t.clone()], t))
}

fn sign(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let a = &a[0].array;
        Ok(match a.data_type() {
            DataType::Float64 => Arc::new(a.as_primitive::<Float64Type>().unary::<_, Float64Type>(
                |v| {
                    if v == 0.0 || v.is_nan() {
                        v
                    } else {
                        v.signum()
                    }
                },
            )),
            _ => Arc::new(
                a.as_primitive::<Int64Type>()
                    .unary::<_, Int64Type>(i64::signum),
            ),
        })
    })
}

/// `mod(a, b)`: both arguments go to their common numeric type, which is also the result.
fn mod_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 2, 2)?;
    let not_null = |t: &DataType| {
        if *t == DataType::Null {
            DataType::Int64
        } else {
            t.clone()
        }
    };
    let (l, r) = (not_null(&args[0]), not_null(&args[1]));
    let t = numeric_supertype(&l, &r)
        .filter(|_| is_number_like(&args[0]) && is_number_like(&args[1]))
        .ok_or_else(|| bad_type(name, if l.is_numeric() { &r } else { &l }))?;
    Ok((vec![t.clone(), t.clone()], t))
}

fn modulo(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        Ok(arrow::compute::kernels::numeric::rem(
            a[0].datum().as_ref(),
            a[1].datum().as_ref(),
        )?)
    })
}

/// Applies a fallible function of two `DOUBLE`s row by row.
fn float2(
    args: &[ColumnarValue],
    num_rows: usize,
    f: impl Fn(f64, f64) -> Result<f64>,
) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (x, y) = (
            a[0].primitive::<Float64Type>()?,
            a[1].primitive::<Float64Type>()?,
        );
        let out = (0..rows)
            .map(|i| match (x.get(i), y.get(i)) {
                (Some(x), Some(y)) => f(x, y).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<Float64Array>>()?;
        Ok(Arc::new(out))
    })
}

fn power(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    float2(args, num_rows, |x, y| {
        if x == 0.0 && y < 0.0 {
            Err(Error::execution(
                "power: zero raised to a negative power is undefined",
            ))
        } else if x < 0.0 && y.is_finite() && y.fract() != 0.0 {
            Err(Error::execution(
                "power: a negative number raised to a non-integer power yields a complex result",
            ))
        } else {
            Ok(x.powf(y))
        }
    })
}

fn atan2(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    float2(args, num_rows, |y, x| Ok(y.atan2(x)))
}

/// `log(x)` is the base-10 logarithm; `log(b, x)` the logarithm of `x` to base `b`.
fn log(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    let check =
        |v: f64| log_domain(v).map_or(Ok(v), |m| Err(Error::execution(format!("log: {m}"))));
    if args.len() == 1 {
        return eval(args, num_rows, |a, _| {
            let out: Float64Array = a[0]
                .primitive::<Float64Type>()?
                .array()
                .try_unary(|x| Ok::<_, Error>(check(x)?.log10()))?;
            Ok(Arc::new(out))
        });
    }
    float2(args, num_rows, |b, x| {
        let (b, x) = (check(b)?, check(x)?);
        if b == 1.0 {
            return Err(Error::execution("log: division by zero (base 1)"));
        }
        Ok(x.ln() / b.ln())
    })
}

/// Applies a fallible function of two `BIGINT`s row by row.
fn int2(
    args: &[ColumnarValue],
    num_rows: usize,
    f: impl Fn(i64, i64) -> Option<i64>,
    name: &str,
) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let (x, y) = (
            a[0].primitive::<Int64Type>()?,
            a[1].primitive::<Int64Type>()?,
        );
        let out = (0..rows)
            .map(|i| match (x.get(i), y.get(i)) {
                (Some(x), Some(y)) => f(x, y).map(Some).ok_or_else(|| {
                    Error::execution(format!("{name}: result of ({x}, {y}) is out of range"))
                }),
                _ => Ok(None),
            })
            .collect::<Result<Int64Array>>()?;
        Ok(Arc::new(out))
    })
}

/// Greatest common divisor of the absolute values (as `u64`, so that `i64::MIN` fits).
fn gcd_u64(a: i64, b: i64) -> u64 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn gcd(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    int2(
        args,
        num_rows,
        |a, b| i64::try_from(gcd_u64(a, b)).ok(),
        "gcd",
    )
}

fn lcm(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    int2(
        args,
        num_rows,
        |a, b| match gcd_u64(a, b) {
            0 => Some(0),
            g => (a.unsigned_abs() / g)
                .checked_mul(b.unsigned_abs())
                .and_then(|v| i64::try_from(v).ok()),
        },
        "lcm",
    )
}

fn factorial(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let out: Int64Array = a[0].primitive::<Int64Type>()?.array().try_unary(|n| {
            if n < 0 {
                return Err(Error::execution(
                    "factorial of a negative number is undefined",
                ));
            }
            (2..=n)
                .try_fold(1i64, |acc, k| acc.checked_mul(k))
                .ok_or_else(|| {
                    Error::execution(format!("factorial: result of {n} is out of range"))
                })
        })?;
        Ok(Arc::new(out))
    })
}

fn isnan(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        Ok(Arc::new(BooleanArray::from_unary(
            a[0].primitive::<Float64Type>()?.array(),
            f64::is_nan,
        )))
    })
}

fn pi(_: &[ColumnarValue], _: usize) -> Result<ColumnarValue> {
    Ok(ColumnarValue::Scalar(ScalarValue::Float64(Some(
        std::f64::consts::PI,
    ))))
}

/// `random()`: a fresh value in `[0, 1)` for every row (splitmix64 seeded from the OS-seeded
/// `RandomState`, so different calls and threads get different streams).
fn random(_: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    let mut state = RandomState::new().hash_one(num_rows);
    let values = (0..num_rows).map(|_| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    });
    Ok(ColumnarValue::Array(Arc::new(
        Float64Array::from_iter_values(values),
    )))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use arrow::array::{Array, Decimal128Array, Int32Array, UInt8Array};
    use arrow::datatypes::DataType;
    use datafusion_common::ScalarValue;
    use std::sync::Arc;

    use crate::functions::ColumnarValue;

    fn f64s(a: &arrow::array::ArrayRef) -> Vec<Option<f64>> {
        a.as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn abs_keeps_type_and_detects_overflow() {
        let out = call(
            "abs",
            vec![Arc::new(Int32Array::from(vec![Some(-3), None, Some(4)]))],
        )
        .unwrap();
        assert_eq!(
            out.as_ref(),
            &Int32Array::from(vec![Some(3), None, Some(4)]) as &dyn Array
        );
        assert!(err_msg(call("abs", vec![ints(&[Some(i64::MIN)])])).contains("out of range"));
        let d = Decimal128Array::from(vec![-1234, 5])
            .with_precision_and_scale(6, 2)
            .unwrap();
        let out = call("abs", vec![Arc::new(d)]).unwrap();
        assert_eq!(out.data_type(), &DataType::Decimal128(6, 2));
        let u = call("abs", vec![Arc::new(UInt8Array::from(vec![200]))]).unwrap();
        assert_eq!(u.data_type(), &DataType::UInt8);
        assert_eq!(call_scalars("abs", vec![f(-2.5)]).unwrap(), f(2.5));
        assert_eq!(
            call_scalars("abs", vec![ScalarValue::Null]).unwrap(),
            ScalarValue::Int64(None)
        );
    }

    #[test]
    fn float_functions_check_domains() {
        let out = call("sqrt", vec![floats(&[Some(4.0), None])]).unwrap();
        assert_eq!(f64s(&out), vec![Some(2.0), None]);
        let e = err_msg(call("sqrt", vec![floats(&[Some(-1.0)])]));
        assert_eq!(e, "sqrt: cannot take square root of a negative number");
        assert_eq!(
            err_msg(call("ln", vec![ints(&[Some(0)])])),
            "ln: cannot take logarithm of zero"
        );
        assert!(err_msg(call("asin", vec![floats(&[Some(2.0)])])).contains("out of range"));
        assert_eq!(call_scalars("log10", vec![i(1000)]).unwrap(), f(3.0));
        assert_eq!(call_scalars("log", vec![i(100)]).unwrap(), f(2.0));
        assert_eq!(call_scalars("log", vec![i(2), i(8)]).unwrap(), f(3.0));
        assert!(err_msg(call_scalars("log", vec![i(1), i(8)])).contains("division by zero"));
        assert_eq!(call_scalars("cbrt", vec![i(-27)]).unwrap(), f(-3.0));
        assert_eq!(
            call_scalars("degrees", vec![f(std::f64::consts::PI)]).unwrap(),
            f(180.0)
        );
        assert!(
            call("sqrt", vec![floats(&[Some(f64::NAN)])])
                .unwrap()
                .is_valid(0)
        );
    }

    #[test]
    fn power_and_atan2() {
        assert_eq!(call_scalars("power", vec![i(2), i(10)]).unwrap(), f(1024.0));
        assert_eq!(
            call_scalars("power", vec![f(-8.0), i(3)]).unwrap(),
            f(-512.0)
        );
        assert!(err_msg(call_scalars("power", vec![i(0), i(-1)])).contains("zero raised"));
        assert!(err_msg(call_scalars("power", vec![i(-8), f(0.5)])).contains("complex"));
        assert_eq!(
            call_scalars("atan2", vec![i(1), i(0)]).unwrap(),
            f(std::f64::consts::FRAC_PI_2)
        );
        // an array against a scalar
        let out = call_values(
            "power",
            vec![
                ColumnarValue::Array(floats(&[Some(3.0), None])),
                ColumnarValue::Scalar(i(2)),
            ],
            2,
        )
        .unwrap()
        .into_array(2)
        .unwrap();
        assert_eq!(f64s(&out), vec![Some(9.0), None]);
    }

    #[test]
    fn sign_and_mod() {
        assert_eq!(call_scalars("sign", vec![i(-7)]).unwrap(), i(-1));
        assert_eq!(call_scalars("sign", vec![f(0.0)]).unwrap(), f(0.0));
        assert_eq!(call_scalars("sign", vec![f(2.5)]).unwrap(), f(1.0));
        assert_eq!(call_scalars("mod", vec![i(-7), i(3)]).unwrap(), i(-1));
        assert_eq!(call_scalars("mod", vec![f(7.5), i(2)]).unwrap(), f(1.5));
        assert_eq!(
            err_msg(call_scalars("mod", vec![i(1), i(0)])),
            "division by zero"
        );
        let m = call_values(
            "mod",
            vec![
                ColumnarValue::Array(Arc::new(Int32Array::from(vec![Some(10), None]))),
                ColumnarValue::Scalar(i(4)),
            ],
            2,
        )
        .unwrap();
        assert_eq!(m.data_type(), DataType::Int64);
        assert_eq!(
            call_scalars("mod", vec![ScalarValue::Null, i(3)]).unwrap(),
            ScalarValue::Int64(None)
        );
        assert!(
            super::super::test_util::func("mod")
                .signature(&[DataType::Utf8, DataType::Int64])
                .is_err()
        );
    }

    #[test]
    fn gcd_lcm_factorial() {
        assert_eq!(call_scalars("gcd", vec![i(12), i(-18)]).unwrap(), i(6));
        assert_eq!(call_scalars("gcd", vec![i(0), i(0)]).unwrap(), i(0));
        assert!(call_scalars("gcd", vec![i(i64::MIN), i(0)]).is_err());
        assert_eq!(call_scalars("lcm", vec![i(4), i(6)]).unwrap(), i(12));
        assert_eq!(call_scalars("lcm", vec![i(0), i(6)]).unwrap(), i(0));
        assert!(call_scalars("lcm", vec![i(i64::MAX), i(2)]).is_err());
        assert_eq!(call_scalars("factorial", vec![i(5)]).unwrap(), i(120));
        assert_eq!(call_scalars("factorial", vec![i(0)]).unwrap(), i(1));
        assert!(call_scalars("factorial", vec![i(21)]).is_err());
        assert!(call_scalars("factorial", vec![i(-1)]).is_err());
    }

    #[test]
    fn isnan_pi_random() {
        assert_eq!(
            call_scalars("isnan", vec![f(f64::NAN)]).unwrap(),
            ScalarValue::Boolean(Some(true))
        );
        assert_eq!(
            call_scalars("isnan", vec![i(1)]).unwrap(),
            ScalarValue::Boolean(Some(false))
        );
        assert_eq!(call_scalars("pi", vec![]).unwrap(), f(std::f64::consts::PI));
        let r = func("random");
        assert!(r.volatile());
        let out = r.invoke(&[], 1000).unwrap().into_array(1000).unwrap();
        let v = f64s(&out);
        assert!(v.iter().all(|x| (0.0..1.0).contains(&x.unwrap())));
        assert!(v.windows(2).any(|w| w[0] != w[1]));
        assert_eq!(r.invoke(&[], 0).unwrap().into_array(0).unwrap().len(), 0);
    }
}
