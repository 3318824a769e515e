//! Name resolution: which column an identifier means. A scope is the schema of
//! the current FROM clause, the columns merged by `USING`, and the enclosing
//! query's scope (references to it become correlated outer references).

use std::sync::Arc;

use sqlparser::ast::Ident;

use crate::error::{Error, Result, SqlSpan};
use crate::logical::expr::{BinaryOp, Expr};
use crate::logical::plan::JoinType;
use crate::logical::schema::{Column, PlanSchema, PlanSchemaRef};

/// A column merged by `JOIN ... USING (name)`.
#[derive(Debug, Clone)]
pub struct UsingColumn {
    /// The column name.
    pub name: String,
    /// Left side's column.
    pub left: Column,
    /// Right side's column.
    pub right: Column,
    /// The join's type (FULL joins merge with COALESCE).
    pub join_type: JoinType,
}

impl UsingColumn {
    /// The expression an unqualified reference to the merged column means.
    pub fn merged(&self) -> Expr {
        match self.join_type {
            JoinType::Right => Expr::Column(self.right.clone()),
            JoinType::Full => Expr::Case {
                operand: None,
                when_then: vec![(
                    Expr::IsNotNull(Box::new(Expr::Column(self.left.clone()))),
                    Expr::Column(self.left.clone()),
                )],
                else_expr: Some(Box::new(Expr::Column(self.right.clone()))),
            },
            _ => Expr::Column(self.left.clone()),
        }
    }
}

/// What identifiers can refer to at some point of a query.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    /// Columns of the current input.
    pub schema: PlanSchemaRef,
    /// Columns merged by USING joins.
    pub using: Vec<UsingColumn>,
    /// The enclosing query, for correlated references.
    pub parent: Option<&'a Scope<'a>>,
}

/// Normalizes an identifier: unquoted names are case-insensitive (lower case).
pub fn normalize_ident(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

impl<'a> Scope<'a> {
    /// A scope over `schema` with no enclosing query.
    pub fn new(schema: PlanSchemaRef) -> Scope<'static> {
        Scope {
            schema,
            using: vec![],
            parent: None,
        }
    }

    /// A scope with no columns (e.g. `SELECT 1`), nested in `parent`.
    pub fn empty(parent: Option<&'a Scope<'a>>) -> Scope<'a> {
        Scope {
            schema: Arc::new(PlanSchema::empty()),
            using: vec![],
            parent,
        }
    }

    /// A child scope over `schema` whose parent is `self`.
    pub fn child<'b>(&'b self, schema: PlanSchemaRef, using: Vec<UsingColumn>) -> Scope<'b> {
        Scope {
            schema,
            using,
            parent: Some(self),
        }
    }

    /// Resolves `[qualifier.]name` to a column of this scope or an outer reference.
    pub fn resolve(&self, parts: &[Ident]) -> Result<Expr> {
        let span = parts.first().and_then(|p| SqlSpan::from_parser(p.span));
        let (relation, name) = match parts {
            [n] => (None, normalize_ident(n)),
            [.., t, n] => (Some(normalize_ident(t)), normalize_ident(n)),
            [] => return Err(Error::internal("empty identifier")),
        };
        let col = Column {
            relation: relation.clone().map(Arc::from),
            name,
        };
        match self.resolve_local(&col) {
            Ok(Some(e)) => return Ok(e),
            Ok(None) => {}
            Err(e) => return Err(e.with_span(span)),
        }
        let mut outer = self.parent;
        while let Some(s) = outer {
            if let Ok(Some(e)) = s.resolve_local(&col) {
                return Ok(match e {
                    Expr::Column(c) => {
                        let i = s.schema.index_of(&c)?;
                        Expr::OuterColumn(c, s.schema.data_type(i).clone())
                    }
                    // merged USING columns and deeper outer references are kept as they are
                    other => other,
                });
            }
            outer = s.parent;
        }
        Err(self.schema.column_not_found(&col).with_span(span))
    }

    /// Resolves in this scope only: `Ok(None)` when absent.
    fn resolve_local(&self, col: &Column) -> Result<Option<Expr>> {
        if col.relation.is_none()
            && let Some(u) = self.using.iter().find(|u| u.name == col.name)
        {
            return Ok(Some(u.merged()));
        }
        match self.schema.find(col) {
            Ok(Some(i)) => Ok(Some(Expr::Column(self.schema.column(i)))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `a = b` for two columns.
pub fn col_eq(a: Column, b: Column) -> Expr {
    Expr::binary(Expr::Column(a), BinaryOp::Eq, Expr::Column(b))
}
