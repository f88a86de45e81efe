//! Answering a turn: effective request (with the conversation's state), candidates, hard
//! constraints, ranking (text relevance, personal scores, soft interests, popularity), sort
//! intents, diversity, reasons and the reply text.

use std::collections::HashSet;

use daogou_core::category_matches;

use crate::catalog::{Catalog, Rec, PRODUCT};
use crate::convo::{Conversations, Turn};
use crate::index::{Concept, SearchIndex};
use crate::lexicon::COLOR_SHADES;
use crate::lexicon::{COLORS, MATERIALS, OCCASIONS, RECIPIENTS, STOP_EN, STOP_ZH, SYNONYMS};
use crate::parse::{family_bits, merge, merge_map, Parsed, Parser};
use crate::text::{contains_word, money, normalize, query_analyzer, tokens};
use crate::{Answer, AskRequest, Error, GuideConfig, Parse, Pick};

const DEFAULT_N: usize = 10;
const MAX_N: usize = 100;
const MAX_CONVERSATION_ID: usize = 128;
/// "Another brand / colour" moves away from the brands or colours of this many top picks.
const REFINE_TOP: usize = 3;

/// Keyword → concept with its synonyms (built-in and configured) as alternatives.
fn concepts(words: &[String], cfg: &GuideConfig, weight: f32) -> Vec<Concept> {
    words
        .iter()
        .map(|w| {
            let nw = normalize(w);
            let mut alts = vec![nw.clone()];
            let groups = SYNONYMS
                .iter()
                .map(|g| g.iter().map(|s| normalize(s)).collect::<Vec<_>>())
                .chain(cfg.synonyms.iter().map(|g| g.iter().map(|s| normalize(s)).collect()));
            for g in groups {
                let hit = g.iter().any(|s| *s == nw || format!("{s}s") == nw || format!("{nw}s") == *s);
                if hit {
                    for s in g {
                        if !alts.contains(&s) {
                            alts.push(s);
                        }
                    }
                }
            }
            Concept { alts, weight }
        })
        .collect()
}

/// Plain search: every word of the query is a concept (with synonyms); best first.
pub fn search(
    cat: &Catalog,
    index: &SearchIndex,
    cfg: &GuideConfig,
    query: &str,
    limit: usize,
) -> Result<Vec<(u32, f32)>, Error> {
    let norm = normalize(query);
    // Whole synonym phrases first ("running shoes"), then single words.
    let mut words: Vec<String> = Vec::new();
    let mut rest = norm.clone();
    let mut phrases: Vec<String> = SYNONYMS
        .iter()
        .flat_map(|g| g.iter().map(|s| normalize(s)))
        .chain(cfg.synonyms.iter().flat_map(|g| g.iter().map(|s| normalize(s))))
        .filter(|s| s.contains(' ') || s.chars().count() >= 2 && crate::text::has_cjk(s))
        .collect();
    phrases.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for ph in phrases {
        if contains_word(&rest, &ph) {
            if let Some(pos) = rest.find(&ph) {
                rest.replace_range(pos..pos + ph.len(), &" ".repeat(ph.len()));
                words.push(ph);
            }
        }
    }
    let cut = query_analyzer(false);
    for t in tokens(&cut, &rest) {
        if !STOP_EN.contains(&t.as_str()) && !STOP_ZH.contains(&t.as_str()) && !words.contains(&t) {
            words.push(t);
        }
    }
    if words.is_empty() {
        // A query of stop words only: search it as typed rather than return nothing.
        words = tokens(&cut, &norm);
    }
    let mut hits = index.scores(&concepts(&words, cfg, 1.0))?;
    hits.retain(|&(i, _)| cat.recs.get(i as usize).is_some_and(|r| !r.deleted));
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(limit);
    Ok(hits)
}

/// The hard constraints of a parse, compiled against the catalogue.
struct Filter {
    min: Option<f64>,
    max: Option<f64>,
    cat_ok: Option<Vec<bool>>,
    cat_excl: Vec<bool>,
    brand_ok: Option<Vec<bool>>,
    brand_excl: Vec<bool>,
    excl_brand_names: Vec<String>,
    /// Every wanted attribute key must match one of its values; no excluded value may match.
    attrs: Vec<AttrCond>,
    excl_attrs: Vec<AttrCond>,
    size: Option<String>,
    excl_words: Vec<String>,
    excl_items: HashSet<u32>,
}

