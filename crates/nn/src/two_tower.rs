//! `two-tower`: a user tower and an item tower that meet in a dot product, trained with
//! in-batch sampled softmax (Yi et al. 2019, with their log-Q correction).
//!
//! * **Item tower** reads the item id, its category, brand, price band (quantiles of the
//!   catalogue's prices), price band within its category (quantiles of the category's prices:
//!   a shopper's price level is relative to the kind of product), its title (words of Latin
//!   script, and for Chinese, no tokenizer needed, every character and every pair of adjacent
//!   characters, plus the parts of the category path, hashed into `title_buckets` buckets and
//!   averaged) and its numeric attributes (any attribute that is a number for most items, such
//!   as a review count, as quantile bands, averaged). The seven embeddings are concatenated and
//!   go through a two-layer MLP.
//! * **User tower** reads the user id, the means over the history of the items (a separate
//!   history embedding), of their categories, brands and in-category price bands, and an
//!   activity band (⌊log₂(1 + items)⌋), through its own two-layer MLP.
//! * **Affinity shortcuts** beside the MLPs, for category, brand and in-category price band:
//!   the item vector is [MLP output; a_c(category); a_b(brand); a_p(band)] and the user vector
//!   [MLP output; the means of the same over the history], both normalised, so u·v gains
//!   learned category, brand and price-level affinities directly (category tastes, brand
//!   loyalty and price level are the strongest signals a cold item has). In training the
//!   item's parts are dropped with probability `id_dropout`, so the MLPs still learn tastes
//!   from the other features. An affinity row no training positive read is zero at inference.
//! * **Training**: a batch of B positive (user, item) pairs; each user's item is the positive
//!   and the other B − 1 items are the negatives (softmax over u·v / `temperature`, minus
//!   ln of each item's share of the positives so that popular items are not over-penalised for
//!   appearing often as negatives; duplicates of the positive are left out). A user's history
//!   leaves out the target item. Id embeddings are dropped (set to zero) with probability
//!   `id_dropout` and each item feature with probability `feature_dropout`, so the towers also
//!   learn to work from features alone and each feature carries the tastes on its own. The
//!   pooling and the loss run as fused kernels ([`crate::fused`]).
//! * **Cold items** (no training interactions) get a zero id vector at inference, the same
//!   zero the towers saw under id dropout, and are scored from their features; so are items in
//!   an ad-hoc history the model never saw. Feature tables (category, brand, price bands, title
//!   buckets, attribute bands, activity band) start at zero, so a value training never saw stays
//!   a neutral zero rather than random noise. The activity band is dropped together with the
//!   user id, and a band no training user had reads as zero. **Ad-hoc histories** go through
//!   the user tower with a zero user id.
//!
//! After training, every item's and every training user's vector is computed once in plain
//! `f32`; scoring is a dot product per item. Similar items are nearest item vectors; for a cold
//! item, the nearest feature-only vectors (see [`TwoTower::similar_items`]).

use std::cell::RefCell;
use std::collections::HashMap;

use candle_core::{DType, Tensor, Var};
use candle_nn::Optimizer;
use daogou_algo::topk::top_k;
use daogou_algo::{Error, ModelState, Recommender, Result, Tensor as StateTensor, TrainData};
use daogou_core::{Item, Params};

use crate::fused;
use crate::infer::{dot, normalize, relu, Dense};
use crate::train::{self, candle_err, Defaults, Holdout, Init, TrainConfig, Weights};

const MODEL: &str = "two-tower";

/// One-line description.
pub const ABOUT: &str = "two towers (user: id + history and its categories, brands, price levels + activity; item: id + category + brand + price bands + title tokens + numeric attributes) trained with in-batch sampled softmax; scores items with no interactions";

/// Hyperparameters with their meaning and default.
pub const PARAMS: &[(&str, &str)] = &[
    ("dim", "embedding and output size of both towers (default 32)"),
    ("hidden", "hidden width of each tower's MLP (default 64)"),
    ("temperature", "softmax temperature over cosine scores (default 0.1)"),
    ("id_dropout", "probability that an id embedding is zeroed in training (default 0.25)"),
    ("feature_dropout", "probability that each item feature (category, brand, price, title, attributes) is zeroed in training, so that each learns to carry the tastes alone (default 0.1)"),
    ("max_history", "most recent history items a user vector reads (default 50)"),
    ("title_buckets", "hash buckets of title and category tokens (default 4096)"),
    ("max_title_tokens", "title tokens kept per item (default 24)"),
    ("price_bands", "price bands (quantiles of the catalogue's prices, and of each category's) and bands of numeric attributes (default 8)"),
    ("numeric_attributes", "read item attributes that are numbers for most items (ratings, review counts, …) (default true)"),
    ("learning_rate", "AdamW step size (default 0.01)"),
    ("batch_size", "positive pairs per step; the in-batch negatives are the others (default 1024)"),
    ("epochs", "maximum passes over the positives (default 10)"),
    ("patience", "epochs without a better validation NDCG@10 before stopping (default 3)"),
    ("weight_decay", "AdamW decoupled weight decay (default 0.0001)"),
    ("validation", "users whose last event is held out for validation; 0 = none (default 500)"),
    ("seed", "seed of the initial weights, the batches, the dropout and the holdout (default 42)"),
    ("device", "cpu | cuda (cuda needs the `cuda` feature) (default cpu)"),
];

const DEFAULTS: Defaults =
    Defaults { learning_rate: 0.01, batch_size: 1024, epochs: 10, patience: 3, weight_decay: 1e-4, validation: 500 };

/// Activity bands ⌊log₂(1 + n)⌋, capped.
#[doc(hidden)]
pub const ACTIVITY_BANDS: usize = 16;

