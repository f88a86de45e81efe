use crate::source::testutil::{datasets, write};
use daogou_core::EventKind;
use daogou_data::retail::*;
use daogou_data::{load_dataset, read_file, DataError, Format, LoadOptions};

const HEAD: &str = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";

fn sample() -> String {
    [
        HEAD,
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER ,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n", // 2
        "536366,22633,\"HAND WARMER, UNION JACK\",6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n",        // 3
        "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2,2010-12-01 09:41:00,2.55,14527,United Kingdom\n", // 4
        "536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom\n", // 5 guest
        "536544,22139,RETROSPOT TEA SET CERAMIC 11 PC ,1,2010-12-01 14:32:00,4.25,,United Kingdom\n", // 6 guest
        "536412,22139,amazon,-5,2010-12-01 11:49:00,0,12583,France\n", // 7 non-positive
        "536370,POST,POSTAGE,3,2010-12-01 08:45:00,18,12583,France\n", // 8
        "536371,22633,HAND WARMER,x3,2010-12-01 09:00:00,1.85,13047,United Kingdom\n", // 9 bad qty
        "536372,22633,HAND WARMER,3,yesterday,1.85,13047,United Kingdom\n", // 10 bad date
        "536373,22633,HAND WARMER,3,2010-12-01 09:02:00,1.85,13047\n", // 11 columns
        "536374,22139,RETROSPOT TEA SET,2,2010-12-02 10:00:00,4.95,13047,United Kingdom\n", // 12
    ]
    .concat()
}

#[test]
fn batches_hand_on_what_one_read_gives() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "retail.csv", sample().as_bytes());
    let opts = LoadOptions::new(Format::OnlineRetail);
    let whole = read_file(&p, &opts).unwrap();
    for batch in [1, 2, 3, 100] {
        let (mut events, mut items, mut calls) = (Vec::new(), Vec::new(), 0);
        let report = daogou_data::read_file_batched(&p, &opts, batch, &mut |i, e| {
            assert!(e.len() <= batch, "{} events in a batch of {batch}", e.len());
            items.extend_from_slice(i);
            events.extend_from_slice(e);
            calls += 1;
            true
        })
        .unwrap();
        assert_eq!(report, whole.report);
        assert_eq!((events.clone(), items.clone()), (whole.events.clone(), whole.items.clone()), "batch {batch}");
        // a call per full batch, and one at the end with the rest and the catalogue
        assert_eq!(calls, whole.events.len() / batch + 1, "batch {batch}");
    }
    // a failed write stops the hand-over; the file is still read to its end
    let mut calls = 0;
    let report = daogou_data::read_file_batched(&p, &opts, 1, &mut |_, _| {
        calls += 1;
        false
    })
    .unwrap();
    assert_eq!((calls, report.lines), (1, whole.report.lines));
}

#[test]
fn maps_rows_to_events_and_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "retail.csv.gz", sample().as_bytes());
    let r = read_file(&p, &LoadOptions::new(Format::OnlineRetail)).unwrap();
    assert_eq!(r.report.lines, 11);
    assert_eq!(r.report.events, 5);
    let sk = |k: &str| r.report.skipped.get(k).copied().unwrap_or(0);
    assert_eq!(sk("missing CustomerID"), 2);
    assert_eq!(sk("non-positive quantity"), 1);
    assert_eq!(sk("bad Quantity"), 1);
    assert_eq!(sk("bad InvoiceDate"), 1);
    assert_eq!(sk("wrong column count"), 1);
    assert_eq!(r.report.skipped_total(), 6);

    let e = &r.events;
    assert_eq!(
        (e[0].user.as_str(), e[0].item.as_str(), e[0].kind, e[0].value),
        ("17850", "85123A", EventKind::Purchase, 6.0)
    );
    assert_eq!(e[0].timestamp, 1_291_191_960);
    assert_eq!(e[1].user, "17850"); // 17850.0 normalised
    assert_eq!((e[2].kind, e[2].value, e[2].user.as_str()), (EventKind::Return, 2.0, "14527"));
    assert_eq!(e[3].item, "POST");

    let item = |id: &str| r.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(item("85123A").title, "WHITE HANGING HEART T-LIGHT HOLDER");
    assert_eq!(item("85123A").price, Some(2.55));
    assert_eq!(item("22633").title, "HAND WARMER, UNION JACK");
    // first non-empty description, first positive price, guest rows included
    assert_eq!(item("22139").title, "RETROSPOT TEA SET CERAMIC 11 PC");
    assert_eq!(item("22139").price, Some(4.25));
    assert_eq!(item("POST").attributes.get("non_product").map(String::as_str), Some("true"));
    assert!(item("22139").attributes.is_empty());
    assert_eq!(r.report.items, r.items.len() as u64);

    let (ds, rep) = load_dataset(&p, &LoadOptions::new(Format::OnlineRetail)).unwrap();
    assert!(!ds.explicit);
    assert_eq!(ds.interactions.len(), 5);
    assert_eq!(rep, r.report);
    assert_eq!(ds.n_users(), 4);
    assert_eq!(ds.title(ds.items.get("22633").unwrap()), "HAND WARMER, UNION JACK");
    assert_eq!(ds.catalogue.len(), ds.n_items());
}

