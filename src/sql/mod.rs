//! SQL front end: parsing (`parser.rs`) and binding SQL to logical plans
//! (`planner.rs` and the per-clause files it delegates to).

pub mod cache;
pub mod copy;
pub mod dml;
pub mod expr;
pub mod function;
pub mod grouping_sets;
pub mod literal;
pub mod parser;
pub mod planner;
pub mod query;
pub mod relation;
pub mod scope;
pub mod select;
pub mod statement;
pub mod table_function;

pub use parser::{FlintStatement, parse_sql};
pub use planner::{MAX_EXPR_DEPTH, PlannerContext, SqlPlanner};
pub use statement::{StatementPlan, TableBucketing};
