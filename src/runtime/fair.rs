//! Fair sharing of the CPU between queries that run at once in one session.
//!
//! A session runs `permits` tasks at a time (its `target_partitions`): a task computes only
//! while it holds a permit from the session's [`FairScheduler`]. Its worker pool has spare
//! threads, so a query started while another one keeps every permit busy still gets a thread
//! for planning and for its tasks, which then wait for a permit instead of for a thread.
//!
//! Tasks give their permit back between batches ([`yield_point`], called by every operator's
//! output iterator and the loops that consume input): when a task of another query is waiting
//! and that query has had less CPU time, the permit goes to it, and the yielding task waits its
//! turn. Like Linux's CFS (and YARN's fair scheduler for a cluster), each query accrues the time
//! its tasks hold permits; waiting tasks of the query with the least time go first. A query
//! starts [`START_CREDIT`] behind the least-served running one, so a small query started while
//! a big one runs gets the permits it asks for right away and finishes at nearly its solo speed,
//! while two big queries end up with equal shares.
//!
//! ```text
//!  query A tasks ─┐                                  ┌─ permit 1 ─▶ compute a batch ─▶ yield_point
//!  query B tasks ─┼─▶ waiters, least CPU time first ─┤                       (B waits & has less
//!  query C tasks ─┘                                  └─ permit 2 ─▶ ...       time: hand over)
//! ```
//! A plan that a task runs (a correlated subquery, a recursive CTE's term) runs its own tasks
//! inline, under that task's permit ([`in_task`]), so they never wait for a permit held by the
//! task waiting for them; a task blocked on a full channel gives its permit up meanwhile
//! ([`released`]). As a last safety net, a task that waited [`MAX_WAIT`] runs anyway.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::runtime::CancellationToken;

/// CPU time a new query is credited with, ahead of the least-served running query: a query
/// needing less than this never waits for an older one.
pub const START_CREDIT: Duration = Duration::from_secs(1);

/// How far a waiting query must be behind before a running task hands its permit over (so two
/// equal queries switch every few milliseconds, not every batch).
const QUANTUM_NS: u64 = 5_000_000;

/// Longest wait for a permit; after it a task runs anyway (a guard against a permit holder that
/// waits for something the scheduler does not see).
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// Grants a fixed number of compute permits to the tasks of the running queries, fairly.
#[derive(Debug)]
pub struct FairScheduler {
    permits: usize,
    state: Mutex<State>,
    wake: Condvar,
    /// Tasks waiting for a permit (read without the lock at every yield point).
    waiting: AtomicUsize,
    next_query: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    free: usize,
    next_ticket: u64,
    /// Per query: CPU time its tasks held permits, in ns, counted from its start credit.
    served: HashMap<u64, u64>,
    /// Waiting tasks: (ticket, query).
    waiters: Vec<(u64, u64)>,
}

impl State {
    /// The waiter to serve next: the least-served query, then the oldest ticket.
    fn first_waiter(&self) -> Option<u64> {
        self.waiters
            .iter()
            .min_by_key(|(t, q)| (self.served.get(q).copied().unwrap_or(0), *t))
            .map(|(t, _)| *t)
    }
}

impl FairScheduler {
    /// A scheduler running `permits` tasks at a time.
    pub fn new(permits: usize) -> Arc<Self> {
        let permits = permits.max(1);
        Arc::new(FairScheduler {
            permits,
            state: Mutex::new(State {
                free: permits,
                ..State::default()
            }),
            wake: Condvar::new(),
            waiting: AtomicUsize::new(0),
            next_query: AtomicU64::new(0),
        })
    }

    /// Tasks that compute at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a query; its tasks share the permits with the other registered queries until
    /// the returned handle is dropped. Its tasks stop waiting for permits once `cancel` is set.
    pub fn register(self: &Arc<Self>, cancel: CancellationToken) -> Arc<QueryShare> {
        let id = self.next_query.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        let least = state.served.values().copied().min().unwrap_or(0);
        // served times are relative: start START_CREDIT behind the least-served query (the
        // others move up instead of going below zero)
        let credit = START_CREDIT.as_nanos() as u64;
        let start = least.saturating_sub(credit);
        if least < credit {
            let shift = credit - least;
            for v in state.served.values_mut() {
                *v += shift;
            }
        }
        state.served.insert(id, start);
        Arc::new(QueryShare {
            scheduler: self.clone(),
            id,
            cancel,
        })
    }

