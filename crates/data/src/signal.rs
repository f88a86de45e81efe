//! [`Signal`]: how behaviour becomes the values a model is fitted on — event weights, the
//! positive threshold for ratings and time decay. One definition, used when training, recorded
//! in the model file, and applied the same way to events that arrive after the model (the
//! service's live histories), so a model is always served with the signal it was trained on.

use daogou_core::{Aggregate, Csr, Dataset, EventKind, Interaction, Interactions};
use serde::{Deserialize, Serialize};

use crate::{time_decay, to_implicit, DataError, EventWeights, Result};

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
        if self.explicit(ds) {
            return Interactions::from_interactions(ds.n_users(), ds.n_items(), train, Aggregate::Last);
        }
        let mut weighted = to_implicit(train, &self.weights, self.positive_threshold);
        if let Some(days) = self.half_life_days {
            let now = train.iter().map(|x| x.timestamp).max().unwrap_or(0);
            time_decay(&mut weighted, days * 86_400.0, now);
        }
        let summed = Csr::from_triplets(
            ds.n_users(),
            ds.n_items(),
            weighted.iter().map(|x| (x.user, x.item, x.value)),
            Aggregate::Sum,
        );
        Interactions::from_csr(positive_part(&summed))
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

/// Drop non-positive entries (a return cancelling a purchase).
fn positive_part(m: &Csr) -> Csr {
    let triplets: Vec<(u32, u32, f32)> = (0..m.n_rows())
        .flat_map(|r| {
            let (c, v) = m.row(r);
            c.iter().zip(v).filter(|(_, &v)| v > 0.0).map(move |(&c, &v)| (r as u32, c, v))
        })
        .collect();
    Csr::from_triplets(m.n_rows(), m.n_cols(), triplets.iter().copied(), Aggregate::Sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_live_values_follow_the_training_rule() {
        let s = Signal::from_options(Some("view=0,purchase=1"), Some(4.0), Some(30.0)).unwrap();
        let back = Signal::from_record(&s.record()).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.live_value(false, EventKind::View, 1.0), None, "view weighted 0");
        assert_eq!(s.live_value(false, EventKind::Purchase, 1.0), Some(1.0));
        assert_eq!(s.live_value(false, EventKind::Rating, 3.0), None, "below the threshold");
        assert_eq!(s.live_value(true, EventKind::Rating, 3.0), Some(3.0));
        assert_eq!(s.live_value(true, EventKind::View, 1.0), None);
        assert!(Signal::from_options(None, None, Some(-1.0)).is_err());
        assert!(Signal::from_options(Some("stare=3"), None, None).is_err());
    }

    #[test]
    fn the_matrix_sums_weights_and_drops_cancelled_pairs() {
        let mut ds = Dataset::default();
        for (u, i, k, v) in [
            ("a", "x", EventKind::View, 1.0),
            ("a", "x", EventKind::Purchase, 1.0),
            ("a", "y", EventKind::Purchase, 1.0),
            ("a", "y", EventKind::Return, 1.0),
        ] {
            ds.push_event(&daogou_core::Event {
                user: u.into(),
                item: i.into(),
                kind: k,
                value: v,
                timestamp: 0,
                query: None,
            });
        }
        let m = Signal::default().train_matrix(&ds, &ds.interactions);
        assert_eq!(m.user_row(0).0, &[0]);
        assert_eq!(m.user_row(0).1, &[9.0]);
    }
}
