//! Request understanding without any external service: budgets and price ranges in both
//! languages and currencies, category / brand / colour / material / size mentions against the
//! catalogue's vocabulary, recipients, occasions, sort intents, negations and refinements of
//! the previous answer. Everything recognised is blanked out of the text; what is left
//! becomes search keywords.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use daogou_core::category_matches;
use regex::{Captures, Regex};

use crate::catalog::{CatInfo, Catalog, Ent, PRODUCT};
use crate::lexicon::{
    COLORS, FOOD_INTENT, FOOD_NAMES, GIFT_WORDS, MATERIALS, OCCASIONS, ORDINALS_EN, RECIPIENTS, REFINEMENTS, SORTS,
    STOP_EN, STOP_ZH,
};
use crate::text::{contains_word, has_cjk, is_cjk, money, normalize, query_analyzer, tokens};
use crate::{GuideConfig, Parse};

/// The default exchange rate (CNY per USD) when the configuration gives none.
pub const DEFAULT_USD_CNY: f64 = 7.2;

/// A parse plus what only the answer step needs.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub parse: Parse,
    /// "more like the second one": the 1-based position in the previous answer.
    pub more_like: Option<usize>,
    /// Soft search terms from the recipient and occasion (they rank, never filter).
    pub soft: Vec<String>,
}

const AMT: &str = r"(?:(usd|us\$|\$|rmb|cny|¥|£|€|gbp|eur)\s*)?(\d+(?:\.\d+)?)\s*(k|千|万|w)?(?:\s*(元|块钱|块|rmb|cny|人民币|美元|美金|刀|英镑|欧元|usd|gbp|eur|dollars?|bucks|yuan|kuai|pounds?|quid|euros?))?";

fn amt(i: usize) -> String {
    // Distinct group names per amount so one regex can hold two amounts.
    AMT.replacen("(usd|", &format!("(?P<pre{i}>usd|"), 1)
        .replacen(r"(\d+(?:\.\d+)?)", &format!(r"(?P<num{i}>\d+(?:\.\d+)?)"), 1)
        .replacen("(k|千|万|w)", &format!("(?P<mul{i}>k|千|万|w)"), 1)
        .replacen("(元|", &format!("(?P<suf{i}>元|"), 1)
}

struct PriceRes {
    range: Regex,
    min_strong: Regex,
    max_pre: Regex,
    max_post: Regex,
    min_pre: Regex,
    min_post: Regex,
    around_pre: Regex,
    around_post: Regex,
    bare: Regex,
}

static PRICE: LazyLock<PriceRes> = LazyLock::new(|| {
    let (a, b) = (amt(1), amt(2));
    let re = |s: String| Regex::new(&s).expect("price regex");
    PriceRes {
        range: re(format!(
            r"(?P<ctx>(?-u:\b)between\s+|(?-u:\b)from\s+|在\s*|价格\s*|价位\s*|预算\s*)?{a}\s*(?P<conn>-|~|(?-u:\b)to(?-u:\b)|(?-u:\b)and(?-u:\b)|到|至)\s*{b}(?P<post>\s*(?:之间|以内|范围内|范围|的价位))?"
        )),
        // Lower bounds whose words contain an upper bound's ("不低于" holds "低于", "not less
        // than" holds "less than"): read before the upper bounds.
        min_strong: re(format!(
            r"(?:(?-u:\b)(?:at least|no less than|not less than|not under|not below|no lower than|not lower than|not cheaper than|minimum of|min of)(?-u:\b)|不低于|不少于|不小于|不便宜于|至少|起码|最少|最低)\s*{a}(?:\s*以上)?"
        )),
        max_pre: re(format!(
            r"(?:(?-u:\b)(?:under|below|less than|cheaper than|lower than|up to|at most|max(?:imum)?|within|no more than|not more than|not over|not above|not exceeding|no higher than|not higher than|no pricier than|budget(?:\s+of|\s+is)?)(?-u:\b)|<=?|不超过|别超过|不要超过|不能超过|不得超过|不超出|别超出|不高于|不多于|不大于|低于|少于|小于|最多|至多|最高|不到|预算(?:是|为|在|只有)?)\s*{a}(?:\s*(?:以内|以下|之内))?"
        )),
        max_post: re(format!(
            r"{a}\s*(?:以内|以下|之内|内|(?-u:\b)(?:or less|or under|and under|and below|or below|max|at most)(?-u:\b)|封顶)"
        )),
        min_pre: re(format!(
            r"(?:(?-u:\b)(?:over|above|more than|min(?:imum)?|starting at|from)(?-u:\b)|>=?|高于|超过|大于|多于)\s*{a}(?:\s*以上)?"
        )),
        min_post: re(format!(r"{a}\s*(?:以上|起|(?-u:\b)(?:or more|and up|and above|plus)(?-u:\b)|\+)")),
        around_pre: re(format!(
            r"(?:(?-u:\b)(?:around|about|approximately|approx|roughly|circa)(?-u:\b)|~|大约|大概|差不多|约)\s*{a}(?:\s*(?:左右|上下))?"
        )),
        around_post: re(format!(r"{a}\s*(?:左右|上下)")),
        bare: re(a.clone()),
    }
});

