//! A generated evaluation set on real Chinese products: OpenBG-IMG (Taobao/Tmall products with
//! 品牌, 颜色分类 and 材质 among their attributes; CC BY-SA 4.0, Deng et al. 2022), read from
//! `../shared/datasets/openbg-img-zh` (SKIPPED when the dataset is missing, a failure with `CI=true`;
//! it is never copied into the repository).
//!
//! The catalogue: a seeded sample of the products, each with its name as title (mostly a
//! short product type such as 包臀打底连衣裙), brand (`ANTA/安踏` → `ANTA`, brand_zh `安踏`),
//! colour (颜色分类), material (材质, several joined with 、). **OpenBG has no prices: each
//! item gets a seeded price of ¥29–999**, so the budgets test the grammar, not real prices.
//! There are no categories: the guide learns its product terms from the titles.
//!
//! The requests, in Chinese: a product noun (the title when it has at most four characters,
//! else its last three, found in at least 3 titles and free of brand, colour and material
//! words), and at random the brand or an excluded brand, a colour family or an excluded one,
//! one of the item's materials, a budget and "cheapest" (`安踏的黑色休闲鞋，300元以内`). The
//! oracle checks every returned item against the item rows. Dev and held-out requests come
//! from different seeds; the test fails below 99 % precision or 97 % completeness on dev only.
//!
//! `cargo test -p daogou-guide --test it openbg -- --nocapture` prints the figures.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};

use daogou_core::datasets::shared;
use daogou_core::Item;
use daogou_guide::{Guide, GuideConfig};

use crate::oracle::{run_dev_and_held_out, Oracle, Rng};

const DEV_SEED: u64 = 20261208;
const HELD_OUT_SEED: u64 = 20261209;
/// Seed of the sample and of the prices.
const CATALOGUE_SEED: u64 = 20261205;
/// Products sampled (of 21,234), to keep the test quick on two cores.
const SAMPLE: usize = 8_000;
/// Requests per part.
const REQUESTS: usize = 500;
/// Titles that must hold a product noun for it to be asked for.
const NOUN_SUPPORT: usize = 3;

/// The oracle's colour families: a colour is in a family when it holds the character (粉红色
/// is pink and red), or one of the extra shades (藏青 is a blue, as documented).
const FAMILIES: &[(&str, &str, &[&str])] = &[
    ("红", "红色", &[]),
    ("黑", "黑色", &[]),
    ("白", "白色", &[]),
    ("蓝", "蓝色", &["藏青"]),
    ("灰", "灰色", &[]),
    ("绿", "绿色", &[]),
    ("粉", "粉色", &[]),
    ("黄", "黄色", &[]),
    ("紫", "紫色", &[]),
];

/// The documented material families (Chinese words): asking for one word asks for all.
const MATERIAL_FAMILIES: &[&[&str]] = &[
    &["纯棉", "全棉", "棉质"],
    &["皮革", "真皮", "皮质"],
    &["羊毛", "羊绒"],
    &["真丝", "丝绸", "桑蚕丝"],
    &["亚麻"],
    &["涤纶", "聚酯"],
    &["尼龙"],
    &["帆布"],
    &["网布", "网面"],
    &["飞织", "针织"],
    &["不锈钢"],
    &["铸铁"],
    &["陶瓷"],
    &["实木", "木质", "竹"],
    &["橡胶"],
];

