//! The SQLite schema, its version check and the connection settings.

use std::path::Path;

use daogou_core::EventKind;
use rusqlite::{params, Connection, ErrorCode, Transaction, TransactionBehavior};

use crate::deletions::{encode_hex, DeletionKey, DELETION_KEY_META};
use crate::experiments::{ExperimentSalt, EXPERIMENT_SALT_META};
use crate::{Result, StoreError};

/// Schema version written to `PRAGMA user_version`. A file with a larger version is refused;
/// a file with a smaller one is upgraded when it is opened ([`MIGRATIONS`]).
pub const SCHEMA_VERSION: i64 = 1 + MIGRATIONS.len() as i64;

/// The upgrades, in order: `MIGRATIONS[i]` takes a file from version `i + 1` to `i + 2`. A new
/// store is created as version 1 and then runs every step, so the path an old file takes is
/// the path every new file takes.
const MIGRATIONS: &[fn(&Transaction<'_>) -> Result<()>] = &[v2_deletion_log, v3_deleted_items, v4_experiments];

/// Version 2: the deletion log (see [`crate::DeletionLog`]) and its random key.
///
/// `user_hash` is HMAC-SHA256(key, stored user id) (32 bytes), `deleted_at` unix seconds of
/// the latest deletion of that user.
fn v2_deletion_log(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE deletions (
            user_hash  BLOB PRIMARY KEY NOT NULL CHECK (typeof(user_hash) = 'blob' AND length(user_hash) = 32),
            deleted_at INTEGER NOT NULL
        ) WITHOUT ROWID;",
    )?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        rusqlite::params![DELETION_KEY_META, DeletionKey::random()?.to_hex()],
    )?;
    Ok(())
}

/// Version 3: items get a real `deleted` flag; items deleted before (marked by the attribute
/// `daogou:deleted`) carry it and lose the attribute.
fn v3_deleted_items(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE items ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1));
         UPDATE items SET deleted = 1, attributes = json_remove(attributes, '$.\"daogou:deleted\"')
          WHERE json_extract(attributes, '$.\"daogou:deleted\"') IS NOT NULL;",
    )?;
    Ok(())
}

/// Version 4: the experiment tables and the assignment salt.
fn v4_experiments(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE experiments (
            name       TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
            definition TEXT NOT NULL CHECK (json_valid(definition)),
            status     TEXT NOT NULL CHECK (status IN ('draft', 'running', 'stopped')),
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            stopped_at INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE exposures (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            experiment TEXT NOT NULL REFERENCES experiments (name),
            variant    TEXT NOT NULL,
            unit       TEXT NOT NULL CHECK (unit <> ''),
            shown_at   INTEGER NOT NULL,
            items      TEXT NOT NULL CHECK (json_valid(items))
        );
        CREATE INDEX exposures_unit ON exposures (unit, experiment, shown_at);
        CREATE INDEX exposures_experiment ON exposures (experiment, shown_at);
        CREATE TABLE outcomes (
            exposure_id INTEGER NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
            item        TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('click', 'add_to_cart', 'purchase')),
            value       REAL NOT NULL,
            revenue     REAL NOT NULL CHECK (revenue = revenue),
            at          INTEGER NOT NULL,
            PRIMARY KEY (exposure_id, item, kind, at, value)
        ) WITHOUT ROWID;",
    )?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![EXPERIMENT_SALT_META, encode_hex(&ExperimentSalt::random()?.0)],
    )?;
    Ok(())
}

/// `PRAGMA application_id` of a daogou store: "daog" in ASCII. Lets `file(1)` and
/// daogou itself tell a daogou store from another program's SQLite database.
pub(crate) const APPLICATION_ID: i64 = 0x6461_6f67;

/// Version 1.
///
/// * `kind` is a small integer, the index in [`EventKind::ALL`]; the `event_kinds` table
///   names them for people reading the file with `sqlite3`.
/// * `item_id` is NULL for a search that hit no item, `query` is NULL for events without
///   query text. NULLs are distinct in a UNIQUE index, so the dedup index uses
///   `coalesce(…)` expressions over both.
/// * A NaN bound as a parameter becomes NULL in SQLite, so `value REAL NOT NULL` rejects it;
///   `CHECK (value = value)` rejects a NaN computed in SQL.
pub(crate) const SCHEMA_V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE event_kinds (
    code INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE CHECK (external_id <> ''),
    created_at  INTEGER              -- timestamp of the user's first stored event
);

CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE CHECK (external_id <> ''),
    title       TEXT NOT NULL DEFAULT '',
    category    TEXT,
    brand       TEXT,
    price       REAL CHECK (price = price),
    attributes  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    created_at  INTEGER,
    available   INTEGER NOT NULL DEFAULT 1 CHECK (available IN (0, 1)),
    stock       INTEGER
);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id   INTEGER REFERENCES items (id),
    kind      INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 6),
    value     REAL NOT NULL CHECK (value = value),
    timestamp INTEGER NOT NULL,
    query     TEXT
);

