//! Group values for several key columns, stored column by column: one hash table over the
//! combined hash of the keys, and per column a typed store of the groups' values that compares
//! an input row's value with a group's in place. Unlike the row format, nothing is encoded per
//! input row; only new groups copy their values.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, GenericByteArray, PrimitiveArray,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::*;
use hashbrown::HashTable;

use super::group_values::{GroupValues, table_hashes};
use crate::error::{Error, Result};

/// One key column's values of every group, and the input batch's column being interned.
trait ColumnStore: Send {
    /// Takes the input batch's column.
    fn bind(&mut self, column: &ArrayRef);
    /// Whether input row `row` equals group `group`'s value (NULL equals NULL).
    fn equals(&self, group: usize, row: usize) -> bool;
    /// Appends input row `row`'s value as a new group's.
    fn append(&mut self, row: usize);
    /// Heap size in bytes.
    fn size(&self) -> usize;
    /// The values of every group, in order; resets to empty.
    fn emit(&mut self) -> Result<ArrayRef>;
}

/// Values of a primitive column.
struct PrimitiveStore<T: ArrowPrimitiveType> {
    data_type: DataType,
    values: Vec<T::Native>,
    valid: Vec<bool>,
    input: Option<PrimitiveArray<T>>,
}

impl<T: ArrowPrimitiveType> ColumnStore for PrimitiveStore<T> {
    fn bind(&mut self, column: &ArrayRef) {
        self.input = Some(column.as_primitive::<T>().clone());
    }
    #[inline]
    fn equals(&self, group: usize, row: usize) -> bool {
        let Some(a) = &self.input else { return false };
        match (a.is_valid(row), self.valid[group]) {
            (true, true) => a.values()[row].is_eq(self.values[group]),
            (false, false) => true,
            _ => false,
        }
    }
    fn append(&mut self, row: usize) {
        let Some(a) = &self.input else { return };
        self.values.push(a.values()[row]);
        self.valid.push(a.is_valid(row));
    }
    fn size(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<T::Native>() + self.valid.capacity()
    }
    fn emit(&mut self) -> Result<ArrayRef> {
        let values = std::mem::take(&mut self.values);
        let valid = std::mem::take(&mut self.valid);
        let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
        Ok(Arc::new(
            PrimitiveArray::<T>::new(values.into(), nulls).with_data_type(self.data_type.clone()),
        ))
    }
}

/// Values of a string or binary column, in one buffer.
struct BytesStore<T: ByteArrayType> {
    bytes: Vec<u8>,
    /// Start of each group's value, and the end of the last.
    offsets: Vec<usize>,
    valid: Vec<bool>,
    input: Option<GenericByteArray<T>>,
}

impl<T: ByteArrayType> ColumnStore for BytesStore<T> {
    fn bind(&mut self, column: &ArrayRef) {
        self.input = Some(column.as_bytes::<T>().clone());
    }
    #[inline]
    fn equals(&self, group: usize, row: usize) -> bool {
        let Some(a) = &self.input else { return false };
        match (a.is_valid(row), self.valid[group]) {
            (true, true) => {
                let v: &[u8] = a.value(row).as_ref();
                &self.bytes[self.offsets[group]..self.offsets[group + 1]] == v
            }
            (false, false) => true,
            _ => false,
        }
    }
    fn append(&mut self, row: usize) {
        let Some(a) = &self.input else { return };
        let valid = a.is_valid(row);
        if valid {
            let v: &[u8] = a.value(row).as_ref();
            self.bytes.extend_from_slice(v);
        }
        self.offsets.push(self.bytes.len());
        self.valid.push(valid);
    }
    fn size(&self) -> usize {
        self.bytes.capacity() + self.offsets.capacity() * 8 + self.valid.capacity()
    }
    fn emit(&mut self) -> Result<ArrayRef> {
        let bytes = std::mem::take(&mut self.bytes);
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let valid = std::mem::take(&mut self.valid);
        let offsets = offsets
            .into_iter()
            .map(|o| {
                T::Offset::from_usize(o)
                    .ok_or_else(|| Error::execution("group keys exceed the offsets of their type"))
            })
            .collect::<Result<Vec<_>>>()?;
        let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
        // the values are whole values of valid input arrays: still valid UTF-8 for strings
        let array = GenericByteArray::<T>::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(bytes),
            nulls,
        )?;
        Ok(Arc::new(array))
    }
}

