//! The interactive SQL shell and script runner: statements end with `;`,
//! dot-commands (`.tables`, `.schema t`, `.mode csv`, `.timer on`, `.help`,
//! `.quit`) control the shell. Errors are printed with the offending SQL line
//! and a caret; the shell keeps going. Ctrl-C while a statement runs cancels the
//! statement, not the shell.

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use rustyline::error::ReadlineError;

use crate::cli::format::{OutputFormat, write_batches};
use crate::error::{Error, Result};
use crate::runtime::CancellationToken;
use crate::session::{SessionContext, StatementResult};

/// Settings of a shell session.
#[derive(Debug, Clone)]
pub struct ShellOptions {
    /// Output format.
    pub format: OutputFormat,
    /// Print elapsed time after each statement.
    pub timer: bool,
}

/// Runs a script (several statements); prints each result. Returns the first error.
pub fn run_script(
    ctx: &SessionContext,
    sql: &str,
    opts: &ShellOptions,
    out: &mut dyn Write,
) -> Result<()> {
    run_script_cancellable(ctx, sql, opts, out, &CancellationToken::new())
}

/// Like [`run_script`], stopped (with a "cancelled" error) once `cancel` is set.
pub fn run_script_cancellable(
    ctx: &SessionContext,
    sql: &str,
    opts: &ShellOptions,
    out: &mut dyn Write,
    cancel: &CancellationToken,
) -> Result<()> {
    let stmts = crate::sql::parse_sql(sql).map_err(|e| e.rendered(sql))?;
    for s in &stmts {
        let start = Instant::now();
        let plan = ctx.plan_statement(s).map_err(|e| e.rendered(sql))?;
        let result = ctx.run_statement_plan(plan, cancel)?;
        print_result(&result, opts, out)?;
        if opts.timer {
            writeln!(out, "Time: {:.3} s", start.elapsed().as_secs_f64())?;
        }
    }
    Ok(())
}

/// Prints one statement's result.
pub fn print_result(
    result: &StatementResult,
    opts: &ShellOptions,
    out: &mut dyn Write,
) -> Result<()> {
    match result {
        StatementResult::Rows { schema, batches } => {
            write_batches(out, schema, batches, opts.format)?;
            if opts.format == OutputFormat::Table {
                let n: usize = batches.iter().map(|b| b.num_rows()).sum();
                writeln!(out, "{n} row{}", if n == 1 { "" } else { "s" })?;
            }
        }
        StatementResult::Count(n) => {
            if opts.format == OutputFormat::Table {
                writeln!(out, "{n} row{} affected", if *n == 1 { "" } else { "s" })?;
            }
        }
        StatementResult::Done(msg) => {
            if opts.format == OutputFormat::Table {
                writeln!(out, "{msg}")?;
            }
        }
    }
    Ok(())
}

const HELP: &str = "\
Statements end with ';' and may span lines. Commands:
  .tables            list tables and views (stored tables: memory and disk used)
  .schema TABLE      show a table's columns
  .mode table|csv|json   output format
  .timer on|off      show elapsed time
  .help              this text
  .quit              leave (also Ctrl-D)";

/// Whether the buffered text holds a complete statement (ends with `;` outside quotes and comments).
pub fn is_complete(buf: &str) -> bool {
    let mut in_single = false;
    let mut in_double = false;
    let mut last_significant = ' ';
    let mut chars = buf.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !in_double => in_single = !in_single,
            '"' if !in_single => in_double = !in_double,
            '-' if !in_single && !in_double && chars.peek() == Some(&'-') => {
                // line comment
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                continue;
            }
            _ => {}
        }
        if !c.is_whitespace() {
            last_significant = c;
        }
    }
    !in_single && !in_double && last_significant == ';'
}

