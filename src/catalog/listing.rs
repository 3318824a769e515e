//! `ListingTable`: a table over Parquet or CSV files in any object store (a file, a folder or
//! prefix, a glob, a Hive-partitioned tree). Parquet footers are read when the table is created
//! and schemas merged by column name; each scan lists the location again (so files added by
//! `INSERT` or by other writers show up), opens only new footers, prunes files by partition
//! values and row groups by statistics, and spreads the rest over partitions.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::catalog::statistics::TableStatistics;
use crate::catalog::{ScanArgs, TableKind, TableProvider};
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::scan::csv::CsvScanExec;
use crate::exec::scan::parquet::{ParquetScanConfig, ParquetScanExec, PlanPruning};
use crate::io::bucketing::{BucketLayout, bucket_layout, file_bucket};
use crate::io::csv::{CsvOptions, SAMPLE_BYTES};
use crate::io::fetch::{FetchCounters, ObjectReader};
use crate::io::hive::HivePartitions;
use crate::io::listing::{FileFormat, ListedFile, list_files_or_none};
use crate::io::object_store::ResolvedLocation;
use crate::io::parquet::plan::{assign_row_groups, parquet_statistics};
use crate::io::parquet::pruning::prune_row_groups;
use crate::io::parquet::schema_merge::{NamedSchema, merge_schemas, merge_types};
use crate::io::parquet::{ParquetFile, RowGroupSlice};
use crate::io::predicate::{column_names, is_scan_evaluable, unqualified};
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;

/// How a listing table reads its files.
#[derive(Debug, Clone)]
pub struct ListingOptions {
    /// Parquet or CSV.
    pub format: FileFormat,
    /// CSV settings (ignored for Parquet).
    pub csv: CsvOptions,
    /// Read `key=value` folders as columns (Parquet).
    pub hive_partitioning: bool,
    /// Columns declared by `CREATE EXTERNAL TABLE t (...)`: the table's schema instead of the
    /// inferred one (Parquet columns are matched by name and cast, CSV columns by position).
    pub declared_schema: Option<SchemaRef>,
}

impl ListingOptions {
    /// Default options for `format`.
    pub fn new(format: FileFormat) -> Self {
        ListingOptions {
            format,
            csv: CsvOptions::default(),
            hive_partitioning: true,
            declared_schema: None,
        }
    }
}

/// The files of a table at one point in time.
#[derive(Debug, Default)]
struct Snapshot {
    listed: Vec<ListedFile>,
    parquet: Arc<Vec<ParquetFile>>,
    partition_values: Arc<Vec<Vec<ScalarValue>>>,
    stats: Option<Arc<TableStatistics>>,
    /// How the files are bucketed, when they all record one bucket spec (`io::bucketing`).
    buckets: Option<BucketLayout>,
}

/// A table over files.
#[derive(Debug)]
pub struct ListingTable {
    resolved: ResolvedLocation,
    options: ListingOptions,
    schema: SchemaRef,
    file_schema: SchemaRef,
    partition_fields: Vec<Field>,
    snapshot: RwLock<Arc<Snapshot>>,
    counters: Arc<FetchCounters>,
}

