//! Spark SQL's `CACHE TABLE name [OPTIONS (...)] [[AS] query]` and
//! `UNCACHE TABLE [IF EXISTS] name`, bound to [`StatementPlan::CacheTable`] and
//! [`StatementPlan::UncacheTable`]. The session runs them (`session/cache_table.rs`).

use sqlparser::ast::{self, ObjectName, SqlOption};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::error::{Error, Result};
use crate::sql::planner::SqlPlanner;
use crate::sql::statement::{StatementPlan, object_name};

/// The one storage level flint has (`OPTIONS ('storageLevel' = 'MEMORY_AND_DISK')`).
const STORAGE_LEVEL: &str = "MEMORY_AND_DISK";

impl SqlPlanner<'_> {
    /// Binds `CACHE [flag] TABLE name [OPTIONS (...)] [[AS] query]`.
    pub(crate) fn plan_cache_table(
        &self,
        table_flag: Option<&ObjectName>,
        table_name: &ObjectName,
        options: &[SqlOption],
        query: Option<&ast::Query>,
    ) -> Result<StatementPlan> {
        if let Some(flag) = table_flag {
            return Err(Error::not_implemented(format!(
                "CACHE {flag} TABLE is not supported: flint stores the table at once; \
                 use CACHE TABLE"
            )));
        }
        for o in options {
            check_option(o)?;
        }
        let name = object_name(table_name)?;
        let source = match query {
            Some(q) => Some(self.plan_query(q, None)?),
            None => {
                if self.ctx.entry(&name).is_none() {
                    return Err(self.ctx.table_not_found(&name));
                }
                None
            }
        };
        Ok(StatementPlan::CacheTable { name, source })
    }

    /// Binds `UNCACHE TABLE [IF EXISTS] name`.
    pub(crate) fn plan_uncache_table(
        &self,
        table_name: &ObjectName,
        if_exists: bool,
    ) -> Result<StatementPlan> {
        Ok(StatementPlan::UncacheTable {
            name: object_name(table_name)?,
            if_exists,
        })
    }
}

/// Accepts `'storageLevel' = 'MEMORY_AND_DISK'` (the one level flint has); names others.
fn check_option(o: &SqlOption) -> Result<()> {
    if let SqlOption::KeyValue { key, value } = o
        && key.value.eq_ignore_ascii_case("storagelevel")
    {
        let level = match value {
            ast::Expr::Value(v) => v.value.clone().into_string(),
            ast::Expr::Identifier(i) => Some(i.value.clone()),
            _ => None,
        };
        return match level {
            Some(l) if l.eq_ignore_ascii_case(STORAGE_LEVEL) => Ok(()),
            _ => Err(Error::not_implemented(format!(
                "CACHE TABLE storageLevel {value} is not supported; flint stores tables as \
                 {STORAGE_LEVEL} (in memory within half the memory limit, the rest on disk)"
            ))),
        };
    }
    Err(Error::not_implemented(format!(
        "CACHE TABLE option {o} is not supported (only 'storageLevel' = '{STORAGE_LEVEL}')"
    )))
}

/// Whether the parser is at `CACHE [flag] TABLE name;` (a name followed by `;`), which sqlparser 0.62
/// reads as the start of `CACHE TABLE name AS query` and rejects.
pub(crate) fn is_bare_cache_table(parser: &Parser<'_>) -> bool {
    let word = |n: usize, k: Keyword| matches!(&parser.peek_nth_token(n).token, Token::Word(w) if w.keyword == k);
    if !word(0, Keyword::CACHE) {
        return false;
    }
    // an optional flag (`CACHE LAZY TABLE`)
    let mut n = if word(1, Keyword::TABLE) { 2 } else { 3 };
    if !word(n - 1, Keyword::TABLE) {
        return false;
    }
    // a possibly qualified name: word (. word)*
    loop {
        if !matches!(parser.peek_nth_token(n).token, Token::Word(_)) {
            return false;
        }
        n += 1;
        if parser.peek_nth_token(n).token == Token::Period {
            n += 1;
        } else {
            return parser.peek_nth_token(n).token == Token::SemiColon;
        }
    }
}

/// Parses `CACHE [flag] TABLE name` (see [`is_bare_cache_table`]), leaving the `;`.
pub(crate) fn parse_bare_cache_table(parser: &mut Parser<'_>) -> Result<ast::Statement> {
    parser.expect_keyword(Keyword::CACHE)?;
    let table_flag = if parser.parse_keyword(Keyword::TABLE) {
        None
    } else {
        let flag = parser.parse_object_name(false)?;
        parser.expect_keyword(Keyword::TABLE)?;
        Some(flag)
    };
    let table_name = parser.parse_object_name(false)?;
    Ok(ast::Statement::Cache {
        table_flag,
        table_name,
        has_as: false,
        options: vec![],
        query: None,
    })
}
