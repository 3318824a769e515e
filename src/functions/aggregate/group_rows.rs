//! The rows of each group, for aggregates that need all of them (`array_agg`, aggregates with
//! ORDER BY inside the call): the accumulator keeps the arrays it was given, and per group which
//! of their rows belong to it, as (array, row). At the end the rows are gathered with one
//! `interleave` per column, group after group, into list arrays (the state) or the inner
//! aggregate's input.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListArray, new_empty_array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field};

use crate::error::{Error, Result};

/// A reference to one kept row: (kept array, row in it).
pub type RowRef = (usize, usize);

/// The list type holding values of type `t`.
pub fn list_of(t: &DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", t.clone(), true)))
}

/// Per group, its rows in the arrays an accumulator keeps.
#[derive(Debug, Default)]
pub struct GroupRows {
    rows: Vec<Vec<RowRef>>,
}

/// The rows of all groups, group after group.
pub struct Flattened {
    /// Every row, in group order.
    pub indices: Vec<RowRef>,
    /// Where each group's rows start and end in `indices`.
    pub offsets: Vec<i32>,
    /// The groups with at least one row.
    pub valid: NullBuffer,
}

impl GroupRows {
    /// Row `i` of kept array `array` belongs to group `group_indices[i]`.
    pub fn add_rows(&mut self, array: usize, group_indices: &[u32], total: usize) {
        self.rows.resize(total, vec![]);
        for (row, g) in group_indices.iter().enumerate() {
            self.rows[*g as usize].push((array, row));
        }
    }

    /// The elements of list `i` of `lists` (whose values are kept array `array`) belong to group
    /// `group_indices[i]` (a merged state).
    pub fn add_lists(
        &mut self,
        array: usize,
        lists: &ListArray,
        group_indices: &[u32],
        total: usize,
    ) {
        self.rows.resize(total, vec![]);
        let offsets = lists.value_offsets();
        for (row, g) in group_indices.iter().enumerate() {
            if lists.is_null(row) {
                continue;
            }
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            self.rows[*g as usize].extend((start..end).map(|i| (array, i)));
        }
    }

    /// Orders each group's rows (stably).
    pub fn sort_each(&mut self, cmp: impl Fn(&RowRef, &RowRef) -> Ordering) {
        for g in &mut self.rows {
            g.sort_by(&cmp);
        }
    }

    /// Takes every group's rows, and resets.
    pub fn take(&mut self) -> Result<Flattened> {
        let rows = std::mem::take(&mut self.rows);
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0i32);
        let mut indices = vec![];
        for g in &rows {
            indices.extend_from_slice(g);
            offsets.push(
                i32::try_from(indices.len())
                    .map_err(|_| Error::execution("aggregate: a group of over 2^31 rows"))?,
            );
        }
        let valid = NullBuffer::from(rows.iter().map(|g| !g.is_empty()).collect::<Vec<_>>());
        Ok(Flattened {
            indices,
            offsets,
            valid,
        })
    }

    /// Approximate heap size of the references.
    pub fn size(&self) -> usize {
        self.rows
            .iter()
            .map(|g| 24 + g.capacity() * std::mem::size_of::<RowRef>())
            .sum()
    }
}

impl Flattened {
    /// Rows `indices` of `parts` (arrays of type `t`), in order.
    pub fn gather(&self, parts: &[&dyn Array], t: &DataType) -> Result<ArrayRef> {
        Ok(if self.indices.is_empty() {
            new_empty_array(t)
        } else {
            arrow::compute::interleave(parts, &self.indices)?
        })
    }

    /// `values` (gathered) as one list per group; NULL for a group without rows.
    pub fn lists(&self, values: ArrayRef) -> Result<ArrayRef> {
        let field = Arc::new(Field::new("item", values.data_type().clone(), true));
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::new(self.offsets.clone().into()),
            values,
            Some(self.valid.clone()),
        )?))
    }
}
