//! Streaming the final stage of a plan: its partitions run on producer threads, a few at a time,
//! each handing batches over a channel that holds one batch; the consumer reads partition 0 to
//! its end, then partition 1, and so on, so rows come out in the same order as `collect` gives
//! them while later partitions compute ahead. Memory stays bounded by a few batches per running
//! partition (plus what the stages below the final one materialized), so a program can consume
//! results larger than memory.
//!
//! The producers are plain threads, not rayon workers: a worker must never block on a channel
//! (see the scheduler), and these block whenever the consumer is slower. Dropping the stream
//! disconnects the channels; each producer stops at its next batch.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::runtime::{TaskContext, TaskGuard, fair};

/// An ordered, bounded, parallel iterator over the output partitions of a plan whose stage
/// boundaries are already materialized.
pub struct PartitionStream {
    plan: Arc<dyn ExecutionPlan>,
    ctx: Arc<TaskContext>,
    partitions: usize,
    next_to_start: usize,
    ahead: usize,
    running: VecDeque<Receiver<Result<RecordBatch>>>,
    /// With a single partition there are no threads: it is read on the caller's thread.
    single: Option<BatchIter>,
    /// Counts the partitions running at once, for the memory pool's fair shares.
    _tasks: TaskGuard,
    done: bool,
}

impl PartitionStream {
    /// Streams the partitions of `plan`, running up to `ahead` of them at once.
    pub fn new(plan: Arc<dyn ExecutionPlan>, ctx: Arc<TaskContext>, ahead: usize) -> Result<Self> {
        let partitions = plan.output_partitioning().partition_count();
        let single = if partitions == 1 {
            Some(plan.execute(0, &ctx)?)
        } else {
            None
        };
        let _tasks = ctx.memory.tasks_started(partitions.min(ahead.max(1)));
        Ok(PartitionStream {
            _tasks,
            plan,
            ctx,
            partitions,
            next_to_start: 0,
            ahead: ahead.max(1),
            running: VecDeque::new(),
            single,
            done: false,
        })
    }

    fn start_next(&mut self) -> Result<()> {
        let p = self.next_to_start;
        self.next_to_start += 1;
        let (tx, rx) = sync_channel(1);
        let plan = self.plan.clone();
        let ctx = self.ctx.clone();
        std::thread::Builder::new()
            .name(format!("flint-stream-{p}"))
            .spawn(move || produce(plan, ctx, p, tx))
            .map_err(|e| Error::internal(format!("cannot start a stream thread: {e}")))?;
        self.running.push_back(rx);
        Ok(())
    }
}

/// Runs partition `p` as a task of the query and sends its batches until it ends or the
/// consumer goes away; while the consumer is behind, the task waits without its permit.
fn produce(
    plan: Arc<dyn ExecutionPlan>,
    ctx: Arc<TaskContext>,
    p: usize,
    tx: SyncSender<Result<RecordBatch>>,
) {
    ctx.query.clone().run_task(|| {
        let iter = match plan.execute(p, &ctx) {
            Ok(it) => it,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        for item in iter {
            let stop = item.is_err();
            if matches!(&item, Ok(b) if b.num_rows() == 0) {
                continue;
            }
            let sent = match tx.try_send(item) {
                Ok(()) => true,
                Err(TrySendError::Full(item)) => fair::released(|| tx.send(item).is_ok()),
                Err(TrySendError::Disconnected(_)) => false,
            };
            if !sent || stop {
                return;
            }
        }
    })
}

impl Iterator for PartitionStream {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        if self.done {
            return None;
        }
        if let Err(e) = self.ctx.cancel.check() {
            self.done = true;
            self.running.clear();
            return Some(Err(e));
        }
        if let Some(it) = self.single.as_mut() {
            let next = it.next();
            if !matches!(next, Some(Ok(_))) {
                self.done = true;
            }
            return next;
        }
        loop {
            while self.running.len() < self.ahead && self.next_to_start < self.partitions {
                if let Err(e) = self.start_next() {
                    self.done = true;
                    self.running.clear();
                    return Some(Err(e));
                }
            }
            let rx = self.running.front()?;
            match rx.recv() {
                Ok(Ok(b)) => return Some(Ok(b)),
                Ok(Err(e)) => {
                    // stop everything: dropping the receivers ends the producers
                    self.done = true;
                    self.running.clear();
                    return Some(Err(e));
                }
                Err(_) => {
                    // this partition is finished
                    self.running.pop_front();
                    if let Err(e) = self.ctx.cancel.check() {
                        self.done = true;
                        self.running.clear();
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}
