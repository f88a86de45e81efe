use thiserror::Error;

/// Errors of the core types. Each names what was wrong so a user can fix the input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A `--set key=value` parameter that the chosen model does not know.
    #[error("unknown parameter `{key}` for {owner}; known parameters: {known}")]
    UnknownParam {
        /// the offending key
        key: String,
        /// the model or component that was given the key
        owner: String,
        /// comma-separated list of accepted keys
        known: String,
    },
    /// A parameter whose value cannot be parsed or is out of range.
    #[error("invalid value `{value}` for parameter `{key}`: {reason}")]
    InvalidParam {
        /// the key
        key: String,
        /// the value given
        value: String,
        /// what was expected
        reason: String,
    },
    /// An event kind name that is not one of the known kinds.
    #[error("unknown event kind `{0}` (expected one of: view, click, search, add_to_cart, purchase, return, rating)")]
    UnknownEventKind(String),
}

/// Result with the core [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
