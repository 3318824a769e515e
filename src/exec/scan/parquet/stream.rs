//! The batches of one scan partition: for each row-group slice, a push decoder driven on the
//! calling (rayon) thread. When it needs bytes, they are served from the prefetched row group or
//! fetched through the I/O runtime; once a row group's data is in, the next row group's column
//! chunks are requested in the background, so I/O overlaps decoding.

use std::collections::{BTreeSet, VecDeque};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use parquet::DecodeResult;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowPredicate, RowFilter, RowSelection};
use parquet::arrow::push_decoder::{ParquetPushDecoder, ParquetPushDecoderBuilder};

use super::ParquetScanConfig;
use super::adapt::BatchAdapter;
use super::runtime_rows::RuntimeKeys;
use crate::error::{Error, Result};
use crate::exec::runtime_filter::ProbeConditions;
use crate::exec::runtime_filter::probe::{ProbeRowFilter, ROW_GROUPS_PRUNED, pruning_conjuncts};
use crate::io::fetch::{FetchCounters, ObjectReader};
use crate::io::parquet::RowGroupSlice;
use crate::io::parquet::bloom::{bloom_probes, prune_by_bloom_filters};
use crate::io::parquet::page_index::page_selection;
use crate::io::parquet::pruning::prune_row_groups;
use crate::io::parquet::row_filter::{RowFilterCounters, build_row_predicate};
use crate::logical::expr::Expr;
use crate::runtime::{CancellationToken, Metrics};

type Fetched = Result<Vec<Bytes>>;

/// Column chunk ranges of a row group with and without the row filter.
type PrefetchRanges = (Vec<Range<u64>>, Vec<Range<u64>>);

/// Builds a decoder for the given row groups, with the given row filter predicates.
type Rebuild = Box<
    dyn Fn(Vec<usize>, Vec<Box<dyn ArrowPredicate>>) -> parquet::errors::Result<ParquetPushDecoder>
        + Send,
>;

/// Metric: decoders (files, or the rest of a file) that ran the runtime filter inside the
/// Parquet decoder.
pub const RUNTIME_FILTER_IN_DECODER: &str = "runtime_filter_in_decoder";

/// Builds the runtime filter's decoder predicate (for a file whose row filter pays).
type MakeRuntimePredicate = Box<dyn Fn() -> Box<dyn ArrowPredicate> + Send>;

/// Column chunks of a row group being fetched ahead of the decoder.
struct Prefetch {
    row_group: usize,
    ranges: Vec<Range<u64>>,
    handle: tokio::task::JoinHandle<Fetched>,
}

/// Decoding one file's row groups.
struct FileStream {
    display: String,
    decoder: Option<ParquetPushDecoder>,
    reader: ObjectReader,
    adapter: BatchAdapter,
    /// Row groups to decode, in order, with the byte span of their column chunks.
    row_groups: Vec<(usize, Range<u64>)>,
    /// Per row group, the column chunk ranges worth prefetching with and without the row filter
    /// (empty: do not prefetch).
    prefetchable: Vec<PrefetchRanges>,
    prefetch: Option<Prefetch>,
    /// Prefetched bytes of the row group being decoded.
    ready: Vec<(Range<u64>, Bytes)>,
    /// The batches of the row group being decoded.
    rows: Option<parquet::arrow::arrow_reader::ParquetRecordBatchReader>,
    /// Builds a decoder without row filter for the given row groups, when that is possible.
    rebuild: Option<Rebuild>,
    /// Row groups handed out so far.
    readers: usize,
    /// Whether to watch the row filter's selectivity.
    adapt: bool,
    /// Whether the row filter is on.
    filtering: bool,
    /// Whether the row filter has the scan's own conjuncts.
    static_filter: bool,
    /// Whether the row filter has the runtime filter (which then is not applied afterwards).
    runtime_in_decoder: bool,
    /// Builds the runtime filter's predicate, when it may go into the decoder.
    make_runtime: Option<MakeRuntimePredicate>,
    /// Rows the row filter saw and removed in this file.
    filter_counters: Arc<RowFilterCounters>,
    /// The same over the whole scan.
    scan_filter_stats: Arc<RowFilterCounters>,
}

