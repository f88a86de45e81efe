//! The written request set on the demo shop: requests written by hand in Chinese, English
//! and a mix of both, in the ways shoppers type (terse, chatty, no spaces, stray spaces,
//! negations, bounds both ways, ranges, "around", currencies, colour families and exact
//! shades, materials, brands in either language, product nouns, recipients, "cheapest").
//!
//! Each request carries its hard constraints in a small notation, checked by the oracle below
//! against the raw item data (never through the guide's own filters), and scored like the
//! generated sets (`oracle.rs`): precision of the returned items, completeness (at least
//! min(5, matching items) returned), cheapest first where asked.
//!
//! The set has two parts, both written before any of it was run:
//! * `written_dev.rs`: the dev part, what the guide was worked on against; the test holds it
//!   to 100 % precision and 97 % completeness;
//! * `written_held_out.rs`: the held-out part, never tuned on; the test holds it to 100 %
//!   precision and reports its completeness.
//!
//! Notation, `;`-separated (every item must also be in stock):
//! `cat=Leaf|Top` (category leaf or top level, any of `|`), `notcat=…`, `brand=A|B`,
//! `notbrand=A`, `color=family`, `notcolor=family` (families as the shopper reads the colour,
//! `FAMILIES`), `shade=light blue` / `notshade=…` (the exact colour attribute), `mat=cotton` /
//! `notmat=…` (the material attribute), `min=`, `max=` (yuan, inclusive; a budget in another
//! currency converted at the guide's documented built-in rates, "around X" is X ± 20 % as
//! documented), `size=L`, `word=羽绒服` / `notword=辣` (in / not in the title: a product type narrower than
//! its subcategory), `cheapest`.

use daogou_core::Item;

use crate::oracle::{Oracle, Score};

/// Colour families as a shopper reads each colour of the demo shop (the `color` attribute,
/// lower case). A colour may be read as more than one family (豆沙色 "rose nude" is pinkish
/// brown): it counts for each of them, so it is never returned for "not pink".
const FAMILIES: &[(&str, &[&str])] = &[
    ("black", &["black"]),
    ("obsidian black", &["black"]),
    ("white", &["white"]),
    ("cream", &["white"]),
    ("red", &["red"]),
    ("classic red", &["red"]),
    ("maple red", &["red"]),
    ("blue", &["blue"]),
    ("navy", &["blue"]),
    ("glacier blue", &["blue"]),
    ("sky blue", &["blue"]),
    ("light blue", &["blue"]),
    ("dark blue", &["blue"]),
    ("grey", &["grey"]),
    ("neon green", &["green"]),
    ("olive", &["green"]),
    ("forest green", &["green"]),
    ("mint", &["green"]),
    ("khaki", &["khaki"]),
    ("sand", &["khaki"]),
    ("oat", &["khaki"]),
    ("starlight silver", &["silver"]),
    ("sakura pink", &["pink"]),
    ("light pink", &["pink"]),
    ("rose nude", &["pink", "brown"]),
    ("natural wood", &["brown"]),
    ("milk tea", &["brown"]),
    ("coral", &["orange"]),
    ("orange", &["orange"]),
    ("butter yellow", &["yellow"]),
    ("rgb", &[]),
];

fn families(it: &Item) -> &'static [&'static str] {
    match it.attributes.get("color") {
        None => &[],
        Some(c) => {
            let c = c.to_lowercase();
            FAMILIES
                .iter()
                .find(|(name, _)| *name == c)
                .map(|(_, f)| *f)
                .unwrap_or_else(|| panic!("the oracle has no family for the colour {c:?}"))
        }
    }
}

fn in_cat(it: &Item, name: &str) -> bool {
    let path = it.category.as_deref().unwrap_or("");
    path == name || path.ends_with(&format!("/{name}")) || path.starts_with(&format!("{name}/"))
}

fn attr_is(it: &Item, key: &str, v: &str) -> bool {
    it.attributes.get(key).is_some_and(|a| a.eq_ignore_ascii_case(v))
}

/// One written request and its hard constraints.
pub struct Written {
    text: &'static str,
    spec: Vec<(&'static str, &'static str)>,
    cheapest: bool,
}

