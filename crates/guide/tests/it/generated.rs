//! A generated evaluation set on the demo shop: seeded random combinations of constraints
//! (subcategory, budget, colour family, material, brand, exclusions, cheapest first), each
//! rendered through one of many phrasings in Chinese or English. An oracle written here checks
//! every returned item against the raw item rows, not through the guide's filters:
//! * precision: every returned item meets every hard constraint;
//! * completeness: at least min(5, number of matching items) items are returned;
//! * "cheapest" requests are answered cheapest first.
//!
//! About a third of the requests name the product by a noun of the seed item's title instead
//! of its subcategory (汤锅, "wok"): a noun that, in the raw titles, only that subcategory's
//! items hold; the guide must learn from the titles that it implies the subcategory.
//!
//! Requests alternate into a dev half (what the grammar and the noun thresholds were tuned on)
//! and a held-out half (only reported). `cargo test -p daogou-guide --test it generated --
//! --nocapture` prints the figures; `noun_threshold_sweep` (ignored; run it with
//! `--ignored`) prints the dev figures for each purity and support threshold.

use std::collections::HashMap;

use daogou_core::Item;
use daogou_guide::{Guide, GuideConfig};

use crate::oracle::{Oracle, Rng, Score};

/// Requests generated (half dev, half held out).
const REQUESTS: usize = 1200;
const SEED: u64 = 20261205;

/// The oracle's colour families: (family, English word, Chinese character, demo shades that
/// belong without naming the family).
const FAMILIES: &[(&str, &str, &str, &[&str])] = &[
    ("red", "red", "红", &[]),
    ("black", "black", "黑", &[]),
    ("white", "white", "白", &["cream"]),
    ("blue", "blue", "蓝", &["navy"]),
    ("grey", "grey", "灰", &[]),
    ("green", "green", "绿", &["olive", "mint"]),
    ("pink", "pink", "粉", &["rose nude"]),
    ("yellow", "yellow", "黄", &[]),
    ("orange", "orange", "橙", &["coral"]),
];

fn in_family(it: &Item, fam: &str) -> bool {
    let Some(&(_, en, zh, extra)) = FAMILIES.iter().find(|f| f.0 == fam) else { return false };
    let c = it.attributes.get("color").map(|s| s.to_lowercase()).unwrap_or_default();
    let cz = it.attributes.get("color_zh").cloned().unwrap_or_default();
    c.split_whitespace().any(|w| w == en) || cz.contains(zh) || extra.contains(&c.as_str())
}

fn zh_family(fam: &str) -> &'static str {
    match fam {
        "red" => "红色",
        "black" => "黑色",
        "white" => "白色",
        "blue" => "蓝色",
        "grey" => "灰色",
        "green" => "绿色",
        "pink" => "粉色",
        "yellow" => "黄色",
        _ => "橙色",
    }
}

/// One generated request: its text and the hard constraints it stands for.
#[derive(Debug, Default, Clone)]
struct Case {
    text: String,
    cat: String,
    min: Option<f64>,
    max: Option<f64>,
    color: Option<String>,
    not_color: Option<String>,
    material: Option<String>,
    brand: Option<String>,
    not_brand: Option<String>,
    cheapest: bool,
    /// The product was named by a title noun instead of the subcategory.
    noun: bool,
}

impl Oracle for Case {
    fn text(&self) -> &str {
        &self.text
    }

    fn cheapest(&self) -> bool {
        self.cheapest
    }

    fn meets(&self, it: &Item) -> bool {
        let a = |k: &str| it.attributes.get(k).map(String::as_str).unwrap_or("");
        it.in_stock()
            && it.category.as_deref() == Some(self.cat.as_str())
            && self.min.is_none_or(|m| it.price.is_some_and(|p| p >= m))
            && self.max.is_none_or(|m| it.price.is_some_and(|p| p <= m))
            && self.color.as_deref().is_none_or(|f| in_family(it, f))
            && self.not_color.as_deref().is_none_or(|f| !in_family(it, f))
            && self.material.as_deref().is_none_or(|m| a("material") == m)
            && self.brand.as_deref().is_none_or(|b| it.brand.as_deref() == Some(b))
            && self.not_brand.as_deref().is_none_or(|b| it.brand.as_deref() != Some(b))
    }
}

