//! `ListingTable`: a table over Parquet or CSV files (a file, a folder or a glob).
//! Parquet footers are read once, when the table is created; scans prune row
//! groups by statistics and spread the remaining ones over partitions.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use crate::catalog::statistics::{ColumnStatistics, TableStatistics};
use crate::catalog::{ScanArgs, TableKind, TableProvider};
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::scan::csv::CsvScanExec;
use crate::exec::scan::parquet::ParquetScanExec;
use crate::io::csv::CsvOptions;
use crate::io::listing::{FileFormat, list_files};
use crate::io::parquet::pruning::prune_row_groups;
use crate::io::parquet::{ParquetFile, RowGroupSlice};

/// A table over files.
#[derive(Debug)]
pub struct ListingTable {
    stats: Option<Arc<TableStatistics>>,
    location: String,
    format: FileFormat,
    schema: SchemaRef,
    parquet: Arc<Vec<ParquetFile>>,
    csv_files: Vec<PathBuf>,
    csv_options: CsvOptions,
}

impl ListingTable {
    /// Opens the files at `location`.
    pub fn try_new(location: &str, format: FileFormat, csv_options: CsvOptions) -> Result<Self> {
        let files = list_files(location, format)?;
        match format {
            FileFormat::Parquet => {
                let parquet = files
                    .iter()
                    .map(|p| ParquetFile::open(p))
                    .collect::<Result<Vec<_>>>()?;
                let schema = parquet
                    .first()
                    .map(|f| f.schema())
                    .ok_or_else(|| Error::io(format!("no Parquet files at {location}")))?;
                for f in &parquet[1..] {
                    let s = f.schema();
                    if s.fields().len() != schema.fields().len()
                        || s.fields()
                            .iter()
                            .zip(schema.fields())
                            .any(|(a, b)| a.name() != b.name() || a.data_type() != b.data_type())
                    {
                        return Err(Error::plan(format!(
                            "Parquet file {} has a different schema than {}",
                            f.path.display(),
                            parquet[0].path.display()
                        )));
                    }
                }
                let stats = parquet_statistics(&parquet, &schema);
                Ok(ListingTable {
                    stats,
                    location: location.to_string(),
                    format,
                    schema,
                    parquet: Arc::new(parquet),
                    csv_files: vec![],
                    csv_options,
                })
            }
            FileFormat::Csv => {
                let schema = csv_options.infer_schema(&files[0])?;
                Ok(ListingTable {
                    stats: None,
                    location: location.to_string(),
                    format,
                    schema,
                    parquet: Arc::new(vec![]),
                    csv_files: files,
                    csv_options,
                })
            }
        }
    }

    /// Total bytes of the table's files.
    pub fn total_bytes(&self) -> u64 {
        match self.format {
            FileFormat::Parquet => self.parquet.iter().map(|f| f.size).sum(),
            FileFormat::Csv => self
                .csv_files
                .iter()
                .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
                .sum(),
        }
    }
}

/// Row count and min/max per column from the files' row group statistics.
fn parquet_statistics(files: &[ParquetFile], schema: &SchemaRef) -> Option<Arc<TableStatistics>> {
    use datafusion_common::ScalarValue;
    use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
    let row_count = files.iter().map(|f| f.num_rows()).sum();
    let mut columns = vec![ColumnStatistics::default(); schema.fields().len()];
    for (i, field) in schema.fields().iter().enumerate() {
        let mut min: Option<ScalarValue> = None;
        let mut max: Option<ScalarValue> = None;
        let mut complete = true;
        for f in files {
            let meta = f.metadata.metadata();
            let Ok(conv) = StatisticsConverter::try_new(
                field.name(),
                f.metadata.schema(),
                f.metadata.parquet_schema(),
            ) else {
                complete = false;
                break;
            };
            let (Ok(mins), Ok(maxes)) = (
                conv.row_group_mins(meta.row_groups().iter()),
                conv.row_group_maxes(meta.row_groups().iter()),
            ) else {
                complete = false;
                break;
            };
            for k in 0..mins.len() {
                let (Ok(lo), Ok(hi)) = (
                    ScalarValue::try_from_array(&mins, k),
                    ScalarValue::try_from_array(&maxes, k),
                ) else {
                    complete = false;
                    break;
                };
                if lo.is_null() || hi.is_null() {
                    complete = false;
                    break;
                }
                min = Some(match min {
                    Some(m) if m.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) => m,
                    _ => lo,
                });
                max = Some(match max {
                    Some(m) if m.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) => m,
                    _ => hi,
                });
            }
        }
        if complete {
            columns[i].min = min;
            columns[i].max = max;
        }
    }
    Some(Arc::new(TableStatistics { row_count, columns }))
}

