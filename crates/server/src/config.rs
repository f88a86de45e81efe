//! Server configuration: defaults, then a TOML-subset file (`key = value` lines), then
//! environment variables and command-line flags (applied by the caller through [`Config::set`]).

use std::net::{IpAddr, SocketAddr};
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

pub use crate::pseudonym::pseudonym;

/// Parse a comma-separated list (whitespace trimmed, empty entries dropped).
fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()
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
    /// Longest session window of "for you", in hours (a week).
    pub const MAX_SESSION_HOURS: f32 = 168.0;
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
    /// SQLite database (when `store` is not set).
    pub db: PathBuf,
    /// The store as a URL (`sqlite:PATH`, `postgres://user@host:port/db`); wins over `db`.
    pub store: Option<String>,
    /// Redis (`redis://host:port`) for state shared by several servers: live events, rate
    /// limits, assistant conversations. Required with more than one server.
    pub redis: Option<String>,
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
    /// Requests per second allowed per client address for requests without a valid API key
    /// (every request of an open service; unauthenticated and failed-auth requests with
    /// keys), bursts of twice that; 0 = unlimited. IPv6 clients count per /64.
    pub client_rate_limit: f64,
    /// Proxies whose `X-Forwarded-For` names the client for the per-address limit.
    pub trusted_proxies: Vec<IpAddr>,
    /// Host names (`name` or `name:port`) accepted in the `Host` header besides the bound
    /// address and loopback names; `*` accepts any (when a proxy in front checks it).
    pub allowed_hosts: Vec<String>,
    /// Origins (`https://admin.shop.example`) allowed to send writes and admin calls from a
    /// browser besides the service's own origin.
    pub allowed_origins: Vec<String>,
    /// Serve without API keys on an address that is not loopback (refused otherwise).
    pub insecure_open: bool,
    /// Secret for pseudonymous user ids: when set, user ids are stored and looked up as
    /// HMAC-SHA256 pseudonyms (`h_` + 32 hex digits, [`crate::pseudonym`]), so the store never
    /// holds the shop's raw customer ids.
    pub pseudonymize_key: Option<String>,
    /// Secret from which experiments' assignment salt is derived; unset: the store's own random
    /// salt. Set it to the same value on servers that share this configuration but not a store.
    pub experiment_salt: Option<String>,
    /// Refit on the stored data every this many seconds (0 = only on request).
    pub retrain_secs: u64,
    /// The nice value (0–19, Linux) refits fit at, so that requests go first
    /// ([`daogou_engine::Engine::set_refit_nice`]; 0: the service's own priority).
    pub refit_nice: u8,
    /// Concurrent event writes share one SQLite transaction (group commit; each request is
    /// still answered only after its commit). `false`: one transaction per request.
    pub group_commit: bool,
    /// Page cache of the service's SQLite connection, in MiB.
    pub sqlite_cache_mib: usize,
    /// "For you": share of the score from the current session (0..1), unless a request or an
    /// experiment's variant says otherwise.
    pub session_weight: f32,
    /// "For you": how far back the current session reaches, in hours.
    pub session_hours: f32,
    /// The shopping assistant's settings: the shop's `currency` and the `currency_rates` used
    /// to convert budgets given in other currencies.
    pub assistant: daogou_guide::GuideConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: PathBuf::from("daogou.db"),
            store: None,
            redis: None,
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
            client_rate_limit: 0.0,
            trusted_proxies: Vec::new(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            insecure_open: false,
            pseudonymize_key: None,
            experiment_salt: None,
            retrain_secs: 0,
            refit_nice: daogou_engine::background::DEFAULT_REFIT_NICE,
            group_commit: true,
            sqlite_cache_mib: 8,
            session_weight: daogou_engine::DEFAULT_SESSION_WEIGHT,
            session_hours: daogou_engine::DEFAULT_SESSION_HOURS,
            assistant: daogou_guide::GuideConfig::default(),
        }
    }
}