/// Whether row filters let most of the rows they saw through.
fn unselective(stats: &RowFilterCounters) -> bool {
    let seen = stats.evaluated.load(Ordering::Relaxed);
    let removed = stats.removed.load(Ordering::Relaxed);
    seen > 0 && removed * 2 < seen
}

/// The batches of one partition.
pub(super) struct PartitionStream {
    config: Arc<ParquetScanConfig>,
    slices: VecDeque<RowGroupSlice>,
    metrics: Arc<Metrics>,
    batch_size: usize,
    counters: Arc<FetchCounters>,
    current: Option<FileStream>,
    failed: bool,
    /// Runtime filter conditions as pruning conjuncts (row groups, pages, bloom filters).
    runtime_conjuncts: Vec<Expr>,
    /// Runtime filter conditions on the rows.
    runtime_rows: Option<ProbeRowFilter>,
    /// The query's cancellation flag: waits for I/O end when it is set.
    cancel: CancellationToken,
}

impl PartitionStream {
    pub(super) fn new(
        config: Arc<ParquetScanConfig>,
        slices: Vec<RowGroupSlice>,
        metrics: Arc<Metrics>,
        batch_size: usize,
        runtime: Option<ProbeConditions>,
        cancel: CancellationToken,
    ) -> Self {
        let runtime_conjuncts = runtime
            .as_ref()
            .map(|r| pruning_conjuncts(r, &config.output_schema))
            .unwrap_or_default();
        let runtime_rows = match runtime {
            Some(ProbeConditions::Rows(c)) => Some(ProbeRowFilter::new(c, metrics.clone())),
            _ => None,
        };
        PartitionStream {
            config,
            slices: slices.into(),
            counters: FetchCounters::with_metrics(metrics.clone()),
            metrics,
            batch_size,
            current: None,
            failed: false,
            runtime_conjuncts,
            runtime_rows,
            cancel,
        }
    }