/// Words a product noun avoids: what the guide's documented fixed lists give another meaning
/// (colours, materials, recipients, occasions, sort intents, well-known brands).
const AVOID: &[&str] = &[
    "色",
    "红",
    "黑",
    "白",
    "蓝",
    "灰",
    "绿",
    "粉",
    "黄",
    "紫",
    "橙",
    "橘",
    "棕",
    "褐",
    "卡其",
    "银",
    "金",
    "藏青",
    "米",
    "棉",
    "皮",
    "毛",
    "绒",
    "丝",
    "麻",
    "纶",
    "聚酯",
    "尼龙",
    "帆布",
    "网",
    "织",
    "钢",
    "铁",
    "瓷",
    "木",
    "竹",
    "橡胶",
    "儿童",
    "孩子",
    "小孩",
    "宝宝",
    "儿子",
    "女儿",
    "小朋友",
    "妈妈",
    "母亲",
    "爸爸",
    "父亲",
    "女友",
    "老婆",
    "男友",
    "老公",
    "学生",
    "朋友",
    "老人",
    "父母",
    "长辈",
    "老师",
    "玩家",
    "生日",
    "圣诞",
    "情人节",
    "新年",
    "礼物",
    "礼品",
    "送礼",
    "便宜",
    "实惠",
    "低价",
    "高端",
    "奢华",
    "畅销",
    "热销",
    "爆款",
    "人气",
    "最新",
    "新品",
    "新款",
    "上新",
    "小米",
    "苹果",
    "华为",
    "三星",
    "耐克",
    "安踏",
    "李宁",
    "彪马",
];

