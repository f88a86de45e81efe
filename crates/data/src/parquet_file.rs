//! Parquet files, read with Apache Arrow's `parquet` crate: events and catalogue items under
//! the same [`ColumnMapping`](crate::ColumnMapping) and rules as CSV (`delimited.rs`): a file
//! with the user column holds events (catalogue columns in it describe the items), a file with
//! `id` and no user column is a catalogue. Columns are found by name (exact, then ignoring
//! ASCII case); a null cell reads like an empty CSV cell.
//!
//! Accepted column types: text (`Utf8`, `LargeUtf8`, `Utf8View`, dictionary-encoded text as
//! pandas writes categoricals), integers, floats, booleans, `Timestamp` (any unit; time zones
//! are instants, so they need no conversion) and `Date32`/`Date64`. Ids may be integers, or
//! floats holding whole numbers (pandas writes an integer column with gaps as `float64`).
//! Numbers in a timestamp column are unix time, read as a CSV cell would be.
//!
//! Errors name the file, the row group and row (both counted from 0, as Parquet tools count)
//! and the column. A file that cannot be decoded fails in lenient mode too; the row group is
//! then read again column by column to name the column that does not decode.

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use daogou_core::{EventKind, Item};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use crate::delimited::{missing, optional};
use crate::options::{ColumnMapping, LoadOptions};
use crate::source::{find_column, parse_f64, parse_kind, Catalogue, Ctx, Sink};
use crate::{DataError, Result};

/// One cell, as read from whatever type its column has.
#[derive(Debug, Clone, Copy)]
enum Cell<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    /// unix seconds (from a Timestamp or Date column)
    Time(i64),
}

/// Whether a column's type can be read at all (checked once, before any row).
fn supported(t: &DataType) -> bool {
    use DataType::*;
    match t {
        Utf8
        | LargeUtf8
        | Utf8View
        | Int8
        | Int16
        | Int32
        | Int64
        | UInt8
        | UInt16
        | UInt32
        | UInt64
        | Float32
        | Float64
        | Boolean
        | Timestamp(_, _)
        | Date32
        | Date64 => true,
        Dictionary(k, v) => k.is_integer() && supported(v) && !matches!(**v, Dictionary(..)),
        _ => false,
    }
}