    /// Prepares the decoder of one slice; `None` when every row group was pruned.
    fn open(&self, slice: &RowGroupSlice) -> Result<Option<FileStream>> {
        let cfg = &self.config;
        let file = cfg
            .files
            .get(slice.file)
            .ok_or_else(|| Error::internal("row group slice refers to a missing file"))?;
        let display = file.display().to_string();
        let meta = &file.metadata;
        let file_schema = meta.schema().clone();
        let parquet_schema = meta.parquet_schema();
        let reader = ObjectReader::new(
            cfg.store.clone(),
            file.file.path.clone(),
            file.file.size,
            &display,
            self.counters.clone(),
        )
        .with_local_file(
            cfg.local_files
                .then(|| cfg.local_path(&file.file.path))
                .flatten(),
        )?;
        self.metrics.add("files_opened", 1);

        let mut row_groups = slice.row_groups.clone();
        // runtime filters of joins above: row groups whose statistics cannot match
        if !self.runtime_conjuncts.is_empty() {
            let keep = prune_row_groups(
                meta.metadata(),
                &file_schema,
                parquet_schema,
                &self.runtime_conjuncts,
            );
            let before = row_groups.len();
            row_groups.retain(|rg| keep.get(*rg).copied().unwrap_or(true));
            self.metrics
                .add(ROW_GROUPS_PRUNED, before - row_groups.len());
        }
        let conjuncts: Vec<Expr> = cfg
            .conjuncts
            .iter()
            .chain(&self.runtime_conjuncts)
            .cloned()
            .collect();

        // bloom filters
        let probes = bloom_probes(&conjuncts, &file_schema, parquet_schema);
        if !probes.is_empty() {
            let keep = cfg.io.block_on_cancellable(
                prune_by_bloom_filters(reader.clone(), meta.clone(), &row_groups, &probes),
                &self.cancel,
            )??;
            let before = row_groups.len();
            row_groups = row_groups
                .into_iter()
                .zip(keep)
                .filter_map(|(rg, k)| k.then_some(rg))
                .collect();
            self.metrics
                .add("row_groups_pruned_bloom", before - row_groups.len());
        }
        if row_groups.is_empty() {
            return Ok(None);
        }
        self.metrics.add("row_groups_scanned", row_groups.len());

        // the file's columns the output needs, by position in the decoded batch
        let partition_value = |name: &str| -> Option<datafusion_common::ScalarValue> {
            let i = cfg.partition_columns.iter().position(|c| c == name)?;
            cfg.partition_values.get(slice.file)?.get(i).cloned()
        };
        let roots: BTreeSet<usize> = cfg
            .output_schema
            .fields()
            .iter()
            .filter(|f| partition_value(f.name()).is_none())
            .filter_map(|f| file_schema.index_of(f.name()).ok())
            .collect();
        let roots: Vec<usize> = roots.into_iter().collect();
        let decoded_types: Vec<DataType> = roots
            .iter()
            .map(|r| file_schema.field(*r).data_type().clone())
            .collect();
        let adapter = BatchAdapter::new(
            cfg.output_schema.clone(),
            &decoded_types,
            |name| {
                let root = file_schema.index_of(name).ok()?;
                roots.iter().position(|r| *r == root)
            },
            partition_value,
        );
        let mask = ProjectionMask::roots(parquet_schema, roots.iter().copied());

        let mut builder = ParquetPushDecoderBuilder::new_with_metadata(meta.clone())
            .with_projection(mask.clone())
            .with_row_groups(row_groups.clone())
            .with_batch_size(self.batch_size);
        let mut selection: Option<RowSelection> = None;
        if !conjuncts.is_empty()
            && let Some(sel) = page_selection(
                meta.metadata(),
                &file_schema,
                parquet_schema,
                &row_groups,
                &conjuncts,
            )
        {
            let total: usize = row_groups.iter().map(|rg| file.row_group_rows(*rg)).sum();
            self.metrics
                .add("page_rows_skipped", total.saturating_sub(sel.row_count()));
            builder = builder.with_row_selection(sel.clone());
            selection = Some(sel);
        }
        let has_selection = selection.is_some();
        // late materialization pays when the columns it can skip outweigh the ones it reads
        // first; it is dropped after the first row group if most rows pass
        let bytes_of = |want: &dyn Fn(usize) -> bool| -> i64 {
            let md = meta.metadata().row_group(row_groups[0]);
            (0..md.num_columns())
                .filter(|l| want(parquet_schema.get_column_root_idx(*l)))
                .map(|l| md.column(l).compressed_size())
                .sum()
        };
        let pays = |cols: &BTreeSet<usize>| {
            bytes_of(&|r| roots.contains(&r) && !cols.contains(&r))
                > bytes_of(&|r| cols.contains(&r))
        };
        let mut predicates: Vec<Box<dyn ArrowPredicate>> = vec![];
        let mut filter_cols = BTreeSet::new();
        // the join keys' runtime filter, inside the decoder once it is known to remove nearly
        // every row (with fewer rows removed, the selection's short runs cost more than
        // decoding them does); it goes first: it reads one cheap column
        let runtime_keys = self.runtime_rows.as_ref().and_then(|rt| {
            RuntimeKeys::resolve(
                rt.mask(),
                &cfg.output_schema,
                &file_schema,
                parquet_schema,
                |name| partition_value(name).is_some(),
            )
            .filter(|keys| pays(&keys.roots))
            .map(|keys| (rt.mask().clone(), keys))
        });
        let mut runtime_in_decoder = false;
        if let Some((mask, keys)) = &runtime_keys
            && mask.nearly_all_removed()
        {
            predicates.push(keys.predicate(mask));
            filter_cols.extend(keys.roots.iter().copied());
            runtime_in_decoder = true;
            self.metrics.add(RUNTIME_FILTER_IN_DECODER, 1);
        }
        let make_runtime: Option<MakeRuntimePredicate> = runtime_keys
            .map(|(mask, keys)| Box::new(move || keys.predicate(&mask)) as MakeRuntimePredicate);
        let filter_counters = Arc::new(RowFilterCounters::default());
        let mut static_filter = false;
        if cfg.row_filter && !cfg.conjuncts.is_empty() && !unselective(&cfg.row_filter_stats) {
            let mut cols = BTreeSet::new();
            for c in &cfg.conjuncts {
                for name in crate::io::predicate::column_names(c) {
                    if let Ok(i) = file_schema.index_of(&name) {
                        cols.insert(i);
                    }
                }
            }
            if pays(&cols)
                && let Some(predicate) = build_row_predicate(
                    &cfg.conjuncts,
                    &file_schema,
                    parquet_schema,
                    &cfg.table_schema,
                    &[filter_counters.clone(), cfg.row_filter_stats.clone()],
                )?
            {
                predicates.push(predicate);
                filter_cols.extend(cols);
                static_filter = true;
            }
        }
        let filter_roots = (!predicates.is_empty()).then_some(filter_cols);
        if !predicates.is_empty() {
            builder = builder.with_row_filter(RowFilter::new(predicates));
        }
        if let Some(f) = cfg.fetch {
            builder = builder.with_limit(f);
        }
        let decoder = builder
            .build()
            .map_err(|e| Error::from(e).context(format!("reading {display}")))?;

        // byte spans and prefetchable chunks per row group
        let leaves_of = |roots: &BTreeSet<usize>| -> Vec<usize> {
            (0..parquet_schema.num_columns())
                .filter(|l| roots.contains(&parquet_schema.get_column_root_idx(*l)))
                .collect()
        };
        let all_leaves = leaves_of(&roots.iter().copied().collect());
        let leaves = match &filter_roots {
            Some(f) => leaves_of(f),
            None => all_leaves.clone(),
        };
        let mut spans = vec![];
        let mut prefetchable = vec![];
        for rg in &row_groups {
            let md = meta.metadata().row_group(*rg);
            let chunks: Vec<Range<u64>> = (0..md.num_columns())
                .map(|c| {
                    let (start, len) = md.column(c).byte_range();
                    start..start + len
                })
                .collect();
            let lo = chunks.iter().map(|r| r.start).min().unwrap_or(0);
            let hi = chunks.iter().map(|r| r.end).max().unwrap_or(0);
            spans.push((*rg, lo..hi));
            prefetchable.push(if has_selection || reader.is_local() {
                (vec![], vec![])
            } else {
                (
                    leaves.iter().map(|l| chunks[*l].clone()).collect(),
                    all_leaves.iter().map(|l| chunks[*l].clone()).collect(),
                )
            });
        }
        Ok(Some(FileStream {
            display,
            decoder: Some(decoder),
            reader,
            adapter,
            row_groups: spans,
            prefetchable,
            prefetch: None,
            ready: vec![],
            rows: None,
            // without a limit, the remaining row groups can be read by a fresh decoder without
            // the row filter (and with the rest of the page selection)
            rebuild: cfg.fetch.is_none().then(|| {
                let meta = meta.clone();
                let batch_size = self.batch_size;
                let all_rows: usize = row_groups.iter().map(|rg| file.row_group_rows(*rg)).sum();
                let rows_of = {
                    let meta = meta.clone();
                    move |rg: &usize| meta.metadata().row_group(*rg).num_rows() as usize
                };
                Box::new(
                    move |rgs: Vec<usize>, predicates: Vec<Box<dyn ArrowPredicate>>| {
                        let mut builder =
                            ParquetPushDecoderBuilder::new_with_metadata(meta.clone())
                                .with_projection(mask.clone())
                                .with_batch_size(batch_size);
                        if !predicates.is_empty() {
                            builder = builder.with_row_filter(RowFilter::new(predicates));
                        }
                        if let Some(sel) = &selection {
                            let remaining: usize = rgs.iter().map(&rows_of).sum();
                            let mut rest = sel.clone();
                            let _read = rest.split_off(all_rows - remaining);
                            builder = builder.with_row_selection(rest);
                        }
                        builder.with_row_groups(rgs).build()
                    },
                ) as Rebuild
            }),
            readers: 0,
            adapt: filter_roots.is_some(),
            filtering: filter_roots.is_some(),
            static_filter,
            runtime_in_decoder,
            make_runtime,
            filter_counters,
            scan_filter_stats: cfg.row_filter_stats.clone(),
        }))
    }

    fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if self.current.is_none() {
                let slice = self.slices.pop_front()?;
                match self.open(&slice) {
                    Ok(Some(f)) => self.current = Some(f),
                    Ok(None) => continue,
                    Err(e) => return Some(Err(e)),
                }
            }
            let io = self.config.io.clone();
            let fs = self.current.as_mut()?;
            // batches of the row group being decoded
            if let Some(reader) = fs.rows.as_mut() {
                match reader.next() {
                    Some(Ok(batch)) => {
                        let batch = match fs.adapter.adapt(&batch) {
                            Ok(b) => b,
                            Err(e) => return Some(Err(e)),
                        };
                        let after = self
                            .runtime_rows
                            .as_mut()
                            .filter(|_| !fs.runtime_in_decoder);
                        match after.map(|f| f.apply(batch.clone())) {
                            None => return Some(Ok(batch)),
                            Some(Ok(b)) if b.num_rows() == 0 => continue,
                            Some(other) => return Some(other),
                        }
                    }
                    Some(Err(e)) => {
                        return Some(Err(
                            Error::from(e).context(format!("reading {}", fs.display))
                        ));
                    }
                    None => {
                        fs.rows = None;
                        // between row groups: keep the row filter only while it removes most rows
                        if fs.adapt
                            && fs.filter_unselective(self.runtime_rows.as_ref())
                            && let Err(e) = fs.drop_row_filter()
                        {
                            return Some(Err(e));
                        }
                        // the runtime filter turned out to remove nearly every row: filter
                        // inside the decoder from the next row group on
                        if !fs.filtering
                            && self
                                .runtime_rows
                                .as_ref()
                                .is_some_and(|r| r.mask().nearly_all_removed())
                        {
                            match fs.add_runtime_filter() {
                                Ok(true) => self.metrics.add(RUNTIME_FILTER_IN_DECODER, 1),
                                Ok(false) => {}
                                Err(e) => return Some(Err(e)),
                            }
                        }
                    }
                }
            }
            let Some(decoder) = fs.decoder.as_mut() else {
                return Some(Err(Error::internal("no decoder")));
            };
            match decoder.try_next_reader() {
                Ok(DecodeResult::NeedsData(ranges)) => {
                    if let Err(e) = fs.provide(&io, ranges, &self.cancel) {
                        return Some(Err(e));
                    }
                }
                Ok(DecodeResult::Data(reader)) => {
                    fs.readers += 1;
                    fs.rows = Some(reader);
                }
                Ok(DecodeResult::Finished) => {
                    if let Some(p) = fs.prefetch.take() {
                        p.handle.abort();
                    }
                    let removed = fs.filter_counters.removed.load(Ordering::Relaxed) as usize;
                    if removed > 0 {
                        self.metrics.add("rows_removed_by_row_filter", removed);
                    }
                    self.current = None;
                }
                Err(e) => {
                    return Some(Err(
                        Error::from(e).context(format!("reading {}", fs.display))
                    ));
                }
            }
        }
    }
}

