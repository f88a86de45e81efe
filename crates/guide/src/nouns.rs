//! Product nouns learned from the catalogue's own titles, with no fixed list.
//!
//! Every title gives candidate terms: its English words and pairs of adjacent words, and for
//! each run of Chinese characters the run itself and its endings of one to four characters
//! (Chinese compounds end in their head noun: 汤锅 and 炒锅 are both 锅). The catalogue
//! counts, per term, the items holding it in each category. Then:
//! * in a catalogue with categories, a term found in at least `min_support` items of one
//!   subcategory, and in that subcategory for at least `min_purity` of its items, implies that
//!   subcategory (锅 → Cookware); a term spread over several subcategories implies none of
//!   them, but the parent they share when it passes the same test there ("cat" in cat food,
//!   cat litter and cat toys → Pet Supplies); spread over several parents, nothing;
//! * in a catalogue without categories (Online Retail's descriptions), a term found in at
//!   least `min_support` titles is a product term: asking for it requires it in the title
//!   (`attributes.product`, "lunch bag").
//!
//! Counts are kept up to date as items are added or replaced, so learning is a pass over the
//! terms, not over the items.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::lexicon::{STOP_EN, STOP_ZH};
use crate::text::{glued, is_cjk, normalize};

/// Purity chosen on the demo shop's dev requests (README, "Product nouns").
pub const DEFAULT_MIN_PURITY: f64 = 0.7;
/// Support chosen on the demo shop's dev requests (README, "Product nouns").
pub const DEFAULT_MIN_SUPPORT: usize = 2;

/// The category slot of items without a category.
pub const NO_CAT: u32 = u32::MAX;

/// Longest Chinese ending taken as a candidate (head nouns are short).
const MAX_ZH_SUFFIX: usize = 4;
/// Longest Chinese run taken whole (a short product type such as 包臀打底连衣裙).
const MAX_ZH_RUN: usize = 8;

/// Thresholds of the learning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NounParams {
    /// Share of a term's items that must lie in its top subcategory (0–1].
    pub min_purity: f64,
    /// Items of the top subcategory (or, without categories, titles) that must hold the term.
    pub min_support: usize,
}

impl Default for NounParams {
    fn default() -> Self {
        NounParams { min_purity: DEFAULT_MIN_PURITY, min_support: DEFAULT_MIN_SUPPORT }
    }
}

/// What a learned term names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Learned {
    /// A category id of the catalogue.
    Category(u32),
    /// A product term of a catalogue without categories.
    Product,
}

static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[a-z0-9]+(?:['\-][a-z0-9]+)*").expect("regex"));

fn content_word(w: &str) -> bool {
    w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '\'') && !STOP_EN.contains(&w)
}

/// Candidate terms of one title, each once.
pub fn candidates(title: &str) -> Vec<String> {
    let t = normalize(title);
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    // English: content words, and adjacent pairs separated by spaces only, or by one comma,
    // slash or ampersand with no space ("TEA,COFFEE" is the pair "tea coffee"; a comma
    // before a space ends a phrase).
    let mut prev: Option<(usize, &str)> = None;
    for m in WORD.find_iter(&t) {
        let w = m.as_str();
        if !content_word(w) {
            prev = None;
            continue;
        }
        push(w.to_owned());
        if let Some((end, p)) = prev {
            if t[end..m.start()].chars().all(|c| c == ' ') || glued(&t[end..m.start()]) {
                push(format!("{p} {w}"));
            }
        }
        prev = Some((m.end(), w));
    }
    // Chinese: each run, whole when short, and its endings.
    let chars: Vec<char> = t.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        if !is_cjk(chars[k]) {
            k += 1;
            continue;
        }
        let start = k;
        while k < chars.len() && is_cjk(chars[k]) {
            k += 1;
        }
        let run = &chars[start..k];
        for n in 1..=run.len().min(MAX_ZH_SUFFIX) {
            push(run[run.len() - n..].iter().collect());
        }
        if run.len() <= MAX_ZH_RUN {
            push(run.iter().collect());
        }
    }
    out.retain(|s| !STOP_ZH.contains(&s.as_str()));
    out
}

