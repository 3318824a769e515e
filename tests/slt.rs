//! Runs every sqllogictest file under `sql-tests/` as one test (`cargo test --test slt`).
//! Files ending in `.slow.slt` run only with `FLINT_SLOW_TESTS=1`.

use std::path::PathBuf;

use flint::SessionConfig;
use flint::cli::slt::{SltOptions, collect_files, run_file};
use flint::cli::slt_engine::FlintSltDb;
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
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
            Trial::test(name, move || {
                // small partitions and batches exercise the parallel paths even on tiny tables
                let config = SessionConfig::default().with_target_partitions(4);
                let mut db = FlintSltDb::new(config);
                let report = run_file(&path, &mut db, &SltOptions::default());
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
