//! How an operator's output is split into partitions (`Partitioning`) and what
//! an operator needs of its input (`Distribution`); `satisfies` decides whether
//! an exchange must be inserted between them.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// How rows are spread over an operator's output partitions.
#[derive(Debug, Clone)]
pub enum Partitioning {
    /// `n` partitions with no known relation between rows and partitions.
    Unknown(usize),
    /// `n` partitions, each row in partition `hash(exprs) % n` (flint's one hash function).
    Hash(Vec<PhysicalExprRef>, usize),
}

impl Partitioning {
    /// Number of partitions.
    pub fn partition_count(&self) -> usize {
        match self {
            Partitioning::Unknown(n) | Partitioning::Hash(_, n) => *n,
        }
    }

    /// Whether this partitioning gives what `required` asks for.
    pub fn satisfies(&self, required: &Distribution) -> bool {
        match required {
            Distribution::Unspecified => true,
            Distribution::SinglePartition => self.partition_count() == 1,
            Distribution::HashPartitioned(keys) => match self {
                Partitioning::Hash(..) => self.hash_key_positions(keys).is_some(),
                Partitioning::Unknown(n) => *n == 1,
            },
        }
    }

    /// For a hash partitioning on some of `keys`, where its expressions sit in `keys`.
    ///
    /// Rows that agree on all of `keys` agree on any subset of them, so hashing by a subset
    /// already brings equal keys together: an aggregation grouped by `(k, v)` over rows
    /// partitioned by `k` needs no exchange. Two join inputs are co-partitioned when each is
    /// hash-partitioned on its keys at the same positions into the same number of partitions.
    pub fn hash_key_positions(&self, keys: &[PhysicalExprRef]) -> Option<Vec<usize>> {
        let Partitioning::Hash(exprs, _) = self else {
            return None;
        };
        if exprs.is_empty() {
            return None;
        }
        let texts: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        exprs
            .iter()
            .map(|e| {
                key_forms(e)
                    .iter()
                    .find_map(|f| texts.iter().position(|t| *t == f.to_string()))
            })
            .collect()
    }
}

/// The expressions a partitioning key stands for: the columns of an [`EquivalentKey`], or the
/// key itself.
pub fn key_forms(key: &PhysicalExprRef) -> Vec<PhysicalExprRef> {
    match key.equivalent_columns() {
        Some(cols) => cols.to_vec(),
        None => vec![key.clone()],
    }
}

/// A partitioning key that several columns, equal on every row, stand for: after an inner
/// equi-join partitioned on `l = r`, the output is hash-partitioned by `l` and equally by `r`,
/// so a later join or aggregation on either needs no exchange. Evaluates as its first column.
#[derive(Debug)]
pub struct EquivalentKey {
    columns: Vec<PhysicalExprRef>,
}

impl EquivalentKey {
    /// A key for `columns` (at least one); a single column is returned as itself.
    pub fn key(columns: Vec<PhysicalExprRef>) -> Option<PhysicalExprRef> {
        match columns.len() {
            0 => None,
            1 => columns.into_iter().next(),
            _ => Some(Arc::new(EquivalentKey { columns })),
        }
    }
}

impl fmt::Display for EquivalentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cols: Vec<String> = self.columns.iter().map(|c| c.to_string()).collect();
        write!(f, "{}", cols.join(" = "))
    }
}

impl PhysicalExpr for EquivalentKey {
    fn data_type(&self) -> &DataType {
        self.columns[0].data_type()
    }
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        self.columns[0].evaluate(batch)
    }
    fn children(&self) -> Vec<&PhysicalExprRef> {
        self.columns.iter().collect()
    }
    fn column_index(&self) -> Option<usize> {
        self.columns[0].column_index()
    }
    fn equivalent_columns(&self) -> Option<&[PhysicalExprRef]> {
        Some(&self.columns)
    }
}

