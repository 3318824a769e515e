//! Implicit type coercion: the one place where flint decides which types mix.
//!
//! The rules, applied when an expression is added to a plan (so every
//! expression in a plan has exactly the types its operator needs):
//!
//! 1. **NULL** (the type of a bare `NULL` literal) becomes the other operand's type.
//! 2. **Integers** mix into the wider integer (`SMALLINT + SMALLINT` is a `SMALLINT`, and
//!    overflows as one); unsigned integers compute as `BIGINT`.
//!    Integer `/` integer is integer division that truncates toward zero (PostgreSQL, SQLite);
//!    overflow and division by zero are errors.
//! 3. **Integer with decimal** converts the integer to `DECIMAL(p,0)` with enough digits
//!    (`TINYINT` 3, `SMALLINT` 5, `INT` 10, `BIGINT` 19). Decimal arithmetic follows Arrow:
//!    `+`/`-` scale `max(s1,s2)`; `*` scale `s1+s2`; `/` scale `s1+4`; precision capped at 38.
//! 4. **Floats** win over integers and decimals: any operand `REAL`/`DOUBLE` makes the other `DOUBLE`
//!    (two `REAL`s stay `REAL`).
//! 5. **Strings with numbers, dates, timestamps or booleans**: the string side is cast to the other
//!    side's type (`'10' = 10`, `d < '1995-01-01'`); a string that does not parse is an error.
//! 6. **Dates with timestamps** compare as timestamps. `date ± interval` is a date when the interval
//!    has no time part, `date ± integer` adds days, `date - date` is the number of days (`BIGINT`),
//!    `timestamp ± interval` is a timestamp.
//!    A boolean compared with an integer compares as a boolean (`true = 1`).
//! 7. `||` casts non-string operands to `VARCHAR`. `LIKE` needs strings.
//! 8. `CASE`, `COALESCE`, `IN (...)`, `VALUES` rows and set operations use the common supertype of
//!    all branches by the rules above.
//! 9. A **number literal compared with a number** (`=`, `<`, ..., `BETWEEN`) takes the other
//!    side's type when that type holds its value exactly (`qty < 24` with `qty DECIMAL(15,2)`
//!    compares as `DECIMAL(15,2)`; `int_col = 1` as `INT`), so columns are compared as stored.
//!    Otherwise rule 2 or 3 applies (`int_col < 2.5` compares as `DECIMAL`).

use arrow::datatypes::{DataType, IntervalUnit, TimeUnit};

use crate::error::{Error, Result};
use crate::logical::expr::BinaryOp;
use crate::logical::types::{is_string, sql_type_name};

/// Number of decimal digits an integer type needs.
fn integer_digits(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Int8 | DataType::UInt8 => 3,
        DataType::Int16 | DataType::UInt16 => 5,
        DataType::Int32 | DataType::UInt32 => 10,
        DataType::Int64 => 19,
        DataType::UInt64 => 20,
        _ => return None,
    })
}

/// The decimal type an integer type converts to when mixed with a decimal.
pub fn integer_as_decimal(t: &DataType) -> Option<DataType> {
    integer_digits(t).map(|d| DataType::Decimal128(d.min(38), 0))
}

fn int_rank(t: &DataType) -> Option<(bool, u8)> {
    Some(match t {
        DataType::Int8 => (true, 1),
        DataType::Int16 => (true, 2),
        DataType::Int32 => (true, 3),
        DataType::Int64 => (true, 4),
        DataType::UInt8 => (false, 1),
        DataType::UInt16 => (false, 2),
        DataType::UInt32 => (false, 3),
        DataType::UInt64 => (false, 4),
        _ => return None,
    })
}

