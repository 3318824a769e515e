//! How an operator's output is split into partitions (`Partitioning`) and what
//! an operator needs of its input (`Distribution`); `satisfies` decides whether
//! an exchange must be inserted between them.

use std::fmt;

use crate::physical_expr::PhysicalExprRef;

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
                Partitioning::Hash(exprs, _) => same_exprs(exprs, keys),
                Partitioning::Unknown(n) => *n == 1,
            },
        }
    }
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