/// The cell at `row` of `a` (whose type passed [`supported`]).
fn cell(a: &dyn Array, row: usize) -> Cell<'_> {
    if a.is_null(row) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Utf8 => Cell::Str(a.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Cell::Str(a.as_string::<i64>().value(row)),
        DataType::Utf8View => Cell::Str(a.as_string_view().value(row)),
        DataType::Int8 => Cell::Int(a.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => Cell::Int(a.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => Cell::Int(a.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Cell::UInt(a.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => Cell::UInt(a.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => Cell::UInt(a.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => Cell::UInt(a.as_primitive::<UInt64Type>().value(row)),
        DataType::Float32 => Cell::Float(a.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Cell::Bool(a.as_boolean().value(row)),
        DataType::Timestamp(unit, _) => {
            let (v, per_second) = match unit {
                TimeUnit::Second => (a.as_primitive::<TimestampSecondType>().value(row), 1),
                TimeUnit::Millisecond => (a.as_primitive::<TimestampMillisecondType>().value(row), 1_000),
                TimeUnit::Microsecond => (a.as_primitive::<TimestampMicrosecondType>().value(row), 1_000_000),
                TimeUnit::Nanosecond => (a.as_primitive::<TimestampNanosecondType>().value(row), 1_000_000_000),
            };
            Cell::Time(v.div_euclid(per_second))
        }
        DataType::Date32 => Cell::Time(i64::from(a.as_primitive::<Date32Type>().value(row)) * 86_400),
        DataType::Date64 => Cell::Time(a.as_primitive::<Date64Type>().value(row).div_euclid(1_000)),
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            match cell(d.keys(), row) {
                Cell::Int(k) if k >= 0 => cell(d.values().as_ref(), k as usize),
                Cell::UInt(k) => cell(d.values().as_ref(), k as usize),
                _ => Cell::Null,
            }
        }
        _ => unreachable!("column types are checked by `supported` before reading"),
    }
}

/// A whole float as an integer id (`17850.0` → `17850`), like the CSV presets' `.0` rule.
fn whole(f: f64) -> Option<i64> {
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// The cell as text: `None` when a cell of this kind has no sensible text (a fractional id).
fn text<'a>(c: Cell<'a>, id: bool) -> Option<Cow<'a, str>> {
    Some(match c {
        Cell::Null => Cow::Borrowed(""),
        Cell::Str(s) => Cow::Borrowed(s.trim()),
        Cell::Int(i) => Cow::Owned(i.to_string()),
        Cell::UInt(u) => Cow::Owned(u.to_string()),
        Cell::Float(f) => match whole(f) {
            Some(i) => Cow::Owned(i.to_string()),
            None if id => return None,
            None => Cow::Owned(f.to_string()),
        },
        Cell::Bool(b) if !id => Cow::Borrowed(if b { "true" } else { "false" }),
        Cell::Time(t) if !id => Cow::Owned(t.to_string()),
        Cell::Bool(_) | Cell::Time(_) => return None,
    })
}

/// A number: `Ok(None)` for a null or empty cell, `Err` with what was found otherwise.
fn number(c: Cell<'_>) -> std::result::Result<Option<f64>, String> {
    match c {
        Cell::Null => Ok(None),
        Cell::Str(s) if s.trim().is_empty() => Ok(None),
        Cell::Str(s) => parse_f64(s).map(Some).ok_or_else(|| format!("expected a number, found `{s}`")),
        Cell::Int(i) => Ok(Some(i as f64)),
        Cell::UInt(u) => Ok(Some(u as f64)),
        Cell::Float(f) if f.is_finite() => Ok(Some(f)),
        other => Err(format!("expected a number, found {}", describe(other))),
    }
}

/// A timestamp in unix seconds: `Ok(None)` for a null or empty cell.
fn time(c: Cell<'_>, ctx: &mut Ctx) -> std::result::Result<Option<i64>, String> {
    let s = match c {
        Cell::Null => return Ok(None),
        Cell::Time(t) => return Ok(Some(t)),
        Cell::Str(s) if s.trim().is_empty() => return Ok(None),
        Cell::Bool(_) => return Err("expected a timestamp, found a boolean".into()),
        // numbers go through the same parser as CSV cells: unix s/ms/µs, or --timestamp-format
        other => text(other, false).unwrap_or_default(),
    };
    ctx.time.parse(&s).map(Some).ok_or_else(|| format!("cannot parse timestamp `{s}`"))
}

fn describe(c: Cell<'_>) -> String {
    match c {
        Cell::Null => "null".into(),
        Cell::Str(s) => format!("`{s}`"),
        Cell::Int(i) => i.to_string(),
        Cell::UInt(u) => u.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Time(t) => format!("the time {t}"),
    }
}

/// The columns of an events file, as indices into the file's top-level fields.
struct EventColumns {
    user: usize,
    item: usize,
    value: Option<usize>,
    timestamp: Option<usize>,
    kind: Option<usize>,
    query: Option<usize>,
    title: Option<usize>,
    category: Option<usize>,
    brand: Option<usize>,
    price: Option<usize>,
}

impl EventColumns {
    fn resolve(header: &[String], m: &ColumnMapping, file: &str) -> Result<Self> {
        Ok(EventColumns {
            user: find_column(header, &m.user).ok_or_else(|| missing(header, "user", &m.user, file))?,
            item: find_column(header, &m.item).ok_or_else(|| missing(header, "item", &m.item, file))?,
            value: optional(header, "value", &m.value, file)?,
            timestamp: optional(header, "timestamp", &m.timestamp, file)?,
            kind: optional(header, "kind", &m.kind, file)?,
            query: optional(header, "query", &m.query, file)?,
            title: optional(header, "title", &m.title, file)?,
            category: optional(header, "category", &m.category, file)?,
            brand: optional(header, "brand", &m.brand, file)?,
            price: optional(header, "price", &m.price, file)?,
        })
    }

    fn all(&self) -> Vec<usize> {
        let mut v = vec![self.user, self.item];
        v.extend(
            [self.value, self.timestamp, self.kind, self.query, self.title, self.category, self.brand, self.price]
                .into_iter()
                .flatten(),
        );
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// What a file holds, decided from its columns as for CSV.
enum Layout {
    Events(EventColumns),
    /// `id` column index
    Catalogue(usize),
}

pub(crate) fn read(path: &Path, opts: &LoadOptions, ctx: &mut Ctx, sink: &mut dyn Sink) -> Result<()> {
    let file = File::open(path).map_err(DataError::io(path))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| ctx.parquet_error(None, None, "-", format!("not a readable Parquet file: {e}")))?;
    let schema = meta.schema().clone();
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let m = &opts.mapping;
    let layout = if find_column(&header, &m.user).is_none() && find_column(&header, "id").is_some() {
        Layout::Catalogue(find_column(&header, "id").expect("just checked"))
    } else {
        Layout::Events(EventColumns::resolve(&header, m, &ctx.file)?)
    };
    // Only the columns used are decoded; a catalogue keeps every column (free attributes).
    let used: Vec<usize> = match &layout {
        Layout::Events(c) => c.all(),
        Layout::Catalogue(_) => (0..header.len()).collect(),
    };
    for &i in &used {
        let t = schema.field(i).data_type();
        if !supported(t) {
            return Err(ctx.parquet_error(
                None,
                None,
                &header[i],
                format!("unsupported column type {t} (expected text, a number, a boolean, a timestamp or a date)"),
            ));
        }
    }
    let parquet_schema = meta.metadata().file_metadata().schema_descr_ptr();
    let mut cat = Catalogue::default();
    for rg in 0..meta.metadata().num_row_groups() {
        let input = file.try_clone().map_err(DataError::io(path))?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, meta.clone())
            .with_row_groups(vec![rg])
            .with_projection(ProjectionMask::roots(&parquet_schema, used.iter().copied()))
            .build()
            .map_err(|e| ctx.parquet_error(Some(rg), None, "-", e.to_string()))?;
        let mut first_row = 0u64;
        for batch in reader {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    let column = bad_column(&file, &meta, rg, &used, &header).unwrap_or_else(|| "-".into());
                    return Err(ctx.parquet_error(Some(rg), None, &column, format!("cannot decode: {e}")));
                }
            };
            // The projected batch holds the used columns in file order; index them by field.
            let arrays: Vec<Option<&dyn Array>> =
                (0..header.len()).map(|i| used.binary_search(&i).ok().map(|k| batch.column(k).as_ref())).collect();
            let rows = Rows { arrays: &arrays, header: &header, rg, first_row };
            match &layout {
                Layout::Events(c) => events(&rows, batch.num_rows(), c, ctx, sink, &mut cat)?,
                Layout::Catalogue(id) => catalogue(&rows, batch.num_rows(), *id, ctx, sink)?,
            }
            first_row += batch.num_rows() as u64;
        }
    }
    cat.flush(sink, &mut ctx.report);
    Ok(())
}

/// The first of `used` that does not decode on its own in row group `rg` (error path only).
fn bad_column(file: &File, meta: &ArrowReaderMetadata, rg: usize, used: &[usize], header: &[String]) -> Option<String> {
    let schema = meta.metadata().file_metadata().schema_descr_ptr();
    for &i in used {
        let input = file.try_clone().ok()?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, meta.clone())
            .with_row_groups(vec![rg])
            .with_projection(ProjectionMask::roots(&schema, [i]))
            .build();
        let failed = match reader {
            Err(_) => true,
            Ok(mut r) => r.any(|b| b.is_err()),
        };
        if failed {
            return Some(header[i].clone());
        }
    }
    None
}

/// A row that is skipped (lenient) or fails the read (strict): `continue` past it.
macro_rules! bad {
    ($ctx:expr, $rg:expr, $row:expr, $col:expr, $reason:expr, $msg:expr) => {{
        $ctx.bad_parquet($rg, $row, $col, $reason, || $msg)?;
        continue;
    }};
}

/// One batch: its arrays by field index (`None`: not decoded), and where it lies in the file.
struct Rows<'a> {
    arrays: &'a [Option<&'a dyn Array>],
    header: &'a [String],
    rg: usize,
    first_row: u64,
}