impl Filter {
    fn new(cat: &Catalog, p: &Parse, excl_items: HashSet<u32>) -> Filter {
        let ncat = cat.cats.len();
        let cat_ok = (!p.categories.is_empty()).then(|| {
            (0..ncat)
                .map(|c| {
                    let path = &cat.cats[c].path;
                    p.categories.iter().any(|want| category_matches(path, want))
                })
                .collect()
        });
        let cat_excl = (0..ncat)
            .map(|c| {
                let path = &cat.cats[c].path;
                p.exclude_categories.iter().any(|x| category_matches(path, x))
            })
            .collect();
        let nb = cat.brands.len();
        let brand_ok = (!p.brands.is_empty())
            .then(|| (0..nb).map(|b| p.brands.iter().any(|x| x.eq_ignore_ascii_case(&cat.brands[b].name))).collect());
        let brand_excl = (0..nb)
            .map(|b| {
                let br = &cat.brands[b];
                p.exclude_brands
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&br.name) || br.zh_names().any(|z| z == x.as_str()))
            })
            .collect();
        let conds = |m: &std::collections::BTreeMap<String, String>| {
            m.iter().filter(|(k, _)| k.as_str() != "size").map(|(k, v)| AttrCond::new(k, v)).collect::<Vec<_>>()
        };
        Filter {
            min: p.min_price,
            max: p.max_price,
            cat_ok,
            cat_excl,
            brand_ok,
            brand_excl,
            excl_brand_names: p.exclude_brands.iter().map(|b| normalize(b)).collect(),
            attrs: conds(&p.attributes),
            excl_attrs: conds(&p.exclude_attributes),
            size: p.attributes.get("size").map(|s| s.to_lowercase()),
            excl_words: p.exclude_keywords.iter().map(|w| normalize(w)).collect(),
            excl_items,
        }
    }

    fn pass(&self, i: usize, r: &Rec) -> bool {
        if r.deleted || !r.available || self.excl_items.contains(&(i as u32)) {
            return false;
        }
        if self.min.is_some() || self.max.is_some() {
            let Some(price) = r.price else { return false };
            if self.min.is_some_and(|m| price < m) || self.max.is_some_and(|m| price > m) {
                return false;
            }
        }
        match (r.cat, &self.cat_ok) {
            (Some(c), Some(ok)) if !ok[c as usize] => return false,
            (None, Some(_)) => return false,
            _ => {}
        }
        if r.cat.is_some_and(|c| self.cat_excl[c as usize]) {
            return false;
        }
        match (r.brand, &self.brand_ok) {
            (Some(b), Some(ok)) if !ok[b as usize] => return false,
            (None, Some(_)) => return false,
            _ => {}
        }
        if r.brand.is_some_and(|b| self.brand_excl[b as usize]) {
            return false;
        }
        // An excluded brand the catalogue does not list may still be named in the title.
        if self.excl_brand_names.iter().any(|b| contains_word(&r.text, b)) {
            return false;
        }
        if !self.attrs.iter().all(|c| c.matches(r)) || self.excl_attrs.iter().any(|c| c.matches(r)) {
            return false;
        }
        if let Some(s) = &self.size {
            if !r.sizes.iter().any(|x| x == s) {
                return false;
            }
        }
        !self.excl_words.iter().any(|w| contains_word(&r.text, w))
    }
}

/// One attribute constraint: the item's value is in one of the families (colour and material
/// families cover their shades and kinds) or holds one of the exact values (a shade's words, a
/// catalogue value).
struct AttrCond {
    key: String,
    fam: u32,
    exact: Vec<String>,
}

impl AttrCond {
    fn new(key: &str, values: &str) -> AttrCond {
        let mut c = AttrCond { key: key.to_owned(), fam: 0, exact: Vec::new() };
        for v in values.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            let table = match key {
                "color" => Some(COLORS),
                "material" => Some(MATERIALS),
                _ => None,
            };
            // A family by its name only; a shade's words stay exact.
            let fam = table.and_then(|t| t.iter().position(|f| f.0 == v || f.1.contains(&v) || f.2.contains(&v)));
            if let Some(i) = fam {
                c.fam |= 1 << i;
                continue;
            }
            let shade = (key == "color")
                .then(|| COLOR_SHADES.iter().find(|(_, en, zh)| en.contains(&v) || zh.contains(&v)))
                .flatten();
            match shade {
                Some((_, en, zh)) => c.exact.extend(en.iter().chain(zh.iter()).map(|w| w.to_string())),
                None => c.exact.push(normalize(v)),
            }
        }
        c
    }

    fn matches(&self, r: &Rec) -> bool {
        let bits = match self.key.as_str() {
            "color" => r.colors,
            "material" => r.materials,
            _ => 0,
        };
        if bits & self.fam != 0 {
            return true;
        }
        // A product term is looked for in the title (with the colour, material and spec words).
        let text = if self.key == PRODUCT {
            r.text.as_str()
        } else {
            let Some((_, text)) = r.attrs.iter().find(|(k, _)| *k == self.key) else { return false };
            text.as_str()
        };
        self.exact.iter().any(|w| contains_word(text, w))
    }
}

/// The request after the conversation's state is applied.
#[derive(Clone)]
struct Effective {
    parse: Parse,
    soft: Vec<String>,
    anchor: Option<u32>,
    /// An item whose kind ranks first without restricting the category (another colour of it).
    like: Option<u32>,
    excl_items: HashSet<u32>,
    /// The refinement applied to the previous answer, if any.
    refined: Option<String>,
    /// Whether this turn continued the previous one (refinement or added constraints).
    followup: bool,
}

fn is_constraint_only(p: &Parse) -> bool {
    // A product term names a product, like a category.
    p.categories.is_empty() && p.brands.is_empty() && p.keywords.is_empty() && !p.attributes.contains_key(PRODUCT)
}