impl FileStream {
    /// Between row groups, whether the row filter's predicates let most rows through so far.
    fn filter_unselective(&self, runtime: Option<&ProbeRowFilter>) -> bool {
        (!self.static_filter || unselective(&self.scan_filter_stats))
            && (!self.runtime_in_decoder || runtime.is_none_or(|r| !r.mask().selective()))
    }

    /// The row groups not handed out yet.
    fn remaining_row_groups(&self) -> Vec<usize> {
        self.row_groups
            .iter()
            .skip(self.readers)
            .map(|(rg, _)| *rg)
            .collect()
    }

    /// Continues the remaining row groups without the row filter.
    fn drop_row_filter(&mut self) -> Result<()> {
        let Some(rebuild) = self.rebuild.take() else {
            // a limit is in play: keep the filter
            self.adapt = false;
            return Ok(());
        };
        self.decoder = Some(rebuild(self.remaining_row_groups(), vec![])?);
        self.adapt = false;
        self.filtering = false;
        self.static_filter = false;
        self.runtime_in_decoder = false;
        Ok(())
    }

    /// Continues the remaining row groups with the runtime filter inside the decoder (when the
    /// file allows a new decoder and the filter pays there).
    fn add_runtime_filter(&mut self) -> Result<bool> {
        let (Some(rebuild), Some(make)) = (&self.rebuild, &self.make_runtime) else {
            return Ok(false);
        };
        let remaining = self.remaining_row_groups();
        if remaining.is_empty() {
            return Ok(false);
        }
        self.decoder = Some(rebuild(remaining, vec![make()])?);
        self.filtering = true;
        self.adapt = true;
        self.runtime_in_decoder = true;
        // a decoder with the filter is never rebuilt again (the next change drops it for good)
        self.make_runtime = None;
        Ok(true)
    }

