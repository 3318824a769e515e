//! `KeyBounds`: the range of a build side's key values (min and max, computed with Arrow's
//! aggregate kernels) and, for smaller build sides, a bloom filter of the values; and their test
//! over a probe column (vectorized comparisons; the bloom filter through the vectorized hash
//! kernel and two bit tests per row).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::cmp;
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion_common::ScalarValue;
use datafusion_common::hash_utils::{RandomState, create_hashes};

use crate::error::Result;

/// Distinct values at most this many become an IN list for row-group and page pruning.
const MAX_PRUNING_VALUES: usize = 64;

/// Whether runtime filters support keys of this type: types whose order Arrow's comparison
/// kernels and Parquet statistics agree on (not floats, whose NaN and -0.0 make ranges subtle).
pub fn supports_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Date32
            | DataType::Date64
            | DataType::Decimal128(..)
            | DataType::Timestamp(..)
            | DataType::Utf8
    )
}

/// Bits of the bloom filter per build row (two bits set per value: about 1.5% false positives).
const BITS_PER_ROW: usize = 16;

/// The values of a build side's key: a bloom filter over their hashes, and the distinct values
/// themselves when few enough to prune row groups by.
#[derive(Debug)]
pub struct ValueSet {
    /// Bitmap of `mask + 1` bits (a power of two).
    bits: Vec<u64>,
    mask: u64,
    /// The distinct values, when few enough to prune by.
    list: Option<Vec<ScalarValue>>,
}

fn hash_state() -> RandomState {
    RandomState::with_seed(0x0b10_0f11)
}

/// What the build keys of one join key are.
#[derive(Debug, Clone)]
pub struct KeyBounds {
    /// The smallest non-NULL build key.
    pub min: ScalarValue,
    /// The largest non-NULL build key.
    pub max: ScalarValue,
    /// All build keys (small build sides only).
    pub values: Option<Arc<ValueSet>>,
}

macro_rules! primitive_bounds {
    ($a:expr, $t:ty) => {{
        let p = $a.as_primitive::<$t>();
        let (Some(lo), Some(hi)) = (arrow::compute::min(p), arrow::compute::max(p)) else {
            return None;
        };
        (
            ScalarValue::new_primitive::<$t>(Some(lo), $a.data_type()).ok()?,
            ScalarValue::new_primitive::<$t>(Some(hi), $a.data_type()).ok()?,
        )
    }};
}

impl KeyBounds {
    /// The bounds of `keys` (NULLs ignored); `None` for an unsupported type or no non-NULL key.
    /// With `with_values`, the values are kept too.
    pub fn of(keys: &ArrayRef, with_values: bool) -> Option<KeyBounds> {
        let (min, max) = match keys.data_type() {
            DataType::Int8 => primitive_bounds!(keys, Int8Type),
            DataType::Int16 => primitive_bounds!(keys, Int16Type),
            DataType::Int32 => primitive_bounds!(keys, Int32Type),
            DataType::Int64 => primitive_bounds!(keys, Int64Type),
            DataType::UInt8 => primitive_bounds!(keys, UInt8Type),
            DataType::UInt16 => primitive_bounds!(keys, UInt16Type),
            DataType::UInt32 => primitive_bounds!(keys, UInt32Type),
            DataType::UInt64 => primitive_bounds!(keys, UInt64Type),
            DataType::Date32 => primitive_bounds!(keys, Date32Type),
            DataType::Date64 => primitive_bounds!(keys, Date64Type),
            DataType::Decimal128(..) => primitive_bounds!(keys, Decimal128Type),
            DataType::Timestamp(TimeUnit::Second, _) => {
                primitive_bounds!(keys, TimestampSecondType)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                primitive_bounds!(keys, TimestampMillisecondType)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                primitive_bounds!(keys, TimestampMicrosecondType)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                primitive_bounds!(keys, TimestampNanosecondType)
            }
            DataType::Utf8 => {
                let s = keys.as_string::<i32>();
                let (Some(lo), Some(hi)) =
                    (arrow::compute::min_string(s), arrow::compute::max_string(s))
                else {
                    return None;
                };
                (
                    ScalarValue::Utf8(Some(lo.to_string())),
                    ScalarValue::Utf8(Some(hi.to_string())),
                )
            }
            _ => return None,
        };
        let values = if with_values {
            ValueSet::of(keys).ok().map(Arc::new)
        } else {
            None
        };
        Some(KeyBounds { min, max, values })
    }