fn wider_integer(l: &DataType, r: &DataType) -> Option<DataType> {
    let (ls, lr) = int_rank(l)?;
    let (rs, rr) = int_rank(r)?;
    if ls == rs {
        return Some(if lr >= rr { l.clone() } else { r.clone() });
    }
    // signed with unsigned: the signed type one wider than the unsigned one
    let (signed_rank, unsigned_rank) = if ls { (lr, rr) } else { (rr, lr) };
    Some(match signed_rank.max(unsigned_rank + 1) {
        2 => DataType::Int16,
        3 => DataType::Int32,
        _ => DataType::Int64,
    })
}

/// The common type of two decimals (or a decimal and an integer) for comparison and set operations.
fn decimal_supertype(l: &DataType, r: &DataType) -> Option<DataType> {
    let as_dec = |t: &DataType| match t {
        DataType::Decimal128(p, s) => Some((*p, *s)),
        _ => integer_as_decimal(t).map(|d| match d {
            DataType::Decimal128(p, s) => (p, s),
            _ => unreachable!(),
        }),
    };
    let (p1, s1) = as_dec(l)?;
    let (p2, s2) = as_dec(r)?;
    let scale = s1.max(s2);
    let int_digits = (p1 as i16 - s1 as i16).max(p2 as i16 - s2 as i16);
    let precision = (int_digits + scale as i16).clamp(1, 38) as u8;
    Some(DataType::Decimal128(precision, scale.min(precision as i8)))
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64)
}

fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(_, _) | DataType::Decimal256(_, _))
}

/// The common numeric type of two numeric types.
pub fn numeric_supertype(l: &DataType, r: &DataType) -> Option<DataType> {
    if !l.is_numeric() || !r.is_numeric() {
        return None;
    }
    if l == r {
        return Some(l.clone());
    }
    if is_float(l) || is_float(r) {
        if matches!((l, r), (DataType::Float32, DataType::Float32)) {
            return Some(DataType::Float32);
        }
        return Some(DataType::Float64);
    }
    if is_decimal(l) || is_decimal(r) {
        return decimal_supertype(l, r);
    }
    wider_integer(l, r)
}

/// The common supertype of two types, or `None` when they do not mix.
pub fn supertype(l: &DataType, r: &DataType) -> Option<DataType> {
    use DataType::*;
    if l == r {
        return Some(l.clone());
    }
    match (l, r) {
        (Null, t) | (t, Null) => Some(t.clone()),
        (a, b) if a.is_numeric() && b.is_numeric() => numeric_supertype(a, b),
        (a, b) if is_string(a) && is_string(b) => Some(Utf8),
        (a, s) | (s, a) if is_string(s) && (a.is_numeric() || a.is_temporal() || *a == Boolean) => {
            Some(a.clone())
        }
        (Date32, Timestamp(u, tz)) | (Timestamp(u, tz), Date32) => Some(Timestamp(*u, tz.clone())),
        (Timestamp(_, tz1), Timestamp(_, tz2)) if tz1 == tz2 => {
            Some(Timestamp(TimeUnit::Microsecond, tz1.clone()))
        }
        (Interval(_), Interval(_)) => Some(Interval(IntervalUnit::MonthDayNano)),
        (Dictionary(_, v), other) | (other, Dictionary(_, v)) => supertype(v, other),
        _ => None,
    }
}

/// The common supertype of many types (CASE branches, IN lists, UNION columns).
pub fn common_supertype<'a>(types: impl IntoIterator<Item = &'a DataType>) -> Option<DataType> {
    let mut acc: Option<DataType> = None;
    for t in types {
        acc = Some(match acc {
            None => t.clone(),
            Some(a) => supertype(&a, t)?,
        });
    }
    acc
}

/// How a binary operator types its operands: the types to cast each side to, and the result type.
#[derive(Debug, Clone, PartialEq)]
pub struct BinarySignature {
    /// Type the left operand is cast to.
    pub left: DataType,
    /// Type the right operand is cast to.
    pub right: DataType,
    /// Result type.
    pub result: DataType,
}

