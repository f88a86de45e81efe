use daogou_data::options::*;
use std::path::Path;

#[test]
fn format_names_roundtrip() {
    for f in Format::ALL {
        assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
    }
    assert_eq!("Online_Retail".parse::<Format>().unwrap(), Format::OnlineRetail);
    let err = "xlsx".parse::<Format>().unwrap_err().to_string();
    assert!(err.contains("xlsx") && err.contains("online-retail") && err.contains("parquet"), "{err}");
    assert_eq!(Format::guess(Path::new("a/u1.base")), Some(Format::Movielens));
    assert_eq!(Format::guess(Path::new("online_retail.csv.gz")), Some(Format::OnlineRetail));
    assert_eq!(Format::guess(Path::new("ev.jsonl.gz")), Some(Format::Jsonl));
    assert_eq!(Format::guess(Path::new("x.parquet")), Some(Format::Parquet));
    assert_eq!(Format::guess(Path::new("x.bin")), None);
    assert_eq!(Format::Csv.for_file(Path::new("ev.parquet")), Format::Parquet);
    assert_eq!(Format::Jsonl.for_file(Path::new("ev.PARQUET")), Format::Parquet);
    assert_eq!(Format::Csv.for_file(Path::new("ev.csv")), Format::Csv);
    assert_eq!(Format::OnlineRetail.for_file(Path::new("r.parquet")), Format::OnlineRetail);
}

#[test]
fn mapping_spec_and_file() {
    let m = ColumnMapping::parse("user=CustomerID, item=StockCode,value=Quantity,timestamp=InvoiceDate,kind=").unwrap();
    assert_eq!(m.user, "CustomerID");
    assert_eq!(m.item, "StockCode");
    assert_eq!(m.value.as_deref(), Some("Quantity"));
    assert_eq!(m.timestamp.as_deref(), Some("InvoiceDate"));
    assert_eq!(m.kind, None);
    assert_eq!(m.title.as_deref(), Some("title"));
    assert!(ColumnMapping::parse("usr=a").unwrap_err().to_string().contains("unknown key `usr`"));
    assert!(ColumnMapping::parse("user").is_err());
    assert!(ColumnMapping::parse("item=").is_err());

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("map.toml");
    std::fs::write(
        &p,
        "# retail\n[columns]\nuser = \"CustomerID\"  # who\nitem='StockCode'\nvalue=Quantity\n\nquery = \"\"\n",
    )
    .unwrap();
    let m = ColumnMapping::from_file(&p).unwrap();
    assert_eq!((m.user.as_str(), m.item.as_str(), m.value.as_deref()), ("CustomerID", "StockCode", Some("Quantity")));
    assert_eq!(m.query, None);
    std::fs::write(&p, "user = a\nnonsense\n").unwrap();
    let err = ColumnMapping::from_file(&p).unwrap_err().to_string();
    assert!(err.contains("map.toml:2"), "{err}");
}
