//! `LogicalPlan`: what a query computes, as a tree of relational operators.
//!
//! Each node is a struct whose `try_new` checks its expressions against its
//! input and computes its output schema, so a plan that exists is well-typed.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;

use crate::catalog::TableProvider;
use crate::error::{Error, Result};
use crate::logical::expr::{Expr, SortExpr};
pub use crate::logical::join::{Join, JoinType, join_schema};
pub use crate::logical::map_partitions::{MapPartitions, PartitionFn, Sample};
use crate::logical::recursive::RecursiveQuery;
use crate::logical::schema::{PlanSchema, PlanSchemaRef};
pub use crate::logical::unnest::Unnest;

/// Computes expressions over each input row.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Output expressions (aliased where named).
    pub exprs: Vec<Expr>,
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// Output schema.
    pub schema: PlanSchemaRef,
}

impl Projection {
    /// Builds and types a projection.
    pub fn try_new(exprs: Vec<Expr>, input: Arc<LogicalPlan>) -> Result<Self> {
        let in_schema = input.schema();
        let fields = exprs
            .iter()
            .map(|e| e.to_field(in_schema).map(|(q, f)| (q, Arc::new(f))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Projection {
            exprs,
            input,
            schema: Arc::new(PlanSchema::new(fields)),
        })
    }
}

/// Keeps the rows where a predicate is true.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Boolean predicate.
    pub predicate: Expr,
    /// Input.
    pub input: Arc<LogicalPlan>,
}

impl Filter {
    /// Builds a filter, checking the predicate is boolean.
    pub fn try_new(predicate: Expr, input: Arc<LogicalPlan>) -> Result<Self> {
        let t = predicate.data_type(input.schema())?;
        if t != DataType::Boolean && t != DataType::Null {
            return Err(Error::type_mismatch(format!(
                "filter predicate must be boolean, got {}",
                crate::logical::types::sql_type_name(&t)
            )));
        }
        Ok(Filter { predicate, input })
    }
}

/// Groups rows and computes aggregates: output is group keys, then aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// GROUP BY expressions.
    pub group_exprs: Vec<Expr>,
    /// Aggregate calls (possibly aliased).
    pub aggr_exprs: Vec<Expr>,
    /// Output schema.
    pub schema: PlanSchemaRef,
}

impl Aggregate {
    /// Builds and types an aggregation.
    pub fn try_new(
        input: Arc<LogicalPlan>,
        group_exprs: Vec<Expr>,
        aggr_exprs: Vec<Expr>,
    ) -> Result<Self> {
        let in_schema = input.schema();
        let mut fields = vec![];
        for e in &group_exprs {
            let (q, f) = e.to_field(in_schema)?;
            // a global aggregate over no rows still produces a row; grouped keys keep nullability
            fields.push((q, Arc::new(f)));
        }
        for e in &aggr_exprs {
            if !matches!(e.unaliased(), Expr::Aggregate(_)) {
                return Err(Error::internal(format!("not an aggregate call: {e}")));
            }
            let (_, f) = e.to_field(in_schema)?;
            fields.push((None, Arc::new(f)));
        }
        Ok(Aggregate {
            input,
            group_exprs,
            aggr_exprs,
            schema: Arc::new(PlanSchema::new(fields)),
        })
    }
}

/// Computes window functions: output is the input columns followed by one column per window expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// Window calls (possibly aliased).
    pub window_exprs: Vec<Expr>,
    /// Output schema.
    pub schema: PlanSchemaRef,
}

impl Window {
    /// Builds and types a window node.
    pub fn try_new(input: Arc<LogicalPlan>, window_exprs: Vec<Expr>) -> Result<Self> {
        let in_schema = input.schema();
        let mut fields: Vec<_> = in_schema
            .iter()
            .map(|(q, f)| (q.cloned(), f.clone()))
            .collect();
        for e in &window_exprs {
            let (_, f) = e.to_field(in_schema)?;
            fields.push((None, Arc::new(f)));
        }
        Ok(Window {
            input,
            window_exprs,
            schema: Arc::new(PlanSchema::new(fields)),
        })
    }
}

