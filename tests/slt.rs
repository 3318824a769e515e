//! Runs every sqllogictest file under `sql-tests/` as one test (`cargo test --test slt`).
//! Files ending in `.slow.slt` run only with `FLINT_SLOW_TESTS=1`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flint::SessionConfig;
use flint::cli::slt::{SltOptions, collect_files, run_file};
use flint::cli::slt_engine::FlintSltDb;
use libtest_mimic::{Arguments, Failed, Trial};

/// Files running now, with their start times (for the watchdog).
static RUNNING: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());

/// A file running longer than this is taken to hang: the run fails naming it, instead of
/// running into CI's time limit without a word (`FLINT_SLT_TIMEOUT_SECS` overrides it).
const HANG_AFTER: Duration = Duration::from_secs(300);

fn watchdog() {
    let limit = std::env::var("FLINT_SLT_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(HANG_AFTER);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((name, start)) = running.iter().find(|(_, t)| t.elapsed() > limit) {
                eprintln!(
                    "{name} has run for {:.0} s (limit {} s): it hangs; failing the run",
                    start.elapsed().as_secs_f64(),
                    limit.as_secs()
                );
                std::process::exit(101);
            }
        }
    });
}

fn main() {
    let args = Arguments::from_args();
    watchdog();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sql-tests");
    let slow = std::env::var("FLINT_SLOW_TESTS").is_ok();
    let trials = collect_files(std::slice::from_ref(&root))
        .into_iter()
        .filter(|p| slow || !p.to_string_lossy().ends_with(".slow.slt"))
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            Trial::test(name.clone(), move || {
                RUNNING
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((name.clone(), Instant::now()));
                // small partitions and batches exercise the parallel paths even on tiny tables
                let config = SessionConfig::default().with_target_partitions(4);
                let mut db = FlintSltDb::new(config);
                let report = run_file(&path, &mut db, &SltOptions::default());
                RUNNING
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|(n, _)| n != &name);
                if report.is_success() {
                    Ok(())
                } else {
                    let mut out = Vec::new();
                    let _ = report.write_to(&mut out, &SltOptions::default());
                    Err(Failed::from(String::from_utf8_lossy(&out).to_string()))
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