fn effective(cat: &Catalog, prev: Option<&Turn>, now: Parsed) -> Effective {
    let Parsed { parse: mut p, more_like, soft } = now;
    let mut eff = Effective {
        parse: p.clone(),
        soft,
        anchor: None,
        like: None,
        excl_items: HashSet::new(),
        refined: None,
        followup: false,
    };
    let Some(prev) = prev else {
        // A refinement with nothing to refine: "cheaper" alone means cheapest first.
        if p.refinement.as_deref() == Some("cheaper") && eff.parse.sort.is_none() {
            eff.parse.sort = Some("price_asc".into());
        }
        eff.parse.refinement = None;
        return eff;
    };
    let shown: Vec<u32> = prev.shown.iter().copied().filter(|&i| (i as usize) < cat.len()).collect();
    // Naming something new (a product, brand, recipient, occasion) starts a new request; a
    // refinement word in it only keeps its plain meaning ("cheaper coffee": cheapest first).
    let new_topic = !is_constraint_only(&p) || p.recipient.is_some() || p.occasion.is_some();
    if new_topic {
        if p.refinement.as_deref() == Some("cheaper") && eff.parse.sort.is_none() {
            eff.parse.sort = Some("price_asc".into());
        }
        eff.parse.refinement = None;
        return eff;
    }
    match p.refinement.clone() {
        Some(r) => {
            let mut m = merge(&prev.parse, &p);
            eff.soft = if eff.soft.is_empty() { prev.soft.clone() } else { eff.soft };
            match r.as_str() {
                "cheaper" => {
                    // Cheaper than the middle of what was shown, cheapest first.
                    let mut prices: Vec<f64> = shown.iter().filter_map(|&i| cat.recs[i as usize].price).collect();
                    prices.sort_by(f64::total_cmp);
                    if let Some(&mid) = prices.get((prices.len().max(1) - 1) / 2) {
                        let hi = m.max_price.map_or(mid, |x| x.min(mid));
                        m.max_price = Some(hi);
                        m.currency = Some(cat.currency.clone());
                        if m.min_price.is_some_and(|x| x > hi) {
                            m.min_price = None;
                        }
                    }
                    m.sort = Some("price_asc".into());
                }
                "other_brand" => {
                    // The brands asked for before, else those of the top picks.
                    let from: Vec<String> = if m.brands.is_empty() {
                        shown.iter().take(REFINE_TOP).filter_map(|&i| cat.items[i as usize].brand.clone()).collect()
                    } else {
                        std::mem::take(&mut m.brands)
                    };
                    for b in from {
                        if !m.exclude_brands.contains(&b) {
                            m.exclude_brands.push(b);
                        }
                    }
                }
                "other_color" => {
                    // The colour asked for before, else those of the top picks; the same kind
                    // of product as the top pick ranks first.
                    let bits = match m.attributes.remove("color") {
                        Some(c) => family_bits(&c, COLORS),
                        None => shown.iter().take(REFINE_TOP).fold(0u32, |acc, &i| acc | cat.recs[i as usize].colors),
                    };
                    let names: Vec<&str> =
                        COLORS.iter().enumerate().filter(|(k, _)| bits & (1 << k) != 0).map(|(_, c)| c.0).collect();
                    if !names.is_empty() {
                        let mut add = std::collections::BTreeMap::new();
                        add.insert("color".to_owned(), names.join(","));
                        merge_map(&mut m.exclude_attributes, &add);
                    }
                    eff.like = shown.first().copied();
                }
                _ => {
                    // more_like:#k
                    let k = more_like.unwrap_or(1);
                    let pos = if k == usize::MAX { shown.len().saturating_sub(1) } else { k - 1 };
                    if let Some(&a) = shown.get(pos) {
                        eff.anchor = Some(a);
                        m.refinement = Some(format!("more_like:{}", cat.items[a as usize].id));
                        m.categories = cat.items[a as usize].category.iter().cloned().collect();
                        m.keywords = p.keywords.clone();
                        eff.excl_items.insert(a);
                    } else {
                        m.refinement = None;
                    }
                }
            }
            eff.refined = m.refinement.clone();
            eff.followup = true;
            p = m;
        }
        None if p != (Parse { language: p.language.clone(), ..Parse::default() }) => {
            // A follow-up that only adds constraints ("300以内", "不要红色的") narrows the last request.
            p = merge(&prev.parse, &p);
            eff.soft = if eff.soft.is_empty() { prev.soft.clone() } else { eff.soft };
            eff.followup = true;
        }
        None => {}
    }
    eff.parse = p;
    eff
}

/// Rank of each value among `vals` as a fraction in [0, 1] (ties share the lower rank).
fn percentiles(vals: &[f32]) -> Vec<f32> {
    let known: Vec<usize> = (0..vals.len()).filter(|&i| vals[i].is_finite()).collect();
    let mut out = vec![0.0; vals.len()];
    if known.is_empty() {
        return out;
    }
    let mut order = known.clone();
    order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
    let n = order.len().max(2) - 1;
    let mut r = 0;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 && vals[i] > vals[order[k - 1]] {
            r = k;
        }
        out[i] = r as f32 / n as f32;
    }
    out
}

struct Cand {
    i: u32,
    rel: f32,
    soft: f32,
    pers: f32,
    score: f32,
}

