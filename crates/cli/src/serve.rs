//! `daogou serve`: the HTTP recommendation service (crate `daogou-server`).

use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use daogou_server::{AppState, Config};
use daogou_store::SqliteStore;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Database file (created when missing).
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (the address is printed on stdout).
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Model name to fit on the stored data (default item-knn), or a model file to load.
    #[arg(long, value_name = "NAME|FILE")]
    model: Option<String>,
    /// Model hyperparameter key=value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Event weights, e.g. view=1,purchase=8.
    #[arg(long, value_name = "SPEC")]
    weights: Option<String>,
    /// Configuration file: `key = value` lines (db, bind, model, set, weights, api_keys,
    /// body_limit, max_batch, max_n, timeout_secs, workers, rate_limit, client_rate_limit,
    /// trusted_proxies, allowed_hosts, allowed_origins, insecure_open, pseudonymize_key,
    /// experiment_salt, retrain_secs). Flags and DAOGOU_* variables win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// API keys with scopes, `key1:read,key2:read+write+admin` (also DAOGOU_API_KEYS).
    /// Without keys the service is open, and serves only on a loopback address unless
    /// --insecure-open is given.
    #[arg(long, value_name = "SPEC")]
    api_keys: Option<String>,
    /// Serve without API keys on an address other machines can reach (refused without this).
    #[arg(long)]
    insecure_open: bool,
    /// Host names accepted in the Host header besides the bound address and loopback names,
    /// comma-separated (`shop.example,api.shop.example:8443`; `*` for any).
    #[arg(long, value_name = "HOSTS")]
    allowed_hosts: Option<String>,
    /// Origins whose web pages may write and call admin endpoints besides the service's own,
    /// comma-separated (`https://admin.shop.example`).
    #[arg(long, value_name = "ORIGINS")]
    allowed_origins: Option<String>,
    /// Largest request body in bytes (default 1 MiB).
    #[arg(long, value_name = "BYTES")]
    body_limit: Option<usize>,
    /// Tokio worker threads (default 2; fitting and scoring run on blocking threads).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
}

fn config(a: &ServeArgs) -> Result<Config> {
    let mut c = Config::default();
    if let Some(f) = &a.config {
        c.apply_file(f).map_err(|e| anyhow!(e))?;
    }
    c.apply_env().map_err(|e| anyhow!(e))?;
    let mut set = |k: &str, v: Option<String>| -> Result<()> {
        if let Some(v) = v {
            c.set(k, &v).map_err(|e| anyhow!("--{}: {e}", k.replace('_', "-")))?;
        }
        Ok(())
    };
    set("db", a.db.as_ref().map(|p| p.display().to_string()))?;
    set("bind", a.bind.clone())?;
    set("model", a.model.clone())?;
    set("weights", a.weights.clone())?;
    set("api_keys", a.api_keys.clone())?;
    set("body_limit", a.body_limit.map(|x| x.to_string()))?;
    set("workers", a.workers.map(|x| x.to_string()))?;
    set("allowed_hosts", a.allowed_hosts.clone())?;
    set("allowed_origins", a.allowed_origins.clone())?;
    set("insecure_open", a.insecure_open.then(|| "true".to_owned()))?;
    for s in &a.set {
        c.set("set", s).map_err(|e| anyhow!("--set: {e}"))?;
    }
    Ok(c)
}

pub fn run(a: ServeArgs) -> Result<()> {
    let c = config(&a)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(c.workers)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(&c.bind).await.with_context(|| format!("cannot listen on {}", c.bind))?;
        let addr = listener.local_addr()?;
        c.check_exposure(addr).map_err(|e| anyhow!(e))?;
        if c.api_keys.is_empty() && !addr.ip().is_loopback() {
            eprintln!("warning: --insecure-open: serving without API keys on {addr}, reachable from other machines");
        }
        let db = c.db.clone();
        eprintln!("opening {} and preparing model {} …", db.display(), c.model);
        let mut store = SqliteStore::open(&db).with_context(|| format!("cannot open database {}", db.display()))?;
        if c.pseudonymize_key.is_some() {
            daogou_server::pseudonym::check_store(&mut store).map_err(|e| anyhow!("{}: {e}", db.display()))?;
        }
        let state = tokio::task::spawn_blocking(move || AppState::new(store, c))
            .await?
            .map_err(|e| anyhow!("cannot prepare the model: {e}"))?;
        let snap = state.snapshot();
        eprintln!(
            "model {} version {} on {} users × {} items; {}",
            snap.model_name(),
            snap.version,
            snap.users.len(),
            snap.items.len(),
            if state.config.api_keys.is_empty() { "no API keys (open service)" } else { "API keys required" }
        );
        drop(snap);
        // the first stdout line is the address (scripts and tests read it)
        println!("listening on http://{addr}");
        use std::io::Write;
        std::io::stdout().flush()?;
        daogou_server::start_background(state.clone());
        let app = daogou_server::router(state).into_make_service_with_connect_info::<daogou_server::Peer>();
        axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
        eprintln!("stopped");
        Ok(())
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
