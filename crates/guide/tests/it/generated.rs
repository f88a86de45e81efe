//! A generated evaluation set on the demo shop: seeded random combinations of constraints
//! (subcategory, budget, colour family, material, brand, exclusions, cheapest first), each
//! rendered through one of many phrasings in Chinese or English. An oracle written here checks
//! every returned item against the raw item rows, not through the guide's filters:
//! * precision: every returned item meets every hard constraint;
//! * completeness: at least min(5, number of matching items) items are returned;
//! * "cheapest" requests are answered cheapest first.
//!
//! Requests alternate into a dev half (what the grammar was tuned on) and a held-out half
//! (only reported). `cargo test -p daogou-guide --test it generated -- --nocapture` prints the
//! figures.

use daogou_core::Item;
use daogou_guide::AskRequest;

/// Requests generated (half dev, half held out).
const REQUESTS: usize = 1200;
const SEED: u64 = 20261205;

/// splitmix64: a seeded generator without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

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
}

impl Case {
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

fn generate(items: &[Item]) -> Vec<Case> {
    let mut rng = Rng(SEED);
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
        let mut c = Case { cat, ..Case::default() };
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
            format!("{lead}{}{}{}{}", parts.join(""), leaf_zh, if tail.is_empty() { "" } else { "，" }, tail.join("，"))
        } else {
            format!(
                "{lead}{} {}{}{}",
                parts.join(" "),
                leaf_en,
                if tail.is_empty() { "" } else { ", " },
                tail.join(", ")
            )
        };
        out.push(c);
    }
    out
}

#[derive(Default)]
struct Score {
    requests: usize,
    returned: usize,
    precise_items: usize,
    precise_requests: usize,
    complete: usize,
    sorted: usize,
    cheapest: usize,
    failures: Vec<String>,
}

#[test]
fn generated_requests_meet_precision_and_completeness() {
    let (items, g) = crate::shop();
    let cases = generate(items);
    for c in cases.iter().take(8) {
        eprintln!("example: {}", c.text);
    }
    let (mut dev, mut held) = (Score::default(), Score::default());
    for (k, c) in cases.iter().enumerate() {
        let s = if k % 2 == 0 { &mut dev } else { &mut held };
        let a = g.ask(&AskRequest { text: c.text.clone(), n: Some(10), ..Default::default() }, None, &[]).unwrap();
        let matching = items.iter().filter(|it| c.meets(it)).count();
        s.requests += 1;
        let mut ok = true;
        for p in &a.items {
            s.returned += 1;
            let it = items.iter().find(|i| i.id == p.id).unwrap();
            if c.meets(it) {
                s.precise_items += 1;
            } else {
                ok = false;
                s.failures.push(format!("imprecise: {} → {} ({:?})", c.text, p.title, it.attributes.get("color")));
            }
        }
        s.precise_requests += ok as usize;
        if a.items.len() >= matching.min(5) {
            s.complete += 1;
        } else {
            s.failures.push(format!("incomplete: {} → {} of {matching}; parse {:?}", c.text, a.items.len(), a.parse));
        }
        if c.cheapest {
            s.cheapest += 1;
            let prices: Vec<f64> = a.items.iter().filter_map(|p| p.price).collect();
            if prices.windows(2).all(|w| w[0] <= w[1]) {
                s.sorted += 1;
            } else {
                s.failures.push(format!("unsorted: {}", c.text));
            }
        }
    }
    for (name, s) in [("dev", &dev), ("held-out", &held)] {
        eprintln!(
            "{name}: {} requests, {} items returned; precision {:.4} of items ({:.4} of requests), completeness {:.4}, cheapest first {}/{}",
            s.requests,
            s.returned,
            s.precise_items as f64 / s.returned.max(1) as f64,
            s.precise_requests as f64 / s.requests as f64,
            s.complete as f64 / s.requests as f64,
            s.sorted,
            s.cheapest
        );
        for f in s.failures.iter().take(15) {
            eprintln!("  {f}");
        }
    }
    assert!(dev.requests + held.requests >= 1000);
    let precision = dev.precise_items as f64 / dev.returned.max(1) as f64;
    let completeness = dev.complete as f64 / dev.requests as f64;
    assert!(precision >= 0.99, "dev precision {precision:.4}");
    assert!(completeness >= 0.97, "dev completeness {completeness:.4}");
    assert_eq!(dev.sorted, dev.cheapest, "cheapest requests are answered cheapest first");
}
