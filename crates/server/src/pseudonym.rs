//! Pseudonymous user ids: with `pseudonymize_key` configured, the service stores and looks up
//! users as HMAC-SHA256(key, customer id), so the store never holds the shop's customer ids.
//!
//! Ids made by daogou before HMAC (`p_` + two keyed SipHash digests) are migrated with
//! `daogou pseudonyms migrate` ([`migrate`]): it needs the shop's customer ids, because a
//! pseudonym cannot be turned back into the id it came from.

use daogou_store::{RenameReport, Store, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Prefix of an HMAC-SHA256 pseudonym.
pub const PREFIX: &str = "h_";

/// The `meta` key recording which scheme the store's pseudonyms use.
pub const SCHEME_META: &str = "pseudonym_scheme";
/// The value of [`SCHEME_META`] for HMAC-SHA256 pseudonyms.
pub const SCHEME: &str = "hmac-sha256";

/// The pseudonym of a customer id under `secret`: `h_` + the first 128 bits of
/// HMAC-SHA256(secret, id) in hex. Stable for a given secret; without the secret it can be
/// neither reversed nor recomputed from a guessed id.
pub fn pseudonym(secret: &str, user: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(user.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(PREFIX.len() + 32);
    out.push_str(PREFIX);
    for b in &digest[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The pseudonym daogou made before HMAC-SHA256 (`p_` + 128 bits of two SipHash-2-4 digests
/// keyed from the secret). Kept only to migrate stored ids ([`migrate`]).
#[allow(deprecated)] // std's SipHasher: exactly the function the old ids were made with
pub fn legacy_pseudonym(secret: &str, user: &str) -> String {
    use std::hash::{Hash, Hasher, SipHasher};
    let derive = |k0: u64, k1: u64| {
        let mut h = SipHasher::new_with_keys(k0, k1);
        secret.as_bytes().hash(&mut h);
        h.finish()
    };
    let (a, b) =
        (derive(0x6461_6f67_6f75_0001, 0x7073_6575_646f_0001), derive(0x6461_6f67_6f75_0002, 0x7073_6575_646f_0002));
    let digest = |k0: u64, k1: u64| {
        let mut h = SipHasher::new_with_keys(k0, k1);
        user.as_bytes().hash(&mut h);
        h.finish()
    };
    format!("p_{:016x}{:016x}", digest(a, b), digest(b ^ 0x5555_5555_5555_5555, a ^ 0xaaaa_aaaa_aaaa_aaaa))
}

/// True for an id of the shape of a [`legacy_pseudonym`]: `p_` and 32 lowercase hex digits.
pub fn is_legacy(id: &str) -> bool {
    id.len() == 34 && id.starts_with("p_") && id[2..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Check, before serving with a pseudonymize key, that the store's ids are not legacy
/// pseudonyms that the service would no longer find (every such user would look new). Scans
/// the user ids once; afterwards the store is marked as using HMAC pseudonyms.
pub fn check_store(store: &mut dyn Store) -> Result<(), String> {
    let err = |e: StoreError| e.to_string();
    if store.meta(SCHEME_META).map_err(err)?.as_deref() == Some(SCHEME) {
        return Ok(());
    }
    let legacy = store.user_ids().map_err(err)?.iter().filter(|u| is_legacy(u)).count();
    if legacy > 0 {
        return Err(format!(
            "the store holds {legacy} users under pseudonyms of the old scheme (p_…, SipHash), which this \
             version no longer computes: migrate them to HMAC-SHA256 first with \
             `daogou pseudonyms migrate --db DB --ids CUSTOMER_IDS_FILE` (see README, Pseudonyms)"
        ));
    }
    store.set_meta(SCHEME_META, SCHEME).map_err(err)
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Customer ids read.
    pub ids: u64,
    /// Users renamed from their legacy pseudonym to the HMAC one.
    pub renamed: u64,
    /// Users merged into events already stored under the HMAC pseudonym.
    pub merged: u64,
    /// Customer ids with no stored legacy pseudonym (never seen, or already migrated).
    pub not_stored: u64,
    /// Legacy pseudonyms still stored after the migration (customers missing from the list).
    pub legacy_left: u64,
}

/// Rename every stored legacy pseudonym of `customer_ids` under `secret` to its HMAC-SHA256
/// pseudonym, in one transaction (all or nothing). When no legacy pseudonym is left, the store
/// is marked as migrated and `daogou serve` starts on it; otherwise the report says how many
/// remain and nothing is marked.
pub fn migrate(
    store: &mut dyn Store,
    secret: &str,
    customer_ids: impl IntoIterator<Item = String>,
    dry_run: bool,
) -> Result<MigrationReport, StoreError> {
    let stored: rustc_hash::FxHashSet<String> = store.user_ids()?.into_iter().filter(|u| is_legacy(u)).collect();
    let mut report = MigrationReport::default();
    let mut renames = Vec::new();
    let mut seen = rustc_hash::FxHashSet::default();
    for id in customer_ids {
        report.ids += 1;
        let old = legacy_pseudonym(secret, &id);
        if stored.contains(&old) && seen.insert(old.clone()) {
            renames.push((old, pseudonym(secret, &id)));
        } else {
            report.not_stored += 1;
        }
    }
    report.legacy_left = (stored.len() - renames.len()) as u64;
    if dry_run {
        report.renamed = renames.len() as u64;
        return Ok(report);
    }
    let RenameReport { renamed, merged, .. } = store.rename_users(&renames)?;
    report.renamed = renamed;
    report.merged = merged;
    if report.legacy_left == 0 {
        store.set_meta(SCHEME_META, SCHEME)?;
    }
    Ok(report)
}