impl ListingTable {
    /// Opens the files at a location.
    pub fn try_new(resolved: ResolvedLocation, options: ListingOptions) -> Result<Self> {
        let listing = list_files_or_none(&resolved, options.format)?;
        if listing.files.is_empty() && options.declared_schema.is_none() {
            return Err(listing.no_files_error(&resolved, options.format));
        }
        let counters = FetchCounters::new();
        let hive = if options.hive_partitioning && options.format == FileFormat::Parquet {
            HivePartitions::infer(&listing.files)?
        } else {
            None
        };
        let partition_fields = hive.as_ref().map(|h| h.fields.clone()).unwrap_or_default();
        let part_names: Vec<String> = partition_fields.iter().map(|f| f.name().clone()).collect();
        let (file_schema, parquet) = match options.format {
            FileFormat::Parquet => {
                let files = ParquetFile::open_all(
                    &resolved.io,
                    &resolved.store,
                    listing.files.clone(),
                    &counters,
                )?;
                let schemas: Vec<NamedSchema<'_>> = files
                    .iter()
                    .map(|f| NamedSchema {
                        name: f.display(),
                        schema: f.logical.as_ref(),
                    })
                    .collect();
                let merged = merge_schemas(&schemas)?;
                // partition values win over file columns of the same name
                let fields: Vec<Field> = merged
                    .fields()
                    .iter()
                    .filter(|f| !part_names.contains(f.name()))
                    .map(|f| f.as_ref().clone())
                    .collect();
                let merged = Schema::new_with_metadata(fields, merged.metadata().clone());
                (Arc::new(merged), files)
            }
            FileFormat::Csv => {
                let schema = match &options.declared_schema {
                    Some(s) => s.clone(),
                    None => csv_schema(&resolved, &options.csv, &listing.files[0])?,
                };
                (schema, vec![])
            }
        };
        let (schema, file_schema) = match (&options.declared_schema, options.format) {
            (Some(declared), FileFormat::Parquet) => {
                check_declared(declared, &file_schema, &part_names, &resolved)?;
                let files_part: Vec<Field> = declared
                    .fields()
                    .iter()
                    .filter(|f| !part_names.contains(f.name()))
                    .map(|f| f.as_ref().clone())
                    .collect();
                (declared.clone(), Arc::new(Schema::new(files_part)))
            }
            _ => {
                let mut all: Vec<Field> = file_schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                all.extend(partition_fields.iter().cloned());
                let schema = Schema::new_with_metadata(all, file_schema.metadata().clone());
                (Arc::new(schema), file_schema)
            }
        };
        let partition_values = hive.map(|h| h.values).unwrap_or_default();
        let mut snapshot = Snapshot {
            listed: listing.files,
            parquet: Arc::new(parquet),
            partition_values: Arc::new(partition_values),
            stats: None,
            buckets: None,
        };
        snapshot.stats = parquet_statistics(&snapshot.parquet, &schema);
        snapshot.buckets = buckets_of(&snapshot.parquet, &schema, &part_names);
        Ok(ListingTable {
            resolved,
            options,
            schema,
            file_schema,
            partition_fields,
            snapshot: RwLock::new(Arc::new(snapshot)),
            counters,
        })
    }

    /// Where the files are.
    pub fn location(&self) -> &ResolvedLocation {
        &self.resolved
    }

    /// How the files are read.
    pub fn options(&self) -> &ListingOptions {
        &self.options
    }

