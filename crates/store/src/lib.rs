//! # daogou-store
//!
//! Where daogou keeps its catalogue, behaviour events and small bits of state, behind the
//! [`Store`] trait. [`SqliteStore`] is the embedded default (one file, WAL mode);
//! `PgStore` (feature `postgres`) keeps the same data in PostgreSQL, shared by several
//! servers and trainers. [`open`] picks one from a URL (`sqlite:PATH`, `postgres://…`).
//!
//! ```
//! use daogou_core::{Event, EventKind, Item};
//! use daogou_store::{SqliteStore, Store};
//!
//! let mut store = SqliteStore::open_in_memory()?;
//! let items = vec![Item { title: "跑鞋".into(), ..Item::new("sku-1") }];
//! let events = vec![Event {
//!     user: "u1".into(), item: "sku-1".into(), kind: EventKind::Purchase,
//!     value: 2.0, timestamp: 1_700_000_000, query: None,
//! }];
//! let report = store.import(&items, &events)?;
//! assert_eq!((report.items_inserted, report.events_inserted), (1, 1));
//! // Importing the same records again writes nothing.
//! assert_eq!(store.import(&items, &events)?.events_duplicate, 1);
//! let data = store.load_dataset()?;
//! assert_eq!((data.n_users(), data.n_items(), data.interactions.len()), (1, 1, 1));
//! # Ok::<(), daogou_store::StoreError>(())
//! ```
#![warn(missing_docs)]

use std::collections::BTreeMap;

use daogou_core::{Dataset, Event, EventColumns, Item};

mod deletions;
mod error;
mod experiments;
#[cfg(feature = "postgres")]
mod postgres;
mod schema;
mod sqlite;
mod url;

pub use deletions::{DeletionKey, DeletionLog, UserHash, DELETION_KEY_META};
pub use error::{Result, StoreError};
pub use experiments::{
    ExperimentSalt, ExperimentStore, Exposure, ExposureTotals, Outcome, StoredExperiment, EXPERIMENT_SALT_META,
};
#[cfg(feature = "postgres")]
pub use postgres::{Artifact, PgStore, PG_SCHEMA_VERSION};
pub use schema::SCHEMA_VERSION;
// for the tests in tests/it
#[doc(hidden)]
pub use schema::{kind_code, kind_from_code};
pub use sqlite::SqliteStore;
#[doc(hidden)]
pub use url::redact;
pub use url::StoreUrl;

/// Open the store `url` names (creating a SQLite file, or the schema of an empty PostgreSQL
/// database, when missing).
pub fn open(url: &StoreUrl) -> Result<Box<dyn Store>> {
    match url {
        StoreUrl::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => Ok(Box::new(PgStore::connect(u)?)),
        #[cfg(not(feature = "postgres"))]
        StoreUrl::Postgres(u) => Err(StoreError::Invalid(format!(
            "{}: this build of daogou has no PostgreSQL support (build daogou-store with the `postgres` feature)",
            crate::url::redact(u)
        ))),
    }
}

/// An error of the caller's own that ends a [`Store::import_batches`] feed (a bad row of the
/// file being read, say); handed back unchanged.
pub type FeedError = Box<dyn std::error::Error + Send + Sync>;

/// What [`Store::import_batches`] hands its feed: write one batch (items before events).
pub type BatchWriter<'a> = dyn FnMut(&[Item], &[Event]) -> Result<()> + 'a;

/// What one write call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Events written.
    pub events_inserted: u64,
    /// Events not written because an identical event (same user, item, kind, timestamp,
    /// value and query) is already stored, or came earlier in the same call.
    pub events_duplicate: u64,
    /// Catalogue rows created: items of the `items` list that were new, plus bare entries
    /// (id only) for item ids first seen in events.
    pub items_inserted: u64,
    /// Items already stored whose record changed (an upsert that changes nothing is not
    /// counted, so re-importing a file reports 0).
    pub items_updated: u64,
}

impl std::ops::AddAssign for ImportReport {
    fn add_assign(&mut self, o: Self) {
        self.events_inserted += o.events_inserted;
        self.events_duplicate += o.events_duplicate;
        self.items_inserted += o.items_inserted;
        self.items_updated += o.items_updated;
    }
}

/// What [`Store::rename_users`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenameReport {
    /// Users whose id was changed.
    pub renamed: u64,
    /// Users merged into a user already stored under the new id (their events moved over;
    /// events the new id already had were not doubled).
    pub merged: u64,
    /// Old ids not found in the store.
    pub missing: u64,
}

