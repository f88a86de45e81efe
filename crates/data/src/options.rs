//! What to read and how: [`Format`], [`ColumnMapping`], [`LoadOptions`]; what came out:
//! [`LoadReport`], [`Records`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use daogou_core::{Dataset, Event, Item};
use serde::{Deserialize, Serialize};

use crate::{DataError, Result};

/// An input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// MovieLens ratings (`u.data`, `u1.base`, `ratings.dat`): `user item rating timestamp`,
    /// tab- (or `::`-) separated, no header; a `u.item` next to the file fills the catalogue.
    Movielens,
    /// The UCI Online Retail CSV (`InvoiceNo,StockCode,Description,Quantity,InvoiceDate,…`).
    OnlineRetail,
    /// A CSV/TSV file with a header; columns are picked by a [`ColumnMapping`].
    Csv,
    /// One JSON object per line: events (objects with a user key) and catalogue items
    /// (objects with `id` and no user key).
    Jsonl,
    /// An Apache Parquet file: events (a user column) or catalogue items (`id` and no user
    /// column), columns picked by a [`ColumnMapping`] as for CSV. A `.parquet` file given as
    /// `csv` or `jsonl` (the command line's default is `csv`) is read as Parquet too.
    Parquet,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 5] = [Format::Movielens, Format::OnlineRetail, Format::Csv, Format::Jsonl, Format::Parquet];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Movielens => "movielens",
            Format::OnlineRetail => "online-retail",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }

    /// The format that reads `path`: a `.parquet` file named as one of the mapped formats
    /// (`csv`, `jsonl`) is Parquet, since its column mapping applies unchanged; otherwise `self`.
    pub fn for_file(self, path: &Path) -> Format {
        if matches!(self, Format::Csv | Format::Jsonl) && is_parquet(path) {
            Format::Parquet
        } else {
            self
        }
    }

    /// A guess from the file name: `*.jsonl`/`*.ndjson` → jsonl, `u.data`/`*.base`/`*.test`/
    /// `ratings.dat` → movielens, a name containing `online_retail` → online-retail,
    /// `*.csv`/`*.tsv`/`*.txt` → csv (a trailing `.gz` is ignored), `*.parquet` → parquet.
    /// `None` when unsure.
    pub fn guess(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".parquet") || name.ends_with(".parq") {
            Some(Format::Parquet)
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
            Some(Format::Jsonl)
        } else if name == "u.data" || name.ends_with(".base") || name.ends_with(".test") || name == "ratings.dat" {
            Some(Format::Movielens)
        } else if name.contains("online_retail") || name.contains("online-retail") {
            Some(Format::OnlineRetail)
        } else if name.ends_with(".csv") || name.ends_with(".tsv") || name.ends_with(".txt") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match norm.as_str() {
            "movielens" | "ml" => Format::Movielens,
            "online-retail" | "onlineretail" | "retail" => Format::OnlineRetail,
            "csv" | "tsv" => Format::Csv,
            "jsonl" | "ndjson" | "json" => Format::Jsonl,
            "parquet" | "parq" => Format::Parquet,
            _ => {
                return Err(DataError::Invalid {
                    what: "format",
                    input: s.to_owned(),
                    expected: "expected one of: movielens, online-retail, csv, jsonl, parquet".into(),
                })
            }
        })
    }
}

/// Which column (CSV) or key (JSONL) holds each field.
///
/// `user` and `item` are required. The optional fields are used when the column exists:
/// with [`ColumnMapping::default`] each field is looked for under its own name (`value`,
/// `timestamp`, …) and silently left out when the file has no such column. A column that
/// was *renamed* in the mapping (`value=Quantity`) must exist, otherwise loading fails with
/// [`DataError::Config`]; set a field to `None` (or `value=` in a spec) to ignore it.
/// Header names match exactly first, then ignoring ASCII case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    /// User id column (required).
    pub user: String,
    /// Item id column (required).
    pub item: String,
    /// Rating / quantity column (default 1.0 when absent).
    pub value: Option<String>,
    /// Timestamp column (default 0 when absent).
    pub timestamp: Option<String>,
    /// Event kind column (`view`, `purchase`, …).
    pub kind: Option<String>,
    /// Search query column.
    pub query: Option<String>,
    /// Item title column (catalogue).
    pub title: Option<String>,
    /// Item category column (catalogue).
    pub category: Option<String>,
    /// Item brand column (catalogue).
    pub brand: Option<String>,
    /// Item price column (catalogue).
    pub price: Option<String>,
}

impl Default for ColumnMapping {
    fn default() -> Self {
        ColumnMapping {
            user: "user".into(),
            item: "item".into(),
            value: Some("value".into()),
            timestamp: Some("timestamp".into()),
            kind: Some("kind".into()),
            query: Some("query".into()),
            title: Some("title".into()),
            category: Some("category".into()),
            brand: Some("brand".into()),
            price: Some("price".into()),
        }
    }
}

