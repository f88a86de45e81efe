//! daogou-guide: the shopping assistant (导购).
//!
//! * [`Guide::search`]: bilingual product search over a tantivy index of the catalogue (jieba
//!   for Chinese, English stems, field boosts, synonyms, fuzzy terms for English typos).
//! * [`Guide::parse`]: request understanding — budgets and ranges in 元/块/¥/$, categories and
//!   brands from the catalogue's own vocabulary, colours, materials, sizes, recipients,
//!   occasions, sort intents, negations, refinements.
//! * [`Guide::ask`]: one turn of a conversation — candidates, every hard constraint applied,
//!   personal re-ranking, diversity, a reason per item, a templated reply, and refinements of
//!   the previous answer ("cheaper", "more like the second one", "换个颜色", "换个牌子").
//!
//! Item indices are the dense indices the rest of daogou uses (position in the catalogue).

mod answer;
#[doc(hidden)]
pub mod catalog;
#[doc(hidden)]
pub mod convo;
mod index;
mod lexicon;
#[doc(hidden)]
pub mod nouns;
#[doc(hidden)]
pub mod parse;
#[doc(hidden)]
pub mod text;

use std::collections::BTreeMap;
use std::sync::RwLock;

use daogou_core::Item;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::convo::Conversations;
use crate::index::SearchIndex;
use crate::parse::Parser;

pub use crate::convo::SharedTurns;
pub use crate::nouns::{DEFAULT_MIN_PURITY, DEFAULT_MIN_SUPPORT};
pub use crate::parse::{DEFAULT_RATES, DEFAULT_USD_CNY};

/// Errors of the guide.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("item index {index} is outside the catalogue ({len} items)")]
    NoSuchItem { index: u32, len: usize },
    #[error("the guide's state was poisoned by a panic in another thread")]
    Poisoned,
    #[error("configuration: {0}")]
    Config(String),
    /// The shared conversation store (Redis) failed.
    #[error("shared conversations: {0}")]
    Shared(String),
}

/// Configuration of the assistant. Every field is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct GuideConfig {
    /// Extra synonym groups (each group's words are interchangeable in search; a group that
    /// holds a category name makes every member name that category), e.g.
    /// `[["跑鞋", "running shoes", "joggers"]]`.
    pub synonyms: Vec<Vec<String>>,
    /// The shop's currency (`"GBP"`): prices are in it and budgets in other currencies are
    /// converted to it. Without it, the items' most common `currency` attribute, else `CNY`.
    pub currency: Option<String>,
    /// Exchange rate, CNY per USD, for budgets given in the other currency (default 7.2).
    pub usd_cny_rate: Option<f64>,
    /// Exchange rates as units of each currency per US dollar (`{"GBP": 0.79, "EUR": 0.92}`),
    /// over the built-in ones ([`DEFAULT_RATES`]); a budget in another currency than the
    /// shop's is converted and `price_note` says how.
    pub rates: BTreeMap<String, f64>,
    /// Conversations kept in memory (default 10,000; the least recently used go first).
    pub max_conversations: Option<usize>,
    /// Seconds a conversation is remembered after its last turn (default 1,800).
    pub conversation_ttl_secs: Option<u64>,
    /// Product nouns learned from titles: the share of a title term's items that must lie in
    /// one subcategory for the term to imply it, in (0, 1] (default [`DEFAULT_MIN_PURITY`]).
    pub noun_min_purity: Option<f64>,
    /// Product nouns learned from titles: items of that subcategory that must hold the term
    /// (in a catalogue without categories: titles), at least 1 (default
    /// [`DEFAULT_MIN_SUPPORT`]).
    pub noun_min_support: Option<usize>,
}

impl GuideConfig {
    /// The thresholds of the product nouns learned from titles, checked.
    fn noun_params(&self) -> Result<nouns::NounParams, Error> {
        let min_purity = self.noun_min_purity.unwrap_or(DEFAULT_MIN_PURITY);
        if !(min_purity > 0.0 && min_purity <= 1.0) {
            return Err(Error::Config(format!("noun_min_purity: {min_purity} is outside (0, 1]")));
        }
        let min_support = self.noun_min_support.unwrap_or(DEFAULT_MIN_SUPPORT);
        if min_support == 0 {
            return Err(Error::Config("noun_min_support: must be at least 1".into()));
        }
        Ok(nouns::NounParams { min_purity, min_support })
    }
}

/// One turn of a conversation.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AskRequest {
    pub text: String,
    /// The conversation to continue (from a previous [`Answer`]); none starts a new one.
    pub conversation: Option<String>,
    /// The shopper, when known (a conversation stays with the user who started it).
    pub user: Option<String>,
    /// Number of items wanted (default 10, at most 100).
    pub n: Option<usize>,
}

/// The answer to one turn.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub conversation: String,
    /// What was understood, after merging with the conversation's earlier turns.
    pub parse: Parse,
    pub items: Vec<Pick>,
    /// When nothing meets every constraint: the nearest items, each with the reason it falls
    /// short (never mixed into `items`).
    pub closest: Vec<Pick>,
    pub reply: String,
}

/// One recommended item.
#[derive(Debug, Clone, Serialize)]
pub struct Pick {
    pub id: String,
    pub title: String,
    pub price: Option<f64>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub score: f32,
    pub reason: String,
    /// Dense item index (not serialised; for callers that look the item up).
    #[serde(skip)]
    pub index: u32,
}