#[allow(clippy::too_many_arguments)]
pub fn ask(
    cat: &Catalog,
    index: &SearchIndex,
    cfg: &GuideConfig,
    convs: &Conversations,
    req: &AskRequest,
    personal: Option<&[f32]>,
    history: &[u32],
) -> Result<Answer, Error> {
    if req.text.trim().is_empty() {
        return Err(Error::BadRequest("text: the request is empty".into()));
    }
    if req.text.chars().count() > 1000 {
        return Err(Error::BadRequest("text: longer than 1000 characters".into()));
    }
    if let Some(c) = &req.conversation {
        if c.is_empty() || c.len() > MAX_CONVERSATION_ID || !c.chars().all(|ch| ch.is_ascii_graphic()) {
            return Err(Error::BadRequest(format!(
                "conversation: an id is 1–{MAX_CONVERSATION_ID} printable ASCII characters"
            )));
        }
    }
    let n = req.n.unwrap_or(DEFAULT_N);
    if n == 0 || n > MAX_N {
        return Err(Error::BadRequest(format!("n: {n} is outside 1..={MAX_N}")));
    }
    let parsed = Parser { cat, cfg }.parse(&req.text);
    let prev = match &req.conversation {
        Some(id) => convs.get_in(cat, id, req.user.as_deref())?,
        None => None,
    };
    let eff = effective(cat, prev.as_ref(), parsed);
    let zh = eff.parse.language == "zh";

    let ranked = rank(cat, index, cfg, &eff, personal, n)?;
    let mut note = None;
    if ranked.is_empty() && eff.refined.as_deref() == Some("cheaper") {
        if let Some(lo) = eff.parse.max_price {
            let lo = money(lo, &cat.currency);
            note = Some(if zh {
                format!("已经是最便宜的了：没有比{lo}更便宜的")
            } else {
                format!("nothing is cheaper than {lo}")
            });
        }
    }
    let pers_all: Option<Vec<f32>> = personal.map(|p| {
        let vals: Vec<f32> = ranked.iter().map(|c| p.get(c.i as usize).copied().unwrap_or(f32::NEG_INFINITY)).collect();
        percentiles(&vals)
    });
    let items: Vec<Pick> = ranked
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let mut c2 = Cand { i: c.i, rel: c.rel, soft: c.soft, pers: c.pers, score: c.score };
            if let Some(p) = &pers_all {
                c2.pers = p[k];
            }
            pick(cat, &eff, &c2, personal.is_some(), history, zh)
        })
        .collect();
    let (closest, unmet) = if items.is_empty() && eff.refined.is_none() {
        closest(cat, index, cfg, &eff, personal, history, zh)?
    } else {
        (Vec::new(), None)
    };
    let reply = reply(cat, &eff, &items, zh, note, unmet.as_deref());
    let conversation = req.conversation.clone().unwrap_or_else(|| convs.new_id());
    // A follow-up that found nothing leaves the conversation where it was, so the shopper can
    // refine the last real answer another way.
    let keep = match &prev {
        Some(t) if items.is_empty() && eff.followup => t.clone(),
        _ => Turn {
            user: req.user.clone(),
            parse: eff.parse.clone(),
            soft: eff.soft.clone(),
            shown: items.iter().map(|p| p.index).collect(),
        },
    };
    convs.put_in(cat, conversation.clone(), keep)?;
    Ok(Answer { conversation, parse: eff.parse, items, closest, reply })
}

/// How many nearest items an answer with no match shows.
const CLOSEST_N: usize = 3;

