//! The engine's errors. Each says what the caller (a person at the command line, or the HTTP
//! layer mapping it to a status) needs to know.

use std::path::PathBuf;

/// Errors of the answer pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed (see [`daogou_store::StoreError`]; `Invalid` is the caller's fault).
    #[error(transparent)]
    Store(#[from] daogou_store::StoreError),
    /// A model file could not be read or is damaged.
    #[error(transparent)]
    ModelFile(#[from] daogou_modelfile::Error),
    /// Fitting failed.
    #[error(transparent)]
    Fit(#[from] daogou_algo::Error),
    /// Bad parameters or signal options.
    #[error(transparent)]
    Param(#[from] daogou_core::Error),
    /// Bad signal options (event weights, threshold, half-life).
    #[error(transparent)]
    Signal(#[from] daogou_data::DataError),
    /// A model name that is not registered.
    #[error("unknown model `{name}`; available: {available}")]
    UnknownModel {
        /// the name given
        name: String,
        /// the registered names
        available: String,
    },
    /// A model file whose ids have nothing in common with the store's.
    #[error("{path} was trained on another shop: none of its {users} users and {items} items is in the store")]
    ForeignModel {
        /// the model file
        path: PathBuf,
        /// users in the file
        users: usize,
        /// items in the file
        items: usize,
    },
    /// An item id the catalogue does not hold.
    #[error("item `{0}` is not in the catalogue")]
    UnknownItem(String),
    /// An item taken out of the catalogue.
    #[error("item `{0}` was deleted")]
    DeletedItem(String),
    /// An item the current model knows nothing about (bought together needs purchase data).
    #[error("item `{0}` is unknown to the model")]
    ItemNotInModel(String),
    /// The model has no item–item similarity.
    #[error("model {0} has no notion of item similarity (use item-knn)")]
    NoSimilarity(String),
    /// The store holds no interactions to fit a model on, or a user (an experiment) is unknown.
    #[error("{0}")]
    NotFound(String),
    /// A change that conflicts with the current state (an experiment already running …).
    #[error("{0}")]
    Conflict(String),
}

/// Result with the engine [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
