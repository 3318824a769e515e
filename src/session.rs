//! `SessionContext`: the entry point of the library. It owns the catalog,
//! settings, functions and the thread pool, turns SQL into DataFrames and runs
//! statements.
//!
//! ```
//! use flint::SessionContext;
//! let ctx = SessionContext::new();
//! let batches = ctx.sql("SELECT 1 + 1 AS two").unwrap().collect().unwrap();
//! assert_eq!(batches[0].num_rows(), 1);
//! ```

use std::sync::{Arc, RwLock};

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::catalog::{Catalog, CatalogEntry, ListingTable, MemTable, TableKind, TableProvider};
use crate::config::SessionConfig;
use crate::dataframe::DataFrame;
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::functions::FunctionRegistry;
use crate::io::csv::CsvOptions;
use crate::io::listing::FileFormat;
use crate::logical::plan::LogicalPlan;
use crate::logical::types::{sql_to_arrow_type, sql_type_name};
use crate::optimizer::Optimizer;
use crate::physical::PhysicalPlanner;
use crate::physical::display::display_physical;
use crate::physical_expr::subquery::SubqueryRunner;
use crate::runtime::scheduler;
use crate::runtime::{CancellationToken, MemoryPool, TaskContext};
use crate::sql::{FlintStatement, PlannerContext, SqlPlanner, StatementPlan, parse_sql};

/// What running one statement produced.
#[derive(Debug, Clone)]
pub enum StatementResult {
    /// Rows (queries, EXPLAIN, SHOW, DESCRIBE).
    Rows {
        /// Column names and types.
        schema: SchemaRef,
        /// The rows.
        batches: Vec<RecordBatch>,
    },
    /// Rows inserted, deleted or updated.
    Count(u64),
    /// A statement without rows (CREATE, DROP, SET, ...).
    Done(String),
}

#[derive(Debug)]
struct SessionShared {
    catalog: RwLock<Catalog>,
    config: RwLock<SessionConfig>,
    functions: RwLock<FunctionRegistry>,
    pool: RwLock<Arc<rayon::ThreadPool>>,
    memory: RwLock<Arc<MemoryPool>>,
    optimizer: Optimizer,
}

/// A session: catalog, settings and the machinery to run queries. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct SessionContext {
    shared: Arc<SessionShared>,
}

impl Default for SessionContext {
    fn default() -> Self {
        Self::new()
    }
}

fn build_pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("flint-worker-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| Error::internal(format!("cannot start worker threads: {e}")))
}

/// A snapshot of the session used while planning one statement.
struct PlanningState<'a> {
    catalog: std::sync::RwLockReadGuard<'a, Catalog>,
    config: SessionConfig,
    functions: std::sync::RwLockReadGuard<'a, FunctionRegistry>,
}

impl PlannerContext for PlanningState<'_> {
    fn entry(&self, name: &str) -> Option<CatalogEntry> {
        self.catalog.get(name).cloned()
    }
    fn table_not_found(&self, name: &str) -> Error {
        self.catalog.not_found(name)
    }
    fn functions(&self) -> &FunctionRegistry {
        &self.functions
    }
    fn config(&self) -> &SessionConfig {
        &self.config
    }
    fn file_table(
        &self,
        location: &str,
        format: Option<&str>,
        options: &[(String, String)],
    ) -> Result<Arc<dyn TableProvider>> {
        open_file_table(location, format, options)
    }
}

/// Opens files as a table; the format comes from `format` or the path's extension.
pub fn open_file_table(
    location: &str,
    format: Option<&str>,
    options: &[(String, String)],
) -> Result<Arc<dyn TableProvider>> {
    let format = match format {
        Some(f) => FileFormat::parse(f)?,
        None => FileFormat::from_path(location).ok_or_else(|| {
            Error::plan(format!(
                "cannot tell the format of '{location}' from its name; use read_parquet() or read_csv()"
            ))
        })?,
    };
    let mut csv = CsvOptions::default();
    for (k, v) in options {
        match format {
            FileFormat::Csv => csv.set(k, v)?,
            FileFormat::Parquet => {
                return Err(Error::plan(format!("unknown Parquet option '{k}'")));
            }
        }
    }
    Ok(Arc::new(ListingTable::try_new(location, format, csv)?))
}

/// Runs subqueries for the physical expressions of one session.
#[derive(Debug)]
struct Runner {
    session: SessionContext,
}

impl SubqueryRunner for Runner {
    fn run(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        let mut config = self.session.config();
        // subqueries evaluated per row are small: no need to split them
        config.target_partitions = 1;
        let plan = self.session.shared.optimizer.optimize(plan, &config)?;
        let physical = self
            .session
            .physical_plan_with(&plan, Arc::new(config.clone()))?;
        let ctx = self
            .session
            .task_context_with(config, CancellationToken::new());
        scheduler::collect(&physical, &ctx)
    }
}

