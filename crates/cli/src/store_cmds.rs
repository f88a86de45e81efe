//! `daogou import` and `daogou stats`: the database side.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use daogou_data::{read_file_batched, ColumnMapping, Format, LoadOptions};
use daogou_store::{SqliteStore, Store, StoreUrl};
use serde_json::json;

use crate::args::{open_existing, report_skips, StoreArgs};
use crate::progress;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The file to import (CSV/TSV/JSONL, optionally .gz).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// File format: movielens, online-retail, csv, jsonl.
    #[arg(long, short = 'f', default_value = "csv")]
    format: Format,
    /// Column mapping for csv/jsonl, e.g. "user=CustomerID,item=StockCode,value=Quantity".
    #[arg(long, value_name = "SPEC")]
    mapping: Option<String>,
    /// Column mapping from a config file.
    #[arg(long, value_name = "FILE", conflicts_with = "mapping")]
    mapping_file: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    /// Stop at the first malformed row and change nothing.
    #[arg(long)]
    strict: bool,
    /// Print the import report as JSON.
    #[arg(long)]
    json: bool,
}

/// Events per write while importing (about 100 MB of records in memory at a time);
/// `DAOGOU_IMPORT_BATCH` changes it.
const IMPORT_BATCH: usize = 1_000_000;

/// The page cache of an import's connection: a large file's rows go into random places of
/// the duplicate-detection index, and a transaction whose pages no longer fit the cache
/// spills them to the WAL and reads them back on every insert. About the file's size (the
/// index grows with it), from 64 MiB up to a quarter of the machine's memory;
/// `DAOGOU_IMPORT_CACHE_MIB` sets it.
fn import_cache_mib(file: &std::path::Path) -> usize {
    if let Some(n) = std::env::var("DAOGOU_IMPORT_CACHE_MIB").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0) {
        return n;
    }
    let file_mib = std::fs::metadata(file).map_or(0, |m| (m.len() >> 20) as usize);
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(4096, |kib| kib >> 10);
    file_mib.clamp(64, (memory_mib / 4).max(64))
}

fn import_batch() -> usize {
    std::env::var("DAOGOU_IMPORT_BATCH").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(IMPORT_BATCH)
}

pub fn import(a: ImportArgs) -> Result<()> {
    let started = Instant::now();
    let mut opts = LoadOptions::new(a.format);
    opts.strict = a.strict;
    if let Some(spec) = &a.mapping {
        opts.mapping = ColumnMapping::parse(spec).context("--mapping")?;
    }
    if let Some(path) = &a.mapping_file {
        opts.mapping = ColumnMapping::from_file(path).with_context(|| format!("--mapping-file {}", path.display()))?;
    }
    // One transaction, fed a million events at a time (memory stays bounded for any file
    // size): a strict-mode error or a failed write rolls all of it back, so the database is
    // as it was. A file of up to a million events is written in one go, items first.
    let url = a.store.url()?;
    // a SQLite file is created when missing; an import that fails does not leave it behind
    let created = url.sqlite_path().is_some_and(|p| !p.exists());
    let mut store: Box<dyn Store> = match &url {
        StoreUrl::Sqlite(db) => {
            let store = SqliteStore::open(db).with_context(|| format!("cannot open database {}", db.display()))?;
            store.set_cache_mib(import_cache_mib(&a.file))?;
            store.into()
        }
        other => daogou_store::open(other).with_context(|| format!("cannot open database {other}"))?,
    };
    let pb = progress::spinner(format!("reading {}", a.file.display()));
    let (mut written, mut write_error) = (0usize, None);
    let mut load_report = None;
    let mut feed = |write: &mut daogou_store::BatchWriter<'_>| -> Result<()> {
        let read = read_file_batched(&a.file, &opts, import_batch(), &mut |items, events| match write(items, events) {
            Ok(()) => {
                written += events.len();
                pb.set_message(format!("{}: {written} events written to {url}", a.file.display()));
                true
            }
            Err(e) => {
                write_error = Some(e);
                false
            }
        });
        if let Some(e) = write_error.take() {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot write to {url}; the import of {} was rolled back", a.file.display())));
        }
        load_report =
            Some(read.with_context(|| format!("import of {} failed; the database was not changed", a.file.display()))?);
        Ok(())
    };
    let report = store.import_batches(&mut |write| feed(write).map_err(Into::into));
    pb.finish_and_clear();
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            // a database this import would have created is not left behind empty
            if let (true, Some(db)) = (created, url.sqlite_path()) {
                drop(store);
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                }
            }
            return Err(anyhow::Error::from_boxed(e));
        }
    };
    let r = &load_report.expect("set when the import succeeded");
    let seconds = started.elapsed().as_secs_f64();
    if a.json {
        let out = json!({
            "file": r.file,
            "lines": r.lines,
            "events_read": r.events,
            "items_read": r.items,
            "skipped": r.skipped,
            "events_inserted": report.events_inserted,
            "events_duplicate": report.events_duplicate,
            "items_inserted": report.items_inserted,
            "items_updated": report.items_updated,
            "seconds": seconds,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        report_skips(r);
        println!(
            "imported {}: {} events new, {} duplicates ignored; {} items new, {} updated ({:.1} s)",
            r.file,
            report.events_inserted,
            report.events_duplicate,
            report.items_inserted,
            report.items_updated,
            seconds
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON (keys users, items, events, events_by_kind, first_timestamp, last_timestamp).
    #[arg(long)]
    json: bool,
}

pub fn stats(a: StatsArgs) -> Result<()> {
    let url = a.store.url()?;
    let store = open_existing(&url)?;
    let s = store.stats()?;
    if a.json {
        let out = json!({
            "users": s.users,
            "items": s.items,
            "events": s.events,
            "events_by_kind": s.by_kind,
            "first_timestamp": s.first_timestamp,
            "last_timestamp": s.last_timestamp,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let name = url.sqlite_path().map_or_else(|| url.to_string(), |p| p.display().to_string());
        println!("{name}: {} users, {} items, {} events", s.users, s.items, s.events);
        for (kind, n) in &s.by_kind {
            println!("  {kind:<12} {n}");
        }
        if let (Some(a), Some(b)) = (s.first_timestamp, s.last_timestamp) {
            println!("  from {} to {}", fmt_time(a), fmt_time(b));
        }
    }
    Ok(())
}

pub fn fmt_time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map_or_else(|| ts.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}
