use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use crate::{Error, Result};

/// Hyperparameters given as `key=value` strings (`--set k=40 --set similarity=pearson`).
///
/// Models read them with typed getters and call [`Params::check_known`] first so a typo
/// (`--set neighbours=40`) is an error, not a silently ignored setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse `key=value` pairs.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut p = Params::new();
        for pair in pairs {
            let (k, v) = pair.split_once('=').ok_or_else(|| Error::InvalidParam {
                key: pair.to_owned(),
                value: String::new(),
                reason: "expected key=value".into(),
            })?;
            p.set(k.trim(), v.trim());
        }
        Ok(p)
    }

    /// Set a value (builder style).
    pub fn with(mut self, key: &str, value: impl Display) -> Self {
        self.set(key, value);
        self
    }

    /// Set a value.
    pub fn set(&mut self, key: &str, value: impl Display) {
        self.0.insert(key.to_owned(), value.to_string());
    }

    /// Raw value.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Typed value, or `default` when absent.
    pub fn get<T: FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| Error::InvalidParam {
                key: key.to_owned(),
                value: v.clone(),
                reason: format!("expected a {}", std::any::type_name::<T>()),
            }),
        }
    }

    /// Error on any key not in `known`.
    pub fn check_known(&self, owner: &str, known: &[&str]) -> Result<()> {
        for k in self.0.keys() {
            if !known.contains(&k.as_str()) {
                return Err(Error::UnknownParam { key: k.clone(), owner: owner.to_owned(), known: known.join(", ") });
            }
        }
        Ok(())
    }

    /// All pairs, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// True when no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Build an [`Error::InvalidParam`] for a value that parsed but is out of range.
pub fn invalid(key: &str, value: impl Display, reason: &str) -> Error {
    Error::InvalidParam { key: key.to_owned(), value: value.to_string(), reason: reason.to_owned() }
}

impl Params {
    /// Shorthand for [`invalid`].
    pub fn invalid(key: &str, value: impl Display, reason: &str) -> Error {
        invalid(key, value, reason)
    }
}