/// Orders rows; with `fetch`, keeps only the first rows (top-k).
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    /// Sort keys.
    pub exprs: Vec<SortExpr>,
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// Keep only this many rows.
    pub fetch: Option<usize>,
}

/// Skips and limits rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Rows to skip.
    pub skip: usize,
    /// Rows to keep after skipping (`None`: all).
    pub fetch: Option<usize>,
    /// Input.
    pub input: Arc<LogicalPlan>,
}

/// Concatenates inputs with the same column types (UNION ALL).
#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    /// Inputs.
    pub inputs: Vec<Arc<LogicalPlan>>,
    /// Output schema (names of the first input).
    pub schema: PlanSchemaRef,
}

/// Renames the relation (and optionally the columns, by position) of its input.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryAlias {
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// New qualifier.
    pub alias: String,
    /// New names of the first columns (`AS t(a, b)`), by position.
    pub columns: Vec<String>,
    /// Output schema.
    pub schema: PlanSchemaRef,
}

impl SubqueryAlias {
    /// Requalifies `input`'s columns with `alias`.
    pub fn try_new(input: Arc<LogicalPlan>, alias: impl Into<String>) -> Result<Self> {
        Self::try_new_with_columns(input, alias, vec![])
    }

    /// Requalifies with `alias` and renames the first columns to `columns`.
    pub fn try_new_with_columns(
        input: Arc<LogicalPlan>,
        alias: impl Into<String>,
        columns: Vec<String>,
    ) -> Result<Self> {
        let alias = alias.into();
        let in_schema = input.schema();
        if columns.len() > in_schema.len() {
            return Err(Error::plan(format!(
                "{} column names given for \"{alias}\", which has {} columns",
                columns.len(),
                in_schema.len()
            )));
        }
        let q: Option<Arc<str>> = Some(Arc::from(alias.as_str()));
        let fields = in_schema
            .iter()
            .enumerate()
            .map(|(i, (_, f))| {
                let f = match columns.get(i) {
                    Some(n) => Arc::new(f.as_ref().clone().with_name(n.clone())),
                    None => f.clone(),
                };
                (q.clone(), f)
            })
            .collect();
        Ok(SubqueryAlias {
            input,
            alias,
            columns,
            schema: Arc::new(PlanSchema::new(fields)),
        })
    }
}

/// Reads a table.
#[derive(Clone)]
pub struct TableScan {
    /// Name the table was referenced by.
    pub table_name: String,
    /// The table.
    pub source: Arc<dyn TableProvider>,
    /// Indices of the table's columns to read (`None`: all).
    pub projection: Option<Vec<usize>>,
    /// Predicates pushed to the scan (the scan may use them to skip data; they are also kept above).
    pub filters: Vec<Expr>,
    /// Stop after this many rows.
    pub fetch: Option<usize>,
    /// Output schema (projected, qualified by the table name).
    pub schema: PlanSchemaRef,
}

