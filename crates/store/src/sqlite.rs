//! [`SqliteStore`]: the embedded store, one SQLite file in WAL mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use daogou_core::{Dataset, Event, EventColumns, IdMap, Interaction, Item};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use rustc_hash::FxHashMap;

use crate::experiments::{check_outcome, experiment_changed, salt_from_meta, status_time_column};
use crate::schema::{self, kind_code, kind_from_code};
use crate::{
    BatchWriter, ExperimentSalt, ExperimentStore, Exposure, ExposureTotals, FeedError, ImportReport, Outcome,
    RenameReport, Result, Store, StoreError, StoreStats, StoredExperiment, UserHash, DELETION_KEY_META,
    EXPERIMENT_SALT_META,
};

/// The embedded store: one SQLite file.
///
/// Settings: `journal_mode=WAL`, `synchronous=NORMAL`, `foreign_keys=ON`, `secure_delete=ON`.
///
/// **Deletion.** [`Store::delete_user`] removes the user's rows and records the deletion in
/// one transaction; `secure_delete` overwrites the removed rows with zeros and the WAL is
/// checkpointed and truncated right after, so the id, events and search texts are gone from
/// the database file and its WAL too (unless another connection holds a read transaction
/// open at that moment, which keeps the WAL until the next checkpoint).
///
/// **Durability.** A write call returns after its transaction is committed to the WAL file
/// (written to the operating system, not fsynced). A committed transaction therefore
/// survives the process being killed (`kill -9`, a panic, an OOM kill): the next open
/// replays the WAL. After a power loss or an OS crash the last few committed transactions
/// may be lost, but the database stays consistent (never half a transaction); that is the
/// documented trade-off of WAL with `synchronous=NORMAL`, and it buys much faster commits.
///
/// The schema version lives in `PRAGMA user_version` ([`crate::SCHEMA_VERSION`]); a file with
/// a newer version is refused with [`StoreError::SchemaTooNew`] and left untouched.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: Option<PathBuf>,
    /// Checkpoints the WAL on a thread of its own ([`SqliteStore::checkpoint_in_background`]).
    checkpointer: Option<Checkpointer>,
}

