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
