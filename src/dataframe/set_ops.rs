//! Set operations by column position, as in SQL: `union` / `union_all` (`UNION ALL`),
//! `union_distinct` (`UNION`), `intersect` and `except` (both distinct). Column types are widened to their common type; the names are
//! the left input's.

use crate::dataframe::DataFrame;
use crate::error::Result;

impl DataFrame {
    /// The rows of both inputs, duplicates kept (`UNION ALL`), as Spark's and DataFusion's
    /// `union` do; [`union_distinct`](Self::union_distinct) is SQL's `UNION`.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) t(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (2), (3)) t(x)").unwrap();
    /// assert_eq!(a.union(&b).unwrap().count().unwrap(), 4);
    /// ```
    pub fn union(&self, other: &DataFrame) -> Result<DataFrame> {
        Ok(self.with_plan(self.builder().union(other.logical_plan().clone())?))
    }

    /// The same as [`union`](Self::union) (`UNION ALL`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) t(x)").unwrap();
    /// assert_eq!(a.union_all(&a).unwrap().count().unwrap(), 4);
    /// ```
    pub fn union_all(&self, other: &DataFrame) -> Result<DataFrame> {
        self.union(other)
    }

    /// The rows of both inputs without duplicates (SQL's `UNION`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) t(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (2), (3)) t(x)").unwrap();
    /// assert_eq!(a.union_distinct(&b).unwrap().count().unwrap(), 3);
    /// ```
    pub fn union_distinct(&self, other: &DataFrame) -> Result<DataFrame> {
        self.union(other)?.distinct()
    }

    /// The distinct rows found in both inputs (`INTERSECT`; NULLs match NULLs).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2), (2)) t(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (2), (3)) t(x)").unwrap();
    /// assert_eq!(a.intersect(&b).unwrap().count().unwrap(), 1);
    /// ```
    pub fn intersect(&self, other: &DataFrame) -> Result<DataFrame> {
        Ok(self.with_plan(self.builder().intersect_or_except(
            other.logical_plan().clone(),
            true,
            false,
        )?))
    }

    /// The distinct rows of this input not found in `other` (`EXCEPT`; NULLs match NULLs).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2), (1)) t(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (2), (3)) t(x)").unwrap();
    /// assert_eq!(a.except(&b).unwrap().count().unwrap(), 1);
    /// ```
    pub fn except(&self, other: &DataFrame) -> Result<DataFrame> {
        Ok(self.with_plan(self.builder().intersect_or_except(
            other.logical_plan().clone(),
            false,
            false,
        )?))
    }
}
