//! The one reader of daogou's small configuration files: `key = value` lines.
//!
//! Used by the server's `--config`, `--params` files written by `daogou tune`, and
//! `--mapping-file` column mappings, so the three accept the same syntax:
//!
//! * blank lines, lines starting with `#` and `[section]` headers are ignored;
//! * a value may be quoted with `"` or `'` (then it may contain `#` and surrounding spaces);
//! * an unquoted value ends at a `#` comment; both are trimmed.

use std::path::Path;

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvLine {
    /// 1-based line number.
    pub line: usize,
    /// The key, trimmed.
    pub key: String,
    /// The value, unquoted and trimmed.
    pub value: String,
}

/// Parse `text`; an error names the line (`line 3: expected key = value`).
pub fn parse_kv(text: &str) -> Result<Vec<KvLine>, String> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || (line.starts_with('[') && line.ends_with(']')) {
            continue;
        }
        let at = n + 1;
        let (k, v) =
            line.split_once('=').ok_or_else(|| format!("line {at}: expected `key = value`, found `{line}`"))?;
        let key = k.trim();
        if key.is_empty() {
            return Err(format!("line {at}: the key before `=` is empty"));
        }
        let v = v.trim();
        let value = match v.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let rest = &v[1..];
                let end = rest.find(q).ok_or_else(|| format!("line {at}: unterminated string"))?;
                let after = rest[end + 1..].trim();
                if !(after.is_empty() || after.starts_with('#')) {
                    return Err(format!("line {at}: unexpected `{after}` after the quoted value"));
                }
                &rest[..end]
            }
            _ => {
                // a comment starts at a `#` that begins the value or follows whitespace
                let cut = v
                    .char_indices()
                    .find(|&(i, c)| c == '#' && (i == 0 || v[..i].ends_with(char::is_whitespace)))
                    .map_or(v.len(), |(i, _)| i);
                v[..cut].trim()
            }
        };
        out.push(KvLine { line: at, key: key.to_owned(), value: value.to_owned() });
    }
    Ok(out)
}

/// Read and parse a file; errors name the file and line (`shop.toml:3: …`).
pub fn read_kv_file(path: &Path) -> Result<Vec<KvLine>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_kv(&text).map_err(|e| format!("{}:{}", path.display(), e.strip_prefix("line ").unwrap_or(&e)))
}
