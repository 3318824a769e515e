//! Schemas of logical plan nodes: Arrow fields plus the table qualifier each
//! column is known by (`t.a`), and name resolution with helpful errors.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};

use crate::error::{Error, Result, closest_name};

/// A reference to a column by optional qualifier and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Column {
    /// The table or alias the column belongs to, if given.
    pub relation: Option<Arc<str>>,
    /// The column name.
    pub name: String,
}

impl Column {
    /// A column with optional qualifier.
    pub fn new(relation: Option<impl Into<Arc<str>>>, name: impl Into<String>) -> Self {
        Column {
            relation: relation.map(Into::into),
            name: name.into(),
        }
    }
    /// An unqualified column.
    pub fn bare(name: impl Into<String>) -> Self {
        Column {
            relation: None,
            name: name.into(),
        }
    }
    /// The name as `qualifier.name` or `name`.
    pub fn flat_name(&self) -> String {
        match &self.relation {
            Some(r) => format!("{r}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.flat_name())
    }
}

/// The schema of a logical plan node: an Arrow schema plus a qualifier per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSchema {
    schema: SchemaRef,
    qualifiers: Vec<Option<Arc<str>>>,
}

/// A shared [`PlanSchema`].
pub type PlanSchemaRef = Arc<PlanSchema>;

impl PlanSchema {
    /// A schema with no columns.
    pub fn empty() -> Self {
        PlanSchema {
            schema: Arc::new(Schema::empty()),
            qualifiers: vec![],
        }
    }

    /// Builds a schema from `(qualifier, field)` pairs.
    pub fn new(fields: Vec<(Option<Arc<str>>, FieldRef)>) -> Self {
        let (qualifiers, fields): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
        PlanSchema {
            schema: Arc::new(Schema::new(fields)),
            qualifiers,
        }
    }

    /// Qualifies every field of an Arrow schema with `qualifier`.
    pub fn from_arrow(qualifier: Option<&str>, schema: &Schema) -> Self {
        let q: Option<Arc<str>> = qualifier.map(Arc::from);
        PlanSchema {
            schema: Arc::new(Schema::new_with_metadata(
                schema.fields().clone(),
                schema.metadata().clone(),
            )),
            qualifiers: vec![q; schema.fields().len()],
        }
    }

    /// The same fields, all requalified with `qualifier`.
    pub fn requalify(&self, qualifier: Option<&str>) -> Self {
        let q: Option<Arc<str>> = qualifier.map(Arc::from);
        PlanSchema {
            schema: self.schema.clone(),
            qualifiers: vec![q; self.len()],
        }
    }

    /// Concatenates two schemas (as a join does).
    pub fn join(&self, other: &PlanSchema) -> Self {
        let fields = self
            .iter()
            .chain(other.iter())
            .map(|(q, f)| (q.cloned(), f.clone()))
            .collect();
        PlanSchema::new(fields)
    }

    /// The Arrow schema (qualifiers dropped).
    pub fn arrow_schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.qualifiers.len()
    }

    /// Whether the schema has no columns.
    pub fn is_empty(&self) -> bool {
        self.qualifiers.is_empty()
    }

    /// The field at `i`.
    pub fn field(&self, i: usize) -> &FieldRef {
        &self.schema.fields()[i]
    }

    /// The qualifier at `i`.
    pub fn qualifier(&self, i: usize) -> Option<&Arc<str>> {
        self.qualifiers[i].as_ref()
    }

    /// The column reference that names field `i`.
    pub fn column(&self, i: usize) -> Column {
        Column {
            relation: self.qualifiers[i].clone(),
            name: self.field(i).name().clone(),
        }
    }

    /// All columns in order.
    pub fn columns(&self) -> Vec<Column> {
        (0..self.len()).map(|i| self.column(i)).collect()
    }

    /// Iterates `(qualifier, field)`.
    pub fn iter(&self) -> impl Iterator<Item = (Option<&Arc<str>>, &FieldRef)> {
        self.qualifiers
            .iter()
            .map(|q| q.as_ref())
            .zip(self.schema.fields().iter())
    }

    /// Finds a column; `Ok(None)` when absent, an error when ambiguous.
    pub fn find(&self, col: &Column) -> Result<Option<usize>> {
        let mut found: Option<usize> = None;
        for (i, (q, f)) in self.iter().enumerate() {
            let name_match = f.name() == &col.name;
            let q_match = match (&col.relation, q) {
                (None, _) => true,
                (Some(want), Some(have)) => want.as_ref() == have.as_ref(),
                (Some(_), None) => false,
            };
            if name_match && q_match {
                if let Some(prev) = found {
                    // An unqualified reference to two differently-qualified columns is ambiguous;
                    // two identical references (same qualifier) are too.
                    let _ = prev;
                    return Err(Error::plan(format!(
                        "column reference \"{}\" is ambiguous",
                        col.flat_name()
                    )));
                }
                found = Some(i);
            }
        }
        Ok(found)
    }

    /// Finds a column or fails with an error naming it and suggesting a close name.
    pub fn index_of(&self, col: &Column) -> Result<usize> {
        match self.find(col)? {
            Some(i) => Ok(i),
            None => Err(self.column_not_found(col)),
        }
    }

    /// The "column not found" error for `col`, listing a close name or the available columns.
    pub fn column_not_found(&self, col: &Column) -> Error {
        let names: Vec<String> = (0..self.len())
            .map(|i| self.column(i).flat_name())
            .collect();
        let bare: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let mut msg = format!("column \"{}\" not found", col.flat_name());
        if let Some(close) = closest_name(&col.name, bare.iter().copied()) {
            msg.push_str(&format!("; did you mean \"{close}\"?"));
        }
        if !names.is_empty() && names.len() <= 30 {
            msg.push_str(&format!(" (available columns: {})", names.join(", ")));
        }
        Error::not_found(msg)
    }

    /// Whether `col` resolves in this schema.
    pub fn has_column(&self, col: &Column) -> bool {
        matches!(self.find(col), Ok(Some(_)))
    }

    /// Data type of field `i`.
    pub fn data_type(&self, i: usize) -> &DataType {
        self.field(i).data_type()
    }

    /// Returns a copy with field `i` replaced (used when a projection renames).
    pub fn with_fields(fields: Vec<(Option<Arc<str>>, Field)>) -> Self {
        PlanSchema::new(fields.into_iter().map(|(q, f)| (q, Arc::new(f))).collect())
    }
}

impl fmt::Display for PlanSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = (0..self.len())
            .map(|i| format!("{}:{}", self.column(i).flat_name(), self.data_type(i)))
            .collect();
        write!(f, "[{}]", parts.join(", "))
    }
}