static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d),(\d{3})(?-u:\b)").expect("regex"));
static ZH_NUM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[一二两三四五六七八九十][零一二两三四五六七八九十百千万]*").expect("regex"));
static SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:(?-u:\b)size\s*:?\s*|尺码\s*|码数\s*|穿\s*)(?P<a>\d{2,3}(?:\.5)?|xxxl|xxl|xl|xs|s|m|l)(?-u:\b)|(?-u:\b)(?P<b>\d{2,3}(?:\.5)?|xxxl|xxl|xl|xs|s|m|l)\s*(?:码|号)")
        .expect("size regex")
});
static MORE_LIKE_EN: LazyLock<Regex> = LazyLock::new(|| {
    let ords: Vec<&str> = ORDINALS_EN.iter().map(|(w, _)| *w).collect();
    Regex::new(&format!(
        r"(?-u:\b)(?:more\s+like|similar\s+to|something\s+like|same\s+as|like)\s+(?:the\s+)?(?:(?P<w>{})|(?:number|no\.?|#)\s*(?P<d>\d+)|(?P<last>last))(?:\s+(?:one|item|product|pick))?(?-u:\b)",
        ords.join("|")
    ))
    .expect("more-like regex")
});
static MORE_LIKE_ZH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<pre>像|类似于?|和|跟|与)?\s*第\s*(?P<n>[一二三四五六七八九十]|\d+)\s*(?:个|款|件|双|条|本|台|只)?\s*(?P<post>那样|那种|一样|类似|相似|差不多|这样|同款)?的?")
        .expect("more-like regex")
});
static NEG_EN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:anything but|other than|don'?t want|do not want|but not|isn'?t|aren'?t|wasn'?t|doesn'?t|don'?t|not|no|none|without|except|excluding|exclude|avoid|never)(?-u:\b)")
        .expect("negation regex")
});
static NEG_ZH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"不想要|不要|别要|不用|除了|除去|不含|不包括|不带|排除|不喜欢|不买|不是|没有|非|别")
        .expect("negation regex")
});

/// Negation words in `text` as byte spans, minus the words that only contain one: 有没有
/// ("is there"), 是不是 ("is it"), 非常 ("very"), 别的 ("other").
fn negations(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = NEG_EN.find_iter(text).map(|m| (m.start(), m.end())).collect();
    for m in NEG_ZH.find_iter(text) {
        let (before, after) = (&text[..m.start()], &text[m.end()..]);
        let skip = match m.as_str() {
            "没有" => before.ends_with('有'),
            "不是" => before.ends_with('是'),
            "非" => after.starts_with(['常', '凡', '洲']),
            "别" => after.starts_with(['的', '人', '处']),
            _ => false,
        };
        if !skip {
            out.push((m.start(), m.end()));
        }
    }
    out.sort();
    out
}

/// A range without a currency or a range word ("100-300", "100到300", "100 to 300") counts
/// when it reads as prices: a dash range stands alone (not in a model name such as `wh-1000`)
/// and is not followed by a unit of something else (`38-40码`).
fn bare_range_ok(text: &str, c: &Captures, a: f64, b: f64) -> bool {
    let conn = c.name("conn").map_or("", |m| m.as_str());
    // Not an increasing pair of positive amounts (NaN included): not a range.
    if conn == "and" || a.partial_cmp(&b) != Some(std::cmp::Ordering::Less) || a <= 0.0 {
        return false;
    }
    let m = c.get(0).unwrap();
    let before = text[..m.start()].chars().next_back();
    let after = text[m.end()..].chars().next();
    let glued = |ch: Option<char>| ch.is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.');
    if glued(before) || glued(after) || after.is_some_and(|ch| "码号岁寸件个米cmgl".contains(ch)) {
        return false;
    }
    true
}

/// Value of a Chinese numeral such as 三百, 两千五百, 一万.
#[doc(hidden)]
pub fn zh_number(s: &str) -> Option<f64> {
    let digit = |c: char| "零一二三四五六七八九".find(c).map(|i| (i / 3) as f64).or((c == '两').then_some(2.0));
    let (mut total, mut section, mut number) = (0.0, 0.0, 0.0);
    for c in s.chars() {
        if let Some(d) = digit(c) {
            number = d;
        } else {
            let unit = match c {
                '十' => 10.0,
                '百' => 100.0,
                '千' => 1000.0,
                '万' => {
                    total += (section + number) * 10_000.0;
                    section = 0.0;
                    number = 0.0;
                    continue;
                }
                _ => return None,
            };
            section += if number == 0.0 && unit == 10.0 { 1.0 } else { number } * unit;
            number = 0.0;
        }
    }
    Some(total + section + number)
}

/// Chinese numerals next to money words become digits ("三百块" → "300块").
#[doc(hidden)]
pub fn convert_zh_numbers(s: &str) -> String {
    ZH_NUM
        .replace_all(s, |c: &Captures| {
            let m = c.get(0).unwrap();
            let rest = &s[m.end()..];
            let moneyish = ["元", "块", "美元", "美金", "刀", "以内", "以下", "以上", "左右", "到", "至", "多"]
                .iter()
                .any(|w| rest.starts_with(w));
            let has_unit = m.as_str().chars().any(|ch| "十百千万".contains(ch));
            let before = &s[..m.start()];
            let after_word = [
                "预算", "超过", "超出", "低于", "高于", "少于", "多于", "至少", "大约", "大概", "最多", "至多", "最少",
            ]
            .iter()
            .any(|w| before.trim_end().ends_with(w));
            match zh_number(m.as_str()) {
                Some(v) if (moneyish || after_word || (has_unit && m.as_str().chars().count() >= 2)) => {
                    format!("{v}")
                }
                _ => m.as_str().to_owned(),
            }
        })
        .into_owned()
}

/// The currency a symbol or word names (`¥`, `元` and `RMB` are yuan; `$` is the US dollar).
pub fn currency_of(tok: &str) -> Option<&'static str> {
    match tok {
        "$" | "usd" | "us$" | "dollar" | "dollars" | "bucks" | "美元" | "美金" | "刀" => Some("USD"),
        "¥" | "rmb" | "cny" | "元" | "块" | "块钱" | "人民币" | "yuan" | "kuai" => Some("CNY"),
        "£" | "gbp" | "pound" | "pounds" | "quid" | "英镑" => Some("GBP"),
        "€" | "eur" | "euro" | "euros" | "欧元" => Some("EUR"),
        _ => None,
    }
}

