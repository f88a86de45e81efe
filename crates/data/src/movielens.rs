//! The MovieLens preset.
//!
//! Ratings: `user item rating [timestamp]` per line, separated by tabs (`u.data`, `u1.base`),
//! `::` (`ratings.dat` of ML-1M/10M) or commas (`ratings.csv` of ml-latest, whose header line
//! is skipped), or other whitespace. Every line is a [`EventKind::Rating`] event.
//!
//! Catalogue: a `u.item` next to the ratings file (ML-100K: pipe-separated, latin-1,
//! `id|title|release date|video release date|IMDb URL|19 genre flags`) or a `movies.dat`
//! (ML-1M: `id::title::Genre|Genre`, latin-1) fills title, category (the first genre),
//! `attributes["genres"]` (`Action|Comedy`) and `created_at` (the release date).

use std::io::BufRead;
use std::path::Path;

use daogou_core::{EventKind, Item};

use crate::options::LoadOptions;
use crate::source::{open, Ctx, Sink};
use crate::time::parse_time;
use crate::{DataError, Result};

/// The 19 genres of ML-100K `u.genre`, in flag order.
pub const GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    Tab,
    DoubleColon,
    Comma,
    Whitespace,
}

fn detect(s: &str) -> Sep {
    if s.contains('\t') {
        Sep::Tab
    } else if s.contains("::") {
        Sep::DoubleColon
    } else if s.contains(',') {
        Sep::Comma
    } else {
        Sep::Whitespace
    }
}

/// Up to four fields and the total field count.
fn fields(s: &str, sep: Sep) -> ([&str; 4], usize) {
    fn take<'a>(it: impl Iterator<Item = &'a str>) -> ([&'a str; 4], usize) {
        let mut f = [""; 4];
        let mut n = 0;
        for part in it {
            if n < 4 {
                f[n] = part.trim();
            }
            n += 1;
        }
        (f, n)
    }
    match sep {
        Sep::Tab => take(s.split('\t')),
        Sep::DoubleColon => take(s.split("::")),
        Sep::Comma => take(s.split(',')),
        Sep::Whitespace => take(s.split_whitespace()),
    }
}

pub(crate) fn read(path: &Path, _opts: &LoadOptions, ctx: &mut Ctx, sink: &mut dyn Sink) -> Result<()> {
    let mut input = open(path)?;
    let mut buf = Vec::with_capacity(256);
    let mut line = 0u64;
    let mut sep = None;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).map_err(|e| ctx.io(e))? == 0 {
            break;
        }
        line += 1;
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let s = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                ctx.report.lines += 1;
                ctx.bad(line, "line", "bad UTF-8", || format!("invalid UTF-8 ({e})"))?;
                continue;
            }
        };
        let sep = *sep.get_or_insert_with(|| detect(s));
        let (f, n) = fields(s, sep);
        if line == 1 && f[0].parse::<f64>().is_err() && f[0].to_ascii_lowercase().starts_with("user") {
            continue; // a header (ratings.csv: userId,movieId,rating,timestamp)
        }
        ctx.report.lines += 1;
        if n < 3 {
            ctx.bad(line, "columns", "wrong column count", || {
                format!("expected `user item rating timestamp`, found {n} fields")
            })?;
            continue;
        }
        let [user, item, rating, ts] = f;
        if user.is_empty() || item.is_empty() {
            let field = if user.is_empty() { "user" } else { "item" };
            ctx.bad(line, field, &format!("missing {field}"), || "empty id".into())?;
            continue;
        }
        let Some(value) = rating.parse::<f32>().ok().filter(|v| v.is_finite()) else {
            ctx.bad(line, "rating", "bad rating", || format!("expected a number, found `{rating}`"))?;
            continue;
        };
        let timestamp = if n < 4 || ts.is_empty() {
            0
        } else if let Some(t) = ctx.time.parse(ts) {
            t
        } else {
            ctx.bad(line, "timestamp", "bad timestamp", || format!("cannot parse timestamp `{ts}`"))?;
            continue;
        };
        match sink.event(user, item, EventKind::Rating, value, timestamp, None) {
            None => ctx.report.events += 1,
            Some(reason) => ctx.report.skip(reason),
        }
    }
    if let Some(dir) = path.parent() {
        let (uitem, movies) = (dir.join("u.item"), dir.join("movies.dat"));
        if uitem.is_file() {
            read_catalogue(&uitem, false, ctx, sink)?;
        } else if movies.is_file() {
            read_catalogue(&movies, true, ctx, sink)?;
        }
    }
    Ok(())
}

/// Latin-1 bytes as a UTF-8 string (every byte is the code point of the same value).
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// `u.item` (`dat = false`) or `movies.dat` (`dat = true`) into the catalogue.
fn read_catalogue(path: &Path, dat: bool, ctx: &mut Ctx, sink: &mut dyn Sink) -> Result<()> {
    let bytes = std::fs::read(path).map_err(DataError::io(path))?;
    let text = latin1(&bytes);
    for (n, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let parsed = if dat { parse_movies_dat(l) } else { parse_u_item(l) };
        match parsed {
            Ok(item) => {
                ctx.report.items += 1;
                sink.item(item, false);
            }
            Err(message) if ctx.strict => {
                return Err(DataError::Malformed {
                    file: path.display().to_string(),
                    line: n as u64 + 1,
                    field: "columns".into(),
                    message,
                })
            }
            Err(_) => ctx.report.skip("bad catalogue line"),
        }
    }
    Ok(())
}

fn parse_u_item(l: &str) -> std::result::Result<Item, String> {
    let f: Vec<&str> = l.split('|').collect();
    if f.len() < 5 + GENRES.len() || f[0].trim().is_empty() {
        return Err(format!(
            "expected `id|title|release date|video release date|URL|19 genre flags`, found {} fields",
            f.len()
        ));
    }
    let genres: Vec<&str> =
        GENRES.iter().zip(&f[5..5 + GENRES.len()]).filter(|(_, flag)| flag.trim() == "1").map(|(g, _)| *g).collect();
    let mut item = Item::new(f[0].trim());
    item.title = f[1].trim().to_owned();
    item.created_at = parse_time(f[2]);
    if !f[4].trim().is_empty() {
        item.attributes.insert("imdb_url".into(), f[4].trim().to_owned());
    }
    set_genres(&mut item, &genres);
    Ok(item)
}

fn parse_movies_dat(l: &str) -> std::result::Result<Item, String> {
    let f: Vec<&str> = l.split("::").collect();
    if f.len() < 3 || f[0].trim().is_empty() {
        return Err(format!("expected `id::title::genres`, found {} fields", f.len()));
    }
    let mut item = Item::new(f[0].trim());
    item.title = f[1].trim().to_owned();
    let genres: Vec<&str> = f[2].split('|').map(str::trim).filter(|g| !g.is_empty()).collect();
    set_genres(&mut item, &genres);
    Ok(item)
}

fn set_genres(item: &mut Item, genres: &[&str]) {
    if let Some(first) = genres.first() {
        item.category = Some((*first).to_owned());
        item.attributes.insert("genres".into(), genres.join("|"));
    }
}
