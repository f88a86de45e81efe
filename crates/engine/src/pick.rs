//! One line of an answer ([`Pick`]) and why it is there ([`Reason`]): the only place the reason
//! texts are written.

use daogou_core::{EventKind, Item};
use serde::Serialize;

/// One answer line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pick {
    /// Item id.
    pub item: String,
    /// Title (the id when the catalogue has none).
    pub title: String,
    /// Model score (popularity count for popularity answers, similarity for similar items).
    pub score: f32,
    /// Why, in words.
    pub reason: String,
    /// The item the reason names, when one.
    pub because: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Price.
    pub price: Option<f64>,
}

impl Pick {
    /// `it` with its score and reason; `because` is the item the reason names.
    pub fn new(it: &Item, score: f32, reason: &Reason<'_>, because: Option<&Item>) -> Pick {
        Pick {
            item: it.id.clone(),
            title: it.display_title().to_owned(),
            score,
            reason: reason.to_string(),
            because: because.map(|b| b.id.clone()),
            category: it.category.clone(),
            brand: it.brand.clone(),
            price: it.price,
        }
    }
}

/// The "for you" answer, as the service sends it and `daogou recommend --json` prints it.
#[derive(Debug, Serialize)]
pub struct ForYou<'a> {
    /// The user as asked for (not the pseudonym it may be stored under).
    pub user: &'a str,
    /// Model name.
    pub model: &'a str,
    /// Snapshot version.
    pub model_version: u64,
    /// The model knows the user (their training row is in it).
    pub known_user: bool,
    /// Events newer than the model are part of the answer.
    pub realtime: bool,
    /// The picks.
    pub items: &'a [Pick],
    /// In a running experiment: `experiment`, `variant` and `recommendation_id` (flattened
    /// into the answer); absent otherwise.
    #[serde(flatten)]
    pub experiment: Option<&'a crate::experiment::Exposed>,
}

/// Why an item is in a list.
#[derive(Debug, Clone)]
pub enum Reason<'a> {
    /// "because you bought “…”": the history item that contributed most.
    Because {
        /// the strongest thing the user did with it
        kind: Option<EventKind>,
        /// the history item
        item: &'a Item,
    },
    /// The popularity model's picks.
    Bestseller,
    /// A model's pick that no single history item explains.
    LikeYou,
    /// Filled in from popularity.
    Popular,
    /// A new arrival.
    New,
    /// Similar items of `item`.
    AlsoViewed(&'a Item),
    /// Popular in the category of a cold item.
    PopularIn {
        /// the category
        category: &'a str,
        /// the cold item
        item: &'a Item,
    },
    /// Co-purchases of `item`.
    BoughtTogether(&'a Item),
    /// Distinct shoppers in a recent window.
    Trending {
        /// distinct shoppers
        shoppers: u32,
        /// the window
        hours: u32,
    },
    /// The user's own purchases.
    Bought {
        /// purchases less returns
        count: i32,
        /// latest purchase (unix seconds)
        last: i64,
    },
    /// A search hit.
    Matches(&'a str),
}

impl std::fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Because { kind, item } => {
                write!(f, "because you {} “{}”", kind.map_or("interacted with", EventKind::verb), item.display_title())
            }
            Reason::Bestseller => f.write_str("a bestseller in this shop"),
            Reason::LikeYou => f.write_str("popular with shoppers like you"),
            Reason::Popular => f.write_str("popular in this shop"),
            Reason::New => f.write_str("new in the shop"),
            Reason::AlsoViewed(it) => write!(f, "customers who viewed “{}” also viewed this", it.display_title()),
            Reason::PopularIn { category, item } => write!(f, "popular in {category}, like “{}”", item.display_title()),
            Reason::BoughtTogether(it) => write!(f, "often bought together with “{}”", it.display_title()),
            Reason::Trending { shoppers, hours } => write!(f, "trending: {shoppers} shoppers in the last {hours} h"),
            Reason::Bought { count, last } => {
                // dates in UTC
                let day = chrono::DateTime::from_timestamp(*last, 0)
                    .map_or_else(|| last.to_string(), |t| t.format("%Y-%m-%d").to_string());
                match count {
                    1 => write!(f, "bought on {day}"),
                    2 => write!(f, "bought twice, last on {day}"),
                    _ => write!(f, "bought {count} times, last on {day}"),
                }
            }
            Reason::Matches(text) => write!(f, "matches “{text}”"),
        }
    }
}
