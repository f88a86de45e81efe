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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::{datasets, write};
    use crate::{load_dataset, load_into, read_file, Format, LoadOptions};
    use daogou_core::Dataset;

    fn uitem_bytes() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
        // latin-1: "Misérables" with é = 0xE9
        b.extend_from_slice(
            b"2|Les Mis\xe9rables (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|1|0|0|1|0\n",
        );
        b.extend_from_slice(b"3|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n");
        b
    }

    #[test]
    fn ratings_and_latin1_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "u.item", &uitem_bytes());
        let p = write(dir.path(), "u1.base", b"1\t1\t5\t874965758\n1\t2\t3\t876893171\n\n2\t1\t4\t888550871\n");
        let t = write(dir.path(), "u1.test", b"2\t3\t1\t888550872\n3\t2\t2\t888550873\n");
        let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
        assert_eq!((r.report.lines, r.report.events, r.report.items), (3, 3, 3));
        assert_eq!((r.events[2].user.as_str(), r.events[2].item.as_str(), r.events[2].value), ("2", "1", 4.0));
        assert!(r.events.iter().all(|e| e.kind == EventKind::Rating));
        assert_eq!(r.events[0].timestamp, 874_965_758);
        let toy = &r.items[0];
        assert_eq!(toy.title, "Toy Story (1995)");
        assert_eq!(toy.category.as_deref(), Some("Animation"));
        assert_eq!(toy.attributes["genres"], "Animation|Children's|Comedy");
        assert_eq!(toy.created_at, Some(788_918_400));
        assert_eq!(r.items[1].title, "Les Misérables (1995)");
        assert_eq!(r.items[1].attributes["genres"], "Drama|Romance|War");
        assert_eq!(r.items[2].category.as_deref(), Some("unknown"));
        assert_eq!(r.items[2].created_at, None);

        // base then test into one dataset: ids shared, ranges adjacent, explicit
        let mut ds = Dataset::default();
        let (r1, _) = load_into(&mut ds, &p, &LoadOptions::new(Format::Movielens)).unwrap();
        let (r2, rep2) = load_into(&mut ds, &t, &LoadOptions::new(Format::Movielens)).unwrap();
        assert_eq!((r1, r2), (0..3, 3..5));
        assert_eq!(rep2.events, 2);
        assert!(ds.explicit);
        assert_eq!((ds.n_users(), ds.n_items(), ds.catalogue.len()), (3, 3, 3));
        assert_eq!(ds.title(ds.items.get("2").unwrap()), "Les Misérables (1995)");
        assert_eq!(ds.category(ds.items.get("1").unwrap()), Some("Animation"));
    }

    #[test]
    fn other_separators_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "ratings.dat", b"1::1193::5::978300760\n1::661::3::978302109\n");
        let (ds, _) = load_dataset(&p, &LoadOptions::new(Format::Movielens)).unwrap();
        assert_eq!((ds.interactions.len(), ds.items.id(1)), (2, "661"));
        let p = write(
            dir.path(),
            "ratings.csv",
            b"userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.5,964981247\r\n",
        );
        let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
        assert_eq!((r.report.lines, r.events[1].value), (2, 4.5));

        let p = write(dir.path(), "bad.data", b"1\t1\t5\t874965758\n1\t2\tfive\t876893171\n1\t3\n1\t4\t4\tlater\n");
        let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.report.skipped["bad rating"], 1);
        assert_eq!(r.report.skipped["wrong column count"], 1);
        assert_eq!(r.report.skipped["bad timestamp"], 1);
        let strict = LoadOptions { strict: true, ..LoadOptions::new(Format::Movielens) };
        let msg = read_file(&p, &strict).unwrap_err().to_string();
        assert!(msg.ends_with("bad.data:2: field `rating`: expected a number, found `five`"), "{msg}");

        // a broken u.item line: counted, or an error naming u.item in strict mode
        write(dir.path(), "u.item", b"1|Toy Story (1995)|01-Jan-1995\n");
        let p = write(dir.path(), "u.data", b"1\t1\t5\t874965758\n");
        let r = read_file(&p, &LoadOptions::new(Format::Movielens)).unwrap();
        assert_eq!(r.report.skipped["bad catalogue line"], 1);
        let msg = read_file(&p, &strict).unwrap_err().to_string();
        assert!(msg.contains("u.item:1: field `columns`"), "{msg}");
    }

    /// The real ML-100K.
    #[test]
    fn full_ml100k() {
        let Some(dir) = datasets("ml-100k") else { return };
        let t = std::time::Instant::now();
        let opts = LoadOptions { strict: true, ..LoadOptions::new(Format::Movielens) };
        let (ds, rep) = load_dataset(&dir.join("u.data"), &opts).unwrap();
        println!("ml-100k load_dataset: {:.2?} ({rep})", t.elapsed());
        assert_eq!((rep.lines, rep.events, rep.items), (100_000, 100_000, 1_682));
        assert_eq!((ds.interactions.len(), ds.n_users(), ds.n_items()), (100_000, 943, 1_682));
        assert!(ds.explicit);
        let toy = ds.items.get("1").unwrap();
        assert_eq!(ds.title(toy), "Toy Story (1995)");
        assert_eq!(ds.catalogue[toy as usize].attributes["genres"], "Animation|Children's|Comedy");
        assert!(ds.catalogue.iter().all(|it| !it.title.is_empty()));
        // latin-1 titles decode (e.g. "Misérables")
        assert!(ds.catalogue.iter().any(|it| it.title.contains('é')));
        let sum: f64 = ds.interactions.iter().map(|x| x.value as f64).sum();
        assert!((sum / 100_000.0 - 3.52986).abs() < 1e-4, "mean rating {}", sum / 100_000.0);
        let mut ds2 = Dataset::default();
        let (a, _) = load_into(&mut ds2, &dir.join("u1.base"), &opts).unwrap();
        let (b, _) = load_into(&mut ds2, &dir.join("u1.test"), &opts).unwrap();
        assert_eq!((a, b), (0..80_000, 80_000..100_000));
    }
}