impl TableScan {
    /// A scan of `source` with an optional projection.
    pub fn try_new(
        table_name: impl Into<String>,
        source: Arc<dyn TableProvider>,
        projection: Option<Vec<usize>>,
    ) -> Result<Self> {
        let table_name = table_name.into();
        let full = source.schema();
        let schema = match &projection {
            Some(p) => {
                let fields = p
                    .iter()
                    .map(|i| {
                        full.fields()
                            .get(*i)
                            .cloned()
                            .map(|f| (Some(Arc::from(table_name.as_str())), f))
                            .ok_or_else(|| {
                                Error::internal(format!("projection index {i} out of range"))
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                PlanSchema::new(fields)
            }
            None => PlanSchema::from_arrow(Some(&table_name), &full),
        };
        Ok(TableScan {
            table_name,
            source,
            projection,
            filters: vec![],
            fetch: None,
            schema: Arc::new(schema),
        })
    }
}

impl PartialEq for TableScan {
    fn eq(&self, other: &Self) -> bool {
        self.table_name == other.table_name
            && Arc::ptr_eq(&self.source, &other.source)
            && self.projection == other.projection
            && self.filters == other.filters
            && self.fetch == other.fetch
    }
}

impl fmt::Debug for TableScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableScan")
            .field("table_name", &self.table_name)
            .field("projection", &self.projection)
            .field("filters", &self.filters)
            .field("fetch", &self.fetch)
            .finish()
    }
}

/// Literal rows (`VALUES (..), (..)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    /// Output schema.
    pub schema: PlanSchemaRef,
    /// Rows of expressions (constant, or referencing outer columns).
    pub rows: Vec<Vec<Expr>>,
}

/// No input rows, or exactly one row with no columns (`SELECT 1`).
#[derive(Debug, Clone, PartialEq)]
pub struct EmptyRelation {
    /// Produce one empty row?
    pub produce_one_row: bool,
    /// Output schema.
    pub schema: PlanSchemaRef,
}

/// How `Repartition` redistributes rows.
#[derive(Debug, Clone, PartialEq)]
pub enum RepartitionScheme {
    /// Rows dealt round-robin to `n` partitions.
    RoundRobin(usize),
    /// Rows sent to partition `hash(keys) % n`.
    Hash(Vec<Expr>, usize),
}

/// Redistributes rows across partitions (DataFrame `repartition`).
#[derive(Debug, Clone, PartialEq)]
pub struct Repartition {
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// The scheme.
    pub scheme: RepartitionScheme,
}

/// A relational operator tree.
#[derive(Debug, Clone, PartialEq)]
pub enum LogicalPlan {
    /// See [`Projection`].
    Projection(Projection),
    /// See [`Filter`].
    Filter(Filter),
    /// See [`Aggregate`].
    Aggregate(Aggregate),
    /// See [`Window`].
    Window(Window),
    /// See [`Sort`].
    Sort(Sort),
    /// See [`Limit`].
    Limit(Limit),
    /// See [`Join`].
    Join(Join),
    /// See [`Union`].
    Union(Union),
    /// See [`SubqueryAlias`].
    SubqueryAlias(SubqueryAlias),
    /// See [`TableScan`].
    TableScan(TableScan),
    /// See [`Values`].
    Values(Values),
    /// See [`EmptyRelation`].
    EmptyRelation(EmptyRelation),
    /// See [`Repartition`].
    Repartition(Repartition),
    /// See [`RecursiveQuery`].
    RecursiveQuery(RecursiveQuery),
    /// See [`Unnest`].
    Unnest(Unnest),
    /// See [`MapPartitions`].
    MapPartitions(MapPartitions),
    /// See [`Sample`].
    Sample(Sample),
}

impl LogicalPlan {
    /// The output schema.
    pub fn schema(&self) -> &PlanSchemaRef {
        match self {
            LogicalPlan::Projection(p) => &p.schema,
            LogicalPlan::Filter(f) => f.input.schema(),
            LogicalPlan::Aggregate(a) => &a.schema,
            LogicalPlan::Window(w) => &w.schema,
            LogicalPlan::Sort(s) => s.input.schema(),
            LogicalPlan::Limit(l) => l.input.schema(),
            LogicalPlan::Join(j) => &j.schema,
            LogicalPlan::Union(u) => &u.schema,
            LogicalPlan::SubqueryAlias(a) => &a.schema,
            LogicalPlan::TableScan(t) => &t.schema,
            LogicalPlan::Values(v) => &v.schema,
            LogicalPlan::EmptyRelation(e) => &e.schema,
            LogicalPlan::Repartition(r) => r.input.schema(),
            LogicalPlan::RecursiveQuery(r) => r.schema(),
            LogicalPlan::Unnest(u) => &u.schema,
            LogicalPlan::MapPartitions(m) => &m.schema,
            LogicalPlan::Sample(s) => s.input.schema(),
        }
    }