/// Built-in exchange rates: units of each currency per US dollar (approximate; a shop sets
/// its own with `GuideConfig::rates`).
pub const DEFAULT_RATES: &[(&str, f64)] = &[("USD", 1.0), ("CNY", DEFAULT_USD_CNY), ("GBP", 0.79), ("EUR", 0.92)];

/// A rate for display: four significant digits.
fn show_rate(r: f64) -> String {
    if r <= 0.0 || !r.is_finite() {
        return r.to_string();
    }
    let digits = 3 - r.log10().floor() as i32;
    let f = 10f64.powi(digits.max(0));
    format!("{}", (r * f).round() / f)
}

/// The parser's working text: recognised spans are blanked with spaces (byte lengths kept).
struct Work {
    text: String,
}

impl Work {
    fn blank(&mut self, start: usize, end: usize) {
        let n = end - start;
        self.text.replace_range(start..end, &" ".repeat(n));
    }
}

struct Amount {
    value: f64,
    currency: Option<&'static str>,
}

fn read_amount(c: &Captures, i: usize) -> Option<Amount> {
    let num: f64 = c.name(&format!("num{i}"))?.as_str().parse().ok()?;
    let mul = match c.name(&format!("mul{i}")).map(|m| m.as_str()) {
        Some("k") | Some("千") => 1000.0,
        Some("万") | Some("w") => 10_000.0,
        _ => 1.0,
    };
    let cur = c
        .name(&format!("pre{i}"))
        .and_then(|m| currency_of(m.as_str()))
        .or_else(|| c.name(&format!("suf{i}")).and_then(|m| currency_of(m.as_str())));
    Some(Amount { value: num * mul, currency: cur })
}

pub struct Parser<'a> {
    pub cat: &'a Catalog,
    pub cfg: &'a GuideConfig,
}

