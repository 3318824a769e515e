//! Group key interning: maps each input row's group key to a dense group
//! index. One general implementation over Arrow's row format (any types, any
//! number of keys), a faster one for a single primitive key, and one storing
//! keys of common types column by column (`column_group_values`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::*;
use arrow::row::{RowConverter, Rows, SortField};
use hashbrown::HashTable;

use crate::error::Result;

/// Seed of the hash used inside group and join hash tables (different from the partitioning hash,
/// so that a partition's keys, which share `hash % n`, still spread over the table).
pub fn table_hashes(keys: &[ArrayRef], hashes: &mut Vec<u64>) -> Result<()> {
    let n = keys.first().map(|k| k.len()).unwrap_or(0);
    hashes.clear();
    hashes.resize(n, 0);
    let state = datafusion_common::hash_utils::RandomState::with_seed(0x007a_b1e5);
    datafusion_common::hash_utils::create_hashes(keys.iter(), &state, hashes)?;
    Ok(())
}

/// Assigns dense group indices to group keys.
pub trait GroupValues: Send {
    /// For each row of `cols`, pushes its group index into `groups` (cleared first).
    fn intern(&mut self, cols: &[ArrayRef], groups: &mut Vec<u32>) -> Result<()>;
    /// Number of groups so far.
    fn len(&self) -> usize;
    /// Whether there are no groups yet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Approximate heap size in bytes.
    fn size(&self) -> usize;
    /// The keys of every group, in group-index order; resets to empty.
    fn emit(&mut self) -> Result<Vec<ArrayRef>>;
}

/// Picks the best implementation for the key types.
pub fn new_group_values(types: &[DataType]) -> Result<Box<dyn GroupValues>> {
    macro_rules! prim {
        ($t:ty) => {
            Box::new(PrimitiveGroupValues::<$t>::new(types[0].clone())) as Box<dyn GroupValues>
        };
    }
    if types.len() == 1 {
        let b = match &types[0] {
            DataType::Int8 => Some(prim!(Int8Type)),
            DataType::Int16 => Some(prim!(Int16Type)),
            DataType::Int32 => Some(prim!(Int32Type)),
            DataType::Int64 => Some(prim!(Int64Type)),
            DataType::UInt32 => Some(prim!(UInt32Type)),
            DataType::UInt64 => Some(prim!(UInt64Type)),
            DataType::Date32 => Some(prim!(Date32Type)),
            DataType::Decimal128(..) => Some(prim!(Decimal128Type)),
            _ => None,
        };
        if let Some(b) = b {
            return Ok(b);
        }
    }
    if let Some(c) = super::column_group_values::ColumnGroupValues::try_new(types) {
        return Ok(Box::new(c));
    }
    Ok(Box::new(RowGroupValues::new(types)?))
}

/// Group values for any key types, stored in Arrow's row format.
pub struct RowGroupValues {
    converter: RowConverter,
    map: HashTable<(u64, u32)>,
    rows: Rows,
    hashes: Vec<u64>,
}

impl RowGroupValues {
    /// For keys of `types`.
    pub fn new(types: &[DataType]) -> Result<Self> {
        let converter =
            RowConverter::new(types.iter().map(|t| SortField::new(t.clone())).collect())?;
        let rows = converter.empty_rows(0, 0);
        Ok(RowGroupValues {
            converter,
            map: HashTable::new(),
            rows,
            hashes: vec![],
        })
    }
}

