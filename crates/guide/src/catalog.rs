//! The assistant's view of the catalogue: per-item facts used by the hard filters (price,
//! category, brand, colour and material families, sizes, availability) and the vocabulary the
//! parser matches requests against (the catalogue's own category and brand names in both
//! languages, colours, materials, recipients, occasions, synonyms).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use daogou_core::Item;
use regex::Regex;

use crate::lexicon::{
    BRAND_ALIASES, COLORS, COLOR_CHARS, COLOR_SHADES, MATERIALS, OCCASIONS, RECIPIENTS, STOP_EN, STOP_ZH, SYNONYMS,
};
use crate::nouns::{Learned, NounCounts, NounParams, NO_CAT};
use crate::text::{contains_word, has_cjk, normalize, unglue};

/// Facts about one item, precomputed for filtering.
#[derive(Debug, Clone, Default)]
pub struct Rec {
    pub price: Option<f64>,
    pub cat: Option<u32>,
    pub brand: Option<u32>,
    /// Bit `i` set when the item is in colour family `COLORS[i]`.
    pub colors: u32,
    /// Bit `i` set when the item is in material family `MATERIALS[i]`.
    pub materials: u32,
    /// Size options, lower case.
    pub sizes: Vec<String>,
    pub created_at: i64,
    pub available: bool,
    pub deleted: bool,
    /// Lower-case title plus colour/material/spec words, for keyword checks and exclusions.
    pub text: String,
    /// Attribute texts for the attribute constraints: (key, normalised value and its `*_zh`
    /// pair). `color` and `material` fall back to the title when the item has none.
    pub attrs: Vec<(String, String)>,
    /// Popularity from the item itself (review or sales counts), used when the shop has not
    /// provided counts through `Guide::set_popularity`.
    pub own_pop: f32,
}

/// A category path with its Chinese name when the catalogue gives one.
#[derive(Debug, Clone)]
pub struct CatInfo {
    pub path: String,
    pub zh: Option<String>,
}

/// A brand: its name, the Chinese name shown in Chinese replies (the first one the catalogue
/// gives), and every other name items give it. OpenBG spells one brand `GENanX/格男仕` on some
/// items and `GENANX/闪电潮牌` on others: one brand (names compare without case), both
/// Chinese names understood.
#[derive(Debug, Clone)]
pub struct BrandInfo {
    pub name: String,
    pub zh: Option<String>,
    /// Further Chinese names (other than `zh`), in the order the items gave them.
    pub aliases: Vec<String>,
}

impl BrandInfo {
    /// Every Chinese name of the brand: `zh`, then the aliases.
    pub fn zh_names(&self) -> impl Iterator<Item = &str> {
        self.zh.iter().chain(self.aliases.iter()).map(String::as_str)
    }
}

/// Something a request can mention.
#[derive(Debug, Clone, PartialEq)]
pub enum Ent {
    /// A category path (a leaf such as `Sports & Outdoors/Running Shoes` or a top level).
    Category(String),
    /// A brand as the catalogue spells it (or a well-known brand's English name).
    Brand(String),
    Color(usize),
    Material(usize),
    Recipient(usize),
    Occasion(usize),
    /// An exact attribute value: (key such as `color`, `material`, `spec`, `model`; the
    /// value's canonical, normalised spelling). Colour shades are exact values of `color`.
    Attr(String, String),
}

/// The surfaces of every [`Ent`] and one matcher over all of them.
#[derive(Debug)]
pub struct Vocab {
    re: Option<Regex>,
    map: HashMap<String, Vec<Ent>>,
}

/// A mention found in a (normalised) request.
#[derive(Debug, Clone)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub ents: Vec<Ent>,
}

impl Vocab {
    pub fn find(&self, text: &str) -> Vec<Mention> {
        let Some(re) = &self.re else { return Vec::new() };
        re.find_iter(text)
            .filter_map(|m| {
                let s = m.as_str();
                let ents = self
                    .map
                    .get(s)
                    .or_else(|| s.strip_suffix('s').and_then(|b| self.map.get(b)))
                    .or_else(|| s.strip_suffix("es").and_then(|b| self.map.get(b)))?;
                Some(Mention { start: m.start(), end: m.end(), ents: ents.clone() })
            })
            .collect()
    }
}