#[test]
fn strict_errors_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = LoadOptions::new(Format::OnlineRetail);
    opts.strict = true;
    let p = write(dir.path(), "r.csv", sample().as_bytes());
    let err = read_file(&p, &opts).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}:9: field `Quantity`: ", p.display())), "{msg}");
    assert!(msg.contains("x3"), "{msg}");
    assert!(matches!(err, DataError::Malformed { line: 9, .. }));

    // guest rows are never errors, even with garbage in them
    let text = format!("{HEAD}1,A,d,notanumber,never,??,,UK\n2,A,d,1,2011-01-01 00:00:00,1,5,UK\n");
    let p = write(dir.path(), "g.csv", text.as_bytes());
    let r = read_file(&p, &opts).unwrap();
    assert_eq!((r.events.len(), r.report.skipped["missing CustomerID"]), (1, 1));

    for (row, field) in [
        ("3,A,d,1,2011-13-01 00:00:00,1,5,UK\n", "InvoiceDate"),
        ("3,A,d,1,2011-01-01 00:00:00,1.2.3,5,UK\n", "UnitPrice"),
        ("3,A,d,1,2011-01-01 00:00:00,1,5\n", "columns"),
    ] {
        let p = write(dir.path(), "s.csv", format!("{HEAD}2,A,d,1,2011-01-01 00:00:00,1,5,UK\n{row}").as_bytes());
        let msg = read_file(&p, &opts).unwrap_err().to_string();
        assert!(msg.contains(&format!("s.csv:3: field `{field}`")), "{msg}");
    }
    let mut bytes = format!("{HEAD}2,A,d,1,2011-01-01 00:00:00,1,5,UK\n").into_bytes();
    bytes.extend_from_slice(b"3,A,caf\xe9,1,2011-01-01 00:00:00,1,5,UK\n");
    let p = write(dir.path(), "u.csv", &bytes);
    let msg = read_file(&p, &opts).unwrap_err().to_string();
    assert!(msg.contains("u.csv:3: field `Description`: invalid UTF-8"), "{msg}");
    opts.strict = false;
    assert_eq!(read_file(&p, &opts).unwrap().report.skipped["bad UTF-8"], 1);

    let p = write(dir.path(), "h.csv", b"InvoiceNo,StockCode\n1,2\n");
    let msg = read_file(&p, &opts).unwrap_err().to_string();
    assert!(msg.contains("no column `Description`") && msg.contains("InvoiceNo, StockCode"), "{msg}");
}

