use daogou_core::kv::*;

#[test]
fn comments_sections_quotes() {
    let text = "# shop\n[server]\nbind = \"0.0.0.0:9000\"\nmodel = item-knn # fast\nq = 'a # b'\nurl = x#y\n\n";
    let kv = parse_kv(text).unwrap();
    let pairs: Vec<(&str, &str)> = kv.iter().map(|l| (l.key.as_str(), l.value.as_str())).collect();
    assert_eq!(pairs, [("bind", "0.0.0.0:9000"), ("model", "item-knn"), ("q", "a # b"), ("url", "x#y")]);
    assert_eq!(kv[0].line, 3);
    assert!(parse_kv("a = \"open").unwrap_err().contains("line 1: unterminated"));
    assert!(parse_kv("\n\nnothing here").unwrap_err().starts_with("line 3:"));
    assert!(parse_kv("= 3").is_err());
    assert!(parse_kv("a = \"x\" y").is_err());
}

#[test]
fn file_errors_name_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("daogou-kv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.toml");
    std::fs::write(&p, "a = 1\noops\n").unwrap();
    let e = read_kv_file(&p).unwrap_err();
    assert!(e.contains("bad.toml:2:"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
