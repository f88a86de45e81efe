//! # daogou-engine
//!
//! The answer pipeline that the service (`daogou serve`) and the command line (`daogou
//! recommend`, `similar`) share, so that both give the same items, in the same order, with the
//! same reasons. It sits between the libraries (data, store, models, model files) and the front
//! ends, holds no HTTP types and needs no async runtime.
//!
//! * [`Snapshot`]: a fitted model with its id maps, training histories, popularity and the
//!   [`Signal`](daogou_data::Signal) it was trained on; built by fitting or by loading a model
//!   file (checked against the store's data).
//! * [`Catalogue`]: the live catalogue in one dense index space shared with the guide.
//! * [`Filter`] and [`Blend`]: the business rules (stock, deleted items, category, brand,
//!   price, exclusions, repeats) and the blending knobs (popularity, novelty, diversity caps,
//!   exploration).
//! * [`lists`]: every list — for you, sessions, similar, bought together, popular, trending,
//!   new, buy again, and the top N of every user — each a plain function with unit tests.
//! * [`Pick`] and [`Reason`]: one answer line and the words that explain it.
//! * [`experiment`]: online experiments — assignment of shoppers to variants (salted
//!   HMAC-SHA256), each variant's model and knobs, the lists shown and the attribution of
//!   events to them.
//! * [`Engine`]: the state that changes (the store, the current snapshot, live histories and
//!   trending counters, all bounded) and the operations that change it.
//!
//! ```
//! use daogou_engine::{Blend, Engine, Filter, LiveLimits, ModelSource, ModelSpec};
//! use daogou_store::{SqliteStore, Store};
//! let shop = daogou_data::synth::fixtures::two_cluster_shop();
//! let mut store = SqliteStore::open_in_memory()?;
//! store.import(&shop.items, &shop.events)?;
//! let engine = Engine::open(store, &ModelSource::Fit(ModelSpec::named("item-knn")), LiveLimits::default())?;
//! let snap = engine.snapshot();
//! // su0 bought the running shoes s0, s1, s2 and viewed s4; s5 is out of stock
//! let picks = engine.for_you(&snap, &engine.history(&snap, "su0"), &Filter::default(), &Blend::default(), 1);
//! assert_eq!(picks[0].item, "s3");
//! assert_eq!(picks[0].reason, "because you bought “跑鞋 1”");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

#[doc(hidden)]
pub mod background;
pub mod catalogue;
mod engine;
mod error;
pub mod experiment;
mod filter;
mod history;
pub mod lists;
#[doc(hidden)]
pub mod live;
mod pick;
mod snapshot;

pub use catalogue::{Catalogue, IndexItems};
pub use engine::{Engine, Ingested, LiveStats, ModelSource, UserDeletion};
pub use error::{Error, Result};
pub use experiment::{Arm, ExperimentDef, ExperimentInfo, Exposed, VariantDef};
pub use filter::{novelty, Blend, Filter, DEFAULT_SESSION_HOURS, DEFAULT_SESSION_WEIGHT};
pub use history::History;
pub use live::{LiveEvent, LiveLimits};
pub use pick::{ForYou, Pick, Reason};
pub use snapshot::{BoughtLog, ModelSpec, Snapshot};