/// Spreads row groups over `n` partitions, balancing rows (largest first).
fn assign_row_groups(
    files: &[ParquetFile],
    keep: &[Vec<bool>],
    n: usize,
) -> Vec<Vec<RowGroupSlice>> {
    let mut groups: Vec<(usize, usize, usize)> = vec![]; // (rows, file, rg)
    for (fi, f) in files.iter().enumerate() {
        for (rg, k) in keep[fi].iter().enumerate() {
            if *k {
                let rows = f.metadata.metadata().row_group(rg).num_rows().max(0) as usize;
                groups.push((rows, fi, rg));
            }
        }
    }
    let n = n.max(1).min(groups.len().max(1));
    let mut parts: Vec<(usize, Vec<(usize, usize)>)> = vec![(0, vec![]); n];
    let mut sorted = groups.clone();
    sorted.sort_by_key(|g| std::cmp::Reverse(g.0));
    for (rows, fi, rg) in sorted {
        if let Some(p) = parts.iter_mut().min_by_key(|p| p.0) {
            p.0 += rows;
            p.1.push((fi, rg));
        }
    }
    parts
        .into_iter()
        .map(|(_, mut rgs)| {
            // read in file order within a partition
            rgs.sort();
            let mut slices: Vec<RowGroupSlice> = vec![];
            for (fi, rg) in rgs {
                match slices.last_mut() {
                    Some(s) if s.file == fi => s.row_groups.push(rg),
                    _ => slices.push(RowGroupSlice {
                        file: fi,
                        row_groups: vec![rg],
                    }),
                }
            }
            slices
        })
        .collect()
}

impl TableProvider for ListingTable {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn kind(&self) -> TableKind {
        TableKind::External {
            format: match self.format {
                FileFormat::Parquet => "PARQUET".into(),
                FileFormat::Csv => "CSV".into(),
            },
            location: self.location.clone(),
        }
    }
    fn scan(&self, args: ScanArgs<'_>) -> Result<Arc<dyn ExecutionPlan>> {
        match self.format {
            FileFormat::Parquet => {
                let mut pruned = 0;
                let keep: Vec<Vec<bool>> = self
                    .parquet
                    .iter()
                    .map(|f| {
                        let k = prune_row_groups(
                            f.metadata.metadata(),
                            f.metadata.schema(),
                            f.metadata.parquet_schema(),
                            args.filters,
                        );
                        pruned += k.iter().filter(|x| !**x).count();
                        k
                    })
                    .collect();
                let partitions =
                    assign_row_groups(&self.parquet, &keep, args.config.target_partitions);
                let schema = match args.projection {
                    Some(p) => Arc::new(self.schema.project(p)?),
                    None => self.schema.clone(),
                };
                Ok(Arc::new(ParquetScanExec::new(
                    self.parquet.clone(),
                    partitions,
                    schema,
                    args.projection.cloned(),
                    args.fetch,
                    pruned,
                )))
            }
            FileFormat::Csv => Ok(Arc::new(CsvScanExec::new(
                self.csv_files.clone(),
                self.schema.clone(),
                args.projection.cloned(),
                self.csv_options.clone(),
                args.fetch,
            )?)),
        }
    }
    fn statistics(&self) -> Option<Arc<TableStatistics>> {
        self.stats.clone()
    }
    fn row_count(&self) -> Option<usize> {
        match self.format {
            FileFormat::Parquet => Some(self.parquet.iter().map(|f| f.num_rows()).sum()),
            FileFormat::Csv => None,
        }
    }
}