impl Parser<'_> {
    /// Units of `cur` per US dollar: the configured table, `usd_cny_rate` for yuan, then the
    /// built-in rates.
    fn per_usd(&self, cur: &str) -> Option<f64> {
        let ok = |r: &f64| r.is_finite() && *r > 0.0;
        if let Some(r) = self.cfg.rates.iter().find(|(k, _)| k.eq_ignore_ascii_case(cur)).map(|(_, r)| *r) {
            return Some(r).filter(ok);
        }
        if cur == "CNY" {
            if let Some(r) = self.cfg.usd_cny_rate.filter(ok) {
                return Some(r);
            }
        }
        DEFAULT_RATES.iter().find(|(k, _)| *k == cur).map(|(_, r)| *r)
    }

    /// Convert `a` into the shop's currency; returns the value and a note when converted.
    fn to_shop(&self, a: &Amount) -> (f64, Option<String>) {
        let shop = self.cat.currency.as_str();
        let Some(from) = a.currency.filter(|c| *c != shop) else { return (a.value, None) };
        let (Some(f), Some(t)) = (self.per_usd(from), self.per_usd(shop)) else { return (a.value, None) };
        let rate = t / f;
        let v = (a.value * rate * 100.0).round() / 100.0;
        let note = format!("{} ≈ {} (1 {from} = {} {shop})", money(a.value, from), money(v, shop), show_rate(rate));
        (v, Some(note))
    }

    pub fn parse(&self, raw: &str) -> Parsed {
        let zh = has_cjk(raw);
        let mut text = normalize(raw);
        text = THOUSANDS.replace_all(&text, "$1$2").into_owned();
        text = convert_zh_numbers(&text);
        let mut w = Work { text };
        let mut p = Parse { language: if zh { "zh".into() } else { "en".into() }, ..Parse::default() };
        let mut notes: Vec<String> = Vec::new();
        let mut user_currency: Option<&'static str> = None;

        // 1. Prices.
        let mut min: Option<f64> = None;
        let mut max: Option<f64> = None;
        let mut set = |lo: Option<f64>, hi: Option<f64>| {
            if let Some(v) = lo {
                min = Some(min.map_or(v, |m: f64| m.max(v)));
            }
            if let Some(v) = hi {
                max = Some(max.map_or(v, |m: f64| m.min(v)));
            }
        };
        let res = &*PRICE;
        // (regex, kind): 0 range, 1 max, 2 min, 3 around, 4 bare amount with a currency
        let passes: [(&Regex, u8); 9] = [
            (&res.range, 0),
            (&res.min_strong, 2),
            (&res.max_pre, 1),
            (&res.max_post, 1),
            (&res.min_pre, 2),
            (&res.min_post, 2),
            (&res.around_pre, 3),
            (&res.around_post, 3),
            (&res.bare, 4),
        ];
        for (re, kind) in passes {
            loop {
                let snapshot = w.text.clone();
                let Some(c) = re.captures_iter(&snapshot).find(|c| {
                    let a = read_amount(c, 1);
                    match kind {
                        0 => {
                            let b = read_amount(c, 2);
                            let ctx = c.name("ctx").is_some() || c.name("post").is_some();
                            let cur = a.as_ref().is_some_and(|x| x.currency.is_some())
                                || b.as_ref().is_some_and(|x| x.currency.is_some());
                            let (Some(a), Some(b)) = (a, b) else { return false };
                            ctx || cur || bare_range_ok(&snapshot, c, a.value, b.value)
                        }
                        4 => a.as_ref().is_some_and(|x| x.currency.is_some()),
                        // "预算400左右": a budget said to be approximate is "around".
                        1 => {
                            let after = snapshot[c.get(0).unwrap().end()..].trim_start();
                            a.is_some() && !["左右", "上下", "or so"].iter().any(|w| after.starts_with(w))
                        }
                        _ => a.is_some(),
                    }
                }) else {
                    break;
                };
                let m = c.get(0).unwrap();
                let a = read_amount(&c, 1).unwrap();
                user_currency = user_currency.or(a.currency);
                let (va, na) = self.to_shop(&Amount { value: a.value, currency: a.currency.or(user_currency) });
                notes.extend(na);
                match kind {
                    0 => {
                        let b = read_amount(&c, 2).unwrap();
                        let cur = b.currency.or(a.currency).or(user_currency);
                        user_currency = user_currency.or(cur);
                        // "50-100美元": the currency after the second amount applies to both.
                        let (va, na) = if a.currency.is_none() && cur.is_some() {
                            self.to_shop(&Amount { value: a.value, currency: cur })
                        } else {
                            (va, None)
                        };
                        notes.extend(na);
                        let (vb, nb) = self.to_shop(&Amount { value: b.value, currency: cur });
                        notes.extend(nb);
                        set(Some(va.min(vb)), Some(va.max(vb)));
                    }
                    1 => set(None, Some(va)),
                    2 => set(Some(va), None),
                    _ => set(Some((va * 0.8 * 100.0).round() / 100.0), Some((va * 1.2 * 100.0).round() / 100.0)),
                }
                w.blank(m.start(), m.end());
            }
        }
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                // Contradictory bounds ("over 500 under 300"): keep the upper one.
                min = None;
            }
        }
        p.min_price = min;
        p.max_price = max;
        if min.is_some() || max.is_some() {
            p.currency = Some(self.cat.currency.clone());
        }
        notes.dedup();
        if !notes.is_empty() {
            p.price_note = Some(notes.join("; "));
        }

        // 2. Refinements ("more like the second one" carries an ordinal).
        let mut more_like = None;
        if let Some(c) = MORE_LIKE_EN.captures(&w.text.clone()) {
            let n = if let Some(x) = c.name("w") {
                ORDINALS_EN.iter().find(|(o, _)| *o == x.as_str()).map(|(_, n)| *n)
            } else if let Some(d) = c.name("d") {
                d.as_str().parse().ok()
            } else {
                Some(usize::MAX) // "the last one"
            };
            if let Some(n) = n.filter(|&n| n > 0) {
                more_like = Some(n);
                let m = c.get(0).unwrap();
                w.blank(m.start(), m.end());
            }
        }
        if more_like.is_none() {
            let snapshot = w.text.clone();
            for c in MORE_LIKE_ZH.captures_iter(&snapshot) {
                if c.name("pre").is_none() && c.name("post").is_none() {
                    continue;
                }
                let n = c.name("n").unwrap().as_str();
                let v = n.parse::<usize>().ok().or_else(|| zh_number(n).map(|v| v as usize));
                if let Some(v) = v.filter(|&v| v > 0) {
                    more_like = Some(v);
                    let m = c.get(0).unwrap();
                    w.blank(m.start(), m.end());
                    break;
                }
            }
        }
        if let Some(n) = more_like {
            p.refinement = Some(if n == usize::MAX { "more_like:#last".into() } else { format!("more_like:#{n}") });
        }
        for (name, en, zhs) in REFINEMENTS {
            if p.refinement.is_some() {
                break;
            }
            if let Some((s, e)) = find_phrase(&w.text, en, zhs) {
                p.refinement = Some((*name).to_owned());
                w.blank(s, e);
            }
        }

        // 3. Sort intent.
        for (name, en, zhs) in SORTS {
            if let Some((s, e)) = find_phrase(&w.text, en, zhs) {
                if p.sort.is_none() {
                    p.sort = Some((*name).to_owned());
                }
                w.blank(s, e);
            }
        }

        // 4. Sizes.
        if let Some(c) = SIZE.captures(&w.text.clone()) {
            let v = c.name("a").or(c.name("b")).unwrap().as_str().to_uppercase();
            p.attributes.insert("size".into(), v);
            let m = c.get(0).unwrap();
            w.blank(m.start(), m.end());
        }

        // 5. Mentions of categories, brands, colours, materials, recipients, occasions, with
        //    negations ("not red", "不要耐克", "no Nike or Adidas").
        let mentions = self.cat.vocab.find(&w.text);
        let mut negated = vec![false; mentions.len()];
        let mut neg_keywords: Vec<String> = Vec::new();
        let triggers = negations(&w.text);
        for &(ts, te) in &triggers {
            let first = mentions.iter().position(|m| m.start >= te && is_filler(&w.text[te..m.start], false));
            match first {
                Some(mut k) => {
                    negated[k] = true;
                    // The chain goes on to things of the same kind only: "no Nike or Adidas",
                    // "不要红色、蓝色", but "not from Zenflow, natural rubber" wants rubber.
                    while k + 1 < mentions.len()
                        && is_filler(&w.text[mentions[k].end..mentions[k + 1].start], true)
                        && same_kind(&mentions[k].ents, &mentions[k + 1].ents)
                    {
                        k += 1;
                        negated[k] = true;
                    }
                }
                None => {
                    // "不要辣的", "without sugar": the next word is excluded from titles.
                    if let Some((s, e, word)) = next_word(&w.text, te) {
                        neg_keywords.push(word);
                        w.blank(s, e);
                    }
                }
            }
            w.blank(ts, te);
        }
        let mut colors: Vec<usize> = Vec::new();
        let mut ex_colors: Vec<usize> = Vec::new();
        let mut mats: Vec<usize> = Vec::new();
        let mut ex_mats: Vec<usize> = Vec::new();
        let mut occasion: Option<usize> = None;
        let mut want_attrs: BTreeMap<String, String> = BTreeMap::new();
        let mut excl_attrs: BTreeMap<String, String> = BTreeMap::new();
        let mut products: Vec<String> = Vec::new();
        // The words that named the categories asked for ("cat" for Pet Supplies).
        let mut category_words: Vec<String> = Vec::new();
        let mut absorbed = vec![false; mentions.len()];
        let mut as_keyword = vec![false; mentions.len()];
        // Surfaces of the colours and materials asked for, by key (see below).
        let mut attr_surfaces: Vec<(&str, String)> = Vec::new();
        for (k, m) in mentions.iter().enumerate() {
            if absorbed[k] {
                w.blank(m.start, m.end);
                continue;
            }
            // A category right before another one modifies it ("business laptop"): it stays a
            // keyword instead of widening the category filter. When the one after contains it
            // ("business books": Books/Business, then Books), the narrower one is meant.
            let cats_of = |m: &crate::catalog::Mention| -> Vec<String> {
                m.ents.iter().filter_map(|e| if let Ent::Category(c) = e { Some(c.clone()) } else { None }).collect()
            };
            let cat_here = m.ents.iter().any(|e| matches!(e, Ent::Category(_)));
            let next_is_cat = mentions.get(k + 1).is_some_and(|n| {
                n.ents.iter().any(|e| matches!(e, Ent::Category(_)))
                    && w.text[m.end..n.start].trim().is_empty()
                    && !negated[k + 1]
            });
            if cat_here && next_is_cat && !negated[k] && m.ents.iter().all(|e| matches!(e, Ent::Category(_))) {
                let (here, next) = (cats_of(m), cats_of(&mentions[k + 1]));
                let narrower = here.iter().all(|c| next.iter().any(|up| up != c && category_matches(c, up)));
                // "storage box": the Storage items' titles hold "box", so Storage is the head
                // and "box" (which more Snacks titles hold) only ranks, as a keyword. Not when
                // the second lies inside the first ("shirt dress": Fashion, then Dresses).
                let n = &mentions[k + 1];
                let inside = next.iter().any(|c| here.iter().any(|up| category_matches(c, up)));
                if !narrower && !inside && self.cat.term_in_categories(&w.text[n.start..n.end], &here) {
                    as_keyword[k + 1] = true;
                } else if !narrower {
                    continue;
                } else {
                    absorbed[k + 1] = true;
                }
            }
            if as_keyword[k] {
                continue;
            }
            let ents = self.narrowed_by_modifier(&w.text, m, self.brand_or_attribute(&w.text, m));
            for e in &ents {
                match (e, negated[k]) {
                    (Ent::Category(c), false) => {
                        push_unique(&mut p.categories, c);
                        push_unique(&mut category_words, &w.text[m.start..m.end].trim().to_owned());
                    }
                    (Ent::Category(c), true) => push_unique(&mut p.exclude_categories, c),
                    (Ent::Brand(b), false) => push_unique(&mut p.brands, b),
                    (Ent::Brand(b), true) => push_unique(&mut p.exclude_brands, b),
                    (Ent::Color(i), false) => {
                        push_unique(&mut colors, i);
                        attr_surfaces.push(("color", w.text[m.start..m.end].to_owned()));
                    }
                    (Ent::Color(i), true) => push_unique(&mut ex_colors, i),
                    (Ent::Material(i), false) => {
                        push_unique(&mut mats, i);
                        attr_surfaces.push(("material", w.text[m.start..m.end].to_owned()));
                    }
                    (Ent::Material(i), true) => push_unique(&mut ex_mats, i),
                    (Ent::Attr(key, v), false) if key == PRODUCT => products.push(v.clone()),
                    (Ent::Attr(key, v), neg) => {
                        if !neg && (key == "color" || key == "material") {
                            attr_surfaces.push((
                                if key == "color" { "color" } else { "material" },
                                w.text[m.start..m.end].to_owned(),
                            ));
                        }
                        let one = BTreeMap::from([(key.clone(), v.clone())]);
                        merge_map(if neg { &mut excl_attrs } else { &mut want_attrs }, &one);
                    }
                    (Ent::Recipient(i), false) if p.recipient.is_none() => {
                        p.recipient = Some(RECIPIENTS[*i].name.to_owned());
                    }
                    // A specific occasion beats the generic "gift".
                    (Ent::Occasion(i), false) if occasion.is_none_or(|o| OCCASIONS[o].0 == "gift") => {
                        occasion = Some(*i);
                    }
                    _ => {}
                }
            }
            w.blank(m.start, m.end);
        }
        // A category that is also excluded is not wanted.
        p.categories.retain(|c| !p.exclude_categories.contains(c));
        self.food_intent(&mut w, &mut p.categories, &category_words);
        // A colour or material word asked of categories whose items have no colour (or
        // material) of their own is a word of the product, not a constraint: "face cream" in
        // Skincare is not the shade cream. It stays a keyword.
        let mut attr_words: Vec<String> = Vec::new();
        if !p.categories.is_empty() {
            for key in ["color", "material"] {
                if attr_surfaces.iter().any(|(k, _)| *k == key) && !self.cat.categories_have(&p.categories, key) {
                    if key == "color" {
                        colors.clear();
                    } else {
                        mats.clear();
                    }
                    want_attrs.remove(key);
                    attr_words
                        .extend(attr_surfaces.iter().filter(|(k, _)| *k == key).map(|(_, s)| s.trim().to_owned()));
                }
            }
        }
        p.brands.retain(|b| !p.exclude_brands.contains(b));
        let join =
            |v: &[usize], t: &[(&str, &[&str], &[&str])]| v.iter().map(|&i| t[i].0).collect::<Vec<_>>().join(",");
        colors.retain(|c| !ex_colors.contains(c));
        mats.retain(|c| !ex_mats.contains(c));
        if !colors.is_empty() {
            p.attributes.insert("color".into(), join(&colors, COLORS));
        }
        if !mats.is_empty() {
            p.attributes.insert("material".into(), join(&mats, MATERIALS));
        }
        if !ex_colors.is_empty() {
            p.exclude_attributes.insert("color".into(), join(&ex_colors, COLORS));
        }
        if !ex_mats.is_empty() {
            p.exclude_attributes.insert("material".into(), join(&ex_mats, MATERIALS));
        }
        // Product terms (a catalogue without categories): the last one named is the product
        // (the head comes last: "lunch bag", "男士运动鞋"), the ones before it only rank.
        if let Some(last) = products.pop() {
            want_attrs.insert(PRODUCT.to_owned(), last);
        }
        // Exact values (shades, catalogue materials, specs) join the families of their key.
        merge_map(&mut p.attributes, &want_attrs);
        merge_map(&mut p.exclude_attributes, &excl_attrs);
        for (k, v) in p.exclude_attributes.clone() {
            if let Some(want) = p.attributes.get(&k) {
                let keep: Vec<&str> = want.split(',').filter(|x| !v.split(',').any(|y| y == *x)).collect();
                if keep.is_empty() {
                    p.attributes.remove(&k);
                } else {
                    p.attributes.insert(k, keep.join(","));
                }
            }
        }
        p.occasion = occasion.map(|i| OCCASIONS[i].0.to_owned());
        p.exclude_keywords = neg_keywords;

        // 6. What is left: keywords.
        p.keywords = keywords(&w.text);
        for t in attr_words.iter().chain(&products) {
            push_unique(&mut p.keywords, t);
        }

        let mut soft: Vec<String> = Vec::new();
        if let Some(r) = RECIPIENTS.iter().find(|r| Some(r.name) == p.recipient.as_deref()) {
            soft.extend(r.interests.iter().map(|s| s.to_string()));
        }
        if p.occasion.is_some() {
            soft.extend(GIFT_WORDS.iter().map(|s| s.to_string()));
        }
        Parsed { parse: p, more_like, soft }
    }
}