/// Counts over the whole store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Users (every user id seen in an event and not deleted).
    pub users: u64,
    /// Catalogue items (including bare entries created for ids seen only in events).
    pub items: u64,
    /// Events.
    pub events: u64,
    /// Events by kind name (`"purchase"`, `"view"` …); kinds without events are absent.
    pub by_kind: BTreeMap<String, u64>,
    /// Smallest event timestamp (unix seconds); `None` without events.
    pub first_timestamp: Option<i64>,
    /// Largest event timestamp (unix seconds); `None` without events.
    pub last_timestamp: Option<i64>,
}

/// Storage of the catalogue, the events and a small key/value table.
///
/// Every write method is one transaction: it writes all its rows or, on any error, none.
/// Events are deduplicated on (user, item, kind, timestamp, value, query), so re-importing
/// the same file inserts nothing. Users, and bare catalogue entries, are created on the fly
/// for ids first seen in events.
///
/// Methods are synchronous; call them from async code through `spawn_blocking` or one
/// dedicated thread. The experiment tables are the supertrait [`ExperimentStore`].
pub trait Store: ExperimentStore + Send {
    /// Upsert `items`, then insert `events`, in one transaction.
    ///
    /// An item already stored is replaced field by field by the new record, except
    /// `created_at`, which keeps its stored value when the new record has `None`.
    fn import(&mut self, items: &[Item], events: &[Event]) -> Result<ImportReport>;

    /// Upsert catalogue items (same rules as [`Store::import`]), one transaction.
    fn upsert_items(&mut self, items: &[Item]) -> Result<ImportReport>;

    /// Insert events (deduplicated), one transaction.
    fn insert_events(&mut self, events: &[Event]) -> Result<ImportReport>;

    /// Counts over the whole store.
    fn stats(&self) -> Result<StoreStats>;

    /// The whole catalogue, in the order items were first stored.
    fn items(&self) -> Result<Vec<Item>>;

    /// One catalogue item.
    fn item(&self, id: &str) -> Result<Option<Item>>;

    /// A user's events in time order (ties in insertion order); empty for an unknown user.
    /// A search that hit no item has `item == ""`.
    fn user_events(&self, user: &str) -> Result<Vec<Event>>;

    /// The whole store as a [`Dataset`].
    ///
    /// * `users`: every stored user, in the order they were first stored.
    /// * `items` / `catalogue`: every catalogue item (also those without events), in the
    ///   order they were first stored.
    /// * `interactions`: every event that has an item, in (timestamp, insertion) order.
    ///   Events without an item (searches that hit nothing) are left out.
    /// * `explicit`: true when there is at least one interaction and all are ratings.
    fn load_dataset(&self) -> Result<Dataset>;

    /// The store the compact way: the same `users`, `items` and `catalogue` as
    /// [`Store::load_dataset`], and the same events in the same order in [`EventColumns`]
    /// (times kept only when `keep_time`) instead of `interactions`, which stays empty.
    /// `explicit` is set as there.
    fn load_columns(&self, keep_time: bool) -> Result<(Dataset, EventColumns)>;

    /// Remove the user's events, the user and the lists shown to them in experiments (with
    /// their outcomes), and record the deletion at `at` (unix seconds)
    /// in the deletion log, all in one transaction: after a crash at any point either all of
    /// it happened or none. Returns the number of events removed. An unknown user (0 events)
    /// is recorded all the same: a model file or another node may still hold them.
    fn delete_user(&mut self, user: &str, at: i64) -> Result<u64>;

    /// Record in the deletion log that the user with log hash `hash` (see
    /// [`Store::deletion_key`]) was deleted at `at`; a user deleted twice keeps the later time.
    fn record_deletion(&mut self, hash: UserHash, at: i64) -> Result<()>;

    /// The deletion log: (hash of the user id, time of the latest deletion), oldest first.
    fn deletions(&self) -> Result<Vec<(UserHash, i64)>>;

    /// The store's key for the deletion log (random, created with the schema; kept in meta).
    fn deletion_key(&self) -> Result<DeletionKey> {
        match self.meta(DELETION_KEY_META)? {
            Some(hex) => DeletionKey::from_hex(&hex),
            None => Err(StoreError::Corrupt(format!("meta `{DELETION_KEY_META}` (the deletion log's key) is missing"))),
        }
    }

    /// The deletion log with its key, to ask whether a user id was deleted (and when).
    fn deletion_log(&self) -> Result<DeletionLog> {
        Ok(DeletionLog::new(self.deletion_key()?, self.deletions()?))
    }

    /// Every stored user id, in the order they were first stored.
    fn user_ids(&self) -> Result<Vec<String>>;

    /// Change user ids, `(old, new)` pairs applied in order, in one transaction: a user is
    /// renamed, or merged into the user already stored as `new` (events move over,
    /// duplicates are dropped, the earlier creation time stays). Used to migrate pseudonyms.
    fn rename_users(&mut self, renames: &[(String, String)]) -> Result<RenameReport>;