#[derive(Debug)]
pub struct Catalog {
    pub items: Vec<Item>,
    pub recs: Vec<Rec>,
    pub cats: Vec<CatInfo>,
    cat_ids: HashMap<String, u32>,
    pub brands: Vec<BrandInfo>,
    brand_ids: HashMap<String, u32>,
    /// Chinese brand names beyond each brand's first (`BrandInfo::aliases`), counted so that
    /// a new one rebuilds the vocabulary.
    brand_aliases: usize,
    /// The shop's currency (the most common `currency` attribute, else the configured one).
    pub currency: String,
    /// Popularity provided by the shop (`Guide::set_popularity`), by item index.
    pub popularity: Vec<f32>,
    pub vocab: Vocab,
    synonyms: Vec<Vec<String>>,
    /// Attribute values seen in the catalogue: key → canonical value → surfaces (the value
    /// and its `*_zh` pair).
    attr_values: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    attr_count: usize,
    vocab_key: (usize, usize, usize),
    /// Title terms per category, for the product nouns learned from titles.
    nouns: NounCounts,
    /// Per category id: bit 0 set when one of its items has a colour attribute, bit 1 a
    /// material attribute (not counting the title fallback).
    cat_attr_bits: Vec<u8>,
    noun_params: NounParams,
    /// Items counted or uncounted since the nouns were last learned.
    noun_updates: usize,
}

/// The attribute key of product terms learned from a catalogue without categories: the
/// title must hold the term.
pub const PRODUCT: &str = "product";

/// Attributes that are not descriptive values a shopper would ask for.
fn skip_attr(key: &str) -> bool {
    const SKIP: &[&str] = &[
        "title",
        "description",
        "desc",
        "stock",
        "currency",
        "category_zh",
        "brand_zh",
        "sales",
        "sold",
        "url",
        "consumable",
        "sizes",
        "size",
        "尺码",
        "price",
        "id",
        "sku",
        "rating",
        "reviews",
    ];
    SKIP.contains(&key)
        || key.starts_with("title")
        || key.starts_with("review")
        || key.starts_with("image")
        || key.starts_with("created")
        || key.ends_with("_count")
        || key.ends_with("_id")
        || key.ends_with("_url")
}

/// The attribute key a request constraint uses (`colour` and `颜色` are `color`).
pub fn canonical_key(key: &str) -> String {
    match key {
        "color" | "colour" | "颜色" => "color".to_owned(),
        "material" | "材质" => "material".to_owned(),
        k => k.to_lowercase(),
    }
}

/// Is `v` (normalised) a value worth matching in requests: not a number or flag, not a
/// sentence, not a stop word?
fn matchable_value(v: &str) -> bool {
    let n = v.chars().count();
    if n == 0 || n > 40 || v.split_whitespace().count() > 5 {
        return false;
    }
    if v.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == ' ') {
        return false;
    }
    if matches!(v, "true" | "false" | "yes" | "no") || STOP_EN.contains(&v) || STOP_ZH.contains(&v) {
        return false;
    }
    if has_cjk(v) {
        n >= 2
    } else {
        v.len() >= 2
    }
}

fn attr<'a>(it: &'a Item, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| it.attributes.get(*k)).map(String::as_str).filter(|s| !s.trim().is_empty())
}

/// Family bits of `text` against a family table.
fn families(text: &str, table: &[(&str, &[&str], &[&str])]) -> u32 {
    let mut bits = 0u32;
    for (i, (_, en, zh)) in table.iter().enumerate() {
        if en.iter().chain(zh.iter()).any(|w| contains_word(text, w)) {
            bits |= 1 << i;
        }
    }
    bits
}

/// Colour family bits of a title (an item without a colour attribute): family words and
/// shades of several words or in Chinese (light blue, 藏青). One-word English shades count
/// only in colour attributes: in a title "rose", "butter" or "chocolate" are as often a
/// flower, a dish or a flavour as a colour.
pub fn title_color_families(title: &str) -> u32 {
    let mut bits = families(title, COLORS);
    for (fam, en, zh) in COLOR_SHADES {
        let named = en.iter().filter(|w| w.contains(' ')).chain(zh.iter()).any(|w| contains_word(title, w));
        if named {
            if let Some(i) = COLORS.iter().position(|c| c.0 == *fam) {
                bits |= 1 << i;
            }
        }
    }
    bits
}