impl Parser<'_> {
    /// Food intent ("something for my cat to eat", 给猫买点吃的): each category asked for that
    /// holds subcategories named for food ([`FOOD_NAMES`]) becomes those subcategories, and of
    /// them the ones whose names or titles hold a word of the request ("cat", 猫) when any
    /// does: Pet Supplies → Cat Food, not Cat Litter. With no category asked for, the food
    /// categories that a word of the request picks out are taken. The food words are used up
    /// when the categories end up about food; otherwise nothing changes and they stay keywords.
    fn food_intent(&self, w: &mut Work, categories: &mut Vec<String>, category_words: &[String]) {
        let mut spans = Vec::new();
        let mut probe = Work { text: w.text.clone() };
        while let Some((s, e)) = find_phrase(&probe.text, FOOD_INTENT.0, FOOD_INTENT.1) {
            spans.push((s, e));
            probe.blank(s, e);
        }
        // A food word may itself have named the category ("food" is learned from the titles
        // of cat food and dog food: Pet Supplies); it is intent, not a cue.
        let food_word = |w: &str| FOOD_INTENT.0.iter().chain(FOOD_INTENT.1).any(|f| *f == w);
        if spans.is_empty() && !category_words.iter().any(|w| food_word(w)) {
            return;
        }
        let cues: Vec<String> =
            category_words.iter().filter(|w| !food_word(w)).cloned().chain(keywords(&probe.text)).collect();
        let cats = &self.cat.cats;
        let food: Vec<&str> = cats.iter().filter(|c| named_for_food(c)).map(|c| c.path.as_str()).collect();
        let cued = |path: &str| {
            let info = cats.iter().find(|c| c.path == path);
            cues.iter()
                .any(|q| info.is_some_and(|c| name_holds(c, q)) || self.cat.term_in_categories(q, &[path.to_owned()]))
        };
        // Of the food categories `among`, those a cue picks out (all of them when none is
        // picked and `all_when_uncued`), innermost only.
        let choose = |among: Vec<&str>, all_when_uncued: bool| -> Vec<String> {
            let mut picked: Vec<&str> = among.iter().copied().filter(|&p| cued(p)).collect();
            if picked.is_empty() && all_when_uncued {
                picked = among;
            }
            let inner = |p: &str| !picked.iter().any(|&q| q != p && category_matches(q, p));
            picked.iter().copied().filter(|&p| inner(p)).map(str::to_owned).collect()
        };
        let narrowed: Vec<String> = if categories.is_empty() {
            choose(food.clone(), false)
        } else {
            let mut out = Vec::new();
            for c in categories.iter() {
                let inside: Vec<&str> =
                    food.iter().copied().filter(|f| *f != c.as_str() && category_matches(f, c)).collect();
                if food.contains(&c.as_str()) || inside.is_empty() {
                    push_unique(&mut out, c);
                } else {
                    for f in choose(inside, true) {
                        push_unique(&mut out, &f);
                    }
                }
            }
            out
        };
        if narrowed.is_empty() || !narrowed.iter().all(|c| food.contains(&c.as_str())) {
            return;
        }
        *categories = narrowed;
        for (s, e) in spans {
            w.blank(s, e);
        }
    }

    /// The things mention `m` names, with a word that is both a brand and an attribute value
    /// (OpenBG's brand 亚麻, the word for linen) read one way: the brand when a brand word
    /// stands next to it (亚麻牌, 品牌亚麻, "brand …"); otherwise whichever reading more items
    /// of the catalogue bear out (the brand's items against the items holding the value; on a
    /// tie the attribute), so that 亚麻的五分裤 asks for linen, not for a brand with one oil.
    fn brand_or_attribute(&self, text: &str, m: &crate::catalog::Mention) -> Vec<Ent> {
        let brand = m.ents.iter().find_map(|e| if let Ent::Brand(b) = e { Some(b.clone()) } else { None });
        let attr = m
            .ents
            .iter()
            .find(|e| matches!(e, Ent::Color(_) | Ent::Material(_)) || matches!(e, Ent::Attr(k, _) if k != PRODUCT));
        let (Some(brand), Some(attr)) = (brand, attr) else { return m.ents.clone() };
        let (before, after) = (text[..m.start].trim_end(), text[m.end..].trim_start());
        let cue = ["牌", "品牌", "brand"].iter().any(|w| after.starts_with(w))
            || ["品牌", "牌子", "brand", "brand:"].iter().any(|w| before.ends_with(w));
        let keep_brand = cue || !self.cat.attribute_outweighs_brand(&brand, attr);
        m.ents.iter().filter(|e| matches!(e, Ent::Brand(_)) == keep_brand).cloned().collect()
    }

    /// A Chinese head noun that names a category with the characters written right before it
    /// (伞车: 车 names Mother & Baby, learned from 推车 and 遥控车): when the titles of only
    /// one category hold the longer word, and that category lies inside the head's, the
    /// longer word is meant (伞车 → Strollers). Up to three characters are taken, longest
    /// first; the titles vouch for the narrower reading, however few they are.
    fn narrowed_by_modifier(&self, text: &str, m: &crate::catalog::Mention, ents: Vec<Ent>) -> Vec<Ent> {
        let cats: Vec<String> =
            ents.iter().filter_map(|e| if let Ent::Category(c) = e { Some(c.clone()) } else { None }).collect();
        let surface = &text[m.start..m.end];
        if cats.is_empty() || cats.len() != ents.len() || !surface.chars().all(is_cjk) {
            return ents;
        }
        let before: Vec<char> = text[..m.start].chars().rev().take_while(|c| is_cjk(*c)).take(3).collect();
        for n in (1..=before.len()).rev() {
            let word: String = before[..n].iter().rev().chain(surface.chars().collect::<Vec<_>>().iter()).collect();
            if let Some(path) = self.cat.sole_category_of(&word) {
                if cats.iter().any(|c| c != path && category_matches(path, c)) {
                    return vec![Ent::Category(path.to_owned())];
                }
            }
        }
        ents
    }
}

