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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::write;
    use crate::{load_dataset, read_file, Format, LoadOptions};

    #[test]
    fn default_mapping_with_kinds_and_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let text = "\u{feff}user,item,kind,value,timestamp,query,title,category,brand,price\n\
                    u1,sku1,view,,2024-01-01 10:00:00,,Running Shoe,鞋/跑鞋,Acme,59.9\n\
                    u1,,search,,2024-01-01 10:01:00,跑鞋,,,,\n\
                    u1,sku1,Add-To-Cart,1,1704103300,,,,,\n\
                    u2,sku2,purchase,2,2024-01-02,,\"Sock, wool\",,,3\n\
                    u2,sku2,wishlist,1,2024-01-02,,,,,\n\
                    ,sku2,view,1,2024-01-02,,,,,\n";
        let p = write(dir.path(), "ev.csv.gz", text.as_bytes());
        let r = read_file(&p, &LoadOptions::new(Format::Csv)).unwrap();
        assert_eq!((r.report.lines, r.report.events), (6, 4));
        assert_eq!(r.report.skipped["bad kind"], 1);
        assert_eq!(r.report.skipped["missing user"], 1);
        let kinds: Vec<_> = r.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::View, EventKind::Search, EventKind::AddToCart, EventKind::Purchase]);
        assert_eq!(r.events[1].query.as_deref(), Some("跑鞋"));
        assert_eq!(r.events[1].item, "");
        assert_eq!(r.events[0].value, 1.0); // empty value cell → 1
        assert_eq!(r.events[3].value, 2.0);
        assert_eq!(r.events[3].timestamp, 1_704_153_600);
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[0].category.as_deref(), Some("鞋/跑鞋"));
        assert_eq!((r.items[0].brand.as_deref(), r.items[0].price), (Some("Acme"), Some(59.9)));
        assert_eq!(r.items[1].title, "Sock, wool");

        let (ds, rep) = load_dataset(&p, &LoadOptions::new(Format::Csv)).unwrap();
        assert_eq!(ds.interactions.len(), 3);
        assert_eq!(rep.skipped["search without item"], 1);
        assert!(!ds.explicit);
        assert_eq!(ds.title(ds.items.get("sku1").unwrap()), "Running Shoe");

        let strict = LoadOptions { strict: true, ..LoadOptions::new(Format::Csv) };
        let msg = read_file(&p, &strict).unwrap_err().to_string();
        assert!(msg.contains("ev.csv.gz:6: field `kind`: unknown event kind `wishlist`"), "{msg}");
    }

    #[test]
    fn catalogue_csv_has_id_and_no_user_column() {
        let dir = tempfile::tempdir().unwrap();
        let text = "id,title,category,brand,price,stock,available,created_at,color\n\
                    sku1,Trail Shoe,鞋/跑鞋,Acme,299,12,true,2024-03-01,red\n\
                    sku2,Sock,袜子,,9.5,,no,,\n\
                    sku3,Cap,帽子,,cheap,,,,\n";
        let p = write(dir.path(), "items.csv", text.as_bytes());
        let r = read_file(&p, &LoadOptions::new(Format::Csv)).unwrap();
        assert_eq!((r.report.lines, r.report.items, r.report.events), (3, 2, 0));
        assert_eq!(r.report.skipped["bad price"], 1);
        let shoe = &r.items[0];
        assert_eq!((shoe.title.as_str(), shoe.brand.as_deref(), shoe.price), ("Trail Shoe", Some("Acme"), Some(299.0)));
        assert_eq!((shoe.stock, shoe.available, shoe.created_at), (Some(12), true, Some(1_709_251_200)));
        assert_eq!(shoe.attributes.get("color").map(String::as_str), Some("red"));
        assert!(!r.items[1].available && r.items[1].brand.is_none() && r.items[1].attributes.is_empty());
        let strict = LoadOptions { strict: true, ..LoadOptions::new(Format::Csv) };
        let msg = read_file(&p, &strict).unwrap_err().to_string();
        assert!(msg.contains("items.csv:4: field `price`"), "{msg}");
    }

    #[test]
    fn renamed_columns_tabs_and_kind_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "r.tsv",
            b"CustomerID\tStockCode\tQuantity\tInvoiceDate\n17850\t85123A\t6\t2010-12-01 08:26:00\n",
        );
        let mut opts = LoadOptions::new(Format::Csv);
        opts.mapping =
            ColumnMapping::parse("user=CustomerID,item=StockCode,value=Quantity,timestamp=InvoiceDate").unwrap();
        let (ds, _) = load_dataset(&p, &opts).unwrap();
        let x = ds.interactions[0];
        // no kind column but a value column: ratings
        assert_eq!((x.kind, x.value, x.timestamp), (EventKind::Rating, 6.0, 1_291_191_960));
        assert!(ds.explicit);

        // neither kind nor value: purchases with value 1
        let p = write(dir.path(), "p.csv", b"user,item\na,b\na,c\n");
        let (ds, _) = load_dataset(&p, &LoadOptions::new(Format::Csv)).unwrap();
        assert!(ds.interactions.iter().all(|x| x.kind == EventKind::Purchase && x.value == 1.0 && x.timestamp == 0));
        assert!(!ds.explicit);

        // case-insensitive header match
        let p = write(dir.path(), "c.csv", b"User,Item,Value\na,b,3\n");
        assert_eq!(load_dataset(&p, &LoadOptions::new(Format::Csv)).unwrap().0.interactions[0].value, 3.0);

        // a renamed column must exist; a default one may be absent
        opts.mapping = ColumnMapping::parse("value=Qty").unwrap();
        let msg = load_dataset(&p, &opts).unwrap_err().to_string();
        assert!(msg.contains("no column `Qty` for `value`") && msg.contains("User, Item, Value"), "{msg}");
        opts.mapping = ColumnMapping::parse("user=who").unwrap();
        assert!(load_dataset(&p, &opts).unwrap_err().to_string().contains("`who`"));

        // custom timestamp format; lenient counting of bad values, strict error with line
        let p = write(
            dir.path(),
            "t.csv",
            b"user,item,value,timestamp\na,b,1,01.12.2010 08:26\na,c,x,01.12.2010 08:27\na,d,1,2010-12-01\n",
        );
        let mut opts = LoadOptions::new(Format::Csv);
        opts.timestamp_format = Some("%d.%m.%Y %H:%M".into());
        let r = read_file(&p, &opts).unwrap();
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].timestamp, 1_291_191_960);
        assert_eq!((r.report.skipped["bad value"], r.report.skipped["bad timestamp"]), (1, 1));
        opts.strict = true;
        let msg = read_file(&p, &opts).unwrap_err().to_string();
        assert!(msg.contains("t.csv:3: field `value`"), "{msg}");

        // empty file and header-only file
        let p = write(dir.path(), "e.csv", b"");
        assert_eq!(read_file(&p, &LoadOptions::new(Format::Csv)).unwrap().events.len(), 0);
        let p = write(dir.path(), "h.csv", b"user,item\n");
        let (ds, rep) = load_dataset(&p, &LoadOptions::new(Format::Csv)).unwrap();
        assert_eq!((ds.interactions.len(), rep.lines, ds.explicit), (0, 0, false));
    }

    /// A large implicit CSV; run with `cargo test -p daogou-data --release -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_10m_lines() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.csv");
        let mut w = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        writeln!(w, "user,item,value").unwrap();
        let mut x: u64 = 1;
        for _ in 0..10_000_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            writeln!(w, "u{},i{},{}", x % 500_000, (x >> 20) % 50_000, (x >> 40) % 5 + 1).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let t = std::time::Instant::now();
        let (ds, rep) = load_dataset(&p, &LoadOptions::new(Format::Csv)).unwrap();
        println!("10M-line csv: {:.2?} ({} users, {} items; {rep})", t.elapsed(), ds.n_users(), ds.n_items());
        assert_eq!(ds.interactions.len(), 10_000_000);
    }
}
