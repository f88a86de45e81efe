//! `daogou serve`: the HTTP recommendation service (crate `daogou-server`).

use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use daogou_server::cluster::Cluster;
use daogou_server::{AppState, Config};
use daogou_store::{PgStore, SqliteStore, StoreUrl};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Database file (created when missing): the same as --store sqlite:PATH.
    #[arg(long, value_name = "PATH", conflicts_with = "store")]
    db: Option<PathBuf>,
    /// The store: sqlite:PATH (default sqlite:daogou.db) or postgres://user@host:port/db.
    /// On PostgreSQL the service is one of any number of servers sharing the store: models
    /// come from `daogou trainer`.
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Redis for what several servers share (live events, rate limits, assistant
    /// conversations): redis://host:port. Required with more than one server.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
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
    /// experiment_salt, retrain_secs, refit_nice, …; README "HTTP service"). Flags and
    /// DAOGOU_* variables win.
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
    set("store", a.store.clone())?;
    set("redis", a.redis.clone())?;
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
        let url = match &c.store {
            Some(u) => StoreUrl::parse(u).context("--store")?,
            None => StoreUrl::Sqlite(c.db.clone()),
        };
        let state = match url {
            StoreUrl::Sqlite(db) => {
                if c.redis.is_some() {
                    anyhow::bail!(
                        "--redis shares state between servers on a PostgreSQL store; with SQLite there is one server"
                    );
                }
                eprintln!("opening {} and preparing model {} …", db.display(), c.model);
                let mut store =
                    SqliteStore::open(&db).with_context(|| format!("cannot open database {}", db.display()))?;
                if c.pseudonymize_key.is_some() {
                    daogou_server::pseudonym::check_store(&mut store).map_err(|e| anyhow!("{}: {e}", db.display()))?;
                }
                tokio::task::spawn_blocking(move || AppState::new(store, c))
                    .await?
                    .map_err(|e| anyhow!("cannot prepare the model: {e}"))?
            }
            StoreUrl::Postgres(u) => open_cluster_member(&u, c).await?,
        };
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

/// One of several servers on a PostgreSQL store: the trainer's newest model (or, before it
/// wrote one, a model fitted here), then following the cluster (see `daogou_server::cluster`).
async fn open_cluster_member(url: &str, mut c: Config) -> Result<std::sync::Arc<AppState>> {
    let shown = StoreUrl::Postgres(url.to_owned()).to_string();
    eprintln!("connecting to {shown} …");
    let u = url.to_owned();
    let mut pg = tokio::task::spawn_blocking(move || PgStore::connect(&u))
        .await?
        .with_context(|| format!("cannot open database {shown}"))?;
    if c.pseudonymize_key.is_some() {
        daogou_server::pseudonym::check_store(&mut pg).map_err(|e| anyhow!("{shown}: {e}"))?;
    }
    let handle = pg.handle();
    let cluster = Cluster::connect(pg.handle(), c.redis.as_deref()).await.map_err(|e| anyhow!(e))?;
    let mut artifact = None;
    if !std::path::Path::new(&c.model).is_file() {
        artifact = tokio::task::spawn_blocking(move || Cluster::fetch_latest(&handle)).await??;
        match &artifact {
            Some((version, path)) => {
                eprintln!("loading the trainer's model artifact {version} …");
                if !c.params.is_empty() || c.weights.is_some() {
                    eprintln!("warning: --set and --weights are ignored: the trainer's model serves");
                }
                c.params.clear();
                c.weights = None;
                c.model = path.display().to_string();
            }
            None => eprintln!("no model artifact from a trainer yet: fitting {} here until one is written", c.model),
        }
    }
    let state = tokio::task::spawn_blocking(move || AppState::with_store(Box::new(pg), c))
        .await?
        .map_err(|e| anyhow!("cannot prepare the model: {e}"))?;
    if let Some((version, path)) = artifact {
        cluster.set_artifact_version(version);
        let _ = std::fs::remove_file(path);
    }
    state.join_cluster(std::sync::Arc::new(cluster));
    Ok(state)
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
