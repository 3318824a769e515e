//! SQL type names and their Arrow types.
//!
//! | SQL | Arrow |
//! | --- | --- |
//! | BOOLEAN | Boolean |
//! | TINYINT / SMALLINT / INT / BIGINT | Int8 / Int16 / Int32 / Int64 |
//! | REAL / FLOAT4, DOUBLE / FLOAT / FLOAT8 | Float32, Float64 |
//! | DECIMAL(p,s) / NUMERIC(p,s) | Decimal128(p,s) (default (38,10) when unspecified) |
//! | VARCHAR / TEXT / CHAR / STRING | Utf8 |
//! | DATE | Date32 |
//! | TIMESTAMP | Timestamp(Microsecond) |
//! | INTERVAL | Interval(MonthDayNano) |

use arrow::datatypes::{DataType, IntervalUnit, TimeUnit};
use sqlparser::ast::{self, ExactNumberInfo};

use crate::error::{Error, Result};

/// Converts a SQL type to the Arrow type flint uses for it.
pub fn sql_to_arrow_type(t: &ast::DataType) -> Result<DataType> {
    use ast::DataType as S;
    Ok(match t {
        S::Boolean | S::Bool => DataType::Boolean,
        S::TinyInt(_) => DataType::Int8,
        S::SmallInt(_) | S::Int2(_) | S::Int16 => DataType::Int16,
        S::Int32 => DataType::Int32,
        S::Signed | S::SignedInteger => DataType::Int64,
        S::Unsigned | S::UnsignedInteger | S::UInt64 => DataType::UInt64,
        S::UInt8 => DataType::UInt8,
        S::UInt16 => DataType::UInt16,
        S::UInt32 => DataType::UInt32,
        S::HugeInt | S::Int128 => DataType::Decimal128(38, 0),
        S::Date32 => DataType::Date32,
        S::Int(_) | S::Integer(_) | S::Int4(_) | S::MediumInt(_) => DataType::Int32,
        S::BigInt(_) | S::Int8(_) | S::Int64 => DataType::Int64,
        S::TinyIntUnsigned(_) | S::UTinyInt => DataType::UInt8,
        S::SmallIntUnsigned(_) | S::USmallInt => DataType::UInt16,
        S::IntUnsigned(_) | S::IntegerUnsigned(_) => DataType::UInt32,
        S::BigIntUnsigned(_) | S::UBigInt => DataType::UInt64,
        S::Real | S::Float4 | S::Float32 => DataType::Float32,
        S::Float(_) | S::Double(_) | S::DoublePrecision | S::Float8 | S::Float64 => {
            DataType::Float64
        }
        S::Decimal(info) | S::Numeric(info) | S::Dec(info) => match info {
            ExactNumberInfo::None => DataType::Decimal128(38, 10),
            ExactNumberInfo::Precision(p) => decimal_type(*p, 0)?,
            ExactNumberInfo::PrecisionAndScale(p, s) => decimal_type(*p, (*s).max(0) as u64)?,
        },
        S::Varchar(_)
        | S::Char(_)
        | S::Character(_)
        | S::CharVarying(_)
        | S::CharacterVarying(_)
        | S::Text
        | S::String(_)
        | S::Nvarchar(_)
        | S::TinyText
        | S::MediumText
        | S::LongText => DataType::Utf8,
        S::Date => DataType::Date32,
        S::Timestamp(_, _) | S::Datetime(_) | S::TimestampNtz(_) => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        S::Interval { .. } => DataType::Interval(IntervalUnit::MonthDayNano),
        S::Bytea | S::Blob(_) | S::Binary(_) | S::Varbinary(_) => DataType::Binary,
        S::Custom(name, args) => {
            let n = name.to_string().to_lowercase();
            match (n.as_str(), args.len()) {
                ("hugeint", _) => DataType::Decimal128(38, 0),
                ("int1", _) => DataType::Int8,
                ("utinyint", _) => DataType::UInt8,
                ("usmallint", _) => DataType::UInt16,
                ("uinteger", _) => DataType::UInt32,
                ("ubigint", _) => DataType::UInt64,
                ("long", _) => DataType::Int64,
                ("short", _) => DataType::Int16,
                ("double", _) => DataType::Float64,
                ("number", _) => DataType::Decimal128(38, 10),
                _ => {
                    return Err(Error::not_implemented(format!("unsupported SQL type {t}")));
                }
            }
        }
        other => {
            return Err(Error::not_implemented(format!(
                "unsupported SQL type {other}"
            )));
        }
    })
}

fn decimal_type(p: u64, s: u64) -> Result<DataType> {
    if p == 0 || p > 38 {
        return Err(Error::plan(format!(
            "decimal precision {p} is out of range 1..=38"
        )));
    }
    if s > p {
        return Err(Error::plan(format!(
            "decimal scale {s} is larger than precision {p}"
        )));
    }
    Ok(DataType::Decimal128(p as u8, s as i8))
}

/// The SQL name of an Arrow type, as `DESCRIBE` and `CAST` print it.
pub fn sql_type_name(t: &DataType) -> String {
    match t {
        DataType::Null => "NULL".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INTEGER".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 => "UTINYINT".into(),
        DataType::UInt16 => "USMALLINT".into(),
        DataType::UInt32 => "UINTEGER".into(),
        DataType::UInt64 => "UBIGINT".into(),
        DataType::Float16 | DataType::Float32 => "REAL".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "VARCHAR".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, None) => "TIMESTAMP".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP WITH TIME ZONE".into(),
        DataType::Interval(_) => "INTERVAL".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "BLOB".into(),
        DataType::List(f) | DataType::LargeList(f) => format!("{}[]", sql_type_name(f.data_type())),
        other => other.to_string(),
    }
}

/// Whether the type is a signed or unsigned integer.
pub fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

/// Whether the type is a number (integer, float or decimal).
pub fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

/// Whether the type is a string type.
pub fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Whether the type is a date or timestamp.
pub fn is_temporal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}
