//! Model registry: name → constructor, used by `--model NAME`.

use daogou_core::Params;

use crate::{Error, ModelState, Recommender, Result, TrainData};

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
    /// Rebuild a fitted model from its saved [`ModelState`].
    pub load: fn(&ModelState) -> Result<Box<dyn Recommender>>,
    /// Reads [`TrainData::events`] (times, kinds, order) besides the matrix. When false the
    /// caller may train from the matrix alone and free the events first (large data).
    pub reads_events: bool,
}

/// All registered models.
pub static MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "popularity",
        about: "most popular items first (distinct users; ties by summed value)",
        params: crate::popularity::PARAMS,
        fit: crate::popularity::fit,
        load: crate::popularity::load,
        reads_events: false,
    },
    ModelInfo {
        name: "buy-again",
        about: "the user's own past items by frequency and recency, then the popular ones (retail rebuys)",
        params: crate::buy_again::PARAMS,
        fit: crate::buy_again::fit,
        load: crate::buy_again::load,
        reads_events: true,
    },
    ModelInfo {
        name: "category-popularity",
        about: "popular items of the user's preferred categories, with a category prior that ranks items nobody bought yet",
        params: crate::category_popularity::PARAMS,
        fit: crate::category_popularity::fit,
        load: crate::category_popularity::load,
        reads_events: false,
    },
    ModelInfo {
        name: "baseline",
        about: "global mean + user and item biases (ALS, Surprise BaselineOnly)",
        params: crate::baseline::PARAMS,
        fit: crate::baseline::fit,
        load: crate::baseline::load,
        reads_events: false,
    },
    ModelInfo {
        name: "user-knn",
        about: "user-based k-nearest neighbours (mean-centred ratings; neighbourhood vote for top-N)",
        params: crate::user_knn::PARAMS,
        fit: crate::user_knn::fit,
        load: crate::user_knn::load,
        reads_events: false,
    },
    ModelInfo {
        name: "item-knn",
        about: "item-based k-nearest neighbours (cosine/BM25/TF-IDF item lists; mean-centred ratings)",
        params: crate::item_knn::PARAMS,
        fit: crate::item_knn::fit,
        load: crate::item_knn::load,
        reads_events: false,
    },
    ModelInfo {
        name: "als",
        about: "implicit-feedback matrix factorisation by weighted ALS, c = 1 + alpha·r (Hu, Koren & Volinsky; implicit's ALS)",
        params: crate::als::PARAMS,
        fit: crate::als::fit,
        load: crate::als::load,
        reads_events: false,
    },
    ModelInfo {
        name: "ease",
        about: "EASE (Steck 2019): closed-form dense item×item linear model, B = I − P·diagMat(1/diag P), P = (XᵀX + λI)⁻¹",
        params: crate::ease::PARAMS,
        fit: crate::ease::fit,
        load: crate::ease::load,
        reads_events: false,
    },
    ModelInfo {
        name: "bpr",
        about: "Bayesian Personalised Ranking: p_u·q_i + b_i by Hogwild SGD on (user, positive, negative) triples",
        params: crate::bpr::PARAMS,
        fit: crate::bpr::fit,
        load: crate::bpr::load,
        reads_events: false,
    },
    ModelInfo {
        name: "svd",
        about: "biased matrix factorisation by SGD, μ + b_u + b_i + p_u·q_i (Surprise SVD)",
        params: crate::svd::PARAMS,
        fit: crate::svd::fit,
        load: crate::svd::load,
        reads_events: false,
    },
    ModelInfo {
        name: "svdpp",
        about: "SVD++: matrix factorisation with implicit feedback from the rated items (Surprise SVDpp)",
        params: crate::svdpp::PARAMS,
        fit: crate::svdpp::fit,
        load: crate::svdpp::load,
        reads_events: false,
    },
    ModelInfo {
        name: "knn-baseline",
        about: "item-based k-NN on baseline residuals, pearson_baseline similarity (Surprise KNNBaseline)",
        params: crate::knn_baseline::PARAMS,
        fit: crate::knn_baseline::fit,
        load: crate::knn_baseline::load,
        reads_events: false,
    },
    ModelInfo {
        name: "slope-one",
        about: "Slope One: user mean + average rating deviation to the user's items (Surprise SlopeOne)",
        params: crate::slope_one::PARAMS,
        fit: crate::slope_one::fit,
        load: crate::slope_one::load,
        reads_events: false,
    },
];

/// Model families registered at run time by crates the algo crate cannot depend on (the deep
/// learning crate registers `ncf`, `two-tower`, … from the binary's `main`).
static EXTRA: std::sync::RwLock<Vec<&'static [ModelInfo]>> = std::sync::RwLock::new(Vec::new());

/// Add models to the registry (idempotent: registering the same list twice adds it once).
pub fn register_models(models: &'static [ModelInfo]) {
    let mut extra = EXTRA.write().unwrap_or_else(|e| e.into_inner());
    if !extra.iter().any(|m| std::ptr::eq(*m, models)) {
        extra.push(models);
    }
}

/// Every registered model: the built-in [`MODELS`] and those added by [`register_models`].
pub fn all_models() -> Vec<&'static ModelInfo> {
    let extra = EXTRA.read().unwrap_or_else(|e| e.into_inner());
    MODELS.iter().chain(extra.iter().flat_map(|m| m.iter())).collect()
}

