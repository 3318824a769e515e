//! flint as a database for the sqllogictest runner: each record's SQL runs in
//! one session; queries return their rows, other statements nothing. `__TEST_DIR__` in SQL
//! names a fresh temporary folder per file (as in DuckDB's tests), removed afterwards.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::cli::slt::SltDb;
use crate::config::SessionConfig;
use crate::runtime::CancellationToken;
use crate::session::{SessionContext, StatementResult};

/// A session driven by the sqllogictest runner.
#[derive(Debug)]
pub struct FlintSltDb {
    ctx: SessionContext,
    test_dir: Option<std::path::PathBuf>,
}

impl FlintSltDb {
    /// A fresh session with `config`.
    pub fn new(config: SessionConfig) -> Self {
        FlintSltDb {
            ctx: SessionContext::with_config(config),
            test_dir: None,
        }
    }

    /// The session.
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// This file's temporary folder, created on first use.
    fn test_dir(&mut self) -> Result<String, String> {
        if self.test_dir.is_none() {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "flint_slt_dir_{}_{}",
                std::process::id(),
                N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            self.test_dir = Some(dir);
        }
        Ok(self
            .test_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default())
    }
}

impl Drop for FlintSltDb {
    fn drop(&mut self) {
        if let Some(d) = self.test_dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl SltDb for FlintSltDb {
    fn run(&mut self, sql: &str) -> Result<Option<(SchemaRef, Vec<RecordBatch>)>, String> {
        let replaced;
        let sql = if sql.contains("__TEST_DIR__") {
            replaced = sql.replace("__TEST_DIR__", &self.test_dir()?);
            replaced.as_str()
        } else {
            sql
        };
        let stmts = crate::sql::parse_sql(sql).map_err(|e| e.render(sql))?;
        let mut last = None;
        for s in &stmts {
            let plan = self.ctx.plan_statement(s).map_err(|e| e.render(sql))?;
            let result = self
                .ctx
                .run_statement_plan(plan, &CancellationToken::new())
                .map_err(|e| e.render(sql))?;
            last = match result {
                StatementResult::Done(_) => None,
                // counts are rows too: DuckDB's tests query INSERT results
                other => Some(crate::session::result_batches(other).map_err(|e| e.to_string())?),
            };
        }
        Ok(last)
    }

    fn engine_name(&self) -> &str {
        "flint"
    }
}