    /// Index (in `row_groups`) of the row group holding byte `offset`.
    fn row_group_at(&self, offset: u64) -> Option<usize> {
        self.row_groups
            .iter()
            .position(|(_, span)| span.start <= offset && offset < span.end)
    }

    /// Hands the decoder the bytes it asked for.
    fn provide(
        &mut self,
        io: &crate::runtime::io_runtime::IoRuntime,
        ranges: Vec<Range<u64>>,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let at = ranges.first().and_then(|r| self.row_group_at(r.start));
        // collect the prefetch if it is for this row group; otherwise drop stale data
        if let Some(i) = at {
            let rg = self.row_groups[i].0;
            if self.prefetch.as_ref().is_some_and(|p| p.row_group == rg) {
                let p = self.prefetch.take().expect("checked above");
                let bytes = io.join_cancellable(p.handle, cancel)??;
                self.ready = p.ranges.into_iter().zip(bytes).collect();
            } else if !self
                .ready
                .first()
                .is_some_and(|(r, _)| self.row_groups[i].1.contains(&r.start))
            {
                self.ready.clear();
            }
        }
        let mut data: Vec<Option<Bytes>> = ranges
            .iter()
            .map(|r| {
                self.ready.iter().find_map(|(have, b)| {
                    (have.start <= r.start && r.end <= have.end).then(|| {
                        b.slice((r.start - have.start) as usize..(r.end - have.start) as usize)
                    })
                })
            })
            .collect();
        let missing: Vec<Range<u64>> = ranges
            .iter()
            .zip(&data)
            .filter(|(_, d)| d.is_none())
            .map(|(r, _)| r.clone())
            .collect();
        // start fetching the next row group before blocking on this one
        if let Some(i) = at {
            self.start_prefetch(io, i + 1)?;
        }
        if !missing.is_empty() {
            let fetched = if self.reader.is_local() {
                self.reader.read_local(&missing)?
            } else {
                let reader = self.reader.clone();
                io.block_on_cancellable(
                    async move { reader.fetch_ranges(&missing).await },
                    cancel,
                )??
            };
            let mut fetched = fetched.into_iter();
            for d in data.iter_mut().filter(|d| d.is_none()) {
                *d = fetched.next();
            }
        }
        let data = data
            .into_iter()
            .map(|d| d.ok_or_else(|| Error::internal("a requested range was not fetched")))
            .collect::<Result<Vec<_>>>()?;
        self.decoder
            .as_mut()
            .ok_or_else(|| Error::internal("no decoder"))?
            .push_ranges(ranges, data)
            .map_err(|e| Error::from(e).context(format!("reading {}", self.display)))
    }

    /// Starts fetching the chunks of the `i`-th row group (if any, and not already started).
    fn start_prefetch(
        &mut self,
        io: &crate::runtime::io_runtime::IoRuntime,
        i: usize,
    ) -> Result<()> {
        let Some((rg, _)) = self.row_groups.get(i) else {
            return Ok(());
        };
        let rg = *rg;
        if self.prefetch.as_ref().is_some_and(|p| p.row_group == rg) {
            return Ok(());
        }
        let (filtered, plain) = &self.prefetchable[i];
        let ranges = if self.filtering {
            filtered.clone()
        } else {
            plain.clone()
        };
        if ranges.is_empty() {
            return Ok(());
        }
        if let Some(old) = self.prefetch.take() {
            old.handle.abort();
        }
        let reader = self.reader.clone();
        let fetch_ranges = ranges.clone();
        let handle = io.spawn(async move { reader.fetch_ranges(&fetch_ranges).await })?;
        self.prefetch = Some(Prefetch {
            row_group: rg,
            ranges,
            handle,
        });
        Ok(())
    }
}

impl Iterator for PartitionStream {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.next_batch();
        if matches!(item, Some(Err(_))) {
            self.failed = true;
        }
        item
    }
}

impl Drop for PartitionStream {
    fn drop(&mut self) {
        if let Some(p) = self.current.as_mut().and_then(|f| f.prefetch.take()) {
            p.handle.abort();
        }
    }
}
