use arrow_array::builder::{Float64Builder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use daogou_core::EventKind;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use daogou_data::{load_dataset, read_file, ColumnMapping, DataError, Format, LoadOptions};

/// Write `columns` to `dir/name` as Parquet, `rows_per_group` rows per row group.
pub(crate) fn write(dir: &Path, name: &str, columns: Vec<(&str, ArrayRef)>, rows_per_group: usize) -> PathBuf {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let p = dir.join(name);
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(rows_per_group)).build();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&p).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    p
}

fn retail_like(dir: &Path) -> PathBuf {
    // pandas writes an integer id column with gaps as float64 with nulls
    let mut cust = Float64Builder::new();
    for c in [Some(17850.0), Some(17850.0), None, Some(13047.0), Some(13047.0), Some(12583.0)] {
        cust.append_option(c);
    }
    let mut country = StringDictionaryBuilder::<Int32Type>::new();
    for c in ["UK", "UK", "UK", "UK", "France", "France"] {
        country.append_value(c);
    }
    let t0 = 1_291_191_960_000i64; // 2010-12-01 08:26:00 UTC in ms
    write(
        dir,
        "retail.parquet",
        vec![
            ("CustomerID", Arc::new(cust.finish()) as ArrayRef),
            ("StockCode", Arc::new(StringArray::from(vec!["85123A", "22633", "22139", "22633", "", "POST"]))),
            (
                "Quantity",
                Arc::new(StringArray::from(vec![Some("6"), Some("2"), Some("1"), Some("x3"), Some("1"), None])),
            ),
            (
                "InvoiceDate",
                Arc::new(
                    TimestampMillisecondArray::from(vec![t0, t0 + 60_000, t0, t0 + 120_000, t0, t0 + 86_400_000])
                        .with_timezone("UTC"),
                ),
            ),
            (
                "Description",
                Arc::new(StringArray::from(vec![
                    Some("WHITE HANGING HEART "),
                    Some("HAND WARMER"),
                    Some("TEA SET"),
                    None,
                    None,
                    Some("POSTAGE"),
                ])),
            ),
            ("Country", Arc::new(country.finish())),
        ],
        2,
    )
}

fn retail_opts(strict: bool) -> LoadOptions {
    let mut o = LoadOptions::new(Format::Parquet);
    o.mapping = ColumnMapping::parse(
        "user=CustomerID,item=StockCode,value=Quantity,timestamp=InvoiceDate,title=Description,kind=",
    )
    .unwrap();
    o.strict = strict;
    o
}

#[test]
fn events_with_a_mapping_across_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let p = retail_like(dir.path());
    let r = read_file(&p, &retail_opts(false)).unwrap();
    assert_eq!((r.report.lines, r.report.events), (6, 3));
    assert_eq!(r.report.skipped["missing user"], 1);
    assert_eq!(r.report.skipped["bad Quantity"], 1);
    assert_eq!(r.report.skipped["missing item"], 1);
    let e = &r.events;
    assert_eq!(
        (e[0].user.as_str(), e[0].item.as_str(), e[0].kind, e[0].value, e[0].timestamp),
        ("17850", "85123A", EventKind::Rating, 6.0, 1_291_191_960)
    );
    // a null value reads as an empty cell: 1
    assert_eq!(
        (e[2].user.as_str(), e[2].item.as_str(), e[2].value, e[2].timestamp),
        ("12583", "POST", 1.0, 1_291_278_360)
    );
    assert_eq!(r.items.len(), 4);
    assert_eq!(r.items[0].title, "WHITE HANGING HEART");
    // the same reading through the mapped-dataset path
    let (ds, rep) = load_dataset(&p, &retail_opts(false)).unwrap();
    assert_eq!((ds.interactions.len(), rep), (3, r.report.clone()));
    assert_eq!(ds.title(ds.items.get("22633").unwrap()), "HAND WARMER");

    // strict: the first bad row names file, row group, row (from 0) and column
    let err = read_file(&p, &retail_opts(true)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}: row group 1, row 1: column `Quantity`: ", p.display())), "{msg}");
    assert!(msg.contains("`x3`"), "{msg}");
    assert!(matches!(err, DataError::Parquet { row_group: Some(1), row: Some(1), .. }));

    // the command line's default format (csv) reads a .parquet file as Parquet
    let mut csv = retail_opts(false);
    csv.format = Format::Csv;
    assert_eq!(read_file(&p, &csv).unwrap().events.len(), 3);
    // a renamed column must exist, as for CSV
    let mut o = retail_opts(false);
    o.mapping.user = "Customer ID".into();
    let msg = read_file(&p, &o).unwrap_err().to_string();
    assert!(msg.contains("no column `Customer ID`") && msg.contains("CustomerID, StockCode"), "{msg}");
    // a preset does not read Parquet
    let msg = read_file(&p, &LoadOptions::new(Format::OnlineRetail)).unwrap_err().to_string();
    assert!(msg.contains("--format parquet"), "{msg}");
}