impl Config {
    /// Set one key (`db`, `store`, `redis`, `bind`, `model`, `set` (k=v, repeatable, comma-separated), `weights`,
    /// `api_keys`, `body_limit`, `max_batch`, `max_n`, `timeout_secs`, `workers`, `rate_limit`,
    /// `client_rate_limit`, `trusted_proxies`, `allowed_hosts`, `allowed_origins`,
    /// `insecure_open`, `pseudonymize_key`, `experiment_salt`, `retrain_secs`, `refit_nice`, `live_events_per_user`,
    /// `live_events_total`, `group_commit`, `sqlite_cache_mib`, `session_weight`, `session_hours`, `currency` (the shop's, `GBP`), `currency_rates`
    /// (units per US dollar, `USD=1,CNY=7.2,GBP=0.79,EUR=0.92`)).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let num = |v: &str| v.trim().parse::<usize>().map_err(|_| format!("{key}: `{v}` is not a whole number"));
        let rate = |v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| format!("{key}: `{v}` is not a number ≥ 0"))
        };
        match key {
            "db" => self.db = PathBuf::from(value),
            "store" => self.store = Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
            "redis" => self.redis = Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
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
            "refit_nice" => {
                self.refit_nice = num(value)
                    .ok()
                    .filter(|n| *n <= 19)
                    .ok_or_else(|| format!("refit_nice: `{}` is not a nice value from 0 to 19", value.trim()))?
                    as u8
            }
            "sqlite_cache_mib" => self.sqlite_cache_mib = num(value)?.max(1),
            "session_weight" => self.session_weight = session_knob(key, value, 1.0)?,
            "session_hours" => self.session_hours = session_knob(key, value, Limits::MAX_SESSION_HOURS)?,
            "currency" => self.assistant.currency = Some(currency_code(key, value)?),
            "currency_rates" => {
                for pair in list(value) {
                    let (code, rate) = pair
                        .split_once('=')
                        .ok_or_else(|| format!("currency_rates: `{pair}` is not CODE=RATE (e.g. GBP=0.79)"))?;
                    let code = currency_code(key, code)?;
                    let rate =
                        rate.trim().parse::<f64>().ok().filter(|r| r.is_finite() && *r > 0.0).ok_or_else(|| {
                            format!("currency_rates: `{}` for {code} is not a number > 0", rate.trim())
                        })?;
                    self.assistant.rates.insert(code, rate);
                }
            }
            "rate_limit" => self.rate_limit = rate(value)?,
            "client_rate_limit" => self.client_rate_limit = rate(value)?,
            "trusted_proxies" => {
                self.trusted_proxies = list(value)
                    .iter()
                    .map(|p| p.parse::<IpAddr>().map_err(|_| format!("trusted_proxies: `{p}` is not an IP address")))
                    .collect::<Result<_, _>>()?
            }
            "allowed_hosts" => {
                self.allowed_hosts = list(value).into_iter().map(|h| h.to_ascii_lowercase()).collect();
                if let Some(bad) = self.allowed_hosts.iter().find(|h| h.contains('/')) {
                    return Err(format!("allowed_hosts: `{bad}` is a URL; give the host name (`shop.example`)"));
                }
            }
            "allowed_origins" => {
                self.allowed_origins = list(value)
                    .iter()
                    .map(|o| {
                        crate::origin::normalize_origin(o).ok_or_else(|| {
                            format!("allowed_origins: `{o}` is not an origin like https://admin.shop.example")
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            "insecure_open" => {
                self.insecure_open = match value.trim() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" | "" => false,
                    other => return Err(format!("insecure_open: `{other}` is not true or false")),
                }
            }
            "group_commit" => {
                self.group_commit = match value.trim() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    other => return Err(format!("group_commit: `{other}` is not true or false")),
                }
            }
            "pseudonymize_key" => {
                if value.len() < 16 {
                    return Err("pseudonymize_key: use a secret of at least 16 characters".into());
                }
                self.pseudonymize_key = Some(value.to_owned())
            }
            "experiment_salt" => {
                if value.len() < 16 {
                    return Err("experiment_salt: use a secret of at least 16 characters".into());
                }
                self.experiment_salt = Some(value.to_owned())
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

    /// Apply `DAOGOU_*` environment variables (`DAOGOU_API_KEYS`, `DAOGOU_DB`, `DAOGOU_STORE`,
    /// `DAOGOU_REDIS`, `DAOGOU_BIND`,
    /// `DAOGOU_MODEL`, `DAOGOU_BODY_LIMIT`, `DAOGOU_WORKERS`, `DAOGOU_RATE_LIMIT`,
    /// `DAOGOU_CLIENT_RATE_LIMIT`, `DAOGOU_TRUSTED_PROXIES`, `DAOGOU_ALLOWED_HOSTS`,
    /// `DAOGOU_ALLOWED_ORIGINS`, `DAOGOU_INSECURE_OPEN`, `DAOGOU_RETRAIN_SECS`, `DAOGOU_REFIT_NICE`,
    /// `DAOGOU_CURRENCY`, `DAOGOU_CURRENCY_RATES`,
    /// `DAOGOU_PSEUDONYMIZE_KEY`, `DAOGOU_EXPERIMENT_SALT`, `DAOGOU_GROUP_COMMIT`).
    pub fn apply_env(&mut self) -> Result<(), String> {
        for (var, key) in [
            ("DAOGOU_API_KEYS", "api_keys"),
            ("DAOGOU_DB", "db"),
            ("DAOGOU_STORE", "store"),
            ("DAOGOU_REDIS", "redis"),
            ("DAOGOU_BIND", "bind"),
            ("DAOGOU_MODEL", "model"),
            ("DAOGOU_BODY_LIMIT", "body_limit"),
            ("DAOGOU_WORKERS", "workers"),
            ("DAOGOU_RATE_LIMIT", "rate_limit"),
            ("DAOGOU_CLIENT_RATE_LIMIT", "client_rate_limit"),
            ("DAOGOU_TRUSTED_PROXIES", "trusted_proxies"),
            ("DAOGOU_ALLOWED_HOSTS", "allowed_hosts"),
            ("DAOGOU_ALLOWED_ORIGINS", "allowed_origins"),
            ("DAOGOU_INSECURE_OPEN", "insecure_open"),
            ("DAOGOU_RETRAIN_SECS", "retrain_secs"),
            ("DAOGOU_REFIT_NICE", "refit_nice"),
            ("DAOGOU_CURRENCY", "currency"),
            ("DAOGOU_CURRENCY_RATES", "currency_rates"),
            ("DAOGOU_PSEUDONYMIZE_KEY", "pseudonymize_key"),
            ("DAOGOU_EXPERIMENT_SALT", "experiment_salt"),
            ("DAOGOU_GROUP_COMMIT", "group_commit"),
        ] {
            if let Ok(v) = std::env::var(var) {
                self.set(key, &v).map_err(|e| format!("{var}: {e}"))?;
            }
        }
        Ok(())
    }
}

/// A currency code: three letters (`GBP`), upper-cased.
fn currency_code(key: &str, v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.len() == 3 && v.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(format!("{key}: `{v}` is not a three-letter currency code such as GBP"))
    }
}

impl Config {
    /// Refuse to serve on `bound` when that lets other machines in without a key: an address
    /// that is not loopback, no API keys, and no `insecure_open`.
    pub fn check_exposure(&self, bound: SocketAddr) -> Result<(), String> {
        if bound.ip().is_loopback() || !self.api_keys.is_empty() || self.insecure_open {
            return Ok(());
        }
        Err(format!(
            "refusing to serve without API keys on {bound}, which other machines can reach: anyone there could \
             read every user's history, post events, retrain and delete users. Configure API keys \
             (--api-keys or api_keys), bind a loopback address (--bind 127.0.0.1:8080), or pass \
             --insecure-open (insecure_open = true) if this network is trusted"
        ))
    }
}

/// A session knob: a number between 0 and `hi`.
fn session_knob(key: &str, value: &str, hi: f32) -> Result<f32, String> {
    value
        .trim()
        .parse::<f32>()
        .ok()
        .filter(|x| (0.0..=hi).contains(x))
        .ok_or_else(|| format!("{key}: `{}` is not a number between 0 and {hi}", value.trim()))
}
