//! Fair sharing between queries of one session: a small query started while a big one keeps
//! every core busy is not starved; it finishes in under twice its solo time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flint::runtime::CancellationToken;
use flint::{ErrorKind, SessionConfig, SessionContext};

/// A nested-loop join of 900 million pairs: minutes in a debug build, so it runs throughout.
const BIG: &str =
    "SELECT count(*) FROM range(30000) a(x), range(30000) b(y) WHERE (x * 7 + y) % 1000 = 3";
/// Two stages (partial and final aggregation) and a sort over 1,000,000 rows: about 0.1 s in a
/// debug build, long enough that the few milliseconds a task waits for a running one to reach
/// its next yield point do not decide the ratio.
const SMALL: &str = "SELECT k, count(*), sum(x) FROM s GROUP BY k ORDER BY k";

/// The best time of `runs` runs of `sql` (the best, not the mean: the least disturbed by
/// whatever else the machine does).
fn best_of(ctx: &SessionContext, sql: &str, runs: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            let batches = ctx.sql(sql).unwrap().collect().unwrap();
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            assert_eq!(rows, 100);
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn a_small_query_is_not_starved_by_a_big_one() {
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    ctx.execute_sql("CREATE TABLE s AS SELECT x, x % 100 AS k FROM range(1000000) r(x)")
        .unwrap();
    best_of(&ctx, SMALL, 1); // warm up
    let solo = best_of(&ctx, SMALL, 5);

    let cancel = CancellationToken::new();
    let big_done = AtomicBool::new(false);
    let loaded = std::thread::scope(|scope| {
        let big = scope.spawn(|| {
            let r = ctx.sql(BIG).unwrap().collect_cancellable(&cancel);
            big_done.store(true, Ordering::SeqCst);
            r
        });
        // let the big query take every core
        std::thread::sleep(Duration::from_millis(300));
        let loaded = best_of(&ctx, SMALL, 5);
        let still_running = !big_done.load(Ordering::SeqCst);
        cancel.cancel();
        let err = big.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
        assert!(
            still_running,
            "the big query ended before the measurement did"
        );
        loaded
    });
    eprintln!("small query: {solo:?} alone, {loaded:?} while a big one runs");
    assert!(
        loaded < solo * 2,
        "the small query took {loaded:?} while a big one ran, {solo:?} alone"
    );
}