/// A thread with its own connection that checkpoints the WAL every [`Checkpointer::PERIOD`]
/// (passively: it never waits for a lock, and copies what no reader still needs), so that no
/// commit of the writer pays for a checkpoint. Stopped (its channel closes) and joined on drop.
#[derive(Debug)]
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    const PERIOD: Duration = Duration::from_millis(200);

    fn start(path: &Path) -> Result<Self> {
        let conn =
            Connection::open(path).map_err(|e| StoreError::Open { path: path.to_owned(), message: e.to_string() })?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("daogou-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(Self::PERIOD) {
                    // a failed checkpoint (the disk, a busy lock) is retried on the next tick;
                    // the WAL keeps every commit meanwhile
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
                }
            })
            .map_err(|e| StoreError::Open {
                path: path.to_owned(),
                message: format!("cannot start the checkpoint thread: {e}"),
            })?;
        Ok(Checkpointer { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const MEMORY: &str = ":memory:";

const ITEM_COLUMNS: &str =
    "id, external_id, title, category, brand, price, attributes, created_at, available, stock, deleted";

impl SqliteStore {
    /// Users, items and the catalogue as `load_dataset` gives them (no events), with the
    /// maps from row ids to dense indices that `scan_events` needs.
    fn load_ids(&self) -> Result<(Dataset, Vec<u32>, Vec<u32>)> {
        let max_rowid = |table: &str| -> Result<usize> {
            let m: i64 = self.conn.query_row(&format!("SELECT coalesce(max(id), 0) FROM {table}"), [], |r| r.get(0))?;
            Ok(usize::try_from(m).unwrap_or(0))
        };
        // Dense indices follow rowid order (= order of first storage). Rowids are dense
        // (1..=n, with gaps only after deletions), so a Vec indexed by rowid maps them.
        let mut data = Dataset::default();
        let mut user_index = vec![u32::MAX; max_rowid("users")? + 1];
        {
            let mut stmt = self.conn.prepare_cached("SELECT id, external_id FROM users ORDER BY id")?;
            let mut rows = stmt.query([])?;
            let mut ids = Vec::new();
            while let Some(r) = rows.next()? {
                let rowid: i64 = r.get(0)?;
                user_index[rowid as usize] = ids.len() as u32;
                ids.push(r.get::<_, String>(1)?);
            }
            data.users = IdMap::from_iter(ids);
        }
        let mut item_index = vec![u32::MAX; max_rowid("items")? + 1];
        {
            let mut stmt = self.conn.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY id"))?;
            let mut rows = stmt.query([])?;
            let mut ids = Vec::new();
            while let Some(r) = rows.next()? {
                let rowid: i64 = r.get(0)?;
                item_index[rowid as usize] = ids.len() as u32;
                let item = item_from_row(r)?;
                ids.push(item.id.clone());
                data.catalogue.push(item);
            }
            data.items = IdMap::from_iter(ids);
        }
        Ok((data, user_index, item_index))
    }

    /// Every event that has an item, mapped, in insertion order.
    fn scan_events(&self, user_index: &[u32], item_index: &[u32], mut push: impl FnMut(Interaction)) -> Result<()> {
        // A plain table scan (rowid = insertion order); sorting by timestamp afterwards is a
        // stable sort in memory, cheaper than walking a timestamp index with a table lookup
        // per row.
        let mut stmt = self
            .conn
            .prepare_cached("SELECT user_id, item_id, kind, value, timestamp FROM events WHERE item_id IS NOT NULL")?;
        let mut rows = stmt.query([])?;
        let mut kinds = [None; 7];
        while let Some(r) = rows.next()? {
            let code: i64 = r.get(2)?;
            let kind = match kinds.get(code as usize).copied().flatten() {
                Some(k) => k,
                None => {
                    let k = kind_from_code(code)?;
                    kinds[code as usize] = Some(k);
                    k
                }
            };
            push(Interaction {
                user: crate::dense_index(user_index, r.get(0)?, "user")?,
                item: crate::dense_index(item_index, r.get(1)?, "item")?,
                kind,
                value: r.get::<_, f64>(3)? as f32,
                timestamp: r.get(4)?,
            });
        }
        Ok(())
    }
    /// Open the store at `path`, creating the file and the schema if missing.
    ///
    /// Fails with [`StoreError::Open`] (naming `path`) when the file cannot be opened or
    /// created, is not a SQLite database, or belongs to another program, and with
    /// [`StoreError::SchemaTooNew`] when a newer daogou wrote it.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn =
            Connection::open(path).map_err(|e| StoreError::Open { path: path.to_owned(), message: e.to_string() })?;
        schema::prepare(&mut conn, path, false)?;
        Ok(SqliteStore { conn, path: Some(path.to_owned()), checkpointer: None })
    }

    /// The connection (for the other modules of the crate).
    #[doc(hidden)]
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, to open transactions.
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// A private store in memory (tests, one-off runs); gone when dropped.
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()
            .map_err(|e| StoreError::Open { path: MEMORY.into(), message: e.to_string() })?;
        schema::prepare(&mut conn, Path::new(MEMORY), true)?;
        Ok(SqliteStore { conn, path: None, checkpointer: None })
    }

    /// Cap this connection's page cache at `mib` MiB (64 MiB when opened, for imports): a
    /// long-running service that mostly appends keeps a smaller cache, so its memory levels
    /// off within minutes instead of growing while the cache fills.
    pub fn set_cache_mib(&self, mib: usize) -> Result<()> {
        let kib = i64::try_from(mib.max(1).saturating_mul(1024)).unwrap_or(i64::MAX);
        self.conn.pragma_update(None, "cache_size", -kib)?;
        Ok(())
    }

    /// Checkpoint the WAL on a thread of its own instead of in the commits of this connection
    /// (the service's writer): when the WAL has grown past SQLite's threshold, every commit
    /// otherwise tries a checkpoint itself, and while a refit's read transaction keeps the WAL
    /// from being reset that is every commit until the read ends. Nothing for an in-memory store.
    pub fn checkpoint_in_background(&mut self) -> Result<()> {
        if let (Some(path), None) = (&self.path, &self.checkpointer) {
            self.checkpointer = Some(Checkpointer::start(path)?);
            self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        Ok(())
    }

    /// The file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Run `PRAGMA integrity_check` and `PRAGMA foreign_key_check`;
    /// [`StoreError::Corrupt`] with SQLite's findings when either reports a problem.
    pub fn check_integrity(&self) -> Result<()> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        if lines != ["ok"] {
            return Err(StoreError::Corrupt(format!("integrity check: {}", lines.join("; "))));
        }
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let bad: Vec<String> = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{} row {:?} → {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        if !bad.is_empty() {
            return Err(StoreError::Corrupt(format!("foreign key check: {}", bad.join("; "))));
        }
        Ok(())
    }

    /// Run `f` in one immediate transaction (taking the write lock at once, so a concurrent
    /// writer waits on the busy timeout instead of failing on lock upgrade).
    /// On error the transaction is rolled back when `tx` is dropped.
    fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        self.write_with(f)
    }

    /// [`Self::write`] for callers with their own error type (which a store error converts
    /// into): nothing is committed unless `f` succeeds.
    fn write_with<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::from)?;
        let mut w = Writer {
            tx: &tx,
            users: FxHashMap::default(),
            items: FxHashMap::default(),
            bare: Default::default(),
            report: ImportReport::default(),
        };
        let out = f(&mut w)?;
        drop(w);
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }
}