/// What a request asks for. Prices are in the shop's currency (`currency`); attribute values
/// are comma-separated alternatives (`"red,black"`); categories are catalogue paths and match
/// their subcategories.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parse {
    /// `"zh"` or `"en"`.
    pub language: String,
    pub min_price: Option<f64>,
    pub max_price: Option<f64>,
    pub currency: Option<String>,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    pub exclude_brands: Vec<String>,
    pub exclude_categories: Vec<String>,
    /// `color` and `material` (families such as `red`, `cotton`) and `size`.
    pub attributes: BTreeMap<String, String>,
    pub exclude_attributes: BTreeMap<String, String>,
    pub recipient: Option<String>,
    pub occasion: Option<String>,
    /// `"price_asc"`, `"price_desc"`, `"best_selling"` or `"newest"`.
    pub sort: Option<String>,
    pub keywords: Vec<String>,
    /// `"cheaper"`, `"more_like:ID"`, `"other_brand"` or `"other_color"`.
    pub refinement: Option<String>,
    /// Words whose items are not wanted ("不要辣的" → `辣`).
    pub exclude_keywords: Vec<String>,
    /// Currency conversion applied to the budget, e.g. `$50 ≈ ¥360 (1 USD = 7.2 CNY)`.
    pub price_note: Option<String>,
}

/// The shopping assistant. `Send + Sync`; share it in an `Arc`.
pub struct Guide {
    cfg: GuideConfig,
    cat: RwLock<Catalog>,
    index: SearchIndex,
    convs: Conversations,
}

impl Guide {
    /// Index `items` (position = dense item index used by the rest of daogou).
    pub fn new(items: &[Item], config: GuideConfig) -> Result<Guide, Error> {
        let currency = config.currency.as_deref().map(|c| c.trim().to_uppercase());
        let cat = Catalog::new(items, config.synonyms.clone(), currency.as_deref(), config.noun_params()?);
        let index = SearchIndex::new(items)?;
        let convs = Conversations::new(
            config.max_conversations.unwrap_or(10_000),
            config.conversation_ttl_secs.unwrap_or(1_800),
        );
        Ok(Guide { cfg: config, cat: RwLock::new(cat), index, convs })
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Catalog>, Error> {
        self.cat.read().map_err(|_| Error::Poisoned)
    }

    /// Replace item `index`, or add it beyond the end; indices skipped on the way are empty
    /// slots (items the caller does not index, such as bare ids seen only in events), never
    /// found or recommended until upserted.
    pub fn upsert(&self, index: u32, item: &Item) -> Result<(), Error> {
        let mut cat = self.cat.write().map_err(|_| Error::Poisoned)?;
        cat.push_or_set(index as usize, item);
        cat.refresh_vocab();
        self.index.upsert(index, item)
    }

    /// Mark item `index` deleted: it is no longer found or recommended.
    pub fn remove(&self, index: u32) -> Result<(), Error> {
        let mut cat = self.cat.write().map_err(|_| Error::Poisoned)?;
        let len = cat.len();
        let rec = cat.recs.get_mut(index as usize).ok_or(Error::NoSuchItem { index, len })?;
        rec.deleted = true;
        self.index.remove(index)
    }

    /// Popularity per item index (e.g. purchases or distinct buyers) for "best-selling" and
    /// as a small ranking prior. Without it the guide uses the items' own `sales` /
    /// `review_count` attributes.
    pub fn set_popularity(&self, popularity: &[f32]) -> Result<(), Error> {
        let mut cat = self.cat.write().map_err(|_| Error::Poisoned)?;
        cat.popularity = popularity.to_vec();
        Ok(())
    }

    /// Number of items (including deleted slots).
    pub fn len(&self) -> usize {
        self.read().map(|c| c.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Plain product search (the storefront search box): best first, deleted items never.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(u32, f32)>, Error> {
        let cat = self.read()?;
        answer::search(&cat, &self.index, &self.cfg, query, limit)
    }

    /// Parse only (request understanding); also returned inside every [`Answer`].
    pub fn parse(&self, text: &str) -> Parse {
        match self.read() {
            Ok(cat) => Parser { cat: &cat, cfg: &self.cfg }.parse(text).parse,
            Err(_) => Parse::default(),
        }
    }

    /// Keep conversations in `store` (shared by several servers) instead of this process.
    pub fn share_conversations(&self, store: std::sync::Arc<dyn SharedTurns>) {
        self.convs.share(store);
    }

    /// Forget every conversation of `user` (a deleted shopper): what they asked for goes at
    /// once, not when the conversations expire. Returns how many were dropped.
    pub fn forget_user(&self, user: &str) -> Result<usize, Error> {
        self.convs.forget_user(user)
    }

    /// Answer one turn. `personal`, when given, holds the recommender's score for every item
    /// index (higher = better; `NEG_INFINITY` = unknown) and `history` the user's past item
    /// indices (most recent last) for reasons such as "because you liked X".
    pub fn ask(&self, req: &AskRequest, personal: Option<&[f32]>, history: &[u32]) -> Result<Answer, Error> {
        let cat = self.read()?;
        answer::ask(&cat, &self.index, &self.cfg, &self.convs, req, personal, history)
    }
}
