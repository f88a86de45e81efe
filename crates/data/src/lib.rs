//! # daogou-data
//!
//! Data in: readers for CSV / JSONL (optionally gzip) and Parquet, column mappings, the MovieLens and
//! Online Retail presets, preprocessing, splits, and the synthetic demo shop.
//!
//! ```no_run
//! use daogou_data::{load_dataset, Format, LoadOptions, Split};
//! let (ds, report) = load_dataset("online_retail.csv.gz".as_ref(), &LoadOptions::new(Format::OnlineRetail))?;
//! println!("{report}");
//! let (train, test) = daogou_data::split(&ds.interactions, &"time:2011-11-09".parse::<Split>()?, 42);
//! # Ok::<(), daogou_data::DataError>(())
//! ```
//!
//! * [`read_file`] gives external-id [`Records`] (for the database); [`load_into`] and
//!   [`load_dataset`] map ids straight into a [`Dataset`] without allocating for known ids.
//! * Gzip is decompressed transparently (`.gz` extension or the gzip magic bytes).
//! * Lenient by default: malformed rows are skipped and counted by reason in the
//!   [`LoadReport`]; with [`LoadOptions::strict`] the first one is a [`DataError::Malformed`]
//!   naming `file:line` and the field.
#![warn(missing_docs)]

// The private modules are public (hidden from the docs) for the crate's tests in tests/it:
// one test binary against the library instead of a second, optimised compile of the library
// with its unit tests. Not API: callers use the re-exports below.
#[doc(hidden)]
pub mod delimited;
#[doc(hidden)]
pub mod error;
pub mod features;
#[doc(hidden)]
pub mod jsonl;
pub mod movielens;
#[doc(hidden)]
pub mod options;
#[doc(hidden)]
pub mod parquet_file;
pub mod preprocess;
#[doc(hidden)]
pub mod retail;
#[doc(hidden)]
pub mod signal;
#[doc(hidden)]
pub mod source;
pub mod split;
pub mod synth;
#[doc(hidden)]
pub mod time;

use std::ops::Range;
use std::path::Path;

use daogou_core::{Dataset, EventColumns, EventKind};

pub use error::{DataError, Result};
pub use options::{ColumnMapping, Format, LoadOptions, LoadReport, Records};
pub use preprocess::{dedupe, k_core, mean_center, time_decay, to_implicit, z_score, EventWeights};
pub use retail::is_non_product;
pub use signal::{Signal, SignalRecord};
pub use split::{cold_items, k_fold, split, Split};
pub use time::parse_time;

use source::{BatchSink, ColumnsSink, Ctx, DatasetSink, RecordsSink, Sink};

fn read_with(path: &Path, opts: &LoadOptions, sink: &mut dyn Sink) -> Result<LoadReport> {
    let mut ctx = Ctx::new(path, opts);
    let format = opts.format.for_file(path);
    if matches!(format, Format::Movielens | Format::OnlineRetail) && options::is_parquet(path) {
        return Err(DataError::Config(format!(
            "{}: the {format} preset reads text files; read a Parquet file with --format parquet and a --mapping",
            path.display()
        )));
    }
    match format {
        Format::Movielens => movielens::read(path, opts, &mut ctx, sink)?,
        Format::OnlineRetail => retail::read(path, opts, &mut ctx, sink)?,
        Format::Csv => delimited::read(path, opts, &mut ctx, sink)?,
        Format::Jsonl => jsonl::read(path, opts, &mut ctx, sink)?,
        Format::Parquet => parquet_file::read(path, opts, &mut ctx, sink)?,
    }
    Ok(ctx.report)
}

/// Read a file into external-id records: catalogue items and events, for storing.
pub fn read_file(path: &Path, opts: &LoadOptions) -> Result<Records> {
    let mut sink = RecordsSink::default();
    let report = read_with(path, opts, &mut sink)?;
    Ok(Records { items: sink.items, events: sink.events, report })
}

/// Read a file in batches, for imports of any size: `on_batch(items, events)` receives at
/// most `batch` events at a time, with the catalogue items read since the previous call
/// (before the events), and once more at the end. A file of at most `batch` events arrives
/// in one call, exactly as [`read_file`] gives it. When `on_batch` answers false (its write
/// failed) nothing more is handed on; the report covers the whole file either way.
pub fn read_file_batched(
    path: &Path,
    opts: &LoadOptions,
    batch: usize,
    on_batch: &mut dyn FnMut(&[daogou_core::Item], &[daogou_core::Event]) -> bool,
) -> Result<LoadReport> {
    let mut sink = BatchSink { records: RecordsSink::default(), batch, on_batch, stopped: false };
    let report = read_with(path, opts, &mut sink)?;
    sink.flush();
    Ok(report)
}

/// Read a file into `ds`: ids are mapped (new ones appended to the id maps), interactions
/// appended, catalogue entries merged (fields found in the file overwrite; JSONL items
/// replace). Returns the range of `ds.interactions` that was appended.
///
/// `ds.explicit` becomes true when every interaction in `ds` is a rating. A search event
/// without an item cannot be mapped and is skipped as `search without item`.
/// On error `ds` may hold part of the file.
pub fn load_into(ds: &mut Dataset, path: &Path, opts: &LoadOptions) -> Result<(Range<usize>, LoadReport)> {
    let start = ds.interactions.len();
    let was_explicit = start == 0 || ds.explicit;
    let report = read_with(path, opts, &mut DatasetSink { ds })?;
    let end = ds.interactions.len();
    ds.explicit = was_explicit && end > 0 && ds.interactions[start..].iter().all(|x| x.kind == EventKind::Rating);
    Ok((start..end, report))
}

/// Read a file the compact way: ids into `ds`'s id maps and catalogue (as [`load_into`]),
/// events appended to `columns` instead of `ds.interactions` (13 bytes an event without
/// times). What a training run that needs only the matrix reads; `ds.explicit` is left alone
/// (see [`EventColumns::all_ratings`]).
pub fn load_columns_into(
    ds: &mut Dataset,
    columns: &mut EventColumns,
    path: &Path,
    opts: &LoadOptions,
) -> Result<LoadReport> {
    read_with(path, opts, &mut ColumnsSink { ds, columns })
}

/// Read a file into a fresh [`Dataset`].
pub fn load_dataset(path: &Path, opts: &LoadOptions) -> Result<(Dataset, LoadReport)> {
    let mut ds = Dataset::default();
    let (_, report) = load_into(&mut ds, path, opts)?;
    Ok((ds, report))
}
