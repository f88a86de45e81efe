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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_sections_quotes() {
        let text = "# shop\n[server]\nbind = \"0.0.0.0:9000\"\nmodel = item-knn # fast\nq = 'a # b'\nurl = x#y\n\n";
        let kv = parse_kv(text).unwrap();
        let pairs: Vec<(&str, &str)> = kv.iter().map(|l| (l.key.as_str(), l.value.as_str())).collect();
        assert_eq!(pairs, [("bind", "0.0.0.0:9000"), ("model", "item-knn"), ("q", "a # b"), ("url", "x#y")]);
        assert_eq!(kv[0].line, 3);
        assert!(parse_kv("a = \"open").unwrap_err().contains("line 1: unterminated"));
        assert!(parse_kv("\n\nnothing here").unwrap_err().starts_with("line 3:"));
        assert!(parse_kv("= 3").is_err());
        assert!(parse_kv("a = \"x\" y").is_err());
    }

    #[test]
    fn file_errors_name_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("daogou-kv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.toml");
        std::fs::write(&p, "a = 1\noops\n").unwrap();
        let e = read_kv_file(&p).unwrap_err();
        assert!(e.contains("bad.toml:2:"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