/// Items per (term, category), kept as items come and go.
#[derive(Debug, Default)]
pub struct NounCounts {
    terms: HashMap<String, Vec<(u32, u32)>>,
    /// Items counted, and those among them with a category.
    items: usize,
    with_cat: usize,
}

impl NounCounts {
    /// Count (or, with `add = false`, uncount) one item's title under `cat`.
    pub fn update(&mut self, title: &str, cat: u32, add: bool) {
        if title.trim().is_empty() {
            return;
        }
        if add {
            self.items += 1;
            self.with_cat += (cat != NO_CAT) as usize;
        } else {
            self.items = self.items.saturating_sub(1);
            self.with_cat = self.with_cat.saturating_sub((cat != NO_CAT) as usize);
        }
        for term in candidates(title) {
            let slots = self.terms.entry(term).or_default();
            match slots.iter_mut().find(|(c, _)| *c == cat) {
                Some((_, n)) if add => *n += 1,
                Some((_, n)) => *n = n.saturating_sub(1),
                None if add => slots.push((cat, 1)),
                None => {}
            }
        }
    }

    /// Items holding `term` (a candidate as [`candidates`] gives it), per category.
    pub fn slots(&self, term: &str) -> &[(u32, u32)] {
        self.terms.get(term).map_or(&[], Vec::as_slice)
    }

    /// Items counted.
    pub fn items(&self) -> usize {
        self.items
    }

    /// Whether most items have a category (nouns then imply categories, else they are
    /// product terms).
    pub fn categorised(&self) -> bool {
        self.with_cat * 2 > self.items
    }

    /// The learned terms, sorted, each with what it names. `known` tells which surfaces
    /// already name something (a category, brand, colour …): they, and pairs holding one, are
    /// left to it. `parent` gives a category's parent: a term spread over the subcategories of
    /// one parent ("cat" in cat food, cat litter and cat toys) implies the parent.
    pub fn learn(
        &self,
        params: NounParams,
        known: impl Fn(&str) -> bool,
        parent: impl Fn(u32) -> Option<u32>,
    ) -> Vec<(String, Learned)> {
        // Plurals fold into their singular when the catalogue has it ("candles" → "candle").
        let fold = |t: &str| -> String {
            if t.is_ascii() && t.len() > 3 {
                for suffix in ["es", "s"] {
                    if let Some(stem) = t.strip_suffix(suffix) {
                        if self.terms.contains_key(stem) {
                            return stem.to_owned();
                        }
                    }
                }
            }
            t.to_owned()
        };
        let mut folded: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        for (t, slots) in &self.terms {
            let f = folded.entry(fold(t)).or_default();
            for &(c, n) in slots {
                match f.iter_mut().find(|(c2, _)| *c2 == c) {
                    Some((_, m)) => *m += n,
                    None => f.push((c, n)),
                }
            }
        }
        let categorised = self.categorised();
        let min_support = params.min_support.max(1) as u32;
        let mut out: Vec<(String, Learned)> = folded
            .into_iter()
            .filter(|(t, _)| !known(t.as_str()) && !t.split(' ').any(&known))
            .filter_map(|(t, slots)| {
                if categorised {
                    let slots: Vec<(u32, u32)> = slots.into_iter().filter(|(c, _)| *c != NO_CAT).collect();
                    if let Some(c) = pure(&slots, params.min_purity, min_support) {
                        return Some((t, Learned::Category(c)));
                    }
                    let mut up: Vec<(u32, u32)> = Vec::new();
                    for (c, n) in slots {
                        let p = parent(c)?;
                        match up.iter_mut().find(|(q, _)| *q == p) {
                            Some((_, m)) => *m += n,
                            None => up.push((p, n)),
                        }
                    }
                    pure(&up, params.min_purity, min_support).map(|c| (t, Learned::Category(c)))
                } else {
                    let total: u32 = slots.iter().map(|(_, n)| n).sum();
                    (total >= min_support).then_some((t, Learned::Product))
                }
            })
            .collect();
        out.sort();
        out
    }
}

