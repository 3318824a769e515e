//! TPC-H data (placeholder until the generator lands).
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
/// Generates all tables.
pub fn generate_all(_sf: f64, _batch_size: usize) -> crate::error::Result<Vec<(String, SchemaRef, Vec<RecordBatch>)>> {
    Err(crate::error::Error::not_implemented("tpch"))
}
/// Writes Parquet.
pub fn write_parquet(_dir: &std::path::Path, _sf: f64) -> crate::error::Result<()> {
    Err(crate::error::Error::not_implemented("tpch"))
}