fn events(
    rows: &Rows<'_>,
    n: usize,
    c: &EventColumns,
    ctx: &mut Ctx,
    sink: &mut dyn Sink,
    cat: &mut Catalogue,
) -> Result<()> {
    let Rows { arrays, header, rg, first_row } = *rows;
    let col = |i: usize| arrays[i].expect("mapped columns are decoded");
    let name = |i: usize| header[i].as_str();
    // Without a kind column: a value column means ratings, no value column means purchases (as CSV).
    let default_kind = if c.value.is_some() { EventKind::Rating } else { EventKind::Purchase };
    let has_catalogue = c.title.is_some() || c.category.is_some() || c.brand.is_some() || c.price.is_some();
    let get = |i: Option<usize>, r: usize| i.map_or(Cell::Null, |i| cell(col(i), r));
    for r in 0..n {
        ctx.report.lines += 1;
        let row = first_row + r as u64;
        let Some(user) = text(cell(col(c.user), r), true) else {
            let found = describe(cell(col(c.user), r));
            bad!(ctx, rg, row, name(c.user), "bad user", format!("expected a string or integer id, found {found}"));
        };
        let Some(item) = text(cell(col(c.item), r), true) else {
            let found = describe(cell(col(c.item), r));
            bad!(ctx, rg, row, name(c.item), "bad item", format!("expected a string or integer id, found {found}"));
        };
        let kind = match get(c.kind, r) {
            Cell::Null => default_kind,
            Cell::Str(s) if s.trim().is_empty() => default_kind,
            Cell::Str(s) => match parse_kind(s.trim()) {
                Some(k) => k,
                None => {
                    let k = c.kind.map_or("kind", name);
                    bad!(ctx, rg, row, k, "bad kind", format!(
                        "unknown event kind `{s}` (expected one of: view, click, search, add_to_cart, purchase, return, rating)"
                    ));
                }
            },
            other => {
                let k = c.kind.map_or("kind", name);
                bad!(ctx, rg, row, k, "bad kind", format!("expected an event kind, found {}", describe(other)));
            }
        };
        let value = match number(get(c.value, r)) {
            Ok(v) => v.map_or(1.0, |v| v as f32),
            Err(msg) => {
                let v = c.value.map_or("value", name);
                bad!(ctx, rg, row, v, &format!("bad {v}"), msg);
            }
        };
        let timestamp = match time(get(c.timestamp, r), ctx) {
            Ok(t) => t.unwrap_or(0),
            Err(msg) => {
                let t = c.timestamp.map_or("timestamp", name);
                bad!(ctx, rg, row, t, &format!("bad {t}"), msg);
            }
        };
        let query = c.query.and_then(|q| text(cell(col(q), r), false)).filter(|s| !s.is_empty());
        if has_catalogue && !item.is_empty() {
            let price = match number(get(c.price, r)) {
                Ok(p) => p,
                Err(msg) => {
                    let p = c.price.map_or("price", name);
                    bad!(ctx, rg, row, p, &format!("bad {p}"), msg);
                }
            };
            let field = |i: Option<usize>| i.and_then(|i| text(cell(col(i), r), false)).unwrap_or_default();
            let (t, g, b) = (field(c.title), field(c.category), field(c.brand));
            let e = cat.entry(&item, |_| {});
            if e.title.is_empty() && !t.is_empty() {
                e.title = t.into_owned();
            }
            if e.category.is_none() && !g.is_empty() {
                e.category = Some(g.into_owned());
            }
            if e.brand.is_none() && !b.is_empty() {
                e.brand = Some(b.into_owned());
            }
            if e.price.is_none() {
                e.price = price;
            }
        }
        if user.is_empty() {
            ctx.report.skip("missing user");
            continue;
        }
        if item.is_empty() && kind != EventKind::Search {
            ctx.report.skip("missing item");
            continue;
        }
        match sink.event(&user, &item, kind, value, timestamp, query.as_deref()) {
            None => ctx.report.events += 1,
            Some(reason) => ctx.report.skip(reason),
        }
    }
    Ok(())
}

