//! The `flint` command: SQL REPL on TPC-H demo data, one-shot queries
//! (`-c`, `-f`), the `slt` test runner, and `backup` / `restore` jobs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use flint::cli::backup::{BackupArgs, RestoreArgs, run_backup, run_restore};
use flint::cli::format::OutputFormat;
use flint::cli::repl::{ShellOptions, run_repl, run_script};
use flint::cli::slt::{SltDb, SltOptions, run_paths};
use flint::cli::slt_engine::FlintSltDb;
use flint::{SessionConfig, SessionContext};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A SQL and DataFrame query engine on Apache Arrow.
#[derive(Parser, Debug)]
#[command(name = "flint", version, about)]
struct Cli {
    /// Run this SQL and exit.
    #[arg(short = 'c', long = "command")]
    command: Option<String>,
    /// Run the SQL in this file and exit.
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Output format: table, csv or json.
    #[arg(long, default_value = "table")]
    format: String,
    /// TPC-H scale factor of the demo tables generated at start.
    #[arg(long, default_value_t = 0.1)]
    tpch: f64,
    /// Start without the TPC-H demo tables.
    #[arg(long)]
    no_demo: bool,
    /// Number of partitions / worker threads (default: cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Memory limit, e.g. 512MB or `unlimited` (default: 80% of memory; also for `slt`).
    #[arg(long, global = true)]
    memory_limit: Option<String>,
    /// Target rows per batch (default 8192; also for `slt`).
    #[arg(long, global = true)]
    batch_size: Option<usize>,
    /// Print the time each statement takes.
    #[arg(long)]
    timer: bool,
    #[command(subcommand)]
    sub: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run sqllogictest files or folders (*.slt, *.test); prints per-file counts and a summary.
    Slt {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print passing records too.
        #[arg(long)]
        verbose: bool,
        /// Accept any error for `statement error` records, whatever its message.
        #[arg(long)]
        ignore_error_messages: bool,
        /// Force a result convention instead of detecting it per file: sqlite or duckdb.
        #[arg(long)]
        style: Option<String>,
        /// Stop at the first failure.
        #[arg(long)]
        fail_fast: bool,
        /// Failures printed per file.
        #[arg(long, default_value_t = 20)]
        max_failures: usize,
        /// Print only per-file counts and the summary line.
        #[arg(long)]
        summary_only: bool,
        /// Files run at the same time (default: the number of cores).
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
    },
    /// Back up tables (defined by a SQL script, or files/folders) as Parquet with a manifest;
    /// or check a backup with --verify.
    Backup {
        /// Files or folders to back up, each as a table named after it.
        paths: Vec<String>,
        /// SQL script that defines the tables (and S3 settings) first.
        #[arg(long)]
        setup: Option<PathBuf>,
        /// Tables to back up, comma-separated (default: all tables).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// Destination folder or S3 prefix.
        #[arg(long)]
        to: Option<String>,
        /// Only rows matching this SQL predicate (incremental backup).
        #[arg(long = "where")]
        predicate: Option<String>,
        /// Check the backup at this location instead of taking one.
        #[arg(long, conflicts_with_all = ["to", "predicate"])]
        verify: Option<String>,
        /// Replace an existing backup at the destination.
        #[arg(long)]
        overwrite: bool,
        /// Rows per Parquet file at most.
        #[arg(long)]
        max_file_rows: Option<usize>,
    },
    /// Restore a backup (verifying every file), then optionally run SQL on it.
    Restore {
        /// The backup's folder or S3 prefix.
        #[arg(long)]
        from: String,
        /// SQL script run first (e.g. S3 settings).
        #[arg(long)]
        setup: Option<PathBuf>,
        /// Register the backup's folders as external tables instead of loading them.
        #[arg(long)]
        as_external: bool,
        /// Only these tables, comma-separated.
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// SQL to run on the restored tables.
        #[arg(long)]
        sql: Option<String>,
    },
    /// Write the TPC-H tables as Parquet files.
    Tpchgen {
        /// Scale factor.
        #[arg(long, default_value_t = 1.0)]
        sf: f64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> flint::Result<ExitCode> {
    let mut config = SessionConfig::default();
    if let Some(t) = cli.threads {
        config = config.with_target_partitions(t);
    }
    if let Some(m) = &cli.memory_limit {
        config.memory_limit = flint::config::parse_bytes(m)?;
    }
    flint::runtime::allocator::set_freed_memory_policy(
        config.memory_limit.is_some() && cli.memory_limit.is_some(),
    );
    if let Some(n) = cli.batch_size {
        config = config.with_batch_size(n);
    }
    match &cli.sub {
        Some(Command::Tpchgen { sf, out }) => {
            flint::catalog::tpch::write_parquet(out, *sf)?;
            println!("wrote TPC-H SF {sf} to {}", out.display());
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Backup {
            paths,
            setup,
            tables,
            to,
            predicate,
            verify,
            overwrite,
            max_file_rows,
        }) => {
            let args = BackupArgs {
                paths: paths.clone(),
                setup: setup.clone(),
                tables: tables.clone(),
                to: to.clone(),
                predicate: predicate.clone(),
                verify: verify.clone(),
                overwrite: *overwrite,
                max_file_rows: *max_file_rows,
            };
            let ctx = SessionContext::with_config(config);
            run_backup(&ctx, &args, &mut std::io::stdout().lock())?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Restore {
            from,
            setup,
            as_external,
            tables,
            sql,
        }) => {
            let args = RestoreArgs {
                from: from.clone(),
                setup: setup.clone(),
                as_external: *as_external,
                tables: tables.clone(),
                sql: sql.clone(),
            };
            let ctx = SessionContext::with_config(config);
            run_restore(&ctx, &args, &mut std::io::stdout().lock())?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Slt {
            paths,
            verbose,
            ignore_error_messages,
            style,
            fail_fast,
            max_failures,
            summary_only,
            jobs,
        }) => {
            let opts = SltOptions {
                verbose: *verbose,
                check_error_messages: !ignore_error_messages,
                style: match style {
                    Some(s) => Some(s.parse().map_err(|e: String| flint::Error::plan(e))?),
                    None => None,
                },
                fail_fast: *fail_fast,
                max_failures_printed: if *summary_only { 0 } else { *max_failures },
                jobs: jobs.unwrap_or_else(|| SltOptions::default().jobs),
                ..SltOptions::default()
            };
            let make = || Box::new(FlintSltDb::new(config.clone())) as Box<dyn SltDb>;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let summary = run_paths(paths, &make, &opts, &mut out);
            out.flush()?;
            return Ok(if summary.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        None => {}
    }
    let ctx = SessionContext::with_config(config);
    let opts = ShellOptions {
        format: OutputFormat::parse(&cli.format)?,
        timer: cli.timer,
    };
    if !cli.no_demo {
        let start = std::time::Instant::now();
        ctx.load_tpch(cli.tpch)?;
        if cli.command.is_none() && cli.file.is_none() {
            println!(
                "TPC-H tables at scale factor {} generated in {:.1} s (--no-demo to skip)",
                cli.tpch,
                start.elapsed().as_secs_f64()
            );
        }
    }
    let stdout = std::io::stdout();
    if let Some(sql) = &cli.command {
        let mut out = stdout.lock();
        run_script(&ctx, sql, &opts, &mut out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = &cli.file {
        let sql = std::fs::read_to_string(path)
            .map_err(|e| flint::Error::io(format!("cannot read {}: {e}", path.display())))?;
        let mut out = stdout.lock();
        run_script(&ctx, &sql, &opts, &mut out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    run_repl(&ctx, opts)?;
    Ok(ExitCode::SUCCESS)
}
