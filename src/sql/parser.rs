//! Parsing SQL text into statements: sqlparser's generic dialect, plus
//! flint's own forms that sqlparser does not know
//! (`CREATE EXTERNAL TABLE ... STORED AS CSV|PARQUET LOCATION ... OPTIONS (...)`).

use sqlparser::ast::{ColumnDef, ObjectName, Statement};
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::error::{Error, Result, SqlSpan};

/// A parsed statement.
#[derive(Debug, Clone)]
pub enum FlintStatement {
    /// A statement sqlparser understands.
    Sql(Box<Statement>),
    /// `CREATE EXTERNAL TABLE`.
    CreateExternalTable(CreateExternalTable),
    /// `COPY ... TO`.
    Copy(crate::sql::copy::CopyStatement),
}

/// `CREATE [OR REPLACE] EXTERNAL TABLE [IF NOT EXISTS] name [(columns)] STORED AS fmt LOCATION 'path' [OPTIONS (k 'v', ...)]`.
#[derive(Debug, Clone)]
pub struct CreateExternalTable {
    /// Table name.
    pub name: ObjectName,
    /// Declared columns (empty: infer from the files).
    pub columns: Vec<ColumnDef>,
    /// `PARQUET` or `CSV`.
    pub format: String,
    /// Where the files are.
    pub location: String,
    /// `OPTIONS (...)` as lower-case keys and values.
    pub options: Vec<(String, String)>,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
}

/// Parses one or more `;`-separated statements. Errors without a position (at the end of the
/// input) point after the last character.
pub fn parse_sql(sql: &str) -> Result<Vec<FlintStatement>> {
    parse_statements(sql).map_err(|e| {
        if e.span().is_some() || e.kind() != crate::error::ErrorKind::SqlSyntax {
            return e;
        }
        let line = sql.trim_end().lines().count().max(1) as u64;
        let column = sql
            .trim_end()
            .lines()
            .last()
            .map(|l| l.chars().count() + 1)
            .unwrap_or(1) as u64;
        e.with_span(Some(SqlSpan {
            line,
            column,
            end_line: line,
            end_column: column,
        }))
    })
}

fn parse_statements(sql: &str) -> Result<Vec<FlintStatement>> {
    let dialect = GenericDialect {};
    // trailing commas (`SELECT a, b, FROM t`, `VALUES (1), (2),`) are accepted, as DuckDB does
    let cleaned = strip_trailing_commas(sql);
    let mut parser = Parser::new(&dialect).try_with_sql(&cleaned)?;
    let mut out = vec![];
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token().token == Token::EOF {
            break;
        }
        if crate::sql::copy::is_copy(&parser) {
            out.push(FlintStatement::Copy(crate::sql::copy::parse_copy(
                &mut parser,
            )?));
        } else if is_create_external(&parser) {
            out.push(FlintStatement::CreateExternalTable(parse_create_external(
                &mut parser,
            )?));
        } else if crate::sql::cache::is_bare_cache_table(&parser) {
            out.push(FlintStatement::Sql(Box::new(
                crate::sql::cache::parse_bare_cache_table(&mut parser)?,
            )));
        } else if let Some(n) = parenthesized_insert_source(&parser) {
            out.push(FlintStatement::Sql(Box::new(parse_parenthesized_insert(
                &mut parser,
                n,
            )?)));
        } else {
            out.push(FlintStatement::Sql(Box::new(parser.parse_statement()?)));
        }
        let next = parser.peek_token();
        if next.token != Token::EOF && next.token != Token::SemiColon {
            let span = SqlSpan::from_parser(next.span);
            return Err(Error::new(
                crate::error::ErrorKind::SqlSyntax,
                format!(
                    "syntax error: expected end of statement, found {}",
                    next.token
                ),
            )
            .with_span(span));
        }
    }
    Ok(out)
}

