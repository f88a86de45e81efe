//! The shopper simulator's figures (README, "Experiments"): A/A false-positive rate of the
//! sequential test, A/B power, and the sample-ratio alarm on a broken assignment.
//!
//! `cargo run -p daogou-eval --example shopper_sim -- [--runs 200] [--shoppers 8000] [--seed 1]`
//! (`bench/shopper_sim.sh` runs it).

use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_eval::simulator::{run_many, Figures, Shoppers, SimExperiment};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: expected a number, got {v}")))
        .unwrap_or(default)
}

fn line(what: &str, e: &SimExperiment, f: &Figures) {
    println!(
        "{what:<28} runs {:>4}  shoppers {:>6}  looks {:>3}  rejected {:>4} ({:>5.1} %, treatment ahead {:>5.1} %)  peeking z-test {:>5.1} %  SRM alarms {:>4} ({:>5.1} %)  mean {} {:.5} vs {:.5}",
        f.runs,
        e.shoppers,
        e.looks,
        f.rejected,
        100.0 * f.rejection_rate(),
        100.0 * f.power(),
        100.0 * f.naive_rejected as f64 / f.runs.max(1) as f64,
        f.srm_alarms,
        100.0 * f.srm_rate(),
        e.primary.key(),
        f.mean_values[0],
        f.mean_values[1],
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs = arg(&args, "--runs", 200) as usize;
    let shoppers = arg(&args, "--shoppers", 8_000) as usize;
    let seed = arg(&args, "--seed", 1);
    let started = std::time::Instant::now();
    let shop = generate_shop(&ShopConfig::default());
    let sh = Shoppers::from_shop(&shop);
    println!(
        "demo shop: {} shopper profiles, {} items (seed {}); α = 0.05, SRM alarm at p < 0.001",
        sh.profiles(),
        shop.items.len(),
        ShopConfig::default().seed
    );
    let aa = SimExperiment { shoppers, ..SimExperiment::a_a() };
    line("A/A (personal 50 % vs 50 %)", &aa, &run_many(&sh, &aa, runs, seed));
    let ab = SimExperiment { shoppers, ..SimExperiment::a_b() };
    line("A/B (personal 50 % vs 60 %)", &ab, &run_many(&sh, &ab, runs, seed + 1_000_000));
    let broken = SimExperiment { shoppers, ..SimExperiment::broken() };
    line("broken (10 % of B lost)", &broken, &run_many(&sh, &broken, runs, seed + 2_000_000));
    println!("{:.1} s", started.elapsed().as_secs_f64());
}
