//! Where tests and benchmarks find the shared real datasets (MovieLens, Online Retail, …):
//! `$DAOGOU_DATASETS`, else `../shared/datasets` beside the repository. The data sets are never
//! part of the repository (licences).

use std::path::PathBuf;

/// The shared datasets folder (it may not exist).
pub fn root() -> PathBuf {
    std::env::var_os("DAOGOU_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/datasets")))
}

/// `sub` (a file or folder) under the shared datasets folder, or `None` after saying SKIPPED
/// when it is missing, so a test that needs it passes visibly as skipped on a machine without
/// the data. With `CI=true` a missing dataset is a failure instead: CI must not pass by skipping.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let p = root().join(sub);
    if p.exists() {
        return Some(p);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "CI=true and the dataset {} is missing (set DAOGOU_DATASETS to the folder that holds it)",
        p.display()
    );
    println!("SKIPPED: dataset not found at {} (set DAOGOU_DATASETS)", p.display());
    None
}