fn dot_command(
    ctx: &SessionContext,
    line: &str,
    opts: &mut ShellOptions,
    out: &mut dyn Write,
) -> Result<bool> {
    let mut parts = line.split_whitespace();
    let cmd = parts.next().unwrap_or("");
    match cmd {
        ".quit" | ".exit" | ".q" => return Ok(false),
        ".help" => writeln!(out, "{HELP}")?,
        ".tables" => print_result(&ctx.tables_result(true)?, opts, out)?,
        ".schema" | ".describe" => match parts.next() {
            Some(t) => run_script(ctx, &format!("DESCRIBE {t};"), opts, out)?,
            None => writeln!(out, "usage: .schema TABLE")?,
        },
        ".mode" => match parts.next().map(OutputFormat::parse) {
            Some(Ok(f)) => opts.format = f,
            Some(Err(e)) => writeln!(out, "{e}")?,
            None => writeln!(out, "usage: .mode table|csv|json")?,
        },
        ".timer" => opts.timer = matches!(parts.next(), Some("on") | None),
        other => writeln!(out, "unknown command {other}; try .help")?,
    }
    Ok(true)
}

/// The token of the statements the shell is running, if any: Ctrl-C sets it.
static RUNNING: Mutex<Option<CancellationToken>> = Mutex::new(None);

/// Routes Ctrl-C (SIGINT) to the running statements. While the shell reads a line, the line
/// editor sees Ctrl-C as a key instead (it clears the line).
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if let Some(token) = RUNNING.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            token.cancel();
        }
    });
}

/// Runs `sql` as the shell's running statements, cancellable with Ctrl-C.
fn run_interruptible(
    ctx: &SessionContext,
    sql: &str,
    opts: &ShellOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let token = CancellationToken::new();
    *RUNNING.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
    let result = run_script_cancellable(ctx, sql, opts, out, &token);
    *RUNNING.lock().unwrap_or_else(|e| e.into_inner()) = None;
    result
}

/// Runs the interactive shell until `.quit` or end of input.
pub fn run_repl(ctx: &SessionContext, mut opts: ShellOptions) -> Result<()> {
    let mut editor = rustyline::DefaultEditor::new()
        .map_err(|e| Error::io(format!("cannot start the line editor: {e}")))?;
    // after the editor: it installs signal handlers of its own
    install_interrupt_handler();
    let history =
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".flint_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "flint {} — type SQL ending with ';', or .help",
        env!("CARGO_PKG_VERSION")
    );
    let mut buf = String::new();
    let stdout = std::io::stdout();
    loop {
        let prompt = if buf.is_empty() { "flint> " } else { "   ..> " };
        match editor.readline(prompt) {
            Ok(line) => {
                if buf.is_empty() && line.trim_start().starts_with('.') {
                    let _ = editor.add_history_entry(line.as_str());
                    let mut out = stdout.lock();
                    match dot_command(ctx, line.trim(), &mut opts, &mut out) {
                        Ok(true) => continue,
                        Ok(false) => break,
                        Err(e) => {
                            writeln!(out, "{e}")?;
                            continue;
                        }
                    }
                }
                buf.push_str(&line);
                buf.push('\n');
                if !is_complete(&buf) {
                    continue;
                }
                let sql = std::mem::take(&mut buf);
                let _ = editor.add_history_entry(sql.trim());
                let mut out = stdout.lock();
                let start = Instant::now();
                if let Err(e) = run_interruptible(
                    ctx,
                    &sql,
                    &ShellOptions {
                        timer: false,
                        ..opts.clone()
                    },
                    &mut out,
                ) {
                    writeln!(out, "{e}")?;
                }
                if opts.timer {
                    writeln!(out, "Time: {:.3} s", start.elapsed().as_secs_f64())?;
                }
            }
            Err(ReadlineError::Interrupted) => {
                buf.clear();
                println!("^C");
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::io(format!("reading input: {e}"))),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_complete;

    #[test]
    fn statement_completion() {
        assert!(is_complete("SELECT 1;"));
        assert!(!is_complete("SELECT ';"));
        assert!(is_complete("SELECT ';'; -- done\n"));
        assert!(!is_complete("SELECT 1"));
    }
}
