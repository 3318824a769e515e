//! # flint
//!
//! A SQL and DataFrame query engine on Apache Arrow, built like Spark —
//! partitions, stages split at shuffles, pre-partitioned joins — but native
//! and vectorized.
//!
//! ## The pipeline, and where each stage lives
//!
//! ```text
//! SQL text ─sql::parser─▶ AST ─sql::planner─▶ LogicalPlan ◀─ DataFrame API
//!                                                 │ optimizer (rules, in order)
//!                                                 ▼
//!                               physical::planner (+ exchanges where needed)
//!                                                 ▼
//!                               ExecutionPlan operators (exec/)
//!                                                 ▼
//!                      runtime::scheduler: stages at exchanges, tasks on rayon
//! ```
//!
//! - [`sql`]: parsing and binding SQL to logical plans.
//! - [`logical`]: `LogicalPlan`, `Expr`, the plan builder, type coercion.
//! - [`optimizer`]: rewrite rules (one file each).
//! - [`physical`]: logical → physical planning, partitioning, join strategy, runtime filters.
//! - [`exec`]: operators (one file or folder each).
//! - [`physical_expr`]: expressions evaluated on Arrow batches.
//! - [`functions`]: scalar and aggregate functions, UDF traits.
//! - [`catalog`]: tables (memory, files), views, TPC-H demo data.
//! - [`io`]: the object-store layer (local, S3), Parquet and CSV reading and writing.
//! - [`runtime`]: scheduler, task context, memory pool, spill files, metrics, cancellation,
//!   the tokio runtime for I/O.
//! - [`dataframe`]: the lazy DataFrame API ([`prelude`] imports what a program needs).
//! - [`session`]: `SessionContext`, the entry point.
//! - [`backup`]: backup, verify and restore jobs with a checksummed manifest.
//! - [`cli`]: the REPL, output formats and the sqllogictest runner.
//!
//! To add an operator: a file in `exec/` implementing `ExecutionPlan`, a case in
//! `physical/planner.rs`. To add an optimizer rule: a file in `optimizer/`
//! implementing `OptimizerRule`, and an entry in the list in `optimizer/mod.rs`.

#![warn(missing_docs)]

pub mod backup;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod dataframe;
pub mod error;
pub mod exec;
pub mod functions;
pub mod io;
pub mod logical;
pub mod optimizer;
pub mod physical;
pub mod physical_expr;
pub mod prelude;
pub mod runtime;
pub mod session;
pub mod sql;

pub use config::SessionConfig;
pub use dataframe::DataFrame;
pub use error::{Error, ErrorKind, Result};
pub use session::{SessionContext, StatementResult};