#[test]
fn default_names_kinds_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ev.parquet",
        vec![
            ("user", Arc::new(Int64Array::from(vec![7, 7, 8, 8])) as ArrayRef),
            ("item", Arc::new(StringArray::from(vec![Some("sku1"), None, Some("sku2"), Some("sku2")]))),
            ("kind", Arc::new(StringArray::from(vec!["view", "search", "Add-To-Cart", "wishlist"]))),
            ("timestamp", Arc::new(Int64Array::from(vec![1_704_103_200, 1_704_103_300_000, 1_704_103_400, 0]))),
            ("query", Arc::new(StringArray::from(vec![None, Some("跑鞋"), None, None]))),
        ],
        1000,
    );
    let r = read_file(&p, &LoadOptions::new(Format::Parquet)).unwrap();
    assert_eq!((r.report.events, r.report.skipped["bad kind"]), (3, 1));
    let kinds: Vec<_> = r.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::View, EventKind::Search, EventKind::AddToCart]);
    assert_eq!((r.events[1].query.as_deref(), r.events[1].timestamp), (Some("跑鞋"), 1_704_103_300));
    assert_eq!((r.events[0].user.as_str(), r.events[0].value), ("7", 1.0));
    let strict = LoadOptions { strict: true, ..LoadOptions::new(Format::Parquet) };
    let msg = read_file(&p, &strict).unwrap_err().to_string();
    assert!(msg.contains("ev.parquet: row group 0, row 3: column `kind`: unknown event kind `wishlist`"), "{msg}");
}

#[test]
fn catalogue_file_has_id_and_no_user_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut category = StringDictionaryBuilder::<Int32Type>::new();
    category.append_value("鞋/跑鞋");
    category.append_null();
    category.append_value("帽子");
    let p = write(
        dir.path(),
        "items.parquet",
        vec![
            ("id", Arc::new(Int64Array::from(vec![101, 102, 103])) as ArrayRef),
            ("title", Arc::new(StringArray::from(vec!["Trail Shoe", "Sock", "Cap"]))),
            ("category", Arc::new(category.finish())),
            ("price", Arc::new(Float64Array::from(vec![Some(299.0), Some(9.5), None]))),
            ("stock", Arc::new(Int32Array::from(vec![Some(12), None, Some(3)]))),
            ("available", Arc::new(BooleanArray::from(vec![true, false, true]))),
            ("created_at", Arc::new(Date32Array::from(vec![Some(19_783), None, None]))),
            ("color", Arc::new(StringArray::from(vec![Some("red"), None, Some("blue")]))),
        ],
        2,
    );
    let r = read_file(&p, &LoadOptions::new(Format::Parquet)).unwrap();
    assert_eq!((r.report.lines, r.report.items, r.report.events), (3, 3, 0));
    let shoe = &r.items[0];
    assert_eq!((shoe.id.as_str(), shoe.title.as_str(), shoe.price), ("101", "Trail Shoe", Some(299.0)));
    assert_eq!((shoe.category.as_deref(), shoe.stock, shoe.available), (Some("鞋/跑鞋"), Some(12), true));
    assert_eq!(shoe.created_at, Some(1_709_251_200)); // 2024-03-01
    assert_eq!(shoe.attributes.get("color").map(String::as_str), Some("red"));
    assert!(!r.items[1].available && r.items[1].category.is_none() && r.items[1].attributes.is_empty());
    assert_eq!((r.items[2].category.as_deref(), r.items[2].price), (Some("帽子"), None));

    // a column of a type that cannot be read is named before any row is read
    let p = write(
        dir.path(),
        "blob.parquet",
        vec![
            ("id", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
            ("image", Arc::new(BinaryArray::from(vec![&b"\x89PNG"[..]]))),
        ],
        10,
    );
    let msg = read_file(&p, &LoadOptions::new(Format::Parquet)).unwrap_err().to_string();
    assert!(msg.contains("blob.parquet: column `image`: unsupported column type Binary"), "{msg}");
}

#[test]
fn undecodable_data_names_row_group_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let n = 40;
    let users: Vec<String> = (0..n).map(|i| format!("u{i}")).collect();
    let items: Vec<String> = (0..n).map(|i| format!("item-{}", i * 7919 % 101)).collect();
    let p = write(
        dir.path(),
        "ev.parquet",
        vec![
            ("user", Arc::new(StringArray::from(users)) as ArrayRef),
            ("item", Arc::new(StringArray::from(items)) as ArrayRef),
        ],
        20,
    );
    assert_eq!(read_file(&p, &LoadOptions::new(Format::Parquet)).unwrap().events.len(), n);
    // overwrite the page header of `item` in row group 1 with garbage
    let meta = parquet::file::reader::FileReader::metadata(
        &parquet::file::serialized_reader::SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap(),
    )
    .clone();
    let chunk = meta.row_group(1).column(1);
    let start = chunk.dictionary_page_offset().unwrap_or(chunk.data_page_offset()) as usize;
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[start..start + 16].fill(0xff);
    std::fs::write(&p, &bytes).unwrap();
    for strict in [false, true] {
        let o = LoadOptions { strict, ..LoadOptions::new(Format::Parquet) };
        let err = read_file(&p, &o).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{}: row group 1: column `item`: cannot decode", p.display())), "{msg}");
    }
    // not Parquet at all
    let p = dir.path().join("text.parquet");
    std::fs::write(&p, "user,item\nu1,i1\n").unwrap();
    let msg = read_file(&p, &LoadOptions::new(Format::Parquet)).unwrap_err().to_string();
    assert!(msg.contains("text.parquet") && msg.contains("not a readable Parquet file"), "{msg}");
}