fn mismatch(l: &DataType, op: BinaryOp, r: &DataType) -> Error {
    Error::type_mismatch(format!(
        "operator {} cannot be applied to {} and {}",
        op.sql(),
        sql_type_name(l),
        sql_type_name(r)
    ))
}

/// Whether decimal arithmetic on DECIMAL(p1, s1) and DECIMAL(p2, s2) can give a value that does
/// not fit its result type: only when the precision the result needs is more than 38 digits and
/// [`decimal_arithmetic_type`] caps it (otherwise the result's precision bounds every value).
pub fn decimal_arithmetic_may_overflow(op: BinaryOp, p1: u8, s1: i8, p2: u8, s2: i8) -> bool {
    let (p1, s1, p2, s2) = (p1 as i16, s1 as i16, p2 as i16, s2 as i16);
    let needed = match op {
        BinaryOp::Plus | BinaryOp::Minus => s1.max(s2) + (p1 - s1).max(p2 - s2) + 1,
        BinaryOp::Multiply => p1 + p2 + 1,
        // |a / b| <= |a| * 10^s2, computed to scale min(s1 + 4, 38)
        BinaryOp::Divide => (s1 + 4).min(38) - s1 + s2 + p1,
        // |a % b| <= min(|a|, |b|)
        BinaryOp::Modulo => (p1 - s1).min(p2 - s2).max(1) + s1.max(s2),
        _ => return true,
    };
    needed > 38
}

/// The result type of decimal arithmetic, as Arrow's kernels compute it.
pub fn decimal_arithmetic_type(op: BinaryOp, p1: u8, s1: i8, p2: u8, s2: i8) -> Result<DataType> {
    Ok(match op {
        BinaryOp::Plus | BinaryOp::Minus => {
            let scale = s1.max(s2);
            let int_digits = (p1 as i8 - s1).max(p2 as i8 - s2);
            let precision = ((scale as i16 + int_digits as i16 + 1) as u8).min(38);
            DataType::Decimal128(precision, scale)
        }
        BinaryOp::Multiply => {
            let scale = s1 as i16 + s2 as i16;
            if scale > 38 {
                return Err(Error::type_mismatch(format!(
                    "decimal multiplication result scale {scale} exceeds 38"
                )));
            }
            DataType::Decimal128((p1 as u16 + p2 as u16 + 1).min(38) as u8, scale as i8)
        }
        BinaryOp::Divide => {
            let scale = (s1 + 4).min(38);
            let mul_pow = scale - s1 + s2;
            let precision = ((mul_pow as i16 + p1 as i16).clamp(1, 38)) as u8;
            DataType::Decimal128(precision, scale)
        }
        BinaryOp::Modulo => {
            let scale = s1.max(s2);
            let int_digits = (p1 as i8 - s1).min(p2 as i8 - s2).max(1);
            DataType::Decimal128(((int_digits + scale) as u8).min(38), scale)
        }
        _ => unreachable!("not arithmetic"),
    })
}

/// Types the operands and result of `l op r`.
pub fn binary_signature(l: &DataType, op: BinaryOp, r: &DataType) -> Result<BinarySignature> {
    use DataType::*;
    let sig = |left: DataType, right: DataType, result: DataType| BinarySignature {
        left,
        right,
        result,
    };
    match op {
        BinaryOp::And | BinaryOp::Or => {
            let ok = |t: &DataType| matches!(t, Boolean | Null) || is_string(t);
            if !ok(l) || !ok(r) {
                return Err(mismatch(l, op, r));
            }
            Ok(sig(Boolean, Boolean, Boolean))
        }
        BinaryOp::StringConcat => Ok(sig(Utf8, Utf8, Utf8)),
        _ if op.is_comparison() => {
            let t = comparison_type(l, r).ok_or_else(|| mismatch(l, op, r))?;
            Ok(sig(t.clone(), t, Boolean))
        }
        _ => arithmetic_signature(l, op, r),
    }
}

