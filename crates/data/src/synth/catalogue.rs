//! The demo shop's catalogue: products drawn from the taxonomy tables with brands, prices,
//! bilingual titles and attributes.

use super::taxonomy::*;
use std::collections::{BTreeMap, HashSet};

use super::*;

// ---------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------

/// What the behaviour simulation needs to know about an item.
pub(super) struct Meta {
    pub(super) sub: usize,
    pub(super) brand: usize,
    pub(super) price: f64,
    pub(super) created: i64,
    /// Zipf popularity inside the subcategory.
    pub(super) pop: f64,
    pub(super) qty_max: i64,
}

pub(super) fn build_catalogue(cfg: &ShopConfig, subs: &[SubInfo]) -> (Vec<Item>, Vec<Meta>) {
    let mut rng = Rng::derive(cfg.seed, 1, 0);
    let end = cfg.start + i64::from(cfg.days) * DAY;
    let span = (end - cfg.start).max(DAY);
    // Brand price tiers, fixed per (top, brand).
    let tiers: Vec<Vec<f64>> =
        TOPS.iter().map(|t| t.brands.iter().map(|_| (0.3 * rng.normal()).exp()).collect()).collect();
    let sub_cdf = cdf(subs.iter().map(|s| s.sub.weight));

    struct Draft {
        sub: usize,
        brand: usize,
        price: f64,
        created: i64,
        quality: f64,
    }
    let mut drafts: Vec<Draft> = (0..cfg.items)
        .map(|i| {
            let sub = if i < subs.len() { i } else { sample_cdf(&mut rng, &sub_cdf) };
            let s = subs[sub].sub;
            let nb = TOPS[subs[sub].top].brands.len();
            let bw: Vec<f64> = (0..nb).map(|b| 1.0 / ((b + 1) as f64).powf(0.7)).collect();
            let brand = rng.weighted(&bw).unwrap_or(0);
            let (median, sigma, lo, hi) = s.price;
            let raw = median * tiers[subs[sub].top][brand] * (sigma * rng.normal()).exp();
            let price = pretty_price(raw.clamp(lo, hi));
            let r = rng.f64();
            let created = if r < 0.75 {
                cfg.start - rng.range(1, 365 * DAY)
            } else if r < 0.90 {
                cfg.start + rng.range(0, span - 1)
            } else {
                end - rng.range(1, (span * 15 / 100).max(1))
            };
            Draft { sub, brand, price, created, quality: rng.f64() }
        })
        .collect();
    // Ids follow listing order.
    drafts.sort_by_key(|d| d.created);

    // Popularity rank by quality inside each subcategory.
    let mut by_sub: Vec<Vec<usize>> = vec![Vec::new(); subs.len()];
    for (i, d) in drafts.iter().enumerate() {
        by_sub[d.sub].push(i);
    }
    let mut rank = vec![0usize; drafts.len()];
    let mut sub_size = vec![0usize; drafts.len()];
    for members in &mut by_sub {
        members.sort_by(|&a, &b| drafts[b].quality.total_cmp(&drafts[a].quality).then(a.cmp(&b)));
        for (r, &i) in members.iter().enumerate() {
            rank[i] = r;
            sub_size[i] = members.len();
        }
    }

    let mut titles = HashSet::new();
    let mut items = Vec::with_capacity(drafts.len());
    let mut metas = Vec::with_capacity(drafts.len());
    for (i, d) in drafts.iter().enumerate() {
        let info = &subs[d.sub];
        let s = info.sub;
        let (brand_zh, brand_en) = TOPS[info.top].brands[d.brand];
        let mut attrs = BTreeMap::new();
        attrs.insert("category_zh".to_owned(), info.category_zh.clone());
        attrs.insert("brand_zh".to_owned(), brand_zh.to_owned());
        attrs.insert("currency".to_owned(), "CNY".to_owned());

        let (mut title, mut title_zh, mut title_en) = (String::new(), String::new(), String::new());
        let mut chosen: (Option<Pair>, Option<Pair>, Option<String>) = (None, None, None);
        for attempt in 0..12 {
            let noun = *rng.pick(s.nouns);
            let a1 = *rng.pick(s.adjs);
            let a2 = if s.adjs.len() > 1 && rng.chance(0.55) {
                let mut a = *rng.pick(s.adjs);
                while a == a1 {
                    a = *rng.pick(s.adjs);
                }
                Some(a)
            } else {
                None
            };
            let color = (!s.colors.is_empty()).then(|| *rng.pick(s.colors));
            let spec = (!s.specs.is_empty()).then(|| *rng.pick(s.specs));
            let model = (s.model || attempt >= 8).then(|| format!("{}{}", rng.pick(MODEL_LETTERS), rng.range(1, 9)));
            let mut zh = String::new();
            let mut en = String::new();
            if let Some(m) = &model {
                zh.push_str(m);
                zh.push(' ');
                en.push_str(m);
                en.push(' ');
            }
            zh.push_str(a1.0);
            en.push_str(a1.1);
            en.push(' ');
            if let Some(a) = a2 {
                zh.push_str(a.0);
                en.push_str(a.1);
                en.push(' ');
            }
            zh.push_str(noun.0);
            en.push_str(noun.1);
            let (mut tail, mut tail_zh, mut tail_en) = (String::new(), String::new(), String::new());
            if let Some((szh, sen)) = spec {
                if szh == sen {
                    tail.push_str(&format!(" {sen}"));
                } else {
                    tail.push_str(&format!(" {szh} {sen}"));
                }
                tail_zh.push_str(&format!(" {szh}"));
                tail_en.push_str(&format!(" {sen}"));
            }
            if let Some((czh, cen)) = color {
                tail.push_str(&format!(" {czh} {cen}"));
                tail_zh.push_str(&format!(" {czh}"));
                tail_en.push_str(&format!(" {cen}"));
            }
            let t = format!("{brand_en} {zh} {en}{tail}");
            if titles.contains(&t) {
                continue;
            }
            title = t;
            title_zh = format!("{brand_zh} {zh}{tail_zh}");
            title_en = format!("{brand_en} {en}{tail_en}");
            chosen = (color, spec, model);
            break;
        }
        if title.is_empty() {
            // Twelve collisions: number the edition so the title stays unique.
            let n = titles.len();
            title = format!("{brand_en} {} {} 第{n}款 No. {n}", s.zh, s.en);
            title_zh = format!("{brand_zh} {} 第{n}款", s.zh);
            title_en = format!("{brand_en} {} No. {n}", s.en);
        }
        titles.insert(title.clone());
        let (color, spec, model) = chosen;
        if let Some((czh, cen)) = color {
            attrs.insert("color".to_owned(), cen.to_lowercase());
            attrs.insert("color_zh".to_owned(), czh.to_owned());
        }
        if let Some((szh, sen)) = spec {
            attrs.insert("spec".to_owned(), sen.to_owned());
            if szh != sen {
                attrs.insert("spec_zh".to_owned(), szh.to_owned());
            }
        }
        if let Some(m) = model {
            attrs.insert("model".to_owned(), m);
        }
        if !s.materials.is_empty() {
            let (mzh, men) = *rng.pick(s.materials);
            attrs.insert("material".to_owned(), men.to_lowercase());
            attrs.insert("material_zh".to_owned(), mzh.to_owned());
        }
        if !s.sizes.is_empty() {
            // A contiguous run of size options.
            let n = s.sizes.len();
            let from = rng.below((n / 3).max(1));
            let to = n - rng.below((n / 4).max(1));
            attrs.insert("sizes".to_owned(), s.sizes[from..to].join(","));
        }
        if s.refill.is_some() {
            attrs.insert("consumable".to_owned(), "true".to_owned());
        }
        let rel = rank[i] as f64 / sub_size[i].max(1) as f64;
        let score = (4.9 - 0.9 * rel + 0.15 * rng.normal()).clamp(3.2, 5.0);
        attrs.insert("review_score".to_owned(), format!("{score:.1}"));
        let pop = 1.0 / (rank[i] + 1) as f64;
        let reviews =
            (4000.0 * pop * (0.6 * rng.normal()).exp() * if d.created > cfg.start { 0.2 } else { 1.0 }) as i64;
        attrs.insert("review_count".to_owned(), reviews.to_string());
        attrs.insert("title_zh".to_owned(), title_zh);
        attrs.insert("title_en".to_owned(), title_en);

        let out_of_stock = rng.chance(0.04);
        let stock = if out_of_stock { 0 } else { (20.0 * (1.0 * rng.normal()).exp()).round() as i64 + 1 };
        items.push(Item {
            id: format!("p{:05}", i + 1),
            title,
            category: Some(info.category.clone()),
            brand: Some(brand_en.to_owned()),
            price: Some(d.price),
            attributes: attrs,
            created_at: Some(d.created),
            available: !out_of_stock,
            stock: Some(stock),
            deleted: false,
        });
        metas.push(Meta {
            sub: d.sub,
            brand: d.brand,
            price: d.price,
            created: d.created,
            pop,
            qty_max: if s.refill.is_some() { 3 } else { 1 },
        });
    }
    (items, metas)
}
