//! Running bound statements: queries, EXPLAIN, DDL (CREATE/DROP TABLE and VIEW,
//! CREATE EXTERNAL TABLE), DML (INSERT, DELETE, UPDATE), SHOW, DESCRIBE, SET, CALL.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::catalog::{CatalogEntry, MemTable, TableProvider};
use crate::error::{Error, Result};
use crate::logical::types::sql_type_name;
use crate::runtime::CancellationToken;
use crate::session::{SessionContext, StatementResult};
use crate::sql::{SqlPlanner, StatementPlan};

impl SessionContext {
    /// Runs a bound statement.
    pub fn run_statement_plan(
        &self,
        plan: StatementPlan,
        cancel: &CancellationToken,
    ) -> Result<StatementResult> {
        self.on_engine_thread(|| self.run_statement_plan_here(plan, cancel))
    }

    fn run_statement_plan_here(
        &self,
        plan: StatementPlan,
        cancel: &CancellationToken,
    ) -> Result<StatementResult> {
        match plan {
            StatementPlan::Query(p) => {
                let schema = p.schema().arrow_schema().clone();
                let batches = self.collect_plan(&p, cancel)?;
                Ok(StatementResult::Rows { schema, batches })
            }
            StatementPlan::Explain {
                plan,
                analyze,
                verbose,
            } => {
                let text = self.explain_plan(&plan, verbose, analyze, cancel)?;
                Ok(lines_result("plan", &text))
            }
            StatementPlan::CreateTable {
                name,
                schema,
                source,
                defaults,
                if_not_exists,
                or_replace,
                clustered_by,
            } => {
                if self
                    .shared
                    .catalog
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(&name)
                {
                    if if_not_exists {
                        return Ok(StatementResult::Done(format!(
                            "table {name} already exists"
                        )));
                    }
                    if !or_replace {
                        return Err(Error::plan(format!("table \"{name}\" already exists")));
                    }
                }
                let table = match clustered_by {
                    Some(b) => self.bucketed_table(&name, schema, source, &b, cancel)?,
                    None => {
                        let schema = match (schema, &source) {
                            (Some(s), _) => s,
                            (None, Some(src)) => nullable_schema(src.schema().arrow_schema()),
                            (None, None) => {
                                return Err(Error::internal(
                                    "CREATE TABLE without schema or query",
                                ));
                            }
                        };
                        check_unique_columns(&schema)?;
                        let table = MemTable::new_stored(schema, self.table_storage(&name));
                        if let Some(src) = source {
                            self.write_stored(&table, src, false, cancel)?;
                        }
                        table
                    }
                }
                .with_defaults(defaults);
                let table = Arc::new(table);
                self.track_stored(&table);
                self.shared
                    .catalog
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(&name, CatalogEntry::Table(table), true)?;
                self.forget_cached(&name);
                Ok(StatementResult::Done(format!("created table {name}")))
            }
            StatementPlan::CreateView {
                name,
                query,
                columns,
                or_replace,
                if_not_exists,
            } => {
                // check the view plans now, so errors surface at CREATE VIEW
                {
                    let state = self.planning_state();
                    SqlPlanner::new(&state).plan_query(&query, None)?;
                }
                let mut c = self
                    .shared
                    .catalog
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                if c.contains(&name) && if_not_exists {
                    return Ok(StatementResult::Done(format!("view {name} already exists")));
                }
                c.insert(&name, CatalogEntry::View { query, columns }, or_replace)?;
                Ok(StatementResult::Done(format!("created view {name}")))
            }
            StatementPlan::CreateExternalTable(c) => self.create_external_table(c),
            StatementPlan::Copy {
                source,
                target,
                options,
            } => self.run_copy(source, &target, &options, cancel),
            StatementPlan::Insert { table, source } => {
                let provider = self.dml_target(&table)?;
                if let Some(stored) = as_stored(&provider) {
                    let n = self.write_stored(stored, source, false, cancel)?;
                    return Ok(StatementResult::Count(n as u64));
                }
                if let Some(listing) = provider
                    .as_any()
                    .downcast_ref::<crate::catalog::ListingTable>()
                {
                    return self.insert_into_listing(listing, &source, cancel);
                }
                let batches = self.collect_plan(&source, cancel)?;
                let n = provider.insert(batches)?;
                Ok(StatementResult::Count(n as u64))
            }
            StatementPlan::Delete {
                table,
                keep,
                removed,
            } => {
                let provider = self.dml_target(&table)?;
                let removed: usize = self
                    .collect_plan(&removed, cancel)?
                    .iter()
                    .map(|b| b.num_rows())
                    .sum();
                if let Some(stored) = as_stored(&provider) {
                    self.write_stored(stored, keep, true, cancel)?;
                    return Ok(StatementResult::Count(removed as u64));
                }
                let kept = self.collect_plan(&keep, cancel)?;
                provider.replace(kept)?;
                Ok(StatementResult::Count(removed as u64))
            }
            StatementPlan::Update {
                table,
                contents,
                changed,
            } => {
                let provider = self.dml_target(&table)?;
                let changed: usize = self
                    .collect_plan(&changed, cancel)?
                    .iter()
                    .map(|b| b.num_rows())
                    .sum();
                if let Some(stored) = as_stored(&provider) {
                    self.write_stored(stored, contents, true, cancel)?;
                    return Ok(StatementResult::Count(changed as u64));
                }
                let new = self.collect_plan(&contents, cancel)?;
                provider.replace(new)?;
                Ok(StatementResult::Count(changed as u64))
            }
            StatementPlan::Drop {
                names,
                if_exists,
                views,
            } => {
                let mut c = self
                    .shared
                    .catalog
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                for n in &names {
                    match c.get(n) {
                        None if if_exists => continue,
                        None => return Err(c.not_found(n)),
                        Some(CatalogEntry::View { .. }) if !views => {
                            return Err(Error::plan(format!("\"{n}\" is a view; use DROP VIEW")));
                        }
                        Some(CatalogEntry::Table(_) | CatalogEntry::Plan(_)) if views => {
                            return Err(Error::plan(format!("\"{n}\" is a table; use DROP TABLE")));
                        }
                        Some(_) => {}
                    }
                    c.remove(n);
                    self.forget_cached(n);
                }
                Ok(StatementResult::Done(format!(
                    "dropped {}",
                    names.join(", ")
                )))
            }
            StatementPlan::NoOp(what) => Ok(StatementResult::Done(what)),
            StatementPlan::ShowTables => self.tables_result(false),
            StatementPlan::Describe(name) => {
                let df = self.table(&name)?;
                let s = df.schema();
                let names: Vec<String> = s.fields().iter().map(|f| f.name().clone()).collect();
                let types: Vec<String> = s
                    .fields()
                    .iter()
                    .map(|f| sql_type_name(f.data_type()))
                    .collect();
                let nulls: Vec<&str> = s
                    .fields()
                    .iter()
                    .map(|f| if f.is_nullable() { "YES" } else { "NO" })
                    .collect();
                let schema = Arc::new(Schema::new(vec![
                    Field::new("column_name", DataType::Utf8, false),
                    Field::new("data_type", DataType::Utf8, false),
                    Field::new("is_nullable", DataType::Utf8, false),
                ]));
                let batch = RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(names)),
                        Arc::new(StringArray::from(types)),
                        Arc::new(StringArray::from(nulls)),
                    ],
                )?;
                Ok(StatementResult::Rows {
                    schema,
                    batches: vec![batch],
                })
            }
            StatementPlan::Set(name, value) => {
                self.set(&name, &value)?;
                Ok(StatementResult::Done(format!("set {name}")))
            }
            StatementPlan::Show(name) => {
                let entries = self.config().entries();
                let rows: Vec<(String, String)> = if name == "all" {
                    entries
                } else {
                    let e = entries
                        .into_iter()
                        .find(|(n, _)| *n == name)
                        .ok_or_else(|| Error::plan(format!("unknown setting \"{name}\"")))?;
                    vec![e]
                };
                let schema = Arc::new(Schema::new(vec![
                    Field::new("name", DataType::Utf8, false),
                    Field::new("value", DataType::Utf8, false),
                ]));
                let (n, v): (Vec<String>, Vec<String>) = rows.into_iter().unzip();
                let batch = RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(n)) as ArrayRef,
                        Arc::new(StringArray::from(v)),
                    ],
                )?;
                Ok(StatementResult::Rows {
                    schema,
                    batches: vec![batch],
                })
            }
            StatementPlan::CacheTable { name, source } => self.cache_table(&name, source, cancel),
            StatementPlan::UncacheTable { name, if_exists } => self.uncache_table(&name, if_exists),
            StatementPlan::Dbgen(sf) => {
                self.load_tpch(sf)?;
                Ok(StatementResult::Done(format!(
                    "generated TPC-H at scale factor {sf}"
                )))
            }
        }
    }

    pub(super) fn table_provider(&self, name: &str) -> Result<Arc<dyn TableProvider>> {
        let c = self
            .shared
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner());
        match c.get(name) {
            Some(CatalogEntry::Table(t)) => Ok(t.clone()),
            Some(_) => Err(Error::plan(format!("\"{name}\" is not a table"))),
            None => Err(c.not_found(name)),
        }
    }
}