/// The type both sides of a comparison are cast to.
pub fn comparison_type(l: &DataType, r: &DataType) -> Option<DataType> {
    use DataType::*;
    match (l, r) {
        (Null, Null) => Some(Null),
        (Boolean, Boolean) => Some(Boolean),
        // booleans compare with integers as 0/1 (DuckDB)
        (Boolean, t) | (t, Boolean) if t.is_integer() => Some(Boolean),
        _ => supertype(l, r),
    }
}

fn arithmetic_signature(l: &DataType, op: BinaryOp, r: &DataType) -> Result<BinarySignature> {
    use DataType::*;
    let sig = |left: DataType, right: DataType, result: DataType| BinarySignature {
        left,
        right,
        result,
    };
    // temporal arithmetic
    match (l, op, r) {
        (Date32, BinaryOp::Plus | BinaryOp::Minus, Interval(_)) => {
            return Ok(sig(Date32, r.clone(), Date32));
        }
        (Interval(_), BinaryOp::Plus, Date32) => return Ok(sig(l.clone(), Date32, Date32)),
        (Timestamp(..), BinaryOp::Plus | BinaryOp::Minus, Interval(_)) => {
            return Ok(sig(l.clone(), r.clone(), l.clone()));
        }
        (Interval(_), BinaryOp::Plus, Timestamp(..)) => {
            return Ok(sig(l.clone(), r.clone(), r.clone()));
        }
        (Date32, BinaryOp::Minus, Date32) => return Ok(sig(Date32, Date32, Int64)),
        (Date32, BinaryOp::Plus | BinaryOp::Minus, t) if t.is_integer() => {
            return Ok(sig(Date32, Int64, Date32));
        }
        (t, BinaryOp::Plus, Date32) if t.is_integer() => return Ok(sig(Int64, Date32, Date32)),
        (Timestamp(u, tz), BinaryOp::Minus, Timestamp(..)) => {
            return Ok(sig(
                Timestamp(*u, tz.clone()),
                Timestamp(*u, tz.clone()),
                Interval(IntervalUnit::MonthDayNano),
            ));
        }
        (Interval(_), BinaryOp::Plus | BinaryOp::Minus, Interval(_)) => {
            let t = Interval(IntervalUnit::MonthDayNano);
            return Ok(sig(t.clone(), t.clone(), t));
        }
        (Interval(_), BinaryOp::Multiply | BinaryOp::Divide, n) if n.is_numeric() => {
            return Err(Error::not_implemented("interval scaling is not supported"));
        }
        _ => {}
    }
    // strings and NULL take the other side's numeric type
    let l2 = if is_string(l) || *l == Null {
        if r.is_numeric() {
            r.clone()
        } else if *r == Null || is_string(r) {
            Int64
        } else {
            return Err(mismatch(l, op, r));
        }
    } else {
        l.clone()
    };
    let r2 = if is_string(r) || *r == Null {
        if l2.is_numeric() {
            l2.clone()
        } else {
            return Err(mismatch(l, op, r));
        }
    } else {
        r.clone()
    };
    if !l2.is_numeric() || !r2.is_numeric() {
        return Err(mismatch(l, op, r));
    }
    if is_float(&l2) || is_float(&r2) {
        let t = if l2 == Float32 && r2 == Float32 {
            Float32
        } else {
            Float64
        };
        return Ok(sig(t.clone(), t.clone(), t));
    }
    if is_decimal(&l2) || is_decimal(&r2) {
        let ld = if is_decimal(&l2) {
            l2.clone()
        } else {
            integer_as_decimal(&l2).ok_or_else(|| mismatch(l, op, r))?
        };
        let rd = if is_decimal(&r2) {
            r2.clone()
        } else {
            integer_as_decimal(&r2).ok_or_else(|| mismatch(l, op, r))?
        };
        let (Decimal128(p1, s1), Decimal128(p2, s2)) = (&ld, &rd) else {
            return Err(mismatch(l, op, r));
        };
        let result = decimal_arithmetic_type(op, *p1, *s1, *p2, *s2)?;
        return Ok(sig(ld.clone(), rd.clone(), result));
    }
    let t = wider_integer(&l2, &r2).ok_or_else(|| mismatch(l, op, r))?;
    // integers compute in the wider operand type (SMALLINT + SMALLINT overflows like PostgreSQL);
    // unsigned types compute as BIGINT
    let t = match t {
        UInt8 | UInt16 | UInt32 | UInt64 => Int64,
        other => other,
    };
    Ok(sig(t.clone(), t.clone(), t))
}