/// Blanks out commas that end a list: followed by `)` or by `FROM`. Positions of everything else
/// stay the same, so error locations still point into the original text.
fn strip_trailing_commas(sql: &str) -> std::borrow::Cow<'_, str> {
    use sqlparser::tokenizer::{Location, Tokenizer};
    if !sql.contains(',') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let dialect = GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize_with_location() else {
        return std::borrow::Cow::Borrowed(sql);
    };
    let significant: Vec<&sqlparser::tokenizer::TokenWithSpan> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let mut blank: Vec<Location> = vec![];
    for w in significant.windows(2) {
        let ends_list = match &w[1].token {
            Token::RParen => true,
            Token::Word(word) => word.keyword == Keyword::FROM,
            _ => false,
        };
        if w[0].token == Token::Comma && ends_list {
            blank.push(w[0].span.start);
        }
    }
    if blank.is_empty() {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    for (line_no, line) in sql.split_inclusive('\n').enumerate() {
        for (col_no, ch) in line.chars().enumerate() {
            let here = Location::new(line_no as u64 + 1, col_no as u64 + 1);
            if ch == ',' && blank.contains(&here) {
                out.push(' ');
            } else {
                out.push(ch);
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_create_external(parser: &Parser) -> bool {
    let t = |i: usize| parser.peek_nth_token(i).token;
    let kw = |tok: Token, k: Keyword| matches!(tok, Token::Word(w) if w.keyword == k);
    kw(t(0), Keyword::CREATE)
        && (kw(t(1), Keyword::EXTERNAL)
            || (kw(t(1), Keyword::OR) && kw(t(2), Keyword::REPLACE) && kw(t(3), Keyword::EXTERNAL)))
}

/// `INSERT INTO t (VALUES ...)` / `INSERT INTO t (SELECT ...)`: a parenthesized query as the
/// source (sqlparser reads the parenthesis as a column list). Returns how many tokens the
/// table name takes.
fn parenthesized_insert_source(parser: &Parser) -> Option<usize> {
    let t = |i: usize| parser.peek_nth_token(i).token;
    let kw = |tok: Token, k: Keyword| matches!(tok, Token::Word(w) if w.keyword == k);
    if !(kw(t(0), Keyword::INSERT) && kw(t(1), Keyword::INTO)) {
        return None;
    }
    // name: word (. word)*
    let mut i = 2;
    if !matches!(t(i), Token::Word(_)) {
        return None;
    }
    i += 1;
    while t(i) == Token::Period && matches!(t(i + 1), Token::Word(_)) {
        i += 2;
    }
    let opens_query = t(i) == Token::LParen
        && (kw(t(i + 1), Keyword::VALUES)
            || kw(t(i + 1), Keyword::SELECT)
            || kw(t(i + 1), Keyword::WITH));
    opens_query.then_some(i - 2)
}

fn parse_parenthesized_insert(p: &mut Parser, _name_tokens: usize) -> Result<Statement> {
    p.expect_keywords(&[Keyword::INSERT, Keyword::INTO])?;
    let name = p.parse_object_name(false)?;
    p.expect_token(&Token::LParen)?;
    let query = p.parse_query()?;
    p.expect_token(&Token::RParen)?;
    let text = format!("INSERT INTO {name} {query}");
    let mut stmts = Parser::parse_sql(&GenericDialect {}, &text)?;
    stmts
        .pop()
        .ok_or_else(|| Error::internal("INSERT rewrite produced no statement"))
}

fn parse_create_external(p: &mut Parser) -> Result<CreateExternalTable> {
    p.expect_keyword(Keyword::CREATE)?;
    let or_replace = p.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    p.expect_keywords(&[Keyword::EXTERNAL, Keyword::TABLE])?;
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = p.parse_object_name(false)?;
    let columns = if p.peek_token().token == Token::LParen {
        p.parse_columns()?.0
    } else {
        vec![]
    };
    let mut format = None;
    let mut location = None;
    let mut options = vec![];
    loop {
        if p.parse_keywords(&[Keyword::STORED, Keyword::AS]) {
            format = Some(p.parse_identifier()?.value.to_uppercase());
        } else if p.parse_keyword(Keyword::LOCATION) {
            location = Some(p.parse_literal_string()?);
        } else if p.parse_keyword(Keyword::OPTIONS) {
            p.expect_token(&Token::LParen)?;
            loop {
                let key = match p.next_token().token {
                    Token::Word(w) => w.value,
                    Token::SingleQuotedString(s) => s,
                    other => {
                        return Err(Error::new(
                            crate::error::ErrorKind::SqlSyntax,
                            format!("syntax error: expected an option name, found {other}"),
                        ));
                    }
                };
                let _ = p.consume_token(&Token::Eq);
                let value = match p.next_token().token {
                    Token::SingleQuotedString(s) => s,
                    Token::Word(w) => w.value,
                    Token::Number(n, _) => n,
                    other => {
                        return Err(Error::new(
                            crate::error::ErrorKind::SqlSyntax,
                            format!(
                                "syntax error: expected a value for option {key}, found {other}"
                            ),
                        ));
                    }
                };
                options.push((key.to_lowercase(), value));
                if !p.consume_token(&Token::Comma) {
                    break;
                }
            }
            p.expect_token(&Token::RParen)?;
        } else if p.parse_keywords(&[Keyword::WITH, Keyword::HEADER, Keyword::ROW]) {
            options.push(("header".into(), "true".into()));
        } else if p.parse_keyword(Keyword::DELIMITER) {
            options.push(("delimiter".into(), p.parse_literal_string()?));
        } else {
            break;
        }
    }
    let format = format.ok_or_else(|| {
        Error::plan("CREATE EXTERNAL TABLE needs STORED AS PARQUET or STORED AS CSV")
    })?;
    let location =
        location.ok_or_else(|| Error::plan("CREATE EXTERNAL TABLE needs LOCATION 'path'"))?;
    Ok(CreateExternalTable {
        name,
        columns,
        format,
        location,
        options,
        or_replace,
        if_not_exists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_external_table_and_regular_statements() {
        let s = parse_sql(
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION 'x.csv' OPTIONS (header 'true', delimiter '|'); SELECT 1;",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        match &s[0] {
            FlintStatement::CreateExternalTable(c) => {
                assert_eq!(c.format, "CSV");
                assert_eq!(c.location, "x.csv");
                assert_eq!(c.options.len(), 2);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn trailing_commas_are_accepted() {
        assert_eq!(
            strip_trailing_commas("SELECT a, b, FROM t"),
            "SELECT a, b  FROM t"
        );
        assert_eq!(
            strip_trailing_commas("VALUES (1, 2,),\n(3,)"),
            "VALUES (1, 2 ),\n(3 )"
        );
        assert!(parse_sql("SELECT 1, FROM (VALUES (1),) v(x)").is_ok());
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_sql("SELECT 1 +\n  * FROM t").unwrap_err();
        assert!(e.span().is_some(), "{e}");
    }
}
