//! [`Signal`]: how behaviour becomes the values a model is fitted on — event weights, the
//! positive threshold for ratings and time decay. One definition, used when training, recorded
//! in the model file, and applied the same way to events that arrive after the model (the
//! service's live histories), so a model is always served with the signal it was trained on.

use daogou_core::{Aggregate, Csr, Dataset, EventColumns, EventKind, Interaction, Interactions};
use serde::{Deserialize, Serialize};

use crate::preprocess::decayed;
use crate::{DataError, EventWeights, Result};

/// How behaviour becomes training signal.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Signal {
    /// Event-type weights for the implicit view.
    pub weights: EventWeights,
    /// Treat ratings as implicit feedback, dropping ratings below this value.
    pub positive_threshold: Option<f32>,
    /// Implicit view: an event loses half its weight every this many days before the latest
    /// training event.
    pub half_life_days: Option<f64>,
}

/// The form a [`Signal`] takes in a model file's manifest (readable JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// `view=1,click=2,…` with every kind.
    pub weights: String,
    /// See [`Signal::positive_threshold`].
    pub positive_threshold: Option<f32>,
    /// See [`Signal::half_life_days`].
    pub half_life_days: Option<f64>,
}

impl Signal {
    /// The signal given by the command line's `--weights`, `--positive-threshold` and
    /// `--half-life` (each optional), validated.
    pub fn from_options(
        weights: Option<&str>,
        positive_threshold: Option<f32>,
        half_life_days: Option<f64>,
    ) -> Result<Self> {
        let weights = weights.map(EventWeights::parse).transpose()?.unwrap_or_default();
        if let Some(t) = positive_threshold {
            if !t.is_finite() {
                return Err(DataError::Invalid {
                    what: "positive threshold",
                    input: t.to_string(),
                    expected: "a finite number".into(),
                });
            }
        }
        if let Some(d) = half_life_days {
            if !(d.is_finite() && d > 0.0) {
                return Err(DataError::Invalid {
                    what: "half-life",
                    input: d.to_string(),
                    expected: "a positive number of days".into(),
                });
            }
        }
        Ok(Signal { weights, positive_threshold, half_life_days })
    }

    /// True when a model is fitted on explicit ratings: the data are ratings and no positive
    /// threshold turns them into implicit feedback.
    pub fn explicit(&self, ds: &Dataset) -> bool {
        ds.explicit && self.positive_threshold.is_none()
    }

    /// The training matrix of `train` (interactions of `ds`).
    ///
    /// * Explicit: the ratings (a re-rating keeps the last value).
    /// * Implicit: ratings below the positive threshold are dropped, every other event
    ///   contributes its event weight, decayed by the half-life before the latest training
    ///   event; repeated (user, item) events add up and pairs whose total is ≤ 0 (returned more
    ///   than bought) are dropped.
    pub fn train_matrix(&self, ds: &Dataset, train: &[Interaction]) -> Interactions {
        Interactions::from_csr(self.matrix_of(ds.n_users(), ds.n_items(), self.explicit(ds), train.iter().copied()))
    }

    /// The users × items rows of [`Signal::train_matrix`] over events in any form (a slice,
    /// [`EventColumns`]), read two or three times and never copied: weights and decay are
    /// applied as the matrix is built.
    pub fn matrix_of<I>(&self, n_users: usize, n_items: usize, explicit: bool, events: I) -> Csr
    where
        I: Iterator<Item = Interaction> + Clone,
    {
        if explicit {
            let ratings = events.map(|x| (x.user, x.item, x.value));
            return Csr::from_triplets(n_users, n_items, ratings, Aggregate::Last);
        }
        let decay =
            self.half_life_days.map(|days| (days * 86_400.0, events.clone().map(|x| x.timestamp).max().unwrap_or(0)));
        let (weights, threshold) = (self.weights, self.positive_threshold);
        let weighted = events.filter_map(move |x| {
            if x.kind == EventKind::Rating && threshold.is_some_and(|t| x.value < t) {
                return None;
            }
            let w = weights.weight(&x);
            if w == 0.0 {
                return None;
            }
            Some((x.user, x.item, decay.map_or(w, |(half_life, now)| decayed(w, x.timestamp, half_life, now))))
        });
        let mut summed = Csr::from_triplets(n_users, n_items, weighted, Aggregate::Sum);
        // a return cancelling a purchase leaves a non-positive total: no interest
        summed.retain(|_, _, v| v > 0.0);
        summed
    }

    /// The training matrix of events read into columns (see
    /// [`crate::load_columns_into`]): the same matrix as [`Signal::train_matrix`] over the same
    /// events. The columns are freed before the transpose is built, so the events and both
    /// halves of the matrix are never held at once.
    pub fn columns_matrix(&self, n_users: usize, n_items: usize, columns: EventColumns) -> Interactions {
        let explicit = self.positive_threshold.is_none() && columns.all_ratings();
        let by_user = self.matrix_of(n_users, n_items, explicit, columns.iter());
        drop(columns);
        Interactions::from_csr(by_user)
    }

    /// What one event that arrived after the model adds to a history (the service's real-time
    /// answers), the same rule as [`Signal::train_matrix`] for an event newer than every
    /// training event (no decay): for explicit models the rating (it replaces the stored one;
    /// other kinds say nothing), for implicit ones the event weight (added up; `None` for a
    /// rating below the positive threshold or a kind weighted 0).
    pub fn live_value(&self, explicit: bool, kind: EventKind, value: f32) -> Option<f32> {
        if explicit {
            return (kind == EventKind::Rating).then_some(value);
        }
        if kind == EventKind::Rating && self.positive_threshold.is_some_and(|t| value < t) {
            return None;
        }
        let x = Interaction { user: 0, item: 0, value, timestamp: 0, kind };
        Some(self.weights.weight(&x)).filter(|&w| w != 0.0)
    }

    /// The manifest form.
    pub fn record(&self) -> SignalRecord {
        SignalRecord {
            weights: self.weights.spec(),
            positive_threshold: self.positive_threshold,
            half_life_days: self.half_life_days,
        }
    }

    /// Back from the manifest form.
    pub fn from_record(r: &SignalRecord) -> Result<Self> {
        Signal::from_options(Some(&r.weights), r.positive_threshold, r.half_life_days)
    }
}
