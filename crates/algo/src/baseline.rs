//! `baseline`: global mean + user bias + item bias (Koren's baseline estimates).

use daogou_core::Params;

use crate::sim::{check_finite, clean_history, get_at_least, get_nonneg, value_stats};
use crate::{check_params, ModelState, RatingPredictor, Recommender, Result, Tensor, TrainData};

/// Parameters of `baseline` with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("reg_i", "regularisation of item biases (default 10)"),
    ("reg_u", "regularisation of user biases (default 15)"),
    ("epochs", "rounds of alternating least squares (default 10)"),
];

/// r̂(u,i) = μ + b_u + b_i, fitted by alternating least squares exactly as Surprise's
/// `BaselineOnly` with `method=als`: each round sets
/// b_i = Σ_u (r_ui − μ − b_u) / (reg_i + |U_i|), then b_u = Σ_i (r_ui − μ − b_i) / (reg_u + |I_u|).
/// Predictions are clipped to the training value range.
#[derive(Debug, Clone)]
pub struct Baseline {
    mean: f64,
    bu: Vec<f64>,
    bi: Vec<f64>,
    reg_u: f64,
    lo: f32,
    hi: f32,
    explicit: bool,
}

impl Baseline {
    /// Fit on `train`.
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        check_params(params, "baseline", &PARAMS.iter().map(|p| p.0).collect::<Vec<_>>())?;
        let reg_i = get_nonneg(params, "reg_i", 10.0)?;
        let reg_u = get_nonneg(params, "reg_u", 15.0)?;
        let epochs: usize = get_at_least(params, "epochs", 10, 1)?;
        let m = train.matrix;
        check_finite("baseline", &m.by_user)?;
        let (mean, lo, hi) = value_stats(&m.by_user);
        let mut bu = vec![0f64; m.n_users()];
        let mut bi = vec![0f64; m.n_items()];
        for _ in 0..epochs {
            for (i, b) in bi.iter_mut().enumerate() {
                let (us, rs) = m.by_item.row(i);
                let dev: f64 = us.iter().zip(rs).map(|(&u, &r)| f64::from(r) - mean - bu[u as usize]).sum();
                *b = dev / (reg_i + us.len() as f64);
            }
            for (u, b) in bu.iter_mut().enumerate() {
                let (is, rs) = m.by_user.row(u);
                let dev: f64 = is.iter().zip(rs).map(|(&i, &r)| f64::from(r) - mean - bi[i as usize]).sum();
                *b = dev / (reg_u + is.len() as f64);
            }
        }
        Ok(Baseline { mean, bu, bi, reg_u, lo, hi, explicit: train.explicit })
    }

    /// Global mean μ.
    pub fn global_mean(&self) -> f64 {
        self.mean
    }

    /// User bias b_u.
    pub fn user_bias(&self, u: u32) -> f64 {
        self.bu[u as usize]
    }

    /// Item bias b_i.
    pub fn item_bias(&self, i: u32) -> f64 {
        self.bi[i as usize]
    }

    fn clip(&self, x: f64) -> f32 {
        (x as f32).clamp(self.lo, self.hi)
    }
}

pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Baseline::fit(train, params)?))
}

pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(Baseline::from_state(s, "")?))
}

impl Baseline {
    /// Write the fitted biases into `s` under names starting with `prefix` (a model that
    /// embeds a baseline stores it next to its own arrays).
    pub fn write_state(&self, s: &mut ModelState, prefix: &str) {
        for (k, v) in [("mean", self.mean), ("reg_u", self.reg_u), ("lo", self.lo.into()), ("hi", self.hi.into())] {
            s.set_scalar(&format!("{prefix}{k}"), v);
        }
        s.set_scalar(&format!("{prefix}explicit"), f64::from(u8::from(self.explicit)));
        s.set(&format!("{prefix}user_bias"), Tensor::F64(self.bu.clone()));
        s.set(&format!("{prefix}item_bias"), Tensor::F64(self.bi.clone()));
    }

    /// Read back what [`Self::write_state`] wrote.
    pub fn from_state(s: &ModelState, prefix: &str) -> Result<Self> {
        let name = |k: &str| format!("{prefix}{k}");
        Ok(Baseline {
            mean: s.scalar(&name("mean"))?,
            bu: s.f64s(&name("user_bias"), None)?.to_vec(),
            bi: s.f64s(&name("item_bias"), None)?.to_vec(),
            reg_u: s.scalar(&name("reg_u"))?,
            lo: s.scalar(&name("lo"))? as f32,
            hi: s.scalar(&name("hi"))? as f32,
            explicit: s.flag(&name("explicit"))?,
        })
    }
}

impl RatingPredictor for Baseline {
    fn predict(&self, user: u32, item: u32) -> f32 {
        let bu = self.bu.get(user as usize).copied().unwrap_or(0.0);
        let bi = self.bi.get(item as usize).copied().unwrap_or(0.0);
        self.clip(self.mean + bu + bi)
    }
}

impl Recommender for Baseline {
    fn name(&self) -> &str {
        "baseline"
    }

    fn n_items(&self) -> usize {
        self.bi.len()
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.predict(user, i as u32);
        }
    }

    /// The user bias of the history is fitted against the item biases (one ALS half-step).
    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let (idx, val) = clean_history(history, self.bi.len());
        let dev: f64 = idx.iter().zip(&val).map(|(&i, &r)| f64::from(r) - self.mean - self.bi[i as usize]).sum();
        let bu = dev / (self.reg_u + idx.len() as f64);
        for (o, &bi) in out.iter_mut().zip(&self.bi) {
            *o = self.clip(self.mean + bu + bi);
        }
    }

    fn as_rating_predictor(&self) -> Option<&dyn RatingPredictor> {
        self.explicit.then_some(self as &dyn RatingPredictor)
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new("baseline", &Params::new());
        self.write_state(&mut s, "");
        s
    }
}
