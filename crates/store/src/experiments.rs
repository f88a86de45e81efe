//! What online experiments keep in the store, so that they survive restarts and every server
//! on the same store agrees: the definitions and their status, the assignment salt, the lists
//! shown (exposures) and the outcomes attributed to them.
//!
//! * `experiments`: name, definition (JSON, written by the engine), status (`draft`,
//!   `running`, `stopped`) and its times.
//! * `meta` `experiment_salt`: 32 random bytes created with the tables; a unit's variant is
//!   decided by HMAC-SHA256(salt, experiment name ‖ 0x1f ‖ unit id) ([`ExperimentSalt`]), so
//!   it is the same after a restart and on every server sharing the store.
//! * `exposures`: one row per list shown to a unit in a running experiment (variant, unit,
//!   time, the item ids in order); its `id` is the answer's `recommendation_id`.
//! * `outcomes`: events attributed to an exposure (kind `click`, `add_to_cart`, `purchase`,
//!   with the revenue price × quantity), deduplicated like events.
//!
//! A unit's exposures (and with them their outcomes) go when the user is deleted
//! ([`crate::Store::delete_user`]).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::deletions::decode_hex32;
use crate::{Result, StoreError};

/// The `meta` key of the assignment salt (hex). [`crate::Store::set_meta`] refuses to change it.
pub const EXPERIMENT_SALT_META: &str = "experiment_salt";

/// The store's secret salt of experiment assignment. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ExperimentSalt(pub(crate) [u8; 32]);

impl fmt::Debug for ExperimentSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExperimentSalt(…)")
    }
}

impl ExperimentSalt {
    /// A salt from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ExperimentSalt(bytes)
    }

    /// A fresh random salt.
    pub fn random() -> Result<Self> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| StoreError::Invalid(format!("no randomness for a new salt: {e}")))?;
        Ok(ExperimentSalt(k))
    }

    /// A salt derived from a configured secret (HMAC-SHA256 of it under a fixed label), so
    /// that servers sharing a configuration but not a store assign alike.
    pub fn from_secret(secret: &str) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"daogou experiment salt v1").expect("any key length");
        mac.update(secret.as_bytes());
        ExperimentSalt(mac.finalize().into_bytes().into())
    }

    /// Where `unit` falls in [0, 1) for `experiment`: the first 53 bits of
    /// HMAC-SHA256(salt, experiment ‖ 0x1f ‖ unit). Uniform, independent between experiments,
    /// and the same on every server holding the salt.
    pub fn bucket(&self, experiment: &str, unit: &str) -> f64 {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(experiment.as_bytes());
        mac.update(&[0x1f]);
        mac.update(unit.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An experiment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExperiment {
    /// Its name.
    pub name: String,
    /// The definition (JSON; the engine owns its shape).
    pub definition: String,
    /// `draft`, `running` or `stopped`.
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the start.
    pub started_at: Option<i64>,
    /// Unix seconds of the stop.
    pub stopped_at: Option<i64>,
}

/// A list shown in an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// Its id (the answer's `recommendation_id` is `r` + id).
    pub id: i64,
    /// The experiment.
    pub experiment: String,
    /// The variant.
    pub variant: String,
    /// The unit (stored user id, or session id).
    pub unit: String,
    /// Unix seconds.
    pub shown_at: i64,
    /// The items shown, in order.
    pub items: Vec<String>,
}

/// An event attributed to an exposure.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The exposure.
    pub exposure: i64,
    /// The item.
    pub item: String,
    /// `click`, `add_to_cart` or `purchase`.
    pub kind: &'static str,
    /// The event's value (quantity).
    pub value: f64,
    /// Price × quantity for a purchase, else 0.
    pub revenue: f64,
    /// The event's time.
    pub at: i64,
}

