//! Parquet through the command line: events and catalogue in (`import`, `evaluate --data`),
//! recommendations out (`recommend --all-users --out FILE.parquet`), read back with the
//! `parquet` crate's own reader.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, UInt32Type};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampSecondArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::fixtures::{daogou, json, ok, s};

const MAPPING: &str = "user=customer,item=sku,value=qty,timestamp=ts,kind=event";

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>, rows_per_group: usize) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(rows_per_group)).build();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// 40 customers in two taste groups over 20 products, as a shop's data team would export it:
/// integer customer ids, a timestamp column, quantities.
fn events(dir: &Path) -> (PathBuf, usize) {
    let (mut customer, mut sku, mut qty, mut ts) = (vec![], vec![], vec![], vec![]);
    for u in 0..40i64 {
        for k in 0..6i64 {
            customer.push(1000 + u);
            sku.push(format!("P{:02}", (u % 2) * 10 + (u * 3 + k * 7) % 10));
            qty.push(1 + (u + k) % 3);
            ts.push(1_700_000_000 + u * 3600 + k * 60);
        }
    }
    let n = customer.len();
    let p = dir.join("events.parquet");
    write(
        &p,
        vec![
            ("customer", Arc::new(Int64Array::from(customer)) as ArrayRef),
            ("sku", Arc::new(StringArray::from(sku))),
            ("qty", Arc::new(Int64Array::from(qty))),
            ("ts", Arc::new(TimestampSecondArray::from(ts).with_timezone("UTC"))),
            ("event", Arc::new(StringArray::from(vec!["purchase"; n]))),
        ],
        64,
    );
    (p, n)
}

fn catalogue(dir: &Path) -> PathBuf {
    let ids: Vec<String> = (0..20).map(|i| format!("P{i:02}")).collect();
    let titles: Vec<String> = (0..20).map(|i| format!("Product {i}")).collect();
    let p = dir.join("items.parquet");
    write(
        &p,
        vec![
            ("id", Arc::new(StringArray::from(ids)) as ArrayRef),
            ("title", Arc::new(StringArray::from(titles))),
            (
                "category",
                Arc::new(StringArray::from((0..20).map(|i| if i < 10 { "A" } else { "B" }).collect::<Vec<_>>())),
            ),
            ("price", Arc::new(Float64Array::from((0..20).map(|i| 5.0 + i as f64).collect::<Vec<_>>()))),
        ],
        8,
    );
    p
}

#[test]
fn parquet_in_and_recommendations_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let (ev, n) = events(dir.path());
    // the default --format (csv) reads a .parquet file as Parquet, with the same --mapping
    let r = json(&["import", s(&ev), "--mapping", MAPPING, "--db", s(&db), "--json"]);
    assert_eq!((r["lines"].as_u64(), r["events_inserted"].as_u64()), (Some(n as u64), Some(n as u64)), "{r}");
    let items = catalogue(dir.path());
    let r = json(&["import", s(&items), "--format", "parquet", "--db", s(&db), "--json"]);
    assert_eq!(r["items_read"], 20, "{r}");
    let st = json(&["stats", "--db", s(&db), "--json"]);
    assert_eq!(
        (st["users"].as_u64(), st["items"].as_u64(), st["events"].as_u64()),
        (Some(40), Some(20), Some(n as u64))
    );
    let out = ok(&["similar", "--db", s(&db), "--item", "P03", "--model", "item-knn"]);
    assert!(out.contains("Product"), "titles from the Parquet catalogue: {out}");

    // a bad row under --strict: named by file, row group, row and column; the store unchanged
    let bad = dir.path().join("bad.parquet");
    write(
        &bad,
        vec![
            ("customer", Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef),
            ("sku", Arc::new(StringArray::from(vec!["P01", "P02", "P03", "P04"]))),
            ("qty", Arc::new(StringArray::from(vec!["1", "2", "3", "lots"]))),
            ("ts", Arc::new(Int64Array::from(vec![1_700_100_000i64; 4]))),
            ("event", Arc::new(StringArray::from(vec!["purchase"; 4]))),
        ],
        2,
    );
    let before = json(&["stats", "--db", s(&db), "--json"]);
    let fail = daogou(&["import", s(&bad), "--mapping", MAPPING, "--db", s(&db), "--strict"]);
    let err = String::from_utf8_lossy(&fail.stderr);
    assert!(!fail.status.success());
    assert!(err.contains("bad.parquet: row group 1, row 1: column `qty`: expected a number, found `lots`"), "{err}");
    assert_eq!(json(&["stats", "--db", s(&db), "--json"]), before, "a strict failure leaves the store unchanged");
    let r = json(&["import", s(&bad), "--mapping", MAPPING, "--db", s(&db), "--json"]);
    assert_eq!((r["events_inserted"].as_u64(), r["skipped"]["bad qty"].as_u64()), (Some(3), Some(1)), "{r}");

    // training straight from the Parquet file
    let e = json(&[
        "evaluate",
        "--data",
        s(&ev),
        "--format",
        "parquet",
        "--mapping",
        MAPPING,
        "--split",
        "random:0.2",
        "--model",
        "popularity",
        "--json",
    ]);
    assert!(e["users_evaluated"].as_u64().unwrap() > 0, "{e}");

    // recommendations out: the same rows as the CSV output, typed
    let csv_out = dir.path().join("recs.csv");
    let pq_out = dir.path().join("recs.parquet");
    for out in [&csv_out, &pq_out] {
        ok(&["recommend", "--db", s(&db), "--model", "item-knn", "--all-users", "-n", "5", "--out", s(out)]);
    }
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&pq_out).unwrap()).unwrap();
    let schema = reader.schema().clone();
    let names: Vec<(&str, &DataType)> = schema.fields().iter().map(|f| (f.name().as_str(), f.data_type())).collect();
    assert_eq!(
        names,
        [
            ("user", &DataType::Utf8),
            ("rank", &DataType::UInt32),
            ("item", &DataType::Utf8),
            ("score", &DataType::Float32)
        ]
    );
    let mut rows = Vec::new();
    for batch in reader.build().unwrap() {
        let b = batch.unwrap();
        let (u, r, i, sc) = (
            b.column(0).as_string::<i32>(),
            b.column(1).as_primitive::<UInt32Type>(),
            b.column(2).as_string::<i32>(),
            b.column(3).as_primitive::<Float32Type>(),
        );
        for k in 0..b.num_rows() {
            rows.push(format!("{},{},{},{}", u.value(k), r.value(k), i.value(k), sc.value(k)));
        }
    }
    let csv_text = std::fs::read_to_string(&csv_out).unwrap();
    let csv_rows: Vec<&str> = csv_text.lines().skip(1).collect();
    assert_eq!(rows, csv_rows, "the Parquet file holds the CSV's rows");
    let users: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.split(',').next().unwrap()).collect();
    assert_eq!(users.len(), 43, "40 customers and 3 from bad.parquet");
    assert!(rows.len() > 40 * 4, "{} rows", rows.len());
    assert!(rows.iter().take(5).enumerate().all(|(k, r)| r.split(',').nth(1) == Some(&(k + 1).to_string()[..])));
}
