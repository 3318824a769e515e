//! `COPY (query) TO 'path' [WITH] (option value, ...)` and `COPY table [(columns)] TO ...`:
//! parsing (sqlparser's COPY knows only PostgreSQL's options) and binding to a plan whose rows
//! the session writes. Options follow DuckDB: `FORMAT parquet|csv`, `COMPRESSION zstd`,
//! `PARTITION_BY (a, b)`, `ROW_GROUP_SIZE n`, `MAX_FILE_ROWS n`, `HEADER`, `DELIMITER '|'`,
//! `OVERWRITE`, ...; an option without a value is a flag set to true.

use sqlparser::ast::{self, Ident, ObjectName};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::error::{Error, ErrorKind, Result};
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::Expr;
use crate::logical::plan::LogicalPlan;
use crate::sql::planner::SqlPlanner;
use crate::sql::scope::normalize_ident;

/// What `COPY` reads.
#[derive(Debug, Clone)]
pub enum CopySource {
    /// `COPY (query) TO ...`.
    Query(Box<ast::Query>),
    /// `COPY table [(columns)] TO ...`.
    Table {
        /// The table.
        name: ObjectName,
        /// Columns to write (empty: all).
        columns: Vec<Ident>,
    },
}

/// A parsed `COPY ... TO` statement.
#[derive(Debug, Clone)]
pub struct CopyStatement {
    /// The rows to write.
    pub source: CopySource,
    /// Where to.
    pub target: String,
    /// Options: lower-case name and its values (none for a flag, several for a list).
    pub options: Vec<(String, Vec<String>)>,
}

fn syntax(msg: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::SqlSyntax,
        format!("syntax error: {}", msg.into()),
    )
}

/// Whether the next tokens start a `COPY` statement.
pub fn is_copy(parser: &Parser) -> bool {
    matches!(parser.peek_token().token, Token::Word(w) if w.keyword == Keyword::COPY)
}

/// Parses `COPY ... TO 'target' [WITH] [(options)]`.
pub fn parse_copy(p: &mut Parser) -> Result<CopyStatement> {
    p.expect_keyword(Keyword::COPY)?;
    let source = if p.consume_token(&Token::LParen) {
        let q = p.parse_query()?;
        p.expect_token(&Token::RParen)?;
        CopySource::Query(q)
    } else {
        let name = p.parse_object_name(false)?;
        let columns = if p.consume_token(&Token::LParen) {
            let cols = p.parse_comma_separated(|p| p.parse_identifier())?;
            p.expect_token(&Token::RParen)?;
            cols
        } else {
            vec![]
        };
        CopySource::Table { name, columns }
    };
    if p.parse_keyword(Keyword::FROM) {
        return Err(Error::not_implemented(
            "COPY ... FROM is not supported; use INSERT INTO t SELECT * FROM 'file'",
        ));
    }
    p.expect_keyword(Keyword::TO)?;
    let target = p.parse_literal_string()?;
    let _ = p.parse_keyword(Keyword::WITH);
    let mut options = vec![];
    if p.consume_token(&Token::LParen) {
        loop {
            let key = match p.next_token().token {
                Token::Word(w) => w.value.to_lowercase(),
                Token::SingleQuotedString(s) => s.to_lowercase(),
                other => return Err(syntax(format!("expected a COPY option, found {other}"))),
            };
            let _ = p.consume_token(&Token::Eq);
            let mut values = vec![];
            match p.peek_token().token {
                Token::Comma | Token::RParen => {}
                Token::LParen => {
                    p.next_token();
                    loop {
                        values.push(option_value(p, &key)?);
                        if !p.consume_token(&Token::Comma) {
                            break;
                        }
                    }
                    p.expect_token(&Token::RParen)?;
                }
                _ => values.push(option_value(p, &key)?),
            }
            options.push((key, values));
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    }
    Ok(CopyStatement {
        source,
        target,
        options,
    })
}

fn option_value(p: &mut Parser, key: &str) -> Result<String> {
    Ok(match p.next_token().token {
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s,
        Token::Word(w) => w.value,
        Token::Number(n, _) => n,
        Token::Minus => match p.next_token().token {
            Token::Number(n, _) => format!("-{n}"),
            other => return Err(syntax(format!("expected a number, found {other}"))),
        },
        other => {
            return Err(syntax(format!(
                "expected a value for COPY option {key}, found {other}"
            )));
        }
    })
}

impl SqlPlanner<'_> {
    /// Binds the rows a `COPY` writes.
    pub fn plan_copy_source(&self, source: &CopySource) -> Result<LogicalPlan> {
        match source {
            CopySource::Query(q) => self.plan_query(q, None),
            CopySource::Table { name, columns } => {
                let table = name.to_string();
                let query = format!("SELECT * FROM {table}");
                let stmts = crate::sql::parse_sql(&query)?;
                let Some(crate::sql::FlintStatement::Sql(st)) = stmts.first() else {
                    return Err(Error::internal("COPY table did not parse"));
                };
                let ast::Statement::Query(q) = st.as_ref() else {
                    return Err(Error::internal("COPY table is not a query"));
                };
                let plan = self.plan_query(q, None)?;
                if columns.is_empty() {
                    return Ok(plan);
                }
                let schema = plan.schema().clone();
                let exprs = columns
                    .iter()
                    .map(|c| {
                        let n = normalize_ident(c);
                        (0..schema.len())
                            .find(|i| schema.field(*i).name() == &n)
                            .map(|i| Expr::Column(schema.column(i)))
                            .ok_or_else(|| {
                                Error::not_found(format!(
                                    "column \"{n}\" of table \"{table}\" does not exist"
                                ))
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::sql::{FlintStatement, parse_sql};

    #[test]
    fn parses_queries_tables_and_options() {
        let s = parse_sql(
            "COPY (SELECT 1 AS a) TO 's3://b/out/' (FORMAT parquet, COMPRESSION 'zstd', \
             PARTITION_BY (a, b), ROW_GROUP_SIZE 1000, HEADER, OVERWRITE true)",
        )
        .unwrap();
        let FlintStatement::Copy(c) = &s[0] else {
            panic!("not a COPY: {s:?}")
        };
        assert_eq!(c.target, "s3://b/out/");
        assert_eq!(
            c.options[2],
            ("partition_by".into(), vec!["a".into(), "b".into()])
        );
        assert_eq!(c.options[4], ("header".into(), vec![]));
        let s = parse_sql("COPY t (x, y) TO 'x.csv' WITH (DELIMITER '|')").unwrap();
        assert!(matches!(&s[0], FlintStatement::Copy(_)));
        assert!(parse_sql("COPY t TO").is_err());
        assert!(parse_sql("COPY t FROM 'x.csv'").is_err());
    }
}
