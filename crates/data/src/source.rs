//! Shared reading machinery: opening (gzip), per-file context (strict/lenient, report),
//! the sinks that receive parsed rows (external-id records or a mapped dataset), and a
//! small catalogue builder.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use daogou_core::{Dataset, Event, EventKind, Item};
use flate2::bufread::MultiGzDecoder;
use rustc_hash::FxHashMap;

use crate::options::{LoadOptions, LoadReport};
use crate::time::TimeParser;
use crate::{DataError, Result};

const BUF: usize = 1 << 17;

/// Open a file for buffered reading, decompressing gzip (by `.gz` extension or magic bytes).
pub fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let f = File::open(path).map_err(DataError::io(path))?;
    let mut r = BufReader::with_capacity(BUF, f);
    let head = r.fill_buf().map_err(DataError::io(path))?;
    let gz = head.starts_with(&[0x1f, 0x8b]) || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    if gz {
        Ok(Box::new(BufReader::with_capacity(BUF, MultiGzDecoder::new(r))))
    } else {
        Ok(Box::new(r))
    }
}

/// Per-file state: options, report, timestamp parser.
pub(crate) struct Ctx {
    pub file: String,
    pub path: std::path::PathBuf,
    pub strict: bool,
    pub report: LoadReport,
    pub time: TimeParser,
}

impl Ctx {
    pub(crate) fn new(path: &Path, opts: &LoadOptions) -> Self {
        let file = path.display().to_string();
        Ctx {
            report: LoadReport { file: file.clone(), ..Default::default() },
            file,
            path: path.to_owned(),
            strict: opts.strict,
            time: TimeParser::new(opts.timestamp_format.as_deref()),
        }
    }

    /// A malformed row: an error in strict mode, otherwise counted under `reason` and skipped.
    pub(crate) fn bad(&mut self, line: u64, field: &str, reason: &str, message: impl FnOnce() -> String) -> Result<()> {
        if self.strict {
            Err(self.malformed(line, field, message()))
        } else {
            self.report.skip(reason);
            Ok(())
        }
    }

    pub(crate) fn malformed(&self, line: u64, field: &str, message: String) -> DataError {
        DataError::Malformed { file: self.file.clone(), line, field: field.to_owned(), message }
    }

    /// A malformed Parquet row, as [`Ctx::bad`] for a line.
    pub(crate) fn bad_parquet(
        &mut self,
        row_group: usize,
        row: u64,
        column: &str,
        reason: &str,
        message: impl FnOnce() -> String,
    ) -> Result<()> {
        if self.strict {
            Err(self.parquet_error(Some(row_group), Some(row), column, message()))
        } else {
            self.report.skip(reason);
            Ok(())
        }
    }

    pub(crate) fn parquet_error(
        &self,
        row_group: Option<usize>,
        row: Option<u64>,
        column: &str,
        message: String,
    ) -> DataError {
        DataError::Parquet { file: self.file.clone(), row_group, row, column: column.to_owned(), message }
    }

    pub(crate) fn io(&self, e: std::io::Error) -> DataError {
        DataError::Io { path: self.path.clone(), source: e }
    }

    /// Convert a csv error: I/O stays I/O, anything else is a malformed row.
    pub(crate) fn csv_err(&self, e: csv::Error) -> DataError {
        let line = e.position().map_or(0, |p| p.line());
        match e.into_kind() {
            csv::ErrorKind::Io(io) => self.io(io),
            other => self.malformed(line, "columns", format!("{other:?}")),
        }
    }
}

/// Where parsed rows go.
pub(crate) trait Sink {
    /// Take one event; `Some(reason)` when the sink cannot hold it (counted as a skip).
    fn event(
        &mut self,
        user: &str,
        item: &str,
        kind: EventKind,
        value: f32,
        timestamp: i64,
        query: Option<&str>,
    ) -> Option<&'static str>;
    /// Take one catalogue item. `replace`: the item is a complete record (JSONL) that replaces
    /// an existing entry; otherwise it is derived data merged into an existing entry.
    fn item(&mut self, item: Item, replace: bool);
}

/// External-id records.
#[derive(Default)]
pub(crate) struct RecordsSink {
    pub events: Vec<Event>,
    pub items: Vec<Item>,
}

impl Sink for RecordsSink {
    fn event(
        &mut self,
        user: &str,
        item: &str,
        kind: EventKind,
        value: f32,
        timestamp: i64,
        query: Option<&str>,
    ) -> Option<&'static str> {
        self.events.push(Event {
            user: user.to_owned(),
            item: item.to_owned(),
            kind,
            value,
            timestamp,
            query: query.map(str::to_owned),
        });
        None
    }

    fn item(&mut self, item: Item, _replace: bool) {
        self.items.push(item);
    }
}

/// External-id records handed on in batches of at most `batch` events (catalogue items
/// read so far go with each batch, before its events), so that a file of any size is
/// imported in bounded memory. After `on_batch` answers false nothing more is handed on.
pub(crate) struct BatchSink<'a> {
    pub records: RecordsSink,
    pub batch: usize,
    pub on_batch: &'a mut dyn FnMut(&[Item], &[Event]) -> bool,
    pub stopped: bool,
}

impl BatchSink<'_> {
    pub fn flush(&mut self) {
        let RecordsSink { events, items } = &mut self.records;
        if !self.stopped && !(items.is_empty() && events.is_empty()) && !(self.on_batch)(items, events) {
            self.stopped = true;
        }
        items.clear();
        events.clear();
    }
}