impl From<SqliteStore> for Box<dyn Store> {
    fn from(s: SqliteStore) -> Self {
        Box::new(s)
    }
}

/// One write transaction with id caches (external id → rowid).
///
/// The caches live only as long as the transaction: a rolled-back transaction must not
/// leave rowids of rows that no longer exist behind. They are filled lazily (one indexed
/// SELECT per distinct id), so a small batch costs no full-table read.
struct Writer<'t> {
    tx: &'t Transaction<'t>,
    users: FxHashMap<String, i64>,
    items: FxHashMap<String, i64>,
    /// Items this transaction created bare (seen in an event before its catalogue record):
    /// counted as inserted when created, so filling them in later is not an update.
    bare: rustc_hash::FxHashSet<i64>,
    report: ImportReport,
}

impl Writer<'_> {
    fn upsert_items(&mut self, items: &[Item]) -> Result<()> {
        for (n, item) in items.iter().enumerate() {
            self.upsert_item(n, item)?;
        }
        Ok(())
    }

    fn upsert_item(&mut self, n: usize, item: &Item) -> Result<()> {
        crate::check_item(n, item)?;
        let attributes = serde_json::to_string(&item.attributes).expect("a map of strings always serialises");
        match self.item_rowid(&item.id)? {
            Some(rowid) => {
                // Replace every field except created_at when the new record has none; count
                // the row only when something changed.
                let changed = self
                    .tx
                    .prepare_cached(
                        "UPDATE items SET title = ?2, category = ?3, brand = ?4, price = ?5, attributes = ?6,
                                created_at = coalesce(?7, created_at), available = ?8, stock = ?9, deleted = ?10
                         WHERE id = ?1 AND NOT (title IS ?2 AND category IS ?3 AND brand IS ?4 AND price IS ?5
                               AND attributes IS ?6 AND created_at IS coalesce(?7, created_at)
                               AND available IS ?8 AND stock IS ?9 AND deleted IS ?10)",
                    )?
                    .execute(params![
                        rowid,
                        item.title,
                        item.category,
                        item.brand,
                        item.price,
                        attributes,
                        item.created_at,
                        item.available,
                        item.stock,
                        item.deleted
                    ])?;
                if !self.bare.remove(&rowid) {
                    self.report.items_updated += changed as u64;
                }
            }
            None => {
                let rowid = self
                    .tx
                    .prepare_cached(
                        "INSERT INTO items (external_id, title, category, brand, price, attributes, created_at, available, stock, deleted)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    )?
                    .insert(params![
                        item.id,
                        item.title,
                        item.category,
                        item.brand,
                        item.price,
                        attributes,
                        item.created_at,
                        item.available,
                        item.stock,
                        item.deleted
                    ])?;
                self.items.insert(item.id.clone(), rowid);
                self.report.items_inserted += 1;
            }
        }
        Ok(())
    }

    fn item_rowid(&mut self, id: &str) -> Result<Option<i64>> {
        if let Some(&r) = self.items.get(id) {
            return Ok(Some(r));
        }
        let r: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM items WHERE external_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if let Some(r) = r {
            self.items.insert(id.to_owned(), r);
        }
        Ok(r)
    }

    /// Rowid of item `id`, creating a bare catalogue entry when new.
    fn item_rowid_or_create(&mut self, id: &str) -> Result<i64> {
        if let Some(r) = self.item_rowid(id)? {
            return Ok(r);
        }
        let r = self.tx.prepare_cached("INSERT INTO items (external_id) VALUES (?1)")?.insert([id])?;
        self.items.insert(id.to_owned(), r);
        self.bare.insert(r);
        self.report.items_inserted += 1;
        Ok(r)
    }

    /// Rowid of user `id`, creating the user (created at `ts`) when new.
    fn user_rowid_or_create(&mut self, id: &str, ts: i64) -> Result<i64> {
        if let Some(&r) = self.users.get(id) {
            return Ok(r);
        }
        let found: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM users WHERE external_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let r = match found {
            Some(r) => r,
            None => self
                .tx
                .prepare_cached("INSERT INTO users (external_id, created_at) VALUES (?1, ?2)")?
                .insert(params![id, ts])?,
        };
        self.users.insert(id.to_owned(), r);
        Ok(r)
    }

    fn insert_events(&mut self, events: &[Event]) -> Result<()> {
        // `ON CONFLICT DO NOTHING` (an upsert clause) skips only uniqueness conflicts, i.e.
        // duplicates; unlike `INSERT OR IGNORE` it still fails on NOT NULL, CHECK and
        // foreign key violations instead of silently counting a bad row as a duplicate.
        let tx = self.tx;
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (user_id, item_id, kind, value, timestamp, query)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?;
        for (n, e) in events.iter().enumerate() {
            crate::check_event(n, e)?;
            let user = self.user_rowid_or_create(&e.user, e.timestamp)?;
            let item = if e.item.is_empty() { None } else { Some(self.item_rowid_or_create(&e.item)?) };
            let written =
                insert.execute(params![user, item, kind_code(e.kind), e.value as f64, e.timestamp, e.query])?;
            if written == 1 {
                self.report.events_inserted += 1;
            } else {
                self.report.events_duplicate += 1;
            }
        }
        Ok(())
    }
}