/// The registered model called `name`.
pub fn find_model(name: &str) -> Option<&'static ModelInfo> {
    all_models().into_iter().find(|m| m.name == name)
}

/// Registered model names.
pub fn model_names() -> Vec<&'static str> {
    all_models().iter().map(|m| m.name).collect()
}

fn lookup(name: &str) -> Result<&'static ModelInfo> {
    find_model(name).ok_or_else(|| Error::UnknownModel { name: name.to_owned(), available: model_names().join(", ") })
}

/// Fit model `name` with `params` on `train`.
pub fn build_model(name: &str, params: &Params, train: &TrainData<'_>) -> Result<Box<dyn Recommender>> {
    (lookup(name)?.fit)(train, params)
}

/// Rebuild a fitted model from a saved state (the model named in `state.model`).
pub fn load_model(state: &ModelState) -> Result<Box<dyn Recommender>> {
    (lookup(&state.model)?.load)(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use daogou_core::{Aggregate, Interaction, Interactions};

    #[test]
    fn a_model_that_does_not_read_events_fits_the_same_without_them() {
        // what lets `daogou train` drop the event log before fitting such a model
        let events: Vec<Interaction> = (0..80u32)
            .map(|x| Interaction {
                timestamp: 1_000 + (x as i64 * 7919) % 500,
                kind: [daogou_core::EventKind::Purchase, daogou_core::EventKind::View][x as usize % 2],
                ..Interaction::new(x % 9, (x * 5) % 13, 1.0 + (x % 3) as f32)
            })
            .collect();
        let m = Interactions::from_interactions(9, 13, &events, Aggregate::Sum);
        for info in MODELS.iter().filter(|m| !m.reads_events) {
            let Ok(with) = build_model(info.name, &Params::new(), &TrainData::new(&m, false).with_events(&events))
            else {
                continue;
            };
            let without = build_model(info.name, &Params::new(), &TrainData::new(&m, false)).unwrap();
            let (mut a, mut b) = ([0f32; 13], [0f32; 13]);
            for u in 0..9 {
                with.score_user(u, &mut a);
                without.score_user(u, &mut b);
                assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{} user {u}", info.name);
            }
        }
        let buy_again = find_model("buy-again").unwrap();
        assert!(buy_again.reads_events, "buy-again orders by time and counts baskets");
    }

    #[test]
    fn every_model_builds_scores_finitely_and_rejects_typos() {
        let data: Vec<Interaction> =
            (0..60u32).map(|x| Interaction::new(x % 7, (x * 3) % 11, 1.0 + (x % 5) as f32)).collect();
        let m = Interactions::from_interactions(8, 12, &data, Aggregate::Last);
        for explicit in [true, false] {
            let t = TrainData::new(&m, explicit);
            for info in MODELS {
                let model = match build_model(info.name, &Params::new(), &t) {
                    // explicit-only models refuse implicit data, saying why
                    Err(Error::BadData { reason, .. }) if !explicit && reason.contains("explicit ratings") => continue,
                    built => built.unwrap(),
                };
                assert_eq!(model.name(), info.name);
                assert_eq!(model.n_items(), 12);
                let mut s = [0.0f32; 12];
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
                // saved and loaded: the same answers, bit for bit
                let loaded = load_model(&model.state()).unwrap();
                assert_eq!(loaded.name(), info.name);
                let mut s2 = [0.0f32; 12];
                for u in 0..8 {
                    model.score_user(u, &mut s);
                    loaded.score_user(u, &mut s2);
                    assert_eq!(s.map(f32::to_bits), s2.map(f32::to_bits), "{} user {u}", info.name);
                }
                model.score_history(&[(1, 4.0), (3, 2.0)], &mut s);
                loaded.score_history(&[(1, 4.0), (3, 2.0)], &mut s2);
                assert_eq!(s.map(f32::to_bits), s2.map(f32::to_bits), "{} history", info.name);
                if let (Some(a), Some(b)) = (model.as_rating_predictor(), loaded.as_rating_predictor()) {
                    let pairs = [(0, 0), (7, 11), (3, 2), (5, 4)];
                    assert_eq!(a.predict_many(&pairs), b.predict_many(&pairs), "{}", info.name);
                } else {
                    assert!(model.as_rating_predictor().is_none() && loaded.as_rating_predictor().is_none());
                }
                assert_eq!(model.similar_items(2, 3), loaded.similar_items(2, 3), "{}", info.name);
                // a state with an array removed is refused with its name
                let mut broken = model.state();
                if let Some(name) = broken.tensors.keys().next().cloned() {
                    broken.tensors.remove(&name);
                    let err = load_model(&broken).err().expect("broken state must not load").to_string();
                    assert!(err.contains(&name), "{}: {err}", info.name);
                }
                let err = build_model(info.name, &Params::new().with("nieghbours", 3), &t).err().unwrap().to_string();
                assert!(err.contains("nieghbours"), "{err}");
            }
        }
        assert!(build_model("svd++", &Params::new(), &TrainData::new(&m, true)).is_err());
    }
}
