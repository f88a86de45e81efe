use crate::source::testutil::{datasets, write};
use daogou_core::{Dataset, EventKind};
use daogou_data::{load_dataset, load_into, read_file, Format, LoadOptions};

fn uitem_bytes() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    // latin-1: "Misérables" with é = 0xE9
    b.extend_from_slice(b"2|Les Mis\xe9rables (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|1|0|0|1|0\n");
    b.extend_from_slice(b"3|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
    b
}

#[test]
fn ratings_and_latin1_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "u.item", &uitem_bytes());
    let p = write(dir.path(), "u1.base", b"1\t1\t5\t874965758\n1\t2\t3\t876893171\n\n2\t1\t4\t888550871\n");
    let t = write(dir.path(), "u1.test", b"2\t3\t1\t888550872\n3\t2\t2\t888550873\n");
    let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
    assert_eq!((r.report.lines, r.report.events, r.report.items), (3, 3, 3));
    assert_eq!((r.events[2].user.as_str(), r.events[2].item.as_str(), r.events[2].value), ("2", "1", 4.0));
    assert!(r.events.iter().all(|e| e.kind == EventKind::Rating));
    assert_eq!(r.events[0].timestamp, 874_965_758);
    let toy = &r.items[0];
    assert_eq!(toy.title, "Toy Story (1995)");
    assert_eq!(toy.category.as_deref(), Some("Animation"));
    assert_eq!(toy.attributes["genres"], "Animation|Children's|Comedy");
    assert_eq!(toy.created_at, Some(788_918_400));
    assert_eq!(r.items[1].title, "Les Misérables (1995)");
    assert_eq!(r.items[1].attributes["genres"], "Drama|Romance|War");
    assert_eq!(r.items[2].category.as_deref(), Some("unknown"));
    assert_eq!(r.items[2].created_at, None);

    // base then test into one dataset: ids shared, ranges adjacent, explicit
    let mut ds = Dataset::default();
    let (r1, _) = load_into(&mut ds, &p, &LoadOptions::new(Format::Movielens)).unwrap();
    let (r2, rep2) = load_into(&mut ds, &t, &LoadOptions::new(Format::Movielens)).unwrap();
    assert_eq!((r1, r2), (0..3, 3..5));
    assert_eq!(rep2.events, 2);
    assert!(ds.explicit);
    assert_eq!((ds.n_users(), ds.n_items(), ds.catalogue.len()), (3, 3, 3));
    assert_eq!(ds.title(ds.items.get("2").unwrap()), "Les Misérables (1995)");
    assert_eq!(ds.category(ds.items.get("1").unwrap()), Some("Animation"));
}

#[test]
fn other_separators_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ratings.dat", b"1::1193::5::978300760\n1::661::3::978302109\n");
    let (ds, _) = load_dataset(&p, &LoadOptions::new(Format::Movielens)).unwrap();
    assert_eq!((ds.interactions.len(), ds.items.id(1)), (2, "661"));
    let p = write(
        dir.path(),
        "ratings.csv",
        b"userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.5,964981247\r\n",
    );
    let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
    assert_eq!((r.report.lines, r.events[1].value), (2, 4.5));

    let p = write(dir.path(), "bad.data", b"1\t1\t5\t874965758\n1\t2\tfive\t876893171\n1\t3\n1\t4\t4\tlater\n");
    let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.report.skipped["bad rating"], 1);
    assert_eq!(r.report.skipped["wrong column count"], 1);
    assert_eq!(r.report.skipped["bad timestamp"], 1);
    let strict = LoadOptions { strict: true, ..LoadOptions::new(Format::Movielens) };
    let msg = read_file(&p, &strict).unwrap_err().to_string();
    assert!(msg.ends_with("bad.data:2: field `rating`: expected a number, found `five`"), "{msg}");

    // a broken u.item line: counted, or an error naming u.item in strict mode
    write(dir.path(), "u.item", b"1|Toy Story (1995)|01-Jan-1995\n");
    let p = write(dir.path(), "u.data", b"1\t1\t5\t874965758\n");
    let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
    assert_eq!(r.report.skipped["bad catalogue line"], 1);
    let msg = read_file(&p, &strict).unwrap_err().to_string();
    assert!(msg.contains("u.item:1: field `columns`"), "{msg}");
}

/// The real ML-100K.
#[test]
fn full_ml100k() {
    let Some(dir) = datasets("ml-100k") else { return };
    let t = std::time::Instant::now();
    let opts = LoadOptions { strict: true, ..LoadOptions::new(Format::Movielens) };
    let (ds, rep) = load_dataset(&dir.join("u.data"), &opts).unwrap();
    println!("ml-100k load_dataset: {:.2?} ({rep})", t.elapsed());
    assert_eq!((rep.lines, rep.events, rep.items), (100_000, 100_000, 1_682));
    assert_eq!((ds.interactions.len(), ds.n_users(), ds.n_items()), (100_000, 943, 1_682));
    assert!(ds.explicit);
    let toy = ds.items.get("1").unwrap();
    assert_eq!(ds.title(toy), "Toy Story (1995)");
    assert_eq!(ds.catalogue[toy as usize].attributes["genres"], "Animation|Children's|Comedy");
    assert!(ds.catalogue.iter().all(|it| !it.title.is_empty()));
    // latin-1 titles decode (e.g. "Misérables")
    assert!(ds.catalogue.iter().any(|it| it.title.contains('é')));
    let sum: f64 = ds.interactions.iter().map(|x| x.value as f64).sum();
    assert!((sum / 100_000.0 - 3.52986).abs() < 1e-4, "mean rating {}", sum / 100_000.0);
    let mut ds2 = Dataset::default();
    let (a, _) = load_into(&mut ds2, &dir.join("u1.base"), &opts).unwrap();
    let (b, _) = load_into(&mut ds2, &dir.join("u1.test"), &opts).unwrap();
    assert_eq!((a, b), (0..80_000, 80_000..100_000));
}
