pub(crate) mod testutil {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// Write `bytes` to `dir/name`; a name ending in `.gz` is gzip-compressed.
    pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        if name.ends_with(".gz") {
            let mut enc =
                flate2::write::GzEncoder::new(std::fs::File::create(&p).unwrap(), flate2::Compression::fast());
            enc.write_all(bytes).unwrap();
            enc.finish().unwrap();
        } else {
            std::fs::write(&p, bytes).unwrap();
        }
        p
    }

    /// A shared dataset, or `None` (after printing SKIPPED) when it is missing.
    pub(crate) fn datasets(sub: &str) -> Option<PathBuf> {
        daogou_core::datasets::shared(sub)
    }
}

use crate::source::testutil::write;
use daogou_data::source::*;
use std::io::Read;

#[test]
fn gzip_by_magic_or_extension() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"user,item\nu1,i1\n";
    for name in ["a.csv", "b.csv.gz"] {
        let p = write(dir.path(), name, text);
        let mut s = Vec::new();
        open(&p).unwrap().read_to_end(&mut s).unwrap();
        assert_eq!(s, text, "{name}");
    }
    // gzip content without the extension is still detected
    std::fs::rename(dir.path().join("b.csv.gz"), dir.path().join("c.csv")).unwrap();
    let mut s = Vec::new();
    open(&dir.path().join("c.csv")).unwrap().read_to_end(&mut s).unwrap();
    assert_eq!(s, text);
    // two concatenated gzip members (MultiGzDecoder)
    let one = std::fs::read(dir.path().join("c.csv")).unwrap();
    let p = write(dir.path(), "d.csv", &[one.clone(), one].concat());
    let mut s = Vec::new();
    open(&p).unwrap().read_to_end(&mut s).unwrap();
    assert_eq!(s, [&text[..], &text[..]].concat());
    // a .gz that is not gzip is an I/O error naming the file
    let p = dir.path().join("e.csv.gz");
    std::fs::write(&p, text).unwrap();
    let mut s = Vec::new();
    let err = open(&p).unwrap().read_to_end(&mut s).unwrap_err();
    assert!(!err.to_string().is_empty());
    let err = match open(&dir.path().join("missing.csv")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened a missing file"),
    };
    assert!(err.contains("missing.csv"), "{err}");
}