    /// Which values of `column` may match a build key (NULL counts as no; the caller decides
    /// about NULLs).
    pub fn test(&self, column: &ArrayRef) -> Result<BooleanArray> {
        let lo = self.min.to_scalar()?;
        let hi = self.max.to_scalar()?;
        let mut mask = arrow::compute::and(&cmp::gt_eq(column, &lo)?, &cmp::lt_eq(column, &hi)?)?;
        if let Some(v) = &self.values {
            mask = arrow::compute::and(&mask, &v.contains(column)?)?;
        }
        Ok(mask)
    }

    /// The distinct values, when few enough to prune row groups and pages by.
    pub fn pruning_values(&self) -> Option<&[ScalarValue]> {
        self.values.as_ref()?.list.as_deref()
    }
}

impl ValueSet {
    fn of(keys: &ArrayRef) -> Result<Self> {
        let n_bits = (keys.len() * BITS_PER_ROW).next_power_of_two().max(1024);
        let mut bits = vec![0u64; n_bits / 64];
        let mask = (n_bits - 1) as u64;
        let mut hashes = vec![0u64; keys.len()];
        create_hashes(std::slice::from_ref(keys), &hash_state(), &mut hashes)?;
        for (i, h) in hashes.iter().enumerate() {
            if keys.is_valid(i) {
                for b in [h & mask, (h >> 32) & mask] {
                    bits[(b / 64) as usize] |= 1 << (b % 64);
                }
            }
        }
        // the distinct values of small build sides, for pruning by IN lists
        let list = if keys.len() <= super::MAX_SET_ROWS {
            let mut seen = HashSet::new();
            let mut list = vec![];
            for i in 0..keys.len() {
                let v = ScalarValue::try_from_array(keys, i)?;
                if !v.is_null() && seen.insert(v.clone()) {
                    list.push(v);
                }
            }
            (list.len() <= MAX_PRUNING_VALUES).then_some(list)
        } else {
            None
        };
        Ok(ValueSet { bits, mask, list })
    }

    /// Whether each value of `column` may be one of the set (no false negatives; NULL: NULL).
    fn contains(&self, column: &ArrayRef) -> Result<BooleanArray> {
        let mut hashes = vec![0u64; column.len()];
        create_hashes(std::slice::from_ref(column), &hash_state(), &mut hashes)?;
        let bit = |b: u64| self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0;
        let found = BooleanBuffer::collect_bool(column.len(), |i| {
            let h = hashes[i];
            bit(h & self.mask) && bit((h >> 32) & self.mask)
        });
        Ok(BooleanArray::new(found, column.nulls().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    #[test]
    fn bounds_and_values_of_integer_keys() {
        let keys: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), None, Some(-3), Some(9)]));
        let b = KeyBounds::of(&keys, true).unwrap();
        assert_eq!(b.min, ScalarValue::Int64(Some(-3)));
        assert_eq!(b.max, ScalarValue::Int64(Some(9)));
        assert_eq!(b.pruning_values().unwrap().len(), 3);
        let probe: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(-4),
            Some(-3),
            Some(0),
            Some(5),
            None,
            Some(9),
            Some(10),
        ]));
        let m = b.test(&probe).unwrap();
        let got: Vec<bool> = (0..m.len()).map(|i| m.is_valid(i) && m.value(i)).collect();
        assert_eq!(got, [false, true, false, true, false, true, false]);
        // without the values, the range alone
        let r = KeyBounds::of(&keys, false).unwrap();
        let m = r.test(&probe).unwrap();
        let got: Vec<bool> = (0..m.len()).map(|i| m.is_valid(i) && m.value(i)).collect();
        assert_eq!(got, [false, true, true, true, false, true, false]);
    }

    #[test]
    fn strings_and_unsupported_or_empty_keys() {
        let keys: ArrayRef = Arc::new(StringArray::from(vec!["b", "d"]));
        let b = KeyBounds::of(&keys, false).unwrap();
        assert_eq!(b.min, ScalarValue::Utf8(Some("b".into())));
        let probe: ArrayRef = Arc::new(StringArray::from(vec!["a", "c", "e"]));
        let m = b.test(&probe).unwrap();
        assert_eq!(
            m.iter().collect::<Vec<_>>(),
            [Some(false), Some(true), Some(false)]
        );
        let nulls: ArrayRef = Arc::new(Int64Array::from(vec![None, None]));
        assert!(KeyBounds::of(&nulls, true).is_none());
        let floats: ArrayRef = Arc::new(arrow::array::Float64Array::from(vec![1.0]));
        assert!(KeyBounds::of(&floats, true).is_none());
        assert!(!supports_type(&DataType::Float64));
    }
}
