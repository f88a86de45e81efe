//! Several servers on one shared store (`--store postgres://…`, `--redis redis://…`).
//!
//! * **Models** come from the elected trainer (`daogou trainer`): it writes each model as a
//!   versioned artifact into PostgreSQL and sends `NOTIFY daogou_model`. Every server listens,
//!   fetches the new artifact (checksum checked), loads it and swaps it in atomically; serving
//!   never stops. A server that reconnects to PostgreSQL checks for a newer artifact at once.
//!   `POST /admin/retrain` asks the trainer (`NOTIFY daogou_retrain`) instead of fitting here.
//! * **Live events** stored by one server are published on the Redis channel `daogou:events`;
//!   the others put them into their live histories and trending counters (not into the store
//!   again), so a purchase on server A changes server B's answers within the publish latency.
//! * **Deletions** (`DELETE /users/{id}`) are published on `daogou:deletions`: every server
//!   hides the user at once; the trainer's next model no longer has them.
//! * **Rate limits** count in Redis (one counter per client and second), so a limit holds
//!   across servers. Without Redis, or while it is unreachable, each server counts alone.
//! * **Assistant conversations** live in Redis with their TTL, so a conversation started on
//!   one server continues on another.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use daogou_core::Event;
use daogou_store::{PgStore, StoreError};
use serde::{Deserialize, Serialize};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Redis channel of live events.
pub(crate) const EVENTS: &str = "daogou:events";
/// Redis channel of deleted users.
pub(crate) const DELETIONS: &str = "daogou:deletions";

/// What one server shares with the others.
pub struct Cluster {
    /// Notifications and model artifacts.
    pg: PgStore,
    redis: Option<Redis>,
    /// This server's id: its own messages are not applied twice.
    origin: String,
    /// The artifact version serving (0: none yet).
    artifact: AtomicI64,
}

struct Redis {
    client: redis::Client,
    conn: redis::aio::ConnectionManager,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct EventsMessage {
    pub(crate) origin: String,
    pub(crate) events: Vec<Event>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct DeletionMessage {
    pub(crate) origin: String,
    pub(crate) user: String,
}

impl Cluster {
    /// Connect to Redis (when given). `pg` is a handle on the shared store.
    pub async fn connect(pg: PgStore, redis_url: Option<&str>) -> Result<Cluster, BoxError> {
        let redis = match redis_url {
            Some(url) => {
                let client = redis::Client::open(url).map_err(|e| format!("--redis {url}: {e}"))?;
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_response_timeout(Some(Duration::from_secs(2)));
                let conn = client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(|e| format!("cannot reach Redis at {url}: {e}"))?;
                Some(Redis { client, conn })
            }
            None => None,
        };
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| format!("no randomness for the server id: {e}"))?;
        let origin = id.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Cluster { pg, redis, origin, artifact: AtomicI64::new(0) })
    }

    /// The shared store's handle (notifications, artifacts).
    pub(crate) fn pg(&self) -> &PgStore {
        &self.pg
    }

    /// The Redis client, when configured.
    pub(crate) fn redis_client(&self) -> Option<&redis::Client> {
        self.redis.as_ref().map(|r| &r.client)
    }

    /// This server's id in the messages it publishes.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether Redis is configured (shared live events, limits and conversations).
    pub fn has_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// The artifact version serving (0 before the first).
    pub fn artifact_version(&self) -> i64 {
        self.artifact.load(Ordering::Relaxed)
    }

    /// The newest model artifact written to a temporary file, for a server starting: (its
    /// version, the file). `None` when the trainer has written none yet.
    pub fn fetch_latest(pg: &PgStore) -> Result<Option<(i64, PathBuf)>, StoreError> {
        let Some(a) = pg.latest_artifact()? else { return Ok(None) };
        let path = std::env::temp_dir().join(format!("daogou-model-{}-{}.daogou", std::process::id(), a.version));
        pg.fetch_artifact(&a, &path)?;
        Ok(Some((a.version, path)))
    }

    /// Note that artifact `version` is serving (loaded at start).
    pub fn set_artifact_version(&self, version: i64) {
        self.artifact.store(version, Ordering::Relaxed);
    }

    /// Ask the elected trainer for a refit now.
    pub fn request_retrain(&self) -> Result<(), StoreError> {
        self.pg.notify("daogou_retrain", &self.origin)
    }