/// Item MLP input: id, category, brand, price band, price band in category, title tokens,
/// numeric attributes (each `dim` wide).
const ITEM_IN: usize = 7;
/// User MLP input: id, history items, and the history's categories, brands and price bands
/// in category, activity band.
const USER_IN: usize = 6;
/// The affinity shortcuts beside the MLPs: a learned table per item feature, read by the item
/// for its own value and by the user as the mean over the history.
const AFFINITY: [&str; 3] = ["cat_aff", "brand_aff", "rel_aff"];
/// Each tower's output: the MLP's `dim` values and `dim` per affinity shortcut.
const OUT: usize = 1 + AFFINITY.len();

#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub struct Hyper {
    dim: usize,
    hidden: usize,
    temperature: f32,
    id_dropout: f32,
    feature_dropout: f32,
    max_history: usize,
    buckets: usize,
    max_tokens: usize,
    bands: usize,
    numeric_attributes: bool,
}

impl Hyper {
    #[doc(hidden)]
    pub fn from_params(p: &Params) -> Result<(Self, TrainConfig)> {
        let known: Vec<&str> = PARAMS.iter().map(|x| x.0).collect();
        p.check_known(MODEL, &known)?;
        let cfg = TrainConfig::from_params(p, &DEFAULTS)?;
        let ranged = |key: &str, default: usize, lo: usize, hi: usize| -> Result<usize> {
            let v: usize = p.get(key, default)?;
            if !(lo..=hi).contains(&v) {
                return Err(Params::invalid(key, v, &format!("must be between {lo} and {hi}")).into());
            }
            Ok(v)
        };
        let temperature: f32 = p.get("temperature", 0.1)?;
        if !(temperature > 0.0 && temperature.is_finite()) {
            return Err(Params::invalid("temperature", temperature, "must be a positive number").into());
        }
        let id_dropout: f32 = p.get("id_dropout", 0.25)?;
        if !(0.0..1.0).contains(&id_dropout) {
            return Err(Params::invalid("id_dropout", id_dropout, "must be in [0, 1)").into());
        }
        let feature_dropout: f32 = p.get("feature_dropout", 0.1)?;
        if !(0.0..1.0).contains(&feature_dropout) {
            return Err(Params::invalid("feature_dropout", feature_dropout, "must be in [0, 1)").into());
        }
        let h = Hyper {
            dim: ranged("dim", 32, 1, 4096)?,
            hidden: ranged("hidden", 64, 1, 4096)?,
            temperature,
            id_dropout,
            feature_dropout,
            max_history: ranged("max_history", 50, 1, 10_000)?,
            buckets: ranged("title_buckets", 4096, 1, 1 << 22)?,
            max_tokens: ranged("max_title_tokens", 24, 1, 1024)?,
            bands: ranged("price_bands", 8, 1, 1000)?,
            numeric_attributes: p.get("numeric_attributes", true)?,
        };
        Ok((h, cfg))
    }
}

/// Hash of a token (FNV-1a, stable across runs and platforms).
#[doc(hidden)]
pub fn fnv(prefix: u8, s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in std::iter::once(prefix).chain(s.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Token hashes of a text: lower-cased words of letters and digits, and for runs of Chinese
/// characters every character and every adjacent pair (no dictionary needed). Deduplicated,
/// in order of first appearance.
pub fn text_tokens(text: &str) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut push = |h: u64| {
        if !out.contains(&h) {
            out.push(h);
        }
    };
    let mut word = String::new();
    let mut prev_cjk: Option<char> = None;
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_cjk(c) {
            if !word.is_empty() {
                push(fnv(b'w', &word));
                word.clear();
            }
            let mut buf = [0u8; 4];
            push(fnv(b'c', c.encode_utf8(&mut buf)));
            if let Some(p) = prev_cjk {
                push(fnv(b'b', &format!("{p}{c}")));
            }
            prev_cjk = Some(c);
        } else {
            prev_cjk = None;
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else if !word.is_empty() {
                push(fnv(b'w', &word));
                word.clear();
            }
        }
    }
    out
}

/// Per-item features as indices (0 = missing everywhere).
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub struct Features {
    n_items: usize,
    cat: Vec<u32>,
    n_cats: usize,
    brand: Vec<u32>,
    n_brands: usize,
    /// Price band over the whole catalogue.
    pub band: Vec<u32>,
    /// Price band within the item's own category (cheap, mid, premium for its kind).
    pub rel: Vec<u32>,
    /// n_items × max_tokens bucket ids (1-based; 0 = padding).
    tokens: Vec<u32>,
    /// Numeric attributes (review score, review count, …): n_items × n_attrs rows of the
    /// `attr` table, `1 + k·bands + (band − 1)` for attribute k's quantile band; 0 = missing.
    pub attrs: Vec<u32>,
    pub n_attrs: usize,
    /// Items with training interactions (the others get a zero id vector).
    known: Vec<u32>,
}

/// Which item features the catalogue has at all, and the longest token list: training skips
/// the gathers of a feature nobody has (MovieLens has none) and reads only `t_len` token slots.
#[derive(Debug, Clone, Copy)]
struct Present {
    cat: bool,
    brand: bool,
    band: bool,
    t_len: usize,
}

impl Features {
    fn present(&self, max_tokens: usize) -> Present {
        let t_len = self.tokens.chunks_exact(max_tokens).map(|r| r.iter().filter(|&&t| t != 0).count()).max();
        Present {
            cat: self.cat.iter().any(|&c| c != 0),
            brand: self.brand.iter().any(|&c| c != 0),
            band: self.band.iter().any(|&c| c != 0),
            t_len: t_len.unwrap_or(0),
        }
    }

    /// The `attr` rows of item `i` (0 = missing).
    fn attrs_of(&self, i: usize) -> &[u32] {
        &self.attrs[i * self.n_attrs..(i + 1) * self.n_attrs]
    }
}

