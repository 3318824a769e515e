//! Joins: on pairs of key columns (`join`), on any boolean condition (`join_on`), and the
//! cross join. Equalities between a left and a right expression become hash keys, the rest a
//! filter evaluated on matching pairs; the physical planner picks hash or nested-loop join,
//! build side and broadcast, and skips the shuffle of inputs already partitioned on the keys.

use std::collections::HashSet;

use crate::dataframe::{DataFrame, JoinType};
use crate::error::{Error, Result};
use crate::logical::expr::Expr;
use crate::logical::expr_fn::col;

impl DataFrame {
    /// Joins with `right` where `left_cols[i] = right_cols[i]` for every `i`, and `filter` (if
    /// any) holds for the joined pair. Key names resolve in their own side, so `"k"` may name
    /// a column on both sides; all join types are supported.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let orders = ctx.sql("SELECT * FROM (VALUES (1, 10), (2, 20), (3, 30)) o(cust, amount)").unwrap();
    /// let custs = ctx.sql("SELECT * FROM (VALUES (1, 'ann'), (2, 'bob')) c(id, name)").unwrap();
    /// let inner = orders.join(&custs, JoinType::Inner, &["cust"], &["id"], None).unwrap();
    /// assert_eq!(inner.count().unwrap(), 2);
    /// let left = orders.join(&custs, JoinType::Left, &["cust"], &["id"], Some(col("amount").gt(lit(10)))).unwrap();
    /// assert_eq!(left.filter(col("name").is_not_null()).unwrap().count().unwrap(), 1);
    /// ```
    pub fn join(
        &self,
        right: &DataFrame,
        join_type: JoinType,
        left_cols: &[&str],
        right_cols: &[&str],
        filter: Option<Expr>,
    ) -> Result<DataFrame> {
        if left_cols.len() != right_cols.len() {
            return Err(Error::plan(format!(
                "join needs as many left key columns as right ones, got {} and {}",
                left_cols.len(),
                right_cols.len()
            )));
        }
        self.check_join_names(right, join_type)?;
        let on = left_cols
            .iter()
            .zip(right_cols)
            .map(|(l, r)| (col(l), col(r)))
            .collect();
        let b = self
            .builder()
            .join_detailed(right.plan.clone(), join_type, on, filter, false)?;
        Ok(self.with_plan(b))
    }

    /// Joins with `right` where all of `on` hold (`JOIN .. ON a AND b AND ..`). Columns must be
    /// unambiguous across both sides; qualify them (`col("o.id")`) where names repeat.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1, 5), (2, 7)) a(k, lo)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES (1, 6), (2, 1)) b(k, v)").unwrap();
    /// let j = a.join_on(&b, JoinType::Inner, vec![col("a.k").eq(col("b.k")), col("v").gt(col("lo"))]).unwrap();
    /// assert_eq!(j.count().unwrap(), 1);
    /// ```
    pub fn join_on(
        &self,
        right: &DataFrame,
        join_type: JoinType,
        on: Vec<Expr>,
    ) -> Result<DataFrame> {
        self.check_join_names(right, join_type)?;
        let b = self
            .builder()
            .join_on(right.plan.clone(), join_type, Expr::conjunction(on))?;
        Ok(self.with_plan(b))
    }

    /// Every pair of rows of both inputs (`CROSS JOIN`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let a = ctx.sql("SELECT * FROM (VALUES (1), (2)) a(x)").unwrap();
    /// let b = ctx.sql("SELECT * FROM (VALUES ('p'), ('q'), ('r')) b(y)").unwrap();
    /// assert_eq!(a.cross_join(&b).unwrap().count().unwrap(), 6);
    /// ```
    pub fn cross_join(&self, right: &DataFrame) -> Result<DataFrame> {
        self.check_join_names(right, JoinType::Inner)?;
        Ok(self.with_plan(self.builder().cross_join(right.plan.clone())?))
    }

    /// Fails when the joined output would have two columns with the same qualified name, which
    /// no later reference could tell apart (a DataFrame joined with itself).
    fn check_join_names(&self, right: &DataFrame, join_type: JoinType) -> Result<()> {
        if !join_type.outputs_left() || !join_type.outputs_right() {
            return Ok(());
        }
        let left: HashSet<String> = self
            .plan
            .schema()
            .columns()
            .iter()
            .map(|c| c.flat_name())
            .collect();
        for c in right.plan.schema().columns() {
            if left.contains(&c.flat_name()) {
                let hint = match &c.relation {
                    Some(q) => format!(
                        "both sides are named \"{q}\": give one an alias with DataFrame::alias"
                    ),
                    None => "rename it on one side with with_column_renamed".to_string(),
                };
                return Err(Error::plan(format!(
                    "the join would have two columns named \"{}\"; {hint}",
                    c.flat_name()
                )));
            }
        }
        Ok(())
    }
}
