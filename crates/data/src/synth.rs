//! The synthetic demo shop: a deterministic, realistic-looking bilingual e-shop, plus small
//! datasets with planted structure for model tests.
//!
//! * [`generate_shop`] builds a catalogue ([`Item`]s) and a behaviour log ([`Event`]s) for a
//!   shop with ~11 top-level categories and ~55 subcategories, invented brands, log-normal
//!   prices in CNY, bilingual titles, and users with latent taste segments ([`ShopTruth`]).
//! * [`planted_ratings`] / [`planted_implicit`]: tiny explicit / implicit [`Dataset`]s where
//!   users in cluster `c` like the item block of cluster `c`.
//!
//! Everything is driven by a built-in xoshiro256++ generator seeded from the config, so the
//! same config gives byte-identical output on every run and every platform with IEEE `f64`.
//!
//! ## Catalogue conventions
//!
//! * `id`: `p00001`, … numbered in listing order (`created_at` ascending).
//! * `category`: English path `"Top/Sub"`, e.g. `"Sports & Outdoors/Running Shoes"`;
//!   `attributes["category_zh"]` is the same path in Chinese, e.g. `"运动户外/跑鞋"`.
//! * `brand`: the brand's English name (`"Swiftstep"`); `attributes["brand_zh"]` its Chinese
//!   name (`"迅步"`).
//! * `title`: bilingual, `"{brand} {中文标题} {English title} [{规格} {spec}] [{颜色} {Colour}]"`, e.g.
//!   `"Swiftstep 轻量缓震跑鞋 Lightweight Cushioned Running Shoes 红色 Red"`; titles are unique.
//!   `attributes["title_zh"]` / `attributes["title_en"]` hold the single-language versions
//!   (with the brand in that language) for bilingual search and display.
//! * `price`: CNY, "shop-like" (`199`, `29.9`); `attributes["currency"] = "CNY"`.
//! * Optional attributes: `color` (lowercase English, `"red"`) + `color_zh` (`"红色"`),
//!   `material` + `material_zh`, `sizes` (comma-separated size options, `"S,M,L,XL"`),
//!   `spec` (variant such as `"256GB"`, `"500g"`, `"L 54 pcs"`) + `spec_zh` when it differs
//!   (`"L 54片"`), `model` (`"X3"`),
//!   `consumable = "true"` for repeat-purchase goods.
//! * Always present: `review_score` (`"4.7"`), `review_count` (`"1234"`).
//! * `created_at`: ~75% listed in the year before day 0, the rest during the period with a
//!   cluster of new arrivals in its last 15%. `stock`/`available`: ~4% out of stock.
//!
//! ## Event conventions
//!
//! * Users are `u0000`, `u0001`, …; events are sorted by timestamp (stable), all within
//!   `[start, start + days·86400)`. Day 0 defaults to 2026-09-01 00:00 Beijing time and the
//!   daily rhythm (lunch and evening peaks), weekends and the 11.11 / 6.18 / 12.12 shopping
//!   festivals are laid out in Beijing time (UTC+8).
//! * Kinds: `search` (item is the empty string `""`, query in `Event::query`; consumers must
//!   treat an empty item as "no item"), `view` (product shown/opened), `click` (engaged with
//!   the product page: options, reviews), `add_to_cart`, `purchase` (at checkout, end of the
//!   session), `return` (days later).
//! * `value`: 1 for view/click/search/add_to_cart; the quantity for purchase/return (mostly 1,
//!   consumables 1–3). No event is earlier than its item's `created_at`.
//! * Consumables (coffee, diapers, cat food, …) are re-bought every few weeks.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Weekday};
use daogou_core::{Dataset, Event, EventKind, Interaction, Item};

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/// Size and seed of the synthetic shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopConfig {
    /// Number of users (`u0000` …).
    pub users: usize,
    /// Number of catalogue items (`p00001` …).
    pub items: usize,
    /// Length of the behaviour log in days.
    pub days: u32,
    /// Random seed; the same config always gives the same shop.
    pub seed: u64,
    /// Unix seconds of the start of day 0.
    pub start: i64,
}

/// 2026-09-01 00:00 Beijing time (UTC+8).
pub const DEFAULT_START: i64 = 1_788_192_000;

impl Default for ShopConfig {
    /// 800 users, 600 items, 90 days from 2026-09-01 (Beijing), seed 42: ~66k events.
    fn default() -> Self {
        ShopConfig { users: 800, items: 600, days: 90, seed: 42, start: DEFAULT_START }
    }
}

/// A generated shop.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    /// The catalogue, in id order.
    pub items: Vec<Item>,
    /// The behaviour log, sorted by timestamp.
    pub events: Vec<Event>,
    /// The planted structure behind the behaviour.
    pub truth: ShopTruth,
}

/// Planted structure of a [`Shop`], for tests and explanations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShopTruth {
    /// `(user id, segment name)`; a user in two segments has two entries (primary first).
    /// Segment names: `runner`, `new parent`, `home cook`, `gamer`, `beauty lover`,
    /// `outdoor`, `office worker`, `student`, `pet owner`, `fashion`, `tech enthusiast`,
    /// `book lover`.
    pub user_segment: Vec<(String, String)>,
    /// `(segment name, English categories it likes)`, categories as in `Item::category`.
    pub segment_categories: Vec<(String, Vec<String>)>,
}

impl ShopTruth {
    /// Segments of `user`, primary first.
    pub fn segments_of(&self, user: &str) -> Vec<&str> {
        self.user_segment.iter().filter(|(u, _)| u == user).map(|(_, s)| s.as_str()).collect()
    }

    /// Categories liked by `segment` (empty when unknown).
    pub fn categories_of(&self, segment: &str) -> &[String] {
        self.segment_categories.iter().find(|(s, _)| s == segment).map(|(_, c)| c.as_slice()).unwrap_or(&[])
    }
}

impl Shop {
    /// The shop as a [`Dataset`]: the full catalogue (item index = position in `items`),
    /// users in id order, and every event that has an item (item-less searches are skipped,
    /// as an `Interaction` has no room for a query).
    pub fn to_dataset(&self) -> Dataset {
        let mut ds = Dataset::default();
        for it in &self.items {
            ds.upsert_item(it.clone());
        }
        let mut users: Vec<&str> = self.truth.user_segment.iter().map(|(u, _)| u.as_str()).collect();
        users.dedup();
        for u in users {
            ds.users.get_or_insert(u);
        }
        for e in self.events.iter().filter(|e| !e.item.is_empty()) {
            ds.push_event(e);
        }
        ds
    }
}

