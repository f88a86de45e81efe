//! Server configuration: defaults, then a TOML-subset file (`key = value` lines), then
//! environment variables and command-line flags (applied by the caller through [`Config::set`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use daogou_engine::LiveLimits;

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    /// Recommendations, similar, popular, metrics, the OpenAPI document.
    pub read: bool,
    /// Events and catalogue writes.
    pub write: bool,
    /// Retraining and user deletion.
    pub admin: bool,
}

/// The scope an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// read
    Read,
    /// write
    Write,
    /// admin
    Admin,
}

impl Scope {
    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl Scopes {
    /// True when `s` is granted.
    pub fn has(&self, s: Scope) -> bool {
        match s {
            Scope::Read => self.read,
            Scope::Write => self.write,
            Scope::Admin => self.admin,
        }
    }
}

/// One configured API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The secret presented as `Authorization: Bearer KEY` or `X-API-Key: KEY`.
    pub key: String,
    /// What it may do.
    pub scopes: Scopes,
}

/// Parse `key1:read,key2:read+write+admin` (whitespace ignored; empty → no keys).
pub fn parse_api_keys(spec: &str) -> Result<Vec<ApiKey>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, scopes) = part
            .split_once(':')
            .ok_or_else(|| format!("api key entry `{part}` is not KEY:SCOPES (e.g. k1:read+write)"))?;
        let key = key.trim();
        if key.len() < 8 {
            return Err("api keys must have at least 8 characters".into());
        }
        let mut s = Scopes::default();
        for sc in scopes.split('+').map(str::trim) {
            match sc {
                "read" => s.read = true,
                "write" => s.write = true,
                "admin" => s.admin = true,
                other => return Err(format!("unknown scope `{other}` (read, write, admin)")),
            }
        }
        out.push(ApiKey { key: key.to_owned(), scopes: s });
    }
    Ok(out)
}

/// The pseudonym of a user id under `secret`: `p_` + 128 bits of two keyed SipHash-2-4 digests,
/// stable for a given secret and not reversible without it.
#[allow(deprecated)] // std's SipHasher is the only keyed hash in std; its output is stable
pub fn pseudonym(secret: &str, user: &str) -> String {
    use std::hash::{Hash, Hasher, SipHasher};
    let derive = |k0: u64, k1: u64| {
        let mut h = SipHasher::new_with_keys(k0, k1);
        secret.as_bytes().hash(&mut h);
        h.finish()
    };
    let (a, b) =
        (derive(0x6461_6f67_6f75_0001, 0x7073_6575_646f_0001), derive(0x6461_6f67_6f75_0002, 0x7073_6575_646f_0002));
    let digest = |k0: u64, k1: u64| {
        let mut h = SipHasher::new_with_keys(k0, k1);
        user.as_bytes().hash(&mut h);
        h.finish()
    };
    format!("p_{:016x}{:016x}", digest(a, b), digest(b ^ 0x5555_5555_5555_5555, a ^ 0xaaaa_aaaa_aaaa_aaaa))
}

/// The limits on what a request may ask for: one definition, read by the request validators
/// and written into the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body in bytes (configurable, `body_limit`).
    pub body_limit: usize,
    /// Largest event batch (configurable, `max_batch`).
    pub max_batch: usize,
    /// Largest `n` of a list (configurable, `max_n`).
    pub max_n: usize,
}

impl Limits {
    /// Longest id (user, item) in bytes.
    pub const MAX_ID_BYTES: usize = 256;
    /// Longest free text (search query, assistant request, event query) in bytes.
    pub const MAX_TEXT_BYTES: usize = 1000;
    /// Most ids in `exclude` and in a session.
    pub const MAX_IDS: usize = 1000;
    /// Longest trending window in hours (a week: what the trending counters keep).
    pub const MAX_HOURS: u32 = 168;
    /// Largest blending weight.
    pub const MAX_WEIGHT: f32 = 100.0;
    /// Largest per-category cap.
    pub const MAX_PER_CATEGORY: usize = 10_000;
    /// Largest |value| of an event.
    pub const MAX_VALUE: f64 = 1e9;
    /// Most items the assistant answers with.
    pub const MAX_ASK_N: usize = 100;
}

impl Default for Limits {
    fn default() -> Self {
        Limits { body_limit: 1 << 20, max_batch: 10_000, max_n: 200 }
    }
}

/// Everything `daogou serve` is configured by.
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite database.
    pub db: PathBuf,
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free one).
    pub bind: String,
    /// Model name to fit on the stored data, or a model file to load.
    pub model: String,
    /// Model hyperparameters (`key=value`).
    pub params: Vec<String>,
    /// Event weights (`view=1,purchase=8`), as the CLI's `--weights`.
    pub weights: Option<String>,
    /// API keys; none → the service is open (loopback use).
    pub api_keys: Vec<ApiKey>,
    /// What a request may ask for.
    pub limits: Limits,
    /// Caps of the live state (events kept in memory until a refit folds them in).
    pub live: LiveLimits,
    /// Request timeout.
    pub timeout: Duration,
    /// Tokio worker threads.
    pub workers: usize,
    /// Requests per second allowed per API key (bursts of twice that); 0 = unlimited.
    pub rate_limit: f64,
    /// Secret for pseudonymous user ids: when set, user ids are stored and looked up as a keyed
    /// hash (`p_` + 32 hex digits), so the store never holds the shop's raw customer ids.
    pub pseudonymize_key: Option<String>,
    /// Refit on the stored data every this many seconds (0 = only on request).
    pub retrain_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: PathBuf::from("daogou.db"),
            bind: "127.0.0.1:8080".into(),
            model: "item-knn".into(),
            params: Vec::new(),
            weights: None,
            api_keys: Vec::new(),
            limits: Limits::default(),
            live: LiveLimits::default(),
            timeout: Duration::from_secs(60),
            workers: 2,
            rate_limit: 0.0,
            pseudonymize_key: None,
            retrain_secs: 0,
        }
    }
}