/// The "Online Retail II" header (`Invoice`, `Price`, `Customer ID`) is detected and read
/// the same way; its errors name its own columns.
#[test]
fn online_retail_ii_header() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n\
                489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n\
                489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom\n\
                C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia\n\
                489464,21733,85123a mixed,-96,2009-12-01 10:52:00,0,,United Kingdom\n\
                489517,POST,POSTAGE,1,2009-12-01 11:34:00,18,12533.0,Germany\n";
    let p = write(dir.path(), "online_retail_II.csv", text.as_bytes());
    let r = read_file(&p, &LoadOptions::new(Format::OnlineRetail)).unwrap();
    assert_eq!((r.report.lines, r.report.events), (5, 4));
    assert_eq!(r.report.skipped["missing CustomerID"], 1);
    let e = &r.events;
    assert_eq!(
        (e[0].user.as_str(), e[0].item.as_str(), e[0].kind, e[0].value, e[0].timestamp),
        ("13085", "85048", EventKind::Purchase, 12.0, daogou_data::parse_time("2009-12-01 07:45:00").unwrap())
    );
    assert_eq!((e[2].user.as_str(), e[2].kind, e[2].value), ("16321", EventKind::Return, 12.0));
    let item = |id: &str| r.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!((item("79323P").title.as_str(), item("79323P").price), ("PINK CHERRY LIGHTS", Some(6.75)));
    assert_eq!(item("POST").attributes.get("non_product").map(String::as_str), Some("true"));
    assert_eq!(item("21733").title, "85123a mixed"); // a guest row still describes the product

    let strict = LoadOptions { strict: true, ..LoadOptions::new(Format::OnlineRetail) };
    let bad = format!("{}489520,22111,SCOTTIE DOG HOT WATER BOTTLE,3,2009-12-01 11:41:00,4.2.5,18102.0,UK\n", text);
    let p = write(dir.path(), "ii_bad.csv", bad.as_bytes());
    let msg = read_file(&p, &strict).unwrap_err().to_string();
    assert!(msg.contains("ii_bad.csv:7: field `Price`: expected a number, found `4.2.5`"), "{msg}");
    // a header with `Invoice` but without the II price column names what is missing
    let p =
        write(dir.path(), "ii_head.csv", b"Invoice,StockCode,Description,Quantity,InvoiceDate,UnitPrice,Customer ID\n");
    let msg = read_file(&p, &strict).unwrap_err().to_string();
    assert!(msg.contains("no column `Price`"), "{msg}");
}

#[test]
fn non_product_codes() {
    for c in ["POST", "D", "M", "m", "BANK CHARGES", "DOT", "AMAZONFEE", "CRUK", "PADS", "B", "C2", "S", "gift_0001_20"]
    {
        assert!(is_non_product(c), "{c}");
    }
    for c in ["85123A", "22633", "DCGS0003", "gift", "POSTAGE"] {
        assert!(!is_non_product(c), "{c}");
    }
}

/// The real file: counts from its PROVENANCE.md.
#[test]
fn full_online_retail() {
    let Some(dir) = datasets("online-retail") else { return };
    let p = dir.join("online_retail.csv.gz");
    let t = std::time::Instant::now();
    let (ds, rep) = load_dataset(&p, &LoadOptions { strict: true, ..LoadOptions::new(Format::OnlineRetail) }).unwrap();
    println!("online-retail load_dataset: {:.2?} ({rep})", t.elapsed());
    assert_eq!(rep.lines, 541_909);
    assert_eq!(rep.skipped["missing CustomerID"], 135_080);
    assert_eq!(ds.n_users(), 4_372);
    assert_eq!(rep.events as usize, ds.interactions.len());
    let returns = ds.interactions.iter().filter(|x| x.kind == EventKind::Return).count();
    let purchases = ds.interactions.len() - returns;
    // 406,829 rows with a customer = purchases + returns + non-positive non-C rows
    assert_eq!(rep.events + rep.skipped.get("non-positive quantity").copied().unwrap_or(0), 406_829);
    assert_eq!(rep.skipped_total(), 541_909 - rep.events);
    assert!(returns > 8_000 && purchases > 397_000, "{returns} returns, {purchases} purchases");
    assert_eq!(ds.catalogue.len(), 4_070);
    assert_eq!(ds.title(ds.items.get("85123A").unwrap()), "WHITE HANGING HEART T-LIGHT HOLDER");
    assert!(!ds.explicit);
    let first = ds.interactions[0];
    assert_eq!(first.timestamp, daogou_data::parse_time("2010-12-01 08:26:00").unwrap());
}
