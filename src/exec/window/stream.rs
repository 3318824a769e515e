//! The stream `WindowExec::execute` returns: it splits sorted input into window partitions and
//! hands complete ones to the computation, holding one incomplete window partition (the tail)
//! at a time.
//!
//! ```text
//!  sorted batch ─▶ rows continuing the tail │ complete partitions │ start of the next tail
//!                        │                          │                       │
//!   tail in memory ◀─────┘ (reserved; refused ─▶ tail written to a spill file)
//!   tail done ─▶ in memory: computed with the complete partitions at once
//!             └▶ on disk:   SpilledWindow, chunk by chunk
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow::row::{OwnedRow, RowConverter, Rows};

use crate::error::Result;
use crate::exec::BatchIter;
use crate::exec::window::WindowComputer;
use crate::exec::window::spilled::SpilledWindow;
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::spill::SpillWriter;
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// The rows of the window partition not known to be complete yet.
enum Tail {
    /// Held in memory, under the stream's reservation.
    Memory(Vec<RecordBatch>),
    /// Written to a spill file once memory was refused.
    Disk(Box<SpillWriter>),
}

/// Window functions over one partition of sorted input.
pub(super) struct WindowStream {
    pub(super) input: BatchIter,
    pub(super) in_schema: SchemaRef,
    pub(super) computer: Arc<WindowComputer>,
    /// Row format of the PARTITION BY keys (none without PARTITION BY: one window partition).
    pub(super) converter: Option<RowConverter>,
    pub(super) consumer: String,
    pub(super) reservation: MemoryReservation,
    pub(super) ctx: Arc<TaskContext>,
    pub(super) metrics: Arc<Metrics>,
    tail: Tail,
    tail_key: Option<OwnedRow>,
    /// Output not yet returned, in order.
    ready: VecDeque<BatchIter>,
    done: bool,
}

impl WindowStream {
    /// A stream over `input` (sorted by partition then order keys).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        input: BatchIter,
        in_schema: SchemaRef,
        computer: Arc<WindowComputer>,
        converter: Option<RowConverter>,
        consumer: String,
        reservation: MemoryReservation,
        ctx: Arc<TaskContext>,
        metrics: Arc<Metrics>,
    ) -> Self {
        WindowStream {
            input,
            in_schema,
            computer,
            converter,
            consumer,
            reservation,
            ctx,
            metrics,
            tail: Tail::Memory(vec![]),
            tail_key: None,
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// Reads one input batch, queueing the output it completes.
    fn step(&mut self) -> Result<()> {
        self.ctx.cancel.check()?;
        let Some(b) = self.input.next().transpose()? else {
            self.done = true;
            return self.finish_tail();
        };
        let n = b.num_rows();
        if n == 0 {
            return Ok(());
        }
        let Some(converter) = self.converter.as_ref() else {
            return self.append_tail(b);
        };
        let keys = self
            .computer
            .partition_by
            .iter()
            .map(|e| e.evaluate(&b)?.into_array(n))
            .collect::<Result<Vec<_>>>()?;
        let rows = converter.convert_columns(&keys)?;
        // rows 0..tail_len continue the tail; the last window partition of `b` starts at split
        let tail_len = match &self.tail_key {
            Some(t) => prefix_len(&rows, n, |r| r == t.row()),
            None => 0,
        };
        if tail_len == n {
            return self.append_tail(b);
        }
        let last = rows.row(n - 1);
        let split = n - suffix_len(&rows, n, |r| r == last);
        let last = last.owned();
        match std::mem::replace(&mut self.tail, Tail::Memory(vec![])) {
            Tail::Memory(mut complete) => {
                // the tail and the complete partitions of `b`, computed at once
                if split > 0 {
                    complete.push(b.slice(0, split));
                }
                self.queue_computed(&complete)?;
            }
            disk @ Tail::Disk(_) => {
                self.tail = disk;
                if tail_len > 0 {
                    self.append_tail(b.slice(0, tail_len))?;
                }
                self.finish_tail()?;
                if split > tail_len {
                    self.queue_computed(&[b.slice(tail_len, split - tail_len)])?;
                }
            }
        }
        self.reservation.free();
        self.tail_key = Some(last);
        self.append_tail(b.slice(split, n - split))
    }

    /// Computes complete window partitions in memory and queues the result.
    fn queue_computed(&mut self, batches: &[RecordBatch]) -> Result<()> {
        if let Some(out) = self.computer.compute_rows(&self.in_schema, batches)? {
            self.ready.push_back(Box::new(std::iter::once(Ok(out))));
        }
        Ok(())
    }

    /// Adds rows to the tail, moving it to a spill file when memory is refused (a tail of one
    /// batch always stays in memory: that is the least the operator holds).
    fn append_tail(&mut self, b: RecordBatch) -> Result<()> {
        match &mut self.tail {
            Tail::Memory(batches) => {
                let size = batch_memory_size(&b);
                if self.reservation.grow_if_fits(size) {
                    batches.push(b);
                } else if batches.is_empty() {
                    self.reservation.grow(size);
                    batches.push(b);
                } else {
                    let mut writer =
                        SpillWriter::new(&self.ctx.spill, &self.in_schema, Some(&self.metrics))?;
                    for held in batches.drain(..) {
                        writer.write(&held)?;
                    }
                    writer.write(&b)?;
                    self.reservation.free();
                    self.tail = Tail::Disk(Box::new(writer));
                }
            }
            Tail::Disk(writer) => writer.write(&b)?,
        }
        Ok(())
    }

    /// The tail is a complete window partition: computes it (from memory or disk).
    fn finish_tail(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.tail, Tail::Memory(vec![])) {
            Tail::Memory(batches) => self.queue_computed(&batches)?,
            Tail::Disk(writer) => {
                let file = writer.finish()?;
                let reservation = self
                    .ctx
                    .memory
                    .reserve(format!("{} (window partition on disk)", self.consumer))
                    .with_metrics(&self.metrics);
                self.ready.push_back(Box::new(SpilledWindow::try_new(
                    self.computer.clone(),
                    self.consumer.clone(),
                    file,
                    reservation,
                    self.ctx.batch_size(),
                    self.ctx.cancel.clone(),
                )?));
            }
        }
        self.reservation.free();
        Ok(())
    }
}

impl Iterator for WindowStream {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(front) = self.ready.front_mut() {
                match front.next() {
                    Some(Err(e)) => {
                        self.fail();
                        return Some(Err(e));
                    }
                    Some(ok) => return Some(ok),
                    None => {
                        self.ready.pop_front();
                        continue;
                    }
                }
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.step() {
                self.fail();
                return Some(Err(e));
            }
        }
    }
}

impl WindowStream {
    /// Drops everything held (memory, spill files) after an error.
    fn fail(&mut self) {
        self.done = true;
        self.ready.clear();
        self.tail = Tail::Memory(vec![]);
        self.reservation.free();
    }
}

/// How many leading rows of `rows[..n]` satisfy `pred` (which holds for a prefix: the input
/// is sorted by these keys).
fn prefix_len(rows: &Rows, n: usize, pred: impl Fn(arrow::row::Row<'_>) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(rows.row(mid)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// How many trailing rows of `rows[..n]` satisfy `pred` (which holds for a suffix).
fn suffix_len(rows: &Rows, n: usize, pred: impl Fn(arrow::row::Row<'_>) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    // first index where pred holds
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(rows.row(mid)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    n - lo
}
