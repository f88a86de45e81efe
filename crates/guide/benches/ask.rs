//! Latency of `Guide::ask` on a 50,000-item catalogue (the demo shop's generator at scale):
//! p50 / p95 / max over bilingual requests, with and without personal scores, and of
//! `Guide::search`. Bar: p95 ≤ 50 ms.
//!
//! ```sh
//! cargo bench -p daogou-guide --bench ask            # ITEMS=50000 ROUNDS=10 by default
//! ```

use std::time::{Duration, Instant};

use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_guide::{AskRequest, Guide, GuideConfig};
use indicatif::{ProgressBar, ProgressStyle};

const REQUESTS: &[&str] = &[
    "300元以下的跑鞋",
    "送给跑步爱好者的礼物，50美元以内",
    "不要红色的跑鞋",
    "running shoes under $100, no Swiftstep",
    "cheapest yoga mat",
    "最畅销的耳机",
    "两百块左右的T恤",
    "between 100 and 300 yuan headphones",
    "送妈妈的生日礼物 500元以内",
    "lightweight runing shoes",
    "newest laptops",
    "纯棉的连衣裙 不要白色",
    "noise cancelling wireless earbuds",
    "咖啡豆 100元以内",
    "gift for a gamer under 500",
    "不要耐克的运动鞋",
    "black backpack",
    "猫粮 最便宜",
    "mechanical keyboard, not Hexa",
    "防晒霜",
];

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k].as_secs_f64() * 1e3
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / `cargo test --benches`: nothing to list
    }
    let n_items: usize = std::env::var("ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let spin = ProgressBar::new_spinner();
    spin.enable_steady_tick(Duration::from_millis(120));
    spin.set_message(format!("generating {n_items} items"));
    let t = Instant::now();
    let items = generate_shop(&ShopConfig { users: 0, items: n_items, ..ShopConfig::default() }).items;
    let gen_s = t.elapsed().as_secs_f64();
    spin.set_message(format!("indexing {n_items} items"));
    let t = Instant::now();
    let guide = Guide::new(&items, GuideConfig::default()).expect("guide");
    let index_s = t.elapsed().as_secs_f64();
    spin.finish_and_clear();
    println!("catalogue: {n_items} items (generated in {gen_s:.1} s), indexed in {index_s:.2} s");

    // A known user's model scores (deterministic pseudo-random) and history.
    let personal: Vec<f32> = (0..items.len()).map(|i| ((i as u64 * 2_654_435_761) % 1000) as f32 / 1000.0).collect();
    let history: Vec<u32> = (0..20).map(|k| (k * 997 % items.len()) as u32).collect();

    // Warm-up: the jieba dictionary, regexes, tantivy caches.
    for q in REQUESTS {
        guide.ask(&AskRequest { text: (*q).into(), ..Default::default() }, None, &[]).expect("ask");
    }
    let total = rounds * REQUESTS.len();
    let bar = ProgressBar::new(3 * total as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").expect("style"));
    let mut anon = Vec::with_capacity(total);
    let mut known = Vec::with_capacity(total);
    let mut search = Vec::with_capacity(total);
    let mut found = 0usize;
    for _ in 0..rounds {
        for q in REQUESTS {
            let req = AskRequest { text: (*q).into(), ..Default::default() };
            let t = Instant::now();
            let a = guide.ask(&req, None, &[]).expect("ask");
            anon.push(t.elapsed());
            found += a.items.len();
            let req = AskRequest { text: (*q).into(), user: Some("u1".into()), ..Default::default() };
            let t = Instant::now();
            guide.ask(&req, Some(&personal), &history).expect("ask");
            known.push(t.elapsed());
            let t = Instant::now();
            guide.search(q, 20).expect("search");
            search.push(t.elapsed());
            bar.inc(3);
        }
    }
    bar.finish_and_clear();
    println!("{} requests × {rounds} rounds; {:.1} items per answer", REQUESTS.len(), found as f64 / total as f64);
    println!("{:<34} {:>9} {:>9} {:>9}", "ms", "p50", "p95", "max");
    for (name, mut v) in
        [("ask (anonymous)", anon), ("ask (known user: scores+history)", known), ("search (top 20)", search)]
    {
        v.sort();
        println!("{name:<34} {:>9.2} {:>9.2} {:>9.2}", pct(&v, 0.5), pct(&v, 0.95), pct(&v, 1.0));
    }
}