/// Is a category named for food (Cat Food, 猫粮, Food & Beverage) by its own name in either
/// language?
fn named_for_food(c: &CatInfo) -> bool {
    let leaf = c.path.rsplit('/').next().unwrap_or(&c.path).to_lowercase();
    let zh = c.zh.as_deref().map(|z| z.rsplit('/').next().unwrap_or(z));
    FOOD_NAMES.0.iter().any(|w| contains_word(&leaf, w))
        || zh.is_some_and(|z| FOOD_NAMES.1.iter().any(|w| z.contains(w)))
}

/// Does a category's own name (either language) hold the request word `q` ("cat" in Cat
/// Food, 猫 in 猫粮; an English word up to its plural)?
fn name_holds(c: &CatInfo, q: &str) -> bool {
    let q = normalize(q.trim());
    if q.is_empty() {
        return false;
    }
    let leaf = normalize(c.path.rsplit('/').next().unwrap_or(&c.path));
    if has_cjk(&q) {
        return c.zh.as_deref().is_some_and(|z| z.rsplit('/').next().unwrap_or(z).contains(q.as_str()));
    }
    let singular = q.strip_suffix("es").into_iter().chain(q.strip_suffix('s'));
    std::iter::once(q.as_str()).chain(singular).any(|t| t.len() > 1 && contains_word(&leaf, t))
}