impl SessionContext {
    /// A session with default settings (partitions = cores).
    pub fn new() -> Self {
        Self::with_config(SessionConfig::default())
    }

    /// A session with the given settings.
    pub fn with_config(config: SessionConfig) -> Self {
        let pool = build_pool(config.target_partitions).unwrap_or_else(|_| {
            Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .expect("one thread"),
            )
        });
        let memory = MemoryPool::new(config.memory_limit);
        SessionContext {
            shared: Arc::new(SessionShared {
                catalog: RwLock::new(Catalog::new()),
                config: RwLock::new(config),
                functions: RwLock::new(FunctionRegistry::with_builtins()),
                pool: RwLock::new(pool),
                memory: RwLock::new(memory),
                optimizer: Optimizer::new(),
            }),
        }
    }

    /// A copy of the current settings.
    pub fn config(&self) -> SessionConfig {
        self.shared
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes a setting by name, as `SET name = value` does.
    pub fn set(&self, name: &str, value: &str) -> Result<()> {
        let mut cfg = self
            .shared
            .config
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let old_threads = cfg.target_partitions;
        let old_limit = cfg.memory_limit;
        cfg.set(name, value)?;
        if cfg.target_partitions != old_threads {
            *self.shared.pool.write().unwrap_or_else(|e| e.into_inner()) =
                build_pool(cfg.target_partitions)?;
        }
        if cfg.memory_limit != old_limit {
            *self
                .shared
                .memory
                .write()
                .unwrap_or_else(|e| e.into_inner()) = MemoryPool::new(cfg.memory_limit);
        }
        Ok(())
    }

    /// The function registry (to register UDFs).
    pub fn functions(&self) -> std::sync::RwLockWriteGuard<'_, FunctionRegistry> {
        self.shared
            .functions
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// A task context for running one query.
    pub fn task_context(&self) -> Arc<TaskContext> {
        self.task_context_with(self.config(), CancellationToken::new())
    }

    /// A task context with explicit settings and cancellation token.
    pub fn task_context_with(
        &self,
        config: SessionConfig,
        cancel: CancellationToken,
    ) -> Arc<TaskContext> {
        Arc::new(TaskContext {
            config: Arc::new(config),
            pool: self
                .shared
                .pool
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            memory: self
                .shared
                .memory
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            cancel,
        })
    }

    fn planning_state(&self) -> PlanningState<'_> {
        PlanningState {
            catalog: self
                .shared
                .catalog
                .read()
                .unwrap_or_else(|e| e.into_inner()),
            config: self.config(),
            functions: self
                .shared
                .functions
                .read()
                .unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Registers a table under `name` (replacing an existing one).
    pub fn register_table(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<()> {
        let mut c = self
            .shared
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner());
        c.insert(&name.to_lowercase(), CatalogEntry::Table(table), true)
    }

    /// Registers in-memory batches as a table.
    pub fn register_batches(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        self.register_table(name, Arc::new(MemTable::try_new(schema, batches)?))
    }

    /// Registers Parquet files (a file, folder or glob) as a table.
    pub fn register_parquet(&self, name: &str, location: &str) -> Result<()> {
        self.register_table(name, open_file_table(location, Some("parquet"), &[])?)
    }

    /// Registers CSV files as a table.
    pub fn register_csv(&self, name: &str, location: &str, options: CsvOptions) -> Result<()> {
        self.register_table(
            name,
            Arc::new(ListingTable::try_new(location, FileFormat::Csv, options)?),
        )
    }

    /// Removes a table or view; returns whether it existed.
    pub fn deregister_table(&self, name: &str) -> bool {
        self.shared
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&name.to_lowercase())
            .is_some()
    }

    /// Names of tables and views.
    pub fn table_names(&self) -> Vec<String> {
        self.shared
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// A DataFrame reading a table or view.
    pub fn table(&self, name: &str) -> Result<DataFrame> {
        self.sql(&format!(
            "SELECT * FROM \"{}\"",
            name.to_lowercase().replace('"', "\"\"")
        ))
    }

    /// A DataFrame over Parquet files.
    pub fn read_parquet(&self, location: &str) -> Result<DataFrame> {
        let t = open_file_table(location, Some("parquet"), &[])?;
        let plan =
            crate::logical::LogicalPlanBuilder::scan(crate::sql::relation::file_stem(location), t)?
                .build();
        Ok(DataFrame::new(self.clone(), plan))
    }

    /// A DataFrame over CSV files.
    pub fn read_csv(&self, location: &str, options: CsvOptions) -> Result<DataFrame> {
        let t = Arc::new(ListingTable::try_new(location, FileFormat::Csv, options)?);
        let plan =
            crate::logical::LogicalPlanBuilder::scan(crate::sql::relation::file_stem(location), t)?
                .build();
        Ok(DataFrame::new(self.clone(), plan))
    }

    /// Generates the TPC-H tables at scale factor `sf` in memory.
    pub fn load_tpch(&self, sf: f64) -> Result<()> {
        let config = self.config();
        let pool = self
            .shared
            .pool
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let tables = pool.install(|| crate::catalog::tpch::generate_all(sf, config.batch_size))?;
        for (name, schema, batches) in tables {
            self.register_batches(&name, schema, batches)?;
        }
        Ok(())
    }

    /// Plans one SQL statement as a DataFrame; DDL and DML run right away (their DataFrame is
    /// empty or holds the row count).
    pub fn sql(&self, sql: &str) -> Result<DataFrame> {
        let stmts = parse_sql(sql)?;
        let [stmt] = stmts.as_slice() else {
            return Err(Error::plan(format!(
                "sql() takes one statement, got {}; use execute_sql() for scripts",
                stmts.len()
            )));
        };
        let plan = self.plan_statement(stmt)?;
        match plan {
            StatementPlan::Query(p) => Ok(DataFrame::new(self.clone(), p)),
            other => {
                let result = self.run_statement_plan(other, &CancellationToken::new())?;
                let (schema, batches) = result_batches(result)?;
                let table = MemTable::try_new(schema, batches)?;
                let plan =
                    crate::logical::LogicalPlanBuilder::scan("result", Arc::new(table))?.build();
                Ok(DataFrame::new(self.clone(), plan))
            }
        }
    }

    /// Binds a parsed statement.
    pub fn plan_statement(&self, stmt: &FlintStatement) -> Result<StatementPlan> {
        let state = self.planning_state();
        let planner = SqlPlanner::new(&state);
        planner.plan_statement(stmt)
    }

    /// Runs every statement of a script, stopping at the first error.
    pub fn execute_sql(&self, sql: &str) -> Result<Vec<StatementResult>> {
        self.execute_sql_cancellable(sql, &CancellationToken::new())
    }

    /// Like [`execute_sql`](Self::execute_sql), stoppable through `cancel`.
    pub fn execute_sql_cancellable(
        &self,
        sql: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<StatementResult>> {
        let stmts = parse_sql(sql)?;
        let mut out = vec![];
        for s in &stmts {
            let plan = self.plan_statement(s)?;
            out.push(self.run_statement_plan(plan, cancel)?);
        }
        Ok(out)
    }

    /// Optimizes a logical plan.
    pub fn optimize(&self, plan: &LogicalPlan) -> Result<LogicalPlan> {
        self.shared.optimizer.optimize(plan.clone(), &self.config())
    }

    /// Plans an optimized logical plan into operators.
    pub fn create_physical_plan(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        self.physical_plan_with(plan, Arc::new(self.config()))
    }

    fn physical_plan_with(
        &self,
        plan: &LogicalPlan,
        config: Arc<SessionConfig>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let runner: Arc<dyn SubqueryRunner> = Arc::new(Runner {
            session: self.clone(),
        });
        PhysicalPlanner::new(config, Some(runner)).create_physical_plan(plan)
    }

    /// Optimizes, plans and runs a logical plan.
    pub fn collect_plan(
        &self,
        plan: &LogicalPlan,
        cancel: &CancellationToken,
    ) -> Result<Vec<RecordBatch>> {
        let optimized = self.optimize(plan)?;
        let physical = self.create_physical_plan(&optimized)?;
        let ctx = self.task_context_with(self.config(), cancel.clone());
        scheduler::collect(&physical, &ctx)
    }

    /// The EXPLAIN text of a plan.
    pub fn explain_plan(
        &self,
        plan: &LogicalPlan,
        verbose: bool,
        analyze: bool,
        cancel: &CancellationToken,
    ) -> Result<String> {
        let config = self.config();
        let (optimized, steps) =
            self.shared
                .optimizer
                .optimize_with_steps(plan.clone(), &config, verbose)?;
        let physical = self.create_physical_plan(&optimized)?;
        let mut text = String::new();
        if verbose {
            text.push_str("== Initial Logical Plan ==\n");
            text.push_str(&plan.to_string());
            for s in &steps {
                if let Some(p) = &s.plan {
                    text.push_str(&format!("== After {} ({} µs) ==\n", s.rule, s.micros));
                    text.push_str(&p.to_string());
                }
            }
        }
        text.push_str("== Logical Plan ==\n");
        text.push_str(&optimized.to_string());
        if analyze {
            let ctx = self.task_context_with(config, cancel.clone());
            let start = std::time::Instant::now();
            let batches = scheduler::collect(&physical, &ctx)?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            text.push_str(&format!(
                "== Physical Plan (executed: {rows} rows in {:.3} ms, peak memory {}) ==\n",
                start.elapsed().as_secs_f64() * 1e3,
                crate::runtime::memory_pool::human_bytes(ctx.memory.peak())
            ));
            text.push_str(&display_physical(&physical, true));
        } else {
            text.push_str("== Physical Plan ==\n");
            text.push_str(&display_physical(&physical, false));
        }
        Ok(text)
    }

    /// Runs a bound statement.
    pub fn run_statement_plan(
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
                let (schema, batches) = match (schema, source) {
                    (Some(s), None) => (s, vec![]),
                    (schema, Some(src)) => {
                        let batches = self.collect_plan(&src, cancel)?;
                        let s =
                            schema.unwrap_or_else(|| nullable_schema(src.schema().arrow_schema()));
                        (s, batches)
                    }
                    (None, None) => {
                        return Err(Error::internal("CREATE TABLE without schema or query"));
                    }
                };
                check_unique_columns(&schema)?;
                let table = MemTable::try_new(schema, batches)?.with_defaults(defaults);
                self.shared
                    .catalog
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(&name, CatalogEntry::Table(Arc::new(table)), true)?;
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
            StatementPlan::CreateExternalTable(c) => {
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
                let table = open_file_table(&c.location, Some(&c.format), &c.options)?;
                if !c.columns.is_empty() {
                    let declared = c
                        .columns
                        .iter()
                        .map(|col| {
                            Ok((
                                crate::sql::scope::normalize_ident(&col.name),
                                sql_to_arrow_type(&col.data_type)?,
                            ))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    let actual = table.schema();
                    if declared.len() != actual.fields().len() {
                        return Err(Error::plan(format!(
                            "CREATE EXTERNAL TABLE {name} declares {} columns but the files have {}",
                            declared.len(),
                            actual.fields().len()
                        )));
                    }
                }
                self.register_table(&name, table)?;
                Ok(StatementResult::Done(format!(
                    "created external table {name}"
                )))
            }
            StatementPlan::Insert { table, source } => {
                let provider = self.table_provider(&table)?;
                let batches = self.collect_plan(&source, cancel)?;
                let n = provider.insert(batches)?;
                Ok(StatementResult::Count(n as u64))
            }
            StatementPlan::Delete {
                table,
                keep,
                removed,
            } => {
                let provider = self.table_provider(&table)?;
                let removed: usize = self
                    .collect_plan(&removed, cancel)?
                    .iter()
                    .map(|b| b.num_rows())
                    .sum();
                let kept = self.collect_plan(&keep, cancel)?;
                provider.replace(kept)?;
                Ok(StatementResult::Count(removed as u64))
            }
            StatementPlan::Update {
                table,
                contents,
                changed,
            } => {
                let provider = self.table_provider(&table)?;
                let changed: usize = self
                    .collect_plan(&changed, cancel)?
                    .iter()
                    .map(|b| b.num_rows())
                    .sum();
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
                }
                Ok(StatementResult::Done(format!(
                    "dropped {}",
                    names.join(", ")
                )))
            }
            StatementPlan::NoOp(what) => Ok(StatementResult::Done(what)),
            StatementPlan::ShowTables => {
                let c = self
                    .shared
                    .catalog
                    .read()
                    .unwrap_or_else(|e| e.into_inner());
                let mut names = vec![];
                let mut kinds = vec![];
                for (n, e) in c.iter() {
                    names.push(n.clone());
                    kinds.push(match e {
                        CatalogEntry::Table(t) => match t.kind() {
                            TableKind::Memory => "table".to_string(),
                            TableKind::External { format, .. } => {
                                format!("external ({})", format.to_lowercase())
                            }
                        },
                        CatalogEntry::View { .. } | CatalogEntry::Plan(_) => "view".to_string(),
                    });
                }
                let schema = Arc::new(Schema::new(vec![
                    Field::new("name", DataType::Utf8, false),
                    Field::new("kind", DataType::Utf8, false),
                ]));
                let batch = RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(names)),
                        Arc::new(StringArray::from(kinds)),
                    ],
                )?;
                Ok(StatementResult::Rows {
                    schema,
                    batches: vec![batch],
                })
            }
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
            StatementPlan::Dbgen(sf) => {
                self.load_tpch(sf)?;
                Ok(StatementResult::Done(format!(
                    "generated TPC-H at scale factor {sf}"
                )))
            }
        }
    }

    fn table_provider(&self, name: &str) -> Result<Arc<dyn TableProvider>> {
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

/// A table created from a query gets nullable columns (later INSERTs may add NULLs).
fn nullable_schema(s: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(
        s.fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ))
}

fn check_unique_columns(s: &SchemaRef) -> Result<()> {
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
