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

    /// A CSV of random events: users, items, every kind, values, times, re-ratings and
    /// returns; or only ratings.
    fn random_file(dir: &std::path::Path, seed: u64, ratings_only: bool) -> std::path::PathBuf {
        use std::fmt::Write;
        let mut rng = daogou_core::SeededRng::new(seed);
        let kinds = ["view", "click", "add_to_cart", "purchase", "return", "rating"];
        let mut csv = String::from("user,item,kind,value,timestamp\n");
        for _ in 0..3_000 {
            let kind = if ratings_only { "rating" } else { kinds[rng.below(kinds.len())] };
            let value = if kind == "rating" { 1 + rng.below(5) } else { 1 + rng.below(3) };
            let (u, i, t) = (rng.below(60), rng.below(40), 1_600_000_000 + rng.range(0, 90 * 86_400));
            writeln!(csv, "u{u},i{i},{kind},{value},{t}").unwrap();
        }
        let path = dir.join(format!("events-{seed}-{ratings_only}.csv"));
        std::fs::write(&path, csv).unwrap();
        path
    }

    #[test]
    fn columns_and_the_event_log_give_the_same_matrix_as_summing_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let opts = crate::LoadOptions::new(crate::Format::Csv);
        let signals = [
            Signal::default(),
            Signal::from_options(Some("view=0,click=1,purchase=5,return=-5"), None, None).unwrap(),
            Signal::from_options(None, Some(4.0), None).unwrap(),
            Signal::from_options(None, None, Some(14.0)).unwrap(),
            Signal::from_options(Some("rating=2"), Some(3.0), Some(30.0)).unwrap(),
        ];
        for (seed, ratings_only) in [(1, false), (2, false), (3, true)] {
            let path = random_file(dir.path(), seed, ratings_only);
            let (ds, _) = crate::load_dataset(&path, &opts).unwrap();
            assert_eq!(ds.explicit, ratings_only);
            for signal in &signals {
                let from_log = signal.train_matrix(&ds, &ds.interactions);
                let keep_time = signal.half_life_days.is_some();
                let (mut cds, mut columns) = (Dataset::default(), EventColumns::new(keep_time));
                crate::load_columns_into(&mut cds, &mut columns, &path, &opts).unwrap();
                assert_eq!(columns.len(), ds.interactions.len());
                assert_eq!(
                    columns.timestamps.len(),
                    if keep_time { columns.len() } else { 0 },
                    "times only when a decay needs them"
                );
                assert_eq!((cds.users.ids(), cds.items.ids()), (ds.users.ids(), ds.items.ids()));
                let from_columns = signal.columns_matrix(cds.n_users(), cds.n_items(), columns);
                assert_eq!(from_columns.by_user, from_log.by_user, "{signal:?} seed {seed}");
                assert_eq!(from_columns.by_item, from_log.by_item);

                // the rule written out: weights (or the last rating), decay, sums in input
                // order, non-positive totals dropped
                let explicit = signal.explicit(&ds);
                let now = ds.interactions.iter().map(|x| x.timestamp).max().unwrap();
                let mut by_hand: std::collections::BTreeMap<(u32, u32), f32> = Default::default();
                for x in &ds.interactions {
                    if explicit {
                        by_hand.insert((x.user, x.item), x.value);
                        continue;
                    }
                    if x.kind == EventKind::Rating && signal.positive_threshold.is_some_and(|t| x.value < t) {
                        continue;
                    }
                    let mut w = signal.weights.weight(x);
                    if w == 0.0 {
                        continue;
                    }
                    if let Some(days) = signal.half_life_days {
                        w = (w as f64 * 0.5f64.powf((now - x.timestamp) as f64 / (days * 86_400.0))) as f32;
                    }
                    *by_hand.entry((x.user, x.item)).or_insert(0.0) += w;
                }
                let expected: Vec<(u32, u32, f32)> =
                    by_hand.into_iter().filter(|&(_, v)| explicit || v > 0.0).map(|((u, i), v)| (u, i, v)).collect();
                let got: Vec<(u32, u32, f32)> = (0..from_log.n_users() as u32)
                    .flat_map(|u| {
                        let (items, values) = from_log.user_row(u);
                        items.iter().zip(values).map(move |(&i, &v)| (u, i, v))
                    })
                    .collect();
                assert_eq!(got, expected, "{signal:?} seed {seed}");
            }
        }
    }
}
