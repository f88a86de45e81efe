//! Generic CSV/TSV with a header and a [`ColumnMapping`](crate::ColumnMapping).

use std::io::BufRead;
use std::path::Path;

use csv::ByteRecord;
use daogou_core::EventKind;

use crate::options::{ColumnMapping, LoadOptions};
use crate::source::{find_column, header_names, open, parse_f64, parse_kind, Catalogue, Ctx, Sink};
use crate::{DataError, Result};

/// One cell as `&str`; on bad UTF-8 the row is reported (strict) or skipped (lenient).
macro_rules! cell {
    ($ctx:expr, $rec:expr, $i:expr, $name:expr, $line:expr) => {
        match std::str::from_utf8(&$rec[$i]) {
            Ok(s) => s.trim(),
            Err(e) => {
                $ctx.bad($line, $name, "bad UTF-8", || format!("invalid UTF-8 ({e})"))?;
                continue;
            }
        }
    };
}
pub(crate) use cell;

/// A csv reader over `input` with the delimiter guessed from the first line: tab when it
/// contains a tab, otherwise comma.
pub(crate) fn csv_reader(mut input: Box<dyn BufRead>, ctx: &Ctx) -> Result<csv::Reader<Box<dyn BufRead>>> {
    let head = input.fill_buf().map_err(|e| ctx.io(e))?;
    let first = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let delim = if first.contains(&b'\t') { b'\t' } else { b',' };
    Ok(csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(input))
}

/// Column index for an optional field: the default same-named column is used when present;
/// a renamed column must exist.
pub(crate) fn optional(header: &[String], key: &str, spec: &Option<String>, file: &str) -> Result<Option<usize>> {
    let Some(name) = spec else { return Ok(None) };
    match find_column(header, name) {
        Some(i) => Ok(Some(i)),
        None if name == key => Ok(None),
        None => Err(missing(header, key, name, file)),
    }
}

pub(crate) fn missing(header: &[String], key: &str, name: &str, file: &str) -> DataError {
    DataError::Config(format!("{file}: no column `{name}` for `{key}` in the header (columns: {})", header.join(", ")))
}