    /// The inputs of this node.
    pub fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        match self {
            LogicalPlan::Projection(p) => vec![&p.input],
            LogicalPlan::Filter(f) => vec![&f.input],
            LogicalPlan::Aggregate(a) => vec![&a.input],
            LogicalPlan::Window(w) => vec![&w.input],
            LogicalPlan::Sort(s) => vec![&s.input],
            LogicalPlan::Limit(l) => vec![&l.input],
            LogicalPlan::Join(j) => vec![&j.left, &j.right],
            LogicalPlan::Union(u) => u.inputs.iter().collect(),
            LogicalPlan::SubqueryAlias(a) => vec![&a.input],
            LogicalPlan::Repartition(r) => vec![&r.input],
            LogicalPlan::RecursiveQuery(r) => vec![&r.static_term, &r.recursive_term],
            LogicalPlan::Unnest(u) => vec![&u.input],
            LogicalPlan::MapPartitions(m) => vec![&m.input],
            LogicalPlan::Sample(s) => vec![&s.input],
            LogicalPlan::TableScan(_) | LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_) => {
                vec![]
            }
        }
    }

    /// The expressions this node evaluates (not those of its inputs).
    pub fn expressions(&self) -> Vec<&Expr> {
        match self {
            LogicalPlan::Projection(p) => p.exprs.iter().collect(),
            LogicalPlan::Filter(f) => vec![&f.predicate],
            LogicalPlan::Aggregate(a) => a.group_exprs.iter().chain(a.aggr_exprs.iter()).collect(),
            LogicalPlan::Window(w) => w.window_exprs.iter().collect(),
            LogicalPlan::Sort(s) => s.exprs.iter().map(|s| &s.expr).collect(),
            LogicalPlan::Join(j) => {
                let mut v: Vec<&Expr> = vec![];
                for (l, r) in &j.on {
                    v.push(l);
                    v.push(r);
                }
                if let Some(f) = &j.filter {
                    v.push(f);
                }
                v
            }
            LogicalPlan::Values(v) => v.rows.iter().flatten().collect(),
            LogicalPlan::Repartition(r) => match &r.scheme {
                RepartitionScheme::Hash(k, _) => k.iter().collect(),
                RepartitionScheme::RoundRobin(_) => vec![],
            },
            LogicalPlan::TableScan(t) => t.filters.iter().collect(),
            _ => vec![],
        }
    }

    /// Replaces the inputs (same number, same order), recomputing schemas where they derive from inputs.
    pub fn with_new_inputs(&self, inputs: Vec<Arc<LogicalPlan>>) -> Result<LogicalPlan> {
        let mut it = inputs.into_iter();
        let mut next = || {
            it.next()
                .ok_or_else(|| Error::internal("missing plan input"))
        };
        Ok(match self {
            LogicalPlan::Projection(p) => {
                LogicalPlan::Projection(Projection::try_new(p.exprs.clone(), next()?)?)
            }
            LogicalPlan::Filter(f) => LogicalPlan::Filter(Filter {
                predicate: f.predicate.clone(),
                input: next()?,
            }),
            LogicalPlan::Aggregate(a) => LogicalPlan::Aggregate(Aggregate::try_new(
                next()?,
                a.group_exprs.clone(),
                a.aggr_exprs.clone(),
            )?),
            LogicalPlan::Window(w) => {
                LogicalPlan::Window(Window::try_new(next()?, w.window_exprs.clone())?)
            }
            LogicalPlan::Sort(s) => LogicalPlan::Sort(Sort {
                exprs: s.exprs.clone(),
                input: next()?,
                fetch: s.fetch,
            }),
            LogicalPlan::Limit(l) => LogicalPlan::Limit(Limit {
                skip: l.skip,
                fetch: l.fetch,
                input: next()?,
            }),
            LogicalPlan::Join(j) => {
                let left = next()?;
                let right = next()?;
                let mut nj = Join::try_new(
                    left,
                    right,
                    j.on.clone(),
                    j.filter.clone(),
                    j.join_type,
                    j.null_equals_null,
                )?;
                nj.null_aware = j.null_aware;
                LogicalPlan::Join(nj)
            }
            LogicalPlan::Union(u) => {
                let inputs: Vec<_> = std::iter::from_fn(|| next().ok()).collect();
                LogicalPlan::Union(Union {
                    inputs,
                    schema: u.schema.clone(),
                })
            }
            LogicalPlan::SubqueryAlias(a) => LogicalPlan::SubqueryAlias(
                SubqueryAlias::try_new_with_columns(next()?, a.alias.clone(), a.columns.clone())?,
            ),
            LogicalPlan::Repartition(r) => LogicalPlan::Repartition(Repartition {
                input: next()?,
                scheme: r.scheme.clone(),
            }),
            LogicalPlan::RecursiveQuery(r) => LogicalPlan::RecursiveQuery(RecursiveQuery::try_new(
                r.name.clone(),
                next()?,
                next()?,
                r.work_table.clone(),
                r.distinct,
            )?),
            LogicalPlan::Unnest(u) => LogicalPlan::Unnest(Unnest::try_new(
                next()?,
                u.columns.clone(),
                u.preserve_nulls,
            )?),
            LogicalPlan::MapPartitions(m) => LogicalPlan::MapPartitions(MapPartitions {
                input: next()?,
                ..m.clone()
            }),
            LogicalPlan::Sample(s) => LogicalPlan::Sample(Sample {
                input: next()?,
                ..s.clone()
            }),
            leaf @ (LogicalPlan::TableScan(_)
            | LogicalPlan::Values(_)
            | LogicalPlan::EmptyRelation(_)) => leaf.clone(),
        })
    }

    /// A short name of the node kind.
    pub fn name(&self) -> &'static str {
        match self {
            LogicalPlan::Projection(_) => "Projection",
            LogicalPlan::Filter(_) => "Filter",
            LogicalPlan::Aggregate(_) => "Aggregate",
            LogicalPlan::Window(_) => "Window",
            LogicalPlan::Sort(_) => "Sort",
            LogicalPlan::Limit(_) => "Limit",
            LogicalPlan::Join(_) => "Join",
            LogicalPlan::Union(_) => "Union",
            LogicalPlan::SubqueryAlias(_) => "SubqueryAlias",
            LogicalPlan::TableScan(_) => "TableScan",
            LogicalPlan::Values(_) => "Values",
            LogicalPlan::EmptyRelation(_) => "EmptyRelation",
            LogicalPlan::Repartition(_) => "Repartition",
            LogicalPlan::RecursiveQuery(_) => "RecursiveQuery",
            LogicalPlan::Unnest(_) => "Unnest",
            LogicalPlan::MapPartitions(_) => "MapPartitions",
            LogicalPlan::Sample(_) => "Sample",
        }
    }

    /// Whether any expression anywhere in the plan (including nested subqueries) refers to an outer query.
    pub fn has_outer_references(&self) -> bool {
        fn expr_has(e: &Expr) -> bool {
            let mut found = false;
            e.any(&mut |x| {
                match x {
                    Expr::OuterColumn(..) => found = true,
                    Expr::ScalarSubquery(sq)
                    | Expr::Exists { subquery: sq, .. }
                    | Expr::InSubquery { subquery: sq, .. }
                        if sq.plan.has_outer_references() =>
                    {
                        found = true;
                    }
                    _ => {}
                }
                found
            });
            found
        }
        self.expressions().into_iter().any(expr_has)
            || self.inputs().iter().any(|i| i.has_outer_references())
    }
}
