use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// What a user did with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Looked at a product page.
    View,
    /// Clicked a product in a list.
    Click,
    /// Searched; the event carries the query text.
    Search,
    /// Put the product in the cart.
    AddToCart,
    /// Bought it; `value` is the quantity.
    Purchase,
    /// Returned or cancelled a purchase; `value` is the quantity.
    Return,
    /// Gave an explicit rating; `value` is the rating.
    Rating,
}

impl EventKind {
    /// How strong a signal of interest the kind is, for naming the strongest thing a user did
    /// with an item: purchase > rating > add_to_cart > click > view > search > return.
    pub fn strength(self) -> u8 {
        match self {
            EventKind::Purchase => 6,
            EventKind::Rating => 5,
            EventKind::AddToCart => 4,
            EventKind::Click => 3,
            EventKind::View => 2,
            EventKind::Search => 1,
            EventKind::Return => 0,
        }
    }

    /// The past-tense phrase a reason uses: "because you **bought** …".
    pub fn verb(self) -> &'static str {
        match self {
            EventKind::Purchase => "bought",
            EventKind::Rating => "rated",
            EventKind::AddToCart => "put in your cart",
            EventKind::Click | EventKind::View => "viewed",
            EventKind::Search => "searched for",
            EventKind::Return => "returned",
        }
    }

    /// All kinds, in funnel order.
    pub const ALL: [EventKind; 7] = [
        EventKind::View,
        EventKind::Click,
        EventKind::Search,
        EventKind::AddToCart,
        EventKind::Purchase,
        EventKind::Return,
        EventKind::Rating,
    ];

    /// The snake_case name used in files, the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::Click => "click",
            EventKind::Search => "search",
            EventKind::AddToCart => "add_to_cart",
            EventKind::Purchase => "purchase",
            EventKind::Return => "return",
            EventKind::Rating => "rating",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match norm.as_str() {
            "view" | "pageview" | "page_view" => EventKind::View,
            "click" => EventKind::Click,
            "search" => EventKind::Search,
            "add_to_cart" | "cart" | "addtocart" => EventKind::AddToCart,
            "purchase" | "buy" | "transaction" | "order" => EventKind::Purchase,
            "return" | "cancel" | "refund" => EventKind::Return,
            "rating" | "rate" => EventKind::Rating,
            _ => return Err(Error::UnknownEventKind(s.to_owned())),
        })
    }
}

/// A catalogue entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// External id (SKU, stock code, movie id …).
    pub id: String,
    /// Product title.
    #[serde(default)]
    pub title: String,
    /// Category (a path like `鞋/跑鞋` is kept as one string).
    #[serde(default)]
    pub category: Option<String>,
    /// Brand.
    #[serde(default)]
    pub brand: Option<String>,
    /// Price in the shop's currency.
    #[serde(default)]
    pub price: Option<f64>,
    /// Free attributes (colour, size, genre flags …).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// When the item was listed (unix seconds).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Whether the item can be bought now.
    #[serde(default = "default_true")]
    pub available: bool,
    /// Units in stock, when known.
    #[serde(default)]
    pub stock: Option<i64>,
    /// Taken out of the catalogue (`DELETE /items/{id}`): the row stays, so that past events
    /// remain valid, but the item is never shown again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

fn default_true() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Item {
    /// An available item with only an id.
    pub fn new(id: impl Into<String>) -> Self {
        Item { id: id.into(), available: true, ..Default::default() }
    }

    /// Can be bought now: available and in stock (unknown stock counts as in stock), not deleted.
    pub fn in_stock(&self) -> bool {
        self.available && !self.deleted && self.stock.is_none_or(|s| s > 0)
    }

    /// What a list shows as the item's name: its title, or its id when it has none.
    pub fn display_title(&self) -> &str {
        if self.title.is_empty() {
            &self.id
        } else {
            &self.title
        }
    }

    /// True when the item's category is `wanted` or lies below it in the category path.
    pub fn in_category(&self, wanted: &str) -> bool {
        self.category.as_deref().is_some_and(|c| category_matches(c, wanted))
    }
}

/// True when category path `category` is `wanted` or lies below it: `鞋/跑鞋` matches `鞋`
/// and `鞋/跑鞋`, but not `鞋/跑` (whole path segments only).
pub fn category_matches(category: &str, wanted: &str) -> bool {
    category == wanted || (category.starts_with(wanted) && category[wanted.len()..].starts_with('/'))
}

/// Attribute keys that are numbers for at least half of `items`, with more than one value: the
/// catalogue's numeric signals (ratings, review counts, …), sorted by key. The deep models and
/// the ranker's features read the same keys.
pub fn numeric_attribute_keys(items: &[Item]) -> Vec<String> {
    // key → (items where it is a number, its first value, whether it varies)
    let mut count: std::collections::HashMap<&str, (usize, Option<f64>, bool)> = Default::default();
    for it in items {
        for (k, v) in &it.attributes {
            if let Some(x) = v.trim().parse::<f64>().ok().filter(|x| x.is_finite()) {
                let e = count.entry(k).or_insert((0, None, false));
                e.0 += 1;
                e.2 |= e.1.is_some_and(|first| first != x);
                e.1.get_or_insert(x);
            }
        }
    }
    let mut keys: Vec<String> = count
        .into_iter()
        .filter(|(_, (n, _, varies))| *varies && 2 * n >= items.len())
        .map(|(k, _)| k.to_owned())
        .collect();
    keys.sort();
    keys
}

/// One behaviour event as it arrives, with external ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// External user id.
    pub user: String,
    /// External item id (empty for a search that hit no item).
    pub item: String,
    /// What happened.
    pub kind: EventKind,
    /// Quantity for purchases/returns, the rating for ratings, 1 otherwise.
    pub value: f32,
    /// Unix seconds.
    pub timestamp: i64,
    /// Query text of a search event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}