/// Refuse to change the meta keys that must never change (every store).
pub(crate) fn check_meta_key(key: &str) -> Result<()> {
    if key == DELETION_KEY_META {
        return Err(StoreError::Invalid(format!(
            "meta `{key}` is the deletion log's key and cannot be changed (the log would no longer match)"
        )));
    }
    if key == EXPERIMENT_SALT_META {
        return Err(StoreError::Invalid(format!(
            "meta `{key}` is the experiments' assignment salt and cannot be changed (every shopper would change variant)"
        )));
    }
    Ok(())
}

/// Upsert one deletion log entry (the later time wins).
fn record(tx: &Transaction<'_>, hash: UserHash, at: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO deletions (user_hash, deleted_at) VALUES (?1, ?2)
         ON CONFLICT (user_hash) DO UPDATE SET deleted_at = max(deleted_at, excluded.deleted_at)",
    )?
    .execute(params![&hash.0[..], at])?;
    Ok(())
}

fn item_from_row(r: &Row<'_>) -> Result<Item> {
    let id: String = r.get(1)?;
    let attributes: String = r.get(6)?;
    let attributes = serde_json::from_str(&attributes).map_err(|e| {
        StoreError::Corrupt(format!("item {id}: attributes are not a JSON object of strings ({e}): {attributes}"))
    })?;
    Ok(Item {
        title: r.get(2)?,
        category: r.get(3)?,
        brand: r.get(4)?,
        price: r.get(5)?,
        attributes,
        created_at: r.get(7)?,
        available: r.get(8)?,
        stock: r.get(9)?,
        deleted: r.get(10)?,
        id,
    })
}