/// When nothing meets every constraint: relax one constraint at a time (the budget first, then
/// each attribute, the brands, the categories) and the first relaxation that finds items names
/// the constraint that cannot be met; its items are the closest, each with what it misses.
#[allow(clippy::too_many_arguments)]
fn closest(
    cat: &Catalog,
    index: &SearchIndex,
    cfg: &GuideConfig,
    eff: &Effective,
    personal: Option<&[f32]>,
    history: &[u32],
    zh: bool,
) -> Result<(Vec<Pick>, Option<String>), Error> {
    let p = &eff.parse;
    let cur = cat.currency.as_str();
    let what = {
        let mut w: Vec<String> = p.categories.iter().map(|c| cat.category_label(c, zh)).collect();
        if w.is_empty() && !p.keywords.is_empty() {
            w.push(p.keywords.join(" "));
        }
        if w.is_empty() {
            w.push(if zh { "商品".into() } else { "items".into() });
        }
        w.join(if zh { "或" } else { " or " })
    };
    enum Relax {
        Price,
        Attr(String),
        Brand,
        Category,
    }
    let mut tries: Vec<Relax> = Vec::new();
    if p.min_price.is_some() || p.max_price.is_some() {
        tries.push(Relax::Price);
    }
    tries.extend(p.attributes.keys().map(|k| Relax::Attr(k.clone())));
    if !p.brands.is_empty() {
        tries.push(Relax::Brand);
    }
    if !p.categories.is_empty() {
        tries.push(Relax::Category);
    }
    for t in tries {
        let mut e = eff.clone();
        let q = &mut e.parse;
        match &t {
            Relax::Price => {
                // Nearest to the budget first.
                q.sort = Some(if p.max_price.is_some() { "price_asc" } else { "price_desc" }.into());
                q.min_price = None;
                q.max_price = None;
            }
            Relax::Attr(k) => {
                q.attributes.remove(k);
            }
            Relax::Brand => q.brands.clear(),
            Relax::Category => q.categories.clear(),
        }
        let found = rank(cat, index, cfg, &e, personal, CLOSEST_N)?;
        if found.is_empty() {
            continue;
        }
        let mut unmet = None;
        let picks: Vec<Pick> = found
            .iter()
            .map(|c| {
                let mut pk = pick(cat, &e, c, personal.is_some(), history, zh);
                let i = c.i as usize;
                pk.reason = match &t {
                    Relax::Price => {
                        let price = cat.recs[i].price.unwrap_or(0.0);
                        let pm = money(price, cur);
                        match (p.max_price, p.min_price) {
                            (Some(hi), _) if price > hi => {
                                let b = money(hi, cur);
                                if zh {
                                    format!("{pm}，超出你{b}的预算")
                                } else {
                                    format!("{pm}, above your {b} budget")
                                }
                            }
                            (_, Some(lo)) => {
                                let b = money(lo, cur);
                                if zh {
                                    format!("{pm}，低于你要的{b}")
                                } else {
                                    format!("{pm}, below your {b} minimum")
                                }
                            }
                            _ => pm,
                        }
                    }
                    Relax::Attr(k) => {
                        let has = cat.recs[i].attrs.iter().find(|(kk, _)| kk == k).map_or("", |(_, v)| v.as_str());
                        let want = p.attributes.get(k).map_or("", String::as_str);
                        let has = if k == "color" {
                            color_label(cat, i, zh).unwrap_or_default()
                        } else if k == PRODUCT {
                            cat.items[i].title.clone()
                        } else {
                            has.to_owned()
                        };
                        if zh {
                            format!("{k}是{has}，不是{want}")
                        } else {
                            format!("{k} is {has}, not {want}")
                        }
                    }
                    Relax::Brand => {
                        let b = cat.items[i].brand.clone().unwrap_or_default();
                        if zh {
                            format!("品牌是{b}，不是你要的品牌")
                        } else {
                            format!("brand is {b}, not one you asked for")
                        }
                    }
                    Relax::Category => {
                        let c = cat.items[i].category.as_deref().map(|c| cat.category_label(c, zh)).unwrap_or_default();
                        if zh {
                            format!("属于{c}，不在{what}里")
                        } else {
                            format!("in {c}, not {what}")
                        }
                    }
                };
                pk
            })
            .collect();
        let first = picks.first().and_then(|x| x.price);
        unmet = unmet.or(Some(match &t {
            Relax::Price => {
                let pm = money(first.unwrap_or(0.0), cur);
                match (p.max_price, p.min_price) {
                    (Some(hi), _) if first.is_some_and(|x| x > hi) => {
                        let b = money(hi, cur);
                        if zh {
                            format!("最便宜的{what}是{pm}，超出你{b}的预算")
                        } else {
                            format!("the cheapest {what} is {pm}, above your {b} budget")
                        }
                    }
                    (_, Some(lo)) => {
                        let b = money(lo, cur);
                        if zh {
                            format!("最贵的{what}是{pm}，低于你要的{b}")
                        } else {
                            format!("the most expensive {what} is {pm}, below your {b} minimum")
                        }
                    }
                    _ => {
                        if zh {
                            "没有这个价位的".to_owned()
                        } else {
                            "nothing at that price".to_owned()
                        }
                    }
                }
            }
            Relax::Attr(k) => {
                let want = p.attributes.get(k).map_or("", String::as_str);
                let want = if k == "color" { family_names(want, COLORS, zh) } else { want.to_owned() };
                if zh {
                    format!("没有{want}的{what}")
                } else {
                    format!("no {what} in {want} ({k})")
                }
            }
            Relax::Brand => {
                let b: Vec<String> = p.brands.iter().map(|b| cat.brand_label(b, zh)).collect();
                if zh {
                    format!("{}没有符合条件的{what}", b.join("或"))
                } else {
                    format!("{} has no such {what}", b.join(" or "))
                }
            }
            Relax::Category => {
                if zh {
                    format!("{what}里没有符合其他条件的")
                } else {
                    format!("nothing in {what} meets the other conditions")
                }
            }
        }));
        return Ok((picks, unmet));
    }
    Ok((Vec::new(), None))
}