/// Band 1…`bands` of `x` by the quantile edges `edges` (sorted).
fn band_of(x: f64, edges: &[f64]) -> u32 {
    1 + edges.partition_point(|&e| e <= x) as u32
}

/// Edges at the quantiles 1/b … (b−1)/b of `values` (sorted in place).
fn quantile_edges(values: &mut [f64], bands: usize) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    (1..bands).filter_map(|q| values.get(q * values.len() / bands).copied()).collect()
}

use daogou_core::numeric_attribute_keys as numeric_attributes;

impl Features {
    #[doc(hidden)]
    pub fn build(items: &[Item], n_items: usize, h: &Hyper, known: Vec<u32>) -> Self {
        let items = &items[..n_items.min(items.len())];
        let mut cats: HashMap<&str, u32> = HashMap::new();
        let mut brands: HashMap<&str, u32> = HashMap::new();
        let mut cat = vec![0u32; n_items];
        let mut brand = vec![0u32; n_items];
        let mut tokens = vec![0u32; n_items * h.max_tokens];
        let price = |it: &Item| it.price.filter(|p| p.is_finite());
        let mut prices: Vec<f64> = items.iter().filter_map(price).collect();
        let edges = quantile_edges(&mut prices, h.bands);
        let mut band = vec![0u32; n_items];
        for (i, it) in items.iter().enumerate() {
            if let Some(c) = it.category.as_deref().filter(|c| !c.is_empty()) {
                let next = cats.len() as u32 + 1;
                cat[i] = *cats.entry(c).or_insert(next);
            }
            if let Some(b) = it.brand.as_deref().filter(|b| !b.is_empty()) {
                let next = brands.len() as u32 + 1;
                brand[i] = *brands.entry(b).or_insert(next);
            }
            if let Some(p) = price(it) {
                band[i] = band_of(p, &edges);
            }
            let mut toks = text_tokens(&it.title);
            for part in it.category.as_deref().unwrap_or("").split(['/', '>', '|']) {
                let part = part.trim();
                if !part.is_empty() {
                    let h = fnv(b'k', part);
                    if !toks.contains(&h) {
                        toks.push(h);
                    }
                }
            }
            for (slot, t) in tokens[i * h.max_tokens..(i + 1) * h.max_tokens].iter_mut().zip(toks) {
                *slot = 1 + (t % h.buckets as u64) as u32;
            }
        }
        // price bands within each category (items without a category share one)
        let mut by_cat: Vec<Vec<f64>> = vec![Vec::new(); cats.len() + 1];
        for (i, it) in items.iter().enumerate() {
            if let Some(p) = price(it) {
                by_cat[cat[i] as usize].push(p);
            }
        }
        let cat_edges: Vec<Vec<f64>> = by_cat.iter_mut().map(|v| quantile_edges(v, h.bands)).collect();
        let rel: Vec<u32> = (0..n_items)
            .map(|i| items.get(i).and_then(price).map_or(0, |p| band_of(p, &cat_edges[cat[i] as usize])))
            .collect();
        let keys = if h.numeric_attributes { numeric_attributes(items) } else { Vec::new() };
        let mut attrs = vec![0u32; n_items * keys.len()];
        for (k, key) in keys.iter().enumerate() {
            let value =
                |it: &Item| it.attributes.get(key).and_then(|v| v.trim().parse::<f64>().ok()).filter(|x| x.is_finite());
            let mut values: Vec<f64> = items.iter().filter_map(value).collect();
            let edges = quantile_edges(&mut values, h.bands);
            for (i, it) in items.iter().enumerate() {
                if let Some(x) = value(it) {
                    attrs[i * keys.len() + k] = 1 + (k * h.bands) as u32 + band_of(x, &edges) - 1;
                }
            }
        }
        Features {
            n_items,
            cat,
            n_cats: cats.len() + 1,
            brand,
            n_brands: brands.len() + 1,
            band,
            rel,
            tokens,
            attrs,
            n_attrs: keys.len(),
            known,
        }
    }

    fn save(&self, s: &mut ModelState) {
        s.set_scalar("n_cats", self.n_cats as f64);
        s.set_scalar("n_brands", self.n_brands as f64);
        s.set_scalar("n_attrs", self.n_attrs as f64);
        s.set("f.cat", StateTensor::U32(self.cat.clone()));
        s.set("f.brand", StateTensor::U32(self.brand.clone()));
        s.set("f.band", StateTensor::U32(self.band.clone()));
        s.set("f.rel", StateTensor::U32(self.rel.clone()));
        s.set("f.tokens", StateTensor::U32(self.tokens.clone()));
        s.set("f.attrs", StateTensor::U32(self.attrs.clone()));
        s.set("f.known", StateTensor::U32(self.known.clone()));
    }

    fn load(s: &ModelState, n_items: usize, h: &Hyper) -> Result<Self> {
        let n_attrs = s.count("n_attrs")?;
        let f = Features {
            n_items,
            n_cats: s.count("n_cats")?,
            n_brands: s.count("n_brands")?,
            cat: s.u32s("f.cat", Some(n_items))?.to_vec(),
            brand: s.u32s("f.brand", Some(n_items))?.to_vec(),
            band: s.u32s("f.band", Some(n_items))?.to_vec(),
            rel: s.u32s("f.rel", Some(n_items))?.to_vec(),
            tokens: s.u32s("f.tokens", Some(n_items * h.max_tokens))?.to_vec(),
            attrs: s.u32s("f.attrs", Some(n_items * n_attrs))?.to_vec(),
            n_attrs,
            known: s.u32s("f.known", Some(n_items))?.to_vec(),
        };
        let bad = |what: &str| Error::BadState { model: MODEL.into(), reason: format!("`{what}` index out of range") };
        if f.cat.iter().any(|&c| c as usize >= f.n_cats) {
            return Err(bad("f.cat"));
        }
        if f.brand.iter().any(|&c| c as usize >= f.n_brands) {
            return Err(bad("f.brand"));
        }
        if f.band.iter().chain(&f.rel).any(|&c| c as usize > h.bands) {
            return Err(bad("f.band"));
        }
        if f.tokens.iter().any(|&c| c as usize > h.buckets) {
            return Err(bad("f.tokens"));
        }
        if f.attrs.iter().any(|&c| c as usize > n_attrs * h.bands) {
            return Err(bad("f.attrs"));
        }
        Ok(f)
    }
}

