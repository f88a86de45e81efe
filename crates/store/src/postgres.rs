//! [`PgStore`]: the store in PostgreSQL, shared by any number of servers and trainers.
//!
//! The same tables as the SQLite store (users, items, events with the same dedup key,
//! deletions, meta, experiments), plus versioned model artifacts written by the elected
//! trainer. Imports go through `COPY … FROM STDIN (FORMAT binary)` into a session-private
//! staging table, then into the tables with one `INSERT … SELECT … ON CONFLICT DO NOTHING`
//! per table: duplicates are detected by the same unique index as in SQLite, and one
//! transaction makes a strict import all or nothing.
//!
//! The [`Store`] trait is synchronous. A `PgStore` owns a small tokio runtime (shared by its
//! readers) that drives its connections; each call runs its future to completion on the
//! calling thread, so it may be called from any thread, async worker threads included (it
//! blocks them as a SQLite call would). Each `PgStore` keeps one connection of the pool, so
//! that a read transaction spans calls; a connection lost (PostgreSQL restarted) is replaced
//! at the next call, and the call that met the loss fails with [`StoreError::Unavailable`].

use std::future::Future;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use daogou_core::{Dataset, Event, EventColumns, IdMap, Interaction, Item};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use futures_util::{pin_mut, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{AsyncMessage, NoTls, Row, Statement};

use crate::deletions::encode_hex;
use crate::experiments::{check_outcome, experiment_changed, salt_from_meta, status_time_column};
use crate::schema::{kind_code, kind_from_code};
use crate::url::redact;
use crate::{
    BatchWriter, DeletionKey, ExperimentSalt, ExperimentStore, Exposure, ExposureTotals, FeedError, ImportReport,
    Outcome, RenameReport, Result, Store, StoreError, StoreStats, StoredExperiment, UserHash, DELETION_KEY_META,
    EXPERIMENT_SALT_META,
};

/// The schema version of a PostgreSQL store ([`PgStore::migrate`]); a database with a newer
/// one is refused.
pub const PG_SCHEMA_VERSION: i64 = 1 + PG_MIGRATIONS.len() as i64;

/// Upgrades: `PG_MIGRATIONS[i]` takes the schema from version `i + 1` to `i + 2`.
const PG_MIGRATIONS: &[&str] = &[];

/// Key of the advisory lock that serialises schema changes.
const MIGRATION_LOCK: i64 = 0x6461_6f67_0001;

/// Key of the advisory lock the trainers compete for.
pub(crate) const LEADER_LOCK: i64 = 0x6461_6f67_0002;

/// Model artifacts are stored in chunks of this size (bytea values stay small).
const CHUNK: usize = 4 << 20;

/// Artifacts kept; older ones are removed when a new one is written.
const KEEP_ARTIFACTS: i64 = 3;

const SCHEMA_V1: &str = "
CREATE TABLE daogou_schema (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE CHECK (external_id <> ''),
    created_at  BIGINT
);
CREATE TABLE items (
    id          BIGSERIAL PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE CHECK (external_id <> ''),
    title       TEXT NOT NULL DEFAULT '',
    category    TEXT,
    brand       TEXT,
    price       DOUBLE PRECISION CHECK (price <> 'NaN'),
    attributes  TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT,
    available   BOOLEAN NOT NULL DEFAULT TRUE,
    stock       BIGINT,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE events (
    id        BIGSERIAL PRIMARY KEY,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id   BIGINT REFERENCES items (id),
    kind      SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 6),
    value     DOUBLE PRECISION NOT NULL CHECK (value <> 'NaN'),
    timestamp BIGINT NOT NULL,
    query     TEXT
);
CREATE UNIQUE INDEX events_dedup
    ON events (user_id, coalesce(item_id, 0), kind, timestamp, value, coalesce(query, ''));
CREATE TABLE deletions (
    user_hash  BYTEA PRIMARY KEY CHECK (length(user_hash) = 32),
    deleted_at BIGINT NOT NULL
);
CREATE TABLE experiments (
    name       TEXT PRIMARY KEY CHECK (name <> ''),
    definition TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('draft', 'running', 'stopped')),
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    stopped_at BIGINT
);
CREATE TABLE exposures (
    id         BIGSERIAL PRIMARY KEY,
    experiment TEXT NOT NULL REFERENCES experiments (name),
    variant    TEXT NOT NULL,
    unit       TEXT NOT NULL CHECK (unit <> ''),
    shown_at   BIGINT NOT NULL,
    items      JSONB NOT NULL
);
CREATE INDEX exposures_unit ON exposures (unit, experiment, shown_at);
CREATE INDEX exposures_experiment ON exposures (experiment, shown_at);
CREATE TABLE outcomes (
    exposure_id BIGINT NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    item        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('click', 'add_to_cart', 'purchase')),
    value       DOUBLE PRECISION NOT NULL,
    revenue     DOUBLE PRECISION NOT NULL CHECK (revenue <> 'NaN'),
    at          BIGINT NOT NULL,
    PRIMARY KEY (exposure_id, item, kind, at, value)
);
CREATE TABLE model_artifacts (
    version    BIGSERIAL PRIMARY KEY,
    model      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    watermark  BIGINT NOT NULL,
    size       BIGINT NOT NULL,
    checksum   TEXT NOT NULL
);
CREATE TABLE artifact_chunks (
    version BIGINT NOT NULL REFERENCES model_artifacts (version) ON DELETE CASCADE,
    n       INTEGER NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (version, n)
);
";

/// Staging tables of imports: private to the session, emptied at every commit.
const STAGING: &str = "
CREATE TEMP TABLE IF NOT EXISTS staging_events (
    n BIGINT, user_ext TEXT, item_ext TEXT, kind SMALLINT, value DOUBLE PRECISION, ts BIGINT, query TEXT
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS staging_items (
    n BIGINT, external_id TEXT, title TEXT, category TEXT, brand TEXT, price DOUBLE PRECISION, attributes TEXT,
    created_at BIGINT, available BOOLEAN, stock BIGINT, deleted BOOLEAN
) ON COMMIT DELETE ROWS;
";

/// A model file stored by a trainer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Version (increasing).
    pub version: i64,
    /// The model's name.
    pub model: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The largest event id the model was trained on.
    pub watermark: i64,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the file, hex.
    pub checksum: String,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.is_closed() || (e.code().is_none() && e.as_db_error().is_none()) {
            // no answer from the server: a lost connection, a refused one, a timeout
            return StoreError::Unavailable(e.to_string());
        }
        match e.as_db_error() {
            Some(db) if db.code().code().starts_with("57P") || db.code().code().starts_with("08") => {
                StoreError::Unavailable(db.message().to_owned()) // shutting down, connection failure
            }
            Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
            None => StoreError::Postgres(e.to_string()),
        }
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => e.into(),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// What the connections of one URL share: the runtime that drives them and the pool.
struct Shared {
    /// Always `Some` until dropped (taken to shut it down without blocking).
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    config: tokio_postgres::Config,
    url: String,
}

/// The store in PostgreSQL. See the module documentation.
pub struct PgStore {
    shared: Arc<Shared>,
    /// Schema versions before and after [`PgStore::connect`] (equal: nothing to do).
    schema_change: (i64, i64),
    /// This store's connection (`None` until first used, or after it was lost).
    conn: Mutex<Option<Object>>,
}

impl Shared {
    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("the runtime lives as long as the store")
    }
}

