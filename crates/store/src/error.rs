use std::path::PathBuf;

use thiserror::Error;

/// Errors of the store. Open-time errors name the file; input errors name the record.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed while the store was in use (a constraint, a full disk, a busy lock …).
    /// Errors while opening are reported as [`StoreError::Open`] instead, with the path.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file could not be opened as a daogou store: it is missing and cannot be created,
    /// is not a SQLite database, or is a SQLite database of some other program.
    #[error("cannot open store {}: {message}", path.display())]
    Open {
        /// the file (`:memory:` for an in-memory store)
        path: PathBuf,
        /// what went wrong
        message: String,
    },
    /// The file was written by a newer daogou whose schema this build does not know.
    #[error(
        "store {} has schema version {found}, newer than version {supported} that this build of daogou understands; \
         use a newer daogou (the file was left untouched)",
        path.display()
    )]
    SchemaTooNew {
        /// the file
        path: PathBuf,
        /// `PRAGMA user_version` of the file
        found: i64,
        /// the newest schema version this build knows
        supported: i64,
    },
    /// Stored data that cannot be decoded (unknown event kind code, attributes that are not
    /// a JSON object of strings, a failed integrity check).
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// A group commit ([`Store::insert_event_groups`](crate::Store::insert_event_groups))
    /// failed as a whole: nothing of it was written. Given to the other requests of the group
    /// (the first gets the original error).
    #[error("the shared commit of this request failed, nothing was written: {0}")]
    GroupCommit(String),
    /// PostgreSQL refused a statement (a constraint, a type error …).
    #[error("database error: {0}")]
    Postgres(String),
    /// The database cannot be reached now (PostgreSQL down or restarting, the network):
    /// nothing of the call was written; try again later. The service answers writes with 503.
    #[error("the database is unavailable, nothing was written; try again later: {0}")]
    Unavailable(String),
    /// A record handed to the store that it refuses (empty id, NaN or infinite number).
    /// Nothing of the call that carried it was written.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Result with [`StoreError`].
pub type Result<T> = std::result::Result<T, StoreError>;