-- Dedup key; its leading user_id also serves user_events, delete_user and the foreign key.
CREATE UNIQUE INDEX events_dedup
    ON events (user_id, coalesce(item_id, 0), kind, timestamp, value, coalesce(query, ''));
";

/// Apply the settings, check the version and create the schema on first open.
/// `path` is only used in error messages.
pub(crate) fn prepare(conn: &mut Connection, path: &Path, in_memory: bool) -> Result<()> {
    let open = |message: String| StoreError::Open { path: path.to_owned(), message };
    let sql = |e: rusqlite::Error| open(describe(&e));

    // The first read of the header: fails with SQLITE_NOTADB for a file that is not SQLite.
    let app_id: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(sql)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sql)?;
    check_identity(conn, path, app_id, version).map_err(|e| match e {
        StoreError::Sqlite(e) => sql(e),
        e => e,
    })?;

    // Settings (per connection, except journal_mode which is stored in the file).
    if !in_memory {
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open(format!("cannot switch to WAL mode (journal_mode is {mode})")));
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(sql)?;
    // deleted rows (a deleted user's id, events and search text) are overwritten with zeros,
    // not left in free space where a copy of the file would still show them
    conn.pragma_update(None, "secure_delete", true).map_err(sql)?;
    // 64 MiB page cache: a 400k-event import keeps its indexes in memory instead of spilling.
    conn.pragma_update(None, "cache_size", -65_536).map_err(sql)?;
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(sql)?;
    conn.set_prepared_statement_cache_capacity(32);

    let done = if version == 0 { create(conn, path) } else { upgrade(conn, path) };
    done.map_err(|e| match e {
        StoreError::Sqlite(e) => sql(e),
        e => e,
    })
}

/// Refuse files that are not (or not yet understood as) daogou stores.
fn check_identity(conn: &Connection, path: &Path, app_id: i64, version: i64) -> Result<()> {
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::Open {
            path: path.to_owned(),
            message: format!(
                "this SQLite database belongs to another program (application_id {app_id:#x}), not a daogou store"
            ),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { path: path.to_owned(), found: version, supported: SCHEMA_VERSION });
    }
    if version == 0 {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if tables > 0 {
            return Err(StoreError::Open {
                path: path.to_owned(),
                message: format!(
                    "this SQLite database has {tables} schema objects but no daogou schema version; not a daogou store"
                ),
            });
        }
    } else if app_id != APPLICATION_ID {
        return Err(StoreError::Open {
            path: path.to_owned(),
            message: format!(
                "this SQLite database has user_version {version} but no daogou application_id; not a daogou store"
            ),
        });
    }
    Ok(())
}

/// Create the schema in one immediate transaction. Two processes opening a new file at
/// the same time serialise here; the second sees the version the first wrote.
fn create(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version != 0 {
        let app_id: i64 = tx.pragma_query_value(None, "application_id", |r| r.get(0))?;
        return check_identity(&tx, path, app_id, version);
    }
    tx.execute_batch(SCHEMA_V1)?;
    {
        let mut ins = tx.prepare("INSERT INTO event_kinds (code, name) VALUES (?1, ?2)")?;
        for (code, kind) in EventKind::ALL.iter().enumerate() {
            ins.execute(rusqlite::params![code as i64, kind.as_str()])?;
        }
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    migrate(&tx, 1)?;
    tx.commit()?;
    Ok(())
}

/// Bring an older file up to [`SCHEMA_VERSION`] in one immediate transaction: a kill or an
/// error leaves it at its old version, untouched. Two processes opening an old file at the
/// same time serialise here; the second finds it upgraded.
fn upgrade(conn: &mut Connection, path: &Path) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        message: format!("cannot upgrade the schema from version {version} to {SCHEMA_VERSION}: {}", describe(&e)),
    })?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(()); // upgraded by another process meanwhile
    }
    migrate(&tx, version)?;
    tx.commit()?;
    Ok(())
}

/// Run the steps from `version` to [`SCHEMA_VERSION`] and record the new version.
fn migrate(tx: &Transaction<'_>, version: i64) -> Result<()> {
    for step in &MIGRATIONS[(version - 1) as usize..] {
        step(tx)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

/// A message for an open-time SQLite error, naming the usual causes.
fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => format!("not a SQLite database ({e})"),
        Some(ErrorCode::CannotOpen) => {
            format!("cannot open the file; does its directory exist and is it writable? ({e})")
        }
        Some(ErrorCode::DatabaseBusy) => format!("the database is locked by another process ({e})"),
        Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) => format!("no write permission ({e})"),
        _ => e.to_string(),
    }
}

/// Event kind ↔ stored code (index in [`EventKind::ALL`]).
pub fn kind_code(kind: EventKind) -> i64 {
    EventKind::ALL.iter().position(|&k| k == kind).expect("every kind is in ALL") as i64
}

/// Stored code → event kind.
pub fn kind_from_code(code: i64) -> Result<EventKind> {
    usize::try_from(code)
        .ok()
        .and_then(|c| EventKind::ALL.get(c).copied())
        .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind code {code} in table events")))
}