impl Store for SqliteStore {
    fn import(&mut self, items: &[Item], events: &[Event]) -> Result<ImportReport> {
        self.write(|w| {
            w.upsert_items(items)?;
            w.insert_events(events)?;
            Ok(w.report)
        })
    }

    fn upsert_items(&mut self, items: &[Item]) -> Result<ImportReport> {
        self.write(|w| {
            w.upsert_items(items)?;
            Ok(w.report)
        })
    }

    fn insert_events(&mut self, events: &[Event]) -> Result<ImportReport> {
        self.write(|w| {
            w.insert_events(events)?;
            Ok(w.report)
        })
    }

    fn stats(&self) -> Result<StoreStats> {
        let count = |table: &str| -> Result<u64> {
            Ok(self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))? as u64)
        };
        let mut stats = StoreStats { users: count("users")?, items: count("items")?, ..Default::default() };
        // One scan, counted here: SQLite's GROUP BY without an index on the kind sorts every
        // row in a temporary table (4.6 GB in memory at 100M events).
        let mut per_kind: BTreeMap<i64, (u64, i64, i64)> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached("SELECT kind, timestamp FROM events")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (code, t): (i64, i64) = (r.get(0)?, r.get(1)?);
            let e = per_kind.entry(code).or_insert((0, t, t));
            *e = (e.0 + 1, e.1.min(t), e.2.max(t));
        }
        for (code, (n, lo, hi)) in per_kind {
            let kind = kind_from_code(code)?;
            stats.events += n;
            stats.by_kind.insert(kind.as_str().to_owned(), n);
            stats.first_timestamp = Some(stats.first_timestamp.map_or(lo, |t| t.min(lo)));
            stats.last_timestamp = Some(stats.last_timestamp.map_or(hi, |t| t.max(hi)));
        }
        Ok(stats)
    }

    fn items(&self) -> Result<Vec<Item>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(item_from_row(r)?);
        }
        Ok(out)
    }

    fn item(&self, id: &str) -> Result<Option<Item>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE external_id = ?1"))?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(r) => Ok(Some(item_from_row(r)?)),
            None => Ok(None),
        }
    }

    fn user_events(&self, user: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT coalesce(i.external_id, ''), e.kind, e.value, e.timestamp, e.query
             FROM events e JOIN users u ON u.id = e.user_id LEFT JOIN items i ON i.id = e.item_id
             WHERE u.external_id = ?1 ORDER BY e.timestamp, e.id",
        )?;
        let mut rows = stmt.query([user])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Event {
                user: user.to_owned(),
                item: r.get(0)?,
                kind: kind_from_code(r.get(1)?)?,
                value: r.get::<_, f64>(2)? as f32,
                timestamp: r.get(3)?,
                query: r.get(4)?,
            });
        }
        Ok(out)
    }

    fn load_dataset(&self) -> Result<Dataset> {
        let (mut data, user_index, item_index) = self.load_ids()?;
        let n: i64 = self.conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        data.interactions.reserve(n as usize);
        self.scan_events(&user_index, &item_index, |x| data.interactions.push(x))?;
        crate::finish_dataset(&mut data);
        Ok(data)
    }

    fn load_columns(&self, keep_time: bool) -> Result<(Dataset, EventColumns)> {
        let (mut data, user_index, item_index) = self.load_ids()?;
        let mut columns = EventColumns::new(true);
        self.scan_events(&user_index, &item_index, |x| columns.push(x))?;
        crate::finish_columns(&mut data, &mut columns, keep_time);
        Ok((data, columns))
    }

    fn delete_user(&mut self, user: &str, at: i64) -> Result<u64> {
        let hash = self.deletion_key()?.hash(user);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The log entry first, the events after it: a crash anywhere before the commit rolls
        // both back together.
        record(&tx, hash, at)?;
        let rowid: Option<i64> = tx
            .prepare_cached("SELECT id FROM users WHERE external_id = ?1")?
            .query_row([user], |r| r.get(0))
            .optional()?;
        let mut removed = 0;
        // the lists shown to the user in experiments, and their outcomes (cascade)
        tx.prepare_cached("DELETE FROM exposures WHERE unit = ?1")?.execute([user])?;
        if let Some(rowid) = rowid {
            removed = tx.prepare_cached("DELETE FROM events WHERE user_id = ?1")?.execute([rowid])?;
            tx.prepare_cached("DELETE FROM users WHERE id = ?1")?.execute([rowid])?;
        }
        tx.commit()?;
        // Older copies of the deleted rows' pages stay in the WAL file until it is reset:
        // checkpoint and truncate it now. Best effort: a reader on another connection can
        // keep the WAL alive (the next checkpoint then resets it).
        let _: Option<i64> = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).optional()?;
        Ok(removed as u64)
    }

    fn record_deletion(&mut self, hash: UserHash, at: i64) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        record(&tx, hash, at)?;
        tx.commit()?;
        Ok(())
    }

    fn deletions(&self) -> Result<Vec<(UserHash, i64)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT user_hash, deleted_at FROM deletions ORDER BY deleted_at, user_hash")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let bytes: Vec<u8> = r.get(0)?;
            let hash = <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| StoreError::Corrupt(format!("a deletion log hash of {} bytes", bytes.len())))?;
            out.push((UserHash(hash), r.get(1)?));
        }
        Ok(out)
    }

    fn user_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT external_id FROM users ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn rename_users(&mut self, renames: &[(String, String)]) -> Result<RenameReport> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = RenameReport::default();
        for (n, (old, new)) in renames.iter().enumerate() {
            if new.is_empty() {
                return Err(StoreError::Invalid(format!("rename {n} ({old}): empty new user id")));
            }
            let rowid = |id: &str| -> Result<Option<i64>> {
                Ok(tx
                    .prepare_cached("SELECT id FROM users WHERE external_id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?)
            };
            let Some(from) = rowid(old)? else {
                report.missing += 1;
                continue;
            };
            match rowid(new)? {
                Some(to) if to == from => {}
                Some(to) => {
                    // events the target already has stay once: OR IGNORE leaves those
                    // duplicates with the old user, which is then deleted with them
                    tx.prepare_cached("UPDATE OR IGNORE events SET user_id = ?2 WHERE user_id = ?1")?
                        .execute([from, to])?;
                    tx.prepare_cached("DELETE FROM events WHERE user_id = ?1")?.execute([from])?;
                    tx.prepare_cached(
                        "UPDATE users SET created_at = min(coalesce(created_at, ?3), coalesce((SELECT created_at FROM users WHERE id = ?1), created_at))
                         WHERE id = ?2",
                    )?
                    .execute(params![from, to, i64::MAX])?;
                    tx.prepare_cached("DELETE FROM users WHERE id = ?1")?.execute([from])?;
                    tx.prepare_cached("UPDATE exposures SET unit = ?2 WHERE unit = ?1")?.execute(params![old, new])?;
                    report.merged += 1;
                }
                None => {
                    tx.prepare_cached("UPDATE exposures SET unit = ?2 WHERE unit = ?1")?.execute(params![old, new])?;
                    tx.prepare_cached("UPDATE users SET external_id = ?2 WHERE id = ?1")?
                        .execute(params![from, new])?;
                    report.renamed += 1;
                }
            }
        }
        tx.commit()?;
        Ok(report)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        check_meta_key(key)?;
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn insert_event_groups(&mut self, groups: &[&[Event]]) -> Result<Vec<Result<ImportReport>>> {
        self.write(|w| {
            let mut out = Vec::with_capacity(groups.len());
            for g in groups {
                w.tx.execute_batch("SAVEPOINT event_group")?;
                w.report = ImportReport::default();
                match w.insert_events(g) {
                    Ok(()) => {
                        w.tx.execute_batch("RELEASE event_group")?;
                        out.push(Ok(w.report));
                    }
                    Err(e) => {
                        w.tx.execute_batch("ROLLBACK TO event_group; RELEASE event_group")?;
                        // users and items created inside the savepoint are gone again
                        w.users.clear();
                        w.items.clear();
                        out.push(Err(e));
                    }
                }
            }
            Ok(out)
        })
    }

    fn import_batches(
        &mut self,
        feed: &mut dyn FnMut(&mut BatchWriter<'_>) -> std::result::Result<(), FeedError>,
    ) -> std::result::Result<ImportReport, FeedError> {
        self.write_with(|w| {
            feed(&mut |items: &[Item], events: &[Event]| {
                w.upsert_items(items)?;
                w.insert_events(events)
            })?;
            Ok(w.report)
        })
    }

    /// A second connection to the same file (WAL lets readers and one writer proceed
    /// together); `None` for an in-memory store.
    fn reader(&self) -> Result<Option<Box<dyn Store>>> {
        Ok(self.path.as_deref().map(SqliteStore::open).transpose()?.map(|s| Box::new(s) as Box<dyn Store>))
    }

    fn begin_read(&self) -> Result<()> {
        self.conn.execute_batch("BEGIN DEFERRED")?;
        // in WAL mode the snapshot is taken by the first read, not by BEGIN
        let _: i64 = self.conn.query_row("SELECT count(*) FROM meta", [], |r| r.get(0))?;
        Ok(())
    }

    fn end_read(&self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    fn location(&self) -> String {
        self.path.as_deref().map_or_else(|| MEMORY.to_owned(), |p| p.display().to_string())
    }

    fn commits_in_process(&self) -> bool {
        true
    }
}

fn experiment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredExperiment> {
    Ok(StoredExperiment {
        name: r.get(0)?,
        definition: r.get(1)?,
        status: r.get(2)?,
        created_at: r.get(3)?,
        started_at: r.get(4)?,
        stopped_at: r.get(5)?,
    })
}

const EXPERIMENT_COLUMNS: &str = "name, definition, status, created_at, started_at, stopped_at";

impl ExperimentStore for SqliteStore {
    fn experiment_salt(&self) -> Result<ExperimentSalt> {
        salt_from_meta(crate::Store::meta(self, EXPERIMENT_SALT_META)?)
    }

    fn create_experiment(&mut self, name: &str, definition: &str, at: i64) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(
                "INSERT INTO experiments (name, definition, status, created_at) VALUES (?1, ?2, 'draft', ?3)
                 ON CONFLICT (name) DO NOTHING",
            )?
            .execute(params![name, definition, at])?;
        Ok(n == 1)
    }

    fn experiments(&self) -> Result<Vec<StoredExperiment>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments ORDER BY created_at, name"))?;
        let out = stmt.query_map([], experiment_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(out)
    }

    fn experiment(&self, name: &str) -> Result<Option<StoredExperiment>> {
        Ok(self
            .conn()
            .prepare_cached(&format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE name = ?1"))?
            .query_row([name], experiment_from_row)
            .optional()?)
    }

    fn set_experiment_status(&mut self, name: &str, status: &str, at: i64) -> Result<()> {
        let column = status_time_column(status)?;
        let sql = format!("UPDATE experiments SET status = ?3, {column} = ?2 WHERE name = ?1");
        let n = self.conn().prepare_cached(&sql)?.execute(params![name, at, status])?;
        experiment_changed(n as u64, name)
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
        let id = self
            .conn()
            .prepare_cached(
                "INSERT INTO exposures (experiment, variant, unit, shown_at, items) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .insert(params![experiment, variant, unit, at, items])?;
        Ok(id)
    }

    fn exposure(&self, id: i64) -> Result<Option<Exposure>> {
        let row = self
            .conn()
            .prepare_cached("SELECT id, experiment, variant, unit, shown_at, items FROM exposures WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?)))
            .optional()?;
        row.map(|(id, experiment, variant, unit, shown_at, items)| {
            let items = serde_json::from_str(&items)
                .map_err(|e| StoreError::Corrupt(format!("exposure {id}: items are not a JSON list ({e})")))?;
            Ok(Exposure { id, experiment, variant, unit, shown_at, items })
        })
        .transpose()
    }

    fn last_exposure_with(&self, experiment: &str, unit: &str, item: &str, from: i64, to: i64) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT x.id FROM exposures x
                 WHERE x.unit = ?1 AND x.experiment = ?2 AND x.shown_at BETWEEN ?3 AND ?4
                   AND EXISTS (SELECT 1 FROM json_each(x.items) WHERE json_each.value = ?5)
                 ORDER BY x.shown_at DESC, x.id DESC LIMIT 1",
            )?
            .query_row(params![unit, experiment, from, to, item], |r| r.get(0))
            .optional()?)
    }

    fn record_outcomes(&mut self, outcomes: &[Outcome]) -> Result<u64> {
        let tx = self.conn_mut().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut n = 0;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO outcomes (exposure_id, item, kind, value, revenue, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT DO NOTHING",
            )?;
            for o in outcomes {
                check_outcome(o)?;
                n += ins.execute(params![o.exposure, o.item, o.kind, o.value, o.revenue, o.at])? as u64;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    fn exposure_totals(&self, experiment: &str, start: i64, bucket_secs: i64) -> Result<Vec<ExposureTotals>> {
        let mut stmt = self.conn().prepare_cached(
            "WITH o AS (
                SELECT o.exposure_id,
                       count(DISTINCT CASE WHEN o.kind = 'click' THEN o.item END) AS clicks,
                       count(DISTINCT CASE WHEN o.kind = 'add_to_cart' THEN o.item END) AS carts,
                       sum(o.kind = 'purchase') AS purchases,
                       sum(o.revenue) AS revenue
                FROM outcomes o JOIN exposures x ON x.id = o.exposure_id
                WHERE x.experiment = ?1 GROUP BY o.exposure_id)
             SELECT x.variant, x.unit, max(0, x.shown_at - ?2) / ?3 AS bucket, count(*),
                    sum(json_array_length(x.items)), coalesce(sum(o.clicks), 0), coalesce(sum(o.carts), 0),
                    coalesce(sum(o.purchases), 0), coalesce(sum(o.revenue), 0.0)
             FROM exposures x LEFT JOIN o ON o.exposure_id = x.id
             WHERE x.experiment = ?1
             GROUP BY x.variant, x.unit, bucket
             ORDER BY x.unit",
        )?;
        let mut rows = stmt.query(params![experiment, start, bucket_secs.max(1)])?;
        let mut out = Vec::new();
        let mut units: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        while let Some(r) = rows.next()? {
            let unit: String = r.get(1)?;
            let next = units.len() as u64;
            let unit = *units.entry(unit).or_insert(next);
            out.push(ExposureTotals {
                variant: r.get(0)?,
                unit,
                bucket: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                lists: r.get::<_, i64>(3)? as u64,
                impressions: r.get::<_, i64>(4)? as u64,
                clicks: r.get::<_, i64>(5)? as u64,
                carts: r.get::<_, i64>(6)? as u64,
                purchases: r.get::<_, i64>(7)? as u64,
                revenue: r.get(8)?,
            });
        }
        Ok(out)
    }

    fn exposures_of(&self, unit: &str) -> Result<u64> {
        let n: i64 = self
            .conn()
            .prepare_cached("SELECT count(*) FROM exposures WHERE unit = ?1")?
            .query_row([unit], |r| r.get(0))?;
        Ok(n as u64)
    }
}