/// Whether join inputs with these partitionings, each required to be hash-partitioned on its
/// keys, are co-partitioned (see [`Partitioning::hash_key_positions`]).
pub fn co_partitioned(inputs: &[(Partitioning, &[PhysicalExprRef])]) -> bool {
    let Some((first, first_keys)) = inputs.first() else {
        return false;
    };
    let Some(positions) = first.hash_key_positions(first_keys) else {
        return false;
    };
    let n = first.partition_count();
    inputs.iter().all(|(p, keys)| {
        p.partition_count() == n && p.hash_key_positions(keys).as_ref() == Some(&positions)
    })
}

/// Whether two lists of physical expressions are the same (by their display, which names columns by index).
pub fn same_exprs(a: &[PhysicalExprRef], b: &[PhysicalExprRef]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_string() == y.to_string())
}

impl fmt::Display for Partitioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partitioning::Unknown(1) => write!(f, "Single"),
            Partitioning::Unknown(n) => write!(f, "Unknown({n})"),
            Partitioning::Hash(exprs, n) => {
                let keys = exprs
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(f, "Hash([{keys}], {n})")
            }
        }
    }
}

/// What an operator requires of how its input is partitioned.
#[derive(Debug, Clone)]
pub enum Distribution {
    /// Anything.
    Unspecified,
    /// All rows in one partition.
    SinglePartition,
    /// Rows with equal keys in the same partition.
    HashPartitioned(Vec<PhysicalExprRef>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physical_expr::column::ColumnExpr;

    fn c(name: &str, i: usize) -> PhysicalExprRef {
        Arc::new(ColumnExpr::new(name, i, DataType::Int64, true))
    }

    #[test]
    fn hash_on_a_subset_of_the_keys_satisfies() {
        let p = Partitioning::Hash(vec![c("k", 0)], 4);
        let keys = vec![c("v", 1), c("k", 0)];
        assert_eq!(p.hash_key_positions(&keys), Some(vec![1]));
        assert!(p.satisfies(&Distribution::HashPartitioned(keys)));
        assert!(!p.satisfies(&Distribution::HashPartitioned(vec![c("v", 1)])));
        assert!(
            Partitioning::Unknown(1).satisfies(&Distribution::HashPartitioned(vec![c("v", 1)]))
        );
        assert!(
            !Partitioning::Unknown(2).satisfies(&Distribution::HashPartitioned(vec![c("v", 1)]))
        );
    }

    #[test]
    fn co_partitioning_needs_the_same_key_positions_and_counts() {
        let left_keys = vec![c("a", 0), c("b", 1)];
        let right_keys = vec![c("x", 0), c("y", 1)];
        let l = Partitioning::Hash(vec![c("a", 0)], 4);
        let r = Partitioning::Hash(vec![c("x", 0)], 4);
        assert!(co_partitioned(&[(l.clone(), &left_keys), (r, &right_keys)]));
        let r_other_key = Partitioning::Hash(vec![c("y", 1)], 4);
        assert!(!co_partitioned(&[
            (l.clone(), &left_keys),
            (r_other_key, &right_keys)
        ]));
        let r_other_count = Partitioning::Hash(vec![c("x", 0)], 8);
        assert!(!co_partitioned(&[
            (l, &left_keys),
            (r_other_count, &right_keys)
        ]));
    }

    #[test]
    fn an_equivalent_key_matches_any_of_its_columns() {
        let key = EquivalentKey::key(vec![c("k", 0), c("k", 3)]).unwrap();
        assert_eq!(key.to_string(), "k@0 = k@3");
        let p = Partitioning::Hash(vec![key], 2);
        assert_eq!(p.hash_key_positions(&[c("z", 5), c("k", 3)]), Some(vec![1]));
        assert_eq!(p.hash_key_positions(&[c("k", 0)]), Some(vec![0]));
        assert_eq!(p.hash_key_positions(&[c("k", 1)]), None);
        // one column is just that column
        assert_eq!(
            EquivalentKey::key(vec![c("k", 0)]).unwrap().to_string(),
            "k@0"
        );
        assert!(EquivalentKey::key(vec![]).is_none());
    }
}