/// Catalogue rows: the known fields (`title`, `category`, `brand`, `price`, `created_at`,
/// `available`, `stock`) and every other non-null cell as a free attribute, as for CSV. Each
/// row is a complete record that replaces an earlier one with the same id.
fn catalogue(rows: &Rows<'_>, n: usize, id: usize, ctx: &mut Ctx, sink: &mut dyn Sink) -> Result<()> {
    let Rows { arrays, header, rg, first_row } = *rows;
    let col = |i: usize| arrays[i].expect("a catalogue decodes every column");
    const KNOWN: [&str; 7] = ["title", "category", "brand", "price", "created_at", "available", "stock"];
    let known: Vec<Option<&str>> =
        header.iter().enumerate().map(|(i, _)| KNOWN.into_iter().find(|k| find_column(header, k) == Some(i))).collect();
    'rows: for r in 0..n {
        ctx.report.lines += 1;
        let row = first_row + r as u64;
        let item_id = match text(cell(col(id), r), true) {
            Some(s) if !s.is_empty() => s,
            Some(_) => bad!(ctx, rg, row, &header[id], "missing id", "empty item id".into()),
            None => {
                let found = describe(cell(col(id), r));
                bad!(ctx, rg, row, &header[id], "bad id", format!("expected a string or integer id, found {found}"));
            }
        };
        let mut item = Item::new(item_id.into_owned());
        for i in (0..header.len()).filter(|&i| i != id) {
            let c = cell(col(i), r);
            if matches!(c, Cell::Null) || matches!(c, Cell::Str(s) if s.trim().is_empty()) {
                continue;
            }
            let problem: Option<String> = match known[i] {
                Some("title") => {
                    text(c, false).map(|s| item.title = s.into_owned()).map_or(Some(describe(c)), |_| None)
                }
                Some("category") => {
                    text(c, false).map(|s| item.category = Some(s.into_owned())).map_or(Some(describe(c)), |_| None)
                }
                Some("brand") => {
                    text(c, false).map(|s| item.brand = Some(s.into_owned())).map_or(Some(describe(c)), |_| None)
                }
                Some("price") => match number(c) {
                    Ok(p) => {
                        item.price = p;
                        None
                    }
                    Err(msg) => Some(msg),
                },
                Some("stock") => {
                    let v = match c {
                        Cell::Int(v) => Some(v),
                        Cell::UInt(v) => i64::try_from(v).ok(),
                        Cell::Float(f) => whole(f),
                        Cell::Str(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    match v {
                        Some(v) => {
                            item.stock = Some(v);
                            None
                        }
                        None => Some(format!("expected an integer, found {}", describe(c))),
                    }
                }
                Some("created_at") => match time(c, ctx) {
                    Ok(t) => {
                        item.created_at = t;
                        None
                    }
                    Err(msg) => Some(msg),
                },
                Some(_) => match c {
                    Cell::Bool(b) => {
                        item.available = b;
                        None
                    }
                    Cell::Int(0) | Cell::UInt(0) => {
                        item.available = false;
                        None
                    }
                    Cell::Int(1) | Cell::UInt(1) => None,
                    Cell::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" | "y" => None,
                        "false" | "0" | "no" | "n" => {
                            item.available = false;
                            None
                        }
                        _ => Some(format!("expected true or false, found `{s}`")),
                    },
                    other => Some(format!("expected true or false, found {}", describe(other))),
                },
                None => {
                    if let Some(s) = text(c, false) {
                        item.attributes.insert(header[i].clone(), s.into_owned());
                    }
                    None
                }
            };
            if let Some(msg) = problem {
                let name = header[i].clone();
                ctx.bad_parquet(rg, row, &name, &format!("bad {name}"), || msg)?;
                continue 'rows;
            }
        }
        ctx.report.items += 1;
        sink.item(item, true);
    }
    Ok(())
}
