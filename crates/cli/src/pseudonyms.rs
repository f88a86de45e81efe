//! `daogou pseudonyms migrate`: move a store's pseudonymous user ids from the old SipHash
//! scheme (`p_…`) to HMAC-SHA256 (`h_…`), given the shop's customer ids.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use daogou_server::pseudonym::{self, is_legacy};
use daogou_server::Config;
use daogou_store::{SqliteStore, Store};

#[derive(Args, Debug)]
pub struct PseudonymsArgs {
    #[command(subcommand)]
    command: PseudonymsCommand,
}

#[derive(Subcommand, Debug)]
enum PseudonymsCommand {
    /// Rename every stored legacy pseudonym (p_…) of the listed customers to its HMAC-SHA256
    /// pseudonym (h_…), in one transaction. Reads the secret from --config (pseudonymize_key)
    /// or DAOGOU_PSEUDONYMIZE_KEY, never from the command line.
    ///
    /// Example: DAOGOU_PSEUDONYMIZE_KEY=… daogou pseudonyms migrate --db shop.db --ids customers.txt
    Migrate(MigrateArgs),
}

#[derive(Args, Debug)]
struct MigrateArgs {
    /// Database file.
    #[arg(long, value_name = "PATH")]
    db: PathBuf,
    /// The shop's customer ids, one per line (`-` for stdin): every id that may have events
    /// in the store. A pseudonym cannot be reversed, so ids not listed cannot be migrated.
    #[arg(long, value_name = "FILE")]
    ids: PathBuf,
    /// Configuration file holding pseudonymize_key (the file `daogou serve` uses).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Report what would change, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Delete the users whose legacy pseudonym matches no listed id (recorded in the deletion
    /// log). Without it, such users block `daogou serve` until they are migrated or deleted.
    #[arg(long)]
    drop_unmatched: bool,
}

pub fn run(a: PseudonymsArgs) -> Result<()> {
    match a.command {
        PseudonymsCommand::Migrate(m) => migrate(m),
    }
}

fn migrate(a: MigrateArgs) -> Result<()> {
    let mut c = Config::default();
    if let Some(f) = &a.config {
        c.apply_file(f).map_err(|e| anyhow!(e))?;
    }
    c.apply_env().map_err(|e| anyhow!(e))?;
    let Some(secret) = c.pseudonymize_key.clone() else {
        bail!("no pseudonymize_key: set it in --config FILE or DAOGOU_PSEUDONYMIZE_KEY");
    };
    let reader: Box<dyn BufRead> = if a.ids.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&a.ids).with_context(|| format!("cannot open {}", a.ids.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut ids = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", a.ids.display(), n + 1))?;
        let id = line.trim_end_matches('\r');
        if !id.trim().is_empty() {
            ids.push(id.to_owned());
        }
    }
    let mut store = SqliteStore::open(&a.db).with_context(|| format!("cannot open database {}", a.db.display()))?;
    let r = pseudonym::migrate(&mut store, &secret, ids, a.dry_run)
        .with_context(|| format!("migration of {} failed; nothing was changed", a.db.display()))?;
    let verb = if a.dry_run { "would rename" } else { "renamed" };
    println!(
        "{} customer ids read: {verb} {} users to HMAC-SHA256 pseudonyms ({} merged into users already stored \
         under the new pseudonym); {} ids had no legacy pseudonym in the store",
        r.ids, r.renamed, r.merged, r.not_stored
    );
    if r.legacy_left == 0 {
        if !a.dry_run {
            println!("no legacy pseudonyms left: `daogou serve` will start on {}", a.db.display());
            println!("retrain or rewrite model files made before the migration: they hold the old ids");
        }
        return Ok(());
    }
    if !a.drop_unmatched {
        println!(
            "{} users still have legacy pseudonyms that match none of the listed ids; `daogou serve` refuses the \
             store until they are migrated (list their customer ids) or deleted (--drop-unmatched)",
            r.legacy_left
        );
        return Ok(());
    }
    if a.dry_run {
        println!("--drop-unmatched would delete {} users", r.legacy_left);
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let left: Vec<String> = store.user_ids()?.into_iter().filter(|u| is_legacy(u)).collect();
    for u in &left {
        store.delete_user(u, now)?;
    }
    pseudonym::check_store(&mut store).map_err(|e| anyhow!(e))?;
    println!("deleted {} users whose customer ids were not listed", left.len());
    Ok(())
}
