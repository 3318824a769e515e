//! `flint backup` and `flint restore`: set up a session (a SQL script, or files named on the
//! command line), call the [`crate::backup`] library, and show rows and bytes on a progress bar
//! (stderr, only when it is a terminal).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::backup::{
    BackupOptions, Progress, RestoreOptions, backup_tables, restore_backup, verify_backup,
};
use crate::catalog::CatalogEntry;
use crate::cli::format::OutputFormat;
use crate::cli::repl::{ShellOptions, run_script};
use crate::error::{Error, Result};
use crate::session::SessionContext;

/// A progress bar of rows, with bytes in its message.
#[derive(Default)]
pub struct BarProgress {
    bar: Mutex<Option<(ProgressBar, String)>>,
    bytes: AtomicU64,
}

impl BarProgress {
    fn draw_target() -> ProgressDrawTarget {
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }
}

impl Progress for BarProgress {
    fn begin(&self, what: &str, rows: Option<u64>, _bytes: Option<u64>) {
        self.bytes.store(0, Ordering::Relaxed);
        let bar = match rows {
            Some(n) => ProgressBar::with_draw_target(Some(n), Self::draw_target()).with_style(
                ProgressStyle::with_template(
                    "{msg:24} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::with_draw_target(None, Self::draw_target()).with_style(
                ProgressStyle::with_template(
                    "{spinner} {msg:24} [{elapsed_precise}] {human_pos} rows",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.enable_steady_tick(Duration::from_millis(200));
        bar.set_message(what.to_string());
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some((bar, what.to_string()));
    }

    fn advance(&self, rows: u64, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some((bar, what)) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            bar.inc(rows);
            if bytes > 0 {
                bar.set_message(format!("{what} {}", HumanBytes(total)));
            }
        }
    }

    fn end(&self) {
        if let Some((bar, _)) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// Flags of `flint backup`.
#[derive(Debug, Clone, Default)]
pub struct BackupArgs {
    /// Files or folders to back up, each as a table named after it.
    pub paths: Vec<String>,
    /// A SQL script defining the tables (and S3 settings).
    pub setup: Option<PathBuf>,
    /// Tables to back up (default: every table the setup defines).
    pub tables: Vec<String>,
    /// Destination folder or S3 prefix.
    pub to: Option<String>,
    /// Only rows matching this predicate.
    pub predicate: Option<String>,
    /// Check this backup instead of taking one.
    pub verify: Option<String>,
    /// Replace an existing backup.
    pub overwrite: bool,
    /// Rows per file.
    pub max_file_rows: Option<usize>,
}

/// Flags of `flint restore`.
#[derive(Debug, Clone, Default)]
pub struct RestoreArgs {
    /// The backup.
    pub from: String,
    /// A SQL script run first (e.g. S3 settings).
    pub setup: Option<PathBuf>,
    /// Register the backup's folders as external tables.
    pub as_external: bool,
    /// Only these tables.
    pub tables: Vec<String>,
    /// SQL to run on the restored tables.
    pub sql: Option<String>,
}

fn run_setup(ctx: &SessionContext, setup: &Option<PathBuf>) -> Result<()> {
    if let Some(path) = setup {
        let sql = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read {}: {e}", path.display())))?;
        ctx.execute_sql(&sql).map_err(|e| {
            e.rendered(&sql)
                .context(format!("running {}", path.display()))
        })?;
    }
    Ok(())
}

/// A table name for a file or folder: its stem, made an identifier.
fn table_name_for(path: &str) -> String {
    let stem = crate::sql::relation::file_stem(path);
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() { "t".into() } else { name }
}

/// Runs `flint backup`; prints a summary on `out`.
pub fn run_backup(ctx: &SessionContext, args: &BackupArgs, out: &mut dyn Write) -> Result<()> {
    let progress = BarProgress::default();
    if let Some(dest) = &args.verify {
        run_setup(ctx, &args.setup)?;
        let report = verify_backup(ctx, dest, &progress)?;
        for (name, rows, files) in &report.tables {
            writeln!(out, "verified {name}: {rows} rows in {files} files")?;
        }
        writeln!(out, "backup at {dest} is intact")?;
        return Ok(());
    }
    let dest = args
        .to
        .as_ref()
        .ok_or_else(|| Error::plan("flint backup needs --to DEST (or --verify DEST)"))?;
    run_setup(ctx, &args.setup)?;
    let mut tables = args.tables.clone();
    for p in &args.paths {
        let name = table_name_for(p);
        ctx.register_table(&name, ctx.open_file_table(p, None, &[])?)?;
        if args.tables.is_empty() {
            tables.push(name);
        }
    }
    if tables.is_empty() {
        tables = ctx
            .table_names()
            .into_iter()
            .filter(|n| ctx.table_provider_opt(n).is_some())
            .collect();
    }
    for t in &tables {
        if ctx.table_provider_opt(t).is_none() && !is_view(ctx, t) {
            return Err(Error::not_found(format!("table {t} does not exist")));
        }
    }
    let options = BackupOptions {
        predicate: args.predicate.clone(),
        max_file_rows: args
            .max_file_rows
            .unwrap_or(BackupOptions::default().max_file_rows),
        overwrite: args.overwrite,
        ..BackupOptions::default()
    };
    let m = backup_tables(ctx, &tables, dest, &options, &progress)?;
    for t in &m.tables {
        writeln!(
            out,
            "backed up {}: {} rows, {} files, {}",
            t.name,
            t.rows,
            t.files.len(),
            HumanBytes(t.bytes)
        )?;
    }
    writeln!(
        out,
        "manifest written to {}",
        dest.trim_end_matches('/').to_string() + "/manifest.json"
    )?;
    Ok(())
}

fn is_view(ctx: &SessionContext, name: &str) -> bool {
    ctx.shared
        .catalog
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&name.to_lowercase())
        .is_some_and(|e| !matches!(e, CatalogEntry::Table(_)))
}

/// Runs `flint restore`; prints a summary (and the result of `--sql`) on `out`.
pub fn run_restore(ctx: &SessionContext, args: &RestoreArgs, out: &mut dyn Write) -> Result<()> {
    run_setup(ctx, &args.setup)?;
    let progress = BarProgress::default();
    let options = RestoreOptions {
        as_external: args.as_external,
        tables: args.tables.clone(),
        replace: false,
    };
    let report = restore_backup(ctx, &args.from, &options, &progress)?;
    for (name, rows, files) in &report.tables {
        writeln!(
            out,
            "restored {name}: {rows} rows from {files} files (verified){}",
            if args.as_external {
                ", as an external table"
            } else {
                ""
            }
        )?;
    }
    if let Some(sql) = &args.sql {
        let opts = ShellOptions {
            format: OutputFormat::parse("table")?,
            timer: false,
        };
        run_script(ctx, sql, &opts, out)?;
    }
    Ok(())
}