/// The category holding at least `min_support` of the term's items and `min_purity` of them.
fn pure(slots: &[(u32, u32)], min_purity: f64, min_support: u32) -> Option<u32> {
    let total: u32 = slots.iter().map(|(_, n)| n).sum();
    let &(top, n) = slots.iter().max_by_key(|(c, n)| (*n, u32::MAX - c))?;
    (n >= min_support && n as f64 >= min_purity * total as f64).then_some(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(rows: &[(&str, u32)]) -> NounCounts {
        let mut c = NounCounts::default();
        for (title, cat) in rows {
            c.update(title, *cat, true);
        }
        c
    }

    const COOKWARE: u32 = 0;
    const RUNNING: u32 = 1;
    const HIKING: u32 = 2;
    const SNACKS: u32 = 3;
    // The top levels: Home holds cookware, Sports running and hiking, Food snacks.
    const HOME: u32 = 4;
    const SPORTS: u32 = 5;
    const FOOD: u32 = 6;

    fn parent(c: u32) -> Option<u32> {
        match c {
            COOKWARE => Some(HOME),
            RUNNING | HIKING => Some(SPORTS),
            SNACKS => Some(FOOD),
            _ => None,
        }
    }

    fn shop() -> NounCounts {
        counts(&[
            ("炉火 不粘炒锅 Non-stick Wok", COOKWARE),
            ("炉火 加厚汤锅 Stock Pot", COOKWARE),
            ("北舍 平底锅 Frying Pan", COOKWARE),
            ("匠心 少油烟炒锅 Wok", COOKWARE),
            ("Swiftstep 轻量跑鞋 Running Shoes", RUNNING),
            ("Aerofit 缓震跑鞋 Running Shoes", RUNNING),
            ("Peak 防水登山鞋 Hiking Boots", HIKING),
            ("Peak 徒步鞋 Hiking Shoes", HIKING),
            ("山野 自热火锅", SNACKS),
            // 礼盒 / gift box: one in each top level.
            ("山野 坚果礼盒 Nut Gift Box", SNACKS),
            ("匠心 锅具礼盒 Cookware Gift Box", COOKWARE),
            ("Aerofit 跑鞋礼盒 Running Gift Box", RUNNING),
        ])
    }

    fn learned(c: &NounCounts, p: NounParams) -> HashMap<String, Learned> {
        c.learn(p, |s| matches!(s, "炉火" | "北舍" | "匠心" | "swiftstep" | "aerofit" | "peak" | "山野"), parent)
            .into_iter()
            .collect()
    }

    #[test]
    fn candidates_take_words_pairs_and_chinese_endings() {
        let c = candidates("炉火 不粘炒锅 Non-stick Wok");
        for t in ["non-stick", "wok", "non-stick wok", "锅", "炒锅", "粘炒锅", "不粘炒锅"] {
            assert!(c.contains(&t.to_string()), "{t}: {c:?}");
        }
        // No pair across punctuation, no stop words, no numbers.
        let c = candidates("HAND WARMER, UNION JACK 12 PC");
        assert!(c.contains(&"hand warmer".to_string()) && c.contains(&"union jack".to_string()), "{c:?}");
        assert!(!c.iter().any(|t| t == "warmer union" || t == "12" || t == "pc"), "{c:?}");
        assert!(!candidates("a set of the best").iter().any(|t| t == "the" || t == "best"));
        // A comma written without a space joins a pair, as a space does.
        let c = candidates("SET 3 RETROSPOT TEA,COFFEE,SUGAR");
        assert!(c.contains(&"tea coffee".to_string()) && c.contains(&"coffee sugar".to_string()), "{c:?}");
    }

    #[test]
    fn a_pure_noun_implies_its_subcategory() {
        let l = learned(&shop(), NounParams { min_purity: 0.75, min_support: 2 });
        // 锅 ends four cookware titles and one snack (自热火锅): 0.8 pure.
        assert_eq!(l.get("锅"), Some(&Learned::Category(COOKWARE)));
        assert_eq!(l.get("炒锅"), Some(&Learned::Category(COOKWARE)));
        assert_eq!(l.get("wok"), Some(&Learned::Category(COOKWARE)));
        assert_eq!(l.get("跑鞋"), Some(&Learned::Category(RUNNING)));
        // Known names (brands) are left alone.
        assert_eq!(l.get("炉火"), None);
    }

    #[test]
    fn a_noun_spread_over_several_subcategories_implies_none_of_them() {
        let l = learned(&shop(), NounParams { min_purity: 0.75, min_support: 2 });
        // 礼盒 / gift box: one title in each of three top levels: nothing at all.
        for t in ["礼盒", "gift box", "box", "gift"] {
            assert_eq!(l.get(t), None, "{t}: {l:?}");
        }
        // 鞋 and shoes: running and hiking shoes, no single subcategory; both are sports.
        assert_eq!(l.get("鞋"), Some(&Learned::Category(SPORTS)), "{l:?}");
        assert_eq!(l.get("shoes"), Some(&Learned::Category(SPORTS)), "{l:?}");
    }

    #[test]
    fn thresholds_decide() {
        // Purity: 锅 is 4 of 5 cookware; at 0.9 it implies no subcategory (and no top level:
        // cookware and snacks are in different ones).
        let strict = learned(&shop(), NounParams { min_purity: 0.9, min_support: 2 });
        assert_eq!(strict.get("锅"), None);
        assert_eq!(strict.get("炒锅"), Some(&Learned::Category(COOKWARE)));
        // Support: 汤锅 is in one title.
        let one = learned(&shop(), NounParams { min_purity: 0.75, min_support: 1 });
        assert_eq!(one.get("汤锅"), Some(&Learned::Category(COOKWARE)));
        assert_eq!(learned(&shop(), NounParams { min_purity: 0.75, min_support: 2 }).get("汤锅"), None);
    }

    #[test]
    fn counts_follow_replaced_items() {
        let mut c = shop();
        // The snack leaves: 锅 becomes pure cookware even at 0.9.
        c.update("山野 自热火锅", SNACKS, false);
        let l = learned(&c, NounParams { min_purity: 0.9, min_support: 2 });
        assert_eq!(l.get("锅"), Some(&Learned::Category(COOKWARE)));
    }

    #[test]
    fn without_categories_frequent_terms_are_product_terms() {
        let c = counts(&[
            ("LUNCH BAG RED RETROSPOT", NO_CAT),
            ("LUNCH BAG  BLACK SKULL.", NO_CAT),
            ("JUMBO BAG PINK POLKADOT", NO_CAT),
            ("WHITE HANGING HEART T-LIGHT HOLDER", NO_CAT),
            ("RED HANGING HEART T-LIGHT HOLDER", NO_CAT),
            ("SCENTED CANDLES", NO_CAT),
            ("PINK CANDLE", NO_CAT),
        ]);
        assert!(!c.categorised());
        let colour = |s: &str| matches!(s, "red" | "black" | "pink" | "white");
        let l: HashMap<String, Learned> = c.learn(NounParams::default(), colour, |_| None).into_iter().collect();
        for t in ["lunch bag", "bag", "t-light holder", "hanging heart", "candle"] {
            assert_eq!(l.get(t), Some(&Learned::Product), "{t}: {l:?}");
        }
        // Plurals fold into the singular; colours and pairs with a colour are left alone.
        assert_eq!(l.get("candles"), None);
        assert_eq!(l.get("red"), None);
        assert_eq!(l.get("bag red"), None);
        // Seen once: not enough support.
        assert_eq!(l.get("jumbo bag"), None);
    }
}