impl Drop for Shared {
    /// Dropping a runtime blocks until its tasks end, which tokio refuses inside async code
    /// (where the last handle of a store may go); its tasks only drive connections: stop them
    /// in the background.
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.shared.url)
    }
}

fn slice_iter<'a>(s: &'a [&'a (dyn ToSql + Sync)]) -> impl ExactSizeIterator<Item = &'a dyn ToSql> + 'a {
    s.iter().map(|s| *s as _)
}

impl PgStore {
    /// Connect to `url` (`postgres://user@host:port/db`), creating the schema in an empty
    /// database and applying newer schema versions ([`PgStore::migrate`]); a database whose
    /// schema is newer than this build is refused with [`StoreError::SchemaTooNew`].
    pub fn connect(url: &str) -> Result<PgStore> {
        let mut store = PgStore::connect_only(url)?;
        store.schema_change = store.migrate()?;
        Ok(store)
    }

    /// The schema versions before and after this store was connected (`daogou migrate`
    /// reports them).
    pub fn schema_change(&self) -> (i64, i64) {
        self.schema_change
    }

    fn connect_only(url: &str) -> Result<PgStore> {
        let shown = redact(url);
        let open = |message: String| StoreError::Open { path: PathBuf::from(&shown), message };
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| open(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("daogou");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("daogou-pg")
            .enable_all()
            .build()
            .map_err(|e| open(format!("cannot start the client runtime: {e}")))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| open(e.to_string()))?;
        let shared = Arc::new(Shared { runtime: Some(runtime), pool, config, url: shown.clone() });
        let store = PgStore { shared, schema_change: (0, 0), conn: Mutex::new(None) };
        // fail at once, naming the URL, when the server cannot be reached
        drop(store.block(store.shared.pool.get()).map_err(|e| open(pool_error(e).to_string()))?);
        Ok(store)
    }

    /// Run `f` to completion on this thread (see the module documentation).
    fn block<F: Future>(&self, f: F) -> F::Output {
        let _inside = self.shared.runtime().enter();
        futures_executor::block_on(f)
    }