/// A store for keys of `t`, or `None` when the type is not supported here.
fn store_for(t: &DataType) -> Option<Box<dyn ColumnStore>> {
    macro_rules! prim {
        ($ty:ty) => {
            Some(Box::new(PrimitiveStore::<$ty> {
                data_type: t.clone(),
                values: vec![],
                valid: vec![],
                input: None,
            }) as Box<dyn ColumnStore>)
        };
    }
    macro_rules! bytes {
        ($ty:ty) => {
            Some(Box::new(BytesStore::<$ty> {
                bytes: vec![],
                offsets: vec![0],
                valid: vec![],
                input: None,
            }) as Box<dyn ColumnStore>)
        };
    }
    match t {
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Date32 => prim!(Date32Type),
        DataType::Date64 => prim!(Date64Type),
        DataType::Decimal128(..) => prim!(Decimal128Type),
        DataType::Utf8 => bytes!(Utf8Type),
        DataType::LargeUtf8 => bytes!(LargeUtf8Type),
        DataType::Binary => bytes!(BinaryType),
        DataType::LargeBinary => bytes!(LargeBinaryType),
        _ => None,
    }
}

/// Group values for several key columns of supported types, stored column by column.
pub struct ColumnGroupValues {
    columns: Vec<Box<dyn ColumnStore>>,
    map: HashTable<(u64, u32)>,
    groups: usize,
    hashes: Vec<u64>,
}

impl ColumnGroupValues {
    /// For keys of `types`, or `None` when a type is not supported (the row format is then used).
    pub fn try_new(types: &[DataType]) -> Option<Self> {
        let columns = types.iter().map(store_for).collect::<Option<Vec<_>>>()?;
        Some(ColumnGroupValues {
            columns,
            map: HashTable::new(),
            groups: 0,
            hashes: vec![],
        })
    }
}

impl GroupValues for ColumnGroupValues {
    fn intern(&mut self, cols: &[ArrayRef], groups: &mut Vec<u32>) -> Result<()> {
        groups.clear();
        table_hashes(cols, &mut self.hashes)?;
        for (store, col) in self.columns.iter_mut().zip(cols) {
            store.bind(col);
        }
        let columns = &mut self.columns;
        for (row, &h) in self.hashes.iter().enumerate() {
            let found = self
                .map
                .find(h, |(gh, g)| {
                    *gh == h && columns.iter().all(|c| c.equals(*g as usize, row))
                })
                .map(|(_, g)| *g);
            let g = match found {
                Some(g) => g,
                None => {
                    let g = self.groups as u32;
                    for c in columns.iter_mut() {
                        c.append(row);
                    }
                    self.groups += 1;
                    self.map.insert_unique(h, (h, g), |(h, _)| *h);
                    g
                }
            };
            groups.push(g);
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.groups
    }
    fn size(&self) -> usize {
        self.columns.iter().map(|c| c.size()).sum::<usize>()
            + self.map.allocation_size()
            + self.hashes.capacity() * 8
    }
    fn emit(&mut self) -> Result<Vec<ArrayRef>> {
        self.map = HashTable::new();
        self.groups = 0;
        self.columns.iter_mut().map(|c| c.emit()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    #[test]
    fn groups_rows_by_all_columns_with_nulls_equal() {
        let mut gv = ColumnGroupValues::try_new(&[DataType::Utf8, DataType::Int64]).unwrap();
        let s: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            Some("a"),
            None,
            Some("b"),
            None,
            Some(""),
        ]));
        let i: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(1),
            Some(1),
            Some(1),
            None,
            Some(1),
            None,
        ]));
        let mut g = vec![];
        gv.intern(&[s.clone(), i.clone()], &mut g).unwrap();
        assert_eq!(g, vec![0, 0, 1, 2, 1, 3]);
        // a second batch finds the same groups
        gv.intern(&[s.slice(3, 3), i.slice(3, 3)], &mut g).unwrap();
        assert_eq!(g, vec![2, 1, 3]);
        let out = gv.emit().unwrap();
        let s = out[0].as_string::<i32>();
        assert_eq!(
            (0..4)
                .map(|r| s.is_valid(r).then(|| s.value(r)))
                .collect::<Vec<_>>(),
            vec![Some("a"), None, Some("b"), Some("")]
        );
        assert_eq!(out[1].null_count(), 2);
        assert!(gv.is_empty());
    }

    #[test]
    fn unsupported_types_use_the_row_format() {
        assert!(ColumnGroupValues::try_new(&[DataType::Utf8, DataType::Float64]).is_none());
    }
}