    /// Set a value in the small key/value table (last import, model versions …). The
    /// deletion key ([`DELETION_KEY_META`]) cannot be changed this way.
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;

    /// A value of the key/value table.
    fn meta(&self, key: &str) -> Result<Option<String>>;

    /// Group commit: store several independent batches of events (one per request) in one
    /// transaction, so that concurrent writers share a commit. Each group runs inside its own
    /// savepoint: a group that fails (an invalid event) is rolled back alone and gets its own
    /// error, the others are committed together. Returns one result per group, in order, once
    /// the transaction is committed; an `Err` of the whole call means nothing was committed.
    fn insert_event_groups(&mut self, groups: &[&[Event]]) -> Result<Vec<Result<ImportReport>>>;

    /// One import fed in batches, in one transaction: `feed` calls its writer as often as it
    /// likes (items of a call are stored before its events), and everything is committed
    /// only when `feed` and every write succeed; otherwise nothing is stored. What imports of
    /// files too large to hold in memory use ([`Store::import`] takes one batch). A store
    /// error of a write comes back as a [`StoreError`] inside the [`FeedError`] when the feed
    /// passes it on.
    fn import_batches(
        &mut self,
        feed: &mut dyn FnMut(&mut BatchWriter<'_>) -> std::result::Result<(), FeedError>,
    ) -> std::result::Result<ImportReport, FeedError>;

    /// A second connection to the same data, for reading while this one writes; `None` when
    /// there is none (an in-memory store).
    fn reader(&self) -> Result<Option<Box<dyn Store>>>;

    /// Start a read transaction and fix its snapshot at once: until [`Store::end_read`],
    /// every read on this connection sees the data as it is now, whatever other connections
    /// commit meanwhile.
    fn begin_read(&self) -> Result<()>;

    /// End the read transaction of [`Store::begin_read`].
    fn end_read(&self) -> Result<()>;

    /// Where the data is, for messages: the file, or the URL without its password.
    fn location(&self) -> String;

    /// Whether a commit stays in this process and its files (an embedded database), with no
    /// network round trip or remote lock to wait for: short enough to run on an async worker
    /// when nothing else holds the store (`daogou_engine::Engine::try_ingest`).
    fn commits_in_process(&self) -> bool {
        false
    }
}

// ------------------------------------------------------------ shared by both stores

/// Refuse an item no store may keep (the same message whichever store refuses it).
pub(crate) fn check_item(n: usize, item: &Item) -> Result<()> {
    if item.id.is_empty() {
        return Err(StoreError::Invalid(format!("item {n}: empty item id")));
    }
    if let Some(p) = item.price.filter(|p| !p.is_finite()) {
        return Err(StoreError::Invalid(format!("item {n} ({}): price {p} is not a finite number", item.id)));
    }
    Ok(())
}

/// Refuse an event no store may keep (see [`check_item`]).
pub(crate) fn check_event(n: usize, e: &Event) -> Result<()> {
    if e.user.is_empty() {
        return Err(StoreError::Invalid(format!("event {n}: empty user id")));
    }
    if !e.value.is_finite() {
        return Err(StoreError::Invalid(format!(
            "event {n} (user {}, item {}, {}): value {} is not a finite number",
            e.user, e.item, e.kind, e.value
        )));
    }
    Ok(())
}

/// The dense index of stored row `rowid` in `map` (row id → index, `u32::MAX` for none).
pub(crate) fn dense_index(map: &[u32], rowid: i64, what: &str) -> Result<u32> {
    usize::try_from(rowid)
        .ok()
        .and_then(|r| map.get(r).copied())
        .filter(|&i| i != u32::MAX)
        .ok_or_else(|| StoreError::Corrupt(format!("an event refers to {what} row {rowid}, which does not exist")))
}

/// A dataset's interactions scanned in insertion order: put in time order (a stable sort, ties
/// keep insertion order) and flag explicit ratings, as [`Store::load_dataset`] promises.
pub(crate) fn finish_dataset(data: &mut Dataset) {
    if !data.interactions.is_sorted_by_key(|x| x.timestamp) {
        data.interactions.sort_by_key(|x| x.timestamp);
    }
    data.explicit =
        !data.interactions.is_empty() && data.interactions.iter().all(|x| x.kind == daogou_core::EventKind::Rating);
}

/// The same for [`Store::load_columns`]: times are read to order the events as
/// `load_dataset` does, then dropped unless `keep_time`.
pub(crate) fn finish_columns(data: &mut Dataset, columns: &mut EventColumns, keep_time: bool) {
    columns.sort_by_time();
    if !keep_time {
        columns.drop_times();
    }
    columns.shrink_to_fit();
    data.explicit = columns.all_ratings();
}
