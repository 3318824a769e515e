//! The built-in scalar function library: math, strings, dates, conditionals and lists.
//!
//! Conventions shared by every function here:
//!
//! * `signature` accepts a bare `NULL` (`DataType::Null`) anywhere and asks for it to be cast to the
//!   parameter's natural type; strings are asked for as `Utf8`, integer parameters as `Int64` and
//!   float parameters as `Float64`.
//! * NULL in gives NULL out, unless a function documents otherwise (`concat`, `coalesce`, ...).
//! * `invoke` works on whole arrays; when every argument is a scalar the result is a scalar.
//! * Wrong argument counts are planning errors, unfitting types are type errors and failures on
//!   values (overflow, square root of a negative number) are execution errors.

mod calendar;
mod conditional;
mod datetime;
mod datetime_ctor;
mod list;
mod math;
mod math_round;
mod string;
mod string_edit;

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayAccessor, ArrayRef, AsArray, PrimitiveArray, Scalar, StringArray};
use arrow::datatypes::{ArrowPrimitiveType, DataType};
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};
use crate::logical::types::sql_type_name;

/// Every built-in scalar function (aliases are in [`ALIASES`]).
pub fn builtins() -> Vec<Arc<dyn ScalarFunction>> {
    let mut all = Vec::new();
    all.extend(math::functions());
    all.extend(math_round::functions());
    all.extend(string::functions());
    all.extend(string_edit::functions());
    all.extend(datetime::functions());
    all.extend(datetime_ctor::functions());
    all.extend(conditional::functions());
    all.extend(list::functions());
    all
}

/// Other names of built-in scalar functions, as `(alias, name in builtins())`.
pub const ALIASES: &[(&str, &str)] = &[
    ("ceiling", "ceil"),
    ("pow", "power"),
    ("truncate", "trunc"),
    ("char_length", "length"),
    ("character_length", "length"),
    ("len", "length"),
    ("lcase", "lower"),
    ("ucase", "upper"),
    ("substring", "substr"),
    ("strpos", "position"),
    ("instr", "position"),
    ("ifnull", "coalesce"),
    ("nvl", "coalesce"),
    ("datepart", "date_part"),
    ("extract", "date_part"),
    ("datetrunc", "date_trunc"),
    ("datediff", "date_diff"),
    ("current_timestamp", "now"),
    ("dayofmonth", "day"),
    ("weekofyear", "week"),
    ("pg_typeof", "typeof"),
    ("str_split", "string_split"),
];

/// The kinds of parameter a [`Signature::Fixed`] or [`Signature::Variadic`] function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    /// A string (or NULL), passed as `Utf8`.
    Str,
    /// An integer (or NULL), passed as `Int64`.
    Int,
    /// Any number (or NULL), passed as `Float64`.
    Float,
    /// Any value that casts to a string, passed as `Utf8`.
    Text,
}

impl Param {
    /// The type arguments of this kind are cast to, or `None` when `t` does not fit.
    fn coerce(self, t: &DataType) -> Option<DataType> {
        let fits = match self {
            Param::Str => is_string_like(t),
            Param::Int => t.is_integer() || *t == DataType::Null,
            Param::Float => is_number_like(t),
            Param::Text => arrow::compute::can_cast_types(t, &DataType::Utf8),
        };
        fits.then_some(match self {
            Param::Str | Param::Text => DataType::Utf8,
            Param::Int => DataType::Int64,
            Param::Float => DataType::Float64,
        })
    }

    fn describe(self) -> &'static str {
        match self {
            Param::Str => "a string",
            Param::Int => "an integer",
            Param::Float => "a number",
            Param::Text => "a value convertible to a string",
        }
    }
}

/// The signature function of a [`Signature::Custom`] built-in: name and argument types in,
/// argument casts and return type out.
type SignatureFn = fn(&str, &[DataType]) -> Result<(Vec<DataType>, DataType)>;

/// The body of a [`Builtin`]: arguments (already cast) and batch length in, result out.
type InvokeFn = fn(&[ColumnarValue], usize) -> Result<ColumnarValue>;

