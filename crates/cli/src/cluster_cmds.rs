//! `daogou migrate` and `daogou trainer`: the commands of a shared store.

use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use daogou_data::Format;
use daogou_store::{PgStore, SqliteStore, StoreUrl, SCHEMA_VERSION};

use crate::args::{ModelArgs, SignalArgs, SourceArgs, StoreArgs};
use crate::evaluate::fit_to_file;

#[derive(Args, Debug)]
pub struct MigrateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Bring the store's schema to this build's version (a newer schema is refused, unchanged).
pub fn migrate(a: MigrateArgs) -> Result<()> {
    match a.store.url()? {
        StoreUrl::Sqlite(path) => {
            // opening a SQLite store upgrades it in one transaction
            SqliteStore::open(&path).with_context(|| format!("cannot open database {}", path.display()))?;
            println!("sqlite:{}: schema version {SCHEMA_VERSION} (up to date)", path.display());
        }
        url @ StoreUrl::Postgres(_) => {
            let StoreUrl::Postgres(u) = &url else { unreachable!() };
            let pg = PgStore::connect(u).with_context(|| format!("cannot open database {url}"))?;
            match pg.schema_change() {
                (0, to) => println!("{url}: created the schema, version {to}"),
                (from, to) if from == to => println!("{url}: schema version {to} (up to date)"),
                (from, to) => println!("{url}: upgraded the schema from version {from} to {to}"),
            }
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct TrainerArgs {
    /// The shared store (postgres://user@host:port/db).
    #[arg(long, value_name = "URL", env = "DAOGOU_STORE")]
    store: String,
    /// Redis (redis://host:port): the leader publishes its status under `daogou:trainer`.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Refit this often (`90s`, `10m`, `1h`; `0` = only when asked, by `POST /admin/retrain`
    /// on any server or a deletion).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    every: String,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    signal: SignalArgs,
    /// Fit once (when this trainer wins the election) and exit.
    #[arg(long)]
    once: bool,
}

/// `90s`, `10m`, `2h`, `1d`, `0`.
fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| anyhow!("--every `{s}`: expected a number with s, m, h or d (10m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        other => bail!("--every `{s}`: unknown unit `{other}` (use s, m, h or d)"),
    };
    Ok(Duration::from_secs(secs))
}

/// Compete for the leader lock; while leading, refit on the schedule and when asked, write each
/// model as an artifact (servers load it on the notification that comes with it).
pub fn trainer(a: TrainerArgs) -> Result<()> {
    let url = StoreUrl::parse(&a.store).context("--store")?;
    let StoreUrl::Postgres(pg_url) = &url else {
        bail!("daogou trainer needs a shared PostgreSQL store (--store postgres://…); with SQLite, `daogou serve` refits itself")
    };
    let every = parse_duration(&a.every)?;
    let pg = PgStore::connect(pg_url).with_context(|| format!("cannot open database {url}"))?;
    let redis = match &a.redis {
        Some(r) => Some(redis::Client::open(r.as_str()).with_context(|| format!("--redis {r}"))?),
        None => None,
    };
    let requests = pg.listen(&["daogou_retrain"]);
    let source = SourceArgs {
        data: None,
        train: None,
        test: None,
        db: None,
        store: Some(pg_url.clone()),
        format: Format::Csv,
        mapping: None,
        mapping_file: None,
        strict: false,
    };
    let me = format!("{}:{}", hostname(), std::process::id());
    let mut leading = false;
    let mut last_fit: Option<Instant> = None;
    eprintln!("trainer {me}: waiting for the leader lock on {url}");
    loop {
        let lead = match pg.hold_leader_lock() {
            Ok(l) => l,
            Err(e) => {
                if leading {
                    eprintln!("trainer {me}: lost the store ({e}); not leading");
                }
                leading = false;
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        if !lead {
            leading = false;
            // requests are the leader's; drop them while waiting
            while requests.try_recv().is_ok() {}
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        let mut fit_now = false;
        if !leading {
            leading = true;
            eprintln!("trainer {me}: leading");
            // a new leader fits at once when the data moved past the newest model (or none exists)
            let latest = pg.latest_artifact()?;
            fit_now = latest.is_none_or(|l| pg.event_watermark().is_ok_and(|w| w > l.watermark)) || a.once;
        }
        if !fit_now {
            match requests.recv_timeout(Duration::from_millis(500)) {
                Ok((channel, _)) if channel == "daogou_retrain" => fit_now = true,
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => bail!("the notification listener stopped"),
            }
            if !every.is_zero() && last_fit.is_some_and(|t| t.elapsed() >= every) {
                fit_now = true;
            }
        }
        if !fit_now {
            continue;
        }
        while requests.try_recv().is_ok() {} // one fit answers every request queued so far
        match fit_once(&pg, &source, &a.model, &a.signal) {
            Ok(line) => {
                println!("{line}");
                if let Some(r) = &redis {
                    publish_status(r, &me, &line);
                }
            }
            Err(e) => eprintln!("trainer {me}: refit failed, the servers keep the current model: {e:#}"),
        }
        last_fit = Some(Instant::now());
        if a.once {
            return Ok(());
        }
    }
}

/// One refit: the watermark first (every event up to it is in the data read after), the fit,
/// the artifact (with its notification). A JSON line describing it.
fn fit_once(pg: &PgStore, source: &SourceArgs, model: &ModelArgs, signal: &SignalArgs) -> Result<String> {
    let watermark = pg.event_watermark()?;
    let file = tempfile_path();
    let started = Instant::now();
    let summary = fit_to_file(source, model, signal, Some(&file));
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&file);
            return Err(e);
        }
    };
    let name = summary["model"].as_str().unwrap_or("model").to_owned();
    let mut pg = pg.handle();
    let artifact = pg.put_artifact(&name, watermark, &file);
    let _ = std::fs::remove_file(&file);
    let artifact = artifact?;
    Ok(serde_json::json!({
        "artifact": artifact.version,
        "model": name,
        "watermark": watermark,
        "users": summary["users"],
        "items": summary["items"],
        "bytes": artifact.size,
        "seconds": started.elapsed().as_secs_f64(),
    })
    .to_string())
}

fn tempfile_path() -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("daogou-trainer-{}-{nanos}.daogou", std::process::id()))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "host".into(), |h| h.trim().to_owned())
}

/// The leader's last fit under `daogou:trainer` (60 s TTL), for operators: best effort.
fn publish_status(client: &redis::Client, me: &str, line: &str) {
    let value = format!("{{\"trainer\":\"{me}\",\"last\":{line}}}");
    if let Ok(mut c) = client.get_connection() {
        let _: redis::RedisResult<()> =
            redis::cmd("SET").arg("daogou:trainer").arg(value).arg("EX").arg(60).query(&mut c);
    }
}
