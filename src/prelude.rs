//! What a DataFrame program needs in scope: `use flint::prelude::*;`.
//!
//! ```
//! use flint::prelude::*;
//! let ctx = SessionContext::new();
//! let df = ctx.sql("SELECT * FROM generate_series(1, 10) t(x)").unwrap();
//! let out = df
//!     .filter(col("x").gt(lit(3)))
//!     .unwrap()
//!     .aggregate(vec![], vec![sum(col("x")).alias("total")])
//!     .unwrap();
//! assert_eq!(out.first().unwrap().unwrap().to_string(), "(49)");
//! ```

pub use crate::config::SessionConfig;
pub use crate::dataframe::{
    DataFrame, GroupedData, JoinType, Partitioning, RecordBatchStream, Row,
};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::functions::expr_fn::*;
pub use crate::functions::udaf::{Accumulator, AggregateUdf, create_udaf};
pub use crate::functions::udf::{ScalarUdf, create_udf};
pub use crate::io::csv::CsvOptions;
pub use crate::io::write::{WriteOptions, WriteSummary};
pub use crate::logical::expr::{Expr, FrameBound, SortExpr};
pub use crate::logical::expr_fn::{case, cast, col, lit, not, null_lit, try_cast, when};
pub use crate::session::SessionContext;