impl Written {
    pub fn new(text: &'static str, spec: &'static str) -> Written {
        let mut parts = Vec::new();
        let mut cheapest = false;
        for p in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            if p == "cheapest" {
                cheapest = true;
                continue;
            }
            let (k, v) = p.split_once('=').unwrap_or_else(|| panic!("{text}: bad constraint {p:?}"));
            let known = [
                "cat", "notcat", "brand", "notbrand", "color", "notcolor", "shade", "notshade", "mat", "notmat", "min",
                "max", "size", "word", "notword",
            ];
            assert!(known.contains(&k.trim()), "{text}: unknown constraint {k:?}");
            parts.push((k.trim(), v.trim()));
        }
        assert!(!parts.is_empty() || cheapest, "{text}: a written request has hard constraints");
        Written { text, spec: parts, cheapest }
    }

    fn holds(&self, it: &Item, k: &str, v: &str) -> bool {
        let any = |f: &dyn Fn(&str) -> bool| v.split('|').any(f);
        let price = it.price.unwrap_or(f64::NAN);
        let num = || v.parse::<f64>().unwrap_or_else(|_| panic!("{}: {k}={v} is not a number", self.text));
        match k {
            "cat" => any(&|c| in_cat(it, c)),
            "notcat" => !any(&|c| in_cat(it, c)),
            "brand" => any(&|b| it.brand.as_deref() == Some(b)),
            "notbrand" => it.brand.as_deref() != Some(v),
            "color" => families(it).contains(&v),
            "notcolor" => !families(it).contains(&v),
            "shade" => attr_is(it, "color", v),
            "notshade" => !attr_is(it, "color", v),
            "mat" => attr_is(it, "material", v),
            "notmat" => !attr_is(it, "material", v),
            "min" => price >= num(),
            "max" => price <= num(),
            "size" => {
                it.attributes.get("sizes").is_some_and(|s| s.split(',').any(|x| x.trim().eq_ignore_ascii_case(v)))
            }
            "word" => it.title.to_lowercase().contains(&v.to_lowercase()),
            "notword" => !it.title.contains(v),
            _ => unreachable!(),
        }
    }
}

impl Oracle for Written {
    fn text(&self) -> &str {
        self.text
    }
    fn cheapest(&self) -> bool {
        self.cheapest
    }
    fn meets(&self, it: &Item) -> bool {
        it.available && !it.deleted && self.spec.iter().all(|(k, v)| self.holds(it, k, v))
    }
}

fn score(cases: &[Written]) -> Score {
    let (items, g) = crate::shop();
    let mut s = Score::default();
    for c in cases {
        s.ask(g, items, c);
    }
    s
}

fn is_zh(t: &str) -> bool {
    t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn written_dev_requests_are_answered_precisely() {
    let cases = crate::written_dev::cases();
    assert!(cases.len() >= 50, "{} dev requests", cases.len());
    let zh = cases.iter().filter(|c| is_zh(c.text)).count();
    assert!(zh >= 20 && cases.len() - zh >= 20, "{zh} with Chinese of {}", cases.len());
    let s = score(&cases);
    s.report("written dev");
    for f in s.failures.iter().skip(15) {
        eprintln!("  {f}");
    }
    assert_eq!(s.precise_items, s.returned, "written dev precision {:.4}", s.precision());
    assert!(s.completeness() >= 0.97, "written dev completeness {:.4}", s.completeness());
    assert_eq!(s.sorted, s.cheapest, "cheapest requests are answered cheapest first");
}

/// The held-out part (`-- --nocapture` prints both figures): nothing was tuned on it. It is
/// held to issue 13's bar, 100 % precision; its completeness is only reported.
#[test]
fn written_held_out_requests_are_reported() {
    let cases = crate::written_held_out::cases();
    assert!(cases.len() >= 50, "{} held-out requests", cases.len());
    let s = score(&cases);
    s.report("written held-out");
    for f in s.failures.iter().skip(15) {
        eprintln!("  {f}");
    }
    assert_eq!(s.requests, cases.len());
    assert!(s.returned > 0, "the held-out requests returned no item");
    assert_eq!(s.precise_items, s.returned, "written held-out precision {:.4}", s.precision());
}
