//! Model registry: name → constructor, used by `--model NAME`.

use daogou_core::Params;

use crate::{Error, Recommender, Result, TrainData};

/// A registered model.
pub struct ModelInfo {
    /// Name used on the command line.
    pub name: &'static str,
    /// One-line description for `--help`.
    pub about: &'static str,
    /// Hyperparameters it accepts, with their meaning and default.
    pub params: &'static [(&'static str, &'static str)],
    /// Fit on training data.
    pub fit: fn(&TrainData<'_>, &Params) -> Result<Box<dyn Recommender>>,
}

/// All registered models.
pub static MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "popularity",
        about: "most popular items first (distinct users; ties by summed value)",
        params: crate::popularity::PARAMS,
        fit: crate::popularity::fit,
    },
    ModelInfo {
        name: "baseline",
        about: "global mean + user and item biases (ALS, Surprise BaselineOnly)",
        params: crate::baseline::PARAMS,
        fit: crate::baseline::fit,
    },
    ModelInfo {
        name: "user-knn",
        about: "user-based k-nearest neighbours (mean-centred ratings; neighbourhood vote for top-N)",
        params: crate::user_knn::PARAMS,
        fit: crate::user_knn::fit,
    },
    ModelInfo {
        name: "item-knn",
        about: "item-based k-nearest neighbours (cosine/BM25/TF-IDF item lists; mean-centred ratings)",
        params: crate::item_knn::PARAMS,
        fit: crate::item_knn::fit,
    },
];

/// Registered model names.
pub fn model_names() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name).collect()
}

/// Fit model `name` with `params` on `train`.
pub fn build_model(name: &str, params: &Params, train: &TrainData<'_>) -> Result<Box<dyn Recommender>> {
    let info = MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::UnknownModel { name: name.to_owned(), available: model_names().join(", ") })?;
    (info.fit)(train, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use daogou_core::{Aggregate, Interaction, Interactions};

    #[test]
    fn every_model_builds_scores_finitely_and_rejects_typos() {
        let data: Vec<Interaction> =
            (0..60u32).map(|x| Interaction::new(x % 7, (x * 3) % 11, 1.0 + (x % 5) as f32)).collect();
        let m = Interactions::from_interactions(8, 12, &data, Aggregate::Last);
        for explicit in [true, false] {
            let t = TrainData { matrix: &m, explicit };
            for info in MODELS {
                let model = build_model(info.name, &Params::new(), &t).unwrap();
                assert_eq!(model.name(), info.name);
                assert_eq!(model.n_items(), 12);
                let mut s = vec![0.0; 12];
                for u in 0..8 {
                    model.score_user(u, &mut s);
                    assert!(s.iter().all(|x| !x.is_nan()), "{} user {u}: {s:?}", info.name);
                }
                model.score_history(&[(1, 4.0), (20, 1.0)], &mut s);
                assert!(s.iter().all(|x| !x.is_nan()), "{}: {s:?}", info.name);
                if let Some(p) = model.as_rating_predictor() {
                    let preds = p.predict_many(&[(0, 0), (7, 11), (3, 2)]);
                    assert!(preds.iter().all(|x| (1.0..=5.0).contains(x)), "{}: {preds:?}", info.name);
                }
                let err = build_model(info.name, &Params::new().with("nieghbours", 3), &t).err().unwrap().to_string();
                assert!(err.contains("nieghbours"), "{err}");
            }
        }
        assert!(build_model("svd++", &Params::new(), &TrainData { matrix: &m, explicit: true }).is_err());
    }
}