impl Sink for BatchSink<'_> {
    fn event(
        &mut self,
        user: &str,
        item: &str,
        kind: EventKind,
        value: f32,
        timestamp: i64,
        query: Option<&str>,
    ) -> Option<&'static str> {
        if self.stopped {
            return None;
        }
        let skipped = self.records.event(user, item, kind, value, timestamp, query);
        if self.records.events.len() >= self.batch.max(1) {
            self.flush();
        }
        skipped
    }

    fn item(&mut self, item: Item, replace: bool) {
        if !self.stopped {
            self.records.item(item, replace);
        }
    }
}

/// One event's ids mapped into `ds`'s id maps (new ones appended, a bare catalogue entry for a
/// new item); the skip reason when it cannot be mapped (a search without an item).
#[inline]
fn map_event(
    ds: &mut Dataset,
    user: &str,
    item: &str,
    kind: EventKind,
    value: f32,
    timestamp: i64,
) -> std::result::Result<daogou_core::Interaction, &'static str> {
    if item.is_empty() {
        return Err("search without item");
    }
    let user = ds.users.get_or_insert(user);
    let item = ds.item_index(item);
    Ok(daogou_core::Interaction { user, item, value, timestamp, kind })
}

/// Ids mapped straight into a dataset; no allocation for ids already known.
pub(crate) struct DatasetSink<'a> {
    pub ds: &'a mut Dataset,
}

impl Sink for DatasetSink<'_> {
    #[inline]
    fn event(
        &mut self,
        user: &str,
        item: &str,
        kind: EventKind,
        value: f32,
        timestamp: i64,
        _query: Option<&str>,
    ) -> Option<&'static str> {
        match map_event(self.ds, user, item, kind, value, timestamp) {
            Ok(x) => self.ds.interactions.push(x),
            Err(skip) => return Some(skip),
        }
        None
    }

    fn item(&mut self, item: Item, replace: bool) {
        if replace {
            self.ds.upsert_item(item);
        } else {
            let i = self.ds.item_index(&item.id) as usize;
            merge_item(&mut self.ds.catalogue[i], item);
        }
    }
}

/// Ids mapped into a [`Dataset`]'s id maps and catalogue, events into [`EventColumns`]
/// (the compact path for large training runs).
pub(crate) struct ColumnsSink<'a> {
    pub ds: &'a mut Dataset,
    pub columns: &'a mut daogou_core::EventColumns,
}

impl Sink for ColumnsSink<'_> {
    #[inline]
    fn event(
        &mut self,
        user: &str,
        item: &str,
        kind: EventKind,
        value: f32,
        timestamp: i64,
        _query: Option<&str>,
    ) -> Option<&'static str> {
        match map_event(self.ds, user, item, kind, value, timestamp) {
            Ok(x) => self.columns.push(x),
            Err(skip) => return Some(skip),
        }
        None
    }

    fn item(&mut self, item: Item, replace: bool) {
        DatasetSink { ds: self.ds }.item(item, replace)
    }
}

/// Fields present in `src` overwrite `dst`; attributes are added; availability and stock
/// are left alone unless `src` knows the stock.
pub(crate) fn merge_item(dst: &mut Item, src: Item) {
    if !src.title.is_empty() {
        dst.title = src.title;
    }
    if src.category.is_some() {
        dst.category = src.category;
    }
    if src.brand.is_some() {
        dst.brand = src.brand;
    }
    if src.price.is_some() {
        dst.price = src.price;
    }
    if src.created_at.is_some() {
        dst.created_at = src.created_at;
    }
    if src.stock.is_some() {
        dst.stock = src.stock;
    }
    dst.attributes.extend(src.attributes);
}

/// Catalogue entries built up while reading (first non-empty value of each field wins).
#[derive(Default)]
pub(crate) struct Catalogue {
    index: FxHashMap<String, usize>,
    items: Vec<Item>,
}

impl Catalogue {
    /// The entry for `id`, created (via `init`) when new.
    pub(crate) fn entry(&mut self, id: &str, init: impl FnOnce(&mut Item)) -> &mut Item {
        let i = match self.index.get(id) {
            Some(&i) => i,
            None => {
                let i = self.items.len();
                let mut it = Item::new(id);
                init(&mut it);
                self.items.push(it);
                self.index.insert(id.to_owned(), i);
                i
            }
        };
        &mut self.items[i]
    }

    /// Hand all entries to the sink in first-seen order.
    pub(crate) fn flush(self, sink: &mut dyn Sink, report: &mut LoadReport) {
        report.items += self.items.len() as u64;
        for it in self.items {
            sink.item(it, false);
        }
    }
}

/// Event kind from a cell: canonical names without allocation, aliases through core.
#[inline]
pub(crate) fn parse_kind(s: &str) -> Option<EventKind> {
    Some(match s {
        "view" => EventKind::View,
        "click" => EventKind::Click,
        "search" => EventKind::Search,
        "add_to_cart" => EventKind::AddToCart,
        "purchase" => EventKind::Purchase,
        "return" => EventKind::Return,
        "rating" => EventKind::Rating,
        _ => return s.parse().ok(),
    })
}

/// Column index of `name` in a header: exact (trimmed) match first, then ASCII-case-insensitive.
pub(crate) fn find_column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name).or_else(|| header.iter().position(|h| h.eq_ignore_ascii_case(name)))
}

/// Header cells as trimmed strings (a UTF-8 byte-order mark on the first cell is dropped).
pub(crate) fn header_names(rec: &csv::ByteRecord) -> Vec<String> {
    rec.iter()
        .enumerate()
        .map(|(i, b)| {
            let b = if i == 0 { b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b) } else { b };
            String::from_utf8_lossy(b).trim().to_owned()
        })
        .collect()
}

/// A float cell (`""` → `None`-like error by the caller).
#[inline]
pub(crate) fn parse_f64(s: &str) -> Option<f64> {
    let s = s.trim();
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}