fn rank(
    cat: &Catalog,
    index: &SearchIndex,
    cfg: &GuideConfig,
    eff: &Effective,
    personal: Option<&[f32]>,
    n: usize,
) -> Result<Vec<Cand>, Error> {
    let p = &eff.parse;
    let filter = Filter::new(cat, p, eff.excl_items.clone());
    let nitems = cat.len();

    // Text relevance: the keywords (with synonyms), and for "more like #k" the anchor's words.
    let mut hard = concepts(&p.keywords, cfg, 1.0);
    if let Some(a) = eff.anchor.or(eff.like) {
        let words = tokens(&query_analyzer(false), cat.title(a as usize, p.language == "zh"));
        let words: Vec<String> = words.into_iter().filter(|w| !STOP_EN.contains(&w.as_str())).collect();
        hard.extend(concepts(&words, cfg, 0.5));
    }
    let mut rel = vec![0f32; nitems];
    let mut matched = vec![false; nitems];
    let text_query = !hard.is_empty();
    if text_query {
        for (i, s) in index.scores(&hard)? {
            if let Some(x) = rel.get_mut(i as usize) {
                *x = s;
                matched[i as usize] = true;
            }
        }
    }
    if text_query && !p.keywords.is_empty() && !matched.iter().any(|&m| m) {
        // The index knows no word of the request (a one-character noun such as 锅 inside 汤锅,
        // cut as one word): fall back to the words inside titles and attribute values.
        let words: Vec<String> = p.keywords.iter().map(|k| normalize(k)).collect();
        for (i, r) in cat.recs.iter().enumerate() {
            let n = words.iter().filter(|w| contains_word(&r.text, w)).count();
            if n > 0 && !r.deleted {
                matched[i] = true;
                rel[i] = n as f32 / words.len() as f32;
            }
        }
    }
    let mut soft = vec![0f32; nitems];
    if !eff.soft.is_empty() {
        for (i, s) in index.scores(&concepts(&eff.soft, cfg, 1.0))? {
            if let Some(x) = soft.get_mut(i as usize) {
                *x = s;
            }
        }
    }
    // With a category, brand or anchor the filter already narrows the catalogue and keywords
    // only rank; otherwise the keywords decide what is a candidate.
    let narrowed =
        !p.categories.is_empty() || !p.brands.is_empty() || p.attributes.contains_key(PRODUCT) || eff.anchor.is_some();
    let mut cands: Vec<Cand> = (0..nitems)
        .filter(|&i| (!text_query || narrowed || matched[i]) && filter.pass(i, &cat.recs[i]))
        .map(|i| Cand { i: i as u32, rel: rel[i], soft: soft[i], pers: 0.0, score: 0.0 })
        .collect();
    if cands.is_empty() {
        return Ok(Vec::new());
    }
    let max_rel = cands.iter().map(|c| c.rel).fold(0.0, f32::max);
    let max_soft = cands.iter().map(|c| c.soft).fold(0.0, f32::max);
    let pops: Vec<f32> = cands.iter().map(|c| cat.pop(c.i as usize).ln_1p()).collect();
    let max_pop = pops.iter().copied().fold(0.0, f32::max);
    let pers = personal.map(|ps| {
        percentiles(
            &cands.iter().map(|c| ps.get(c.i as usize).copied().unwrap_or(f32::NEG_INFINITY)).collect::<Vec<_>>(),
        )
    });
    for (k, c) in cands.iter_mut().enumerate() {
        let r = if max_rel > 0.0 { c.rel / max_rel } else { 0.0 };
        let s = if max_soft > 0.0 { c.soft / max_soft } else { 0.0 };
        let pr = if max_pop > 0.0 { pops[k] / max_pop } else { 0.0 };
        c.rel = r;
        c.soft = s;
        c.score = match &pers {
            Some(pv) => {
                c.pers = pv[k];
                0.5 * r + 0.35 * pv[k] + 0.1 * s + 0.05 * pr
            }
            None => 0.75 * r + 0.15 * s + 0.1 * pr,
        };
    }
    let by_score = |a: &Cand, b: &Cand| b.score.total_cmp(&a.score).then(a.i.cmp(&b.i));
    if let Some(sort) = p.sort.as_deref() {
        if text_query && !narrowed {
            // Sorting must not surface items that barely match the words.
            cands.retain(|c| c.rel >= 0.25);
        }
        let price = |c: &Cand| cat.recs[c.i as usize].price;
        match sort {
            "price_asc" => cands.sort_by(|a, b| {
                price(a).unwrap_or(f64::INFINITY).total_cmp(&price(b).unwrap_or(f64::INFINITY)).then(by_score(a, b))
            }),
            "price_desc" => cands.sort_by(|a, b| {
                price(b)
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&price(a).unwrap_or(f64::NEG_INFINITY))
                    .then(by_score(a, b))
            }),
            "newest" => cands.sort_by(|a, b| {
                cat.recs[b.i as usize].created_at.cmp(&cat.recs[a.i as usize].created_at).then(by_score(a, b))
            }),
            _ => cands.sort_by(|a, b| cat.pop(b.i as usize).total_cmp(&cat.pop(a.i as usize)).then(by_score(a, b))),
        }
        cands.truncate(n);
        return Ok(cands);
    }
    // Only the head needs a full order.
    let head = (n * 8).max(64);
    if cands.len() > head {
        cands.select_nth_unstable_by(head - 1, by_score);
        cands.truncate(head);
    }
    cands.sort_by(by_score);
    Ok(diversify(cat, p, cands, n))
}

