//! Helpers: run the binary, temporary files, the shared datasets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run `daogou args…`, returning the output (never panics on a failing exit).
pub fn daogou(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_daogou")).args(args).env("RAYON_NUM_THREADS", "1").output().expect("run daogou")
}

/// Run and require success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = daogou(args);
    assert!(
        out.status.success(),
        "daogou {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Run with --json and parse stdout.
pub fn json(args: &[&str]) -> serde_json::Value {
    let s = ok(args);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("stdout of {args:?} is not one JSON object ({e}):\n{s}"))
}

/// The shared datasets folder (`../shared/datasets` beside the repository, or $DAOGOU_DATASETS);
/// SKIPPED when missing, a failure with `CI=true`.
pub fn datasets() -> Option<PathBuf> {
    daogou_core::datasets::shared("")
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A small UCI-Online-Retail-shaped CSV.
pub const RETAIL_HEADER: &str = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";

/// Write `lines` (after the header) to `dir/name`.
pub fn retail_file(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let p = dir.join(name);
    let mut text = String::from(RETAIL_HEADER);
    for l in lines {
        text.push('\n');
        text.push_str(l);
    }
    text.push('\n');
    std::fs::write(&p, text).unwrap();
    p
}