/// The kind of thing an entity is, for negation chains: categories, brands, colours,
/// materials, other attributes (by key), recipients, occasions.
fn kind(e: &Ent) -> String {
    match e {
        Ent::Category(_) => "category".into(),
        Ent::Brand(_) => "brand".into(),
        Ent::Color(_) => "color".into(),
        Ent::Material(_) => "material".into(),
        Ent::Attr(k, _) => k.clone(),
        Ent::Recipient(_) => "recipient".into(),
        Ent::Occasion(_) => "occasion".into(),
    }
}

/// Do two mentions name something of the same kind?
fn same_kind(a: &[Ent], b: &[Ent]) -> bool {
    a.iter().any(|x| b.iter().any(|y| kind(x) == kind(y)))
}

fn push_unique<T: PartialEq + Clone>(v: &mut Vec<T>, x: &T) {
    if !v.contains(x) {
        v.push(x.clone());
    }
}

/// First occurrence of any phrase (English on word boundaries, Chinese anywhere), longest
/// phrases first.
fn find_phrase(text: &str, en: &[&str], zh: &[&str]) -> Option<(usize, usize)> {
    let mut all: Vec<&str> = en.iter().chain(zh.iter()).copied().collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for ph in all {
        if has_cjk(ph) {
            if let Some(s) = text.find(ph) {
                return Some((s, s + ph.len()));
            }
        } else {
            let mut from = 0;
            while let Some(pos) = text[from..].find(ph) {
                let s = from + pos;
                let e = s + ph.len();
                let ok_b = s == 0 || !text.as_bytes()[s - 1].is_ascii_alphanumeric();
                let ok_a = e == text.len() || !text.as_bytes()[e].is_ascii_alphanumeric();
                if ok_b && ok_a {
                    return Some((s, e));
                }
                from = e;
            }
        }
    }
    None
}

