//! The demo shop's tables: top-level categories with their subcategories, brands, colours,
//! materials and sizes in both languages, the shoppers' taste segments, and the calendar.

// ---------------------------------------------------------------------------------------
// Catalogue tables
// ---------------------------------------------------------------------------------------

pub(super) type Pair = (&'static str, &'static str); // (中文, English)

pub(super) struct Top {
    pub(super) en: &'static str,
    pub(super) zh: &'static str,
    pub(super) brands: &'static [Pair],
    pub(super) subs: &'static [Sub],
}

pub(super) struct Sub {
    pub(super) en: &'static str,
    pub(super) zh: &'static str,
    /// Product nouns (中文, English).
    pub(super) nouns: &'static [Pair],
    /// Adjectives (中文, English); one or two per title.
    pub(super) adjs: &'static [Pair],
    /// Log-normal price: median, sigma, clamp low, clamp high (CNY).
    pub(super) price: (f64, f64, f64, f64),
    pub(super) colors: &'static [Pair],
    pub(super) materials: &'static [Pair],
    pub(super) sizes: &'static [&'static str],
    /// Variants (中文, English), one per SKU.
    pub(super) specs: &'static [Pair],
    /// Re-purchase interval in days for consumables.
    pub(super) refill: Option<(i64, i64)>,
    /// Model codes in titles (electronics).
    pub(super) model: bool,
    /// Extra search queries.
    pub(super) queries: &'static [&'static str],
    /// Share of the catalogue relative to other subcategories.
    pub(super) weight: f64,
    /// Probability that a purchase is returned.
    pub(super) returns: f64,
}

pub(super) const B: Sub = Sub {
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

pub(super) const C_SHOES: &[Pair] = &[
    ("黑色", "Black"),
    ("白色", "White"),
    ("红色", "Red"),
    ("蓝色", "Blue"),
    ("灰色", "Grey"),
    ("荧光绿", "Neon Green"),
];
pub(super) const C_APPAREL: &[Pair] = &[
    ("黑色", "Black"),
    ("白色", "White"),
    ("灰色", "Grey"),
    ("藏青色", "Navy"),
    ("红色", "Red"),
    ("卡其色", "Khaki"),
    ("军绿色", "Olive"),
    ("米白色", "Cream"),
];
pub(super) const C_TECH: &[Pair] = &[
    ("曜石黑", "Obsidian Black"),
    ("星光银", "Starlight Silver"),
    ("冰川蓝", "Glacier Blue"),
    ("樱花粉", "Sakura Pink"),
    ("白色", "White"),
];
pub(super) const C_HOME: &[Pair] =
    &[("白色", "White"), ("灰色", "Grey"), ("原木色", "Natural Wood"), ("墨绿色", "Forest Green"), ("燕麦色", "Oat")];
pub(super) const C_LIP: &[Pair] = &[
    ("正红色", "Classic Red"),
    ("豆沙色", "Rose Nude"),
    ("枫叶红", "Maple Red"),
    ("珊瑚橘", "Coral"),
    ("奶茶色", "Milk Tea"),
];
pub(super) const C_BABY: &[Pair] = &[
    ("浅粉色", "Light Pink"),
    ("天蓝色", "Sky Blue"),
    ("奶黄色", "Butter Yellow"),
    ("白色", "White"),
    ("薄荷绿", "Mint"),
];
pub(super) const C_GAME: &[Pair] = &[("黑色", "Black"), ("白色", "White"), ("幻彩RGB", "RGB")];
pub(super) const C_OUTDOOR: &[Pair] =
    &[("军绿色", "Olive"), ("橙色", "Orange"), ("沙色", "Sand"), ("黑色", "Black"), ("天蓝色", "Sky Blue")];

pub(super) const M_SHOES: &[Pair] = &[("网布", "Mesh"), ("飞织", "Knit"), ("皮革", "Leather")];
pub(super) const M_CLOTH: &[Pair] = &[("纯棉", "Cotton"), ("涤纶", "Polyester"), ("亚麻", "Linen"), ("羊毛", "Wool")];
pub(super) const M_COOK: &[Pair] =
    &[("不锈钢", "Stainless Steel"), ("铸铁", "Cast Iron"), ("不粘涂层", "Non-stick"), ("陶瓷", "Ceramic")];
pub(super) const M_KNIFE: &[Pair] =
    &[("德国钢", "German Steel"), ("大马士革钢", "Damascus Steel"), ("陶瓷", "Ceramic")];
pub(super) const M_BED: &[Pair] =
    &[("纯棉", "Cotton"), ("天丝", "Tencel"), ("真丝", "Silk"), ("磨毛", "Brushed Microfiber")];
pub(super) const M_FURN: &[Pair] = &[("网布", "Mesh"), ("真皮", "Leather"), ("实木", "Solid Wood")];
pub(super) const M_BAG: &[Pair] = &[("尼龙", "Nylon"), ("帆布", "Canvas"), ("真皮", "Leather")];
pub(super) const M_YOGA: &[Pair] = &[("TPE", "TPE"), ("天然橡胶", "Natural Rubber"), ("软木", "Cork")];

pub(super) const S_SHOES: &[&str] = &["36", "37", "38", "39", "40", "41", "42", "43", "44", "45"];
pub(super) const S_APPAREL: &[&str] = &["S", "M", "L", "XL", "XXL"];
pub(super) const S_BABY: &[&str] = &["59", "66", "73", "80", "90", "100"];

pub(super) const TOPS: &[Top] = &[
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

pub(super) struct Segment {
    pub(super) name: &'static str,
    /// Liked subcategories (English sub name) and their weights.
    pub(super) likes: &'static [(&'static str, f64)],
    /// Preferred price relative to the subcategory median.
    pub(super) price_pref: f64,
    /// Share of users.
    pub(super) share: f64,
}

pub(super) const SEGMENTS: &[Segment] = &[
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

pub(super) const MODEL_LETTERS: &[&str] = &["X", "S", "Pro ", "Air ", "Neo ", "Max ", "Lite ", "G", "K", "M"];
pub(super) const DAY: i64 = 86_400;
/// Beijing is UTC+8.
pub(super) const TZ: i64 = 8 * 3600;
/// Relative traffic by local hour.
pub(super) const HOURS: [f64; 24] = [
    2.0, 1.0, 0.5, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0, 4.0, 3.0, 3.0, 3.0, 4.0, 5.0, 6.0, 8.0, 9.0, 8.0,
    5.0,
];

/// Flattened subcategory with resolved paths.
pub(super) struct SubInfo {
    pub(super) top: usize,
    pub(super) sub: &'static Sub,
    pub(super) category: String,
    pub(super) category_zh: String,
}

pub(super) fn sub_infos() -> Vec<SubInfo> {
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

pub(super) fn sub_index(subs: &[SubInfo], name: &str) -> usize {
    subs.iter().position(|s| s.sub.en == name).unwrap_or_else(|| panic!("segment names unknown subcategory {name}"))
}

/// Shop-like price: 199, 1299, 29.9, 5.9.
pub(super) fn pretty_price(p: f64) -> f64 {
    if p >= 100.0 {
        ((p / 10.0).round() * 10.0 - 1.0).max(99.0)
    } else if p >= 10.0 {
        p.round() - 0.1
    } else {
        p.floor().max(1.0) + 0.9
    }
}

/// Round a price cap to what people type ("under 500").
pub(super) fn nice_cap(p: f64) -> u64 {
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