#[doc(hidden)]
pub fn activity(n: usize) -> usize {
    ((usize::BITS - (n + 1).leading_zeros()) as usize - 1).min(ACTIVITY_BANDS - 1)
}

/// Names and shapes of every learned array.
fn spec(h: &Hyper, n_users: usize, f: &Features) -> Vec<(&'static str, Vec<usize>)> {
    let d = h.dim;
    vec![
        ("item_id", vec![f.n_items, d]),
        ("cat", vec![f.n_cats, d]),
        ("brand", vec![f.n_brands, d]),
        ("band", vec![h.bands + 1, d]),
        ("token", vec![h.buckets + 1, d]),
        ("rel", vec![h.bands + 1, d]),
        ("attr", vec![1 + f.n_attrs * h.bands, d]),
        ("cat_aff", vec![f.n_cats, d]),
        ("brand_aff", vec![f.n_brands, d]),
        ("rel_aff", vec![h.bands + 1, d]),
        ("item1.w", vec![h.hidden, ITEM_IN * d]),
        ("item1.b", vec![h.hidden]),
        ("item2.w", vec![d, h.hidden]),
        ("item2.b", vec![d]),
        ("user_id", vec![n_users, d]),
        ("hist", vec![f.n_items, d]),
        ("activity", vec![ACTIVITY_BANDS, d]),
        ("user1.w", vec![h.hidden, USER_IN * d]),
        ("user1.b", vec![h.hidden]),
        ("user2.w", vec![d, h.hidden]),
        ("user2.b", vec![d]),
    ]
}