/// What one unit's lists of one time bucket showed and earned.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureTotals {
    /// The variant.
    pub variant: String,
    /// The unit, as a number unique within the experiment.
    pub unit: u64,
    /// Time bucket of the lists (from the start, in buckets of the requested length).
    pub bucket: u32,
    /// Lists shown.
    pub lists: u64,
    /// Items shown.
    pub impressions: u64,
    /// Distinct shown items clicked (per list).
    pub clicks: u64,
    /// Distinct shown items added to the cart (per list).
    pub carts: u64,
    /// Purchases.
    pub purchases: u64,
    /// Revenue.
    pub revenue: f64,
}

/// The experiment tables of a store (a part of every [`crate::Store`]).
pub trait ExperimentStore {
    /// The assignment salt.
    fn experiment_salt(&self) -> Result<ExperimentSalt>;

    /// Store a new experiment as a draft; false when the name is taken.
    fn create_experiment(&mut self, name: &str, definition: &str, at: i64) -> Result<bool>;

    /// Every experiment, oldest first.
    fn experiments(&self) -> Result<Vec<StoredExperiment>>;

    /// One experiment.
    fn experiment(&self, name: &str) -> Result<Option<StoredExperiment>>;

    /// Set an experiment's status (`running` records the start time, `stopped` the stop).
    fn set_experiment_status(&mut self, name: &str, status: &str, at: i64) -> Result<()>;

    /// Record a list shown; its id.
    fn record_exposure(
        &mut self,
        experiment: &str,
        variant: &str,
        unit: &str,
        at: i64,
        items: &[String],
    ) -> Result<i64>;

    /// One exposure by id.
    fn exposure(&self, id: i64) -> Result<Option<Exposure>>;

    /// The latest exposure of `unit` in `experiment` shown between `from` and `to` (unix
    /// seconds, inclusive) whose list held `item`.
    fn last_exposure_with(&self, experiment: &str, unit: &str, item: &str, from: i64, to: i64) -> Result<Option<i64>>;

    /// Store attributed outcomes in one transaction (an outcome already stored is not
    /// doubled); how many were new.
    fn record_outcomes(&mut self, outcomes: &[Outcome]) -> Result<u64>;

    /// What each unit's lists showed and earned in `experiment`, per time bucket of
    /// `bucket_secs` from `start` (lists shown before `start` fall in bucket 0).
    fn exposure_totals(&self, experiment: &str, start: i64, bucket_secs: i64) -> Result<Vec<ExposureTotals>>;

    /// Exposures stored for `unit` (any experiment).
    fn exposures_of(&self, unit: &str) -> Result<u64>;
}

/// Shared by every store: the column a status change stamps with its time (`running` the
/// start, `stopped` the stop), and the answer when no experiment had the name.
pub(crate) fn status_time_column(status: &str) -> Result<&'static str> {
    match status {
        "running" => Ok("started_at"),
        "stopped" => Ok("stopped_at"),
        other => Err(StoreError::Invalid(format!("experiment status `{other}`: expected running or stopped"))),
    }
}

pub(crate) fn experiment_changed(rows: u64, name: &str) -> Result<()> {
    if rows == 0 {
        return Err(StoreError::Invalid(format!("experiment `{name}` does not exist")));
    }
    Ok(())
}

/// The assignment salt from its meta value.
pub(crate) fn salt_from_meta(hex: Option<String>) -> Result<ExperimentSalt> {
    let hex = hex.ok_or_else(|| StoreError::Corrupt(format!("meta `{EXPERIMENT_SALT_META}` is missing")))?;
    decode_hex32(&hex)
        .map(ExperimentSalt)
        .ok_or_else(|| StoreError::Corrupt(format!("meta `{EXPERIMENT_SALT_META}` is not 64 hex digits")))
}

pub(crate) fn check_outcome(o: &Outcome) -> Result<()> {
    if !o.revenue.is_finite() || !o.value.is_finite() {
        return Err(StoreError::Invalid(format!("outcome of exposure {}: not a finite number", o.exposure)));
    }
    Ok(())
}