    /// Waits until `query` may compute (or [`MAX_WAIT`] passed, or the query is cancelled);
    /// returns whether a permit was taken (`false`: running without one).
    fn acquire(&self, query: u64, cancel: &CancellationToken) -> bool {
        let mut state = self.lock();
        if state.free > 0 && state.waiters.is_empty() {
            state.free -= 1;
            return true;
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiters.push((ticket, query));
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + MAX_WAIT;
        let granted = loop {
            if state.free > 0 && state.first_waiter() == Some(ticket) {
                state.free -= 1;
                break true;
            }
            let now = Instant::now();
            if now >= deadline || cancel.is_cancelled() {
                break false;
            }
            // wake up now and then to notice a cancellation
            state = self
                .wake
                .wait_timeout(state, (deadline - now).min(CANCEL_POLL))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        state.waiters.retain(|(t, _)| *t != ticket);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        drop(state);
        // the next waiter may be able to go as well
        self.wake.notify_all();
        granted
    }

    /// Adds `ns` of CPU time to `query`.
    fn charge(state: &mut State, query: u64, ns: u64) {
        if let Some(v) = state.served.get_mut(&query) {
            *v += ns;
        }
    }

    fn release(&self, query: u64, ns: u64, had_permit: bool) {
        let mut state = self.lock();
        Self::charge(&mut state, query, ns);
        if had_permit {
            state.free += 1;
        }
        drop(state);
        self.wake.notify_all();
    }

    /// Charges `ns` to `query`; whether a waiting task of another query should go first.
    fn should_yield(&self, query: u64, ns: u64) -> bool {
        let mut state = self.lock();
        Self::charge(&mut state, query, ns);
        let mine = state.served.get(&query).copied().unwrap_or(0);
        state.waiters.iter().any(|(_, q)| {
            *q != query && state.served.get(q).copied().unwrap_or(0) + QUANTUM_NS < mine
        })
    }
}

/// How often a task waiting for a permit looks at its query's cancellation flag.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// One query's membership in a [`FairScheduler`]; dropping it unregisters the query.
#[derive(Debug)]
pub struct QueryShare {
    scheduler: Arc<FairScheduler>,
    id: u64,
    cancel: CancellationToken,
}

impl Drop for QueryShare {
    fn drop(&mut self) {
        self.scheduler.lock().served.remove(&self.id);
        self.scheduler.wake.notify_all();
    }
}

/// The permit the current thread's task holds.
struct Held {
    share: Arc<QueryShare>,
    has_permit: bool,
    since: Instant,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Worker threads of a session's pool running `permits` tasks at once: spare threads let
/// the queries that wait for permits plan and queue their tasks while others compute (idle
/// threads cost only their stacks' address space).
pub fn worker_threads(permits: usize) -> usize {
    permits.max(1) * 3 + 2
}

impl QueryShare {
    /// Tasks that compute at once.
    pub fn permits(&self) -> usize {
        self.scheduler.permits
    }

    /// Runs one task of this query: waits for a permit, computes, gives the permit back. A task
    /// started from inside another task of the same scheduler (on the same thread) runs under
    /// the permit already held.
    pub fn run_task<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        let nested = HELD.with(|h| {
            h.borrow()
                .as_ref()
                .is_some_and(|held| Arc::ptr_eq(&held.share.scheduler, &self.scheduler))
        });
        if nested {
            return f();
        }
        let has_permit = self.scheduler.acquire(self.id, &self.cancel);
        let outer = HELD.with(|h| {
            h.borrow_mut().replace(Held {
                share: self.clone(),
                has_permit,
                since: Instant::now(),
            })
        });
        let _restore = Restore(Some(outer));
        f()
    }
}

/// Gives the permit back and restores what the thread held before, also on unwinding.
struct Restore(Option<Option<Held>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let outer = self.0.take().flatten();
        let mine = HELD.with(|h| std::mem::replace(&mut *h.borrow_mut(), outer));
        if let Some(held) = mine {
            let ns = held.since.elapsed().as_nanos() as u64;
            held.share
                .scheduler
                .release(held.share.id, ns, held.has_permit);
        }
    }
}

/// The cancellation flag of the query whose task runs on this thread, if any (for work a task
/// starts on the query's behalf, such as a subquery).
pub fn current_cancellation() -> Option<CancellationToken> {
    HELD.with(|h| h.borrow().as_ref().map(|held| held.share.cancel.clone()))
}

/// Whether this thread is running a task (so a plan it runs is nested in that task).
pub fn in_task() -> bool {
    HELD.with(|h| h.borrow().is_some())
}

/// Between two batches of a task: fails when the task's query was cancelled, and otherwise
/// [`yield_point`]s. Every operator's output iterator calls it (through `MeteredIter`), so
/// every loop that pulls batches notices a cancellation within one batch.
pub fn checkpoint() -> Result<()> {
    let cancelled = HELD.with(|h| {
        h.borrow()
            .as_ref()
            .is_some_and(|held| held.share.cancel.is_cancelled())
    });
    if cancelled {
        return Err(Error::cancelled());
    }
    yield_point();
    Ok(())
}

/// Between two batches of a task: when a task of a query that had less CPU time waits for a
/// permit, hands this task's permit over and waits for its turn. Costs an atomic load when
/// nobody waits (or when the thread runs no task).
pub fn yield_point() {
    HELD.with(|h| {
        let mut slot = h.borrow_mut();
        let Some(held) = slot.as_mut() else {
            return;
        };
        let scheduler = held.share.scheduler.clone();
        if scheduler.waiting.load(Ordering::Relaxed) == 0 {
            return;
        }
        let now = Instant::now();
        let ns = now.duration_since(held.since).as_nanos() as u64;
        held.since = now;
        if !scheduler.should_yield(held.share.id, ns) {
            return;
        }
        if held.has_permit {
            scheduler.release(held.share.id, 0, true);
        }
        held.has_permit = scheduler.acquire(held.share.id, &held.share.cancel);
        held.since = Instant::now();
    });
}

/// Runs `f` (which waits for other tasks) without the current task's permit, and takes a permit
/// again afterwards; outside a task it just runs `f`.
pub fn released<R>(f: impl FnOnce() -> R) -> R {
    let held = HELD.with(|h| h.borrow_mut().take());
    let Some(held) = held else {
        return f();
    };
    let ns = held.since.elapsed().as_nanos() as u64;
    held.share
        .scheduler
        .release(held.share.id, ns, held.has_permit);
    let share = held.share.clone();
    struct Reacquire(Option<Arc<QueryShare>>);
    impl Drop for Reacquire {
        fn drop(&mut self) {
            if let Some(share) = self.0.take() {
                let has_permit = share.scheduler.acquire(share.id, &share.cancel);
                HELD.with(|h| {
                    *h.borrow_mut() = Some(Held {
                        share,
                        has_permit,
                        since: Instant::now(),
                    })
                });
            }
        }
    }
    let _again = Reacquire(Some(share));
    f()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::{FairScheduler, released, yield_point};
    use crate::runtime::CancellationToken;

    #[test]
    fn permits_bound_the_tasks_that_compute_at_once() {
        let s = FairScheduler::new(2);
        let q = s.register(CancellationToken::new());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..6 {
                let (q, running, most) = (q.clone(), running.clone(), most.clone());
                scope.spawn(move || {
                    q.run_task(|| {
                        let n = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_new_query_gets_the_permit_of_a_running_one_at_its_next_yield() {
        let s = FairScheduler::new(1);
        let big = s.register(CancellationToken::new());
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        std::thread::scope(|scope| {
            let (b, stop2, started2) = (big.clone(), stop.clone(), started.clone());
            scope.spawn(move || {
                b.run_task(|| {
                    started2.store(true, Ordering::SeqCst);
                    while !stop2.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                        yield_point();
                    }
                })
            });
            while !started.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            let small = s.register(CancellationToken::new());
            let t = std::time::Instant::now();
            // the big task holds the only permit; the small one gets it within a few batches
            small.run_task(|| {});
            assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
            stop.store(true, Ordering::SeqCst);
        });
    }

    #[test]
    fn a_task_waiting_for_nested_tasks_gives_its_permit_up() {
        let s = FairScheduler::new(1);
        let q = s.register(CancellationToken::new());
        let inner = s.register(CancellationToken::new());
        let done = q.run_task(|| {
            released(|| {
                std::thread::scope(|scope| {
                    scope
                        .spawn(|| inner.run_task(|| 42))
                        .join()
                        .unwrap_or_default()
                })
            })
        });
        assert_eq!(done, 42);
    }
}

#[cfg(test)]
mod cancel_tests {
    use std::time::{Duration, Instant};

    use super::{FairScheduler, checkpoint};
    use crate::runtime::CancellationToken;

    #[test]
    fn a_cancelled_query_stops_waiting_and_fails_at_its_next_checkpoint() {
        let s = FairScheduler::new(1);
        let busy = s.register(CancellationToken::new());
        let cancel = CancellationToken::new();
        let waiting = s.register(cancel.clone());
        busy.run_task(|| {
            let t = Instant::now();
            std::thread::scope(|scope| {
                let h = scope.spawn(|| waiting.run_task(checkpoint));
                std::thread::sleep(Duration::from_millis(30));
                cancel.cancel();
                let r = h.join().expect("no panic");
                assert!(r.is_err());
            });
            assert!(t.elapsed() < Duration::from_secs(1));
        });
    }
}
