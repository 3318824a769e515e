//! flint as a database for the sqllogictest runner: each record's SQL runs in
//! one session; queries return their rows, other statements nothing.

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
}

impl FlintSltDb {
    /// A fresh session with `config`.
    pub fn new(config: SessionConfig) -> Self {
        FlintSltDb {
            ctx: SessionContext::with_config(config),
        }
    }

    /// The session.
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }
}

impl SltDb for FlintSltDb {
    fn run(&mut self, sql: &str) -> Result<Option<(SchemaRef, Vec<RecordBatch>)>, String> {
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
