//! A checksum of table contents that survives re-encoding: SHA-256 over a canonical form of the
//! values, independent of file format, compression, row groups and batch boundaries (rows are
//! re-chunked to [`CHUNK_ROWS`] before hashing). Per chunk and column it hashes the validity of
//! each row and the valid values: fixed-width values by their bytes, strings and binaries by
//! length and bytes, lists by lengths and their items, structs by their fields, dictionaries and
//! view/large types by their logical values. Row order matters; column names and types are
//! hashed once up front.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, concat_batches, filter};
use arrow::datatypes::{DataType, SchemaRef};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::io::write::upload::hex;

/// Rows hashed together (the canonical chunking).
pub const CHUNK_ROWS: usize = 8192;

/// Hashes the contents of a stream of batches of one schema.
pub struct ContentHasher {
    schema: SchemaRef,
    hasher: Sha256,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    rows: u64,
}

impl ContentHasher {
    /// A hasher for batches of `schema`.
    pub fn new(schema: SchemaRef) -> Self {
        let mut hasher = Sha256::new();
        for f in schema.fields() {
            hasher.update(f.name().as_bytes());
            hasher.update([0u8]);
            hasher.update(canonical_type(f.data_type()).to_string().as_bytes());
            hasher.update([0u8]);
        }
        ContentHasher {
            schema,
            hasher,
            pending: vec![],
            pending_rows: 0,
            rows: 0,
        }
    }

    /// Adds a batch.
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows += batch.num_rows() as u64;
        self.pending.push(batch.clone());
        self.pending_rows += batch.num_rows();
        if self.pending_rows >= CHUNK_ROWS {
            let all = concat_batches(&self.schema, &self.pending)?;
            self.pending.clear();
            let mut offset = 0;
            while all.num_rows() - offset >= CHUNK_ROWS {
                self.hash_chunk(&all.slice(offset, CHUNK_ROWS))?;
                offset += CHUNK_ROWS;
            }
            self.pending_rows = all.num_rows() - offset;
            if self.pending_rows > 0 {
                self.pending.push(all.slice(offset, self.pending_rows));
            }
        }
        Ok(())
    }

    /// Rows hashed.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The checksum (hex).
    pub fn finish(mut self) -> Result<String> {
        if self.pending_rows > 0 {
            let all = concat_batches(&self.schema, &self.pending)?;
            self.hash_chunk(&all)?;
        }
        self.hasher.update(self.rows.to_le_bytes());
        Ok(hex(&self.hasher.finalize()))
    }

    fn hash_chunk(&mut self, chunk: &RecordBatch) -> Result<()> {
        self.hasher.update((chunk.num_rows() as u64).to_le_bytes());
        for c in chunk.columns() {
            hash_array(c, &mut self.hasher)?;
        }
        Ok(())
    }
}

/// The type values are hashed as (encodings of the same values map to one type).
fn canonical_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        DataType::Dictionary(_, v) => canonical_type(v),
        DataType::LargeList(f) | DataType::ListView(f) | DataType::LargeListView(f) => {
            DataType::List(f.clone())
        }
        other => other.clone(),
    }
}

