//! # daogou-core
//!
//! The vocabulary every other daogou crate speaks:
//!
//! * [`IdMap`]: external string ids (`"u42"`, `"85123A"`) ↔ dense `u32` indices.
//! * [`Item`], [`Event`], [`EventKind`]: the shop's catalogue and behaviour as it arrives.
//! * [`Interaction`]: one event after id mapping (dense user/item indices, numeric value).
//! * [`Csr`] and [`Interactions`]: the user×item matrix in compressed sparse rows, by user
//!   and by item. There is no dense user×item matrix anywhere in daogou.
//! * [`Dataset`]: id maps + catalogue + interactions, what importers produce and models eat.
//! * [`Params`]: `--set key=value` hyperparameters with typed, validated access.
//! * The catalogue rules every list obeys ([`Item::in_stock`], [`Item::display_title`],
//!   [`category_matches`]), the one seeded generator ([`SeededRng`]) and the one reader of
//!   `key = value` configuration files ([`kv`]).
//!
//! ```
//! use daogou_core::{Interaction, Interactions};
//! let data = vec![Interaction::new(0, 1, 5.0), Interaction::new(1, 1, 3.0), Interaction::new(1, 0, 4.0)];
//! let m = Interactions::from_interactions(2, 2, &data, daogou_core::Aggregate::Last);
//! assert_eq!(m.by_user.row(1).0, &[0, 1]);
//! assert_eq!(m.by_item.row(1).1, &[5.0, 3.0]);
//! ```
#![warn(missing_docs)]

mod basket;
mod dataset;
pub mod datasets;
mod error;
mod ids;
pub mod kv;
mod params;
pub mod rng;
mod sparse;
mod types;

pub use basket::{has_purchases, is_bought, Baskets};
pub use dataset::{Dataset, EventColumns, Interaction};
pub use error::{Error, Result};
pub use ids::IdMap;
pub use params::Params;
pub use rng::{SeededRng, SplitMix64};
pub use sparse::{Aggregate, Csr, Interactions};
pub use types::{category_matches, numeric_attribute_keys, Event, EventKind, Item};
