use crate::source::testutil::write;
use daogou_core::EventKind;
use daogou_data::{load_dataset, read_file, Format, LoadOptions};

const TEXT: &str = r#"{"id": "sku1", "title": "Running Shoe", "category": "鞋/跑鞋", "price": 59.9, "attributes": {"colour": "red"}, "available": false}
{"id": 42, "title": "Numbered", "created_at": "2024-01-01"}

{"user": "u1", "item": "sku1", "kind": "view", "timestamp": 1704103200}
{"user": 7, "item": "sku1", "kind": "purchase", "value": 2, "timestamp": "2024-01-01 10:05:00"}
{"user": "u1", "kind": "search", "query": "跑鞋", "timestamp": 1704103300000}
{"user": "u1", "item": "42", "value": 4.5}
{"user": "u2", "item": "sku1", "kind": "wishlist"}
{"user": "u2", "item": "sku1
[1, 2]
{"title": "no id"}
"#;

#[test]
fn events_items_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ev.jsonl", TEXT.as_bytes());
    let r = read_file(&p, &LoadOptions::new(Format::Jsonl)).unwrap();
    assert_eq!((r.report.lines, r.report.events, r.report.items), (10, 4, 2));
    assert_eq!(r.report.skipped["bad kind"], 1);
    assert_eq!(r.report.skipped["bad JSON"], 2);
    assert_eq!(r.report.skipped["neither event nor item"], 1);
    assert_eq!(r.items[0].attributes["colour"], "red");
    assert!(!r.items[0].available);
    assert_eq!((r.items[1].id.as_str(), r.items[1].created_at), ("42", Some(1_704_067_200)));
    let e = &r.events;
    assert_eq!(
        (e[1].user.as_str(), e[1].kind, e[1].value, e[1].timestamp),
        ("7", EventKind::Purchase, 2.0, 1_704_103_500)
    );
    assert_eq!((e[2].kind, e[2].query.as_deref(), e[2].timestamp), (EventKind::Search, Some("跑鞋"), 1_704_103_300));
    assert_eq!((e[3].kind, e[3].value), (EventKind::Rating, 4.5));

    let (ds, rep) = load_dataset(&p, &LoadOptions::new(Format::Jsonl)).unwrap();
    assert_eq!((ds.interactions.len(), rep.skipped["search without item"]), (3, 1));
    let shoe = ds.items.get("sku1").unwrap() as usize;
    assert_eq!(ds.catalogue[shoe].category.as_deref(), Some("鞋/跑鞋"));
    assert!(!ds.catalogue[shoe].available);

    let strict = LoadOptions { strict: true, ..LoadOptions::new(Format::Jsonl) };
    let msg = read_file(&p, &strict).unwrap_err().to_string();
    assert!(msg.contains("ev.jsonl:8: field `kind`"), "{msg}");
    let p = write(dir.path(), "b.jsonl.gz", b"{\"user\": \"a\", \"item\": \"b\"}\n{oops}\n");
    let msg = read_file(&p, &strict).unwrap_err().to_string();
    assert!(msg.contains("b.jsonl.gz:2: field `json`: key must be a string"), "{msg}");
}