/// The stored table behind `provider`, if it is one (its writes stream and count memory).
fn as_stored(provider: &Arc<dyn TableProvider>) -> Option<&MemTable> {
    provider
        .as_any()
        .downcast_ref::<MemTable>()
        .filter(|t| t.is_stored())
}

/// A table created from a query gets nullable columns (later INSERTs may add NULLs).
pub(super) fn nullable_schema(s: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        s.fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ))
}

pub(super) fn check_unique_columns(s: &SchemaRef) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for f in s.fields() {
        if !seen.insert(f.name().clone()) {
            return Err(Error::plan(format!(
                "column \"{}\" appears more than once; give the columns distinct names",
                f.name()
            )));
        }
    }
    Ok(())
}

/// A one-column result with one row per line of `text`.
fn lines_result(column: &str, text: &str) -> StatementResult {
    let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]));
    let lines: Vec<&str> = text.lines().collect();
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(lines))]);
    match batch {
        Ok(b) => StatementResult::Rows {
            schema,
            batches: vec![b],
        },
        Err(_) => StatementResult::Done(text.to_string()),
    }
}

/// The rows of a statement result (a count becomes one `count` row; other statements none).
pub fn result_batches(r: StatementResult) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    Ok(match r {
        StatementResult::Rows { schema, batches } => (schema, batches),
        StatementResult::Count(n) => {
            let schema = Arc::new(Schema::new(vec![Field::new(
                "count",
                DataType::Int64,
                false,
            )]));
            let b = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from(vec![n as i64]))],
            )?;
            (schema, vec![b])
        }
        StatementResult::Done(_) => (Arc::new(Schema::empty()), vec![]),
    })
}
