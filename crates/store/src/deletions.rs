//! The deletion log: which users were deleted and when, without keeping their ids.
//!
//! Each entry is HMAC-SHA256 of the stored user id under the store's own deletion key (32
//! random bytes created with the schema, kept in the `meta` table), and the time of the
//! deletion. The log lets every process that builds or loads a model (a fit, a model file
//! written before the deletion, another node) leave deleted users out, while the store no
//! longer holds the id itself: testing an id against the log needs the id and the key.
//!
//! What the hash protects depends on the id: with `pseudonymize_key` configured the stored id
//! is already a keyed pseudonym, so the log reveals nothing without that key; with raw ids,
//! someone holding the database file (and so the key) can test guesses ("was customer 17850
//! deleted?") but cannot list the deleted ids.

use std::fmt;

use hmac::{Hmac, Mac};
use rustc_hash::FxHashMap;
use sha2::Sha256;

use crate::{Result, StoreError};

/// The `meta` key under which the deletion key is stored (hex). [`crate::Store::set_meta`]
/// refuses to overwrite it.
pub const DELETION_KEY_META: &str = "deletion_key";

/// A user id under the store's deletion key: HMAC-SHA256(key, id). Displayed as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserHash(pub [u8; 32]);

impl fmt::Display for UserHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for UserHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserHash({self})")
    }
}

impl std::str::FromStr for UserHash {
    type Err = StoreError;
    /// 64 hex digits.
    fn from_str(s: &str) -> Result<Self> {
        Ok(UserHash(
            decode_hex32(s).ok_or_else(|| StoreError::Invalid(format!("user hash `{s}`: expected 64 hex digits")))?,
        ))
    }
}

pub(crate) fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let hex = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(hex, 16).ok()?;
    }
    Some(out)
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The store's secret for the deletion log. Its `Debug` output does not show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct DeletionKey([u8; 32]);

impl fmt::Debug for DeletionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeletionKey(…)")
    }
}

impl DeletionKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DeletionKey(bytes)
    }

    /// A fresh random key (from the operating system's generator).
    pub fn random() -> Result<Self> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k)
            .map_err(|e| StoreError::Invalid(format!("no randomness for a new deletion key: {e}")))?;
        Ok(DeletionKey(k))
    }

    #[doc(hidden)]
    pub fn from_hex(s: &str) -> Result<Self> {
        decode_hex32(s)
            .map(DeletionKey)
            .ok_or_else(|| StoreError::Corrupt(format!("meta `{DELETION_KEY_META}` is not 64 hex digits")))
    }

    #[doc(hidden)]
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// The log's hash of `user` (the id as stored: the pseudonym when ids are pseudonymised).
    pub fn hash(&self, user: &str) -> UserHash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(user.as_bytes());
        UserHash(mac.finalize().into_bytes().into())
    }
}

/// The whole deletion log with its key: ask it whether (and when) a user id was deleted.
#[derive(Debug, Clone)]
pub struct DeletionLog {
    key: DeletionKey,
    at: FxHashMap<UserHash, i64>,
}

impl DeletionLog {
    /// The log of `entries` under `key` (the latest time wins for a hash listed twice).
    pub fn new(key: DeletionKey, entries: impl IntoIterator<Item = (UserHash, i64)>) -> Self {
        let mut at = FxHashMap::default();
        for (h, t) in entries {
            let e = at.entry(h).or_insert(t);
            *e = (*e).max(t);
        }
        DeletionLog { key, at }
    }

    /// When `user` (the stored id) was last deleted, if ever.
    pub fn deleted_at(&self, user: &str) -> Option<i64> {
        if self.at.is_empty() {
            return None; // no HMAC per lookup while nobody was deleted
        }
        self.at.get(&self.key.hash(user)).copied()
    }

    /// True when `user` was deleted at or after `since` (unix seconds): data gathered before
    /// `since` (a model file, a snapshot) must not show the user.
    pub fn deleted_since(&self, user: &str, since: i64) -> bool {
        self.deleted_at(user).is_some_and(|t| t >= since)
    }

    /// The key the log is hashed with.
    pub fn key(&self) -> &DeletionKey {
        &self.key
    }

    /// Number of users in the log.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// True when nobody was deleted.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}