impl ColumnMapping {
    /// The field names a mapping can set.
    pub const KEYS: [&'static str; 10] =
        ["user", "item", "value", "timestamp", "kind", "query", "title", "category", "brand", "price"];

    /// Parse `key=column` pairs separated by commas, overriding [`ColumnMapping::default`]:
    /// `"user=CustomerID,item=StockCode,value=Quantity,timestamp=InvoiceDate"`.
    /// An empty column (`kind=`) switches an optional field off.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut m = ColumnMapping::default();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                DataError::Config(format!(
                    "column mapping `{pair}`: expected key=column (keys: {})",
                    Self::KEYS.join(", ")
                ))
            })?;
            m.set(k.trim(), unquote(v.trim()))?;
        }
        Ok(m)
    }

    /// Read a mapping from a small config file: one `key = "column"` or `key=column` per
    /// line, `#` comments and blank lines ignored, `[section]` headers ignored (a TOML subset).
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut m = ColumnMapping::default();
        for l in daogou_core::kv::read_kv_file(path).map_err(DataError::Config)? {
            m.set(&l.key, &l.value).map_err(|e| DataError::Config(format!("{}:{}: {e}", path.display(), l.line)))?;
        }
        Ok(m)
    }

    /// Set one field by name; an empty column clears an optional field.
    pub fn set(&mut self, key: &str, column: &str) -> Result<()> {
        let opt = if column.is_empty() { None } else { Some(column.to_owned()) };
        let slot = match key {
            "user" | "item" => {
                if column.is_empty() {
                    return Err(DataError::Config(format!("column mapping: `{key}` needs a column name")));
                }
                if key == "user" {
                    self.user = column.to_owned();
                } else {
                    self.item = column.to_owned();
                }
                return Ok(());
            }
            "value" | "rating" | "quantity" => &mut self.value,
            "timestamp" | "time" => &mut self.timestamp,
            "kind" | "event" => &mut self.kind,
            "query" => &mut self.query,
            "title" => &mut self.title,
            "category" => &mut self.category,
            "brand" => &mut self.brand,
            "price" => &mut self.price,
            _ => {
                return Err(DataError::Config(format!(
                    "column mapping: unknown key `{key}` (known keys: {})",
                    Self::KEYS.join(", ")
                )))
            }
        };
        *slot = opt;
        Ok(())
    }
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// How to read a file.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The file format.
    pub format: Format,
    /// Columns for [`Format::Csv`] and [`Format::Parquet`] and keys for [`Format::Jsonl`]; the
    /// presets ignore it.
    pub mapping: ColumnMapping,
    /// Fail on the first malformed row instead of skipping and counting it.
    pub strict: bool,
    /// A chrono format for timestamps (`%d.%m.%Y %H:%M`), or `unix` / `unix_ms`;
    /// `None` = auto (see [`parse_time`](crate::parse_time)).
    pub timestamp_format: Option<String>,
}

impl LoadOptions {
    /// Lenient reading with the default mapping and automatic timestamps.
    pub fn new(format: Format) -> Self {
        LoadOptions { format, mapping: ColumnMapping::default(), strict: false, timestamp_format: None }
    }
}

/// What a load did: lines read, events and catalogue items produced, rows skipped by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadReport {
    /// The file as given.
    pub file: String,
    /// Data lines read (a header line is not counted; blank lines in JSONL/MovieLens are not counted).
    pub lines: u64,
    /// Events produced.
    pub events: u64,
    /// Catalogue items produced.
    pub items: u64,
    /// Skipped rows by reason (`missing CustomerID`, `bad Quantity`, …).
    pub skipped: BTreeMap<String, u64>,
}

impl LoadReport {
    /// Total skipped rows.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub(crate) fn skip(&mut self, reason: &str) {
        if let Some(n) = self.skipped.get_mut(reason) {
            *n += 1;
        } else {
            self.skipped.insert(reason.to_owned(), 1);
        }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} lines, {} events, {} items", self.file, self.lines, self.events, self.items)?;
        if !self.skipped.is_empty() {
            f.write_str("; skipped ")?;
            for (i, (reason, n)) in self.skipped.iter().enumerate() {
                write!(f, "{}{n} ({reason})", if i > 0 { ", " } else { "" })?;
            }
        }
        Ok(())
    }
}

/// A file read with external ids: catalogue items and events, ready to store.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// Catalogue entries found in the file (or next to it, like MovieLens `u.item`).
    pub items: Vec<Item>,
    /// Events in file order.
    pub events: Vec<Event>,
    /// What was read and skipped.
    pub report: LoadReport,
}

impl Records {
    /// Map into a fresh [`Dataset`]: events in order (a search without an item is left out),
    /// then the catalogue. `explicit` is true when every event is a rating.
    pub fn to_dataset(&self) -> Dataset {
        let mut ds = Dataset::default();
        for e in &self.events {
            if !e.item.is_empty() && !e.user.is_empty() {
                ds.push_event(e);
            }
        }
        for it in &self.items {
            ds.upsert_item(it.clone());
        }
        ds.explicit =
            !ds.interactions.is_empty() && ds.interactions.iter().all(|x| x.kind == daogou_core::EventKind::Rating);
        ds
    }
}

/// Whether `path` names a Parquet file (by its extension).
pub(crate) fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("parq"))
}