    /// Tell the other servers about events stored here (best effort: a lost message only
    /// delays them until the next model).
    pub async fn publish_events(&self, events: &[Event]) {
        let Some(r) = &self.redis else { return };
        let msg = EventsMessage { origin: self.origin.clone(), events: events.to_vec() };
        let payload = serde_json::to_string(&msg).expect("events always serialise");
        let mut conn = r.conn.clone();
        if let Err(e) = redis::cmd("PUBLISH").arg(EVENTS).arg(payload).query_async::<i64>(&mut conn).await {
            eprintln!("cluster: cannot publish events to Redis: {e}");
        }
    }

    /// Tell the other servers to hide a deleted user at once.
    pub async fn publish_deletion(&self, user: &str) {
        let Some(r) = &self.redis else { return };
        let msg = DeletionMessage { origin: self.origin.clone(), user: user.to_owned() };
        let payload = serde_json::to_string(&msg).expect("a deletion always serialises");
        let mut conn = r.conn.clone();
        if let Err(e) = redis::cmd("PUBLISH").arg(DELETIONS).arg(payload).query_async::<i64>(&mut conn).await {
            eprintln!("cluster: cannot publish a deletion to Redis: {e}");
        }
    }

    /// One request of `bucket` against a limit of `rate` per second, counted across servers:
    /// `Some(allowed)`, or `None` without Redis or when it does not answer (the caller then
    /// counts locally).
    pub async fn allow(&self, bucket: &str, rate: f64) -> Option<bool> {
        let r = self.redis.as_ref()?;
        let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        let key = format!("daogou:rl:{bucket}:{second}");
        let mut conn = r.conn.clone();
        let (n,): (i64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .ignore()
            .expire(&key, 3)
            .ignore()
            .get(&key)
            .query_async(&mut conn)
            .await
            .ok()?;
        Some(n as f64 <= rate.max(1.0).ceil())
    }

    /// The assistant's conversations in Redis (`None` without Redis).
    pub(crate) fn shared_turns(&self) -> Option<Arc<dyn daogou_guide::SharedTurns>> {
        let r = self.redis.as_ref()?;
        Some(Arc::new(RedisTurns { client: r.client.clone(), conn: std::sync::Mutex::new(None) }))
    }
}

/// Assistant conversations in Redis: `daogou:conv:{id}` with the conversation's TTL, and per
/// user the set of their conversation ids (so a deleted user's go at once). Called from the
/// assistant's blocking task: a plain connection, re-opened after an error.
struct RedisTurns {
    client: redis::Client,
    conn: std::sync::Mutex<Option<redis::Connection>>,
}

impl RedisTurns {
    fn with<T>(&self, f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>) -> Result<T, String> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let c = self.client.get_connection_with_timeout(Duration::from_secs(2)).map_err(|e| e.to_string())?;
            c.set_read_timeout(Some(Duration::from_secs(2))).map_err(|e| e.to_string())?;
            *slot = Some(c);
        }
        let out = f(slot.as_mut().expect("connected above"));
        if out.is_err() {
            *slot = None; // a broken connection is not reused
        }
        out.map_err(|e| e.to_string())
    }
}

impl daogou_guide::SharedTurns for RedisTurns {
    fn get(&self, id: &str) -> Result<Option<String>, String> {
        self.with(|c| redis::cmd("GET").arg(format!("daogou:conv:{id}")).query(c))
    }

    fn put(&self, id: &str, user: Option<&str>, value: &str, ttl_secs: u64) -> Result<(), String> {
        self.with(|c| {
            let mut p = redis::pipe();
            p.atomic().cmd("SET").arg(format!("daogou:conv:{id}")).arg(value).arg("EX").arg(ttl_secs).ignore();
            if let Some(u) = user {
                let set = format!("daogou:conv-user:{u}");
                p.cmd("SADD").arg(&set).arg(id).ignore().cmd("EXPIRE").arg(&set).arg(ttl_secs).ignore();
            }
            p.query(c)
        })
    }

    fn forget_user(&self, user: &str) -> Result<usize, String> {
        let set = format!("daogou:conv-user:{user}");
        self.with(|c| {
            let ids: Vec<String> = redis::cmd("SMEMBERS").arg(&set).query(c)?;
            let mut p = redis::pipe();
            p.atomic();
            for id in &ids {
                p.cmd("DEL").arg(format!("daogou:conv:{id}")).ignore();
            }
            p.cmd("DEL").arg(&set).ignore();
            p.query::<()>(c)?;
            Ok(ids.len())
        })
    }
}