/// Is `gap` (between a negation and a mention, or between two negated mentions) only filler?
#[doc(hidden)]
pub fn is_filler(gap: &str, chain: bool) -> bool {
    if gap.len() > 16 {
        return false;
    }
    let mut rest = gap.trim();
    let words: &[&str] = if chain {
        &["or", "nor", "and", ",", "/", "、", "和", "或者", "或", "也不要", "也不", "跟", "the", "any"]
    } else {
        &[
            "the", "any", "a", "an", "in", "from", "by", "made of", "是", "要", "买", "用", "这种", "那种", "带", "含",
            "的",
        ]
    };
    'outer: while !rest.is_empty() {
        for w in words {
            if let Some(r) = rest.strip_prefix(w) {
                let boundary = has_cjk(w)
                    || !w.chars().all(|c| c.is_ascii_alphabetic())
                    || !r.starts_with(|c: char| c.is_ascii_alphanumeric());
                if boundary {
                    rest = r.trim_start();
                    continue 'outer;
                }
            }
        }
        return false;
    }
    true
}

/// The word right after a negation that names no known thing (for an excluded keyword).
fn next_word(text: &str, from: usize) -> Option<(usize, usize, String)> {
    let rest = &text[from..];
    let lead = rest.len() - rest.trim_start().len();
    let start = from + lead;
    let rest = &text[start..];
    let first = rest.chars().next()?;
    if is_cjk(first) {
        let word: String = rest.chars().take_while(|c| is_cjk(*c)).collect();
        let word = word.trim_end_matches('的').to_owned();
        let n = word.chars().count();
        if n == 0 || n > 4 || STOP_ZH.contains(&word.as_str()) || word.starts_with('太') {
            return None;
        }
        Some((start, start + word.len(), word))
    } else if first.is_ascii_alphabetic() {
        let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        if word.len() < 3 || STOP_EN.contains(&word.as_str()) {
            return None;
        }
        Some((start, start + word.len(), word))
    } else {
        None
    }
}

static WORD_EN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[a-z0-9][a-z0-9'+\-]*[a-z0-9+]|[a-z]").expect("regex"));

/// Keywords in what is left of the request: English words and jieba-cut Chinese words, minus
/// stop words and bare numbers.
#[doc(hidden)]
pub fn keywords(rest: &str) -> Vec<String> {
    static CUT: LazyLock<tantivy::tokenizer::TextAnalyzer> = LazyLock::new(|| query_analyzer(false));
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: String| {
        if !out.contains(&w) {
            out.push(w);
        }
    };
    let mut run = String::new();
    let flush_cjk = |run: &mut String, push: &mut dyn FnMut(String)| {
        if run.is_empty() {
            return;
        }
        for t in tokens(&CUT, run) {
            if !STOP_ZH.contains(&t.as_str()) && !t.chars().all(|c| c.is_ascii_digit()) {
                push(t);
            }
        }
        run.clear();
    };
    let mut ascii = String::new();
    for c in rest.chars() {
        if is_cjk(c) {
            ascii.push(' ');
            run.push(c);
        } else {
            flush_cjk(&mut run, &mut push);
            ascii.push(c);
        }
    }
    flush_cjk(&mut run, &mut push);
    for m in WORD_EN.find_iter(&ascii) {
        let wd = m.as_str();
        if wd.len() < 2 || STOP_EN.contains(&wd) || wd.chars().all(|c| c.is_ascii_digit() || c == '.') {
            continue;
        }
        push(wd.to_owned());
    }
    out
}

/// Does the item text satisfy a comma-separated family list (any of them)?
pub fn family_bits(list: &str, table: &[(&str, &[&str], &[&str])]) -> u32 {
    let mut bits = 0;
    for v in list.split(',') {
        let v = v.trim();
        if let Some(i) = table.iter().position(|(n, en, zh)| *n == v || en.contains(&v) || zh.contains(&v)) {
            bits |= 1 << i;
        }
    }
    bits
}

/// Merge a follow-up's constraints into the previous parse (new values win, exclusions add up).
pub fn merge(prev: &Parse, new: &Parse) -> Parse {
    let mut m = prev.clone();
    m.language = new.language.clone();
    if new.min_price.is_some() || new.max_price.is_some() {
        m.min_price = new.min_price;
        m.max_price = new.max_price;
        m.currency = new.currency.clone();
        m.price_note = new.price_note.clone();
    }
    for b in &new.exclude_brands {
        push_unique(&mut m.exclude_brands, b);
    }
    m.brands.retain(|b| !m.exclude_brands.contains(b));
    for c in &new.exclude_categories {
        push_unique(&mut m.exclude_categories, c);
    }
    m.categories.retain(|c| !m.exclude_categories.contains(c));
    merge_map(&mut m.exclude_attributes, &new.exclude_attributes);
    for (k, v) in &new.attributes {
        m.attributes.insert(k.clone(), v.clone());
    }
    // A newly excluded colour cancels the same wanted colour.
    for (k, v) in &m.exclude_attributes.clone() {
        if let Some(want) = m.attributes.get(k) {
            let keep: Vec<&str> = want.split(',').filter(|x| !v.split(',').any(|y| y == *x)).collect();
            if keep.is_empty() {
                m.attributes.remove(k);
            } else {
                m.attributes.insert(k.clone(), keep.join(","));
            }
        }
    }
    for k in &new.exclude_keywords {
        push_unique(&mut m.exclude_keywords, k);
    }
    if new.sort.is_some() {
        m.sort = new.sort.clone();
    }
    if new.recipient.is_some() {
        m.recipient = new.recipient.clone();
    }
    if new.occasion.is_some() {
        m.occasion = new.occasion.clone();
    }
    m.refinement = new.refinement.clone();
    m
}

/// Add comma-separated values of `add` to `into`.
pub fn merge_map(into: &mut BTreeMap<String, String>, add: &BTreeMap<String, String>) {
    for (k, v) in add {
        let e = into.entry(k.clone()).or_default();
        for x in v.split(',').filter(|x| !x.is_empty()) {
            if !e.split(',').any(|y| y == x) {
                if !e.is_empty() {
                    e.push(',');
                }
                e.push_str(x);
            }
        }
    }
}