/// Nouns of an item's title in one language: the last one, two (English) or one to three
/// (Chinese) words or characters of the product name, before the spec and colour.
fn title_nouns(it: &Item, zh: bool) -> Vec<String> {
    let a = |k: &str| it.attributes.get(k).map(|s| s.to_lowercase()).unwrap_or_default();
    if zh {
        let t = a("title_zh");
        // "{brand} [model] {adjectives and noun} [spec] [colour]": the first Chinese word
        // after the brand.
        let Some(name) = t.split(' ').skip(1).find(|w| w.chars().any(|c| c as u32 >= 0x4E00)) else { return vec![] };
        let chars: Vec<char> = name.chars().collect();
        (1..=3.min(chars.len())).map(|n| chars[chars.len() - n..].iter().collect()).collect()
    } else {
        let mut t = a("title_en");
        for tail in [a("color"), a("spec")] {
            if !tail.is_empty() {
                if let Some(x) = t.strip_suffix(&format!(" {tail}")) {
                    t = x.to_owned();
                }
            }
        }
        let ws: Vec<&str> = t.split(' ').skip(1).collect();
        let mut out = Vec::new();
        for n in 1..=2.min(ws.len()) {
            let w = ws[ws.len() - n..].join(" ");
            if w.chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-' || c == '\'') {
                out.push(w);
            }
        }
        out
    }
}

/// Does the item's title in that language hold the noun (Chinese anywhere, English as words,
/// in the singular or plural)?
fn title_holds(it: &Item, noun: &str, zh: bool) -> bool {
    let key = if zh { "title_zh" } else { "title_en" };
    let t = it.attributes.get(key).map(|s| s.to_lowercase()).unwrap_or_default();
    if zh {
        t.contains(noun)
    } else {
        let t = format!(" {t} ");
        [" ", "s ", "es "].iter().any(|end| t.contains(&format!(" {noun}{end}")))
    }
}

/// Words a noun avoids because the guide's fixed lists give them another meaning: 刀 is also
/// slang for US dollars.
const CLAIMED: &[&str] = &["刀"];

/// The shorter nouns inside a noun that a shopper could mean on their own: its Chinese endings
/// of two characters or more and its last English word ("竞耳机" holds 耳机, "chew toy" holds
/// "toy").
fn inner_nouns(noun: &str, zh: bool) -> Vec<String> {
    if zh {
        let chars: Vec<char> = noun.chars().collect();
        (2..chars.len()).map(|n| chars[chars.len() - n..].iter().collect()).collect()
    } else {
        noun.rsplit_once(' ').map(|(_, last)| vec![last.to_owned()]).unwrap_or_default()
    }
}

