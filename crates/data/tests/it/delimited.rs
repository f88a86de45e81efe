use crate::source::testutil::write;
use daogou_core::EventKind;
use daogou_data::*;
use daogou_data::{load_dataset, read_file, Format, LoadOptions};

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
    opts.mapping = ColumnMapping::parse("user=CustomerID,item=StockCode,value=Quantity,timestamp=InvoiceDate").unwrap();
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
