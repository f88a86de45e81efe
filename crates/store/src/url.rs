//! Which store a command uses, from a URL: `sqlite:PATH` (the embedded default) or
//! `postgres://user@host:port/db` (several servers and trainers sharing one database).
//! Opening the store it names is [`crate::open`]'s, in the crate root, above both backends.

use std::fmt;
use std::path::PathBuf;

use crate::{Result, StoreError};

/// A parsed `--store` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite:PATH` (also a bare path): one SQLite file.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: a PostgreSQL database (the URL as given).
    Postgres(String),
}

impl StoreUrl {
    /// Parse `sqlite:PATH`, `sqlite://PATH`, `postgres://…`, `postgresql://…`; any other text
    /// without a scheme is taken as a SQLite file path (what `--db PATH` has always meant).
    pub fn parse(s: &str) -> Result<StoreUrl> {
        let s = s.trim();
        if s.is_empty() {
            return Err(StoreError::Invalid("empty store URL (expected sqlite:PATH or postgres://…)".into()));
        }
        if let Some(path) = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::Invalid(format!("store URL `{s}` names no file (expected sqlite:PATH)")));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(s.to_owned()));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(StoreError::Invalid(format!(
                "store URL scheme `{scheme}://` is not supported (expected sqlite:PATH or postgres://user@host:port/db)"
            )));
        }
        Ok(StoreUrl::Sqlite(PathBuf::from(s)))
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            StoreUrl::Sqlite(p) => Some(p),
            StoreUrl::Postgres(_) => None,
        }
    }
}

/// Shown without a password.
impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            StoreUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (auth, host),
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}