/// At most about a third of the picks from one brand and half from one category, unless the
/// shopper asked for brands or categories; short lists are filled from what was held back.
fn diversify(cat: &Catalog, p: &Parse, cands: Vec<Cand>, n: usize) -> Vec<Cand> {
    let brand_cap = if p.brands.is_empty() { n.div_ceil(3).max(2) } else { usize::MAX };
    let cat_cap = if p.categories.is_empty() { n.div_ceil(2).max(3) } else { usize::MAX };
    let mut per_brand = std::collections::HashMap::new();
    let mut per_cat = std::collections::HashMap::new();
    let (mut out, mut held) = (Vec::with_capacity(n), Vec::new());
    for c in cands {
        if out.len() == n {
            break;
        }
        let r = &cat.recs[c.i as usize];
        let b = per_brand.entry(r.brand).or_insert(0usize);
        let k = per_cat.entry(r.cat).or_insert(0usize);
        if (r.brand.is_some() && *b >= brand_cap) || (r.cat.is_some() && *k >= cat_cap) {
            held.push(c);
            continue;
        }
        *b += 1;
        *k += 1;
        out.push(c);
    }
    for c in held {
        if out.len() == n {
            break;
        }
        out.push(c);
    }
    out
}

fn short(s: &str) -> String {
    let n = s.chars().count();
    if n <= 28 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(27).collect::<String>())
    }
}

fn price_phrase(p: &Parse, cur: &str, zh: bool) -> Option<String> {
    match (p.min_price, p.max_price) {
        (Some(lo), Some(hi)) => Some(format!("{}–{}", money(lo, cur), money(hi, cur))),
        (None, Some(hi)) => {
            Some(if zh { format!("{}以内", money(hi, cur)) } else { format!("under {}", money(hi, cur)) })
        }
        (Some(lo), None) => {
            Some(if zh { format!("{}以上", money(lo, cur)) } else { format!("over {}", money(lo, cur)) })
        }
        _ => None,
    }
}

fn color_label(cat: &Catalog, i: usize, zh: bool) -> Option<String> {
    let a = &cat.items[i].attributes;
    if zh {
        a.get("color_zh").or(a.get("color")).cloned()
    } else {
        a.get("color").cloned()
    }
}

fn pick(cat: &Catalog, eff: &Effective, c: &Cand, personal: bool, history: &[u32], zh: bool) -> Pick {
    let i = c.i as usize;
    let it = &cat.items[i];
    let r = &cat.recs[i];
    let p = &eff.parse;
    let mut parts: Vec<String> = Vec::new();
    if let Some(a) = eff.anchor {
        let t = short(cat.title(a as usize, zh));
        parts.push(if zh { format!("和「{t}」相似") } else { format!("similar to “{t}”") });
    }
    match eff.refined.as_deref() {
        Some("other_brand") => {
            if let Some(b) = &it.brand {
                let b = cat.brand_label(b, zh);
                parts.push(if zh { format!("换个牌子：{b}") } else { format!("another brand: {b}") });
            }
        }
        Some("other_color") => {
            if let Some(col) = color_label(cat, i, zh) {
                parts.push(if zh { format!("{col}款") } else { format!("in {col}") });
            }
        }
        Some("cheaper") => parts.push(if zh { "更便宜".into() } else { "cheaper".into() }),
        _ => {}
    }
    if let Some(pp) = price_phrase(p, &cat.currency, zh) {
        parts.push(pp);
    }
    if let Some(path) = &it.category {
        parts.push(cat.category_label(path, zh));
    }
    if !p.brands.is_empty() {
        if let Some(b) = &it.brand {
            parts.push(cat.brand_label(b, zh));
        }
    }
    if p.attributes.contains_key("color") && eff.refined.as_deref() != Some("other_color") {
        if let Some(col) = color_label(cat, i, zh) {
            parts.push(col);
        }
    }
    if let Some(kw) = p.keywords.iter().find(|k| contains_word(&r.text, &normalize(k))) {
        parts.push(if zh { format!("符合“{kw}”") } else { format!("matches “{kw}”") });
    }
    match p.sort.as_deref() {
        Some("price_asc") => parts.push(if zh { "价格实惠".into() } else { "low price".into() }),
        Some("price_desc") => parts.push(if zh { "高端之选".into() } else { "premium pick".into() }),
        Some("best_selling") => parts.push(if zh { "热销".into() } else { "best seller".into() }),
        Some("newest") => parts.push(if zh { "新品".into() } else { "new arrival".into() }),
        _ => {}
    }
    if let Some(rc) = RECIPIENTS.iter().find(|x| Some(x.name) == p.recipient.as_deref()) {
        parts.push(if zh {
            format!("适合送{}", rc.zh_name)
        } else {
            format!("a gift idea for {}", recipient_en(rc.name))
        });
    } else if let Some(o) = OCCASIONS.iter().find(|o| Some(o.0) == p.occasion.as_deref()) {
        parts.push(if zh { format!("适合{}", o.3) } else { format!("for {}", o.1[0]) });
    }
    if personal && c.pers >= 0.8 {
        parts.push(if zh { "猜你喜欢".into() } else { "picked for you".into() });
    }
    let liked =
        history.iter().rev().take(50).find(|&&h| {
            h as usize != i && cat.recs.get(h as usize).is_some_and(|hr| hr.cat.is_some() && hr.cat == r.cat)
        });
    if let Some(&h) = liked {
        let t = short(cat.title(h as usize, zh));
        parts.push(if zh { format!("因为你喜欢「{t}」") } else { format!("because you liked “{t}”") });
    }
    parts.truncate(5);
    Pick {
        id: it.id.clone(),
        title: it.title.clone(),
        price: it.price,
        category: it.category.clone(),
        brand: it.brand.clone(),
        score: c.score,
        reason: parts.join(" · "),
        index: c.i,
    }
}