fn generate(items: &[Item]) -> Vec<Case> {
    let mut rng = Rng(SEED);
    // Noun → (items holding it, the categories of those items), in each language.
    let mut noun_cats: HashMap<(String, bool), (usize, Vec<String>)> = HashMap::new();
    let seeds: Vec<&Item> =
        items.iter().filter(|i| i.in_stock() && i.price.is_some() && i.category.is_some()).collect();
    let brands: Vec<(String, String)> = {
        let mut b: Vec<(String, String)> =
            items.iter().filter_map(|i| Some((i.brand.clone()?, i.attributes.get("brand_zh")?.clone()))).collect();
        b.sort();
        b.dedup();
        b
    };
    let mut out = Vec::with_capacity(REQUESTS);
    while out.len() < REQUESTS {
        let it = *rng.pick(&seeds);
        let zh = rng.chance(0.5);
        let cat = it.category.clone().unwrap();
        let leaf_en = cat.rsplit('/').next().unwrap().to_owned();
        let leaf_zh =
            it.attributes.get("category_zh").and_then(|c| c.rsplit('/').next()).unwrap_or(&leaf_en).to_owned();
        // A noun of the title that only this subcategory's titles hold, at times, instead of
        // the subcategory's name.
        let mut product = if zh { leaf_zh.clone() } else { leaf_en.clone() };
        let mut by_noun = false;
        if rng.chance(0.35) {
            // Only this subcategory's titles hold the noun and the nouns inside it.
            let mut pure = |n: &str| {
                let (count, cats) = noun_cats.entry((n.to_owned(), zh)).or_insert_with(|| {
                    let holders: Vec<&Item> = items.iter().filter(|i| title_holds(i, n, zh)).collect();
                    let mut cats: Vec<String> = holders.iter().filter_map(|i| i.category.clone()).collect();
                    cats.sort();
                    cats.dedup();
                    (holders.len(), cats)
                });
                *count >= 2 && cats.len() == 1 && cats[0] == cat
            };
            let nouns: Vec<String> = title_nouns(it, zh)
                .into_iter()
                .filter(|n| !CLAIMED.contains(&n.as_str()) && pure(n) && inner_nouns(n, zh).iter().all(|x| pure(x)))
                .collect();
            if !nouns.is_empty() {
                product = rng.pick(&nouns).clone();
                by_noun = true;
            }
        }
        let mut c = Case { cat, noun: by_noun, ..Case::default() };
        let price = it.price.unwrap();
        let mut parts: Vec<String> = Vec::new();
        let mut tail: Vec<String> = Vec::new();
        // Budget: an upper bound, a lower bound or a range around the seed item's price.
        match rng.below(4) {
            0 => {
                let p = (price * 1.2).ceil();
                c.max = Some(p);
                let forms: &[&str] = if zh {
                    &[
                        "{p}元以内",
                        "{p}以下",
                        "不超过{p}元",
                        "别超过{p}",
                        "最多{p}块",
                        "至多{p}元",
                        "不高于{p}",
                        "低于{p}元",
                    ]
                } else {
                    &[
                        "under {p} yuan",
                        "below ¥{p}",
                        "less than {p} rmb",
                        "at most ¥{p}",
                        "no more than {p} yuan",
                        "up to ¥{p}",
                        "cheaper than {p} yuan",
                    ]
                };
                tail.push(rng.pick(forms).replace("{p}", &p.to_string()));
            }
            1 => {
                let p = (price * 0.8).floor();
                c.min = Some(p);
                let forms: &[&str] = if zh {
                    &["{p}元以上", "至少{p}元", "不低于{p}", "超过{p}元", "高于{p}"]
                } else {
                    &["over ¥{p}", "above {p} yuan", "more than ¥{p}", "at least {p} yuan"]
                };
                tail.push(rng.pick(forms).replace("{p}", &p.to_string()));
            }
            2 => {
                let (a, b) = ((price * 0.7).floor(), (price * 1.3).ceil());
                c.min = Some(a);
                c.max = Some(b);
                let forms: &[&str] = if zh {
                    &["{a}到{b}元", "{a}-{b}元", "价格在{a}到{b}之间", "{a}至{b}块"]
                } else {
                    &["between {a} and {b} yuan", "¥{a}-{b}", "{a} to {b} yuan", "from ¥{a} to ¥{b}"]
                };
                tail.push(rng.pick(forms).replace("{a}", &a.to_string()).replace("{b}", &b.to_string()));
            }
            _ => {}
        }
        // Colour family of the seed item, or the exclusion of another family.
        let fam = FAMILIES.iter().map(|f| f.0).find(|f| in_family(it, f));
        if rng.chance(0.4) {
            if let Some(f) = fam {
                c.color = Some(f.to_owned());
                parts.push(if zh { format!("{}的", zh_family(f)) } else { f.to_owned() });
            }
        } else if rng.chance(0.25) {
            let f = rng.pick(FAMILIES).0;
            if Some(f) != fam {
                c.not_color = Some(f.to_owned());
                let forms: &[&str] = if zh {
                    &["不要{c}", "不是{c}的", "除了{c}", "别要{c}的"]
                } else {
                    &["not {c}", "no {c}", "but not {c}", "except {c}"]
                };
                tail.push(rng.pick(forms).replace("{c}", if zh { zh_family(f) } else { f }));
            }
        }
        // Material, as the catalogue names it.
        if let (true, Some(m), Some(mz)) =
            (rng.chance(0.35), it.attributes.get("material"), it.attributes.get("material_zh"))
        {
            c.material = Some(m.clone());
            parts.push(if zh { mz.clone() } else { m.clone() });
        }
        // Brand, or the exclusion of another brand.
        if rng.chance(0.3) {
            if let (Some(b), Some(bz)) = (&it.brand, it.attributes.get("brand_zh")) {
                c.brand = Some(b.clone());
                parts.insert(0, if zh { format!("{bz}的") } else { b.clone() });
            }
        } else if rng.chance(0.2) {
            let (b, bz) = rng.pick(&brands).clone();
            if it.brand.as_deref() != Some(b.as_str()) {
                tail.push(if zh { format!("不要{bz}") } else { format!("except {b}") });
                c.not_brand = Some(b);
            }
        }
        if rng.chance(0.2) {
            c.cheapest = true;
            parts.insert(0, if zh { "最便宜的".into() } else { "cheapest".into() });
        }
        let lead: &[&str] =
            if zh { &["", "我想买", "帮我找", "推荐"] } else { &["", "i want ", "show me ", "looking for "] };
        let lead = rng.pick(lead).to_string();
        c.text = if zh {
            format!("{lead}{}{}{}{}", parts.join(""), product, if tail.is_empty() { "" } else { "，" }, tail.join("，"))
        } else {
            format!(
                "{lead}{} {}{}{}",
                parts.join(" "),
                product,
                if tail.is_empty() { "" } else { ", " },
                tail.join(", ")
            )
        };
        out.push(c);
    }
    out
}