    /// Names of the Hive partition columns.
    pub fn partition_columns(&self) -> Vec<String> {
        self.partition_fields
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The files as of the last listing.
    pub fn files(&self) -> Vec<ListedFile> {
        self.current().listed.clone()
    }

    /// Total bytes of the table's files.
    pub fn total_bytes(&self) -> u64 {
        self.current().listed.iter().map(|f| f.size).sum()
    }

    /// Bytes and requests spent reading footers and samples.
    pub fn metadata_counters(&self) -> &Arc<FetchCounters> {
        &self.counters
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lists the location again; files not seen before are opened and checked against the table.
    pub fn refresh(&self) -> Result<()> {
        self.refreshed().map(|_| ())
    }

    fn refreshed(&self) -> Result<Arc<Snapshot>> {
        let old = self.current();
        let listing = list_files_or_none(&self.resolved, self.options.format)?;
        if listing.files == old.listed {
            return Ok(old);
        }
        let part_names = self.partition_columns();
        let mut values = vec![];
        if !part_names.is_empty() {
            for f in &listing.files {
                let keys: Vec<&String> = f.partitions.iter().map(|(k, _)| k).collect();
                if keys != part_names.iter().collect::<Vec<_>>() {
                    return Err(Error::plan(format!(
                        "{} is not under the table's partition folders ({})",
                        f.display,
                        part_names.join(", ")
                    )));
                }
                let v = f
                    .partitions
                    .iter()
                    .zip(&self.partition_fields)
                    .map(|((k, v), field)| partition_value(v.as_deref(), field, k, &f.display))
                    .collect::<Result<Vec<_>>>()?;
                values.push(v);
            }
        }
        let parquet = match self.options.format {
            FileFormat::Csv => vec![],
            FileFormat::Parquet => {
                let known: HashMap<&object_store::path::Path, &ParquetFile> = old
                    .parquet
                    .iter()
                    .filter(|p| listing.files.contains(&p.file))
                    .map(|p| (&p.file.path, p))
                    .collect();
                let new: Vec<ListedFile> = listing
                    .files
                    .iter()
                    .filter(|f| !known.contains_key(&f.path))
                    .cloned()
                    .collect();
                let opened = ParquetFile::open_all(
                    &self.resolved.io,
                    &self.resolved.store,
                    new,
                    &self.counters,
                )?;
                for f in &opened {
                    self.check_fits(f)?;
                }
                let mut opened: HashMap<object_store::path::Path, ParquetFile> = opened
                    .into_iter()
                    .map(|p| (p.file.path.clone(), p))
                    .collect();
                listing
                    .files
                    .iter()
                    .map(|f| match known.get(&f.path) {
                        Some(p) => Ok((*p).clone()),
                        None => opened
                            .remove(&f.path)
                            .ok_or_else(|| Error::internal("listed file was not opened")),
                    })
                    .collect::<Result<Vec<_>>>()?
            }
        };
        let mut snap = Snapshot {
            listed: listing.files,
            parquet: Arc::new(parquet),
            partition_values: Arc::new(values),
            stats: None,
            buckets: None,
        };
        snap.stats = parquet_statistics(&snap.parquet, &self.schema);
        snap.buckets = buckets_of(&snap.parquet, &self.schema, &part_names);
        let snap = Arc::new(snap);
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = snap.clone();
        Ok(snap)
    }

    /// A file added after the table was created must fit its columns.
    fn check_fits(&self, f: &ParquetFile) -> Result<()> {
        let fs = &f.logical;
        for field in self.file_schema.fields() {
            match fs.field_with_name(field.name()) {
                Ok(have) => {
                    if merge_types(field.data_type(), have.data_type()).as_ref()
                        != Some(field.data_type())
                    {
                        return Err(Error::plan(format!(
                            "Parquet file {} has column \"{}\" of type {}, which does not fit the \
                             table's type {}",
                            f.display(),
                            field.name(),
                            have.data_type(),
                            field.data_type()
                        )));
                    }
                }
                Err(_) if !field.is_nullable() => {
                    return Err(Error::plan(format!(
                        "Parquet file {} lacks the table's NOT NULL column \"{}\"",
                        f.display(),
                        field.name()
                    )));
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn scan_parquet(&self, snap: &Snapshot, args: ScanArgs<'_>) -> Result<Arc<dyn ExecutionPlan>> {
        let conjuncts: Vec<_> = args
            .filters
            .iter()
            .filter(|f| is_scan_evaluable(f))
            .map(unqualified)
            .collect();
        let part_names = self.partition_columns();
        let file_keep = if part_names.is_empty() {
            vec![true; snap.parquet.len()]
        } else {
            HivePartitions {
                fields: self.partition_fields.clone(),
                values: snap.partition_values.as_ref().clone(),
            }
            .prune(&conjuncts)?
        };
        let file_conjuncts: Vec<_> = conjuncts
            .iter()
            .filter(|c| !column_names(c).iter().any(|n| part_names.contains(n)))
            .cloned()
            .collect();
        let mut pruning = PlanPruning::default();
        let keep: Vec<Vec<bool>> = snap
            .parquet
            .iter()
            .zip(&file_keep)
            .map(|(f, k)| {
                let n = f.metadata.metadata().num_row_groups();
                if !*k {
                    pruning.files_pruned += 1;
                    return vec![false; n];
                }
                let keep = prune_row_groups(
                    f.metadata.metadata(),
                    f.metadata.schema(),
                    f.metadata.parquet_schema(),
                    &file_conjuncts,
                );
                pruning.row_groups_pruned += keep.iter().filter(|x| !**x).count();
                keep
            })
            .collect();
        let output_schema = match args.projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        // bucketed files whose bucket columns are read: partition i is bucket i
        let bucketed = snap
            .buckets
            .as_ref()
            .and_then(|b| Some((b, bucket_keys(b, &output_schema)?)));
        let (partitions, hash_keys) = match bucketed {
            Some((b, keys)) => (assign_buckets(b, &keep), Some(keys)),
            None => (
                assign_row_groups(&snap.parquet, &keep, args.config.target_partitions),
                None,
            ),
        };
        let config = ParquetScanConfig {
            files: snap.parquet.clone(),
            partition_values: snap.partition_values.clone(),
            partition_columns: part_names,
            store: self.resolved.store.clone(),
            io: self.resolved.io.clone(),
            local_files: self.resolved.local.is_some(),
            location: Some(self.resolved.clone()),
            table_schema: self.schema.clone(),
            output_schema,
            conjuncts: file_conjuncts,
            row_filter: args.config.parquet_pushdown_filters.unwrap_or(matches!(
                self.resolved.location.kind,
                crate::io::object_store::StoreKind::S3 { .. }
            )),
            row_filter_stats: Default::default(),
            fetch: args.fetch,
        };
        Ok(Arc::new(
            ParquetScanExec::new(config, partitions, pruning).with_hash_partitioning(hash_keys),
        ))
    }
}

/// The bucket layout of Parquet files read as a table of `schema` (see `io::bucketing`).
fn buckets_of(files: &[ParquetFile], schema: &Schema, hive: &[String]) -> Option<BucketLayout> {
    let specs: Vec<_> = files
        .iter()
        .map(|f| file_bucket(f.metadata.metadata().file_metadata().key_value_metadata()))
        .collect();
    bucket_layout(&specs, schema, hive)
}

/// The bucket columns as keys over the scan's output, if it reads them all.
fn bucket_keys(b: &BucketLayout, output: &SchemaRef) -> Option<Vec<PhysicalExprRef>> {
    b.columns
        .iter()
        .map(|c| {
            let i = output.index_of(c).ok()?;
            Some(Arc::new(ColumnExpr::of_field(i, output.field(i))) as PhysicalExprRef)
        })
        .collect()
}

/// One partition per bucket: the kept row groups of the files of bucket `i` form partition `i`.
fn assign_buckets(b: &BucketLayout, keep: &[Vec<bool>]) -> Vec<Vec<RowGroupSlice>> {
    let mut parts: Vec<Vec<RowGroupSlice>> = vec![vec![]; b.count];
    for (file, (bucket, k)) in b.file_buckets.iter().zip(keep).enumerate() {
        let row_groups: Vec<usize> = (0..k.len()).filter(|rg| k[*rg]).collect();
        if !row_groups.is_empty() {
            parts[*bucket].push(RowGroupSlice { file, row_groups });
        }
    }
    parts
}

/// A CSV file's schema, inferred from its first bytes.
fn csv_schema(resolved: &ResolvedLocation, csv: &CsvOptions, f: &ListedFile) -> Result<SchemaRef> {
    let reader = ObjectReader::new(
        resolved.store.clone(),
        f.path.clone(),
        f.size,
        &f.display,
        FetchCounters::new(),
    );
    let len = f.size.min(SAMPLE_BYTES);
    let sample = resolved
        .io
        .block_on(async move { reader.fetch(0..len).await })??;
    csv.infer_schema(&sample, len == f.size, &f.display)
}

/// Declared Parquet columns must exist in the files (or be partition columns).
fn check_declared(
    declared: &SchemaRef,
    files: &SchemaRef,
    partitions: &[String],
    resolved: &ResolvedLocation,
) -> Result<()> {
    for f in declared.fields() {
        if files.field_with_name(f.name()).is_err()
            && !partitions.contains(f.name())
            && !files.fields().is_empty()
        {
            return Err(Error::plan(format!(
                "column \"{}\" is declared but the files at {} have no such column (columns: {})",
                f.name(),
                resolved.location.root_display(),
                files
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

fn partition_value(v: Option<&str>, field: &Field, key: &str, file: &str) -> Result<ScalarValue> {
    match v {
        None => Ok(ScalarValue::try_from(field.data_type())?),
        Some(s) => ScalarValue::Utf8(Some(s.to_string()))
            .cast_to(field.data_type())
            .map_err(|_| {
                Error::plan(format!(
                    "{file}: partition value {key}={s} is not a {}",
                    field.data_type()
                ))
            }),
    }
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
            format: self.options.format.name().into(),
            location: self.resolved.location.text.clone(),
        }
    }
    fn scan(&self, args: ScanArgs<'_>) -> Result<Arc<dyn ExecutionPlan>> {
        let snap = self.refreshed()?;
        match self.options.format {
            FileFormat::Parquet => self.scan_parquet(&snap, args),
            FileFormat::Csv => Ok(Arc::new(
                CsvScanExec::new(
                    snap.listed.clone(),
                    self.resolved.store.clone(),
                    self.resolved.io.clone(),
                    self.schema.clone(),
                    args.projection.cloned(),
                    self.options.csv.clone(),
                    args.fetch,
                )?
                .with_location(self.resolved.clone()),
            )),
        }
    }
    fn statistics(&self) -> Option<Arc<TableStatistics>> {
        self.current().stats.clone()
    }
    fn row_count(&self) -> Option<usize> {
        match self.options.format {
            FileFormat::Parquet => Some(self.current().parquet.iter().map(|f| f.num_rows()).sum()),
            FileFormat::Csv => None,
        }
    }
    fn insert(&self, batches: Vec<RecordBatch>) -> Result<usize> {
        crate::io::write::insert_into_listing(self, batches)
    }
}