/// The trained towers, frozen into plain arrays, with every item's and user's vector.
#[derive(Debug, Clone)]
pub struct TwoTower {
    h: Hyper,
    params: Params,
    n_users: usize,
    feats: Features,
    weights: Weights,
    /// Training histories, most recent first (CSR).
    hist_ptr: Vec<u64>,
    hist_items: Vec<u32>,
    // derived
    item1: Dense,
    item2: Dense,
    user1: Dense,
    user2: Dense,
    item_vecs: Vec<f32>,
    /// Every item's vector from its features alone (id zeroed), its MLP part taken relative
    /// to that of an item with no features at all: what a cold item is compared with when
    /// asked for its similar items (what the features say, not the tower's shared bias).
    /// Computed on the first such request: training snapshots and most services never need it.
    content_vecs: std::sync::OnceLock<Vec<f32>>,
    user_vecs: Vec<f32>,
    /// Activity bands some training user had (the others read as zero, as under dropout).
    seen_bands: [bool; ACTIVITY_BANDS],
}

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl TwoTower {
    fn new(
        h: Hyper,
        params: Params,
        n_users: usize,
        feats: Features,
        weights: Weights,
        hist_ptr: Vec<u64>,
        hist_items: Vec<u32>,
    ) -> Self {
        let d = h.dim;
        let mut t = TwoTower {
            item1: Dense::from_weights(&weights, "item1.w", "item1.b"),
            item2: Dense::from_weights(&weights, "item2.w", "item2.b"),
            user1: Dense::from_weights(&weights, "user1.w", "user1.b"),
            user2: Dense::from_weights(&weights, "user2.w", "user2.b"),
            item_vecs: vec![0f32; feats.n_items * OUT * d],
            content_vecs: std::sync::OnceLock::new(),
            user_vecs: vec![0f32; n_users * OUT * d],
            seen_bands: {
                let mut seen = [false; ACTIVITY_BANDS];
                for w in hist_ptr.windows(2).filter(|w| w[1] > w[0]) {
                    seen[activity((w[1] - w[0]) as usize)] = true;
                }
                seen
            },
            h,
            params,
            n_users,
            feats,
            weights,
            hist_ptr,
            hist_items,
        };
        let mut x = vec![0f32; ITEM_IN * d];
        let mut hid = vec![0f32; t.h.hidden];
        let mut item_vecs = std::mem::take(&mut t.item_vecs);
        for (i, out) in item_vecs.chunks_exact_mut(OUT * d).enumerate() {
            t.item_vector(i, true, None, &mut x, &mut hid, out);
        }
        t.item_vecs = item_vecs;
        let mut user_vecs = std::mem::take(&mut t.user_vecs);
        let mut xu = vec![0f32; USER_IN * d];
        for (u, out) in user_vecs.chunks_exact_mut(OUT * d).enumerate() {
            let (a, b) = (t.hist_ptr[u] as usize, t.hist_ptr[u + 1] as usize);
            let items = &t.hist_items[a..b];
            t.user_vector(Some(u), items.iter().copied(), items.len(), &mut xu, &mut hid, out);
        }
        t.user_vecs = user_vecs;
        t
    }

    /// See the field `content_vecs`.
    fn content_vecs(&self) -> &[f32] {
        self.content_vecs.get_or_init(|| {
            let d = self.h.dim;
            let mut x = vec![0f32; ITEM_IN * d];
            let mut hid = vec![0f32; self.h.hidden];
            // the item MLP's output for an item without id or features
            let mut blank = vec![0f32; d];
            self.item1.forward(&x, &mut hid);
            relu(&mut hid);
            self.item2.forward(&hid, &mut blank);
            let mut vecs = vec![0f32; self.feats.n_items * OUT * d];
            for (i, out) in vecs.chunks_exact_mut(OUT * d).enumerate() {
                self.item_vector(i, false, Some(&blank), &mut x, &mut hid, out);
            }
            vecs
        })
    }

    fn row<'a>(&'a self, name: &str, r: usize) -> &'a [f32] {
        let d = self.h.dim;
        &self.weights.data(name)[r * d..(r + 1) * d]
    }

    /// The values of an item's single-valued features that the user side pools, as
    /// (table, row): the MLP inputs category, brand, price band in category, and the affinity
    /// shortcuts of the same three.
    fn pooled(&self, i: usize) -> [(&'static str, usize); 6] {
        let f = &self.feats;
        let (c, b, r) = (f.cat[i] as usize, f.brand[i] as usize, f.rel[i] as usize);
        [("cat", c), ("brand", b), ("rel", r), (AFFINITY[0], c), (AFFINITY[1], b), (AFFINITY[2], r)]
    }

    /// The item tower in plain f32 (x: ITEM_IN·dim, hid: hidden, out: OUT·dim); `with_id`
    /// false reads the features alone (as for a cold item); `centre` is subtracted from the
    /// MLP output before normalising.
    fn item_vector(
        &self,
        i: usize,
        with_id: bool,
        centre: Option<&[f32]>,
        x: &mut [f32],
        hid: &mut [f32],
        out: &mut [f32],
    ) {
        let d = self.h.dim;
        let f = &self.feats;
        let mut parts = x.chunks_exact_mut(d);
        let mut next = || parts.next().expect("ITEM_IN parts");
        let id = next();
        if with_id && f.known[i] != 0 {
            id.copy_from_slice(self.row("item_id", i));
        } else {
            id.fill(0.0);
        }
        next().copy_from_slice(self.row("cat", f.cat[i] as usize));
        next().copy_from_slice(self.row("brand", f.brand[i] as usize));
        next().copy_from_slice(self.row("band", f.band[i] as usize));
        next().copy_from_slice(self.row("rel", f.rel[i] as usize));
        let toks = &f.tokens[i * self.h.max_tokens..(i + 1) * self.h.max_tokens];
        self.mean_rows(next(), "token", toks);
        self.mean_rows(next(), "attr", f.attrs_of(i));
        self.item1.forward(x, hid);
        relu(hid);
        let (mlp, aff) = out.split_at_mut(d);
        self.item2.forward(hid, mlp);
        for (m, c) in mlp.iter_mut().zip(centre.unwrap_or(&[])) {
            *m -= c;
        }
        for ((part, table), (_, row)) in aff.chunks_exact_mut(d).zip(AFFINITY).zip(&self.pooled(i)[3..]) {
            part.copy_from_slice(self.row(table, *row));
        }
        normalize(out);
    }

    /// `dst` = the mean of the rows `ids` of `table`, skipping 0 (padding); zero if none.
    fn mean_rows(&self, dst: &mut [f32], table: &str, ids: &[u32]) {
        dst.fill(0.0);
        let n = ids.iter().filter(|&&t| t != 0).count();
        for &t in ids.iter().filter(|&&t| t != 0) {
            for (b, v) in dst.iter_mut().zip(self.row(table, t as usize)) {
                *b += v / n as f32;
            }
        }
    }

    /// The user tower in plain f32 over `items` (the `count` most recent history items).
    fn user_vector(
        &self,
        user: Option<usize>,
        items: impl Iterator<Item = u32> + Clone,
        count: usize,
        x: &mut [f32],
        hid: &mut [f32],
        out: &mut [f32],
    ) {
        let d = self.h.dim;
        match user {
            Some(u) => x[..d].copy_from_slice(self.row("user_id", u)),
            None => x[..d].fill(0.0),
        }
        x[d..(USER_IN - 1) * d].fill(0.0);
        out.fill(0.0);
        let w = if count > 0 { 1.0 / count as f32 } else { 0.0 };
        for i in items {
            let i = i as usize;
            if self.feats.known[i] != 0 {
                for (a, v) in x[d..2 * d].iter_mut().zip(self.row("hist", i)) {
                    *a += w * v;
                }
            }
            // category, brand, price band in category: MLP inputs 2..5, affinity parts 1..4
            let pooled = self.pooled(i);
            let targets = x[2 * d..5 * d].chunks_exact_mut(d).chain(out[d..].chunks_exact_mut(d));
            for (dst, (table, row)) in targets.zip(pooled) {
                for (a, v) in dst.iter_mut().zip(self.row(table, row)) {
                    *a += w * v;
                }
            }
        }
        let band = activity(count);
        let act = &mut x[(USER_IN - 1) * d..];
        if self.seen_bands[band] {
            act.copy_from_slice(self.row("activity", band));
        } else {
            act.fill(0.0);
        }
        self.user1.forward(x, hid);
        relu(hid);
        self.user2.forward(hid, &mut out[..d]);
        normalize(out);
    }

    fn score_vector(&self, v: &[f32], out: &mut [f32]) {
        for (o, iv) in out.iter_mut().zip(self.item_vecs.chunks_exact(OUT * self.h.dim)) {
            *o = dot(v, iv);
        }
    }

    /// Fit on `train` (see the module docs).
    pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Self> {
        let (h, cfg) = Hyper::from_params(params)?;
        let (n_users, n_items) = (train.matrix.n_users(), train.matrix.n_items());
        if train.matrix.by_user.data().iter().any(|v| !v.is_finite()) {
            return Err(Error::BadData { model: MODEL.into(), reason: "training values must be finite".into() });
        }
        let holdout = Holdout::last_event(train, cfg.validation, cfg.seed);
        let m = &holdout.train;
        // each user's positive items, most recent first (by the event log; index order without one)
        let mut last_seen: HashMap<(u32, u32), i64> = HashMap::new();
        for e in train.events {
            let t = last_seen.entry((e.user, e.item)).or_insert(i64::MIN);
            *t = (*t).max(e.timestamp);
        }
        let mut hist_ptr = vec![0u64];
        let mut hist_items: Vec<u32> = Vec::new();
        let mut positives: Vec<(u32, u32)> = Vec::new();
        let mut item_count = vec![0u32; n_items];
        for u in 0..n_users as u32 {
            let (items, vals) = m.user_row(u);
            let mut pos: Vec<u32> = items.iter().zip(vals).filter(|(_, &v)| v > 0.0).map(|(&i, _)| i).collect();
            for &i in &pos {
                positives.push((u, i));
                item_count[i as usize] += 1;
            }
            pos.sort_by_key(|&i| (std::cmp::Reverse(last_seen.get(&(u, i)).copied().unwrap_or(i64::MIN)), i));
            pos.truncate(h.max_history);
            hist_items.extend_from_slice(&pos);
            hist_ptr.push(hist_items.len() as u64);
        }
        if positives.is_empty() {
            return Err(Error::BadData {
                model: MODEL.into(),
                reason: "no positive interactions to learn from".into(),
            });
        }
        let known: Vec<u32> = item_count.iter().map(|&c| u32::from(c > 0)).collect();
        let feats = Features::build(train.items, n_items, &h, known);
        let log_q: Vec<f32> = item_count.iter().map(|&c| ((c.max(1)) as f32 / positives.len() as f32).ln()).collect();

        let dev = cfg.device(MODEL)?;
        let err = candle_err(MODEL);
        let mut init = Init::new(cfg.seed);
        let mut vars: Vec<(&'static str, Var)> = Vec::new();
        for (name, shape) in spec(&h, n_users, &feats) {
            // Feature tables start at zero: a row that training never touches (a category,
            // word or activity band first seen at inference) then stays a neutral zero.
            let v = if name.ends_with(".b")
                || ["cat", "brand", "band", "rel", "token", "attr", "activity"].contains(&name)
            {
                Init::zeros(&shape, &dev)
            } else if name.ends_with(".w") {
                init.glorot(shape[0], shape[1], &dev)
            } else {
                init.normal(&shape, 0.1, &dev)
            }
            .map_err(&err)?;
            vars.push((name, v));
        }
        let mut opt = train::adamw(vars.iter().map(|(_, v)| v.clone()).collect(), &cfg).map_err(&err)?;
        let var = |name: &str| -> &Var { &vars.iter().find(|(n, _)| *n == name).expect("declared in spec").1 };
        let (d, t_max, l_max) = (h.dim, h.max_tokens, h.max_history);
        let has = feats.present(t_max);
        let t_len = has.t_len;
        let n_attrs = feats.n_attrs;
        // per item, the rows of the three affinity tables (category, brand, price band in
        // category); a row no training positive reads keeps no trained affinity
        let aff_rows = |i: usize| [feats.cat[i], feats.brand[i], feats.rel[i]];
        let aff_on = [has.cat, has.brand, has.band];
        let aff_sizes = [feats.n_cats, feats.n_brands, h.bands + 1];
        let mut trained: Vec<Vec<bool>> = aff_sizes.iter().map(|&n| vec![false; n]).collect();
        for &(_, i) in &positives {
            for ((t, r), on) in trained.iter_mut().zip(aff_rows(i as usize)).zip(aff_on) {
                t[r as usize] |= on;
            }
        }
        let n_batches = positives.len().div_ceil(cfg.batch_size);
        let mut order = positives.clone();
        let inv_t = 1.0 / h.temperature;
        let mut step = |_epoch: usize, b: usize| -> Result<f32> {
            if b == 0 {
                for i in (1..order.len()).rev() {
                    order.swap(i, init.below(i + 1));
                }
            }
            let chunk = &order[b * cfg.batch_size..((b + 1) * cfg.batch_size).min(order.len())];
            let bs = chunk.len();
            let keep = |init: &mut Init| if init.unit() < h.id_dropout { 0f32 } else { 1f32 };
            // item side: one row per positive
            let (mut iid, mut ikeep, mut icat, mut ibrand, mut iband, mut irel) =
                (vec![], vec![], vec![], vec![], vec![], vec![]);
            let mut akeep: [Vec<f32>; 3] = Default::default();
            // category, brand, price band, band in category, title, attributes
            let mut fkeep: [Vec<f32>; 6] = Default::default();
            let fdrop = |init: &mut Init| if init.unit() < h.feature_dropout { 0f32 } else { 1f32 };
            let (mut tok, mut tokw) = (Vec::with_capacity(bs * t_len), Vec::with_capacity(bs * t_len));
            let (mut attr, mut attrw) = (Vec::with_capacity(bs * n_attrs), Vec::with_capacity(bs * n_attrs));
            // user side: the user's history without the target item, pooled
            let (mut uid, mut ukeep, mut act) = (vec![], vec![], vec![]);
            let mut hist = vec![0u32; bs * l_max];
            let mut hfeat: [Vec<u32>; 3] = std::array::from_fn(|_| vec![0u32; bs * l_max]);
            let mut histw = vec![0f32; bs * l_max];
            let pool = |ids: &[u32], n: usize, keep: f32, out: &mut Vec<u32>, w: &mut Vec<f32>| {
                let k = ids.iter().filter(|&&t| t != 0).count().max(1) as f32;
                for &t in &ids[..n] {
                    out.push(t);
                    w.push(if t != 0 { keep / k } else { 0.0 });
                }
            };
            for (r, &(u, i)) in chunk.iter().enumerate() {
                let iu = i as usize;
                iid.push(i);
                ikeep.push(keep(&mut init));
                for k in &mut akeep {
                    k.push(keep(&mut init));
                }
                for k in &mut fkeep {
                    k.push(fdrop(&mut init));
                }
                icat.push(feats.cat[iu]);
                ibrand.push(feats.brand[iu]);
                iband.push(feats.band[iu]);
                irel.push(feats.rel[iu]);
                pool(&feats.tokens[iu * t_max..(iu + 1) * t_max], t_len, fkeep[4][r], &mut tok, &mut tokw);
                pool(feats.attrs_of(iu), n_attrs, fkeep[5][r], &mut attr, &mut attrw);
                uid.push(u);
                ukeep.push(keep(&mut init));
                let items = &hist_items[hist_ptr[u as usize] as usize..hist_ptr[u as usize + 1] as usize];
                let others = items.iter().filter(|&&j| j != i).count();
                act.push(activity(items.len()) as u32);
                for (slot, &j) in (r * l_max..).zip(items.iter().filter(|&&j| j != i)) {
                    hist[slot] = j;
                    for (f, v) in hfeat.iter_mut().zip(aff_rows(j as usize)) {
                        f[slot] = v;
                    }
                    histw[slot] = 1.0 / others as f32;
                }
            }
            // the log-Q correction: minus ln of each column item's share of the positives
            let col_bias: Vec<f32> = iid.iter().map(|&i| -log_q[i as usize]).collect();
            let loss = (|| -> candle_core::Result<f32> {
                let bag = |table: &str, ids: &[u32], w: &[f32], len: usize| -> candle_core::Result<Tensor> {
                    fused::embedding_bag(var(table), ids, w, len)
                };
                let zeros = || Tensor::zeros((bs, d), DType::F32, &dev);
                let feature = |on: bool, table: &str, ids: &[u32], keep: &[f32]| -> candle_core::Result<Tensor> {
                    if on {
                        bag(table, ids, keep, 1)
                    } else {
                        zeros()
                    }
                };
                let pooled = |on: bool, table: &str, ids: &[u32]| -> candle_core::Result<Tensor> {
                    if on {
                        bag(table, ids, &histw, l_max)
                    } else {
                        zeros()
                    }
                };
                let unit = |x: Tensor| -> candle_core::Result<Tensor> {
                    let n = (x.sqr()?.sum_keepdim(1)? + 1e-12)?.sqrt()?;
                    x.broadcast_div(&n)
                };
                let mlp = |x: &Tensor, l1: &str, l2: &str| -> candle_core::Result<Tensor> {
                    let hdn =
                        x.matmul(&var(&format!("{l1}.w")).t()?)?.broadcast_add(var(&format!("{l1}.b")))?.relu()?;
                    hdn.matmul(&var(&format!("{l2}.w")).t()?)?.broadcast_add(var(&format!("{l2}.b")))
                };
                let item_x = Tensor::cat(
                    &[
                        bag("item_id", &iid, &ikeep, 1)?,
                        feature(has.cat, "cat", &icat, &fkeep[0])?,
                        feature(has.brand, "brand", &ibrand, &fkeep[1])?,
                        feature(has.band, "band", &iband, &fkeep[2])?,
                        feature(has.band, "rel", &irel, &fkeep[3])?,
                        if t_len > 0 { bag("token", &tok, &tokw, t_len)? } else { zeros()? },
                        if n_attrs > 0 { bag("attr", &attr, &attrw, n_attrs)? } else { zeros()? },
                    ],
                    1,
                )?;
                let user_x = Tensor::cat(
                    &[
                        bag("user_id", &uid, &ukeep, 1)?,
                        bag("hist", &hist, &histw, l_max)?,
                        pooled(has.cat, "cat", &hfeat[0])?,
                        pooled(has.brand, "brand", &hfeat[1])?,
                        pooled(has.band, "rel", &hfeat[2])?,
                        bag("activity", &act, &ukeep, 1)?,
                    ],
                    1,
                )?;
                let mut iparts = vec![mlp(&item_x, "item1", "item2")?];
                let mut uparts = vec![mlp(&user_x, "user1", "user2")?];
                // the affinity shortcuts: u·v gains mean_h a(f(h))·a(f(i)) per feature f; the
                // item's part is dropped like an id, so that the MLPs also learn tastes alone
                for (k, (table, on)) in AFFINITY.iter().zip(aff_on).enumerate() {
                    if on {
                        let ids: Vec<u32> = iid.iter().map(|&i| aff_rows(i as usize)[k]).collect();
                        iparts.push(bag(table, &ids, &akeep[k], 1)?);
                        uparts.push(pooled(true, table, &hfeat[k])?);
                    }
                }
                let (iv, uv) = (unit(Tensor::cat(&iparts, 1)?)?, unit(Tensor::cat(&uparts, 1)?)?);
                // row r's positive is column r; the other columns are its negatives
                let loss = fused::in_batch_softmax_loss(&uv.matmul(&iv.t()?)?, inv_t, &col_bias, &iid)?;
                opt.backward_step(&loss)?;
                loss.to_scalar::<f32>()
            })()
            .map_err(&err)?;
            Ok(loss)
        };
        let snapshot = || -> Result<TwoTower> {
            let named: Vec<(&str, &Var)> = vars.iter().map(|(n, v)| (*n, v)).collect();
            let mut w = Weights::from_vars(&named).map_err(&err)?;
            // an affinity row that training never read stays zero, not random
            for ((table, rows), n) in AFFINITY.iter().zip(&trained).zip(aff_sizes) {
                let mut aff = w.data(table).to_vec();
                for (row, _) in aff.chunks_exact_mut(d).zip(rows).filter(|(_, &t)| !t) {
                    row.fill(0.0);
                }
                w.insert(table, vec![n, d], aff);
            }
            Ok(TwoTower::new(
                h.clone(),
                params.clone(),
                n_users,
                feats.clone(),
                w,
                hist_ptr.clone(),
                hist_items.clone(),
            ))
        };
        let validate = |net: &TwoTower| -> Option<f64> {
            (!holdout.is_empty())
                .then(|| train::ndcg_at_k(&holdout.held, m, n_items, 10, |u, out| net.score_user(u, out)))
        };
        let (net, _log) = train::run(MODEL, &cfg, n_batches, &mut step, snapshot, validate)?;
        Ok(net)
    }
}

/// Fit `two-tower` on `train`.
pub fn fit(train: &TrainData<'_>, params: &Params) -> Result<Box<dyn Recommender>> {
    Ok(Box::new(TwoTower::fit(train, params)?))
}

/// Rebuild a fitted `two-tower` from its saved state.
pub fn load(s: &ModelState) -> Result<Box<dyn Recommender>> {
    let (h, _) = Hyper::from_params(&s.params)?;
    let (n_users, n_items) = (s.count("n_users")?, s.count("n_items")?);
    let feats = Features::load(s, n_items, &h)?;
    let weights = Weights::load(s, &spec(&h, n_users, &feats))?;
    let hist_ptr = s.u64s("hist.ptr", Some(n_users + 1))?.to_vec();
    let hist_items = s.u32s("hist.items", None)?.to_vec();
    let ok = hist_ptr.first() == Some(&0)
        && hist_ptr.windows(2).all(|w| w[0] <= w[1])
        && hist_ptr.last().is_some_and(|&e| e as usize == hist_items.len())
        && hist_items.iter().all(|&i| (i as usize) < n_items);
    if !ok {
        return Err(Error::BadState { model: MODEL.into(), reason: "histories `hist.*` are inconsistent".into() });
    }
    Ok(Box::new(TwoTower::new(h, s.params.clone(), n_users, feats, weights, hist_ptr, hist_items)))
}

impl Recommender for TwoTower {
    fn name(&self) -> &str {
        MODEL
    }

    fn n_items(&self) -> usize {
        self.feats.n_items
    }

    fn score_user(&self, user: u32, out: &mut [f32]) {
        let u = user as usize;
        if u >= self.n_users {
            return self.score_history(&[], out);
        }
        let w = OUT * self.h.dim;
        self.score_vector(&self.user_vecs[u * w..(u + 1) * w], out);
    }

    /// One matrix product per batch (user vectors × item vectors); unknown users score as an
    /// empty history, as in [`Recommender::score_user`].
    fn score_users(&self, users: &[u32], out: &mut [f32]) {
        let n = self.feats.n_items;
        daogou_algo::batch_scores(
            &self.user_vecs,
            &self.item_vecs,
            OUT * self.h.dim,
            users,
            &mut out[..users.len() * n],
        );
        for (&u, row) in users.iter().zip(out.chunks_exact_mut(n)) {
            if u as usize >= self.n_users {
                self.score_history(&[], row);
            }
        }
    }

    fn score_history(&self, history: &[(u32, f32)], out: &mut [f32]) {
        let d = self.h.dim;
        // the given order is taken as oldest → newest: read the most recent max_history items
        let valid = history.iter().filter(|&&(i, v)| v > 0.0 && (i as usize) < self.feats.n_items);
        let count = valid.clone().count();
        let skip = count.saturating_sub(self.h.max_history);
        let items = valid.skip(skip).map(|&(i, _)| i);
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.resize((USER_IN + OUT) * d + self.h.hidden, 0.0);
            let (x, rest) = s.split_at_mut(USER_IN * d);
            let (hid, rest) = rest.split_at_mut(self.h.hidden);
            let v = &mut rest[..OUT * d];
            self.user_vector(None, items, count - skip, x, hid, v);
            self.score_vector(v, out);
        });
    }

    /// Nearest item vectors by cosine. A cold item has only its features, so it is compared
    /// with every item's feature-only vector, over the parts it has.
    fn similar_items(&self, item: u32, n: usize) -> Option<Vec<(u32, f32)>> {
        let i = item as usize;
        if i >= self.feats.n_items {
            return None;
        }
        let w = OUT * self.h.dim;
        let mut s = vec![0f32; self.feats.n_items];
        if self.feats.known[i] != 0 {
            self.score_vector(&self.item_vecs[i * w..(i + 1) * w], &mut s);
        } else {
            // a cold item has only its features: compare them with the other items' features,
            // by the cosine over the parts it has (an affinity part of a category, brand or
            // price band that training never saw is zero, and would only lower every score)
            let d = self.h.dim;
            let content = self.content_vecs();
            let v = &content[i * w..(i + 1) * w];
            let has: Vec<bool> = v.chunks_exact(d).map(|p| p.iter().any(|&x| x != 0.0)).collect();
            for (o, c) in s.iter_mut().zip(content.chunks_exact(w)) {
                let (mut num, mut norm) = (0f32, 0f32);
                for ((p, q), _) in v.chunks_exact(d).zip(c.chunks_exact(d)).zip(&has).filter(|(_, &h)| h) {
                    num += dot(p, q);
                    norm += dot(q, q);
                }
                *o = if norm > 0.0 { num / norm.sqrt() } else { 0.0 };
            }
        }
        Some(top_k(&s, n, |j| j == item))
    }

    fn state(&self) -> ModelState {
        let mut s = ModelState::new(MODEL, &self.params);
        s.set_scalar("n_users", self.n_users as f64);
        s.set_scalar("n_items", self.feats.n_items as f64);
        self.feats.save(&mut s);
        s.set("hist.ptr", StateTensor::U64(self.hist_ptr.clone()));
        s.set("hist.items", StateTensor::U32(self.hist_items.clone()));
        self.weights.save(&mut s);
        s
    }
}