/// How a [`Builtin`] types its arguments.
#[derive(Debug, Clone)]
enum Signature {
    /// Parameters of fixed kinds; only the first `required` must be given.
    Fixed {
        /// The parameters in order.
        params: &'static [Param],
        /// How many leading parameters are mandatory.
        required: usize,
        /// The return type.
        ret: DataType,
    },
    /// At least `min` parameters of one kind.
    Variadic {
        /// The kind of every parameter.
        param: Param,
        /// The smallest number of arguments.
        min: usize,
        /// The return type.
        ret: DataType,
    },
    /// Computed from the argument types.
    Custom(SignatureFn),
}

impl Signature {
    /// Fixed parameters, all mandatory.
    fn exact(params: &'static [Param], ret: DataType) -> Self {
        Signature::Fixed {
            params,
            required: params.len(),
            ret,
        }
    }

    /// Resolves the signature for `args` of function `name`.
    fn resolve(&self, name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        let (kinds, ret): (Vec<Param>, &DataType) = match self {
            Signature::Custom(f) => return f(name, args),
            Signature::Fixed {
                params,
                required,
                ret,
            } => {
                arity(name, args, *required, params.len())?;
                (params[..args.len()].to_vec(), ret)
            }
            Signature::Variadic { param, min, ret } => {
                arity(name, args, *min, usize::MAX)?;
                (vec![*param; args.len()], ret)
            }
        };
        let casts = args
            .iter()
            .zip(kinds)
            .enumerate()
            .map(|(i, (t, kind))| {
                kind.coerce(t).ok_or_else(|| {
                    Error::type_mismatch(format!(
                        "{name}(): argument {} must be {}, got {}",
                        i + 1,
                        kind.describe(),
                        sql_type_name(t)
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((casts, ret.clone()))
    }
}

/// A built-in function described by a [`Signature`] and a plain function for its body.
struct Builtin {
    name: &'static str,
    signature: Signature,
    invoke: InvokeFn,
    volatile: bool,
}

/// A deterministic built-in, ready to register.
fn builtin(name: &'static str, signature: Signature, invoke: InvokeFn) -> Arc<dyn ScalarFunction> {
    Arc::new(Builtin {
        name,
        signature,
        invoke,
        volatile: false,
    })
}

/// A volatile built-in (`random()`, `now()`), ready to register.
fn volatile_builtin(
    name: &'static str,
    signature: Signature,
    invoke: InvokeFn,
) -> Arc<dyn ScalarFunction> {
    Arc::new(Builtin {
        name,
        signature,
        invoke,
        volatile: true,
    })
}

impl fmt::Debug for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Builtin({})", self.name)
    }
}

impl ScalarFunction for Builtin {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        self.signature.resolve(self.name, arg_types)
    }
    fn invoke(&self, args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
        (self.invoke)(args, num_rows)
    }
    fn volatile(&self) -> bool {
        self.volatile
    }
}

/// Fails with a planning error unless `min <= args.len() <= max`.
fn arity(name: &str, args: &[DataType], min: usize, max: usize) -> Result<()> {
    let n = args.len();
    if (min..=max).contains(&n) {
        return Ok(());
    }
    let expected = match (min, max) {
        (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
        (a, usize::MAX) => format!("at least {a} argument{}", if a == 1 { "" } else { "s" }),
        (a, b) if b == a + 1 => format!("{a} or {b} arguments"),
        (a, b) => format!("{a} to {b} arguments"),
    };
    Err(Error::plan(format!("{name}() takes {expected}, got {n}")))
}

/// The type error for argument type `t` of function `name`.
fn bad_type(name: &str, t: &DataType) -> Error {
    Error::type_mismatch(format!(
        "{name}() cannot be applied to {}",
        sql_type_name(t)
    ))
}

/// Whether `t` is a string type, a dictionary of strings, or NULL.
fn is_string_like(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, v) => matches!(
            v.as_ref(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ),
        _ => false,
    }
}

/// Whether `t` is a number (integer, float or decimal) or NULL.
fn is_number_like(t: &DataType) -> bool {
    t.is_numeric() || *t == DataType::Null
}

/// One argument of a call inside [`eval`]: an array, or a scalar held as a one-row array.
#[derive(Debug, Clone)]
struct Arg {
    /// The values; a single row when `scalar`.
    array: ArrayRef,
    /// Whether the single row stands for every row.
    scalar: bool,
}

impl Arg {
    /// Row-wise access to the argument as `T` values.
    fn primitive<T: ArrowPrimitiveType>(&self) -> Result<Rows<&PrimitiveArray<T>>> {
        let array = self
            .array
            .as_primitive_opt::<T>()
            .ok_or_else(|| self.wrong_type(&T::DATA_TYPE))?;
        Ok(Rows {
            array,
            scalar: self.scalar,
        })
    }

    /// Row-wise access to the argument as strings.
    fn strings(&self) -> Result<Rows<&StringArray>> {
        let array = self
            .array
            .as_string_opt::<i32>()
            .ok_or_else(|| self.wrong_type(&DataType::Utf8))?;
        Ok(Rows {
            array,
            scalar: self.scalar,
        })
    }

    /// The argument as an array of `rows` rows (a scalar is repeated).
    fn full(&self, rows: usize) -> Result<ArrayRef> {
        if !self.scalar || rows == 1 {
            return Ok(self.array.clone());
        }
        Ok(ScalarValue::try_from_array(&self.array, 0)?.to_array_of_size(rows)?)
    }

    /// The argument as an Arrow `Datum`, for kernels that broadcast scalars themselves.
    fn datum(&self) -> Box<dyn arrow::array::Datum> {
        if self.scalar {
            Box::new(Scalar::new(self.array.clone()))
        } else {
            Box::new(self.array.clone())
        }
    }

    fn wrong_type(&self, expected: &DataType) -> Error {
        Error::internal(format!(
            "scalar function expected a {expected} argument, got {}",
            self.array.data_type()
        ))
    }
}

/// Row-wise access to an [`Arg`]: `get(i)` reads row `i`, or row 0 of a scalar.
#[derive(Debug, Clone, Copy)]
struct Rows<A> {
    array: A,
    scalar: bool,
}

impl<A: ArrayAccessor> Rows<A> {
    /// The value of row `i`, `None` when NULL.
    #[inline]
    fn get(&self, i: usize) -> Option<A::Item> {
        let i = if self.scalar { 0 } else { i };
        self.array.is_valid(i).then(|| self.array.value(i))
    }

    /// The underlying array (a single row for scalars).
    fn array(&self) -> A
    where
        A: Copy,
    {
        self.array
    }
}

/// Runs `f` over the arguments as arrays and wraps its result.
///
/// `f` receives the arguments and the number of rows to produce. Scalars arrive as one-row
/// arrays; when every argument is a scalar, `f` produces one row and the result is a scalar.
fn eval(
    args: &[ColumnarValue],
    num_rows: usize,
    f: impl FnOnce(&[Arg], usize) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if all_scalar { 1 } else { num_rows };
    let arrays = args
        .iter()
        .map(|a| {
            Ok(match a {
                ColumnarValue::Array(array) => Arg {
                    array: array.clone(),
                    scalar: false,
                },
                ColumnarValue::Scalar(s) => Arg {
                    array: s.to_array_of_size(1)?,
                    scalar: true,
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let out = f(&arrays, rows)?;
    if out.len() != rows {
        return Err(Error::internal(format!(
            "scalar function produced {} rows instead of {rows}",
            out.len()
        )));
    }
    Ok(if all_scalar {
        ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
    } else {
        ColumnarValue::Array(out)
    })
}

#[cfg(test)]
mod test_util;

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn names_are_unique_lowercase_and_aliases_resolve() {
        let all = builtins();
        let mut names: Vec<&str> = all.iter().map(|f| f.name()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| !c.is_uppercase())));
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate built-in names");
        for (alias, target) in ALIASES {
            assert!(names.contains(target), "alias {alias} -> missing {target}");
            assert!(!names.contains(alias), "alias {alias} shadows a built-in");
        }
    }

    #[test]
    fn arity_errors_are_plan_errors() {
        let e = func("lower").signature(&[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Plan);
        assert_eq!(e.message(), "lower() takes 1 argument, got 0");
        let e = func("substr").signature(&[DataType::Utf8]).unwrap_err();
        assert_eq!(e.message(), "substr() takes 2 or 3 arguments, got 1");
        let e = func("concat").signature(&[]).unwrap_err();
        assert_eq!(e.message(), "concat() takes at least 1 argument, got 0");
    }

    #[test]
    fn type_errors_name_the_argument() {
        let e = func("substr")
            .signature(&[DataType::Utf8, DataType::Utf8])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch);
        assert_eq!(
            e.message(),
            "substr(): argument 2 must be an integer, got VARCHAR"
        );
    }
}
