//! Statements other than plain queries, bound to a `StatementPlan` that the
//! session executes: DDL (CREATE/DROP TABLE/VIEW/INDEX, CREATE EXTERNAL TABLE),
//! DML (INSERT, DELETE, UPDATE), EXPLAIN, SHOW, DESCRIBE, SET, CALL, CACHE/UNCACHE TABLE.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion_common::ScalarValue;
use sqlparser::ast::{self, ObjectName, ObjectType, Statement};

use crate::error::{Error, Result};
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::Expr;
use crate::logical::plan::LogicalPlan;
use crate::logical::types::sql_to_arrow_type;
use crate::sql::parser::{CreateExternalTable, FlintStatement};
use crate::sql::planner::SqlPlanner;
use crate::sql::scope::{Scope, normalize_ident};

/// `CLUSTERED BY (columns) INTO n BUCKETS` of `CREATE TABLE`: the table keeps `n` partitions,
/// each row in partition `hash(columns) % n` (the placement of a hash exchange), so joins and
/// aggregations on these columns need no shuffle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableBucketing {
    /// Column names (normalized).
    pub columns: Vec<String>,
    /// Number of partitions (buckets), at least 1.
    pub buckets: usize,
}

/// A bound statement, ready for the session to run.
#[derive(Debug)]
pub enum StatementPlan {
    /// A query returning rows.
    Query(LogicalPlan),
    /// `EXPLAIN [ANALYZE] [VERBOSE] query`.
    Explain {
        /// The query.
        plan: LogicalPlan,
        /// Run it and show metrics.
        analyze: bool,
        /// Show more detail.
        verbose: bool,
    },
    /// `CREATE TABLE name (cols)` or `CREATE TABLE name AS query`.
    CreateTable {
        /// Table name.
        name: String,
        /// Declared schema (for a column list).
        schema: Option<SchemaRef>,
        /// Rows to fill it with.
        source: Option<LogicalPlan>,
        /// `DEFAULT` values per column.
        defaults: Vec<Option<ScalarValue>>,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// `OR REPLACE`.
        or_replace: bool,
        /// `CLUSTERED BY (cols) INTO n BUCKETS`: keep the rows hash-partitioned on these columns.
        clustered_by: Option<TableBucketing>,
    },
    /// `CREATE VIEW`.
    CreateView {
        /// View name.
        name: String,
        /// The query.
        query: Box<ast::Query>,
        /// Column names.
        columns: Vec<String>,
        /// `OR REPLACE`.
        or_replace: bool,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `CREATE EXTERNAL TABLE`.
    CreateExternalTable(CreateExternalTable),
    /// `COPY ... TO 'target' (options)`: write the rows of `source`.
    Copy {
        /// The rows to write.
        source: LogicalPlan,
        /// Where to.
        target: String,
        /// Options as parsed (name, values).
        options: Vec<(String, Vec<String>)>,
    },
    /// `INSERT INTO table ...`: `source` already has the table's column types and order.
    Insert {
        /// Target table.
        table: String,
        /// Rows to append.
        source: LogicalPlan,
    },
    /// `DELETE FROM table [WHERE ...]`: keep the rows of `keep`.
    Delete {
        /// Target table.
        table: String,
        /// The rows that remain.
        keep: LogicalPlan,
        /// The rows removed (for the count).
        removed: LogicalPlan,
    },
    /// `UPDATE table SET ...`: the new contents and the number of rows changed.
    Update {
        /// Target table.
        table: String,
        /// The table after the update.
        contents: LogicalPlan,
        /// The updated rows (for the count).
        changed: LogicalPlan,
    },
    /// `DROP TABLE|VIEW`.
    Drop {
        /// Names.
        names: Vec<String>,
        /// `IF EXISTS`.
        if_exists: bool,
        /// Whether views (true) or tables (false) are dropped.
        views: bool,
    },
    /// `CREATE INDEX` / `DROP INDEX`: accepted, nothing to do (flint has no indexes).
    NoOp(String),
    /// `SHOW TABLES`.
    ShowTables,
    /// `DESCRIBE table`.
    Describe(String),
    /// `SET name = value`.
    Set(String, String),
    /// `SHOW name` / `SHOW ALL`.
    Show(String),
    /// `CALL dbgen(sf = 0.1)`: create the TPC-H tables in memory.
    Dbgen(f64),
    /// `CACHE TABLE name [AS query]`: store the query's rows as table `name`, or (without a
    /// query) store the rows of table or view `name` in its place.
    CacheTable {
        /// The table.
        name: String,
        /// The rows of a new table; `None` to store the existing table or view.
        source: Option<LogicalPlan>,
    },
    /// `UNCACHE TABLE [IF EXISTS] name`: drop the stored copy `CACHE TABLE` made.
    UncacheTable {
        /// The table.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
}

/// Columns that are NULL-typed (`SELECT NULL AS x`) become INTEGER in a new table.
fn null_columns_as_int(plan: LogicalPlan) -> Result<LogicalPlan> {
    let s = plan.schema().clone();
    if !s
        .iter()
        .any(|(_, f)| f.data_type() == &arrow::datatypes::DataType::Null)
    {
        return Ok(plan);
    }
    let exprs = (0..s.len())
        .map(|i| {
            let c = Expr::Column(s.column(i));
            if s.data_type(i) == &arrow::datatypes::DataType::Null {
                c.cast_to(arrow::datatypes::DataType::Int32)
                    .alias(s.field(i).name().clone())
            } else {
                c
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build())
}

/// Checks `CLUSTERED BY (cols) INTO n BUCKETS` against the table's columns.
fn table_bucketing(
    table: &str,
    cb: &ast::ClusteredBy,
    columns: &[String],
) -> Result<TableBucketing> {
    if cb.sorted_by.is_some() {
        return Err(Error::not_implemented(
            "CLUSTERED BY ... SORTED BY is not supported; use CLUSTERED BY (cols) INTO n BUCKETS",
        ));
    }
    let text = match &cb.num_buckets {
        ast::Value::Number(n, _) => n.clone(),
        other => other.to_string(),
    };
    let buckets = text
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Error::plan(format!(
                "CLUSTERED BY ... INTO n BUCKETS needs a positive number of buckets, got {text}"
            ))
        })?;
    let mut names = vec![];
    for ident in &cb.columns {
        let n = normalize_ident(ident);
        if !columns.contains(&n) {
            return Err(Error::not_found(format!(
                "CLUSTERED BY column \"{n}\" is not a column of table {table} (columns: {})",
                columns.join(", ")
            )));
        }
        if names.contains(&n) {
            return Err(Error::plan(format!(
                "CLUSTERED BY column \"{n}\" appears more than once"
            )));
        }
        names.push(n);
    }
    Ok(TableBucketing {
        columns: names,
        buckets,
    })
}

pub(crate) fn object_name(n: &ObjectName) -> Result<String> {
    n.0.last()
        .and_then(|p| p.as_ident())
        .map(normalize_ident)
        .ok_or_else(|| Error::plan(format!("invalid name {n}")))
}

impl SqlPlanner<'_> {
    /// Binds a parsed statement.
    pub fn plan_statement(&self, st: &FlintStatement) -> Result<StatementPlan> {
        let st = match st {
            FlintStatement::CreateExternalTable(c) => {
                return Ok(StatementPlan::CreateExternalTable(c.clone()));
            }
            FlintStatement::Copy(c) => {
                return Ok(StatementPlan::Copy {
                    source: self.plan_copy_source(&c.source)?,
                    target: c.target.clone(),
                    options: c.options.clone(),
                });
            }
            FlintStatement::Sql(s) => s.as_ref(),
        };
        Ok(match st {
            Statement::Query(q) => StatementPlan::Query(self.plan_query(q, None)?),
            Statement::Explain {
                statement,
                analyze,
                verbose,
                ..
            } => match statement.as_ref() {
                Statement::Query(q) => StatementPlan::Explain {
                    plan: self.plan_query(q, None)?,
                    analyze: *analyze,
                    verbose: *verbose,
                },
                other => {
                    return Err(Error::not_implemented(format!(
                        "EXPLAIN of {other} is not supported"
                    )));
                }
            },
            Statement::CreateTable(c) => self.plan_create_table(c)?,
            Statement::CreateView(v) => {
                if v.materialized {
                    return Err(Error::not_implemented(
                        "materialized views are not supported",
                    ));
                }
                StatementPlan::CreateView {
                    name: object_name(&v.name)?,
                    query: v.query.clone(),
                    columns: v.columns.iter().map(|c| normalize_ident(&c.name)).collect(),
                    or_replace: v.or_replace,
                    if_not_exists: v.if_not_exists,
                }
            }
            Statement::Insert(i) => self.plan_insert(i)?,
            Statement::Delete(d) => self.plan_delete(d)?,
            Statement::Update(u) => self.plan_update(u)?,
            Statement::Drop {
                object_type,
                if_exists,
                names,
                ..
            } => match object_type {
                ObjectType::Table | ObjectType::View => StatementPlan::Drop {
                    names: names.iter().map(object_name).collect::<Result<Vec<_>>>()?,
                    if_exists: *if_exists,
                    views: *object_type == ObjectType::View,
                },
                ObjectType::Index => StatementPlan::NoOp("DROP INDEX".into()),
                other => {
                    return Err(Error::not_implemented(format!(
                        "DROP {other} is not supported"
                    )));
                }
            },
            Statement::CreateIndex(c) => {
                let table = object_name(&c.table_name)?;
                if self.ctx.entry(&table).is_none() {
                    return Err(self.ctx.table_not_found(&table));
                }
                StatementPlan::NoOp("CREATE INDEX".into())
            }
            Statement::ShowTables { .. } => StatementPlan::ShowTables,
            Statement::ExplainTable { table_name, .. } => {
                StatementPlan::Describe(object_name(table_name)?)
            }
            Statement::ShowColumns { show_options, .. } => {
                let name = show_options
                    .show_in
                    .as_ref()
                    .and_then(|s| s.parent_name.as_ref())
                    .ok_or_else(|| Error::plan("SHOW COLUMNS needs FROM table"))?;
                StatementPlan::Describe(object_name(name)?)
            }
            Statement::Set(set) => self.plan_set(set)?,
            Statement::ShowVariable { variable } => StatementPlan::Show(
                variable
                    .iter()
                    .map(normalize_ident)
                    .collect::<Vec<_>>()
                    .join("_"),
            ),
            Statement::Call(f) => self.plan_call(f)?,
            Statement::Cache {
                table_flag,
                table_name,
                options,
                query,
                ..
            } => {
                self.plan_cache_table(table_flag.as_ref(), table_name, options, query.as_deref())?
            }
            Statement::UNCache {
                table_name,
                if_exists,
            } => self.plan_uncache_table(table_name, *if_exists)?,
            Statement::StartTransaction { .. } | Statement::Commit { .. } => {
                StatementPlan::NoOp("transaction".into())
            }
            other => {
                let text = other.to_string();
                let head: String = text
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                return Err(Error::not_implemented(format!(
                    "statement {head} is not supported"
                )));
            }
        })
    }

    fn plan_create_table(&self, c: &ast::CreateTable) -> Result<StatementPlan> {
        let name = object_name(&c.name)?;
        if c.external {
            if c.clustered_by.is_some() {
                return Err(Error::not_implemented(
                    "CLUSTERED BY is not supported for external tables: write bucketed Parquet \
                     with COPY ... TO 'dir' (FORMAT parquet, BUCKET_BY (cols), BUCKETS n)",
                ));
            }
            let location = c
                .location
                .clone()
                .ok_or_else(|| Error::plan("CREATE EXTERNAL TABLE needs LOCATION"))?;
            let format = c
                .file_format
                .map(|f| f.to_string())
                .ok_or_else(|| Error::plan("CREATE EXTERNAL TABLE needs STORED AS"))?;
            return Ok(StatementPlan::CreateExternalTable(CreateExternalTable {
                name: c.name.clone(),
                columns: c.columns.clone(),
                format,
                location,
                options: vec![],
                or_replace: c.or_replace,
                if_not_exists: c.if_not_exists,
            }));
        }
        let mut defaults = vec![];
        let schema = if c.columns.is_empty() {
            None
        } else {
            let mut fields = vec![];
            for col in &c.columns {
                let t = sql_to_arrow_type(&col.data_type)?;
                let default = match col.options.iter().find_map(|o| match &o.option {
                    ast::ColumnOption::Default(e) => Some(e),
                    _ => None,
                }) {
                    Some(e) => {
                        let v = self.eval_const(
                            self.sql_to_expr(e, &Scope::empty(None))?.cast_to(t.clone()),
                        )?;
                        Some(v)
                    }
                    None => None,
                };
                defaults.push(default);
                let not_null = col.options.iter().any(|o| {
                    matches!(
                        o.option,
                        ast::ColumnOption::NotNull | ast::ColumnOption::PrimaryKey(_)
                    )
                });
                let n = normalize_ident(&col.name);
                if fields.iter().any(|f: &Field| f.name() == &n) {
                    return Err(Error::plan(format!(
                        "column \"{n}\" specified more than once"
                    )));
                }
                fields.push(Field::new(n, t, !not_null));
            }
            Some(Arc::new(Schema::new(fields)))
        };
        let source = match &c.query {
            Some(q) => {
                let plan = self.plan_query(q, None)?;
                Some(match &schema {
                    // CREATE TABLE t (a INT) AS SELECT ...: cast to the declared columns
                    Some(s) => self.conform_to(plan, s, None, &[])?,
                    None => null_columns_as_int(plan)?,
                })
            }
            None => None,
        };
        if schema.is_none() && source.is_none() {
            return Err(Error::plan(format!(
                "CREATE TABLE {name} needs columns or AS query"
            )));
        }
        let clustered_by = match &c.clustered_by {
            Some(cb) => {
                let columns: Vec<String> = match (&schema, &source) {
                    (Some(s), _) => s.fields().iter().map(|f| f.name().clone()).collect(),
                    (None, Some(src)) => {
                        src.schema().iter().map(|(_, f)| f.name().clone()).collect()
                    }
                    (None, None) => vec![],
                };
                Some(table_bucketing(&name, cb, &columns)?)
            }
            None => None,
        };
        Ok(StatementPlan::CreateTable {
            name,
            schema,
            source,
            defaults,
            if_not_exists: c.if_not_exists,
            or_replace: c.or_replace,
            clustered_by,
        })
    }

    fn plan_set(&self, set: &ast::Set) -> Result<StatementPlan> {
        match set {
            ast::Set::SingleAssignment {
                variable, values, ..
            } => {
                let name = variable.to_string().to_lowercase();
                let value = values
                    .first()
                    .map(|v| match v {
                        ast::Expr::Value(x) => match &x.value {
                            ast::Value::SingleQuotedString(s) => s.clone(),
                            other => other.to_string(),
                        },
                        other => other.to_string(),
                    })
                    .ok_or_else(|| Error::plan("SET needs a value"))?;
                Ok(StatementPlan::Set(name, value))
            }
            other => Err(Error::not_implemented(format!("{other} is not supported"))),
        }
    }

    fn plan_call(&self, f: &ast::Function) -> Result<StatementPlan> {
        let name = f.name.to_string().to_lowercase();
        if name != "dbgen" {
            return Err(Error::not_found(format!(
                "procedure {name}() does not exist (available: dbgen)"
            )));
        }
        let mut sf = 0.01;
        if let ast::FunctionArguments::List(l) = &f.args {
            for a in &l.args {
                let e = match a {
                    ast::FunctionArg::Named {
                        arg: ast::FunctionArgExpr::Expr(e),
                        ..
                    }
                    | ast::FunctionArg::ExprNamed {
                        arg: ast::FunctionArgExpr::Expr(e),
                        ..
                    }
                    | ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => e,
                    other => {
                        return Err(Error::plan(format!("invalid argument {other} to dbgen()")));
                    }
                };
                // `sf = 0.01` parses as a comparison: take its right side
                let e = match e {
                    ast::Expr::BinaryOp {
                        left,
                        op: ast::BinaryOperator::Eq,
                        right,
                    } if matches!(left.as_ref(), ast::Expr::Identifier(id) if id.value.eq_ignore_ascii_case("sf")) => {
                        right.as_ref()
                    }
                    other => other,
                };
                let v = self.eval_const(self.sql_to_expr(e, &Scope::empty(None))?)?;
                sf = match v.cast_to(&arrow::datatypes::DataType::Float64) {
                    Ok(ScalarValue::Float64(Some(x))) if x > 0.0 => x,
                    _ => {
                        return Err(Error::plan(format!(
                            "dbgen scale factor must be a positive number, got {v}"
                        )));
                    }
                };
            }
        }
        Ok(StatementPlan::Dbgen(sf))
    }
}