impl Config {
    /// Set one key (`db`, `bind`, `model`, `set` (k=v, repeatable, comma-separated), `weights`,
    /// `api_keys`, `body_limit`, `max_batch`, `max_n`, `timeout_secs`, `workers`, `rate_limit`,
    /// `pseudonymize_key`, `retrain_secs`, `live_events_per_user`, `live_events_total`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let num = |v: &str| v.trim().parse::<usize>().map_err(|_| format!("{key}: `{v}` is not a whole number"));
        match key {
            "db" => self.db = PathBuf::from(value),
            "bind" => self.bind = value.to_owned(),
            "model" => self.model = value.to_owned(),
            "set" | "params" => {
                self.params.extend(value.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned))
            }
            "weights" => self.weights = Some(value.to_owned()),
            "api_keys" => self.api_keys = parse_api_keys(value)?,
            "body_limit" => self.limits.body_limit = num(value)?.max(1024),
            "max_batch" => self.limits.max_batch = num(value)?.max(1),
            "max_n" => self.limits.max_n = num(value)?.max(1),
            "live_events_per_user" => self.live.per_user = num(value)?.max(1),
            "live_events_total" => self.live.total = num(value)?.max(1),
            "timeout_secs" => self.timeout = Duration::from_secs(num(value)?.max(1) as u64),
            "workers" => self.workers = num(value)?.max(1),
            "retrain_secs" => self.retrain_secs = num(value)? as u64,
            "rate_limit" => {
                self.rate_limit = value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r >= 0.0)
                    .ok_or_else(|| format!("rate_limit: `{value}` is not a number ≥ 0"))?
            }
            "pseudonymize_key" => {
                if value.len() < 16 {
                    return Err("pseudonymize_key: use a secret of at least 16 characters".into());
                }
                self.pseudonymize_key = Some(value.to_owned())
            }
            other => return Err(format!("unknown setting `{other}`")),
        }
        Ok(())
    }

    /// Apply a file of `key = value` lines (the syntax of [`daogou_core::kv`]: `#` comments,
    /// quoted values, `[section]` headers ignored); errors name the file and line.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), String> {
        for l in daogou_core::kv::read_kv_file(path)? {
            self.set(&l.key, &l.value).map_err(|e| format!("{}:{}: {e}", path.display(), l.line))?;
        }
        Ok(())
    }

    /// Apply `key = value` lines (see [`Config::apply_file`]).
    pub fn apply_str(&mut self, text: &str) -> Result<(), String> {
        for l in daogou_core::kv::parse_kv(text)? {
            self.set(&l.key, &l.value).map_err(|e| format!("line {}: {e}", l.line))?;
        }
        Ok(())
    }

    /// Apply `DAOGOU_*` environment variables (`DAOGOU_API_KEYS`, `DAOGOU_DB`, `DAOGOU_BIND`,
    /// `DAOGOU_MODEL`, `DAOGOU_BODY_LIMIT`, `DAOGOU_WORKERS`).
    pub fn apply_env(&mut self) -> Result<(), String> {
        for (var, key) in [
            ("DAOGOU_API_KEYS", "api_keys"),
            ("DAOGOU_DB", "db"),
            ("DAOGOU_BIND", "bind"),
            ("DAOGOU_MODEL", "model"),
            ("DAOGOU_BODY_LIMIT", "body_limit"),
            ("DAOGOU_WORKERS", "workers"),
            ("DAOGOU_RATE_LIMIT", "rate_limit"),
            ("DAOGOU_RETRAIN_SECS", "retrain_secs"),
            ("DAOGOU_PSEUDONYMIZE_KEY", "pseudonymize_key"),
        ] {
            if let Ok(v) = std::env::var(var) {
                self.set(key, &v).map_err(|e| format!("{var}: {e}"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_overrides() {
        let mut c = Config::default();
        c.apply_str("# shop\n[server]\nbind = \"0.0.0.0:9000\"\nmodel = item-knn # fast\nset = k=20,shrinkage=5\napi_keys = \"reader123:read,admin1234:read+write+admin\"\n").unwrap();
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.model, "item-knn");
        assert_eq!(c.params, ["k=20", "shrinkage=5"]);
        assert_eq!(c.api_keys.len(), 2);
        assert!(c.api_keys[1].scopes.admin && !c.api_keys[0].scopes.write);
        c.set("bind", "127.0.0.1:1").unwrap();
        assert_eq!(c.bind, "127.0.0.1:1");
        assert!(c.apply_str("colour = red").unwrap_err().contains("colour"));
        assert!(parse_api_keys("short:read").is_err());
        assert!(parse_api_keys("longenough:root").unwrap_err().contains("root"));
        let p = pseudonym("a secret of 16+ chars", "17850");
        assert_eq!(p.len(), 34);
        assert_eq!(p, pseudonym("a secret of 16+ chars", "17850"));
        assert_ne!(p, pseudonym("another secret, long", "17850"));
        assert_ne!(p, pseudonym("a secret of 16+ chars", "17851"));
    }
}