pub(crate) fn read(path: &Path, opts: &LoadOptions, ctx: &mut Ctx, sink: &mut dyn Sink) -> Result<()> {
    let mut rdr = csv_reader(open(path)?, ctx)?;
    let mut rec = ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).map_err(|e| ctx.csv_err(e))? {
        return Ok(()); // empty file
    }
    let header = header_names(&rec);
    let m: &ColumnMapping = &opts.mapping;
    if find_column(&header, &m.user).is_none() && find_column(&header, "id").is_some() {
        return read_catalogue(&mut rdr, &header, ctx, sink);
    }
    let ui = find_column(&header, &m.user).ok_or_else(|| missing(&header, "user", &m.user, &ctx.file))?;
    let ii = find_column(&header, &m.item).ok_or_else(|| missing(&header, "item", &m.item, &ctx.file))?;
    let vi = optional(&header, "value", &m.value, &ctx.file)?;
    let ti = optional(&header, "timestamp", &m.timestamp, &ctx.file)?;
    let ki = optional(&header, "kind", &m.kind, &ctx.file)?;
    let qi = optional(&header, "query", &m.query, &ctx.file)?;
    let title = optional(&header, "title", &m.title, &ctx.file)?;
    let category = optional(&header, "category", &m.category, &ctx.file)?;
    let brand = optional(&header, "brand", &m.brand, &ctx.file)?;
    let price = optional(&header, "price", &m.price, &ctx.file)?;
    let has_catalogue = title.is_some() || category.is_some() || brand.is_some() || price.is_some();
    let name = |i: usize| header[i].as_str();
    // Without a kind column: a value column means ratings, no value column means purchases.
    let default_kind = if vi.is_some() { EventKind::Rating } else { EventKind::Purchase };
    let ncols = header.len();
    let mut cat = Catalogue::default();

    while rdr.read_byte_record(&mut rec).map_err(|e| ctx.csv_err(e))? {
        ctx.report.lines += 1;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != ncols {
            let n = rec.len();
            ctx.bad(line, "columns", "wrong column count", || format!("expected {ncols} fields, found {n}"))?;
            continue;
        }
        let user = cell!(ctx, rec, ui, name(ui), line);
        let item = cell!(ctx, rec, ii, name(ii), line);
        let kind = match ki {
            None => default_kind,
            Some(k) => {
                let s = cell!(ctx, rec, k, name(k), line);
                if s.is_empty() {
                    default_kind
                } else if let Some(kind) = parse_kind(s) {
                    kind
                } else {
                    ctx.bad(line, name(k), "bad kind", || {
                        format!("unknown event kind `{s}` (expected one of: view, click, search, add_to_cart, purchase, return, rating)")
                    })?;
                    continue;
                }
            }
        };
        let value = match vi {
            None => 1.0,
            Some(v) => {
                let s = cell!(ctx, rec, v, name(v), line);
                if s.is_empty() {
                    1.0
                } else if let Some(x) = s.parse::<f32>().ok().filter(|x| x.is_finite()) {
                    x
                } else {
                    ctx.bad(line, name(v), &format!("bad {}", name(v)), || format!("expected a number, found `{s}`"))?;
                    continue;
                }
            }
        };
        let timestamp = match ti {
            None => 0,
            Some(t) => {
                let s = cell!(ctx, rec, t, name(t), line);
                if s.is_empty() {
                    0
                } else if let Some(ts) = ctx.time.parse(s) {
                    ts
                } else {
                    ctx.bad(line, name(t), &format!("bad {}", name(t)), || format!("cannot parse timestamp `{s}`"))?;
                    continue;
                }
            }
        };
        let query = match qi {
            None => None,
            Some(q) => Some(cell!(ctx, rec, q, name(q), line)).filter(|s| !s.is_empty()),
        };
        if has_catalogue && !item.is_empty() {
            let p = match price {
                None => None,
                Some(p) => {
                    let s = cell!(ctx, rec, p, name(p), line);
                    if s.is_empty() {
                        None
                    } else if let Some(x) = parse_f64(s) {
                        Some(x)
                    } else {
                        ctx.bad(line, name(p), &format!("bad {}", name(p)), || {
                            format!("expected a number, found `{s}`")
                        })?;
                        continue;
                    }
                }
            };
            let t = match title {
                Some(c) => cell!(ctx, rec, c, name(c), line),
                None => "",
            };
            let c = match category {
                Some(c) => cell!(ctx, rec, c, name(c), line),
                None => "",
            };
            let b = match brand {
                Some(c) => cell!(ctx, rec, c, name(c), line),
                None => "",
            };
            let e = cat.entry(item, |_| {});
            if e.title.is_empty() && !t.is_empty() {
                e.title = t.to_owned();
            }
            if e.category.is_none() && !c.is_empty() {
                e.category = Some(c.to_owned());
            }
            if e.brand.is_none() && !b.is_empty() {
                e.brand = Some(b.to_owned());
            }
            if e.price.is_none() {
                e.price = p;
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
        match sink.event(user, item, kind, value, timestamp, query) {
            None => ctx.report.events += 1,
            Some(reason) => ctx.report.skip(reason),
        }
    }
    cat.flush(sink, &mut ctx.report);
    Ok(())
}

/// A catalogue file: a header with `id` and no user column. Known columns fill the item's
/// fields (`title`, `category`, `brand`, `price`, `created_at`, `available`, `stock`); every
/// other non-empty cell becomes a free attribute under its column name. Each row is a
/// complete record that replaces an earlier one with the same id.
fn read_catalogue(
    rdr: &mut csv::Reader<Box<dyn BufRead>>,
    header: &[String],
    ctx: &mut Ctx,
    sink: &mut dyn Sink,
) -> Result<()> {
    let col = |name: &str| find_column(header, name);
    let id = col("id").expect("caller checked the id column");
    let known: Vec<(usize, &str)> = ["title", "category", "brand", "price", "created_at", "available", "stock"]
        .into_iter()
        .filter_map(|k| col(k).map(|i| (i, k)))
        .collect();
    let mut rec = ByteRecord::new();
    let ncols = header.len();
    'rows: while rdr.read_byte_record(&mut rec).map_err(|e| ctx.csv_err(e))? {
        ctx.report.lines += 1;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != ncols {
            let n = rec.len();
            ctx.bad(line, "columns", "wrong column count", || format!("expected {ncols} fields, found {n}"))?;
            continue;
        }
        let item_id = cell!(ctx, rec, id, "id", line);
        if item_id.is_empty() {
            ctx.bad(line, "id", "missing id", || "empty item id".into())?;
            continue;
        }
        let mut item = daogou_core::Item::new(item_id);
        for i in (0..ncols).filter(|&i| i != id) {
            let v = cell!(ctx, rec, i, header[i].as_str(), line);
            if v.is_empty() {
                continue;
            }
            let field = known.iter().find(|k| k.0 == i).map(|k| k.1);
            let bad = |what: &str| format!("expected {what}, found `{v}`");
            let problem = match field {
                Some("title") => {
                    item.title = v.to_owned();
                    None
                }
                Some("category") => {
                    item.category = Some(v.to_owned());
                    None
                }
                Some("brand") => {
                    item.brand = Some(v.to_owned());
                    None
                }
                Some("price") => parse_f64(v).map(|x| item.price = Some(x)).map_or(Some(bad("a number")), |_| None),
                Some("stock") => v.parse().ok().map(|x| item.stock = Some(x)).map_or(Some(bad("an integer")), |_| None),
                Some("created_at") => {
                    crate::parse_time(v).map(|t| item.created_at = Some(t)).map_or(Some(bad("a time")), |_| None)
                }
                Some(_) => match v.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "y" => None,
                    "false" | "0" | "no" | "n" => {
                        item.available = false;
                        None
                    }
                    _ => Some(bad("true or false")),
                },
                None => {
                    item.attributes.insert(header[i].clone(), v.to_owned());
                    None
                }
            };
            if let Some(msg) = problem {
                let name = header[i].clone();
                ctx.bad(line, &name, &format!("bad {name}"), || msg)?;
                continue 'rows;
            }
        }
        ctx.report.items += 1;
        sink.item(item, true);
    }
    Ok(())
}