#[derive(Debug, Default)]
struct Row {
    title: String,
    brand: Option<String>,
    color: Option<String>,
    materials: Vec<String>,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

fn all_cjk(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// Read the products with their brand, colour and materials; sample them; give them prices.
fn catalogue() -> Option<Vec<Item>> {
    let path = shared("openbg-img-zh/OpenBG-IMG_train_dev_text.tsv.gz")?;
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (n, line) in BufReader::new(flate2::read::GzDecoder::new(file)).lines().enumerate().skip(1) {
        let line = line.unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7, "{}:{}: expected 7 fields", path.display(), n + 1);
        let (head, title, rel, tail) = (f[1], f[2].trim(), f[4], f[6].trim());
        let r = rows.entry(head.to_owned()).or_default();
        r.title = title.to_owned();
        match rel {
            "品牌" => r.brand = Some(tail.to_owned()),
            "颜色分类" => r.color = Some(tail.to_owned()),
            "材质" if !r.materials.iter().any(|m| m == tail) => r.materials.push(tail.to_owned()),
            _ => {}
        }
    }
    assert!(rows.len() > 20_000, "{} products", rows.len());
    // A seeded sample: the products with the smallest hashes of their ids.
    let mut keyed: Vec<(u64, String, Row)> =
        rows.into_iter().map(|(id, r)| (splitmix(CATALOGUE_SEED ^ fxhash(&id)), id, r)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    keyed.truncate(SAMPLE);
    keyed.sort_by(|a, b| a.1.cmp(&b.1));
    let items = keyed
        .into_iter()
        .map(|(h, id, r)| {
            let mut it = Item::new(id);
            it.title = r.title;
            if let Some(b) = r.brand {
                // "ANTA/安踏": the name before the slash, the Chinese one after it.
                match b.split_once('/') {
                    Some((en, zh)) if has_cjk(zh) && !en.trim().is_empty() => {
                        it.brand = Some(en.trim().to_owned());
                        it.attributes.insert("brand_zh".into(), zh.trim().to_owned());
                    }
                    _ => it.brand = Some(b.trim().to_owned()),
                }
            }
            if let Some(c) = r.color {
                it.attributes.insert("color".into(), c);
            }
            if !r.materials.is_empty() {
                it.attributes.insert("material".into(), r.materials.join("、"));
            }
            it.attributes.insert("currency".into(), "CNY".into());
            it.price = Some(29.0 + (splitmix(h) % 971) as f64);
            it
        })
        .collect();
    Some(items)
}

/// A stable hash of a string (FNV-1a), for the seeded sample.
fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// In a colour family: by its colour, else (as documented) by the family's word in the title.
fn in_family(it: &Item, fam: &str) -> bool {
    let Some(&(ch, word, extra)) = FAMILIES.iter().find(|f| f.0 == fam) else { return false };
    match it.attributes.get("color") {
        Some(c) => c.contains(ch) || extra.iter().any(|x| c.contains(x)),
        None => {
            let t = &it.title;
            t.contains(word) || t.contains(&format!("{ch}的")) || extra.iter().any(|x| t.contains(x))
        }
    }
}

/// The item's materials, else (as documented) its title.
fn materials(it: &Item) -> Vec<&str> {
    match it.attributes.get("material") {
        Some(m) => m.split('、').collect(),
        None => vec![it.title.as_str()],
    }
}

/// The item's own materials only (what a request may name).
fn own_materials(it: &Item) -> Vec<&str> {
    it.attributes.get("material").map(|m| m.split('、').collect()).unwrap_or_default()
}

#[derive(Debug, Default)]
struct Case {
    text: String,
    noun: String,
    min: Option<f64>,
    max: Option<f64>,
    color: Option<&'static str>,
    not_color: Option<&'static str>,
    material: Option<String>,
    brand: Option<String>,
    not_brand: Option<String>,
    cheapest: bool,
}

impl Oracle for Case {
    fn text(&self) -> &str {
        &self.text
    }

    fn cheapest(&self) -> bool {
        self.cheapest
    }

    fn meets(&self, it: &Item) -> bool {
        let brand_is = |b: &str| it.brand.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(b));
        let material_ok = |m: &str| {
            let family = MATERIAL_FAMILIES.iter().find(|f| f.contains(&m)).copied().unwrap_or(&[]);
            materials(it).iter().any(|v| v.contains(m) || family.iter().any(|w| v.contains(w)))
        };
        // the cheap tests first: the oracle checks every item of the catalogue per request
        it.in_stock()
            && self.min.is_none_or(|m| it.price.is_some_and(|p| p >= m))
            && self.max.is_none_or(|m| it.price.is_some_and(|p| p <= m))
            && it.title.to_lowercase().contains(&self.noun)
            && self.color.is_none_or(|f| in_family(it, f))
            && self.not_color.is_none_or(|f| !in_family(it, f))
            && self.material.as_deref().is_none_or(material_ok)
            && self.brand.as_deref().is_none_or(brand_is)
            && self.not_brand.as_deref().is_none_or(|b| !brand_is(b))
    }
}

/// The product noun of a title, when it has one worth asking for.
fn noun_of(title: &str, claimed: &[String]) -> Option<String> {
    let chars: Vec<char> = title.chars().collect();
    let noun: String = if chars.len() <= 4 { title.to_owned() } else { chars[chars.len() - 3..].iter().collect() };
    let free = all_cjk(&noun)
        && noun.chars().count() >= 2
        && !AVOID.iter().any(|w| noun.contains(w))
        && !claimed.iter().any(|w| noun.contains(w.as_str()));
    free.then_some(noun)
}

fn generate(items: &[Item], seed: u64) -> Vec<Case> {
    let mut rng = Rng(seed);
    // Brand, colour and material words of the catalogue: a noun holding one is not asked for.
    let mut claimed: Vec<String> = items
        .iter()
        .flat_map(|it| {
            let mut v: Vec<String> = it.brand.iter().cloned().collect();
            v.extend(it.attributes.get("brand_zh").cloned());
            v.extend(it.attributes.get("color").cloned());
            v.extend(own_materials(it).into_iter().map(str::to_owned));
            v
        })
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase())
        .collect();
    claimed.sort();
    claimed.dedup();
    let mut support: HashMap<String, usize> = HashMap::new();
    let brands: Vec<(String, String)> = {
        let mut b: Vec<(String, String)> = items
            .iter()
            .filter_map(|i| {
                let name = i.brand.clone()?;
                let zh = i.attributes.get("brand_zh").cloned().unwrap_or_else(|| name.clone());
                Some((name, zh))
            })
            .collect();
        b.sort();
        b.dedup();
        b
    };
    let seeds: Vec<usize> = (0..items.len()).collect();
    let mut out = Vec::with_capacity(REQUESTS);
    while out.len() < REQUESTS {
        let it = &items[*rng.pick(&seeds)];
        let Some(noun) = noun_of(&it.title, &claimed) else { continue };
        let n =
            *support.entry(noun.clone()).or_insert_with(|| items.iter().filter(|i| i.title.contains(&noun)).count());
        if n < NOUN_SUPPORT {
            continue;
        }
        let mut c = Case { noun: noun.to_lowercase(), ..Case::default() };
        let price = it.price.unwrap();
        let mut parts: Vec<String> = Vec::new();
        let mut tail: Vec<String> = Vec::new();
        match rng.below(4) {
            0 => {
                let p = (price * 1.2).ceil();
                c.max = Some(p);
                let f = *rng.pick(&[
                    "{p}元以内",
                    "{p}以下",
                    "不超过{p}元",
                    "别超过{p}",
                    "最多{p}块",
                    "低于{p}元",
                    "预算{p}",
                ]);
                tail.push(f.replace("{p}", &p.to_string()));
            }
            1 => {
                let p = (price * 0.8).floor();
                c.min = Some(p);
                let f = *rng.pick(&["{p}元以上", "至少{p}元", "不低于{p}", "超过{p}元", "高于{p}"]);
                tail.push(f.replace("{p}", &p.to_string()));
            }
            2 => {
                let (a, b) = ((price * 0.7).floor(), (price * 1.3).ceil());
                c.min = Some(a);
                c.max = Some(b);
                let f = *rng.pick(&["{a}到{b}元", "{a}-{b}元", "价格在{a}到{b}之间", "{a}至{b}块"]);
                tail.push(f.replace("{a}", &a.to_string()).replace("{b}", &b.to_string()));
            }
            _ => {}
        }
        let fams: Vec<&'static str> = FAMILIES.iter().map(|f| f.0).filter(|f| in_family(it, f)).collect();
        if rng.chance(0.4) && !fams.is_empty() {
            let f = *rng.pick(&fams);
            c.color = Some(f);
            let word = FAMILIES.iter().find(|x| x.0 == f).unwrap().1;
            parts.push(if rng.chance(0.5) { format!("{word}的") } else { word.to_owned() });
        } else if rng.chance(0.3) {
            let (f, word, _) = *rng.pick(FAMILIES);
            if !fams.contains(&f) {
                c.not_color = Some(f);
                tail.push(rng.pick(&["不要{c}", "不是{c}的", "除了{c}", "别要{c}的"]).replace("{c}", word));
            }
        }
        let mats: Vec<&str> = own_materials(it).into_iter().filter(|m| all_cjk(m) && m.chars().count() >= 2).collect();
        if rng.chance(0.35) && !mats.is_empty() {
            let m = *rng.pick(&mats);
            c.material = Some(m.to_owned());
            parts.push(format!("{m}的"));
        }
        if rng.chance(0.35) && it.brand.is_some() {
            let b = it.brand.clone().unwrap();
            let zh = it.attributes.get("brand_zh").cloned().unwrap_or_else(|| b.clone());
            parts.insert(0, format!("{}的", if rng.chance(0.7) { zh } else { b.clone() }));
            c.brand = Some(b);
        } else if rng.chance(0.2) {
            let (b, zh) = rng.pick(&brands).clone();
            if !it.brand.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(&b)) {
                tail.push(format!("不要{zh}"));
                c.not_brand = Some(b);
            }
        }
        if rng.chance(0.2) {
            c.cheapest = true;
            parts.insert(0, rng.pick(&["最便宜的", "便宜的", "性价比高的"]).to_string());
        }
        let lead = *rng.pick(&["", "我想买", "帮我找", "推荐", "有没有"]);
        c.text =
            format!("{lead}{}{noun}{}{}", parts.join(""), if tail.is_empty() { "" } else { "，" }, tail.join("，"));
        out.push(c);
    }
    out
}

#[test]
fn openbg_generated_requests() {
    let Some(items) = catalogue() else { return };
    let t = std::time::Instant::now();
    let g = Guide::new(&items, GuideConfig::default()).unwrap();
    eprintln!("openbg: {} items indexed in {:.1?}", items.len(), t.elapsed());
    run_dev_and_held_out("openbg", &g, &items, (DEV_SEED, HELD_OUT_SEED), |seed| generate(&items, seed));
}
