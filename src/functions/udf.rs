//! Scalar user-defined functions: a Rust closure over Arrow arrays with fixed argument types
//! and a return type. Register one on the session (`SessionContext::register_udf`) to call it
//! from SQL by name; call it from the DataFrame API with [`ScalarUdf::call`].
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{ArrayRef, AsArray, Float64Array};
//! use arrow::datatypes::{DataType, Float64Type};
//! use flint::functions::udf::create_udf;
//! use flint::prelude::*;
//!
//! // fahrenheit(celsius DOUBLE) -> DOUBLE, vectorized over whole arrays
//! let fahrenheit = create_udf("fahrenheit", vec![DataType::Float64], DataType::Float64, |args| {
//!     let c = args[0].as_primitive::<Float64Type>();
//!     let f: Float64Array = arrow::compute::kernels::arity::unary(c, |v| v * 1.8 + 32.0);
//!     Ok(Arc::new(f) as ArrayRef)
//! });
//! let ctx = SessionContext::new();
//! ctx.register_udf(fahrenheit.clone());
//! let sql = ctx.sql("SELECT fahrenheit(100) AS f").unwrap();
//! let df = ctx.sql("SELECT 100 AS c").unwrap();
//! let api = df.select(vec![fahrenheit.call(vec![col("c")]).alias("f")]).unwrap();
//! assert_eq!(sql.to_pretty_string(None).unwrap(), api.to_pretty_string(None).unwrap());
//! assert!(api.to_pretty_string(None).unwrap().contains("| 212.0 |"));
//! ```

use std::fmt;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};
use crate::logical::coercion::supertype;
use crate::logical::expr::{Expr, ScalarCall};
use crate::logical::types::{is_string, sql_type_name};

/// The body of a scalar UDF: the arguments (cast to the declared types, one array per
/// argument, all of the same length) in, one array of that length out. When every argument is
/// a constant (or there are none), the arrays have one row and the one result stands for all
/// rows.
pub type ScalarUdfImpl = dyn Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync;

/// A scalar user-defined function. Cheap to clone.
#[derive(Clone)]
pub struct ScalarUdf {
    name: String,
    arg_types: Vec<DataType>,
    return_type: DataType,
    volatile: bool,
    fun: Arc<ScalarUdfImpl>,
}

/// A scalar UDF named `name` taking `arg_types` and returning `return_type`, computed by `fun`
/// over whole arrays. Arguments of other types are cast when they widen to the declared type
/// (an `INT` to a `BIGINT`, a `NULL` to anything, but not a string to a number); otherwise
/// calling it is a type error.
pub fn create_udf(
    name: &str,
    arg_types: Vec<DataType>,
    return_type: DataType,
    fun: impl Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync + 'static,
) -> ScalarUdf {
    ScalarUdf {
        name: name.to_lowercase(),
        arg_types,
        return_type,
        volatile: false,
        fun: Arc::new(fun),
    }
}

impl ScalarUdf {
    /// Marks the function volatile: it may return different results for the same arguments, so
    /// it is never folded into a constant or assumed deterministic.
    pub fn with_volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// A call of this function on `args`, for the DataFrame API.
    pub fn call(&self, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(ScalarCall {
            func: Arc::new(self.clone()),
            args,
        })
    }
}

impl fmt::Debug for ScalarUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScalarUdf({})", self.name)
    }
}

/// Checks the arity of a UDF call and the implicit casts of its arguments to `declared`.
pub(crate) fn udf_arg_types(
    name: &str,
    declared: &[DataType],
    given: &[DataType],
) -> Result<Vec<DataType>> {
    if declared.len() != given.len() {
        return Err(Error::plan(format!(
            "{name}() takes {} argument{}, got {}",
            declared.len(),
            if declared.len() == 1 { "" } else { "s" },
            given.len()
        )));
    }
    for (i, (want, have)) in declared.iter().zip(given).enumerate() {
        // widening only; a string column does not silently become a number
        let widens =
            supertype(have, want).as_ref() == Some(want) && (!is_string(have) || is_string(want));
        if want != have && *have != DataType::Null && !widens {
            return Err(Error::type_mismatch(format!(
                "{name}(): argument {} must be {}, got {}",
                i + 1,
                sql_type_name(want),
                sql_type_name(have)
            )));
        }
    }
    Ok(declared.to_vec())
}

impl ScalarFunction for ScalarUdf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        let args = udf_arg_types(&self.name, &self.arg_types, arg_types)?;
        Ok((args, self.return_type.clone()))
    }
    fn invoke(&self, args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
        let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        // constant arguments (or none) are computed once and stand for every row
        let rows = if all_scalar { 1 } else { num_rows };
        let arrays = args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let out = (self.fun)(&arrays).map_err(|e| e.context(format!("in {}()", self.name)))?;
        if out.len() != rows {
            return Err(Error::execution(format!(
                "{}() returned {} rows for {rows} input rows",
                self.name,
                out.len()
            )));
        }
        if out.data_type() != &self.return_type {
            return Err(Error::execution(format!(
                "{}() returned {}, but it is declared to return {}",
                self.name,
                sql_type_name(out.data_type()),
                sql_type_name(&self.return_type)
            )));
        }
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
    fn volatile(&self) -> bool {
        self.volatile
    }
}
