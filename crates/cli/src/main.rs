//! `daogou`: the command line of the daogou shopping-guide engine.
//!
//! Each subcommand is a thin shell over the library crates: `import`/`stats` over the store,
//! `train`/`evaluate`/`recommend`/`similar` over data → models → evaluation, `demo` over all.

mod args;
mod cluster_cmds;
mod demo;
mod evaluate;
mod progress;
mod pseudonyms;
mod recommend;
mod report;
mod serve;
mod store_cmds;
mod tune;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// daogou (导购): turn a shop's behaviour data into personal product recommendations.
///
/// Typical flow: `daogou import` your events and catalogue into the embedded database,
/// `daogou evaluate` a few models to pick one, then `daogou recommend` / `daogou similar`.
/// `daogou demo` does all of it on a generated shop, with no input needed.
#[derive(Parser)]
#[command(name = "daogou", version, about, long_about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import events and/or catalogue items from a file into the database.
    ///
    /// Re-importing the same file adds nothing (duplicate events are detected). In the default
    /// lenient mode bad rows are skipped and counted by reason; with --strict the first bad
    /// row stops the import with FILE:LINE and the field, and the database is left unchanged.
    ///
    /// Example: daogou import online_retail.csv.gz --format online-retail --db shop.db
    Import(store_cmds::ImportArgs),
    /// Show what the database holds (users, items, events by kind, time range).
    Stats(store_cmds::StatsArgs),
    /// Fit a model and report what was learned (size, fit time); --out saves it.
    ///
    /// Example: daogou train --db shop.db --model item-knn --set k=50 --out shop.daogou
    ///
    /// then: daogou recommend --db shop.db --model shop.daogou --user 17850
    Train(evaluate::TrainArgs),
    /// List the models with their parameters (--set key=value) and defaults.
    Models,
    /// Measure a model: fit on a training split, rank the full catalogue for test users.
    ///
    /// Examples:
    ///
    /// daogou evaluate --train u1.base --test u1.test --format movielens --model user-knn --set k=40 --set similarity=pearson --json
    ///
    /// daogou evaluate --data online_retail.csv.gz --format online-retail --split time:2011-11-09 --model item-knn --json
    ///
    /// daogou evaluate --data u.data --format movielens --folds 5 --model user-knn --json
    Evaluate(evaluate::EvaluateArgs),
    /// Write one self-contained HTML report comparing models on the same split.
    ///
    /// The leaderboard with paired bootstrap 95 % intervals against the first model, per-user
    /// NDCG distributions, popularity bias and the long tail, coverage/novelty/diversity and
    /// results by segment; inline CSS and SVG, no script, nothing loaded from elsewhere.
    /// --json prints the numbers the report shows.
    ///
    /// Example: daogou report --db shop.db --models popularity,item-knn,als --out report.html
    Report(report::ReportArgs),
    /// Choose hyperparameters on a validation split cut from the training data only.
    ///
    /// The test part (--test, or what --split holds out) is never used for choosing; the
    /// winner is evaluated on it once at the end.
    ///
    /// Example: daogou tune --data u.data --format movielens --model user-knn --grid k=20,40,80 --grid shrinkage=0,50,100 --out best.toml
    ///
    /// then: daogou evaluate --data u.data --format movielens --params best.toml
    Tune(tune::TuneArgs),
    /// Personal recommendations for a user, with the reason for each.
    ///
    /// Example: daogou recommend --db shop.db --user 17850 --n 10
    Recommend(recommend::RecommendArgs),
    /// Items similar to an item ("customers who bought this also bought").
    ///
    /// Example: daogou similar --db shop.db --item 85123A --n 10
    Similar(recommend::SimilarArgs),
    /// Generate a demo shop, store it, train, evaluate and show personal recommendations.
    ///
    /// Needs no input. Deterministic for a given --seed.
    Demo(demo::DemoArgs),
    /// Run the HTTP recommendation service (see /openapi.json once it runs).
    ///
    /// Example: daogou serve --db shop.db --bind 127.0.0.1:8080 --api-keys "k-reader-1:read,k-admin-1:read+write+admin"
    Serve(serve::ServeArgs),
    /// Pseudonymous user ids: migrate a store from the old scheme to HMAC-SHA256.
    Pseudonyms(pseudonyms::PseudonymsArgs),
    /// Create or upgrade a store's schema (PostgreSQL or SQLite); a newer schema is refused.
    ///
    /// Example: daogou migrate --store postgres://daogou@db:5432/shop
    Migrate(cluster_cmds::MigrateArgs),
    /// Refit for several servers on a shared PostgreSQL store: trainers compete for a lock; the
    /// leader refits on a schedule and when asked, and every server loads its models.
    ///
    /// Example: daogou trainer --store postgres://daogou@db:5432/shop --redis redis://cache:6379 --every 10m --model als
    Trainer(cluster_cmds::TrainerArgs),
}

/// `daogou stats | head` closes stdout early; `println!` then panics with "failed printing to
/// stdout: Broken pipe". That is the reader's choice, not a failure: exit quietly with 0.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn print_models() {
    for m in daogou_algo::all_models() {
        println!("{}: {}", m.name, m.about);
        for (key, about) in m.params {
            println!("    --set {key:<16} {about}");
        }
        println!();
    }
}

fn main() -> ExitCode {
    // the deep models and the learned ranker live in crates of their own; make them
    // selectable by name everywhere
    daogou_nn::register();
    daogou_ranker::register();
    let cli = Cli::parse();
    quiet_on_closed_pipe();
    let result = match cli.command {
        Command::Import(a) => store_cmds::import(a),
        Command::Stats(a) => store_cmds::stats(a),
        Command::Train(a) => evaluate::train(a),
        Command::Models => {
            print_models();
            Ok(())
        }
        Command::Evaluate(a) => evaluate::evaluate(a),
        Command::Report(a) => report::run(a),
        Command::Tune(a) => tune::tune(a),
        Command::Recommend(a) => recommend::recommend(a),
        Command::Similar(a) => recommend::similar(a),
        Command::Demo(a) => demo::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Pseudonyms(a) => pseudonyms::run(a),
        Command::Migrate(a) => cluster_cmds::migrate(a),
        Command::Trainer(a) => cluster_cmds::trainer(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // a closed pipe (`daogou ... | head`) is not an error
            if err
                .chain()
                .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
