//! What a list may contain ([`Filter`]: the shop's business rules and the request's
//! constraints) and how "for you" mixes other goals into the model's ranking ([`Blend`]).

use daogou_core::Item;
use rustc_hash::FxHashSet;

/// Per-request filters. [`Filter::default`] is the shop's default: only items in stock, never
/// what the user already has.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Category, matched exactly or as a path prefix (`鞋` matches `鞋/跑鞋`).
    pub category: Option<String>,
    /// Brand, exactly.
    pub brand: Option<String>,
    /// Lowest price.
    pub min_price: Option<f64>,
    /// Highest price.
    pub max_price: Option<f64>,
    /// Only available items with stock (unknown stock counts as in stock).
    pub in_stock: bool,
    /// Item ids never to return.
    pub exclude: FxHashSet<String>,
    /// Items the user already has may be recommended again (rebuys).
    pub allow_repeat: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            category: None,
            brand: None,
            min_price: None,
            max_price: None,
            in_stock: true,
            exclude: FxHashSet::default(),
            allow_repeat: false,
        }
    }
}

impl Filter {
    /// Whether `it` may be shown. Deleted items never are.
    pub fn passes(&self, it: &Item) -> bool {
        if it.deleted || self.exclude.contains(&it.id) {
            return false;
        }
        if self.in_stock && !it.in_stock() {
            return false;
        }
        if self.category.as_deref().is_some_and(|c| !it.in_category(c)) {
            return false;
        }
        if self.brand.as_deref().is_some_and(|b| it.brand.as_deref() != Some(b)) {
            return false;
        }
        if self.min_price.is_some() || self.max_price.is_some() {
            let Some(p) = it.price else { return false };
            if self.min_price.is_some_and(|m| p < m) || self.max_price.is_some_and(|m| p > m) {
                return false;
            }
        }
        true
    }
}

/// Default weight of the current session in "for you" (chosen on validation periods, see the
/// README's "Recent intent").
pub const DEFAULT_SESSION_WEIGHT: f32 = 0.1;
/// Default length of the current session: events in the hour before the request.
pub const DEFAULT_SESSION_HOURS: f32 = 1.0;

/// Per-request blending knobs of "for you".
#[derive(Debug, Clone)]
pub struct Blend {
    /// Weight of log-popularity added to the (max-normalised) model score.
    pub popularity: f32,
    /// Weight of novelty (halves every 30 days of age before the newest item) added likewise.
    pub novelty: f32,
    /// At most this many items per category (diversity).
    pub max_per_category: Option<usize>,
    /// Share of the list (0..1) kept for the newest items (exploration of cold items).
    pub explore: f32,
    /// Share (0..1) of the score that comes from the current session (the model's scores for
    /// the user's events in the last `session_hours`), the rest from their whole history; 0
    /// ranks by the whole history alone.
    pub session_weight: f32,
    /// How far back the current session reaches, in hours.
    pub session_hours: f32,
    /// The time the list is for (unix seconds; `None`: now): events after it are not part of
    /// the session (the demo shows shoppers at the end of their last visit).
    pub at: Option<i64>,
}

impl Default for Blend {
    fn default() -> Self {
        Blend {
            popularity: 0.0,
            novelty: 0.0,
            max_per_category: None,
            explore: 0.0,
            session_weight: DEFAULT_SESSION_WEIGHT,
            session_hours: DEFAULT_SESSION_HOURS,
            at: None,
        }
    }
}

impl Blend {
    /// True when the model's own ranking is used unchanged (the session aside: whether there
    /// is one depends on the history).
    pub fn is_plain(&self) -> bool {
        self.popularity <= 0.0 && self.novelty <= 0.0
    }

    /// The time the list is for.
    pub fn at(&self) -> i64 {
        self.at.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
        })
    }
}

/// Novelty of an item created at `created`: 1 for the newest item, halving every 30 days
/// before it; 0 without a date.
pub fn novelty(created: Option<i64>, newest: i64) -> f32 {
    match created {
        Some(c) => 0.5f32.powf(((newest - c).max(0) as f32) / (30.0 * 86_400.0)),
        None => 0.0,
    }
}