    /// Run `f` on this store's connection, (re)connecting first when there is none.
    fn run<T>(&self, f: impl AsyncFnOnce(&mut Object) -> Result<T>) -> Result<T> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        self.block(async {
            if slot.as_ref().is_none_or(|c| c.is_closed()) {
                *slot = None;
                let c = self.shared.pool.get().await.map_err(pool_error)?;
                c.batch_execute(STAGING).await?;
                *slot = Some(c);
            }
            let out = f(slot.as_mut().expect("connected above")).await;
            if slot.as_ref().is_some_and(|c| c.is_closed()) {
                *slot = None;
            }
            out
        })
    }

    /// Create the schema in an empty database, or bring an older one up to
    /// [`PG_SCHEMA_VERSION`], in one transaction under an advisory lock (servers and
    /// trainers starting together serialise here). Returns the versions before and after.
    pub fn migrate(&self) -> Result<(i64, i64)> {
        let url = self.shared.url.clone();
        self.run(async |c| {
            let tx = c.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
            let exists: bool = tx.query_one("SELECT to_regclass('daogou_schema') IS NOT NULL", &[]).await?.get(0);
            let found: i64 = if exists {
                let v: Option<i32> = tx.query_opt("SELECT version FROM daogou_schema", &[]).await?.map(|r| r.get(0));
                i64::from(v.unwrap_or(0))
            } else {
                let others: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()
                         AND table_name IN ('users', 'items', 'events', 'meta')",
                        &[],
                    )
                    .await?
                    .get(0);
                if others > 0 {
                    return Err(StoreError::Open {
                        path: PathBuf::from(&url),
                        message: "this database has tables named like daogou's but no daogou schema version; \
                                  not a daogou store (use an empty database)"
                            .into(),
                    });
                }
                0
            };
            if found > PG_SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    path: PathBuf::from(&url),
                    found,
                    supported: PG_SCHEMA_VERSION,
                });
            }
            if found == PG_SCHEMA_VERSION {
                return Ok((found, found));
            }
            if found == 0 {
                tx.batch_execute(SCHEMA_V1).await?;
                tx.execute("INSERT INTO daogou_schema (version) VALUES (1)", &[]).await?;
                let key = DeletionKey::random()?.to_hex();
                let salt = encode_hex(&ExperimentSalt::random()?.0);
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2), ($3, $4)",
                    &[&DELETION_KEY_META, &key, &EXPERIMENT_SALT_META, &salt],
                )
                .await?;
            }
            for step in &PG_MIGRATIONS[(found.max(1) - 1) as usize..] {
                tx.batch_execute(step).await?;
            }
            tx.execute("UPDATE daogou_schema SET version = $1", &[&(PG_SCHEMA_VERSION as i32)]).await?;
            tx.commit().await?;
            Ok((found, PG_SCHEMA_VERSION))
        })
    }

    /// Create the empty database `name` on the server of `admin_url` (a URL of any existing
    /// database there, such as `postgres`) and return the URL of the new one. For tests and
    /// set-up scripts.
    pub fn create_database(admin_url: &str, name: &str) -> Result<String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Invalid(format!("database name `{name}`: use letters, digits and _")));
        }
        let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let url = match base[scheme_end..].find('/') {
            Some(slash) => format!("{}/{name}", &base[..scheme_end + slash]),
            None => format!("{base}/{name}"),
        };
        let url = match query {
            Some(q) => format!("{url}?{q}"),
            None => url,
        };
        let admin = PgStore::connect_only(admin_url)?;
        admin.run(async |c| {
            c.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await?;
            Ok(())
        })?;
        Ok(url)
    }

    /// Another handle on the same database and pool, with its own connection.
    pub fn handle(&self) -> PgStore {
        PgStore { shared: self.shared.clone(), schema_change: self.schema_change, conn: Mutex::new(None) }
    }

    /// Take the trainers' leader lock on this store's connection, or confirm it is still
    /// held. A session lock: it goes when the connection does (the process dies, the
    /// network fails), so another trainer takes over then. False while another holds it.
    pub fn hold_leader_lock(&self) -> Result<bool> {
        self.run(async |c| {
            let held: bool = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                       AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = $1)",
                    &[&LEADER_LOCK],
                )
                .await?
                .get(0);
            if held {
                return Ok(true);
            }
            Ok(c.query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK]).await?.get(0))
        })
    }

    /// Send a notification on `channel` (delivered to every listener).
    pub fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        self.run(async |c| {
            c.execute("SELECT pg_notify($1, $2)", &[&channel, &payload]).await?;
            Ok(())
        })
    }

    /// The largest event id (0 without events): how far a model's data reaches.
    pub fn event_watermark(&self) -> Result<i64> {
        self.run(async |c| Ok(c.query_one("SELECT coalesce(max(id), 0) FROM events", &[]).await?.get(0)))
    }

    /// Store the model file at `path` as a new artifact (in chunks, with its checksum) and
    /// notify `daogou_model` with its version, in one transaction: listeners hear of it only
    /// once it is complete. Older artifacts beyond the last few are removed.
    pub fn put_artifact(&mut self, model: &str, watermark: i64, path: &Path) -> Result<Artifact> {
        let mut file = std::fs::File::open(path)
            .map_err(|e| StoreError::Invalid(format!("cannot read model file {}: {e}", path.display())))?;
        let size = file.metadata().map(|m| m.len() as i64).unwrap_or(0);
        self.run(async |c| {
            let tx = c.transaction().await?;
            let now = chrono_now();
            let version: i64 = tx
                .query_one(
                    "INSERT INTO model_artifacts (model, created_at, watermark, size, checksum)
                     VALUES ($1, $2, $3, $4, '') RETURNING version",
                    &[&model, &now, &watermark, &size],
                )
                .await?
                .get(0);
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; CHUNK];
            let mut n = 0i32;
            loop {
                let got = read_full(&mut file, &mut buf)
                    .map_err(|e| StoreError::Invalid(format!("cannot read model file {}: {e}", path.display())))?;
                if got == 0 {
                    break;
                }
                hasher.update(&buf[..got]);
                tx.execute(
                    "INSERT INTO artifact_chunks (version, n, data) VALUES ($1, $2, $3)",
                    &[&version, &n, &&buf[..got]],
                )
                .await?;
                n += 1;
            }
            let checksum = encode_hex(&hasher.finalize());
            tx.execute("UPDATE model_artifacts SET checksum = $2 WHERE version = $1", &[&version, &checksum]).await?;
            tx.execute("DELETE FROM model_artifacts WHERE version <= $1", &[&(version - KEEP_ARTIFACTS)]).await?;
            tx.execute("SELECT pg_notify('daogou_model', $1)", &[&version.to_string()]).await?;
            tx.commit().await?;
            Ok(Artifact { version, model: model.to_owned(), created_at: now, watermark, size, checksum })
        })
    }

    /// The newest artifact.
    pub fn latest_artifact(&self) -> Result<Option<Artifact>> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT version, model, created_at, watermark, size, checksum FROM model_artifacts
                     WHERE checksum <> '' ORDER BY version DESC LIMIT 1",
                    &[],
                )
                .await?;
            Ok(row.map(|r| Artifact {
                version: r.get(0),
                model: r.get(1),
                created_at: r.get(2),
                watermark: r.get(3),
                size: r.get(4),
                checksum: r.get(5),
            }))
        })
    }

    /// Write artifact `version` to `to`, checking its size and checksum.
    pub fn fetch_artifact(&self, artifact: &Artifact, to: &Path) -> Result<()> {
        let fail = |m: String| StoreError::Corrupt(format!("model artifact {}: {m}", artifact.version));
        let mut out = std::fs::File::create(to)
            .map_err(|e| StoreError::Invalid(format!("cannot write {}: {e}", to.display())))?;
        let mut hasher = Sha256::new();
        let mut size = 0i64;
        self.run(async |c| {
            let stmt = c.prepare_cached("SELECT data FROM artifact_chunks WHERE version = $1 ORDER BY n").await?;
            let rows = c.query_raw(&stmt, slice_iter(&[&artifact.version])).await?;
            pin_mut!(rows);
            while let Some(r) = rows.try_next().await? {
                let data: &[u8] = r.get(0);
                hasher.update(data);
                size += data.len() as i64;
                out.write_all(data).map_err(|e| StoreError::Invalid(format!("cannot write {}: {e}", to.display())))?;
            }
            Ok(())
        })?;
        out.sync_all().map_err(|e| StoreError::Invalid(format!("cannot write {}: {e}", to.display())))?;
        if size != artifact.size {
            return Err(fail(format!("{size} bytes stored, {} expected", artifact.size)));
        }
        let sum = encode_hex(&hasher.finalize());
        if sum != artifact.checksum {
            return Err(fail(format!("checksum {sum} does not match {}", artifact.checksum)));
        }
        Ok(())
    }

    /// Listen on `channels`: every notification arrives as (channel, payload). A lost
    /// connection is re-established (every second until it works), and each (re)connection
    /// sends (`""`, `"connected"`) first, so the listener can catch up on what it missed.
    /// Ends when the receiver is dropped.
    pub fn listen(&self, channels: &[&str]) -> mpsc::Receiver<(String, String)> {
        let (tx, rx) = mpsc::channel();
        let config = self.shared.config.clone();
        let sql: String = channels.iter().map(|c| format!("LISTEN \"{}\";", c.replace('"', ""))).collect();
        self.shared.runtime().spawn(async move {
            loop {
                if let Ok((client, mut conn)) = config.connect(NoTls).await {
                    let (note_tx, mut note_rx) = tokio::sync::mpsc::unbounded_channel();
                    let driver = tokio::spawn(async move {
                        while let Some(m) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                            match m {
                                Ok(AsyncMessage::Notification(n)) => {
                                    let _ = note_tx.send((n.channel().to_owned(), n.payload().to_owned()));
                                }
                                Ok(_) => {}
                                Err(_) => break,
                            }
                        }
                    });
                    if client.batch_execute(&sql).await.is_ok() {
                        if tx.send((String::new(), "connected".into())).is_err() {
                            return;
                        }
                        while let Some(n) = note_rx.recv().await {
                            if tx.send(n).is_err() {
                                return;
                            }
                        }
                    }
                    driver.abort();
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        rx
    }

    /// Users, items and the catalogue (no events), with the maps from row ids to dense
    /// indices.
    async fn load_ids(c: &Object) -> Result<(Dataset, Vec<u32>, Vec<u32>)> {
        let mut data = Dataset::default();
        let max_user: i64 = c.query_one("SELECT coalesce(max(id), 0) FROM users", &[]).await?.get(0);
        let mut user_index = vec![u32::MAX; max_user as usize + 1];
        let rows = c.query_raw("SELECT id, external_id FROM users ORDER BY id", slice_iter(&[])).await?;
        pin_mut!(rows);
        let mut ids = Vec::new();
        while let Some(r) = rows.try_next().await? {
            user_index[r.get::<_, i64>(0) as usize] = ids.len() as u32;
            ids.push(r.get::<_, String>(1));
        }
        data.users = IdMap::from_iter(ids);
        let max_item: i64 = c.query_one("SELECT coalesce(max(id), 0) FROM items", &[]).await?.get(0);
        let mut item_index = vec![u32::MAX; max_item as usize + 1];
        let rows = c.query_raw(&format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY id"), slice_iter(&[])).await?;
        pin_mut!(rows);
        let mut ids = Vec::new();
        while let Some(r) = rows.try_next().await? {
            item_index[r.get::<_, i64>(0) as usize] = ids.len() as u32;
            let item = item_from_row(&r)?;
            ids.push(item.id.clone());
            data.catalogue.push(item);
        }
        data.items = IdMap::from_iter(ids);
        Ok((data, user_index, item_index))
    }

    /// Every event that has an item, mapped, in insertion order.
    async fn scan_events(
        c: &Object,
        user_index: &[u32],
        item_index: &[u32],
        mut push: impl FnMut(Interaction),
    ) -> Result<()> {
        let rows = c
            .query_raw(
                "SELECT user_id, item_id, kind, value, timestamp FROM events WHERE item_id IS NOT NULL ORDER BY id",
                slice_iter(&[]),
            )
            .await?;
        pin_mut!(rows);
        while let Some(r) = rows.try_next().await? {
            push(Interaction {
                user: crate::dense_index(user_index, r.get(0), "user")?,
                item: crate::dense_index(item_index, r.get(1), "item")?,
                kind: kind_from_code(i64::from(r.get::<_, i16>(2)))?,
                value: r.get::<_, f64>(3) as f32,
                timestamp: r.get(4),
            });
        }
        Ok(())
    }
}

impl From<PgStore> for Box<dyn Store> {
    fn from(s: PgStore) -> Self {
        Box::new(s)
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

const ITEM_COLUMNS: &str =
    "id, external_id, title, category, brand, price, attributes, created_at, available, stock, deleted";

fn item_from_row(r: &Row) -> Result<Item> {
    let id: String = r.get(1);
    let attributes: String = r.get(6);
    let attributes = serde_json::from_str(&attributes).map_err(|e| {
        StoreError::Corrupt(format!("item {id}: attributes are not a JSON object of strings ({e}): {attributes}"))
    })?;
    Ok(Item {
        title: r.get(2),
        category: r.get(3),
        brand: r.get(4),
        price: r.get(5),
        attributes,
        created_at: r.get(7),
        available: r.get(8),
        stock: r.get(9),
        deleted: r.get(10),
        id,
    })
}

/// The shared checks ([`crate::check_item`]), and no NUL in a text field: PostgreSQL text
/// cannot hold one, so it is refused here and fails only its own call.
fn check_items(items: &[Item]) -> Result<()> {
    for (n, item) in items.iter().enumerate() {
        crate::check_item(n, item)?;
        let texts = [Some(&item.id), Some(&item.title), item.category.as_ref(), item.brand.as_ref()];
        if texts.into_iter().flatten().chain(item.attributes.iter().flat_map(|(k, v)| [k, v])).any(|t| t.contains('\0'))
        {
            return Err(StoreError::Invalid(format!("item {n} ({:?}): a NUL character in a text field", item.id)));
        }
    }
    Ok(())
}

/// See [`check_items`].
fn check_events(events: &[Event]) -> Result<()> {
    for (n, e) in events.iter().enumerate() {
        crate::check_event(n, e)?;
        let nul = |t: &str| t.contains('\0');
        if nul(&e.user) || nul(&e.item) || e.query.as_deref().is_some_and(nul) {
            return Err(StoreError::Invalid(format!("event {n} (user {:?}): a NUL character in a text field", e.user)));
        }
    }
    Ok(())
}

/// Upsert `items` inside `tx` (the same rules as the SQLite store: a record replaces the
/// stored one field by field, `created_at` kept when the new one has none; within one call
/// the last record of an id wins).
async fn upsert_items(tx: &tokio_postgres::Transaction<'_>, items: &[Item], report: &mut ImportReport) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    check_items(items)?;
    tx.execute("DELETE FROM staging_items", &[]).await?;
    let sink = tx
        .copy_in(
            "COPY staging_items (n, external_id, title, category, brand, price, attributes, created_at, available, \
             stock, deleted) FROM STDIN (FORMAT binary)",
        )
        .await?;
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::FLOAT8,
        Type::TEXT,
        Type::INT8,
        Type::BOOL,
        Type::INT8,
        Type::BOOL,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for (n, it) in items.iter().enumerate() {
        let attributes = serde_json::to_string(&it.attributes).expect("a map of strings always serialises");
        writer
            .as_mut()
            .write(&[
                &(n as i64),
                &it.id,
                &it.title,
                &it.category,
                &it.brand,
                &it.price,
                &attributes,
                &it.created_at,
                &it.available,
                &it.stock,
                &it.deleted,
            ])
            .await?;
    }
    writer.finish().await?;
    let updated = tx
        .execute(
            "WITH src AS (SELECT DISTINCT ON (external_id) * FROM staging_items ORDER BY external_id, n DESC)
             UPDATE items t SET title = s.title, category = s.category, brand = s.brand, price = s.price,
                    attributes = s.attributes, created_at = coalesce(s.created_at, t.created_at),
                    available = s.available, stock = s.stock, deleted = s.deleted
             FROM src s
             WHERE t.external_id = s.external_id
               AND (t.title, t.category, t.brand, t.price, t.attributes, t.created_at, t.available, t.stock, t.deleted)
                   IS DISTINCT FROM
                   (s.title, s.category, s.brand, s.price, s.attributes, coalesce(s.created_at, t.created_at),
                    s.available, s.stock, s.deleted)",
            &[],
        )
        .await?;
    let inserted = tx
        .execute(
            "INSERT INTO items (external_id, title, category, brand, price, attributes, created_at, available, stock, deleted)
             SELECT external_id, title, category, brand, price, attributes, created_at, available, stock, deleted
             FROM (SELECT DISTINCT ON (external_id) * FROM staging_items ORDER BY external_id, n DESC) s
             WHERE NOT EXISTS (SELECT 1 FROM items t WHERE t.external_id = s.external_id)
             ORDER BY n",
            &[],
        )
        .await?;
    report.items_updated += updated;
    report.items_inserted += inserted;
    Ok(())
}

/// Insert `events` inside `tx`: users and bare items created for ids first seen (in order of
/// first appearance; a new user's `created_at` is the time of their first event here), then
/// the events, duplicates skipped by the dedup index.
async fn insert_events(
    tx: &tokio_postgres::Transaction<'_>,
    one: &Statement,
    events: &[Event],
    report: &mut ImportReport,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    check_events(events)?;
    if events.len() <= FEW_EVENTS {
        return insert_few_events(tx, one, events, report).await;
    }
    tx.execute("DELETE FROM staging_events", &[]).await?;
    let sink = tx
        .copy_in("COPY staging_events (n, user_ext, item_ext, kind, value, ts, query) FROM STDIN (FORMAT binary)")
        .await?;
    let types = [Type::INT8, Type::TEXT, Type::TEXT, Type::INT2, Type::FLOAT8, Type::INT8, Type::TEXT];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for (n, e) in events.iter().enumerate() {
        let kind = kind_code(e.kind) as i16;
        let value = f64::from(e.value);
        writer.as_mut().write(&[&(n as i64), &e.user, &e.item, &kind, &value, &e.timestamp, &e.query]).await?;
    }
    writer.finish().await?;
    tx.execute(
        "INSERT INTO users (external_id, created_at)
         SELECT user_ext, (array_agg(ts ORDER BY n))[1] FROM staging_events s
         WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.external_id = s.user_ext)
         GROUP BY user_ext ORDER BY min(n)
         ON CONFLICT (external_id) DO NOTHING",
        &[],
    )
    .await?;
    report.items_inserted += tx
        .execute(
            "INSERT INTO items (external_id)
             SELECT item_ext FROM staging_events s
             WHERE item_ext <> '' AND NOT EXISTS (SELECT 1 FROM items i WHERE i.external_id = s.item_ext)
             GROUP BY item_ext ORDER BY min(n)
             ON CONFLICT (external_id) DO NOTHING",
            &[],
        )
        .await?;
    let inserted = tx
        .execute(
            "INSERT INTO events (user_id, item_id, kind, value, timestamp, query)
             SELECT u.id, i.id, s.kind, s.value, s.ts, s.query
             FROM staging_events s JOIN users u ON u.external_id = s.user_ext
                  LEFT JOIN items i ON i.external_id = s.item_ext AND s.item_ext <> ''
             ORDER BY s.n
             ON CONFLICT DO NOTHING",
            &[],
        )
        .await?;
    report.events_inserted += inserted;
    report.events_duplicate += events.len() as u64 - inserted;
    Ok(())
}

/// Up to this many events are inserted one statement each (what live ingestion sends); more go
/// through COPY and the staging table (imports). Measured on loopback: one round trip per event
/// against about eight for the COPY path.
const FEW_EVENTS: usize = 16;

/// One event in one statement: its user and bare item created when new, the event inserted
/// unless a duplicate; returns (items created, events inserted).
///
/// A user or item is inserted only when it is not visible yet (so the id sequences do not grow
/// with every event), and with `DO UPDATE` rather than `DO NOTHING`: when another transaction
/// inserts the same new id at the same moment, this statement waits for it and gets its row
/// back, where `DO NOTHING` would return nothing and the statement's snapshot would not show
/// the other row either (a NULL user id, and the event lost).
const INSERT_ONE_EVENT: &str = "
WITH eu AS (SELECT id FROM users WHERE external_id = $1),
     u AS (INSERT INTO users (external_id, created_at) SELECT $1, $5 WHERE NOT EXISTS (SELECT 1 FROM eu)
           ON CONFLICT (external_id) DO UPDATE SET external_id = excluded.external_id RETURNING id),
     ei AS (SELECT id FROM items WHERE external_id = $2),
     i AS (INSERT INTO items (external_id) SELECT $2 WHERE $2 <> '' AND NOT EXISTS (SELECT 1 FROM ei)
           ON CONFLICT (external_id) DO UPDATE SET external_id = excluded.external_id RETURNING id, xmax = 0 AS created),
     e AS (INSERT INTO events (user_id, item_id, kind, value, timestamp, query)
           SELECT coalesce((SELECT id FROM eu), (SELECT id FROM u)),
                  CASE WHEN $2 = '' THEN NULL ELSE coalesce((SELECT id FROM ei), (SELECT id FROM i)) END,
                  $3, $4, $5, $6
           ON CONFLICT DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM i WHERE created), (SELECT count(*) FROM e)";

/// [`INSERT_ONE_EVENT`] prepared on `c` (once per connection: deadpool's statement cache).
async fn prepare_one_event(c: &Object) -> Result<Statement> {
    let types = [Type::TEXT, Type::TEXT, Type::INT2, Type::FLOAT8, Type::INT8, Type::TEXT];
    Ok(c.prepare_typed_cached(INSERT_ONE_EVENT, &types).await?)
}

async fn insert_few_events(
    tx: &tokio_postgres::Transaction<'_>,
    stmt: &Statement,
    events: &[Event],
    report: &mut ImportReport,
) -> Result<()> {
    for e in events {
        let kind = kind_code(e.kind) as i16;
        let value = f64::from(e.value);
        let row = tx.query_one(stmt, &[&e.user, &e.item, &kind, &value, &e.timestamp, &e.query]).await?;
        let (items, inserted): (i64, i64) = (row.get(0), row.get(1));
        report.items_inserted += items as u64;
        report.events_inserted += inserted as u64;
        report.events_duplicate += 1 - inserted as u64;
    }
    Ok(())
}

impl Store for PgStore {
    fn import(&mut self, items: &[Item], events: &[Event]) -> Result<ImportReport> {
        check_items(items)?;
        check_events(events)?;
        self.run(async |c| {
            let one = prepare_one_event(c).await?;
            let tx = c.transaction().await?;
            let mut report = ImportReport::default();
            upsert_items(&tx, items, &mut report).await?;
            insert_events(&tx, &one, events, &mut report).await?;
            tx.commit().await?;
            Ok(report)
        })
    }

    fn upsert_items(&mut self, items: &[Item]) -> Result<ImportReport> {
        self.import(items, &[])
    }

    fn insert_events(&mut self, events: &[Event]) -> Result<ImportReport> {
        self.import(&[], events)
    }

    fn stats(&self) -> Result<StoreStats> {
        self.run(async |c| {
            let users: i64 = c.query_one("SELECT count(*) FROM users", &[]).await?.get(0);
            let items: i64 = c.query_one("SELECT count(*) FROM items", &[]).await?.get(0);
            let mut stats = StoreStats { users: users as u64, items: items as u64, ..Default::default() };
            let rows = c
                .query(
                    "SELECT kind, count(*), min(timestamp), max(timestamp) FROM events GROUP BY kind ORDER BY kind",
                    &[],
                )
                .await?;
            for r in rows {
                let kind = kind_from_code(i64::from(r.get::<_, i16>(0)))?;
                let (n, lo, hi): (i64, i64, i64) = (r.get(1), r.get(2), r.get(3));
                stats.events += n as u64;
                stats.by_kind.insert(kind.as_str().to_owned(), n as u64);
                stats.first_timestamp = Some(stats.first_timestamp.map_or(lo, |t| t.min(lo)));
                stats.last_timestamp = Some(stats.last_timestamp.map_or(hi, |t| t.max(hi)));
            }
            Ok(stats)
        })
    }

    fn items(&self) -> Result<Vec<Item>> {
        self.run(async |c| {
            let rows = c.query(&format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY id"), &[]).await?;
            rows.iter().map(item_from_row).collect()
        })
    }

    fn item(&self, id: &str) -> Result<Option<Item>> {
        self.run(async |c| {
            let stmt = c.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE external_id = $1")).await?;
            c.query_opt(&stmt, &[&id]).await?.as_ref().map(item_from_row).transpose()
        })
    }

    fn user_events(&self, user: &str) -> Result<Vec<Event>> {
        self.run(async |c| {
            let stmt = c
                .prepare_cached(
                    "SELECT coalesce(i.external_id, ''), e.kind, e.value, e.timestamp, e.query
                     FROM events e JOIN users u ON u.id = e.user_id LEFT JOIN items i ON i.id = e.item_id
                     WHERE u.external_id = $1 ORDER BY e.timestamp, e.id",
                )
                .await?;
            let rows = c.query(&stmt, &[&user]).await?;
            rows.iter()
                .map(|r| {
                    Ok(Event {
                        user: user.to_owned(),
                        item: r.get(0),
                        kind: kind_from_code(i64::from(r.get::<_, i16>(1)))?,
                        value: r.get::<_, f64>(2) as f32,
                        timestamp: r.get(3),
                        query: r.get(4),
                    })
                })
                .collect()
        })
    }

    fn load_dataset(&self) -> Result<Dataset> {
        self.run(async |c| {
            let (mut data, user_index, item_index) = PgStore::load_ids(c).await?;
            PgStore::scan_events(c, &user_index, &item_index, |x| data.interactions.push(x)).await?;
            crate::finish_dataset(&mut data);
            Ok(data)
        })
    }

    fn load_columns(&self, keep_time: bool) -> Result<(Dataset, EventColumns)> {
        self.run(async |c| {
            let (mut data, user_index, item_index) = PgStore::load_ids(c).await?;
            let mut columns = EventColumns::new(true);
            PgStore::scan_events(c, &user_index, &item_index, |x| columns.push(x)).await?;
            crate::finish_columns(&mut data, &mut columns, keep_time);
            Ok((data, columns))
        })
    }

    fn delete_user(&mut self, user: &str, at: i64) -> Result<u64> {
        let hash = self.deletion_key()?.hash(user);
        self.run(async |c| {
            let tx = c.transaction().await?;
            record(&tx, hash, at).await?;
            tx.execute("DELETE FROM exposures WHERE unit = $1", &[&user]).await?;
            let id: Option<i64> =
                tx.query_opt("SELECT id FROM users WHERE external_id = $1", &[&user]).await?.map(|r| r.get(0));
            let mut removed = 0;
            if let Some(id) = id {
                removed = tx.execute("DELETE FROM events WHERE user_id = $1", &[&id]).await?;
                tx.execute("DELETE FROM users WHERE id = $1", &[&id]).await?;
            }
            tx.commit().await?;
            Ok(removed)
        })
    }

    fn record_deletion(&mut self, hash: UserHash, at: i64) -> Result<()> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            record(&tx, hash, at).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn deletions(&self) -> Result<Vec<(UserHash, i64)>> {
        self.run(async |c| {
            let rows =
                c.query("SELECT user_hash, deleted_at FROM deletions ORDER BY deleted_at, user_hash", &[]).await?;
            rows.iter()
                .map(|r| {
                    let bytes: &[u8] = r.get(0);
                    let hash = <[u8; 32]>::try_from(bytes)
                        .map_err(|_| StoreError::Corrupt(format!("a deletion log hash of {} bytes", bytes.len())))?;
                    Ok((UserHash(hash), r.get(1)))
                })
                .collect()
        })
    }

    fn user_ids(&self) -> Result<Vec<String>> {
        self.run(async |c| {
            Ok(c.query("SELECT external_id FROM users ORDER BY id", &[]).await?.iter().map(|r| r.get(0)).collect())
        })
    }

    fn rename_users(&mut self, renames: &[(String, String)]) -> Result<RenameReport> {
        self.run(async |c| {
            let tx = c.transaction().await?;
            let mut report = RenameReport::default();
            for (n, (old, new)) in renames.iter().enumerate() {
                if new.is_empty() {
                    return Err(StoreError::Invalid(format!("rename {n} ({old}): empty new user id")));
                }
                let id_of = async |id: &str| -> Result<Option<i64>> {
                    Ok(tx.query_opt("SELECT id FROM users WHERE external_id = $1", &[&id]).await?.map(|r| r.get(0)))
                };
                let Some(from) = id_of(old).await? else {
                    report.missing += 1;
                    continue;
                };
                match id_of(new).await? {
                    Some(to) if to == from => {}
                    Some(to) => {
                        // events the target has already stay once
                        tx.execute(
                            "DELETE FROM events e USING events t
                             WHERE e.user_id = $1 AND t.user_id = $2 AND coalesce(t.item_id, 0) = coalesce(e.item_id, 0)
                               AND t.kind = e.kind AND t.timestamp = e.timestamp AND t.value = e.value
                               AND coalesce(t.query, '') = coalesce(e.query, '')",
                            &[&from, &to],
                        )
                        .await?;
                        tx.execute("UPDATE events SET user_id = $2 WHERE user_id = $1", &[&from, &to]).await?;
                        tx.execute(
                            "UPDATE users SET created_at = least(created_at, (SELECT created_at FROM users WHERE id = $1))
                             WHERE id = $2",
                            &[&from, &to],
                        )
                        .await?;
                        tx.execute("DELETE FROM users WHERE id = $1", &[&from]).await?;
                        tx.execute("UPDATE exposures SET unit = $2 WHERE unit = $1", &[old, new]).await?;
                        report.merged += 1;
                    }
                    None => {
                        tx.execute("UPDATE exposures SET unit = $2 WHERE unit = $1", &[old, new]).await?;
                        tx.execute("UPDATE users SET external_id = $2 WHERE id = $1", &[&from, new]).await?;
                        report.renamed += 1;
                    }
                }
            }
            tx.commit().await?;
            Ok(report)
        })
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        crate::sqlite::check_meta_key(key)?;
        self.run(async |c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .await?;
            Ok(())
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.run(async |c| {
            let stmt = c.prepare_cached("SELECT value FROM meta WHERE key = $1").await?;
            Ok(c.query_opt(&stmt, &[&key]).await?.map(|r| r.get(0)))
        })
    }

    /// Group commit on PostgreSQL: each group is checked first (a group with an invalid event
    /// fails alone, before the transaction), then the events of all valid groups are inserted
    /// in one transaction in the order of the dedup key. Every server inserts in that order,
    /// so two servers whose transactions hold the same events (a duplicate arriving at both)
    /// wait for each other at most once instead of deadlocking (PostgreSQL would abort one
    /// after a second).
    fn insert_event_groups(&mut self, groups: &[&[Event]]) -> Result<Vec<Result<ImportReport>>> {
        let mut out: Vec<Result<ImportReport>> =
            groups.iter().map(|g| check_events(g).map(|()| ImportReport::default())).collect();
        let mut order: Vec<(usize, &Event)> = groups
            .iter()
            .enumerate()
            .filter(|(k, _)| out[*k].is_ok())
            .flat_map(|(k, g)| g.iter().map(move |e| (k, e)))
            .collect();
        order.sort_by(|(_, a), (_, b)| {
            (&a.user, &a.item, kind_code(a.kind), a.timestamp, a.value.to_bits(), &a.query).cmp(&(
                &b.user,
                &b.item,
                kind_code(b.kind),
                b.timestamp,
                b.value.to_bits(),
                &b.query,
            ))
        });
        if order.is_empty() {
            return Ok(out);
        }
        let counts = self.run(async |c| {
            let one = prepare_one_event(c).await?;
            let tx = c.transaction().await?;
            let mut counts = Vec::with_capacity(order.len());
            for (_, e) in &order {
                let mut r = ImportReport::default();
                insert_few_events(&tx, &one, std::slice::from_ref(*e), &mut r).await?;
                counts.push(r);
            }
            tx.commit().await?;
            Ok(counts)
        })?;
        for ((k, _), r) in order.iter().zip(counts) {
            if let Ok(total) = &mut out[*k] {
                *total += r;
            }
        }
        Ok(out)
    }

    fn import_batches(
        &mut self,
        feed: &mut dyn FnMut(&mut BatchWriter<'_>) -> std::result::Result<(), FeedError>,
    ) -> std::result::Result<ImportReport, FeedError> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let shared = self.shared.clone();
        let _inside = shared.runtime().enter();
        // the connection, then one transaction that the feed's writes go into
        if slot.as_ref().is_none_or(|c| c.is_closed()) {
            *slot = None;
            let c = futures_executor::block_on(shared.pool.get()).map_err(pool_error)?;
            futures_executor::block_on(c.batch_execute(STAGING)).map_err(StoreError::from)?;
            *slot = Some(c);
        }
        let c = slot.as_mut().expect("connected above");
        let one = futures_executor::block_on(prepare_one_event(c))?;
        let tx = futures_executor::block_on(c.transaction()).map_err(StoreError::from)?;
        let mut report = ImportReport::default();
        feed(&mut |items: &[Item], events: &[Event]| {
            futures_executor::block_on(async {
                upsert_items(&tx, items, &mut report).await?;
                insert_events(&tx, &one, events, &mut report).await
            })
        })?;
        futures_executor::block_on(tx.commit()).map_err(StoreError::from)?;
        Ok(report)
    }

    fn reader(&self) -> Result<Option<Box<dyn Store>>> {
        Ok(Some(Box::new(self.handle())))
    }

    fn begin_read(&self) -> Result<()> {
        self.run(async |c| {
            c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1").await?;
            Ok(())
        })
    }

    fn end_read(&self) -> Result<()> {
        self.run(async |c| {
            c.batch_execute("COMMIT").await?;
            Ok(())
        })
    }

    fn location(&self) -> String {
        self.shared.url.clone()
    }
}

async fn record(tx: &tokio_postgres::Transaction<'_>, hash: UserHash, at: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO deletions (user_hash, deleted_at) VALUES ($1, $2)
         ON CONFLICT (user_hash) DO UPDATE SET deleted_at = greatest(deletions.deleted_at, excluded.deleted_at)",
        &[&&hash.0[..], &at],
    )
    .await?;
    Ok(())
}

fn experiment_from_row(r: &Row) -> StoredExperiment {
    StoredExperiment {
        name: r.get(0),
        definition: r.get(1),
        status: r.get(2),
        created_at: r.get(3),
        started_at: r.get(4),
        stopped_at: r.get(5),
    }
}

const EXPERIMENT_COLUMNS: &str = "name, definition, status, created_at, started_at, stopped_at";

impl ExperimentStore for PgStore {
    fn experiment_salt(&self) -> Result<ExperimentSalt> {
        salt_from_meta(self.meta(EXPERIMENT_SALT_META)?)
    }

    fn create_experiment(&mut self, name: &str, definition: &str, at: i64) -> Result<bool> {
        self.run(async |c| {
            let n = c
                .execute(
                    "INSERT INTO experiments (name, definition, status, created_at) VALUES ($1, $2, 'draft', $3)
                     ON CONFLICT (name) DO NOTHING",
                    &[&name, &definition, &at],
                )
                .await?;
            Ok(n == 1)
        })
    }

    fn experiments(&self) -> Result<Vec<StoredExperiment>> {
        self.run(async |c| {
            let rows = c
                .query(&format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments ORDER BY created_at, name"), &[])
                .await?;
            Ok(rows.iter().map(experiment_from_row).collect())
        })
    }

    fn experiment(&self, name: &str) -> Result<Option<StoredExperiment>> {
        self.run(async |c| {
            let row =
                c.query_opt(&format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE name = $1"), &[&name]).await?;
            Ok(row.as_ref().map(experiment_from_row))
        })
    }

    fn set_experiment_status(&mut self, name: &str, status: &str, at: i64) -> Result<()> {
        let column = status_time_column(status)?;
        let sql = format!("UPDATE experiments SET status = $3, {column} = $2 WHERE name = $1");
        experiment_changed(self.run(async |c| Ok(c.execute(&sql, &[&name, &at, &status]).await?))?, name)
    }

    fn record_exposure(
        &mut self,
        experiment: &str,
        variant: &str,
        unit: &str,
        at: i64,
        items: &[String],
    ) -> Result<i64> {
        let items = serde_json::to_string(items).expect("strings always serialise");
        self.run(async |c| {
            let stmt = c
                .prepare_cached(
                    "INSERT INTO exposures (experiment, variant, unit, shown_at, items)
                     VALUES ($1, $2, $3, $4, $5::text::jsonb) RETURNING id",
                )
                .await?;
            Ok(c.query_one(&stmt, &[&experiment, &variant, &unit, &at, &items]).await?.get(0))
        })
    }

    fn exposure(&self, id: i64) -> Result<Option<Exposure>> {
        let row = self.run(async |c| {
            let r = c
                .query_opt(
                    "SELECT id, experiment, variant, unit, shown_at, items::text FROM exposures WHERE id = $1",
                    &[&id],
                )
                .await?;
            Ok(r.map(|r| (r.get::<_, i64>(0), r.get(1), r.get(2), r.get(3), r.get::<_, i64>(4), r.get::<_, String>(5))))
        })?;
        row.map(|(id, experiment, variant, unit, shown_at, items)| {
            let items = serde_json::from_str(&items)
                .map_err(|e| StoreError::Corrupt(format!("exposure {id}: items are not a JSON list ({e})")))?;
            Ok(Exposure { id, experiment, variant, unit, shown_at, items })
        })
        .transpose()
    }

    fn last_exposure_with(&self, experiment: &str, unit: &str, item: &str, from: i64, to: i64) -> Result<Option<i64>> {
        self.run(async |c| {
            let stmt = c
                .prepare_cached(
                    "SELECT id FROM exposures
                     WHERE unit = $1 AND experiment = $2 AND shown_at BETWEEN $3 AND $4 AND items ? $5
                     ORDER BY shown_at DESC, id DESC LIMIT 1",
                )
                .await?;
            Ok(c.query_opt(&stmt, &[&unit, &experiment, &from, &to, &item]).await?.map(|r| r.get(0)))
        })
    }

    fn record_outcomes(&mut self, outcomes: &[Outcome]) -> Result<u64> {
        for o in outcomes {
            check_outcome(o)?;
        }
        self.run(async |c| {
            let tx = c.transaction().await?;
            let mut n = 0;
            for o in outcomes {
                n += tx
                    .execute(
                        "INSERT INTO outcomes (exposure_id, item, kind, value, revenue, at) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT DO NOTHING",
                        &[&o.exposure, &o.item, &o.kind, &o.value, &o.revenue, &o.at],
                    )
                    .await?;
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    fn exposure_totals(&self, experiment: &str, start: i64, bucket_secs: i64) -> Result<Vec<ExposureTotals>> {
        let bucket_secs = bucket_secs.max(1);
        let rows = self.run(async |c| {
            Ok(c.query(
                "WITH o AS (
                    SELECT o.exposure_id,
                           count(DISTINCT CASE WHEN o.kind = 'click' THEN o.item END) AS clicks,
                           count(DISTINCT CASE WHEN o.kind = 'add_to_cart' THEN o.item END) AS carts,
                           count(*) FILTER (WHERE o.kind = 'purchase') AS purchases,
                           sum(o.revenue) AS revenue
                    FROM outcomes o JOIN exposures x ON x.id = o.exposure_id
                    WHERE x.experiment = $1 GROUP BY o.exposure_id)
                 SELECT x.variant, x.unit, greatest(0, x.shown_at - $2) / $3 AS bucket, count(*),
                        sum(jsonb_array_length(x.items))::bigint, coalesce(sum(o.clicks), 0)::bigint,
                        coalesce(sum(o.carts), 0)::bigint, coalesce(sum(o.purchases), 0)::bigint,
                        coalesce(sum(o.revenue), 0.0)::double precision
                 FROM exposures x LEFT JOIN o ON o.exposure_id = x.id
                 WHERE x.experiment = $1
                 GROUP BY x.variant, x.unit, bucket
                 ORDER BY x.unit",
                &[&experiment, &start, &bucket_secs],
            )
            .await?)
        })?;
        let mut units: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        Ok(rows
            .iter()
            .map(|r| {
                let unit: String = r.get(1);
                let next = units.len() as u64;
                let unit = *units.entry(unit).or_insert(next);
                ExposureTotals {
                    variant: r.get(0),
                    unit,
                    bucket: u32::try_from(r.get::<_, i64>(2)).unwrap_or(u32::MAX),
                    lists: r.get::<_, i64>(3) as u64,
                    impressions: r.get::<_, i64>(4) as u64,
                    clicks: r.get::<_, i64>(5) as u64,
                    carts: r.get::<_, i64>(6) as u64,
                    purchases: r.get::<_, i64>(7) as u64,
                    revenue: r.get(8),
                }
            })
            .collect())
    }

    fn exposures_of(&self, unit: &str) -> Result<u64> {
        self.run(async |c| {
            let n: i64 = c.query_one("SELECT count(*) FROM exposures WHERE unit = $1", &[&unit]).await?.get(0);
            Ok(n as u64)
        })
    }
}