/// Hashes one array's validity and valid values.
fn hash_array(array: &ArrayRef, h: &mut Sha256) -> Result<()> {
    let canonical = canonical_type(array.data_type());
    let array = if &canonical != array.data_type() {
        cast(array, &canonical)?
    } else {
        array.clone()
    };
    // validity, one byte per row
    let validity: Vec<u8> = (0..array.len()).map(|i| array.is_valid(i) as u8).collect();
    h.update(&validity);
    // drop NULL rows so whatever sits in their slots does not matter
    let valid = if array.null_count() > 0 {
        let mask = arrow::array::BooleanArray::from(
            validity.iter().map(|v| *v == 1).collect::<Vec<bool>>(),
        );
        filter(&array, &mask)?
    } else {
        array
    };
    match valid.data_type() {
        DataType::Null => {}
        DataType::Boolean => {
            let b = valid.as_boolean();
            let bytes: Vec<u8> = (0..b.len()).map(|i| b.value(i) as u8).collect();
            h.update(&bytes);
        }
        DataType::Utf8 => {
            let s = valid.as_string::<i32>();
            hash_offsets(s.value_offsets(), s.value_data(), h);
        }
        DataType::Binary => {
            let s = valid.as_binary::<i32>();
            hash_offsets(s.value_offsets(), s.value_data(), h);
        }
        DataType::List(_) => {
            let l = valid.as_list::<i32>();
            let (start, len) = hash_lengths(l.value_offsets(), h);
            hash_array(&l.values().slice(start, len), h)?;
        }
        DataType::FixedSizeList(_, _) => {
            let l = valid.as_fixed_size_list();
            let n = l.value_length() as usize;
            hash_array(&l.values().slice(l.offset() * n, l.len() * n), h)?;
        }
        DataType::Struct(_) => {
            let s = valid.as_struct();
            for c in s.columns() {
                hash_array(c, h)?;
            }
        }
        DataType::Map(_, _) => {
            let m = valid.as_map();
            let (start, len) = hash_lengths(m.value_offsets(), h);
            let entries: ArrayRef = std::sync::Arc::new(m.entries().slice(start, len));
            hash_array(&entries, h)?;
        }
        t => {
            let data = valid.to_data();
            match (t.primitive_width(), data.buffers().first()) {
                (Some(w), Some(buf)) => {
                    let start = data.offset() * w;
                    h.update(&buf.as_slice()[start..start + data.len() * w]);
                }
                _ => {
                    // any other layout: hash its display form
                    let f = arrow::util::display::ArrayFormatter::try_new(
                        valid.as_ref(),
                        &Default::default(),
                    )?;
                    for i in 0..valid.len() {
                        h.update(f.value(i).to_string().as_bytes());
                        h.update([0u8]);
                    }
                }
            }
        }
    }
    Ok(())
}

fn hash_offsets(offsets: &[i32], data: &[u8], h: &mut Sha256) {
    let (start, len) = hash_lengths(offsets, h);
    h.update(&data[start..start + len]);
}

/// Hashes the length of each list (as little-endian u64s) and returns the child range the
/// lists cover (start, length).
fn hash_lengths(offsets: &[i32], h: &mut Sha256) -> (usize, usize) {
    let lengths: Vec<u8> = offsets
        .windows(2)
        .flat_map(|w| ((w[1] - w[0]) as u64).to_le_bytes())
        .collect();
    h.update(&lengths);
    let start = offsets[0] as usize;
    let end = offsets[offsets.len() - 1] as usize;
    (start, end - start)
}

#[cfg(test)]
mod tests {
    use super::ContentHasher;
    use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(ints: Vec<Option<i32>>, strs: Vec<Option<&str>>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(ints)) as ArrayRef,
                Arc::new(StringArray::from(strs)),
            ],
        )
        .unwrap()
    }

    fn hash(batches: &[RecordBatch]) -> String {
        let mut h = ContentHasher::new(batches[0].schema());
        for b in batches {
            h.update(b).unwrap();
        }
        h.finish().unwrap()
    }

    #[test]
    fn independent_of_batching_sensitive_to_values() {
        let whole = batch(
            (0..20000).map(|i| (i % 7 != 0).then_some(i)).collect(),
            (0..20000).map(|i| (i % 5 != 0).then_some("x")).collect(),
        );
        let parts: Vec<RecordBatch> = (0..20).map(|k| whole.slice(k * 1000, 1000)).collect();
        assert_eq!(hash(std::slice::from_ref(&whole)), hash(&parts));
        let other = batch(
            (0..20000)
                .map(|i| (i % 7 != 0).then_some(i + (i == 19998) as i32))
                .collect(),
            (0..20000).map(|i| (i % 5 != 0).then_some("x")).collect(),
        );
        assert_ne!(hash(&[whole]), hash(&[other]));
        // a NULL is not an empty string
        assert_ne!(
            hash(&[batch(vec![Some(1)], vec![None])]),
            hash(&[batch(vec![Some(1)], vec![Some("")])])
        );
    }
}
