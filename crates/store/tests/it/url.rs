//! Store URLs: parsing and redaction.

use daogou_store::*;

#[test]
fn urls_parse_and_bare_paths_stay_sqlite() {
    assert_eq!(StoreUrl::parse("sqlite:shop.db").unwrap(), StoreUrl::Sqlite("shop.db".into()));
    assert_eq!(StoreUrl::parse("sqlite:///tmp/a.db").unwrap(), StoreUrl::Sqlite("/tmp/a.db".into()));
    assert_eq!(StoreUrl::parse("shop.db").unwrap(), StoreUrl::Sqlite("shop.db".into()));
    let pg = "postgres://daogou@127.0.0.1:5433/shop";
    assert_eq!(StoreUrl::parse(pg).unwrap(), StoreUrl::Postgres(pg.into()));
    assert!(StoreUrl::parse("postgresql://h/db").is_ok());
    let e = StoreUrl::parse("mysql://h/db").unwrap_err().to_string();
    assert!(e.contains("mysql://") && e.contains("postgres://"), "{e}");
    assert!(StoreUrl::parse("sqlite:").is_err());
    assert!(StoreUrl::parse(" ").is_err());
}

#[test]
fn passwords_never_show() {
    let u = StoreUrl::parse("postgres://shop:hunter2@db:5432/shop").unwrap();
    assert_eq!(u.to_string(), "postgres://shop:***@db:5432/shop");
    assert_eq!(redact("postgres://shop@db/shop"), "postgres://shop@db/shop");
}