/// Dev and held-out scores of the generated requests on a guide over the demo shop; the
/// third score is the dev requests that name their product by a title noun.
fn score(g: &Guide, items: &[Item], cases: &[Case]) -> (Score, Score, Score) {
    let (mut dev, mut held, mut nouns) = (Score::default(), Score::default(), Score::default());
    for (k, c) in cases.iter().enumerate() {
        if k % 2 == 0 {
            dev.ask(g, items, c);
            if c.noun {
                nouns.ask(g, items, c);
            }
        } else {
            held.ask(g, items, c);
        }
    }
    (dev, held, nouns)
}

#[test]
fn generated_requests_meet_precision_and_completeness() {
    let (items, g) = crate::shop();
    let cases = generate(items);
    for c in cases.iter().take(8) {
        eprintln!("example: {}", c.text);
    }
    for c in cases.iter().filter(|c| c.noun).take(6) {
        eprintln!("example (noun): {}", c.text);
    }
    let (dev, held, nouns) = score(g, items, &cases);
    dev.report("dev");
    held.report("held-out");
    nouns.report("dev, products named by a noun");
    assert!(dev.requests + held.requests >= 1000);
    assert!(nouns.requests >= 100, "{} noun requests", nouns.requests);
    assert!(dev.precision() >= 0.99, "dev precision {:.4}", dev.precision());
    assert!(dev.completeness() >= 0.97, "dev completeness {:.4}", dev.completeness());
    assert!(nouns.precision() >= 0.99, "noun precision {:.4}", nouns.precision());
    assert!(nouns.completeness() >= 0.97, "noun completeness {:.4}", nouns.completeness());
    assert_eq!(dev.sorted, dev.cheapest, "cheapest requests are answered cheapest first");
}

/// How the thresholds of the learned nouns were chosen: the dev half's figures for each
/// purity and support (the held-out half is not looked at).
#[test]
#[ignore = "a sweep for choosing thresholds (about a minute): --ignored --nocapture"]
fn noun_threshold_sweep() {
    let (items, _) = crate::shop();
    let cases = generate(items);
    for support in [1, 2, 3, 4, 5] {
        for purity in [0.5, 0.6, 0.7, 0.8, 0.9, 1.0] {
            let cfg = GuideConfig {
                noun_min_purity: Some(purity),
                noun_min_support: Some(support),
                ..GuideConfig::default()
            };
            let g = Guide::new(items, cfg).unwrap();
            let (dev, _, nouns) = score(&g, items, &cases);
            eprintln!(
                "support {support} purity {purity:.1}: dev precision {:.4} completeness {:.4}; noun requests ({}) precision {:.4} completeness {:.4}",
                dev.precision(),
                dev.completeness(),
                nouns.requests,
                nouns.precision(),
                nouns.completeness()
            );
        }
    }
}