fn recipient_en(name: &str) -> &str {
    match name {
        "runner" => "a runner",
        "child" => "a child",
        "gamer" => "a gamer",
        "student" => "a student",
        "friend" => "a friend",
        "cook" => "a cook",
        "pet owner" => "a pet owner",
        "elder" => "an elder",
        "teacher" => "a teacher",
        other => other,
    }
}

fn reply(
    cat: &Catalog,
    eff: &Effective,
    items: &[Pick],
    zh: bool,
    note: Option<String>,
    unmet: Option<&str>,
) -> String {
    let p = &eff.parse;
    let mut what: Vec<String> = Vec::new();
    for b in &p.brands {
        what.push(cat.brand_label(b, zh));
    }
    if let Some(c) = p.attributes.get("color") {
        what.push(family_names(c, COLORS, zh));
    }
    for c in &p.categories {
        what.push(cat.category_label(c, zh));
    }
    if let Some(t) = p.attributes.get(PRODUCT) {
        what.push(t.clone());
    }
    if !p.keywords.is_empty() && eff.anchor.is_none() {
        what.push(p.keywords.join(" "));
    }
    if let Some(pp) = price_phrase(p, &cat.currency, zh) {
        what.push(pp);
    }
    for b in &p.exclude_brands {
        let b = cat.brand_label(b, zh);
        what.push(if zh { format!("不要{b}") } else { format!("no {b}") });
    }
    if let Some(c) = p.exclude_attributes.get("color") {
        let c = family_names(c, COLORS, zh);
        what.push(if zh { format!("不要{c}") } else { format!("not {c}") });
    }
    for c in &p.exclude_categories {
        let c = cat.category_label(c, zh);
        what.push(if zh { format!("不要{c}") } else { format!("no {c}") });
    }
    if let Some(rc) = RECIPIENTS.iter().find(|x| Some(x.name) == p.recipient.as_deref()) {
        what.push(if zh { format!("送{}", rc.zh_name) } else { format!("for {}", recipient_en(rc.name)) });
    }
    match p.sort.as_deref() {
        Some("price_asc") => what.push(if zh { "按价格从低到高".into() } else { "cheapest first".into() }),
        Some("price_desc") => {
            what.push(if zh { "按价格从高到低".into() } else { "most expensive first".into() })
        }
        Some("best_selling") => what.push(if zh { "按销量".into() } else { "best sellers first".into() }),
        Some("newest") => what.push(if zh { "最新上架优先".into() } else { "newest first".into() }),
        _ => {}
    }
    let sep = if zh { "，" } else { ", " };
    let desc = what.join(sep);
    let mut s = if let (true, Some(u)) = (items.is_empty(), unmet) {
        if zh {
            format!("抱歉，没有完全符合条件的商品（{desc}）：{u}。下面是最接近的。")
        } else {
            format!("Sorry, nothing matches every condition ({desc}): {u}. The closest are listed separately.")
        }
    } else if items.is_empty() {
        if zh {
            format!("抱歉，没有找到符合条件的商品（{desc}）。可以放宽预算或少一些条件再试试。")
        } else {
            format!("Sorry, nothing matches ({desc}). Try a higher budget or fewer conditions.")
        }
    } else {
        let head = match eff.refined.as_deref() {
            Some("cheaper") => if zh { "更便宜的选择" } else { "Cheaper options" }.to_owned(),
            Some("other_brand") => if zh { "换了几个牌子" } else { "From other brands" }.to_owned(),
            Some("other_color") => if zh { "换了颜色" } else { "In other colours" }.to_owned(),
            Some(_) if eff.anchor.is_some() => {
                let t = short(cat.title(eff.anchor.unwrap_or(0) as usize, zh));
                if zh {
                    format!("和「{t}」相似的")
                } else {
                    format!("More like “{t}”")
                }
            }
            _ => {
                if zh {
                    "为你挑了".to_owned() + &items.len().to_string() + "件"
                } else {
                    format!("Here are {} picks", items.len())
                }
            }
        };
        if desc.is_empty() {
            format!("{head}{}", if zh { "。" } else { "." })
        } else if zh {
            format!("{head}：{desc}。")
        } else {
            format!("{head}: {desc}.")
        }
    };
    if let Some(n) = note {
        s.push_str(&if zh { format!("（{n}）") } else { format!(" ({n})") });
    }
    if let Some(n) = &p.price_note {
        s.push_str(&if zh { format!("（按汇率换算：{n}）") } else { format!(" (converted: {n})") });
    }
    s
}

fn family_names(list: &str, table: &[(&str, &[&str], &[&str])], zh: bool) -> String {
    list.split(',')
        .map(|v| {
            let f = table.iter().find(|(n, _, _)| *n == v);
            let shade = COLOR_SHADES.iter().find(|(_, en, _)| en[0] == v);
            match (zh, f, shade) {
                (true, Some((_, _, zhs)), _) => zhs.first().copied().unwrap_or(v).to_owned(),
                (true, None, Some((_, _, zhs))) => zhs.last().copied().unwrap_or(v).to_owned(),
                _ => v.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(if zh { "或" } else { " or " })
}
