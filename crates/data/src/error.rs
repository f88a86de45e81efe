//! Errors of the readers, mappings, weights and splits.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong while reading or configuring data. Every variant names the file, line,
/// field or setting involved so that the user can fix the input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read (including a corrupt gzip stream).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// the file
        path: PathBuf,
        /// the underlying error
        source: std::io::Error,
    },
    /// A row that cannot be parsed (strict mode only; lenient mode counts and skips it).
    #[error("{file}:{line}: field `{field}`: {message}")]
    Malformed {
        /// the file as given
        file: String,
        /// 1-based line number (a header is line 1)
        line: u64,
        /// the column or key that is wrong (`columns` for a wrong field count, `json` for bad JSON)
        field: String,
        /// what is wrong with it
        message: String,
    },
    /// A Parquet file, row group or row that cannot be read: a row that cannot be parsed
    /// (strict mode only, as [`DataError::Malformed`]), a column of an unsupported type, or
    /// data that does not decode (in lenient mode too).
    #[error("{file}: {}column `{column}`: {message}", place(*.row_group, *.row))]
    Parquet {
        /// the file as given
        file: String,
        /// the row group, counted from 0 as Parquet tools count (`None`: the file as a whole)
        row_group: Option<usize>,
        /// the row within the row group, counted from 0 (`None`: the row group as a whole)
        row: Option<u64>,
        /// the column that is wrong (`-` when the file's metadata is unreadable)
        column: String,
        /// what is wrong with it
        message: String,
    },
    /// A bad column mapping, missing column, unknown option or similar setup mistake.
    #[error("{0}")]
    Config(String),
    /// A command-line style value (`--split`, `--weights`, `--format`) that cannot be parsed.
    #[error("invalid {what} `{input}`: {expected}")]
    Invalid {
        /// what was being parsed (`split`, `event weights`, `format` …)
        what: &'static str,
        /// the input as given
        input: String,
        /// the accepted forms
        expected: String,
    },
}

fn place(row_group: Option<usize>, row: Option<u64>) -> String {
    match (row_group, row) {
        (Some(g), Some(r)) => format!("row group {g}, row {r}: "),
        (Some(g), None) => format!("row group {g}: "),
        _ => String::new(),
    }
}

/// Result with [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DataError {
        let path = path.into();
        move |source| DataError::Io { path, source }
    }
}