/// Whether a value of type `from` can be cast to `to` at all.
pub fn can_cast(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    // dates and timestamps are not numbers (PostgreSQL and DuckDB refuse these casts)
    let temporal =
        |t: &DataType| matches!(t, Date32 | Date64 | Timestamp(..) | Time32(_) | Time64(_));
    if (temporal(from) && to.is_numeric()) || (from.is_numeric() && temporal(to)) {
        return false;
    }
    from == to || arrow::compute::can_cast_types(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_results_overflow_only_when_their_precision_is_capped() {
        use BinaryOp::*;
        // DECIMAL(15,2) * DECIMAL(16,2) needs 32 digits: exact
        assert!(!decimal_arithmetic_may_overflow(Multiply, 15, 2, 16, 2));
        assert!(decimal_arithmetic_may_overflow(Multiply, 32, 4, 16, 2));
        assert!(!decimal_arithmetic_may_overflow(Plus, 35, 0, 10, 2));
        assert!(decimal_arithmetic_may_overflow(Plus, 38, 0, 1, 0));
        // division: p1 + 4 + s2 digits
        assert!(!decimal_arithmetic_may_overflow(Divide, 15, 2, 15, 2));
        assert!(decimal_arithmetic_may_overflow(Divide, 30, 2, 10, 6));
        assert!(!decimal_arithmetic_may_overflow(Modulo, 38, 0, 38, 0));
    }

    #[test]
    fn integer_rules() {
        let s = binary_signature(&DataType::Int32, BinaryOp::Plus, &DataType::Int64).unwrap();
        assert_eq!(s.result, DataType::Int64);
        let s = binary_signature(&DataType::Int32, BinaryOp::Divide, &DataType::Int32).unwrap();
        assert_eq!(s.result, DataType::Int32);
        let s = binary_signature(&DataType::Int8, BinaryOp::Plus, &DataType::Int16).unwrap();
        assert_eq!(s.result, DataType::Int16);
    }

    #[test]
    fn decimal_rules() {
        let d = DataType::Decimal128(15, 2);
        let s = binary_signature(&DataType::Int64, BinaryOp::Minus, &d).unwrap();
        assert_eq!(s.left, DataType::Decimal128(19, 0));
        assert_eq!(s.result, DataType::Decimal128(22, 2));
        let s = binary_signature(&d, BinaryOp::Multiply, &d).unwrap();
        assert_eq!(s.result, DataType::Decimal128(31, 4));
        let s = binary_signature(&d, BinaryOp::Lt, &DataType::Float64).unwrap();
        assert_eq!(s.left, DataType::Float64);
    }

    #[test]
    fn strings_take_the_other_type() {
        let s = binary_signature(&DataType::Date32, BinaryOp::Lt, &DataType::Utf8).unwrap();
        assert_eq!(s.right, DataType::Date32);
        assert!(binary_signature(&DataType::Boolean, BinaryOp::Plus, &DataType::Int32).is_err());
    }

    #[test]
    fn supertypes() {
        assert_eq!(
            common_supertype([&DataType::Null, &DataType::Int32, &DataType::Int64]),
            Some(DataType::Int64)
        );
        assert_eq!(
            common_supertype([&DataType::Int32, &DataType::Float32]),
            Some(DataType::Float64)
        );
        assert_eq!(
            common_supertype([&DataType::Boolean, &DataType::Int32]),
            None
        );
    }
}