/// Colour family bits of `text`: family words and the families of the shades it names.
pub fn color_families(text: &str) -> u32 {
    let mut bits = families(text, COLORS);
    for (fam, en, zh) in COLOR_SHADES {
        if en.iter().chain(zh.iter()).any(|w| contains_word(text, w)) {
            if let Some(i) = COLORS.iter().position(|c| c.0 == *fam) {
                bits |= 1 << i;
            }
        }
    }
    bits
}

impl Catalog {
    /// `currency`: the shop's currency from the configuration; without one it is the items'
    /// most common `currency` attribute, else CNY.
    pub fn new(items: &[Item], synonyms: Vec<Vec<String>>, currency: Option<&str>, nouns: NounParams) -> Catalog {
        let default_currency = currency.unwrap_or("CNY");
        let mut c = Catalog {
            items: Vec::with_capacity(items.len()),
            recs: Vec::with_capacity(items.len()),
            cats: Vec::new(),
            cat_ids: HashMap::new(),
            brands: Vec::new(),
            brand_ids: HashMap::new(),
            brand_aliases: 0,
            currency: default_currency.to_owned(),
            popularity: Vec::new(),
            vocab: Vocab { re: None, map: HashMap::new() },
            synonyms,
            attr_values: BTreeMap::new(),
            attr_count: 0,
            vocab_key: (usize::MAX, usize::MAX, usize::MAX),
            nouns: NounCounts::default(),
            cat_attr_bits: Vec::new(),
            noun_params: nouns,
            noun_updates: 0,
        };
        for it in items {
            c.push_or_set(c.items.len(), it);
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for it in &c.items {
            if let Some(cur) = it.attributes.get("currency") {
                *counts.entry(cur.as_str()).or_default() += 1;
            }
        }
        if let Some((cur, _)) = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))) {
            if currency.is_none() {
                c.currency = cur.to_uppercase();
            }
        }
        c.refresh_vocab();
        c
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    fn cat_id(&mut self, path: &str, zh: Option<&str>) -> u32 {
        if let Some(&id) = self.cat_ids.get(path) {
            if self.cats[id as usize].zh.is_none() {
                self.cats[id as usize].zh = zh.map(str::to_owned);
            }
            return id;
        }
        let id = self.cats.len() as u32;
        self.cats.push(CatInfo { path: path.to_owned(), zh: zh.map(str::to_owned) });
        self.cat_ids.insert(path.to_owned(), id);
        id
    }

    fn brand_id(&mut self, name: &str, zh: Option<&str>) -> u32 {
        let key = name.to_lowercase();
        let zh = zh.map(str::trim).filter(|z| !z.is_empty());
        if let Some(&id) = self.brand_ids.get(&key) {
            let b = &mut self.brands[id as usize];
            match (zh, &b.zh) {
                (Some(z), None) => b.zh = Some(z.to_owned()),
                (Some(z), Some(first)) if first != z && !b.aliases.iter().any(|a| a == z) => {
                    b.aliases.push(z.to_owned());
                    self.brand_aliases += 1;
                }
                _ => {}
            }
            return id;
        }
        let id = self.brands.len() as u32;
        self.brands.push(BrandInfo { name: name.to_owned(), zh: zh.map(str::to_owned), aliases: Vec::new() });
        self.brand_ids.insert(key, id);
        id
    }

    /// Insert or replace item `index` (gaps are filled with deleted slots).
    pub fn push_or_set(&mut self, index: usize, it: &Item) {
        let cat = it.category.as_deref().filter(|c| !c.trim().is_empty()).map(|c| {
            let zh = attr(it, &["category_zh"]);
            // Register every prefix of the path so that top levels have ids (and Chinese names).
            let parts: Vec<&str> = c.split('/').collect();
            let zh_parts: Option<Vec<&str>> = zh.map(|z| z.split('/').collect());
            let mut id = 0;
            for k in 1..=parts.len() {
                let p = parts[..k].join("/");
                let z = zh_parts.as_ref().filter(|z| z.len() == parts.len()).map(|z| z[..k].join("/"));
                id = self.cat_id(&p, z.as_deref());
            }
            id
        });
        let brand =
            it.brand.as_deref().filter(|b| !b.trim().is_empty()).map(|b| self.brand_id(b, attr(it, &["brand_zh"])));
        let color_text = [attr(it, &["color", "colour", "颜色"]), attr(it, &["color_zh", "colour_zh"])]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        // Single spaces, so that a product term such as "lunch bag" matches "LUNCH  BAG".
        // A comma, slash or ampersand between two words without a space joins them as a space
        // does ("TEA,COFFEE" holds the learned pair "tea coffee").
        let title = unglue(&normalize(&it.title)).split_whitespace().collect::<Vec<_>>().join(" ");
        let colors = if color_text.is_empty() {
            title_color_families(&title)
        } else {
            let ct = normalize(&color_text);
            let by_char = COLOR_CHARS
                .iter()
                .enumerate()
                .filter(|(_, cs)| cs.chars().any(|c| ct.contains(c)))
                .fold(0u32, |acc, (i, _)| acc | (1 << i));
            color_families(&ct) | by_char
        };
        let mat_text = [attr(it, &["material", "材质"]), attr(it, &["material_zh"])]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(c) = cat {
            let bits = (!color_text.is_empty()) as u8 | ((!mat_text.is_empty()) as u8) << 1;
            if self.cat_attr_bits.len() <= c as usize {
                self.cat_attr_bits.resize(c as usize + 1, 0);
            }
            self.cat_attr_bits[c as usize] |= bits;
        }
        let materials =
            if mat_text.is_empty() { families(&title, MATERIALS) } else { families(&normalize(&mat_text), MATERIALS) };
        let sizes = attr(it, &["sizes", "size", "尺码"])
            .map(|s| s.split([',', '/', '|', ' ']).map(|x| x.trim().to_lowercase()).filter(|x| !x.is_empty()).collect())
            .unwrap_or_default();
        let own_pop = ["sales", "sold", "review_count", "reviews"]
            .iter()
            .find_map(|k| it.attributes.get(*k).and_then(|v| v.trim().parse::<f32>().ok()))
            .unwrap_or(0.0)
            .max(0.0);
        // Every descriptive attribute, paired with its `*_zh` value: a constraint text per key
        // and the catalogue's vocabulary of values.
        let mut attrs: Vec<(String, String)> = Vec::new();
        for (k, v) in &it.attributes {
            if k.ends_with("_zh") || skip_attr(k) {
                continue;
            }
            let key = canonical_key(k);
            let nv = normalize(v.trim());
            let zh = it.attributes.get(&format!("{k}_zh")).map(|z| normalize(z.trim()));
            let joined = match &zh {
                Some(z) => format!("{nv} {z}"),
                None => nv.clone(),
            };
            match attrs.iter_mut().find(|(k2, _)| *k2 == key) {
                Some((_, t)) => {
                    t.push(' ');
                    t.push_str(&joined);
                }
                None => attrs.push((key.clone(), joined)),
            }
            // Several values in one ("涤纶、氨纶", "8gb, 256gb") are each a value of their own.
            let parts: Vec<String> = if nv.contains(',') {
                nv.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()
            } else {
                vec![nv]
            };
            let single = parts.len() == 1;
            for v in parts.into_iter().filter(|v| matchable_value(v)) {
                let surfaces = self.attr_values.entry(key.clone()).or_default().entry(v.clone()).or_default();
                let pair = zh.clone().filter(|z| single && matchable_value(z));
                for s in std::iter::once(v).chain(pair) {
                    if surfaces.insert(s) {
                        self.attr_count += 1;
                    }
                }
            }
        }
        for key in ["color", "material"] {
            if !attrs.iter().any(|(k, _)| k == key) {
                attrs.push((key.to_owned(), title.clone()));
            }
        }
        let mut text = title;
        for k in ["color", "color_zh", "material", "material_zh", "spec", "spec_zh"] {
            if let Some(v) = it.attributes.get(k) {
                text.push(' ');
                text.push_str(&normalize(v));
            }
        }
        let rec = Rec {
            price: it.price.filter(|p| p.is_finite()),
            cat,
            brand,
            colors,
            materials,
            sizes,
            created_at: it.created_at.unwrap_or(i64::MIN),
            available: it.in_stock(),
            deleted: it.deleted,
            text,
            attrs,
            own_pop,
        };
        while self.items.len() < index {
            self.items.push(Item::new(""));
            self.recs.push(Rec { deleted: true, ..Rec::default() });
        }
        // The title terms of the item replaced leave the noun counts; the new ones join.
        if let Some(old) = self.items.get(index).filter(|o| !o.deleted) {
            let old_cat = self.recs[index].cat.unwrap_or(NO_CAT);
            self.nouns.update(&old.title, old_cat, false);
            self.noun_updates += 1;
        }
        if !it.deleted {
            self.nouns.update(&it.title, cat.unwrap_or(NO_CAT), true);
            self.noun_updates += 1;
        }
        if index == self.items.len() {
            self.items.push(it.clone());
            self.recs.push(rec);
        } else {
            self.items[index] = it.clone();
            self.recs[index] = rec;
        }
    }

    /// Rebuild the vocabulary when categories, brands or attribute values were added, or when
    /// 1 % of the items changed since the product nouns were last learned (learning on every
    /// single upsert would rebuild the matcher for nothing).
    pub fn refresh_vocab(&mut self) {
        let key = (self.cats.len(), self.brands.len() + self.brand_aliases, self.attr_count);
        let nouns_stale = self.noun_updates > 0 && self.noun_updates * 100 >= self.nouns.items().max(1);
        if key == self.vocab_key && !nouns_stale {
            return;
        }
        self.vocab_key = key;
        self.noun_updates = 0;
        let mut map: HashMap<String, Vec<Ent>> = HashMap::new();
        fn add_to(map: &mut HashMap<String, Vec<Ent>>, surface: &str, e: Ent) {
            let s = normalize(surface.trim());
            // One-character Chinese words (锅, 茶) are too ambiguous to name a category.
            if s.is_empty() || (has_cjk(&s) && s.chars().count() < 2) || (!has_cjk(&s) && s.len() < 2) {
                return;
            }
            let v = map.entry(s).or_default();
            if !v.contains(&e) {
                v.push(e);
            }
        }
        let mut add = |surface: &str, e: Ent| add_to(&mut map, surface, e);
        for c in &self.cats {
            let leaf = c.path.rsplit('/').next().unwrap_or(&c.path);
            add(leaf, Ent::Category(c.path.clone()));
            add(&c.path, Ent::Category(c.path.clone()));
            if let Some(zh) = &c.zh {
                add(zh.rsplit('/').next().unwrap_or(zh), Ent::Category(c.path.clone()));
            }
        }
        // Every name of every brand: the catalogue's (all the Chinese names its items give),
        // then the well-known brands' Chinese names.
        let mut brand_names: Vec<(String, Vec<String>)> =
            self.brands.iter().map(|b| (b.name.clone(), b.zh_names().map(str::to_owned).collect())).collect();
        for (en, zh) in BRAND_ALIASES {
            match brand_names.iter_mut().find(|(n, z)| n.eq_ignore_ascii_case(en) || z.iter().any(|x| x == zh)) {
                Some((_, z)) if !z.iter().any(|x| x == zh) => z.push((*zh).to_owned()),
                Some(_) => {}
                None => brand_names.push(((*en).to_owned(), vec![(*zh).to_owned()])),
            }
        }
        for (name, zhs) in &brand_names {
            add(name, Ent::Brand(name.clone()));
            for z in zhs {
                add(z, Ent::Brand(name.clone()));
            }
        }
        for (i, (name, en, zh)) in COLORS.iter().enumerate() {
            for w in en.iter().chain(zh.iter()).chain(std::iter::once(name)) {
                add(w, Ent::Color(i));
            }
        }
        for (i, (name, en, zh)) in MATERIALS.iter().enumerate() {
            for w in en.iter().chain(zh.iter()).chain(std::iter::once(name)) {
                add(w, Ent::Material(i));
            }
        }
        for (_, en, zh) in COLOR_SHADES {
            for w in en.iter().chain(zh.iter()) {
                add(w, Ent::Attr("color".into(), en[0].to_owned()));
            }
        }
        for (i, r) in RECIPIENTS.iter().enumerate() {
            for w in r.en.iter().chain(r.zh.iter()) {
                add(w, Ent::Recipient(i));
            }
        }
        for (i, (_, en, zh, _)) in OCCASIONS.iter().enumerate() {
            for w in en.iter().chain(zh.iter()) {
                add(w, Ent::Occasion(i));
            }
        }
        // Synonym groups that hold a category name name that category with every member.
        let groups: Vec<Vec<String>> = SYNONYMS
            .iter()
            .map(|g| g.iter().map(|s| normalize(s)).collect())
            .chain(self.synonyms.iter().map(|g| g.iter().map(|s| normalize(s)).collect()))
            .collect();
        for g in &groups {
            let cats: Vec<Ent> = g
                .iter()
                .filter_map(|s| map.get(s))
                .flatten()
                .filter(|e| matches!(e, Ent::Category(_) | Ent::Brand(_)))
                .cloned()
                .collect();
            if let Some(first) = cats.first().cloned() {
                for s in g {
                    add_to(&mut map, s, first.clone());
                }
            }
        }
        // The catalogue's own attribute values (cast iron / 铸铁, damascus steel, sakura pink /
        // 樱花粉, a spec, a model): each names its exact value, unless a surface already names
        // something (a category, brand, colour or material family). Both spellings with a
        // space also match with a hyphen ("cast-iron").
        for (key, vals) in &self.attr_values {
            // A key with a value per item (an identifier, a serial) is no vocabulary.
            if vals.len() > 200 && vals.len() * 2 > self.items.len() {
                continue;
            }
            for (canon, surfaces) in vals {
                if surfaces.iter().any(|s| map.contains_key(s) && !matches!(map[s][..], [Ent::Attr(..)])) {
                    continue;
                }
                let canon = COLOR_SHADES
                    .iter()
                    .find(|(_, en, zh)| {
                        key == "color" && (en.contains(&canon.as_str()) || zh.contains(&canon.as_str()))
                    })
                    .map_or(canon.clone(), |(_, en, _)| en[0].to_owned());
                for s in surfaces {
                    add_to(&mut map, s, Ent::Attr(key.clone(), canon.clone()));
                }
            }
        }
        // Product nouns learned from titles, where no name above claims the surface: a
        // subcategory, or in a catalogue without categories a product term. A Chinese term
        // holding a known word (红色连衣裙) is left to that word.
        let known = |t: &str| {
            if map.contains_key(t) {
                return true;
            }
            let chars: Vec<char> = t.chars().collect();
            has_cjk(t)
                && (2..chars.len()).any(|n| {
                    (0..=chars.len() - n).any(|s| map.contains_key(&chars[s..s + n].iter().collect::<String>()))
                })
        };
        let parent = |c: u32| {
            let path = &self.cats[c as usize].path;
            path.rsplit_once('/').and_then(|(up, _)| self.cat_ids.get(up).copied())
        };
        let learned = self.nouns.learn(self.noun_params, known, parent);
        for (term, what) in learned {
            let e = match what {
                Learned::Category(c) => Ent::Category(self.cats[c as usize].path.clone()),
                Learned::Product => Ent::Attr(PRODUCT.to_owned(), term.clone()),
            };
            // Learned one-character Chinese nouns (锅) are kept: purity vouches for them.
            map.entry(term).or_insert_with(|| vec![e]);
        }
        for s in map.keys().filter(|s| s.contains(' ') && !has_cjk(s)).cloned().collect::<Vec<_>>() {
            let ents = map[&s].clone();
            for e in ents {
                add_to(&mut map, &s.replace(' ', "-"), e);
            }
        }
        let mut surfaces: Vec<&String> = map.keys().collect();
        surfaces.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        let alts: Vec<String> =
            surfaces
                .iter()
                .map(|s| {
                    if has_cjk(s) {
                        regex::escape(s)
                    } else {
                        format!(r"(?-u:\b){}(?:e?s)?(?-u:\b)", regex::escape(s))
                    }
                })
                .collect();
        // A large catalogue's vocabulary is a long alternation: allow it room.
        let re = if alts.is_empty() {
            None
        } else {
            regex::RegexBuilder::new(&alts.join("|")).size_limit(1 << 28).dfa_size_limit(1 << 26).build().ok()
        };
        self.vocab = Vocab { re, map };
    }

    /// Does any item in the categories `paths` (or below them) carry a colour (`key` =
    /// `color`) or material (`material`) attribute of its own? Where none does, a colour or
    /// material word in a request is a word of the product ("face cream", not the shade).
    pub fn categories_have(&self, paths: &[String], key: &str) -> bool {
        let bit = match key {
            "color" => 1u8,
            "material" => 2,
            _ => return true,
        };
        self.cats.iter().enumerate().any(|(i, c)| {
            self.cat_attr_bits.get(i).is_some_and(|b| b & bit != 0)
                && paths.iter().any(|p| daogou_core::category_matches(&c.path, p))
        })
    }

    /// Do titles of items in the categories `paths` (or below them) hold `term`, a word or
    /// pair of words of a request as the title nouns count them (`storage` + `box`: the
    /// Storage items' titles hold "box")?
    pub fn term_in_categories(&self, term: &str, paths: &[String]) -> bool {
        let term = term.trim();
        let singular = term.strip_suffix("es").into_iter().chain(term.strip_suffix('s'));
        std::iter::once(term).chain(singular).any(|t| {
            self.nouns.slots(t).iter().any(|&(c, n)| {
                n > 0
                    && self
                        .cats
                        .get(c as usize)
                        .is_some_and(|info| paths.iter().any(|p| daogou_core::category_matches(&info.path, p)))
            })
        })
    }

    /// The one category whose items' titles hold `term`, when only one category's do (at
    /// least one item, whatever the support): 伞车 is only in Strollers' titles.
    pub fn sole_category_of(&self, term: &str) -> Option<&str> {
        let mut held = self.nouns.slots(term).iter().filter(|&&(c, n)| n > 0 && c != NO_CAT);
        let &(c, _) = held.next()?;
        if held.next().is_some() {
            return None;
        }
        self.cats.get(c as usize).map(|info| info.path.as_str())
    }

    /// For a word that names both a brand and an attribute value (OpenBG has a brand 亚麻,
    /// the word for linen): do at least as many items of other brands hold the attribute as
    /// are of the brand?
    /// The reading more of the catalogue bears out is taken; on a tie, the attribute.
    pub fn attribute_outweighs_brand(&self, brand: &str, attr: &Ent) -> bool {
        let b = self.brand_by_name(brand);
        let (mut of_brand, mut with_attr) = (0usize, 0usize);
        for r in self.recs.iter().filter(|r| !r.deleted) {
            // The brand's own items count for the brand only (their titles hold its name).
            if b.is_some() && r.brand == b {
                of_brand += 1;
                continue;
            }
            with_attr += match attr {
                Ent::Color(i) => r.colors & (1 << i) != 0,
                Ent::Material(i) => r.materials & (1 << i) != 0,
                Ent::Attr(k, v) => r.attrs.iter().any(|(k2, t)| k2 == k && contains_word(t, v)),
                _ => false,
            } as usize;
        }
        with_attr >= of_brand
    }

    /// Category id of a path, if the catalogue has it.
    pub fn category_id(&self, path: &str) -> Option<u32> {
        self.cat_ids.get(path).copied()
    }

    /// Brand id by any spelling the catalogue knows (case-insensitive).
    pub fn brand_by_name(&self, name: &str) -> Option<u32> {
        self.brand_ids.get(&name.to_lowercase()).copied()
    }

    /// Name of a category path in the request language (leaf only).
    pub fn category_label(&self, path: &str, zh: bool) -> String {
        let info = self.category_id(path).map(|i| &self.cats[i as usize]);
        let full = match (zh, info.and_then(|c| c.zh.as_deref())) {
            (true, Some(z)) => z,
            _ => path,
        };
        full.rsplit('/').next().unwrap_or(full).to_owned()
    }

    pub fn brand_label(&self, name: &str, zh: bool) -> String {
        if zh {
            if let Some(z) = self.brand_by_name(name).and_then(|b| self.brands[b as usize].zh.clone()) {
                return z;
            }
            if let Some((_, z)) = BRAND_ALIASES.iter().find(|(e, _)| e.eq_ignore_ascii_case(name)) {
                return (*z).to_owned();
            }
        }
        name.to_owned()
    }

    /// Popularity used for "best-selling" and as a small prior.
    pub fn pop(&self, i: usize) -> f32 {
        match self.popularity.get(i) {
            Some(&p) if p.is_finite() => p.max(0.0),
            _ => self.recs[i].own_pop,
        }
    }

    /// Title in the request language when the catalogue has one (`title_zh` / `title_en`).
    pub fn title(&self, i: usize, zh: bool) -> &str {
        let it = &self.items[i];
        let key = if zh { "title_zh" } else { "title_en" };
        it.attributes.get(key).map(String::as_str).unwrap_or(&it.title)
    }
}
