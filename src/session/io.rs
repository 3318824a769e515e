//! The session's file I/O: tables over files through the object-store registry
//! (`FROM 's3://...'`, `read_parquet`, `CREATE EXTERNAL TABLE`), `COPY ... TO`, `INSERT INTO` an
//! external table, and writing any plan's output.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema};

use crate::catalog::listing::ListingOptions;
use crate::catalog::{ListingTable, TableProvider};
use crate::config::SessionConfig;
use crate::error::{Error, Result};
use crate::io::csv::CsvOptions;
use crate::io::listing::{FileFormat, list_files_or_none};
use crate::io::object_store::{ObjectStoreRegistry, ResolvedLocation, S3Config};
use crate::io::write::{WriteJob, WriteMode, WriteOptions, WriteSummary, WriteTarget, write_plan};
use crate::logical::plan::LogicalPlan;
use crate::logical::types::sql_to_arrow_type;
use crate::runtime::CancellationToken;
use crate::session::{SessionContext, StatementResult};
use crate::sql::parser::CreateExternalTable;

/// Splits table options into S3 settings, the Hive switch and format options.
pub fn listing_options(
    format: FileFormat,
    options: &[(String, String)],
) -> Result<(ListingOptions, S3Config)> {
    let mut lo = ListingOptions::new(format);
    let mut s3 = S3Config::default();
    for (k, v) in options {
        let key = k.to_lowercase();
        if S3Config::is_s3_key(&key) {
            s3.set(&key, v)?;
        } else if key == "hive_partitioning" {
            lo.hive_partitioning = matches!(v.to_lowercase().as_str(), "true" | "1" | "on");
        } else {
            match format {
                FileFormat::Csv => lo.csv.set(&key, v)?,
                FileFormat::Parquet => {
                    return Err(Error::plan(format!(
                        "unknown Parquet option '{k}' (options: hive_partitioning, s3.*)"
                    )));
                }
            }
        }
    }
    Ok((lo, s3))
}

/// Resolves a location with the session's S3 settings and per-table overrides.
pub fn resolve(
    stores: &ObjectStoreRegistry,
    config: &SessionConfig,
    location: &str,
    overrides: &S3Config,
) -> Result<ResolvedLocation> {
    stores.resolve(location, &config.s3.merged(overrides))
}

/// Opens files as a table; the format comes from `format` or the path's extension.
pub fn open_file_table(
    stores: &ObjectStoreRegistry,
    config: &SessionConfig,
    location: &str,
    format: Option<&str>,
    options: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    let format = match format.map(FileFormat::parse).transpose()? {
        Some(f) => f,
        None => match FileFormat::from_path(location) {
            Some(f) => f,
            // a folder or prefix: the format of the files in it
            None => {
                let (_, s3) = listing_options(FileFormat::Parquet, &[])?;
                let resolved = resolve(stores, config, location, &s3)?;
                let found = [FileFormat::Parquet, FileFormat::Csv]
                    .into_iter()
                    .find(|f| list_files_or_none(&resolved, *f).is_ok_and(|l| !l.files.is_empty()));
                found.ok_or_else(|| {
                    Error::plan(format!(
                        "cannot tell the format of '{location}': no .parquet or .csv files there; \
                         use read_parquet() or read_csv()"
                    ))
                })?
            }
        },
    };
    let (lo, s3) = listing_options(format, options)?;
    let resolved = resolve(stores, config, location, &s3)?;
    Ok(Arc::new(ListingTable::try_new(resolved, lo)?))
}

impl SessionContext {
    /// The session's object stores (and I/O runtime).
    pub fn object_stores(&self) -> &Arc<ObjectStoreRegistry> {
        &self.shared.stores
    }

    /// Opens files (a file, folder, glob or S3 prefix) as a table.
    pub fn open_file_table(
        &self,
        location: &str,
        format: Option<&str>,
        options: &[(String, String)],
    ) -> Result<Arc<dyn TableProvider>> {
        open_file_table(
            &self.shared.stores,
            &self.config(),
            location,
            format,
            options,
        )
    }

