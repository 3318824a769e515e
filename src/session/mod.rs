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

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::catalog::{Catalog, CatalogEntry, MemTable, TableProvider};
use crate::config::SessionConfig;
use crate::dataframe::DataFrame;
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::functions::FunctionRegistry;
use crate::io::csv::CsvOptions;
use crate::logical::plan::LogicalPlan;
use crate::optimizer::Optimizer;
use crate::physical::PhysicalPlanner;
use crate::physical::display::display_physical_with;
use crate::physical::estimates::PlanEstimates;
use crate::physical_expr::subquery::SubqueryRunner;
use crate::runtime::fair::{FairScheduler, worker_threads};
use crate::runtime::scheduler;
use crate::runtime::spill::SpillManager;
use crate::runtime::{CancellationToken, MemoryPool, TaskContext};
use crate::sql::{FlintStatement, PlannerContext, SqlPlanner, StatementPlan, parse_sql};

mod bucketed;
mod cache_table;
mod io;
mod register;
mod statement;
mod stored;
pub use io::{listing_options, open_file_table};
pub use statement::result_batches;

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
pub(crate) struct SessionShared {
    pub(crate) catalog: RwLock<Catalog>,
    pub(crate) config: RwLock<SessionConfig>,
    pub(crate) functions: RwLock<FunctionRegistry>,
    pub(crate) pool: RwLock<Arc<rayon::ThreadPool>>,
    /// Shares the pool's compute permits fairly between the queries running at once.
    pub(crate) fair: RwLock<Arc<FairScheduler>>,
    pub(crate) memory: RwLock<Arc<MemoryPool>>,
    /// Stored tables (see `stored.rs`), to move to disk when the memory limit is lowered.
    pub(crate) stored: Arc<stored::StoredTables>,
    /// Tables `CACHE TABLE` made (see `cache_table.rs`).
    pub(crate) cached:
        std::sync::Mutex<std::collections::HashMap<String, cache_table::CachedTable>>,
    pub(crate) optimizer: Optimizer,
    pub(crate) stores: Arc<crate::io::object_store::ObjectStoreRegistry>,
}

/// A session: catalog, settings and the machinery to run queries. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct SessionContext {
    pub(crate) shared: Arc<SessionShared>,
}

impl Default for SessionContext {
    fn default() -> Self {
        Self::new()
    }
}

/// Stack size of the session's worker threads. Planning and execution run there (see
/// [`SessionContext::on_engine_thread`]), so expressions nested up to
/// [`crate::sql::MAX_EXPR_DEPTH`] fit whatever thread the caller is on. Only touched pages
/// cost memory.
const ENGINE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The worker pool of a session running `threads` tasks at once (plus spare threads, see
/// [`worker_threads`]).
fn build_pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(worker_threads(threads))
        .stack_size(ENGINE_STACK_BYTES)
        .thread_name(|i| format!("flint-worker-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| Error::internal(format!("cannot start worker threads: {e}")))
}

/// A snapshot of the session used while planning one statement.
pub(crate) struct PlanningState<'a> {
    catalog: std::sync::RwLockReadGuard<'a, Catalog>,
    config: SessionConfig,
    functions: std::sync::RwLockReadGuard<'a, FunctionRegistry>,
    stores: Arc<crate::io::object_store::ObjectStoreRegistry>,
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
        open_file_table(&self.stores, &self.config, location, format, options)
    }
}

/// Runs subqueries for the physical expressions of one session.
#[derive(Debug)]
struct Runner {
    session: SessionContext,
}

impl Runner {
    /// Optimizes, plans and runs `plan` under `config` and the outer query's `cancel`.
    fn execute(
        &self,
        plan: LogicalPlan,
        config: SessionConfig,
        cancel: &CancellationToken,
    ) -> Result<Vec<RecordBatch>> {
        let plan = self.session.shared.optimizer.optimize(plan, &config)?;
        let physical = self
            .session
            .physical_plan_with(&plan, Arc::new(config.clone()))?;
        let ctx = self.session.task_context_with(config, cancel.clone());
        scheduler::collect(&physical, &ctx)
    }
}

impl SubqueryRunner for Runner {
    fn run(&self, plan: LogicalPlan, cancel: &CancellationToken) -> Result<Vec<RecordBatch>> {
        let mut config = self.session.config();
        // subqueries evaluated per row are small: no need to split them
        config.target_partitions = 1;
        self.execute(plan, config, cancel)
    }