impl GroupValues for RowGroupValues {
    fn intern(&mut self, cols: &[ArrayRef], groups: &mut Vec<u32>) -> Result<()> {
        groups.clear();
        let batch_rows = self.converter.convert_columns(cols)?;
        table_hashes(cols, &mut self.hashes)?;
        for (i, &h) in self.hashes.iter().enumerate() {
            let row = batch_rows.row(i);
            let stored = &self.rows;
            let found = self
                .map
                .find(h, |(gh, gi)| *gh == h && stored.row(*gi as usize) == row)
                .map(|(_, g)| *g);
            let g = match found {
                Some(g) => g,
                None => {
                    let g = self.rows.num_rows() as u32;
                    self.rows.push(row);
                    self.map.insert_unique(h, (h, g), |(h, _)| *h);
                    g
                }
            };
            groups.push(g);
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.rows.num_rows()
    }
    fn size(&self) -> usize {
        self.rows.size() + self.map.allocation_size() + self.hashes.capacity() * 8
    }
    fn emit(&mut self) -> Result<Vec<ArrayRef>> {
        let arrays = self.converter.convert_rows(self.rows.iter())?;
        self.rows = self.converter.empty_rows(0, 0);
        self.map = HashTable::new();
        Ok(arrays)
    }
}

/// Group values for one primitive key column.
pub struct PrimitiveGroupValues<T: ArrowPrimitiveType> {
    data_type: DataType,
    map: HashTable<(u64, u32)>,
    values: Vec<T::Native>,
    null_group: Option<u32>,
    hashes: Vec<u64>,
}

impl<T: ArrowPrimitiveType> PrimitiveGroupValues<T> {
    /// For keys of `data_type`.
    pub fn new(data_type: DataType) -> Self {
        PrimitiveGroupValues {
            data_type,
            map: HashTable::new(),
            values: vec![],
            null_group: None,
            hashes: vec![],
        }
    }
}

impl<T: ArrowPrimitiveType> GroupValues for PrimitiveGroupValues<T> {
    fn intern(&mut self, cols: &[ArrayRef], groups: &mut Vec<u32>) -> Result<()> {
        groups.clear();
        let arr = cols[0].as_primitive::<T>();
        table_hashes(cols, &mut self.hashes)?;
        let vals = arr.values();
        for (i, &h) in self.hashes.iter().enumerate() {
            if arr.is_null(i) {
                let g = match self.null_group {
                    Some(g) => g,
                    None => {
                        let g = self.values.len() as u32;
                        self.values.push(T::Native::default());
                        self.null_group = Some(g);
                        g
                    }
                };
                groups.push(g);
                continue;
            }
            let v = vals[i];
            let stored = &self.values;
            let found = self
                .map
                .find(h, |(gh, gi)| *gh == h && stored[*gi as usize].is_eq(v))
                .map(|(_, g)| *g);
            let g = match found {
                Some(g) => g,
                None => {
                    let g = self.values.len() as u32;
                    self.values.push(v);
                    self.map.insert_unique(h, (h, g), |(h, _)| *h);
                    g
                }
            };
            groups.push(g);
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.values.len()
    }
    fn size(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<T::Native>() + self.map.allocation_size()
    }
    fn emit(&mut self) -> Result<Vec<ArrayRef>> {
        let values = std::mem::take(&mut self.values);
        let nulls = self.null_group.take().map(|g| {
            let mut v = vec![true; values.len()];
            v[g as usize] = false;
            NullBuffer::from(v)
        });
        self.map = HashTable::new();
        let arr =
            PrimitiveArray::<T>::new(values.into(), nulls).with_data_type(self.data_type.clone());
        Ok(vec![Arc::new(arr)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    #[test]
    fn interns_with_nulls_grouped() {
        let mut gv = new_group_values(&[DataType::Int64]).unwrap();
        let a: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(1),
            None,
            Some(1),
            Some(2),
            None,
        ]));
        let mut g = vec![];
        gv.intern(&[a], &mut g).unwrap();
        assert_eq!(g, vec![0, 1, 0, 2, 1]);
        let out = gv.emit().unwrap();
        assert_eq!(out[0].null_count(), 1);
        assert_eq!(out[0].len(), 3);
    }

    #[test]
    fn interns_multi_column() {
        let mut gv = new_group_values(&[DataType::Utf8, DataType::Int64]).unwrap();
        let s: ArrayRef = Arc::new(StringArray::from(vec!["a", "a", "b", "a"]));
        let i: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 1, 1]));
        let mut g = vec![];
        gv.intern(&[s, i], &mut g).unwrap();
        assert_eq!(g, vec![0, 1, 2, 0]);
        assert_eq!(gv.emit().unwrap()[0].len(), 3);
    }
}