// ---------------------------------------------------------------------------------------
// Random numbers: xoshiro256++ seeded by splitmix64 (value-stable, no dependency).
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Rng {
    s: [u64; 4],
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut x = seed;
        Rng { s: [splitmix(&mut x), splitmix(&mut x), splitmix(&mut x), splitmix(&mut x)] }
    }

    /// An independent stream for (`seed`, `stream`, `index`).
    fn derive(seed: u64, stream: u64, index: u64) -> Self {
        let mut x = seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let a = splitmix(&mut x);
        Rng::new(a ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`.
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Index drawn proportionally to `w`; `None` when all weights are zero.
    fn weighted(&mut self, w: &[f64]) -> Option<usize> {
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return None;
        }
        let mut r = self.f64() * total;
        let mut last = None;
        for (i, &x) in w.iter().enumerate() {
            if x > 0.0 {
                if r < x {
                    return Some(i);
                }
                r -= x;
                last = Some(i);
            }
        }
        last
    }

    fn poisson(&mut self, lambda: f64) -> usize {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as usize;
        }
        let l = (-lambda).exp();
        let (mut k, mut p) = (0usize, 1.0);
        loop {
            p *= self.f64();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }

    /// Failures before the first success with probability `p`, capped.
    fn geometric(&mut self, p: f64, cap: usize) -> usize {
        let mut n = 0;
        while n < cap && !self.chance(p) {
            n += 1;
        }
        n
    }
}

/// Index into a cumulative weight table.
fn sample_cdf(rng: &mut Rng, cdf: &[f64]) -> usize {
    let total = *cdf.last().expect("non-empty cdf");
    let r = rng.f64() * total;
    cdf.partition_point(|&c| c <= r).min(cdf.len() - 1)
}

fn cdf(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .into_iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Catalogue tables
// ---------------------------------------------------------------------------------------

type Pair = (&'static str, &'static str); // (中文, English)

struct Top {
    en: &'static str,
    zh: &'static str,
    brands: &'static [Pair],
    subs: &'static [Sub],
}

struct Sub {
    en: &'static str,
    zh: &'static str,
    /// Product nouns (中文, English).
    nouns: &'static [Pair],
    /// Adjectives (中文, English); one or two per title.
    adjs: &'static [Pair],
    /// Log-normal price: median, sigma, clamp low, clamp high (CNY).
    price: (f64, f64, f64, f64),
    colors: &'static [Pair],
    materials: &'static [Pair],
    sizes: &'static [&'static str],
    /// Variants (中文, English), one per SKU.
    specs: &'static [Pair],
    /// Re-purchase interval in days for consumables.
    refill: Option<(i64, i64)>,
    /// Model codes in titles (electronics).
    model: bool,
    /// Extra search queries.
    queries: &'static [&'static str],
    /// Share of the catalogue relative to other subcategories.
    weight: f64,
    /// Probability that a purchase is returned.
    returns: f64,
}

const B: Sub = Sub {
    en: "",
    zh: "",
    nouns: &[],
    adjs: &[],
    price: (100.0, 0.4, 10.0, 1000.0),
    colors: &[],
    materials: &[],
    sizes: &[],
    specs: &[],
    refill: None,
    model: false,
    queries: &[],
    weight: 1.0,
    returns: 0.03,
};

const C_SHOES: &[Pair] = &[
    ("黑色", "Black"),
    ("白色", "White"),
    ("红色", "Red"),
    ("蓝色", "Blue"),
    ("灰色", "Grey"),
    ("荧光绿", "Neon Green"),
];
const C_APPAREL: &[Pair] = &[
    ("黑色", "Black"),
    ("白色", "White"),
    ("灰色", "Grey"),
    ("藏青色", "Navy"),
    ("红色", "Red"),
    ("卡其色", "Khaki"),
    ("军绿色", "Olive"),
    ("米白色", "Cream"),
];
const C_TECH: &[Pair] = &[
    ("曜石黑", "Obsidian Black"),
    ("星光银", "Starlight Silver"),
    ("冰川蓝", "Glacier Blue"),
    ("樱花粉", "Sakura Pink"),
    ("白色", "White"),
];
const C_HOME: &[Pair] =
    &[("白色", "White"), ("灰色", "Grey"), ("原木色", "Natural Wood"), ("墨绿色", "Forest Green"), ("燕麦色", "Oat")];
const C_LIP: &[Pair] = &[
    ("正红色", "Classic Red"),
    ("豆沙色", "Rose Nude"),
    ("枫叶红", "Maple Red"),
    ("珊瑚橘", "Coral"),
    ("奶茶色", "Milk Tea"),
];
const C_BABY: &[Pair] = &[
    ("浅粉色", "Light Pink"),
    ("天蓝色", "Sky Blue"),
    ("奶黄色", "Butter Yellow"),
    ("白色", "White"),
    ("薄荷绿", "Mint"),
];
const C_GAME: &[Pair] = &[("黑色", "Black"), ("白色", "White"), ("幻彩RGB", "RGB")];
const C_OUTDOOR: &[Pair] =
    &[("军绿色", "Olive"), ("橙色", "Orange"), ("沙色", "Sand"), ("黑色", "Black"), ("天蓝色", "Sky Blue")];

const M_SHOES: &[Pair] = &[("网布", "Mesh"), ("飞织", "Knit"), ("皮革", "Leather")];
const M_CLOTH: &[Pair] = &[("纯棉", "Cotton"), ("涤纶", "Polyester"), ("亚麻", "Linen"), ("羊毛", "Wool")];
const M_COOK: &[Pair] =
    &[("不锈钢", "Stainless Steel"), ("铸铁", "Cast Iron"), ("不粘涂层", "Non-stick"), ("陶瓷", "Ceramic")];
const M_KNIFE: &[Pair] = &[("德国钢", "German Steel"), ("大马士革钢", "Damascus Steel"), ("陶瓷", "Ceramic")];
const M_BED: &[Pair] = &[("纯棉", "Cotton"), ("天丝", "Tencel"), ("真丝", "Silk"), ("磨毛", "Brushed Microfiber")];
const M_FURN: &[Pair] = &[("网布", "Mesh"), ("真皮", "Leather"), ("实木", "Solid Wood")];
const M_BAG: &[Pair] = &[("尼龙", "Nylon"), ("帆布", "Canvas"), ("真皮", "Leather")];
const M_YOGA: &[Pair] = &[("TPE", "TPE"), ("天然橡胶", "Natural Rubber"), ("软木", "Cork")];

const S_SHOES: &[&str] = &["36", "37", "38", "39", "40", "41", "42", "43", "44", "45"];
const S_APPAREL: &[&str] = &["S", "M", "L", "XL", "XXL"];
const S_BABY: &[&str] = &["59", "66", "73", "80", "90", "100"];

const TOPS: &[Top] = &[
    Top {
        en: "Sports & Outdoors",
        zh: "运动户外",
        brands: &[
            ("迅步", "Swiftstep"),
            ("山岚", "Shanlan"),
            ("峰线", "Peakline"),
            ("逸动", "Aerofit"),
            ("野隼", "Trailhawk"),
            ("禅流", "Zenflow"),
        ],
        subs: &[
            Sub {
                en: "Running Shoes",
                zh: "跑鞋",
                nouns: &[("跑鞋", "Running Shoes"), ("竞速跑鞋", "Racing Shoes"), ("越野跑鞋", "Trail Running Shoes")],
                adjs: &[
                    ("轻量", "Lightweight"),
                    ("缓震", "Cushioned"),
                    ("透气", "Breathable"),
                    ("防滑", "Non-slip"),
                    ("碳板", "Carbon-plate"),
                    ("回弹", "Responsive"),
                ],
                price: (399.0, 0.35, 199.0, 899.0),
                colors: C_SHOES,
                materials: M_SHOES,
                sizes: S_SHOES,
                queries: &["跑步鞋", "马拉松跑鞋", "marathon shoes"],
                returns: 0.10,
                ..B
            },
            Sub {
                en: "Yoga Mats",
                zh: "瑜伽垫",
                nouns: &[("瑜伽垫", "Yoga Mat")],
                adjs: &[("加厚", "Extra-thick"), ("防滑", "Non-slip"), ("环保", "Eco-friendly"), ("便携", "Travel")],
                price: (129.0, 0.4, 49.0, 399.0),
                colors: C_HOME,
                materials: M_YOGA,
                queries: &["健身垫", "yoga"],
                ..B
            },
            Sub {
                en: "Camping Tents",
                zh: "帐篷",
                nouns: &[("双人帐篷", "2-Person Tent"), ("四人帐篷", "4-Person Tent"), ("天幕帐篷", "Canopy Tent")],
                adjs: &[("防雨", "Waterproof"), ("速开", "Instant"), ("轻量", "Ultralight"), ("四季", "4-Season")],
                price: (599.0, 0.5, 199.0, 2999.0),
                colors: C_OUTDOOR,
                queries: &["露营帐篷", "露营", "camping"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Hiking Backpacks",
                zh: "登山包",
                nouns: &[("登山包", "Hiking Backpack"), ("徒步背包", "Trekking Pack")],
                adjs: &[
                    ("大容量", "Large-capacity"),
                    ("防水", "Waterproof"),
                    ("轻量", "Lightweight"),
                    ("透气背负", "Ventilated"),
                ],
                price: (399.0, 0.45, 129.0, 1499.0),
                colors: C_OUTDOOR,
                specs: &[("30L", "30L"), ("45L", "45L"), ("60L", "60L")],
                queries: &["户外背包", "hiking bag"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Sportswear",
                zh: "运动服",
                nouns: &[
                    ("运动T恤", "Sports Tee"),
                    ("运动短裤", "Training Shorts"),
                    ("紧身裤", "Leggings"),
                    ("运动外套", "Track Jacket"),
                ],
                adjs: &[("速干", "Quick-dry"), ("透气", "Breathable"), ("弹力", "Stretch"), ("反光", "Reflective")],
                price: (169.0, 0.4, 59.0, 599.0),
                colors: C_APPAREL,
                materials: M_CLOTH,
                sizes: S_APPAREL,
                queries: &["健身服", "gym clothes"],
                returns: 0.10,
                ..B
            },
        ],
    },
    Top {
        en: "Electronics",
        zh: "数码电子",
        brands: &[
            ("星耀", "Novaphone"),
            ("光迹", "Lumitek"),
            ("声浪", "Soundwave"),
            ("环宇", "Orbix"),
            ("伏芯", "Voltcore"),
        ],
        subs: &[
            Sub {
                en: "Phones",
                zh: "手机",
                nouns: &[("5G手机", "5G Smartphone"), ("智能手机", "Smartphone")],
                adjs: &[
                    ("旗舰", "Flagship"),
                    ("影像", "Camera"),
                    ("长续航", "Long-battery"),
                    ("轻薄", "Slim"),
                    ("折叠屏", "Foldable"),
                ],
                price: (2999.0, 0.45, 999.0, 8999.0),
                colors: C_TECH,
                specs: &[("128GB", "128GB"), ("256GB", "256GB"), ("512GB", "512GB")],
                model: true,
                queries: &["5g手机", "拍照手机", "smartphone"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Headphones",
                zh: "耳机",
                nouns: &[
                    ("蓝牙耳机", "Bluetooth Earbuds"),
                    ("头戴式耳机", "Over-ear Headphones"),
                    ("运动耳机", "Sport Earphones"),
                ],
                adjs: &[
                    ("降噪", "Noise-cancelling"),
                    ("无线", "Wireless"),
                    ("低延迟", "Low-latency"),
                    ("HiFi", "Hi-Fi"),
                ],
                price: (399.0, 0.7, 59.0, 2999.0),
                colors: C_TECH,
                model: true,
                queries: &["降噪耳机", "无线耳机", "earbuds"],
                ..B
            },
            Sub {
                en: "Laptops",
                zh: "笔记本电脑",
                nouns: &[("笔记本电脑", "Laptop"), ("轻薄本", "Ultrabook")],
                adjs: &[
                    ("轻薄", "Thin & Light"),
                    ("高性能", "High-performance"),
                    ("长续航", "All-day Battery"),
                    ("2.8K屏", "2.8K Display"),
                ],
                price: (5999.0, 0.35, 2999.0, 14999.0),
                colors: C_TECH,
                specs: &[("16GB+512GB", "16GB+512GB"), ("16GB+1TB", "16GB+1TB"), ("32GB+1TB", "32GB+1TB")],
                model: true,
                queries: &["电脑", "notebook computer", "办公笔记本"],
                weight: 0.7,
                ..B
            },
            Sub {
                en: "Smartwatches",
                zh: "智能手表",
                nouns: &[("智能手表", "Smartwatch"), ("运动手环", "Fitness Band")],
                adjs: &[
                    ("心率监测", "Heart-rate"),
                    ("GPS", "GPS"),
                    ("长续航", "Long-battery"),
                    ("防水", "Water-resistant"),
                ],
                price: (1299.0, 0.5, 199.0, 4999.0),
                colors: C_TECH,
                model: true,
                queries: &["手环", "运动手表", "fitness tracker"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Power Banks",
                zh: "充电宝",
                nouns: &[("充电宝", "Power Bank"), ("移动电源", "Portable Charger")],
                adjs: &[
                    ("快充", "Fast-charging"),
                    ("超薄", "Ultra-slim"),
                    ("磁吸", "Magnetic"),
                    ("大容量", "High-capacity"),
                ],
                price: (129.0, 0.35, 49.0, 299.0),
                colors: C_TECH,
                specs: &[("10000mAh", "10000mAh"), ("20000mAh", "20000mAh")],
                queries: &["移动电源", "power bank"],
                ..B
            },
        ],
    },
    Top {
        en: "Mother & Baby",
        zh: "母婴",
        brands: &[
            ("小芽", "Little Sprout"),
            ("布布熊", "Bubu Bear"),
            ("云巢", "Cloudnest"),
            ("妈咪宝", "Mamacare"),
            ("小脚丫", "Tinytoes"),
        ],
        subs: &[
            Sub {
                en: "Diapers",
                zh: "纸尿裤",
                nouns: &[("纸尿裤", "Diapers"), ("拉拉裤", "Pull-ups")],
                adjs: &[("超薄", "Ultra-thin"), ("透气", "Breathable"), ("夜用", "Overnight"), ("柔软", "Soft-touch")],
                price: (129.0, 0.25, 69.0, 259.0),
                specs: &[
                    ("NB 84片", "NB 84 pcs"),
                    ("S 76片", "S 76 pcs"),
                    ("M 64片", "M 64 pcs"),
                    ("L 54片", "L 54 pcs"),
                    ("XL 46片", "XL 46 pcs"),
                ],
                refill: Some((10, 20)),
                queries: &["尿不湿", "nappies"],
                returns: 0.01,
                ..B
            },
            Sub {
                en: "Infant Formula",
                zh: "婴儿奶粉",
                nouns: &[("婴儿配方奶粉", "Infant Formula"), ("有机奶粉", "Organic Formula")],
                adjs: &[("A2蛋白", "A2 Protein"), ("易吸收", "Gentle"), ("进口", "Imported")],
                price: (299.0, 0.25, 168.0, 499.0),
                specs: &[("1段 800g", "Stage 1 800g"), ("2段 800g", "Stage 2 800g"), ("3段 800g", "Stage 3 800g")],
                refill: Some((14, 25)),
                queries: &["奶粉", "baby formula"],
                returns: 0.01,
                ..B
            },
            Sub {
                en: "Strollers",
                zh: "婴儿推车",
                nouns: &[("婴儿推车", "Stroller"), ("伞车", "Umbrella Stroller")],
                adjs: &[
                    ("轻便折叠", "Foldable"),
                    ("高景观", "High-view"),
                    ("可坐可躺", "Reclining"),
                    ("避震", "Shock-absorbing"),
                ],
                price: (1299.0, 0.5, 399.0, 4999.0),
                colors: C_BABY,
                queries: &["推车", "baby stroller"],
                weight: 0.7,
                ..B
            },
            Sub {
                en: "Baby Clothes",
                zh: "童装",
                nouns: &[("婴儿连体衣", "Baby Romper"), ("儿童套装", "Kids Outfit"), ("宝宝睡袋", "Baby Sleeping Bag")],
                adjs: &[("纯棉", "Pure Cotton"), ("A类", "Class-A"), ("柔软", "Soft"), ("卡通", "Cartoon")],
                price: (99.0, 0.4, 39.0, 299.0),
                colors: C_BABY,
                materials: M_CLOTH,
                sizes: S_BABY,
                queries: &["宝宝衣服", "baby clothes"],
                returns: 0.08,
                ..B
            },
            Sub {
                en: "Toys",
                zh: "玩具",
                nouns: &[
                    ("积木", "Building Blocks"),
                    ("早教玩具", "Learning Toy"),
                    ("毛绒玩具", "Plush Toy"),
                    ("遥控车", "RC Car"),
                ],
                adjs: &[("益智", "Educational"), ("安全无毒", "Non-toxic"), ("创意", "Creative")],
                price: (129.0, 0.6, 29.0, 799.0),
                colors: C_BABY,
                queries: &["儿童玩具", "toys for kids", "生日礼物"],
                ..B
            },
        ],
    },
    Top {
        en: "Beauty & Personal Care",
        zh: "美妆个护",
        brands: &[
            ("光研", "Lumiere Lab"),
            ("玉脂", "Yuzhi"),
            ("花语", "Petale"),
            ("水漾", "Aquaveil"),
            ("胭脂坊", "Rouge Atelier"),
        ],
        subs: &[
            Sub {
                en: "Skincare",
                zh: "护肤",
                nouns: &[("精华液", "Serum"), ("面霜", "Face Cream"), ("爽肤水", "Toner"), ("眼霜", "Eye Cream")],
                adjs: &[
                    ("保湿", "Hydrating"),
                    ("抗皱", "Anti-wrinkle"),
                    ("修护", "Repairing"),
                    ("美白", "Brightening"),
                ],
                price: (299.0, 0.6, 59.0, 1999.0),
                specs: &[("30ml", "30ml"), ("50ml", "50ml"), ("100ml", "100ml")],
                refill: Some((40, 70)),
                queries: &["精华", "面霜推荐", "serum", "skin care"],
                returns: 0.04,
                weight: 1.3,
                ..B
            },
            Sub {
                en: "Lipstick",
                zh: "口红",
                nouns: &[("口红", "Lipstick"), ("唇釉", "Lip Glaze")],
                adjs: &[("哑光", "Matte"), ("滋润", "Moisturizing"), ("持久", "Long-lasting"), ("丝绒", "Velvet")],
                price: (199.0, 0.4, 59.0, 499.0),
                colors: C_LIP,
                queries: &["唇膏", "lipstick"],
                ..B
            },
            Sub {
                en: "Sunscreen",
                zh: "防晒",
                nouns: &[("防晒霜", "Sunscreen"), ("防晒喷雾", "Sun Spray")],
                adjs: &[("清爽", "Lightweight"), ("高倍", "SPF50+"), ("防水", "Water-resistant")],
                price: (129.0, 0.35, 49.0, 329.0),
                specs: &[("40ml", "40ml"), ("60ml", "60ml")],
                queries: &["防晒霜", "sunscreen spf50"],
                ..B
            },
            Sub {
                en: "Shampoo",
                zh: "洗发水",
                nouns: &[("洗发水", "Shampoo"), ("护发素", "Conditioner")],
                adjs: &[
                    ("控油", "Oil-control"),
                    ("去屑", "Anti-dandruff"),
                    ("氨基酸", "Amino-acid"),
                    ("柔顺", "Smoothing"),
                ],
                price: (69.0, 0.4, 25.0, 199.0),
                specs: &[("400ml", "400ml"), ("750ml", "750ml")],
                refill: Some((30, 60)),
                queries: &["洗发露", "shampoo"],
                returns: 0.01,
                ..B
            },
            Sub {
                en: "Perfume",
                zh: "香水",
                nouns: &[("淡香水", "Eau de Toilette"), ("香水", "Eau de Parfum")],
                adjs: &[("花香调", "Floral"), ("木质调", "Woody"), ("清新", "Fresh"), ("东方调", "Oriental")],
                price: (599.0, 0.45, 199.0, 1999.0),
                specs: &[("30ml", "30ml"), ("50ml", "50ml"), ("100ml", "100ml")],
                queries: &["香水 女", "perfume gift"],
                weight: 0.8,
                ..B
            },
        ],
    },
    Top {
        en: "Home & Kitchen",
        zh: "家居厨具",
        brands: &[
            ("炉火", "Hearthware"),
            ("匠心", "Jiangxin"),
            ("北舍", "Nordhaus"),
            ("饭师傅", "Ricemaster"),
            ("暖窝", "Cozynest"),
        ],
        subs: &[
            Sub {
                en: "Cookware",
                zh: "锅具",
                nouns: &[
                    ("炒锅", "Wok"),
                    ("平底锅", "Frying Pan"),
                    ("汤锅", "Stock Pot"),
                    ("锅具套装", "Cookware Set"),
                ],
                adjs: &[
                    ("不粘", "Non-stick"),
                    ("少油烟", "Low-smoke"),
                    ("电磁炉通用", "Induction-ready"),
                    ("加厚", "Heavy-gauge"),
                ],
                price: (299.0, 0.5, 79.0, 1599.0),
                materials: M_COOK,
                queries: &["不粘锅", "炒菜锅", "wok"],
                ..B
            },
            Sub {
                en: "Kitchen Knives",
                zh: "刀具",
                nouns: &[("菜刀", "Chef's Knife"), ("刀具套装", "Knife Set"), ("切片刀", "Slicing Knife")],
                adjs: &[("锋利", "Razor-sharp"), ("锻打", "Forged"), ("防锈", "Rust-resistant")],
                price: (199.0, 0.55, 49.0, 1299.0),
                materials: M_KNIFE,
                queries: &["厨房刀具", "chef knife"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Rice Cookers",
                zh: "电饭煲",
                nouns: &[("电饭煲", "Rice Cooker"), ("IH电饭煲", "IH Rice Cooker")],
                adjs: &[("智能", "Smart"), ("多功能", "Multi-function"), ("预约", "Timer"), ("球釜", "Spherical-pot")],
                price: (499.0, 0.5, 149.0, 2999.0),
                colors: C_HOME,
                specs: &[("3L", "3L"), ("4L", "4L"), ("5L", "5L")],
                queries: &["电饭锅", "rice cooker"],
                weight: 0.7,
                ..B
            },
            Sub {
                en: "Bedding",
                zh: "床品",
                nouns: &[("四件套", "4-Piece Bedding Set"), ("夏凉被", "Summer Quilt"), ("乳胶枕", "Latex Pillow")],
                adjs: &[("亲肤", "Skin-friendly"), ("简约", "Minimalist"), ("抗菌", "Antibacterial")],
                price: (399.0, 0.5, 129.0, 1999.0),
                colors: C_HOME,
                materials: M_BED,
                queries: &["床上用品", "四件套", "bedding set"],
                returns: 0.06,
                ..B
            },
            Sub {
                en: "Storage",
                zh: "收纳",
                nouns: &[("收纳箱", "Storage Box"), ("衣物收纳袋", "Clothes Organizer"), ("置物架", "Storage Rack")],
                adjs: &[("可折叠", "Collapsible"), ("大号", "Large"), ("防尘", "Dust-proof")],
                price: (59.0, 0.5, 15.0, 299.0),
                colors: C_HOME,
                queries: &["收纳盒", "organizer"],
                ..B
            },
        ],
    },
    Top {
        en: "Food & Beverage",
        zh: "食品饮料",
        brands: &[
            ("晨礼", "Morning Ritual"),
            ("云山", "Yunshan"),
            ("脆盒", "Crunchbox"),
            ("丰收农场", "Harvest Farm"),
            ("味觉森林", "Tastewood"),
        ],
        subs: &[
            Sub {
                en: "Coffee",
                zh: "咖啡",
                nouns: &[
                    ("咖啡豆", "Coffee Beans"),
                    ("挂耳咖啡", "Drip Bag Coffee"),
                    ("冻干咖啡", "Freeze-dried Coffee"),
                ],
                adjs: &[
                    ("中度烘焙", "Medium Roast"),
                    ("深度烘焙", "Dark Roast"),
                    ("精品", "Specialty"),
                    ("云南", "Yunnan"),
                ],
                price: (89.0, 0.45, 29.0, 299.0),
                specs: &[("250g", "250g"), ("500g", "500g"), ("1kg", "1kg"), ("20包", "20 Bags")],
                refill: Some((14, 30)),
                queries: &["咖啡", "美式咖啡", "coffee beans"],
                returns: 0.005,
                weight: 1.2,
                ..B
            },
            Sub {
                en: "Tea",
                zh: "茶叶",
                nouns: &[
                    ("绿茶", "Green Tea"),
                    ("乌龙茶", "Oolong Tea"),
                    ("普洱茶", "Pu-erh Tea"),
                    ("红茶", "Black Tea"),
                ],
                adjs: &[
                    ("明前", "Early-spring"),
                    ("高山", "High-mountain"),
                    ("特级", "Premium"),
                    ("礼盒装", "Gift-boxed"),
                ],
                price: (159.0, 0.7, 39.0, 1299.0),
                specs: &[("100g", "100g"), ("250g", "250g"), ("500g", "500g")],
                refill: Some((30, 60)),
                queries: &["茶叶礼盒", "tea"],
                returns: 0.005,
                ..B
            },
            Sub {
                en: "Snacks",
                zh: "零食",
                nouns: &[
                    ("零食大礼包", "Snack Box"),
                    ("牛肉干", "Beef Jerky"),
                    ("薯片", "Potato Chips"),
                    ("饼干", "Biscuits"),
                ],
                adjs: &[("网红", "Trending"), ("香辣", "Spicy"), ("低脂", "Low-fat"), ("办公室", "Office")],
                price: (49.0, 0.45, 15.0, 199.0),
                specs: &[("500g", "500g"), ("1kg", "1kg")],
                refill: Some((10, 30)),
                queries: &["零食", "snacks", "办公室零食"],
                returns: 0.005,
                weight: 1.2,
                ..B
            },
            Sub {
                en: "Nuts",
                zh: "坚果",
                nouns: &[("每日坚果", "Daily Nuts"), ("夏威夷果", "Macadamia"), ("碧根果", "Pecans")],
                adjs: &[("原味", "Unsalted"), ("混合", "Mixed"), ("烘焙", "Roasted")],
                price: (79.0, 0.35, 29.0, 199.0),
                specs: &[("500g", "500g"), ("750g", "750g"), ("1kg", "1kg")],
                refill: Some((20, 40)),
                queries: &["每日坚果", "nuts"],
                returns: 0.005,
                ..B
            },
            Sub {
                en: "Instant Noodles",
                zh: "方便面",
                nouns: &[
                    ("方便面", "Instant Noodles"),
                    ("螺蛳粉", "Snail Rice Noodles"),
                    ("自热火锅", "Self-heating Hotpot"),
                ],
                adjs: &[("红烧牛肉", "Braised Beef"), ("酸辣", "Hot & Sour"), ("速食", "Quick")],
                price: (39.0, 0.3, 15.0, 89.0),
                specs: &[("5袋", "5 Packs"), ("12袋", "12 Packs"), ("24袋", "24 Packs")],
                refill: Some((7, 20)),
                queries: &["泡面", "instant noodles", "宵夜"],
                returns: 0.005,
                weight: 0.8,
                ..B
            },
        ],
    },
    Top {
        en: "Fashion",
        zh: "服饰",
        brands: &[
            ("城纱", "Urbanthread"),
            ("森屿", "Mori Lane"),
            ("丹宁社", "Denimco"),
            ("丝路", "Silkroad Atelier"),
            ("简素", "Basicly"),
        ],
        subs: &[
            Sub {
                en: "T-Shirts",
                zh: "T恤",
                nouns: &[("短袖T恤", "T-Shirt"), ("长袖T恤", "Long-sleeve Tee"), ("Polo衫", "Polo Shirt")],
                adjs: &[("宽松", "Oversized"), ("纯色", "Solid"), ("印花", "Graphic"), ("基础款", "Essential")],
                price: (99.0, 0.45, 39.0, 399.0),
                colors: C_APPAREL,
                materials: M_CLOTH,
                sizes: S_APPAREL,
                queries: &["t恤 男", "短袖", "tshirt"],
                returns: 0.12,
                weight: 1.2,
                ..B
            },
            Sub {
                en: "Jeans",
                zh: "牛仔裤",
                nouns: &[("牛仔裤", "Jeans"), ("阔腿牛仔裤", "Wide-leg Jeans")],
                adjs: &[("直筒", "Straight-fit"), ("修身", "Slim-fit"), ("高腰", "High-rise"), ("复古", "Vintage")],
                price: (299.0, 0.4, 99.0, 899.0),
                colors: &[("浅蓝色", "Light Blue"), ("深蓝色", "Dark Blue"), ("黑色", "Black")],
                sizes: &["26", "27", "28", "29", "30", "31", "32", "34"],
                queries: &["牛仔裤 女", "jeans"],
                returns: 0.15,
                ..B
            },
            Sub {
                en: "Dresses",
                zh: "连衣裙",
                nouns: &[("连衣裙", "Dress"), ("衬衫裙", "Shirt Dress"), ("吊带裙", "Slip Dress")],
                adjs: &[("法式", "French-style"), ("碎花", "Floral"), ("收腰", "Fitted"), ("通勤", "Office")],
                price: (359.0, 0.45, 129.0, 1299.0),
                colors: C_APPAREL,
                materials: M_CLOTH,
                sizes: S_APPAREL,
                queries: &["裙子", "连衣裙 夏", "summer dress"],
                returns: 0.18,
                weight: 1.2,
                ..B
            },
            Sub {
                en: "Jackets",
                zh: "外套",
                nouns: &[
                    ("冲锋衣", "Shell Jacket"),
                    ("羽绒服", "Down Jacket"),
                    ("风衣", "Trench Coat"),
                    ("夹克", "Jacket"),
                ],
                adjs: &[("防风", "Windproof"), ("保暖", "Warm"), ("防泼水", "Water-repellent"), ("连帽", "Hooded")],
                price: (599.0, 0.5, 199.0, 2499.0),
                colors: C_APPAREL,
                sizes: S_APPAREL,
                queries: &["冲锋衣", "羽绒服", "winter jacket"],
                returns: 0.12,
                ..B
            },
            Sub {
                en: "Handbags",
                zh: "包袋",
                nouns: &[("托特包", "Tote Bag"), ("斜挎包", "Crossbody Bag"), ("手提包", "Handbag")],
                adjs: &[("通勤", "Work"), ("小众", "Designer"), ("大容量", "Roomy"), ("复古", "Vintage")],
                price: (599.0, 0.7, 129.0, 3999.0),
                colors: C_APPAREL,
                materials: M_BAG,
                queries: &["女包", "包包", "tote bag"],
                returns: 0.08,
                ..B
            },
        ],
    },
    Top {
        en: "Gaming",
        zh: "电竞游戏",
        brands: &[
            ("猛禽", "Raptor Gear"),
            ("像素工坊", "Pixelforge"),
            ("夜枭", "Nightowl"),
            ("六芒", "Hexa"),
            ("量子", "Quantum Play"),
        ],
        subs: &[
            Sub {
                en: "Gaming Keyboards",
                zh: "机械键盘",
                nouns: &[("机械键盘", "Mechanical Keyboard")],
                adjs: &[
                    ("热插拔", "Hot-swap"),
                    ("RGB背光", "RGB Backlit"),
                    ("三模", "Tri-mode"),
                    ("75%配列", "75% Layout"),
                ],
                price: (399.0, 0.5, 129.0, 1499.0),
                colors: C_GAME,
                specs: &[("红轴", "Red Switch"), ("茶轴", "Brown Switch"), ("青轴", "Blue Switch")],
                model: true,
                queries: &["键盘", "机械键盘 游戏", "keyboard"],
                ..B
            },
            Sub {
                en: "Gaming Mice",
                zh: "游戏鼠标",
                nouns: &[("游戏鼠标", "Gaming Mouse")],
                adjs: &[
                    ("轻量化", "Ultralight"),
                    ("无线", "Wireless"),
                    ("高DPI", "High-DPI"),
                    ("人体工学", "Ergonomic"),
                ],
                price: (199.0, 0.5, 59.0, 899.0),
                colors: C_GAME,
                model: true,
                queries: &["鼠标", "gaming mouse"],
                ..B
            },
            Sub {
                en: "Gaming Headsets",
                zh: "电竞耳机",
                nouns: &[("电竞耳机", "Gaming Headset")],
                adjs: &[("7.1环绕", "7.1 Surround"), ("无线", "Wireless"), ("降噪麦克风", "Noise-cancelling Mic")],
                price: (399.0, 0.45, 129.0, 1299.0),
                colors: C_GAME,
                model: true,
                queries: &["游戏耳机", "headset"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Controllers",
                zh: "游戏手柄",
                nouns: &[("游戏手柄", "Game Controller")],
                adjs: &[
                    ("无线", "Wireless"),
                    ("霍尔摇杆", "Hall-effect"),
                    ("体感", "Motion"),
                    ("多平台", "Multi-platform"),
                ],
                price: (299.0, 0.35, 129.0, 699.0),
                colors: C_GAME,
                model: true,
                queries: &["手柄", "controller"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Monitors",
                zh: "显示器",
                nouns: &[("电竞显示器", "Gaming Monitor"), ("显示器", "Monitor")],
                adjs: &[("高刷", "High-refresh"), ("4K", "4K"), ("IPS", "IPS"), ("曲面", "Curved")],
                price: (1599.0, 0.45, 699.0, 4999.0),
                specs: &[("24英寸", "24-inch"), ("27英寸", "27-inch"), ("32英寸", "32-inch")],
                model: true,
                queries: &["电脑显示器", "144hz显示器", "monitor"],
                weight: 0.8,
                ..B
            },
        ],
    },
    Top {
        en: "Office & Stationery",
        zh: "办公文具",
        brands: &[
            ("桌伴", "Deskmate"),
            ("墨池", "Inkwell"),
            ("舒椅", "Ergonest"),
            ("明桌", "Brightdesk"),
            ("纸叶", "Paperleaf"),
        ],
        subs: &[
            Sub {
                en: "Notebooks",
                zh: "笔记本",
                nouns: &[("笔记本", "Notebook"), ("手账本", "Planner"), ("活页本", "Binder Notebook")],
                adjs: &[("加厚", "Thick"), ("点阵", "Dotted"), ("复古", "Vintage"), ("A5", "A5")],
                price: (29.0, 0.5, 9.0, 129.0),
                colors: C_HOME,
                queries: &["本子", "手账", "notebook"],
                ..B
            },
            Sub {
                en: "Pens",
                zh: "笔",
                nouns: &[("中性笔", "Gel Pen"), ("钢笔", "Fountain Pen"), ("马克笔", "Marker Set")],
                adjs: &[("速干", "Quick-dry"), ("顺滑", "Smooth"), ("考试", "Exam")],
                price: (39.0, 0.7, 6.0, 299.0),
                colors: &[("黑色", "Black"), ("蓝色", "Blue"), ("红色", "Red")],
                queries: &["中性笔", "钢笔", "pens"],
                ..B
            },
            Sub {
                en: "Office Chairs",
                zh: "办公椅",
                nouns: &[("办公椅", "Office Chair"), ("电脑椅", "Computer Chair")],
                adjs: &[("人体工学", "Ergonomic"), ("护腰", "Lumbar-support"), ("可躺", "Reclining")],
                price: (899.0, 0.55, 299.0, 3999.0),
                colors: &[("黑色", "Black"), ("灰色", "Grey"), ("白色", "White")],
                materials: M_FURN,
                queries: &["人体工学椅", "电脑椅", "ergonomic chair"],
                weight: 0.8,
                ..B
            },
            Sub {
                en: "Desk Lamps",
                zh: "台灯",
                nouns: &[("台灯", "Desk Lamp"), ("护眼台灯", "Eye-care Lamp")],
                adjs: &[("LED", "LED"), ("无频闪", "Flicker-free"), ("可调光", "Dimmable")],
                price: (199.0, 0.5, 59.0, 799.0),
                colors: C_HOME,
                queries: &["护眼灯", "desk lamp"],
                ..B
            },
            Sub {
                en: "Backpacks",
                zh: "双肩包",
                nouns: &[("双肩包", "Backpack"), ("电脑包", "Laptop Backpack"), ("书包", "School Bag")],
                adjs: &[
                    ("防泼水", "Water-repellent"),
                    ("大容量", "Large"),
                    ("商务", "Business"),
                    ("轻便", "Lightweight"),
                ],
                price: (199.0, 0.5, 69.0, 799.0),
                colors: C_APPAREL,
                materials: M_BAG,
                queries: &["书包", "电脑包", "laptop backpack"],
                ..B
            },
        ],
    },
    Top {
        en: "Books",
        zh: "图书",
        brands: &[
            ("星光出版社", "Starlight Press"),
            ("竹简书局", "Bamboo Books"),
            ("蓝鲸出版", "Bluewhale Press"),
            ("智者书屋", "Sage House"),
        ],
        subs: &[
            Sub {
                en: "Fiction",
                zh: "小说",
                nouns: &[
                    ("悬疑小说", "Mystery Novel"),
                    ("科幻小说", "Sci-Fi Novel"),
                    ("历史小说", "Historical Novel"),
                    ("文学小说", "Literary Novel"),
                ],
                adjs: &[
                    ("畅销", "Bestselling"),
                    ("精装", "Hardcover"),
                    ("获奖", "Award-winning"),
                    ("典藏版", "Collector's Edition"),
                ],
                price: (49.0, 0.3, 25.0, 129.0),
                queries: &["小说推荐", "科幻小说", "novel"],
                returns: 0.01,
                weight: 1.2,
                ..B
            },
            Sub {
                en: "Children's Books",
                zh: "童书",
                nouns: &[
                    ("绘本", "Picture Book"),
                    ("儿童百科", "Children's Encyclopedia"),
                    ("睡前故事", "Bedtime Stories"),
                ],
                adjs: &[("启蒙", "Early-learning"), ("双语", "Bilingual"), ("精装", "Hardcover")],
                price: (59.0, 0.4, 19.0, 199.0),
                queries: &["绘本", "儿童书", "picture books"],
                returns: 0.01,
                ..B
            },
            Sub {
                en: "Exam Prep",
                zh: "教辅",
                nouns: &[
                    ("考研真题", "Postgraduate Exam Papers"),
                    ("英语四六级", "CET-4/6 English"),
                    ("雅思词汇", "IELTS Vocabulary"),
                ],
                adjs: &[("2027版", "2027 Edition"), ("详解", "Annotated"), ("高分", "High-score")],
                price: (45.0, 0.3, 19.0, 99.0),
                queries: &["考研", "四六级", "ielts"],
                returns: 0.01,
                ..B
            },
            Sub {
                en: "Business",
                zh: "经管",
                nouns: &[("管理学", "Management"), ("投资理财", "Investing"), ("创业", "Startups")],
                adjs: &[("经典", "Classic"), ("实战", "Practical"), ("畅销", "Bestselling")],
                price: (69.0, 0.3, 35.0, 149.0),
                queries: &["理财书", "business books"],
                returns: 0.01,
                ..B
            },
            Sub {
                en: "Cookbooks",
                zh: "菜谱",
                nouns: &[("家常菜谱", "Home Cooking"), ("烘焙书", "Baking Book"), ("川菜菜谱", "Sichuan Cookbook")],
                adjs: &[("图解", "Illustrated"), ("零失败", "Foolproof"), ("快手", "Quick & Easy")],
                price: (68.0, 0.3, 35.0, 149.0),
                queries: &["菜谱", "烘焙", "cookbook"],
                returns: 0.01,
                weight: 0.8,
                ..B
            },
        ],
    },
    Top {
        en: "Pet Supplies",
        zh: "宠物用品",
        brands: &[("爪爪", "Pawsome"), ("胡须", "Whisker"), ("毛尾巴", "Furrytail"), ("喵咪", "Meowmi")],
        subs: &[
            Sub {
                en: "Cat Food",
                zh: "猫粮",
                nouns: &[
                    ("全价猫粮", "Complete Cat Food"),
                    ("冻干猫粮", "Freeze-dried Cat Food"),
                    ("猫罐头", "Wet Cat Food"),
                ],
                adjs: &[("无谷", "Grain-free"), ("高蛋白", "High-protein"), ("幼猫", "Kitten"), ("成猫", "Adult")],
                price: (159.0, 0.5, 39.0, 599.0),
                specs: &[("1.5kg", "1.5kg"), ("5kg", "5kg"), ("10kg", "10kg"), ("24罐", "24 Cans")],
                refill: Some((20, 35)),
                queries: &["猫粮", "cat food", "猫罐头"],
                returns: 0.01,
                weight: 1.2,
                ..B
            },
            Sub {
                en: "Dog Food",
                zh: "狗粮",
                nouns: &[("全价狗粮", "Complete Dog Food"), ("狗零食", "Dog Treats")],
                adjs: &[
                    ("无谷", "Grain-free"),
                    ("小型犬", "Small-breed"),
                    ("大型犬", "Large-breed"),
                    ("低敏", "Hypoallergenic"),
                ],
                price: (199.0, 0.5, 59.0, 699.0),
                specs: &[("2kg", "2kg"), ("7.5kg", "7.5kg"), ("15kg", "15kg")],
                refill: Some((25, 40)),
                queries: &["狗粮", "dog food"],
                returns: 0.01,
                ..B
            },
            Sub {
                en: "Cat Litter",
                zh: "猫砂",
                nouns: &[
                    ("豆腐猫砂", "Tofu Cat Litter"),
                    ("膨润土猫砂", "Clumping Clay Litter"),
                    ("混合猫砂", "Mixed Cat Litter"),
                ],
                adjs: &[("除臭", "Odor-control"), ("无尘", "Dust-free"), ("速结团", "Fast-clumping")],
                price: (69.0, 0.35, 29.0, 159.0),
                specs: &[("6L", "6L"), ("10L", "10L"), ("4 x 6L", "4 x 6L")],
                refill: Some((14, 28)),
                queries: &["猫砂", "cat litter"],
                returns: 0.005,
                ..B
            },
            Sub {
                en: "Pet Toys",
                zh: "宠物玩具",
                nouns: &[("逗猫棒", "Cat Teaser"), ("猫爬架", "Cat Tree"), ("磨牙玩具", "Chew Toy")],
                adjs: &[("耐咬", "Durable"), ("互动", "Interactive"), ("可爱", "Cute")],
                price: (39.0, 0.5, 9.0, 149.0),
                colors: C_BABY,
                queries: &["猫玩具", "dog toys"],
                weight: 0.8,
                ..B
            },
        ],
    },
];

struct Segment {
    name: &'static str,
    /// Liked subcategories (English sub name) and their weights.
    likes: &'static [(&'static str, f64)],
    /// Preferred price relative to the subcategory median.
    price_pref: f64,
    /// Share of users.
    share: f64,
}

const SEGMENTS: &[Segment] = &[
    Segment {
        name: "runner",
        likes: &[
            ("Running Shoes", 5.0),
            ("Sportswear", 3.0),
            ("Smartwatches", 2.0),
            ("Headphones", 1.0),
            ("Yoga Mats", 1.0),
            ("Nuts", 0.7),
        ],
        price_pref: 1.1,
        share: 1.0,
    },
    Segment {
        name: "new parent",
        likes: &[
            ("Diapers", 5.0),
            ("Infant Formula", 4.0),
            ("Baby Clothes", 3.0),
            ("Toys", 2.5),
            ("Strollers", 2.0),
            ("Children's Books", 1.5),
        ],
        price_pref: 1.0,
        share: 1.1,
    },
    Segment {
        name: "home cook",
        likes: &[
            ("Cookware", 4.0),
            ("Kitchen Knives", 3.0),
            ("Cookbooks", 2.0),
            ("Rice Cookers", 2.0),
            ("Tea", 1.0),
            ("Storage", 1.0),
        ],
        price_pref: 0.9,
        share: 0.9,
    },
    Segment {
        name: "gamer",
        likes: &[
            ("Gaming Mice", 4.0),
            ("Gaming Keyboards", 4.0),
            ("Gaming Headsets", 3.0),
            ("Controllers", 3.0),
            ("Monitors", 2.0),
            ("Instant Noodles", 1.0),
        ],
        price_pref: 1.1,
        share: 1.0,
    },
    Segment {
        name: "beauty lover",
        likes: &[("Skincare", 5.0), ("Lipstick", 4.0), ("Sunscreen", 3.0), ("Perfume", 2.0), ("Shampoo", 2.0)],
        price_pref: 1.2,
        share: 1.1,
    },
    Segment {
        name: "outdoor",
        likes: &[
            ("Camping Tents", 4.0),
            ("Hiking Backpacks", 4.0),
            ("Jackets", 2.0),
            ("Power Banks", 1.5),
            ("Sportswear", 1.5),
        ],
        price_pref: 1.1,
        share: 0.7,
    },
    Segment {
        name: "office worker",
        likes: &[
            ("Coffee", 4.0),
            ("Office Chairs", 3.0),
            ("Desk Lamps", 2.0),
            ("Laptops", 2.0),
            ("Business", 2.0),
            ("Snacks", 1.5),
        ],
        price_pref: 1.2,
        share: 1.1,
    },
    Segment {
        name: "student",
        likes: &[
            ("Notebooks", 3.0),
            ("Pens", 3.0),
            ("Exam Prep", 3.0),
            ("Backpacks", 2.5),
            ("Instant Noodles", 2.5),
            ("T-Shirts", 2.0),
            ("Power Banks", 1.5),
        ],
        price_pref: 0.6,
        share: 1.0,
    },
    Segment {
        name: "pet owner",
        likes: &[("Cat Food", 5.0), ("Cat Litter", 3.0), ("Dog Food", 3.0), ("Pet Toys", 2.0)],
        price_pref: 1.0,
        share: 0.9,
    },
    Segment {
        name: "fashion",
        likes: &[
            ("Dresses", 4.0),
            ("Jeans", 3.0),
            ("Handbags", 3.0),
            ("Jackets", 2.0),
            ("T-Shirts", 2.0),
            ("Perfume", 1.0),
        ],
        price_pref: 1.3,
        share: 1.0,
    },
    Segment {
        name: "tech enthusiast",
        likes: &[("Phones", 4.0), ("Laptops", 3.0), ("Headphones", 3.0), ("Smartwatches", 3.0), ("Power Banks", 2.0)],
        price_pref: 1.4,
        share: 0.8,
    },
    Segment {
        name: "book lover",
        likes: &[("Fiction", 5.0), ("Business", 2.0), ("Children's Books", 1.0), ("Tea", 2.0), ("Coffee", 1.0)],
        price_pref: 0.9,
        share: 0.6,
    },
];

const MODEL_LETTERS: &[&str] = &["X", "S", "Pro ", "Air ", "Neo ", "Max ", "Lite ", "G", "K", "M"];
const DAY: i64 = 86_400;
/// Beijing is UTC+8.
const TZ: i64 = 8 * 3600;
/// Relative traffic by local hour.
const HOURS: [f64; 24] = [
    2.0, 1.0, 0.5, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0, 4.0, 3.0, 3.0, 3.0, 4.0, 5.0, 6.0, 8.0, 9.0, 8.0,
    5.0,
];

/// Flattened subcategory with resolved paths.
struct SubInfo {
    top: usize,
    sub: &'static Sub,
    category: String,
    category_zh: String,
}

fn sub_infos() -> Vec<SubInfo> {
    TOPS.iter()
        .enumerate()
        .flat_map(|(ti, t)| {
            t.subs.iter().map(move |s| SubInfo {
                top: ti,
                sub: s,
                category: format!("{}/{}", t.en, s.en),
                category_zh: format!("{}/{}", t.zh, s.zh),
            })
        })
        .collect()
}

fn sub_index(subs: &[SubInfo], name: &str) -> usize {
    subs.iter().position(|s| s.sub.en == name).unwrap_or_else(|| panic!("segment names unknown subcategory {name}"))
}

/// Shop-like price: 199, 1299, 29.9, 5.9.
fn pretty_price(p: f64) -> f64 {
    if p >= 100.0 {
        ((p / 10.0).round() * 10.0 - 1.0).max(99.0)
    } else if p >= 10.0 {
        p.round() - 0.1
    } else {
        p.floor().max(1.0) + 0.9
    }
}

/// Round a price cap to what people type ("under 500").
fn nice_cap(p: f64) -> u64 {
    let step = if p >= 2000.0 {
        1000.0
    } else if p >= 300.0 {
        100.0
    } else if p >= 60.0 {
        50.0
    } else {
        10.0
    };
    ((p / step).ceil() * step) as u64
}

// ---------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------

/// What the behaviour simulation needs to know about an item.
struct Meta {
    sub: usize,
    brand: usize,
    price: f64,
    created: i64,
    /// Zipf popularity inside the subcategory.
    pop: f64,
    qty_max: i64,
}

fn build_catalogue(cfg: &ShopConfig, subs: &[SubInfo]) -> (Vec<Item>, Vec<Meta>) {
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

// ---------------------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------------------

/// Relative traffic per day: weekends, shopping festivals, slow growth.
fn day_weights(cfg: &ShopConfig) -> Vec<f64> {
    (0..cfg.days)
        .map(|d| {
            let ts = cfg.start + i64::from(d) * DAY + 12 * 3600 + TZ;
            let mut w = 1.0 + 0.2 * f64::from(d) / f64::from(cfg.days.max(1));
            if let Some(dt) = chrono::DateTime::from_timestamp(ts, 0) {
                if matches!(dt.weekday(), Weekday::Sat | Weekday::Sun) {
                    w *= 1.25;
                }
                w *= match (dt.month(), dt.day()) {
                    (11, 11) => 3.0,
                    (11, 10) | (11, 9) => 1.6,
                    (6, 18) => 2.5,
                    (6, 17) => 1.5,
                    (12, 12) => 1.8,
                    _ => 1.0,
                };
            }
            w
        })
        .collect()
}

struct User {
    id: String,
    segs: Vec<usize>,
    seg_w: Vec<f64>,
    price_pref: f64,
    /// Favourite brand per top category, for brand-loyal users.
    fav: Option<Vec<usize>>,
}

struct World<'a> {
    cfg: &'a ShopConfig,
    subs: &'a [SubInfo],
    items: &'a [Item],
    metas: &'a [Meta],
    by_sub: Vec<Vec<usize>>,
    seg_subs: Vec<Vec<(usize, f64)>>,
    sub_cdf: Vec<f64>,
    day_cdf: Vec<f64>,
    hour_cdf: Vec<f64>,
    promo: Vec<bool>,
    end: i64,
}

struct Log<'a> {
    events: Vec<Event>,
    user: &'a str,
}

impl Log<'_> {
    fn push(&mut self, item: &str, kind: EventKind, value: f32, t: i64, query: Option<String>) {
        self.events.push(Event { user: self.user.to_owned(), item: item.to_owned(), kind, value, timestamp: t, query });
    }
}

impl World<'_> {
    fn item_weights(&self, user: &User, sub: usize, t: i64, out: &mut Vec<f64>) {
        out.clear();
        let info = &self.subs[sub];
        let target = info.sub.price.0 * user.price_pref;
        for &i in &self.by_sub[sub] {
            let m = &self.metas[i];
            if m.created > t {
                out.push(0.0);
                continue;
            }
            let lr = (m.price / target).ln();
            let mut w = m.pop * (-lr * lr / (2.0 * 0.6 * 0.6)).exp();
            if t - m.created < 14 * DAY {
                w *= 2.5; // new arrivals are promoted
            }
            if let Some(fav) = &user.fav {
                if fav[info.top] == m.brand {
                    w *= 4.0;
                }
            }
            out.push(w);
        }
    }

    fn query(&self, rng: &mut Rng, user: &User, sub: usize) -> String {
        let info = &self.subs[sub];
        let s = info.sub;
        let noun = *rng.pick(s.nouns);
        let r = rng.f64();
        if r < 0.30 {
            if rng.chance(0.5) {
                s.zh.to_owned()
            } else {
                noun.0.to_owned()
            }
        } else if r < 0.52 {
            if rng.chance(0.5) {
                s.en.to_lowercase()
            } else {
                noun.1.to_lowercase()
            }
        } else if r < 0.66 && !s.queries.is_empty() {
            (*rng.pick(s.queries)).to_owned()
        } else if r < 0.80 {
            let cap = nice_cap(s.price.0 * user.price_pref * 1.3);
            match rng.below(3) {
                0 => format!("{} under {cap}", noun.1.to_lowercase()),
                1 => format!("{cap}元以内{}", s.zh),
                _ => format!("{} {cap}以下", noun.0),
            }
        } else if r < 0.90 {
            let a = *rng.pick(s.adjs);
            if rng.chance(0.6) {
                format!("{}{}", a.0, s.zh)
            } else {
                format!("{} {}", a.1, noun.1).to_lowercase()
            }
        } else {
            let brands = TOPS[info.top].brands;
            let b = match &user.fav {
                Some(f) => brands[f[info.top]],
                None => *rng.pick(brands),
            };
            if rng.chance(0.5) {
                format!("{}{}", b.0, s.zh)
            } else {
                format!("{} {}", b.1, noun.1.to_lowercase())
            }
        }
    }

    /// Pick the subcategory of one stretch of browsing; `true` when it is a taste of the user.
    fn pick_sub(&self, rng: &mut Rng, user: &User) -> (usize, bool) {
        if rng.chance(0.15) {
            return (sample_cdf(rng, &self.sub_cdf), false);
        }
        let seg = user.segs[rng.weighted(&user.seg_w).unwrap_or(0)];
        let likes = &self.seg_subs[seg];
        let w: Vec<f64> = likes.iter().map(|&(_, w)| w).collect();
        (likes[rng.weighted(&w).unwrap_or(0)].0, true)
    }

    fn session(&self, rng: &mut Rng, user: &User, day: usize, log: &mut Log, refills: &mut Vec<(i64, usize)>) {
        let hour = sample_cdf(rng, &self.hour_cdf) as i64;
        let mut t = self.cfg.start + day as i64 * DAY + hour * 3600 + rng.range(0, 3599);
        let promo = self.promo[day];
        let mut cart: Vec<usize> = Vec::new();
        let stretches = 1 + usize::from(rng.chance(0.3)) + usize::from(rng.chance(0.1));
        let mut w = Vec::new();
        for _ in 0..stretches {
            let (sub, liked) = self.pick_sub(rng, user);
            self.item_weights(user, sub, t, &mut w);
            if w.iter().all(|&x| x <= 0.0) {
                continue;
            }
            if rng.chance(0.45) {
                log.push("", EventKind::Search, 1.0, t, Some(self.query(rng, user, sub)));
                t += rng.range(3, 25);
            }
            let views = 1 + rng.geometric(0.28, 14);
            let target = self.subs[sub].sub.price.0 * user.price_pref;
            let mut prev = usize::MAX;
            for _ in 0..views {
                let Some(mut k) = rng.weighted(&w) else { break };
                for _ in 0..3 {
                    if k != prev {
                        break;
                    }
                    k = rng.weighted(&w).unwrap_or(k);
                }
                prev = k;
                let i = self.by_sub[sub][k];
                let id = &self.items[i].id;
                log.push(id, EventKind::View, 1.0, t, None);
                t += rng.range(4, 40);
                if rng.chance(if liked { 0.40 } else { 0.28 }) {
                    log.push(id, EventKind::Click, 1.0, t, None);
                    t += rng.range(10, 120);
                    let price = self.metas[i].price;
                    let afford = if price > target { (target / price).sqrt() } else { 1.0 };
                    let p_cart = (if liked { 0.22 } else { 0.12 }) * afford * if promo { 1.3 } else { 1.0 };
                    if !cart.contains(&i) && rng.chance(p_cart) {
                        log.push(id, EventKind::AddToCart, 1.0, t, None);
                        cart.push(i);
                        t += rng.range(5, 40);
                    }
                }
                t += rng.range(5, 60);
            }
        }
        if !cart.is_empty() {
            t += rng.range(30, 300);
            let p_buy = if promo { 0.75 } else { 0.55 };
            for i in cart {
                if rng.chance(p_buy) {
                    let qty = self.quantity(rng, i);
                    self.purchase(rng, log, refills, i, qty, t);
                    t += rng.range(1, 8);
                }
            }
        }
    }

    fn quantity(&self, rng: &mut Rng, i: usize) -> i64 {
        let m = &self.metas[i];
        if m.qty_max > 1 {
            [1, 1, 1, 1, 2, 2, 3][rng.below(7)].min(m.qty_max)
        } else if rng.chance(0.03) {
            2
        } else {
            1
        }
    }

    fn purchase(&self, rng: &mut Rng, log: &mut Log, refills: &mut Vec<(i64, usize)>, i: usize, qty: i64, t: i64) {
        let id = &self.items[i].id;
        let s = self.subs[self.metas[i].sub].sub;
        log.push(id, EventKind::Purchase, qty as f32, t, None);
        if rng.chance(s.returns) {
            let back = t + rng.range(2 * DAY, 10 * DAY);
            let q = if qty > 1 && rng.chance(0.5) { 1 } else { qty };
            log.push(id, EventKind::Return, q as f32, back, None);
        } else if let Some((lo, hi)) = s.refill {
            if rng.chance(0.6) {
                refills.push((t + rng.range(lo * DAY, hi * DAY), i));
            }
        }
    }

    /// A replenishment visit: straight to the product, usually bought again.
    fn refill(&self, rng: &mut Rng, log: &mut Log, refills: &mut Vec<(i64, usize)>, i: usize, mut t: i64) {
        let id = &self.items[i].id;
        log.push(id, EventKind::View, 1.0, t, None);
        t += rng.range(5, 60);
        if rng.chance(0.88) {
            log.push(id, EventKind::AddToCart, 1.0, t, None);
            t += rng.range(20, 200);
            if rng.chance(0.9) {
                let qty = self.quantity(rng, i);
                self.purchase(rng, log, refills, i, qty, t);
            }
        }
    }

    fn user_events(&self, u: usize, user: &User) -> Vec<Event> {
        let mut rng = Rng::derive(self.cfg.seed, 3, u as u64);
        let mut log = Log { events: Vec::new(), user: &user.id };
        let mut refills = Vec::new();
        let activity = (0.8 * rng.normal()).exp() * 0.73; // mean ≈ 1
        let n = rng.poisson(f64::from(self.cfg.days) / 9.0 * activity).max(1);
        for _ in 0..n {
            let day = sample_cdf(&mut rng, &self.day_cdf);
            self.session(&mut rng, user, day, &mut log, &mut refills);
        }
        while let Some((t, i)) = refills.pop() {
            if t < self.end {
                self.refill(&mut rng, &mut log, &mut refills, i, t);
            }
        }
        log.events.retain(|e| e.timestamp < self.end);
        log.events
    }
}

fn make_user(cfg: &ShopConfig, u: usize) -> User {
    let mut rng = Rng::derive(cfg.seed, 2, u as u64);
    let shares: Vec<f64> = SEGMENTS.iter().map(|s| s.share).collect();
    let first = rng.weighted(&shares).unwrap_or(0);
    let mut segs = vec![first];
    let mut seg_w = vec![1.0];
    if rng.chance(0.4) {
        let mut second = rng.weighted(&shares).unwrap_or(0);
        while second == first {
            second = rng.weighted(&shares).unwrap_or(0);
        }
        segs.push(second);
        seg_w = vec![0.65, 0.35];
    }
    let pp: f64 = segs.iter().map(|&s| SEGMENTS[s].price_pref).sum::<f64>() / segs.len() as f64;
    let price_pref = pp * (0.25 * rng.normal()).exp();
    let fav = rng.chance(0.35).then(|| TOPS.iter().map(|t| rng.below(t.brands.len())).collect());
    User { id: format!("u{u:04}"), segs, seg_w, price_pref, fav }
}

/// Generate the demo shop for `cfg`. Deterministic: the same config gives the same shop.
///
/// The catalogue depends only on `items` and `seed`, a user's behaviour only on the catalogue,
/// the user's index, `days`, `start` and `seed`, so growing `users` keeps existing users' logs.
pub fn generate_shop(cfg: &ShopConfig) -> Shop {
    let subs = sub_infos();
    let (items, metas) = build_catalogue(cfg, &subs);
    let mut by_sub = vec![Vec::new(); subs.len()];
    for (i, m) in metas.iter().enumerate() {
        by_sub[m.sub].push(i);
    }
    let seg_subs: Vec<Vec<(usize, f64)>> =
        SEGMENTS.iter().map(|s| s.likes.iter().map(|&(n, w)| (sub_index(&subs, n), w)).collect()).collect();
    let dw = day_weights(cfg);
    let promo: Vec<bool> = {
        let mean = dw.iter().sum::<f64>() / dw.len().max(1) as f64;
        dw.iter().map(|&w| w > 2.0 * mean).collect()
    };
    let world = World {
        cfg,
        subs: &subs,
        items: &items,
        metas: &metas,
        sub_cdf: cdf(subs.iter().map(|s| s.sub.weight)),
        day_cdf: cdf(dw.iter().copied()),
        hour_cdf: cdf(HOURS.iter().copied()),
        by_sub,
        seg_subs,
        promo,
        end: cfg.start + i64::from(cfg.days) * DAY,
    };

    let users: Vec<User> = (0..cfg.users).map(|u| make_user(cfg, u)).collect();
    let mut events = Vec::new();
    if cfg.days > 0 && cfg.items > 0 {
        for (u, user) in users.iter().enumerate() {
            events.extend(world.user_events(u, user));
        }
    }
    events.sort_by_key(|e| e.timestamp); // stable: per-user order kept on ties

    let truth = ShopTruth {
        user_segment: users
            .iter()
            .flat_map(|u| u.segs.iter().map(move |&s| (u.id.clone(), SEGMENTS[s].name.to_owned())))
            .collect(),
        segment_categories: SEGMENTS
            .iter()
            .zip(&world.seg_subs)
            .map(|(s, likes)| (s.name.to_owned(), likes.iter().map(|&(i, _)| subs[i].category.clone()).collect()))
            .collect(),
    };
    Shop { items, events, truth }
}

// ---------------------------------------------------------------------------------------
// Planted datasets for model tests
// ---------------------------------------------------------------------------------------

/// The contiguous item block `[lo, hi)` of cluster `c`.
fn block(c: usize, n_items: usize, n_clusters: usize) -> (usize, usize) {
    (c * n_items / n_clusters, (c + 1) * n_items / n_clusters)
}

fn planted_base(n_users: usize, n_items: usize, n_clusters: usize, explicit: bool) -> Dataset {
    let mut ds = Dataset { explicit, ..Default::default() };
    let n_clusters = n_clusters.max(1);
    for c in 0..n_clusters {
        let (lo, hi) = block(c, n_items, n_clusters);
        for j in lo..hi {
            let mut it = Item::new(format!("i{j}"));
            it.title = format!("Item {j} (cluster {c})");
            it.category = Some(format!("cluster{c}"));
            ds.upsert_item(it);
        }
    }
    for u in 0..n_users {
        ds.users.get_or_insert(&format!("u{u}"));
    }
    ds
}

/// Small explicit-rating data with planted structure for model tests.
///
/// User `u{i}` (index `i`) belongs to cluster `i % n_clusters`; item `i{j}` (index `j`) to the
/// cluster whose contiguous block holds it (`j * n_clusters / n_items`, also in its category
/// `"cluster{c}"`). Each (user, item) pair is rated with probability `density`: 4–5 inside the
/// user's cluster block, 1–2 outside. Every user rates at least one item of its own block.
/// Interactions are `Rating`s sorted by timestamp (a year from 2026-01-01), so temporal splits
/// work; ids map to indices in numeric order.
pub fn planted_ratings(n_users: usize, n_items: usize, n_clusters: usize, density: f64, seed: u64) -> Dataset {
    let mut ds = planted_base(n_users, n_items, n_clusters, true);
    let k = n_clusters.max(1);
    let mut rng = Rng::derive(seed, 10, 0);
    const T0: i64 = 1_767_225_600;
    for u in 0..n_users {
        let c = u % k;
        let (lo, hi) = block(c, n_items, k);
        let mut own = 0;
        for j in 0..n_items {
            if !rng.chance(density) {
                continue;
            }
            let inside = (lo..hi).contains(&j);
            own += usize::from(inside);
            let v = if inside { 4 + usize::from(rng.chance(0.6)) } else { 1 + usize::from(rng.chance(0.4)) };
            let ts = T0 + rng.range(0, 365 * DAY - 1);
            ds.interactions.push(Interaction {
                user: u as u32,
                item: j as u32,
                value: v as f32,
                timestamp: ts,
                kind: EventKind::Rating,
            });
        }
        if own == 0 && hi > lo {
            let j = lo + rng.below(hi - lo);
            let ts = T0 + rng.range(0, 365 * DAY - 1);
            ds.interactions.push(Interaction {
                user: u as u32,
                item: j as u32,
                value: 5.0,
                timestamp: ts,
                kind: EventKind::Rating,
            });
        }
    }
    ds.interactions.sort_by_key(|it| it.timestamp);
    ds
}

/// Implicit version of [`planted_ratings`]: each user makes `per_user` `Purchase`s (value 1),
/// ~85% inside its cluster's block with Zipf-like popularity (lower index in the block = more
/// popular), the rest anywhere (also Zipf over all items). Items are distinct per user while
/// possible. Each user's timestamps strictly increase; interactions are sorted by timestamp.
pub fn planted_implicit(n_users: usize, n_items: usize, n_clusters: usize, per_user: usize, seed: u64) -> Dataset {
    let mut ds = planted_base(n_users, n_items, n_clusters, false);
    if n_items == 0 {
        return ds;
    }
    let k = n_clusters.max(1);
    let mut rng = Rng::derive(seed, 11, 0);
    let zipf = |n: usize| cdf((0..n).map(|r| 1.0 / (r + 1) as f64));
    let global = zipf(n_items);
    let blocks: Vec<(usize, Vec<f64>)> = (0..k)
        .map(|c| {
            let (lo, hi) = block(c, n_items, k);
            (lo, zipf(hi - lo))
        })
        .collect();
    const T0: i64 = 1_767_225_600;
    let mut seen = HashSet::new();
    for u in 0..n_users {
        let (lo, ref bcdf) = blocks[u % k];
        seen.clear();
        let mut t = T0 + rng.range(0, 30 * DAY);
        for _ in 0..per_user {
            let mut j = 0;
            for _attempt in 0..20 {
                j = if !bcdf.is_empty() && rng.chance(0.85) {
                    lo + sample_cdf(&mut rng, bcdf)
                } else {
                    sample_cdf(&mut rng, &global)
                };
                if !seen.contains(&j) {
                    break;
                }
            }
            if seen.contains(&j) && seen.len() < n_items {
                // Popular items exhausted: take the least popular unseen item of the block or overall.
                let (blo, bhi) = block(u % k, n_items, k);
                j = (blo..bhi).rev().chain((0..n_items).rev()).find(|x| !seen.contains(x)).unwrap_or(j);
            }
            seen.insert(j);
            ds.interactions.push(Interaction {
                user: u as u32,
                item: j as u32,
                value: 1.0,
                timestamp: t,
                kind: EventKind::Purchase,
            });
            t += rng.range(600, 3 * DAY);
        }
    }
    ds.interactions.sort_by_key(|it| it.timestamp);
    ds
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Instant;

    fn small() -> ShopConfig {
        ShopConfig { users: 120, items: 150, days: 30, seed: 7, ..ShopConfig::default() }
    }

    #[test]
    fn synth_is_deterministic() {
        let a = generate_shop(&small());
        let b = generate_shop(&small());
        assert_eq!(a, b);
        let c = generate_shop(&ShopConfig { seed: 8, ..small() });
        assert_ne!(a.events, c.events);
        assert_ne!(a.items, c.items);
        // Catalogue does not depend on the number of users; users' logs not on other users.
        let d = generate_shop(&ShopConfig { users: 60, ..small() });
        assert_eq!(a.items, d.items);
        let a_u7: Vec<_> = a.events.iter().filter(|e| e.user == "u0007").collect();
        let d_u7: Vec<_> = d.events.iter().filter(|e| e.user == "u0007").collect();
        assert_eq!(a_u7, d_u7);
    }

    #[test]
    fn synth_default_volume_funnel_and_references() {
        let cfg = ShopConfig::default();
        let t0 = Instant::now();
        let shop = generate_shop(&cfg);
        let took = t0.elapsed();
        eprintln!("default shop: {} items, {} events in {took:?}", shop.items.len(), shop.events.len());
        assert_eq!(shop.items.len(), 600);
        assert!((40_000..=80_000).contains(&shop.events.len()), "{} events", shop.events.len());

        let mut count: HashMap<EventKind, usize> = HashMap::new();
        for e in &shop.events {
            *count.entry(e.kind).or_default() += 1;
        }
        let c = |k| count.get(&k).copied().unwrap_or(0);
        eprintln!("kinds: {count:?}");
        let (views, clicks, carts, buys, rets, searches) = (
            c(EventKind::View),
            c(EventKind::Click),
            c(EventKind::AddToCart),
            c(EventKind::Purchase),
            c(EventKind::Return),
            c(EventKind::Search),
        );
        assert!(views > clicks && clicks > carts && carts > buys && buys > rets && rets > 0);
        assert!(searches > 0);
        let conv = buys as f64 / views as f64;
        assert!((0.02..=0.06).contains(&conv), "conversion {conv}");

        let ids: HashMap<&str, &Item> = shop.items.iter().map(|i| (i.id.as_str(), i)).collect();
        let end = cfg.start + i64::from(cfg.days) * DAY;
        let mut last = i64::MIN;
        for e in &shop.events {
            assert!(e.timestamp >= last && e.timestamp >= cfg.start && e.timestamp < end);
            last = e.timestamp;
            if e.kind == EventKind::Search {
                assert_eq!(e.item, "");
                assert!(e.query.as_deref().is_some_and(|q| !q.is_empty()));
            } else {
                let it = ids.get(e.item.as_str()).unwrap_or_else(|| panic!("unknown item {}", e.item));
                assert!(it.created_at.unwrap() <= e.timestamp, "event before listing");
                assert!(e.query.is_none());
            }
            match e.kind {
                EventKind::Purchase | EventKind::Return => assert!((1.0..=3.0).contains(&e.value)),
                _ => assert_eq!(e.value, 1.0),
            }
        }
        // Every user acts; bilingual searches.
        let users: HashSet<&str> = shop.events.iter().map(|e| e.user.as_str()).collect();
        assert!(users.len() >= 790, "{} active users", users.len());
        let queries: Vec<&str> = shop.events.iter().filter_map(|e| e.query.as_deref()).collect();
        assert!(queries.iter().any(|q| q.chars().any(|ch| ch as u32 > 0x4E00)));
        assert!(queries.iter().any(|q| q.is_ascii()));
        assert!(queries.iter().any(|q| q.contains("under")));
    }

    #[test]
    fn synth_catalogue_looks_like_a_shop() {
        let cfg = ShopConfig::default();
        let shop = generate_shop(&cfg);
        let mut titles = HashSet::new();
        let mut tops = HashSet::new();
        for it in &shop.items {
            assert!(titles.insert(it.title.as_str()), "duplicate title {}", it.title);
            let cat = it.category.as_deref().unwrap();
            let (top, _) = cat.split_once('/').unwrap();
            tops.insert(top);
            assert!(it.attributes["category_zh"].contains('/'));
            assert_eq!(it.attributes["currency"], "CNY");
            let title_zh = &it.attributes["title_zh"];
            assert!(title_zh.chars().any(|ch| ch as u32 >= 0x4E00) && it.attributes["title_en"].is_ascii(), "{it:?}");
            assert!(it.title.starts_with(it.brand.as_deref().unwrap()));
            let p = it.price.unwrap();
            assert!(p > 0.0 && p < 20_000.0);
            if it.attributes.contains_key("color") {
                assert!(it.attributes.contains_key("color_zh"));
            }
        }
        assert!(tops.len() >= 10);
        // Running shoes cost what running shoes cost.
        let shoes: Vec<f64> = shop
            .items
            .iter()
            .filter(|i| i.category.as_deref() == Some("Sports & Outdoors/Running Shoes"))
            .map(|i| i.price.unwrap())
            .collect();
        assert!(!shoes.is_empty() && shoes.iter().all(|&p| (199.0..=899.0).contains(&p)), "{shoes:?}");
        let oos = shop.items.iter().filter(|i| !i.available).count();
        assert!(oos > 0 && oos < 60, "{oos} out of stock");
        let end = cfg.start + i64::from(cfg.days) * DAY;
        let new = shop.items.iter().filter(|i| i.created_at.unwrap() > end - 14 * DAY).count();
        assert!(new >= 30, "{new} new arrivals");
        // Ids follow listing order.
        assert!(shop.items.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        eprintln!("{}\n{}\n{}", shop.items[0].title, shop.items[300].title, shop.items[599].title);
    }

    #[test]
    fn synth_purchases_follow_planted_segments() {
        let shop = generate_shop(&ShopConfig::default());
        let cat: HashMap<&str, &str> =
            shop.items.iter().map(|i| (i.id.as_str(), i.category.as_deref().unwrap())).collect();
        let mut liked: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (u, s) in &shop.truth.user_segment {
            liked.entry(u).or_default().extend(shop.truth.categories_of(s).iter().map(String::as_str));
        }
        let (mut inside, mut total) = (0usize, 0usize);
        let mut bought: HashMap<(&str, &str), usize> = HashMap::new();
        for e in shop.events.iter().filter(|e| e.kind == EventKind::Purchase) {
            total += 1;
            inside += usize::from(liked[e.user.as_str()].contains(cat[e.item.as_str()]));
            *bought.entry((&e.user, &e.item)).or_default() += 1;
        }
        let share = inside as f64 / total as f64;
        eprintln!("{total} purchases, {share:.3} in segment categories");
        assert!(share >= 0.6, "{share}");
        // Consumables are re-bought.
        let repeats = bought.iter().filter(|(_, &n)| n >= 2).count();
        assert!(repeats >= 50, "{repeats} repeat purchases");
        let segs = shop.truth.segments_of("u0000");
        assert!((1..=2).contains(&segs.len()) && !shop.truth.categories_of(segs[0]).is_empty());
        let ds = shop.to_dataset();
        assert_eq!(ds.n_items(), shop.items.len());
        assert_eq!(ds.n_users(), 800);
        assert_eq!(ds.interactions.len(), shop.events.iter().filter(|e| !e.item.is_empty()).count());
    }

    #[test]
    fn synth_planted_ratings_shape() {
        let ds = planted_ratings(60, 40, 3, 0.3, 1);
        assert!(ds.explicit);
        assert_eq!((ds.n_users(), ds.n_items()), (60, 40));
        let n = ds.interactions.len() as f64;
        assert!((n / (60.0 * 40.0) - 0.3).abs() < 0.05, "density {}", n / 2400.0);
        for it in &ds.interactions {
            let own = ds.category(it.item).unwrap() == format!("cluster{}", it.user % 3);
            if own {
                assert!(it.value >= 4.0);
            } else {
                assert!(it.value <= 2.0);
            }
        }
        assert!(ds.interactions.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        assert_eq!(ds.users.id(5), "u5");
        assert_eq!(ds.items.id(7), "i7");
        assert_eq!(planted_ratings(60, 40, 3, 0.3, 1).interactions, ds.interactions);
        // Sparse: everyone still rates something of their own.
        let sparse = planted_ratings(50, 100, 5, 0.001, 2);
        let users: HashSet<u32> = sparse.interactions.iter().map(|i| i.user).collect();
        assert_eq!(users.len(), 50);
    }

    #[test]
    fn synth_planted_implicit_shape() {
        let ds = planted_implicit(100, 200, 4, 20, 3);
        assert!(!ds.explicit);
        assert_eq!((ds.n_users(), ds.n_items()), (100, 200));
        assert_eq!(ds.interactions.len(), 100 * 20);
        let mut per_user: HashMap<u32, Vec<&Interaction>> = HashMap::new();
        for it in &ds.interactions {
            per_user.entry(it.user).or_default().push(it);
        }
        let mut own = 0;
        for (u, its) in &per_user {
            assert_eq!(its.len(), 20);
            assert!(its.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
            let distinct: HashSet<u32> = its.iter().map(|i| i.item).collect();
            assert_eq!(distinct.len(), 20);
            own += its.iter().filter(|i| ds.category(i.item).unwrap() == format!("cluster{}", u % 4)).count();
        }
        let share = own as f64 / 2000.0;
        assert!((0.78..=0.95).contains(&share), "{share}");
        // Zipf inside a block: the first item of block 0 beats its median item.
        let pop = |j: u32| ds.interactions.iter().filter(|i| i.item == j).count();
        assert!(pop(0) > 2 * pop(25), "{} vs {}", pop(0), pop(25));
        assert_eq!(planted_implicit(100, 200, 4, 20, 3).interactions, ds.interactions);
    }

    #[test]
    fn synth_edge_sizes_do_not_panic() {
        for (users, items, days) in [(0, 0, 0), (3, 0, 10), (3, 5, 0), (5, 7, 3), (20, 30, 1)] {
            let shop = generate_shop(&ShopConfig { users, items, days, ..ShopConfig::default() });
            assert_eq!(shop.items.len(), items);
            assert!(shop.events.iter().all(|e| e.item.is_empty() || shop.items.iter().any(|i| i.id == e.item)));
        }
        assert_eq!(planted_ratings(4, 2, 3, 0.5, 1).n_items(), 2);
        assert_eq!(planted_implicit(4, 2, 3, 5, 1).interactions.len(), 20);
        assert_eq!(planted_implicit(0, 0, 0, 5, 1).interactions.len(), 0);
    }
}