    fn run_uncorrelated(
        &self,
        plan: LogicalPlan,
        cancel: &CancellationToken,
    ) -> Result<Vec<RecordBatch>> {
        self.execute(plan, self.session.config(), cancel)
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
        let stored = Arc::new(stored::StoredTables::default());
        memory.set_storage_reclaimer(stored.reclaimer());
        let fair = FairScheduler::new(config.target_partitions);
        SessionContext {
            shared: Arc::new(SessionShared {
                catalog: RwLock::new(Catalog::new()),
                config: RwLock::new(config),
                functions: RwLock::new(FunctionRegistry::with_builtins()),
                pool: RwLock::new(pool),
                fair: RwLock::new(fair),
                memory: RwLock::new(memory),
                stored,
                cached: Default::default(),
                optimizer: Optimizer::new(),
                stores: Arc::new(crate::io::object_store::ObjectStoreRegistry::default()),
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
            *self.shared.fair.write().unwrap_or_else(|e| e.into_inner()) =
                FairScheduler::new(cfg.target_partitions);
        }
        let explicit_limit = name.eq_ignore_ascii_case("memory_limit")
            && !value.eq_ignore_ascii_case("default")
            && cfg.memory_limit.is_some();
        if explicit_limit {
            // the resident size should follow the pool from now on
            crate::runtime::allocator::set_freed_memory_policy(true);
        }
        if cfg.memory_limit != old_limit {
            // in place: stored tables' memory stays counted under the new limit
            self.memory_pool().set_limit(cfg.memory_limit);
            drop(cfg);
            self.fit_stored_tables()?;
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
        let spill = SpillManager::new(config.spill_dir.clone(), config.max_spill_size);
        let query = self
            .shared
            .fair
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .register(cancel.clone());
        Arc::new(TaskContext {
            spill,
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
            query,
        })
    }

    pub(crate) fn planning_state(&self) -> PlanningState<'_> {
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
            stores: self.shared.stores.clone(),
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
        self.register_table(name, self.open_file_table(location, Some("parquet"), &[])?)
    }

    /// Registers CSV files as a table.
    pub fn register_csv(&self, name: &str, location: &str, options: CsvOptions) -> Result<()> {
        self.register_table(name, self.open_csv_table(location, options)?)
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
        let t = self.open_file_table(location, Some("parquet"), &[])?;
        let plan =
            crate::logical::LogicalPlanBuilder::scan(crate::sql::relation::file_stem(location), t)?
                .build();
        Ok(DataFrame::new(self.clone(), plan))
    }

    /// A DataFrame over CSV files.
    pub fn read_csv(&self, location: &str, options: CsvOptions) -> Result<DataFrame> {
        let t = self.open_csv_table(location, options)?;
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
        self.on_engine_thread(|| self.sql_here(sql))
    }

    fn sql_here(&self, sql: &str) -> Result<DataFrame> {
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
        self.on_engine_thread(|| {
            let state = self.planning_state();
            let planner = SqlPlanner::new(&state);
            planner.plan_statement(stmt)
        })
    }

    /// Runs `f` on one of the session's worker threads (inline when already on one), whose
    /// large stacks let planning and execution recurse through deeply nested expressions
    /// whatever thread called the library (a test thread has 2 MiB).
    pub fn on_engine_thread<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let pool = self
            .shared
            .pool
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        pool.install(f)
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
        self.on_engine_thread(|| {
            let stmts = parse_sql(sql)?;
            let mut out = vec![];
            for s in &stmts {
                let plan = self.plan_statement(s)?;
                out.push(self.run_statement_plan(plan, cancel)?);
            }
            Ok(out)
        })
    }

    /// Optimizes a logical plan.
    pub fn optimize(&self, plan: &LogicalPlan) -> Result<LogicalPlan> {
        self.on_engine_thread(|| self.shared.optimizer.optimize(plan.clone(), &self.config()))
    }

    /// Plans an optimized logical plan into operators.
    pub fn create_physical_plan(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
        self.on_engine_thread(|| self.physical_plan_with(plan, Arc::new(self.config())))
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

    /// Plans an optimized logical plan, recording each operator's estimated rows (as EXPLAIN
    /// shows them).
    pub fn physical_plan_with_estimates(
        &self,
        plan: &LogicalPlan,
    ) -> Result<(Arc<dyn ExecutionPlan>, Arc<PlanEstimates>)> {
        let runner: Arc<dyn SubqueryRunner> = Arc::new(Runner {
            session: self.clone(),
        });
        let estimates = Arc::new(PlanEstimates::new());
        let physical = PhysicalPlanner::new(Arc::new(self.config()), Some(runner))
            .with_estimates(estimates.clone())
            .create_physical_plan(plan)?;
        Ok((physical, estimates))
    }

    /// Optimizes, plans and runs a logical plan.
    pub fn collect_plan(
        &self,
        plan: &LogicalPlan,
        cancel: &CancellationToken,
    ) -> Result<Vec<RecordBatch>> {
        self.on_engine_thread(|| {
            let optimized = self.optimize(plan)?;
            let physical = self.create_physical_plan(&optimized)?;
            let ctx = self.task_context_with(self.config(), cancel.clone());
            scheduler::collect(&physical, &ctx)
        })
    }

    /// The EXPLAIN text of a plan.
    pub fn explain_plan(
        &self,
        plan: &LogicalPlan,
        verbose: bool,
        analyze: bool,
        cancel: &CancellationToken,
    ) -> Result<String> {
        self.on_engine_thread(|| self.explain_plan_here(plan, verbose, analyze, cancel))
    }

    fn explain_plan_here(
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
        let (physical, estimates) = self.physical_plan_with_estimates(&optimized)?;
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
            ctx.memory.reset_peak();
            let start = std::time::Instant::now();
            let batches = scheduler::collect(&physical, &ctx)?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            text.push_str(&format!(
                "== Physical Plan (executed: {rows} rows in {:.3} ms, peak memory {}) ==\n",
                start.elapsed().as_secs_f64() * 1e3,
                crate::runtime::memory_pool::human_bytes(ctx.memory.peak())
            ));
            text.push_str(&display_physical_with(&physical, true, Some(&estimates)));
        } else {
            text.push_str("== Physical Plan ==\n");
            text.push_str(&display_physical_with(&physical, false, Some(&estimates)));
        }
        Ok(text)
    }
}