    /// The table called `name`, if there is one.
    pub fn table_provider_opt(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        match self
            .shared
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name.to_lowercase())
        {
            Some(crate::catalog::CatalogEntry::Table(t)) => Some(t.clone()),
            _ => None,
        }
    }

    /// Opens CSV files with explicit options as a table.
    pub fn open_csv_table(&self, location: &str, csv: CsvOptions) -> Result<Arc<ListingTable>> {
        let mut lo = ListingOptions::new(FileFormat::Csv);
        lo.csv = csv;
        let resolved = resolve(
            &self.shared.stores,
            &self.config(),
            location,
            &S3Config::default(),
        )?;
        Ok(Arc::new(ListingTable::try_new(resolved, lo)?))
    }

    /// Runs `CREATE EXTERNAL TABLE`.
    pub(crate) fn create_external_table(&self, c: CreateExternalTable) -> Result<StatementResult> {
        let name = c
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(crate::sql::scope::normalize_ident)
            .ok_or_else(|| Error::plan("invalid table name"))?;
        if self
            .shared
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&name)
        {
            if c.if_not_exists {
                return Ok(StatementResult::Done(format!(
                    "table {name} already exists"
                )));
            }
            if !c.or_replace {
                return Err(Error::plan(format!("table \"{name}\" already exists")));
            }
        }
        let format = FileFormat::parse(&c.format)?;
        let (mut lo, s3) = listing_options(format, &c.options)?;
        if !c.columns.is_empty() {
            let fields = c
                .columns
                .iter()
                .map(|col| {
                    Ok(Field::new(
                        crate::sql::scope::normalize_ident(&col.name),
                        sql_to_arrow_type(&col.data_type)?,
                        true,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            lo.declared_schema = Some(Arc::new(Schema::new(fields)));
        }
        let resolved = resolve(&self.shared.stores, &self.config(), &c.location, &s3)?;
        if format == FileFormat::Csv && lo.declared_schema.is_some() {
            check_csv_column_count(&resolved, &lo, &name)?;
        }
        let table = ListingTable::try_new(resolved, lo)?;
        self.register_table(&name, Arc::new(table))?;
        Ok(StatementResult::Done(format!(
            "created external table {name}"
        )))
    }

    /// Writes every row of a logical plan to `location` (Parquet or CSV, local or S3), all or
    /// nothing; returns what was written.
    pub fn write_plan_to(
        &self,
        plan: &LogicalPlan,
        location: &str,
        options: WriteOptions,
        cancel: &CancellationToken,
    ) -> Result<WriteSummary> {
        let mode = if options.overwrite {
            WriteMode::Overwrite
        } else {
            WriteMode::Create
        };
        let resolved = resolve(
            &self.shared.stores,
            &self.config(),
            location,
            &S3Config::default(),
        )?;
        let target = WriteTarget::new(resolved, &options, mode)?;
        let job = WriteJob {
            target,
            options,
            checksums: false,
            progress: None,
        };
        self.run_write_job(plan, &job, cancel)
    }

    /// Plans and runs a write job over a logical plan.
    pub fn run_write_job(
        &self,
        plan: &LogicalPlan,
        job: &WriteJob<'_>,
        cancel: &CancellationToken,
    ) -> Result<WriteSummary> {
        let optimized = self.optimize(plan)?;
        let physical = self.create_physical_plan(&optimized)?;
        let ctx = self.task_context_with(self.config(), cancel.clone());
        write_plan(&physical, &ctx, job)
    }

    /// Runs `COPY ... TO`.
    pub(crate) fn run_copy(
        &self,
        source: LogicalPlan,
        target: &str,
        options: &[(String, Vec<String>)],
        cancel: &CancellationToken,
    ) -> Result<StatementResult> {
        let mut wo = WriteOptions::default();
        for (k, v) in options {
            wo.set(k, v)?;
        }
        let summary = self.write_plan_to(&source, target, wo, cancel)?;
        Ok(StatementResult::Count(summary.rows))
    }

    /// Runs `INSERT INTO` an external table: the rows stream into new files in its folder.
    pub(crate) fn insert_into_listing(
        &self,
        table: &ListingTable,
        source: &LogicalPlan,
        cancel: &CancellationToken,
    ) -> Result<StatementResult> {
        let job = crate::io::write::listing_insert_job(table)?;
        let summary = self.run_write_job(source, &job, cancel)?;
        Ok(StatementResult::Count(summary.rows))
    }
}

/// A CSV table's declared columns must match the files' columns in number.
fn check_csv_column_count(
    resolved: &ResolvedLocation,
    lo: &ListingOptions,
    name: &str,
) -> Result<()> {
    let Some(declared) = &lo.declared_schema else {
        return Ok(());
    };
    let mut probe = lo.clone();
    probe.declared_schema = None;
    let inferred = match ListingTable::try_new(resolved.clone(), probe) {
        Ok(t) => t.schema(),
        // no files yet: the declared columns define the table
        Err(e) if e.kind() == crate::error::ErrorKind::Io && e.message().contains("not found") => {
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if inferred.fields().len() != declared.fields().len() {
        return Err(Error::plan(format!(
            "CREATE EXTERNAL TABLE {name} declares {} columns but the files have {}",
            declared.fields().len(),
            inferred.fields().len()
        )));
    }
    Ok(())
}
